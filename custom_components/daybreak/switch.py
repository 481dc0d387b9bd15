"""Switches: the Sunrise and the Sunset (on while one runs) and one per alarm (enabled)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import WEEKDAY_NAMES
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakAlarmEntity, DaybreakEntity, async_add_alarm_entities
from .helpers import daybreak_exception_handler
from .protocol import BRIGHTNESS_MAX

# Commands go out at once: the device handles them in order, and each times out on its
# own (one unanswered command must not hold the others back).
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Sunrise switch, and an enabled switch for each alarm as alarms appear."""
    async_add_entities(
        [DaybreakSunriseSwitch(entry.runtime_data), DaybreakSunsetSwitch(entry.runtime_data)]
    )
    async_add_alarm_entities(
        entry,
        lambda coordinator, alarm_id: async_add_entities(
            [DaybreakAlarmSwitch(coordinator, alarm_id)]
        ),
    )


class DaybreakSunriseSwitch(DaybreakEntity, SwitchEntity):
    """On while a sunrise runs. On starts one with the default settings; off stops it."""

    _attr_translation_key = "sunrise"

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the Sunrise switch of the coordinator's device."""
        super().__init__(coordinator, "sunrise")

    @property
    def is_on(self) -> bool:
        """Whether a sunrise runs on the device."""
        return self.coordinator.data.state.sunrise is not None

    @daybreak_exception_handler
    async def async_turn_on(self, /, **kwargs: Any) -> None:
        """Start a sunrise to full brightness with the default duration and curve."""
        await self.coordinator.client.start_sunrise(
            duration=self.coordinator.sunrise_seconds,
            target_brightness=BRIGHTNESS_MAX,
            curve=self.coordinator.sunrise_curve,
        )

    @daybreak_exception_handler
    async def async_turn_off(self, /, **kwargs: Any) -> None:
        """Stop the sunrise; the light keeps the level it reached."""
        await self.coordinator.client.stop_sunrise()


class DaybreakSunsetSwitch(DaybreakEntity, SwitchEntity):
    """On while a sunset runs. On starts one (the device's defaults); off stops it."""

    _attr_translation_key = "sunset"

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the Sunset switch of the coordinator's device."""
        super().__init__(coordinator, "sunset")

    @property
    def is_on(self) -> bool:
        """Whether a sunset runs on the device."""
        return self.coordinator.data.state.sunset is not None

    @daybreak_exception_handler
    async def async_turn_on(self, /, **kwargs: Any) -> None:
        """Start a sunset from the light's level (30 minutes, the sunrise curve)."""
        await self.coordinator.client.start_sunset(curve=self.coordinator.sunrise_curve)

    @daybreak_exception_handler
    async def async_turn_off(self, /, **kwargs: Any) -> None:
        """Stop the sunset; the light keeps the level it reached."""
        await self.coordinator.client.stop_sunset()


class DaybreakAlarmSwitch(DaybreakAlarmEntity, SwitchEntity):
    """Whether an alarm fires; its settings are in the attributes."""

    _attr_translation_key = "alarm_enabled"

    def __init__(self, coordinator: DaybreakCoordinator, alarm_id: str) -> None:
        """Create the switch of alarm ``alarm_id``."""
        super().__init__(coordinator, alarm_id, "enabled")

    @property
    def is_on(self) -> bool:
        """Whether the alarm is enabled."""
        return self.alarm.enabled

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The alarm's id, days or date, sunrise settings, skip and next wake-up."""
        alarm = self.alarm
        upcoming = alarm.next_sunrise
        return {
            "alarm_id": alarm.id,
            "wake_time": alarm.time,
            "weekdays": [WEEKDAY_NAMES[day] for day in alarm.weekdays],
            # A one-off alarm's date (it fires once, then turns itself off); None: weekly.
            "date": None if alarm.date is None else alarm.date.isoformat(),
            "sunrise_duration": alarm.duration / 60,
            "target_brightness": alarm.target_brightness,
            "curve": alarm.curve,
            "skip_next": alarm.skip_next,
            "next_wake_up": None if upcoming is None else upcoming.wake_at.isoformat(),
        }

    @daybreak_exception_handler
    async def async_turn_on(self, /, **kwargs: Any) -> None:
        """Enable the alarm."""
        await self.coordinator.client.update_alarm(self.alarm_id, enabled=True)

    @daybreak_exception_handler
    async def async_turn_off(self, /, **kwargs: Any) -> None:
        """Disable the alarm."""
        await self.coordinator.client.update_alarm(self.alarm_id, enabled=False)
