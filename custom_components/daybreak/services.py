"""Actions on Daybreak lights (entity services).

Start/stop a sunrise, start a sunset, snooze/dismiss the alarm in progress, set/delete
an alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol
from homeassistant.components.light.const import DOMAIN as LIGHT_DOMAIN
from homeassistant.core import HomeAssistant, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.typing import VolDictType

from .const import (
    ATTR_ALARM_ID,
    ATTR_CURVE,
    ATTR_DURATION,
    ATTR_ENABLED,
    ATTR_START_BRIGHTNESS,
    ATTR_TARGET_BRIGHTNESS,
    ATTR_TIME,
    ATTR_WEEKDAYS,
    DOMAIN,
    SERVICE_DELETE_ALARM,
    SERVICE_DISMISS,
    SERVICE_SET_ALARM,
    SERVICE_SNOOZE,
    SERVICE_START_SUNRISE,
    SERVICE_START_SUNSET,
    SERVICE_STOP_SUNRISE,
    WEEKDAY_NAMES,
)
from .protocol import (
    ALARM_DURATION_MAX,
    ALARM_DURATION_MIN,
    ALARM_ID_PATTERN,
    BRIGHTNESS_MAX,
    BRIGHTNESS_MIN,
    CURVES,
    SUNRISE_DURATION_MAX,
    SUNRISE_DURATION_MIN,
    SUNSET_DURATION_MAX,
    SUNSET_DURATION_MIN,
)


def format_duration(seconds: float) -> str:
    """Seconds in words for messages: ``1 minute``, ``3 hours``, ``1 hour 30 minutes``."""

    def count(number: float, unit: str) -> str:
        return f"{number:g} {unit}" + ("" if number == 1 else "s")

    whole = int(seconds)
    if whole != seconds or whole < 60:
        return count(seconds, "second")
    hours, rest = divmod(whole, 3600)
    minutes, rest = divmod(rest, 60)
    parts = ((hours, "hour"), (minutes, "minute"), (rest, "second"))
    return " ".join(count(number, unit) for number, unit in parts if number)


def _in_range(
    key: str, low: float, high: float, show: Callable[[float], str] = "{:g}".format
) -> Any:
    """Validate a number in [low, high], failing with a translated message.

    ``show`` writes the numbers in the message (e.g. :func:`format_duration`).
    """

    def validate(value: Any) -> float:
        number = cv.positive_float(value) if low >= 0 else float(value)
        if not low <= number <= high:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="out_of_range",
                translation_placeholders={
                    "field": key,
                    "value": show(number),
                    "min": show(low),
                    "max": show(high),
                },
            )
        return number

    return validate


def _duration(low: float, high: float) -> Any:
    """Accept seconds or a time period ({"hours": .., "minutes": ..}, "00:30:00") in range."""
    in_range = _in_range(ATTR_DURATION, low, high, format_duration)

    def validate(value: Any) -> float:
        return float(in_range(cv.time_period(value).total_seconds()))

    return validate


START_SUNRISE_SCHEMA: VolDictType = {
    vol.Optional(ATTR_DURATION): _duration(SUNRISE_DURATION_MIN, SUNRISE_DURATION_MAX),
    vol.Optional(ATTR_TARGET_BRIGHTNESS): _in_range(ATTR_TARGET_BRIGHTNESS, 1, BRIGHTNESS_MAX),
    vol.Optional(ATTR_START_BRIGHTNESS): _in_range(
        ATTR_START_BRIGHTNESS, BRIGHTNESS_MIN, BRIGHTNESS_MAX
    ),
    vol.Optional(ATTR_CURVE): vol.In(CURVES),
}

START_SUNSET_SCHEMA: VolDictType = {
    vol.Optional(ATTR_DURATION): _duration(SUNSET_DURATION_MIN, SUNSET_DURATION_MAX),
    vol.Optional(ATTR_START_BRIGHTNESS): _in_range(ATTR_START_BRIGHTNESS, 1, BRIGHTNESS_MAX),
    vol.Optional(ATTR_CURVE): vol.In(CURVES),
}

_ALARM_ID = vol.All(cv.string, vol.Match(rf"^{ALARM_ID_PATTERN}$"))

SET_ALARM_SCHEMA: VolDictType = {
    vol.Optional(ATTR_ALARM_ID): _ALARM_ID,
    vol.Optional(ATTR_TIME): cv.time,
    vol.Optional(ATTR_WEEKDAYS): vol.All(
        cv.ensure_list, vol.Length(min=1), [vol.All(vol.Lower, vol.In(WEEKDAY_NAMES))]
    ),
    vol.Optional(ATTR_DURATION): _duration(ALARM_DURATION_MIN, ALARM_DURATION_MAX),
    vol.Optional(ATTR_TARGET_BRIGHTNESS): _in_range(ATTR_TARGET_BRIGHTNESS, 1, BRIGHTNESS_MAX),
    vol.Optional(ATTR_CURVE): vol.In(CURVES),
    vol.Optional(ATTR_ENABLED): cv.boolean,
}

DELETE_ALARM_SCHEMA: VolDictType = {vol.Required(ATTR_ALARM_ID): _ALARM_ID}


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
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_START_SUNSET,
        entity_domain=LIGHT_DOMAIN,
        schema=START_SUNSET_SCHEMA,
        func="async_start_sunset",
    )
    for name in (SERVICE_SNOOZE, SERVICE_DISMISS):
        service.async_register_platform_entity_service(
            hass,
            DOMAIN,
            name,
            entity_domain=LIGHT_DOMAIN,
            schema=None,
            func=f"async_{name}",
        )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_SET_ALARM,
        entity_domain=LIGHT_DOMAIN,
        schema=SET_ALARM_SCHEMA,
        func="async_set_alarm",
        supports_response=SupportsResponse.OPTIONAL,
    )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_DELETE_ALARM,
        entity_domain=LIGHT_DOMAIN,
        schema=DELETE_ALARM_SCHEMA,
        func="async_delete_alarm",
    )
