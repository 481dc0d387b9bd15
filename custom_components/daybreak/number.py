"""Number: the default sunrise duration (minutes)."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakSettingEntity
from .protocol import SUNRISE_MINUTES_MAX, SUNRISE_MINUTES_MIN

PARALLEL_UPDATES = 0  # it only stores an option


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the default sunrise duration."""
    async_add_entities([DaybreakSunriseDuration(entry.runtime_data)])


class DaybreakSunriseDuration(DaybreakSettingEntity, NumberEntity):
    """How long a sunrise takes when nothing else says (Sunrise switch, effect, actions).

    Stored in the entry's options (the same value as the options dialog), so it works
    while the device is away.
    """

    _attr_translation_key = "sunrise_duration"
    _attr_device_class = NumberDeviceClass.DURATION
    _attr_native_unit_of_measurement = UnitOfTime.MINUTES
    _attr_native_min_value = SUNRISE_MINUTES_MIN
    _attr_native_max_value = SUNRISE_MINUTES_MAX
    _attr_native_step = 1
    _attr_mode = NumberMode.BOX

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the number of the coordinator's device."""
        super().__init__(coordinator, "sunrise_duration")

    @property
    def native_value(self) -> int:
        """The default duration in minutes."""
        return self.coordinator.sunrise_minutes

    async def async_set_native_value(self, value: float) -> None:
        """Store a new default duration."""
        self.coordinator.async_set_sunrise_defaults(minutes=int(value))
