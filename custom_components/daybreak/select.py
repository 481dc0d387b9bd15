"""Selects: the default sunrise curve, and on a colour device the default colour path."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakSettingEntity
from .protocol import COLOR_PATHS, CURVES

PARALLEL_UPDATES = 0  # it only stores an option


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the default sunrise curve (and colour path, if the device has colour)."""
    coordinator = entry.runtime_data
    entities: list[SelectEntity] = [DaybreakSunriseCurve(coordinator)]
    if coordinator.channels is not None:
        entities.append(DaybreakSunriseColor(coordinator))
    async_add_entities(entities)


class DaybreakSunriseCurve(DaybreakSettingEntity, SelectEntity):
    """How the brightness rises when nothing else says; stored in the entry's options."""

    _attr_translation_key = "sunrise_curve"
    _attr_options = list(CURVES)

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the select of the coordinator's device."""
        super().__init__(coordinator, "sunrise_curve")

    @property
    def current_option(self) -> str:
        """The default curve."""
        return self.coordinator.sunrise_curve

    async def async_select_option(self, option: str) -> None:
        """Store a new default curve."""
        for curve in CURVES:
            if curve == option:
                self.coordinator.async_set_sunrise_defaults(curve=curve)


class DaybreakSunriseColor(DaybreakSettingEntity, SelectEntity):
    """How the colour moves over a sunrise when nothing else says; an entry option."""

    _attr_translation_key = "sunrise_color"
    _attr_options = list(COLOR_PATHS)

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the select of the coordinator's device."""
        super().__init__(coordinator, "sunrise_color")

    @property
    def current_option(self) -> str:
        """The default colour path."""
        return self.coordinator.sunrise_color

    async def async_select_option(self, option: str) -> None:
        """Store a new default colour path."""
        for path in COLOR_PATHS:
            if path == option:
                self.coordinator.async_set_sunrise_defaults(color=path)
