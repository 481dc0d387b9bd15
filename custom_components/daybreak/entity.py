"""Base entities for Daybreak."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.const import EntityCategory
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .client import Alarm
from .const import DOMAIN, MANUFACTURER
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator


class DaybreakEntity(CoordinatorEntity[DaybreakCoordinator]):
    """An entity of one Daybreak device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DaybreakCoordinator, key: str | None = None) -> None:
        """Attach the entity to the device; ``key`` makes its unique id (none: the light)."""
        super().__init__(coordinator)
        info = coordinator.info
        self._attr_unique_id = info.device_id if key is None else f"{info.device_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, info.device_id)},
            manufacturer=MANUFACTURER,
            model=info.model,
            name=info.name,
            sw_version=info.sw_version,
            configuration_url=coordinator.client.url,
        )


class DaybreakSettingEntity(DaybreakEntity):
    """A Home Assistant setting of the device (an entry option), shown as an entity.

    Always available: it is stored in Home Assistant, not on the device.
    """

    _attr_entity_category = EntityCategory.CONFIG

    @property
    def available(self) -> bool:
        """Always: the setting does not need the device."""
        return True


class DaybreakAlarmEntity(DaybreakEntity):
    """An entity of one alarm stored on the device; it goes away with the alarm."""

    def __init__(self, coordinator: DaybreakCoordinator, alarm_id: str, key: str) -> None:
        """Attach the entity to the alarm ``alarm_id``."""
        super().__init__(coordinator, f"alarm_{alarm_id}_{key}")
        self.alarm_id = alarm_id
        self._attr_translation_placeholders = {"alarm_id": alarm_id}

    @property
    def alarm(self) -> Alarm:
        """The alarm (only while :attr:`available`)."""
        return self.coordinator.alarms[self.alarm_id]

    @property
    def available(self) -> bool:
        """Available while the device is connected and has the alarm."""
        return super().available and self.alarm_id in self.coordinator.alarms

    @callback
    def _handle_coordinator_update(self) -> None:
        """Remove the entity once the device no longer has the alarm."""
        if self.coordinator.last_update_success and self.alarm_id not in self.coordinator.alarms:
            if self.registry_entry is not None:
                er.async_get(self.hass).async_remove(self.entity_id)
            else:  # pragma: no cover - entities with a unique id are registered
                self.hass.async_create_task(self.async_remove())
            return
        super()._handle_coordinator_update()


@callback
def async_add_alarm_entities(
    entry: DaybreakConfigEntry, add: Callable[[DaybreakCoordinator, str], None]
) -> None:
    """Call ``add(coordinator, alarm_id)`` for each alarm, now and as alarms appear."""
    coordinator = entry.runtime_data
    known: set[str] = set()

    @callback
    def check() -> None:
        current = coordinator.alarms
        known.intersection_update(current)  # deleted ones may come back with the same id
        for alarm_id in current:
            if alarm_id not in known:
                known.add(alarm_id)
                add(coordinator, alarm_id)

    check()
    entry.async_on_unload(coordinator.async_add_listener(check))
