"""Buttons: skip the next alarm; snooze and dismiss the alarm in progress."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakEntity, DaybreakRestoreEntity, LastStateData
from .helpers import daybreak_exception_handler

# Commands go out at once: the device handles them in order, and each times out on its
# own (one unanswered command must not hold the others back).
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the skip, snooze and dismiss buttons."""
    coordinator = entry.runtime_data
    async_add_entities(
        [
            DaybreakSkipNextAlarm(coordinator),
            DaybreakSnooze(coordinator),
            DaybreakDismiss(coordinator),
        ]
    )


class DaybreakSkipNextAlarm(DaybreakEntity, DaybreakRestoreEntity, ButtonEntity):
    """Skips the next alarm sunrise (the one the Next sunrise sensor shows), once.

    The time of the last press is kept over a reload while the device is away.
    """

    _attr_translation_key = "skip_next_alarm"

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the button of the coordinator's device."""
        super().__init__(coordinator, "skip_next_alarm")

    @property
    def extra_restore_state_data(self) -> LastStateData:
        """The time of the last press."""
        return LastStateData(self._state_to_keep())

    @daybreak_exception_handler
    async def async_press(self) -> None:
        """Skip the next alarm's next occurrence.

        The device keeps one skip per alarm: if the next sunrise belongs to an alarm
        whose occurrence before it is skipped already, say so instead of doing nothing.
        """
        upcoming = self.coordinator.data.state.next_sunrise
        if upcoming is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_next_alarm")
        alarm = self.coordinator.data.alarms.get(upcoming.alarm_id)
        if alarm is not None and alarm.skip_next:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="already_skipped",
                translation_placeholders={"alarm_id": alarm.id},
            )
        await self.coordinator.client.skip_next_alarm(upcoming.alarm_id)


class DaybreakSnooze(DaybreakEntity, ButtonEntity):
    """Snoozes the alarm in progress (the device says when there is none)."""

    _attr_translation_key = "snooze"

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the button of the coordinator's device."""
        super().__init__(coordinator, "snooze")

    @daybreak_exception_handler
    async def async_press(self) -> None:
        """Snooze: the light dims for the snooze length, then the sunrise goes on."""
        await self.coordinator.client.snooze()


class DaybreakDismiss(DaybreakEntity, ButtonEntity):
    """Dismisses the alarm in progress (the device says when there is none)."""

    _attr_translation_key = "dismiss"

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the button of the coordinator's device."""
        super().__init__(coordinator, "dismiss")

    @daybreak_exception_handler
    async def async_press(self) -> None:
        """Dismiss: the light keeps its level or turns off (the device's setting)."""
        await self.coordinator.client.dismiss()
