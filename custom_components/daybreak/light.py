"""The Daybreak light: brightness, device-side transitions and the Sunrise effect.

The alarm actions (``daybreak.set_alarm``, ``daybreak.delete_alarm``) target the light
too; they live in the services module.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_EFFECT,
    ATTR_TRANSITION,
    LightEntity,
)
from homeassistant.components.light.const import ColorMode, LightEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import EFFECT_SUNRISE
from .coordinator import DaybreakConfigEntry
from .entity import DaybreakEntity
from .helpers import daybreak_exception_handler
from .protocol import BRIGHTNESS_MAX, Curve, clamp_duration

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
        """``sunrise`` while a sunrise runs."""
        return EFFECT_SUNRISE if self.coordinator.data.state.sunrise is not None else None

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
            duration=self.coordinator.sunrise_seconds if duration is None else duration,
            target_brightness=target_brightness,
            start_brightness=start_brightness,
            curve=curve or self.coordinator.sunrise_curve,
        )

    @daybreak_exception_handler
    async def async_stop_sunrise(self) -> None:
        """``daybreak.stop_sunrise``: hold the level the sunrise reached."""
        await self.coordinator.client.stop_sunrise()
