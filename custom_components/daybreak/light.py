"""The Daybreak light: brightness, device-side transitions, the Sunrise and Sunset effects."""

from __future__ import annotations

from datetime import time as dt_time
from typing import Any

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_EFFECT,
    ATTR_TRANSITION,
    LightEntity,
)
from homeassistant.components.light.const import ColorMode, LightEntityFeature
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, EFFECT_SUNRISE, EFFECT_SUNSET, WEEKDAY_NAMES
from .coordinator import DaybreakConfigEntry
from .entity import DaybreakEntity
from .helpers import daybreak_exception_handler
from .protocol import (
    ALARM_DURATION_MAX,
    ALARM_DURATION_MIN,
    BRIGHTNESS_MAX,
    SUNRISE_DURATION_MAX,
    SUNRISE_DURATION_MIN,
    SUNSET_DURATION_MAX,
    SUNSET_DURATION_MIN,
    Curve,
)

# Commands go out at once: the device handles them in order, and each times out on its
# own (one unanswered command must not hold the others back).
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the light of a Daybreak device."""
    async_add_entities([DaybreakLight(entry.runtime_data)])


class DaybreakLight(DaybreakEntity, LightEntity):
    """The wake-up light. State follows what the device pushes (no optimistic state)."""

    _attr_name = None  # the device's name
    _attr_translation_key = "light"
    _attr_color_mode = ColorMode.BRIGHTNESS
    _attr_supported_color_modes = {ColorMode.BRIGHTNESS}
    _attr_supported_features = LightEntityFeature.TRANSITION | LightEntityFeature.EFFECT
    _attr_effect_list = [EFFECT_SUNRISE, EFFECT_SUNSET]

    @property
    def is_on(self) -> bool:
        """Whether the light is on (a running sunrise counts as on)."""
        return self.coordinator.data.on

    @property
    def brightness(self) -> int | None:
        """The level while on: a transition's target, else the current level (at least 1).

        During a transition (a fade) the device pushes its progress at most once a
        second, so its target is what the user asked for and expects to see. A
        sunrise is no transition: it shows its live level (``brightness_step`` uses it).
        """
        data = self.coordinator.data
        if not data.on:
            return None
        if data.transition is not None:
            return max(1, round(data.transition.target_brightness))
        return max(1, data.brightness)

    @property
    def effect(self) -> str | None:
        """``sunrise`` while a sunrise runs, ``sunset`` while a sunset does."""
        data = self.coordinator.data
        if data.sunrise is not None:
            return EFFECT_SUNRISE
        return EFFECT_SUNSET if data.sunset is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The alarm in progress (snoozable, dismissable) and its snooze, if any."""
        alarm = self.coordinator.data.alarm
        if alarm is None:
            return {"alarm_in_progress": None, "snoozed_until": None, "wake_at": None}
        until = alarm.snoozed_until
        return {
            "alarm_in_progress": alarm.alarm_id,
            "snoozed_until": None if until is None else until.isoformat(),
            "wake_at": alarm.wake_at.isoformat(),
            "snoozes": alarm.snoozes,
        }

    @daybreak_exception_handler
    async def async_turn_on(self, /, **kwargs: Any) -> None:
        """Turn on, set brightness (with a device-side transition) or start a sunrise."""
        transition: float | None = kwargs.get(ATTR_TRANSITION)
        # "Sunrise" was the effect's name before effects became translation keys.
        if str(kwargs.get(ATTR_EFFECT, "")).lower() == EFFECT_SUNRISE:
            # HA's transition is in seconds, the default duration in minutes.
            duration = (
                transition if transition is not None else 60.0 * self.coordinator.sunrise_minutes
            )
            await self.coordinator.client.start_sunrise(
                duration=min(max(duration, SUNRISE_DURATION_MIN), SUNRISE_DURATION_MAX),
                target_brightness=kwargs.get(ATTR_BRIGHTNESS, BRIGHTNESS_MAX),
                curve=self.coordinator.sunrise_curve,
            )
            return
        if str(kwargs.get(ATTR_EFFECT, "")).lower() == EFFECT_SUNSET:
            # From the brightness given, else from where the light is; over the
            # transition (seconds) given, else the device's default (30 minutes).
            await self.coordinator.client.start_sunset(
                duration=None
                if transition is None
                else min(max(transition, SUNSET_DURATION_MIN), SUNSET_DURATION_MAX),
                start_brightness=kwargs.get(ATTR_BRIGHTNESS),
                curve=self.coordinator.sunrise_curve,
            )
            return
        brightness: int | None = kwargs.get(ATTR_BRIGHTNESS)
        await self.coordinator.client.set_light(
            on=True if brightness is None else None,
            brightness=brightness,
            transition=transition,
        )

    @daybreak_exception_handler
    async def async_turn_off(self, /, **kwargs: Any) -> None:
        """Turn off (fading over ``transition``); cancels a running sunrise."""
        await self.coordinator.client.set_light(on=False, transition=kwargs.get(ATTR_TRANSITION))

    @daybreak_exception_handler
    async def async_start_sunrise(
        self,
        duration: float | None = None,
        target_brightness: float | None = None,
        start_brightness: float | None = None,
        curve: Curve | None = None,
    ) -> None:
        """``daybreak.start_sunrise``: omitted values come from the options."""
        await self.coordinator.client.start_sunrise(
            duration=60.0 * self.coordinator.sunrise_minutes if duration is None else duration,
            target_brightness=target_brightness,
            start_brightness=start_brightness,
            curve=curve or self.coordinator.sunrise_curve,
        )

    @daybreak_exception_handler
    async def async_stop_sunrise(self) -> None:
        """``daybreak.stop_sunrise``: hold the level the sunrise reached."""
        await self.coordinator.client.stop_sunrise()

    @daybreak_exception_handler
    async def async_start_sunset(
        self,
        duration: float | None = None,
        start_brightness: float | None = None,
        curve: Curve | None = None,
    ) -> None:
        """``daybreak.start_sunset``: a fade to off; omitted values: the device's defaults."""
        await self.coordinator.client.start_sunset(
            duration=duration, start_brightness=start_brightness, curve=curve
        )

    @daybreak_exception_handler
    async def async_snooze(self) -> None:
        """``daybreak.snooze``: snooze the alarm in progress (an error without one)."""
        await self.coordinator.client.snooze()

    @daybreak_exception_handler
    async def async_dismiss(self) -> None:
        """``daybreak.dismiss``: dismiss the alarm in progress (an error without one)."""
        await self.coordinator.client.dismiss()

    @daybreak_exception_handler
    async def async_set_alarm(
        self,
        *,
        alarm_id: str | None = None,
        time: dt_time | None = None,
        weekdays: list[str] | None = None,
        duration: float | None = None,
        target_brightness: float | None = None,
        curve: Curve | None = None,
        enabled: bool | None = None,
    ) -> ServiceResponse:
        """``daybreak.set_alarm``: update the alarm ``alarm_id``, or create it.

        Without ``alarm_id``, or with one the device does not have, a new alarm is
        created (then ``time`` is needed); omitted values take the defaults (duration
        and curve from the options). Returns the alarm's id and next sunrise.
        """
        coordinator = self.coordinator
        client = coordinator.client
        wake = None if time is None else time.strftime("%H:%M")
        days = None if weekdays is None else sorted({WEEKDAY_NAMES.index(d) for d in weekdays})
        if alarm_id is not None and alarm_id in coordinator.alarms:
            if all(
                value is None for value in (wake, days, duration, target_brightness, curve, enabled)
            ):
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="nothing_to_change",
                    translation_placeholders={"alarm_id": alarm_id},
                )
            alarms = await client.update_alarm(
                alarm_id,
                time=wake,
                weekdays=days,
                duration=duration,
                target_brightness=target_brightness,
                curve=curve,
                enabled=enabled,
            )
            updated = next((alarm for alarm in alarms if alarm.id == alarm_id), None)
            if updated is None:  # the device's answer lacks the alarm it was asked about
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="invalid_answer",
                    translation_placeholders={"name": coordinator.config_entry.title},
                )
            alarm = updated
        else:
            if wake is None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="time_required",
                    translation_placeholders={"alarm_id": alarm_id or ""},
                )
            default = min(
                max(60.0 * coordinator.sunrise_minutes, ALARM_DURATION_MIN), ALARM_DURATION_MAX
            )
            # The device answers with the alarm it created (also the id it chose).
            alarm = await client.create_alarm(
                wake,
                alarm_id=alarm_id,
                weekdays=days,
                duration=default if duration is None else duration,
                target_brightness=target_brightness,
                curve=curve or coordinator.sunrise_curve,
                enabled=enabled,
            )
        upcoming = alarm.next_sunrise
        return {
            "alarm_id": alarm.id,
            "next_sunrise": None
            if upcoming is None
            else {
                "starts_at": upcoming.starts_at.isoformat(),
                "wake_at": upcoming.wake_at.isoformat(),
            },
        }

    @daybreak_exception_handler
    async def async_delete_alarm(self, alarm_id: str) -> None:
        """``daybreak.delete_alarm``: remove the alarm (a sunrise it started goes on)."""
        if alarm_id not in self.coordinator.alarms:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="alarm_not_found",
                translation_placeholders={"alarm_id": alarm_id},
            )
        await self.coordinator.client.delete_alarm(alarm_id)
