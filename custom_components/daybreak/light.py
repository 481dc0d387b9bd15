"""The Daybreak light: brightness, colour, transitions, the Sunrise and Sunset effects.

A single-channel device offers brightness only. A CCT device (two whites) offers
``COLOR_TEMP`` in its white range; an RGB(W) device ``HS`` and ``COLOR_TEMP`` (the device
mixes its white channel itself). The colour shown is what the device reports, live
during a sunrise.

The alarm actions (``daybreak.set_alarm``, ``daybreak.delete_alarm``) target the light
too; they live in the services module.
"""

from __future__ import annotations

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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import color as color_util

from .const import EFFECT_SUNRISE, EFFECT_SUNSET
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakEntity
from .helpers import daybreak_exception_handler
from .protocol import (
    BRIGHTNESS_MAX,
    SUNSET_DURATION_MAX,
    SUNSET_DURATION_MIN,
    ColorPath,
    Curve,
    clamp_duration,
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
        if self._has_hs and self.coordinator.data.state.color_temp_kelvin is None:
            return ColorMode.HS
        return ColorMode(self._attr_color_mode) if self._attr_color_mode else None

    @property
    def _has_hs(self) -> bool:
        return ColorMode.HS in (self._attr_supported_color_modes or ())

    @property
    def color_temp_kelvin(self) -> int | None:
        """The colour temperature shown (``None`` when the colour is not a white)."""
        return self.coordinator.data.state.color_temp_kelvin

    @property
    def hs_color(self) -> tuple[float, float] | None:
        """The colour shown, as hue and saturation (from the device's sRGB)."""
        rgb = self.coordinator.data.state.rgb_color
        if rgb is None or not self._has_hs:
            return None
        return color_util.color_RGB_to_hs(*rgb)

    @property
    def is_on(self) -> bool:
        """Whether the light is on (a running sunrise counts as on)."""
        return self.coordinator.data.state.on

    @property
    def brightness(self) -> int | None:
        """The level while on: a transition's target, else the current level (at least 1).

        During a transition (a fade) the device pushes its progress at most once a
        second, so its target is what the user asked for and expects to see. A
        sunrise is no transition: it shows its live level (``brightness_step`` uses it).
        """
        data = self.coordinator.data.state
        if not data.on:
            return None
        if data.transition is not None:
            return max(1, round(data.transition.target_brightness))
        return max(1, data.brightness)

    @property
    def effect(self) -> str | None:
        """``sunrise`` while a sunrise runs, ``sunset`` while a sunset does."""
        data = self.coordinator.data.state
        if data.sunrise is not None:
            return EFFECT_SUNRISE
        return EFFECT_SUNSET if data.sunset is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The alarm in progress (snoozable, dismissable) and its snooze, if any."""
        alarm = self.coordinator.data.state.alarm
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
            # HA's transition (seconds) is the sunrise's duration when given.
            await self.coordinator.client.start_sunrise(
                duration=self.coordinator.sunrise_seconds
                if transition is None
                else clamp_duration(transition),
                target_brightness=kwargs.get(ATTR_BRIGHTNESS, BRIGHTNESS_MAX),
                curve=self.coordinator.sunrise_curve,
                color_path=self.coordinator.default_color_path,
            )
            return
        if str(kwargs.get(ATTR_EFFECT, "")).lower() == EFFECT_SUNSET:
            # From the brightness given, else from where the light is; over the
            # transition (seconds) given, else the device's default (30 minutes).
            await self.coordinator.client.start_sunset(
                duration=None
                if transition is None
                else clamp_duration(transition, SUNSET_DURATION_MIN, SUNSET_DURATION_MAX),
                start_brightness=kwargs.get(ATTR_BRIGHTNESS),
                curve=self.coordinator.sunrise_curve,
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
            duration=self.coordinator.sunrise_seconds if duration is None else duration,
            target_brightness=target_brightness,
            start_brightness=start_brightness,
            curve=curve or self.coordinator.sunrise_curve,
            color_path=color_path or self.coordinator.default_color_path,
            start_kelvin=start_kelvin,
            target_kelvin=target_kelvin,
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
