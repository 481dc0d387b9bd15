"""The Daybreak light: brightness, colour, device-side transitions and the Sunrise effect.

A single-channel device offers brightness only. A CCT device (two whites) offers
``COLOR_TEMP`` in its white range; an RGB(W) device ``HS`` and ``COLOR_TEMP`` (the device
mixes its white channel itself). The colour shown is what the device reports, live
during a sunrise.
"""

from __future__ import annotations

from datetime import time as dt_time
from typing import Any

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_EFFECT,
    ATTR_HS_COLOR,
    ATTR_RGB_COLOR,
    ATTR_TRANSITION,
    LightEntity,
)
from homeassistant.components.light.const import ColorMode, LightEntityFeature
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import color as color_util

from .const import DOMAIN, EFFECT_SUNRISE, WEEKDAY_NAMES
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakEntity
from .helpers import daybreak_exception_handler
from .protocol import (
    ALARM_DURATION_MAX,
    ALARM_DURATION_MIN,
    BRIGHTNESS_MAX,
    SUNRISE_DURATION_MAX,
    SUNRISE_DURATION_MIN,
    ColorPath,
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
    _attr_effect_list = [EFFECT_SUNRISE]

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the light; its colour modes are the device's channels."""
        super().__init__(coordinator)
        channels = coordinator.channels
        if channels is not None:
            self._attr_min_color_temp_kelvin = channels.min_color_temp_kelvin
            self._attr_max_color_temp_kelvin = channels.max_color_temp_kelvin
            self._attr_supported_color_modes = (
                {ColorMode.COLOR_TEMP}
                if channels.layout == "cct"
                else {ColorMode.COLOR_TEMP, ColorMode.HS}
            )
            self._attr_color_mode = ColorMode.COLOR_TEMP

    @property
    def color_mode(self) -> ColorMode | None:
        """``COLOR_TEMP`` while a colour temperature shows, ``HS`` for other colours."""
        if self._has_hs and self.coordinator.data.color_temp_kelvin is None:
            return ColorMode.HS
        return ColorMode(self._attr_color_mode) if self._attr_color_mode else None

    @property
    def _has_hs(self) -> bool:
        return ColorMode.HS in (self._attr_supported_color_modes or ())

    @property
    def color_temp_kelvin(self) -> int | None:
        """The colour temperature shown (``None`` when the colour is not a white)."""
        return self.coordinator.data.color_temp_kelvin

    @property
    def hs_color(self) -> tuple[float, float] | None:
        """The colour shown, as hue and saturation (from the device's sRGB)."""
        rgb = self.coordinator.data.rgb_color
        if rgb is None or not self._has_hs:
            return None
        return color_util.color_RGB_to_hs(*rgb)

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
        """``sunrise`` while a sunrise runs."""
        return EFFECT_SUNRISE if self.coordinator.data.sunrise is not None else None

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
                color_path=self._default_color_path(),
            )
            return
        brightness: int | None = kwargs.get(ATTR_BRIGHTNESS)
        kelvin: int | None = kwargs.get(ATTR_COLOR_TEMP_KELVIN)
        rgb: tuple[int, int, int] | None = kwargs.get(ATTR_RGB_COLOR)
        if ATTR_HS_COLOR in kwargs:
            # The device takes sRGB at full value; brightness is separate.
            rgb = color_util.color_hs_to_RGB(*kwargs[ATTR_HS_COLOR])
        colour_given = kelvin is not None or rgb is not None
        await self.coordinator.client.set_light(
            on=True if brightness is None and not colour_given else None,
            brightness=brightness,
            transition=transition,
            color_temp_kelvin=kelvin,
            rgb_color=rgb,
        )

    def _default_color_path(self) -> ColorPath | None:
        """The ``Sunrise colour`` select's path on a colour device (else the device's)."""
        return self.coordinator.sunrise_color if self.coordinator.channels else None

    @daybreak_exception_handler
    async def async_turn_off(self, /, **kwargs: Any) -> None:
        """Turn off (fading over ``transition``); cancels a running sunrise."""
        await self.coordinator.client.set_light(on=False, transition=kwargs.get(ATTR_TRANSITION))

    @daybreak_exception_handler
    async def async_start_sunrise(  # noqa: PLR0917 - the action's fields, by name
        self,
        duration: float | None = None,
        target_brightness: float | None = None,
        start_brightness: float | None = None,
        curve: Curve | None = None,
        color_path: ColorPath | None = None,
        start_kelvin: float | None = None,
        target_kelvin: float | None = None,
    ) -> None:
        """``daybreak.start_sunrise``: omitted values come from the options."""
        await self.coordinator.client.start_sunrise(
            duration=60.0 * self.coordinator.sunrise_minutes if duration is None else duration,
            target_brightness=target_brightness,
            start_brightness=start_brightness,
            curve=curve or self.coordinator.sunrise_curve,
            color_path=color_path or self._default_color_path(),
            start_kelvin=start_kelvin,
            target_kelvin=target_kelvin,
        )

    @daybreak_exception_handler
    async def async_stop_sunrise(self) -> None:
        """``daybreak.stop_sunrise``: hold the level the sunrise reached."""
        await self.coordinator.client.stop_sunrise()

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
        color_path: ColorPath | None = None,
        start_kelvin: float | None = None,
        target_kelvin: float | None = None,
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
            given = (wake, days, duration, target_brightness, curve, enabled, color_path)
            if all(value is None for value in (*given, start_kelvin, target_kelvin)):
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
                color_path=color_path,
                start_kelvin=start_kelvin,
                target_kelvin=target_kelvin,
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
                color_path=color_path or self._default_color_path(),
                start_kelvin=start_kelvin,
                target_kelvin=target_kelvin,
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
