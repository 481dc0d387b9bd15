"""Time entities: the wake time of each alarm."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakAlarmEntity, async_add_alarm_entities
from .helpers import daybreak_exception_handler

# Commands go out at once: the device handles them in order, and each times out on its
# own (one unanswered command must not hold the others back).
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a wake time entity for each alarm, as alarms appear."""
    async_add_alarm_entities(
        entry,
        lambda coordinator, alarm_id: async_add_entities(
            [DaybreakAlarmTime(coordinator, alarm_id)]
        ),
    )


class DaybreakAlarmTime(DaybreakAlarmEntity, TimeEntity):
    """An alarm's wake time (when its sunrise ends), in the device's time zone."""

    _attr_translation_key = "alarm_time"

    def __init__(self, coordinator: DaybreakCoordinator, alarm_id: str) -> None:
        """Create the wake time entity of alarm ``alarm_id``."""
        super().__init__(coordinator, alarm_id, "time")

    @property
    def native_value(self) -> time:
        """The wake time."""
        return time.fromisoformat(self.alarm.time)

    @daybreak_exception_handler
    async def async_set_value(self, value: time) -> None:
        """Move the alarm to ``value`` (seconds are dropped)."""
        await self.coordinator.client.update_alarm(self.alarm_id, time=value.strftime("%H:%M"))
