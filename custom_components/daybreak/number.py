"""Numbers: the default sunrise duration and the device's snooze length (minutes)."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakEntity, DaybreakSettingEntity
from .helpers import daybreak_exception_handler
from .protocol import (
    SNOOZE_LENGTH_MAX,
    SNOOZE_LENGTH_MIN,
    SUNRISE_MINUTES_MAX,
    SUNRISE_MINUTES_MIN,
)

# Commands go out at once: the device handles them in order, and each times out on its
# own (the sunrise duration only stores an option).
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the default sunrise duration and the snooze length."""
    coordinator = entry.runtime_data
    async_add_entities([DaybreakSunriseDuration(coordinator), DaybreakSnoozeLength(coordinator)])


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


class DaybreakSnoozeLength(DaybreakEntity, NumberEntity):
    """How long a snooze lasts: a setting kept on the device (the bedside button uses it)."""

    _attr_translation_key = "snooze_length"
    _attr_entity_category = EntityCategory.CONFIG
    _attr_device_class = NumberDeviceClass.DURATION
    _attr_native_unit_of_measurement = UnitOfTime.MINUTES
    _attr_native_min_value = int(SNOOZE_LENGTH_MIN // 60)
    _attr_native_max_value = int(SNOOZE_LENGTH_MAX // 60)
    _attr_native_step = 1
    _attr_mode = NumberMode.BOX

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the number of the coordinator's device."""
        super().__init__(coordinator, "snooze_length")

    @property
    def native_value(self) -> float:
        """The device's snooze length in minutes."""
        # The device keeps seconds; HA shows minutes.
        return self.coordinator.data.state.wake_settings.snooze_length / 60

    @daybreak_exception_handler
    async def async_set_native_value(self, value: float) -> None:
        """Set the device's snooze length."""
        await self.coordinator.client.set_wake_settings(snooze_length=60.0 * value)
