"""Base entity for Daybreak."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, MANUFACTURER
from .coordinator import DaybreakCoordinator


class DaybreakEntity(CoordinatorEntity[DaybreakCoordinator]):
    """An entity of one Daybreak device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Attach the entity to the device the coordinator talks to."""
        super().__init__(coordinator)
        info = coordinator.info
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, info.device_id)},
            manufacturer=MANUFACTURER,
            model=info.model,
            name=info.name,
            sw_version=info.sw_version,
            configuration_url=coordinator.client.url,
        )
