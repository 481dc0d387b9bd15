"""Actions: ``daybreak.start_sunrise`` and ``daybreak.stop_sunrise`` (light entity services)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.light.const import DOMAIN as LIGHT_DOMAIN
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.typing import VolDictType

from .const import (
    ATTR_CURVE,
    ATTR_DURATION,
    ATTR_START_BRIGHTNESS,
    ATTR_TARGET_BRIGHTNESS,
    DOMAIN,
    SERVICE_START_SUNRISE,
    SERVICE_STOP_SUNRISE,
)
from .protocol import (
    BRIGHTNESS_MAX,
    BRIGHTNESS_MIN,
    CURVES,
    SUNRISE_DURATION_MAX,
    SUNRISE_DURATION_MIN,
)


def _in_range(key: str, low: float, high: float) -> Any:
    """Validate a number in [low, high], failing with a translated message."""

    def validate(value: Any) -> float:
        number = cv.positive_float(value) if low >= 0 else float(value)
        if not low <= number <= high:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="out_of_range",
                translation_placeholders={
                    "field": key,
                    "value": f"{number:g}",
                    "min": f"{low:g}",
                    "max": f"{high:g}",
                },
            )
        return number

    return validate


def _duration(value: Any) -> float:
    """Accept seconds or a time period ({"hours": .., "minutes": ..}, "00:30:00")."""
    seconds = cv.time_period(value).total_seconds()
    return float(_in_range(ATTR_DURATION, SUNRISE_DURATION_MIN, SUNRISE_DURATION_MAX)(seconds))


START_SUNRISE_SCHEMA: VolDictType = {
    vol.Optional(ATTR_DURATION): _duration,
    vol.Optional(ATTR_TARGET_BRIGHTNESS): _in_range(ATTR_TARGET_BRIGHTNESS, 1, BRIGHTNESS_MAX),
    vol.Optional(ATTR_START_BRIGHTNESS): _in_range(
        ATTR_START_BRIGHTNESS, BRIGHTNESS_MIN, BRIGHTNESS_MAX
    ),
    vol.Optional(ATTR_CURVE): vol.In(CURVES),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the Daybreak actions on Daybreak light entities."""
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_START_SUNRISE,
        entity_domain=LIGHT_DOMAIN,
        schema=START_SUNRISE_SCHEMA,
        func="async_start_sunrise",
    )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_STOP_SUNRISE,
        entity_domain=LIGHT_DOMAIN,
        schema=None,
        func="async_stop_sunrise",
    )
