"""The Daybreak light: brightness, device-side transitions and the Sunrise effect."""

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

from .const import (
    CONF_SUNRISE_CURVE,
    CONF_SUNRISE_DURATION,
    DEFAULT_SUNRISE_MINUTES,
    EFFECT_SUNRISE,
)
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakEntity
from .helpers import daybreak_exception_handler
from .protocol import BRIGHTNESS_MAX, SUNRISE_DURATION_MAX, SUNRISE_DURATION_MIN, Curve

PARALLEL_UPDATES = 1


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
        """Create the light of the coordinator's device."""
        super().__init__(coordinator)
        self._attr_unique_id = coordinator.info.device_id

    @property
    def is_on(self) -> bool:
        """Whether the light is on (a running sunrise counts as on)."""
        return self.coordinator.data.on

    @property
    def brightness(self) -> int | None:
        """The current level; at least 1 while on (HA has no 'on at 0')."""
        data = self.coordinator.data
        return max(1, data.brightness) if data.on else None

    @property
    def effect(self) -> str | None:
        """``Sunrise`` while a sunrise runs."""
        return EFFECT_SUNRISE if self.coordinator.data.sunrise is not None else None

    @daybreak_exception_handler
    async def async_turn_on(self, /, **kwargs: Any) -> None:
        """Turn on, set brightness (with a device-side transition) or start a sunrise."""
        transition: float | None = kwargs.get(ATTR_TRANSITION)
        if kwargs.get(ATTR_EFFECT) == EFFECT_SUNRISE:
            options = self.coordinator.config_entry.options
            # HA's transition is in seconds, the options' default duration in minutes.
            duration = (
                transition
                if transition is not None
                else 60 * options.get(CONF_SUNRISE_DURATION, DEFAULT_SUNRISE_MINUTES)
            )
            curve: Curve = options.get(CONF_SUNRISE_CURVE, "linear")
            await self.coordinator.client.start_sunrise(
                duration=min(max(duration, SUNRISE_DURATION_MIN), SUNRISE_DURATION_MAX),
                target_brightness=kwargs.get(ATTR_BRIGHTNESS, BRIGHTNESS_MAX),
                curve=curve,
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
        options = self.coordinator.config_entry.options
        if duration is None:
            duration = 60.0 * options.get(CONF_SUNRISE_DURATION, DEFAULT_SUNRISE_MINUTES)
        await self.coordinator.client.start_sunrise(
            duration=duration,
            target_brightness=target_brightness,
            start_brightness=start_brightness,
            curve=curve or options.get(CONF_SUNRISE_CURVE, "linear"),
        )

    @daybreak_exception_handler
    async def async_stop_sunrise(self) -> None:
        """``daybreak.stop_sunrise``: hold the level the sunrise reached."""
        await self.coordinator.client.stop_sunrise()
