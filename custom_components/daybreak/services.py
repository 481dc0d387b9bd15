"""Actions on Daybreak lights (entity services).

Start/stop a sunrise, start a sunset and snooze/dismiss the alarm in progress are methods
of the light; the alarm actions (set/delete an alarm) are here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING and sys.version_info >= (3, 14):
    # Home Assistant 2026.10 and later (on Python 3.14) validate with probatio, which
    # voluptuous maps onto at run time; their flows and services are typed with it.
    import probatio as vol
else:
    import voluptuous as vol

from homeassistant.components.light.const import DOMAIN as LIGHT_DOMAIN
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.typing import VolDictType

from .const import (
    ATTR_ALARM_ID,
    ATTR_COLOR_PATH,
    ATTR_CURVE,
    ATTR_DATE,
    ATTR_DURATION,
    ATTR_ENABLED,
    ATTR_NAME,
    ATTR_START_BRIGHTNESS,
    ATTR_START_KELVIN,
    ATTR_TARGET_BRIGHTNESS,
    ATTR_TARGET_KELVIN,
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
from .entity import DaybreakEntity
from .helpers import daybreak_exception_handler
from .protocol import (
    ALARM_DURATION_MAX,
    ALARM_DURATION_MIN,
    ALARM_ID_PATTERN,
    ALARM_NAME_MAX_LENGTH,
    ALARM_NAME_MIN_LENGTH,
    BRIGHTNESS_MAX,
    BRIGHTNESS_MIN,
    COLOR_PATHS,
    COLOR_TEMP_KELVIN_MAX,
    COLOR_TEMP_KELVIN_MIN,
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


#: A sunrise's colour (devices with colour channels; a single-channel one ignores it).
_COLOUR_FIELDS: VolDictType = {
    vol.Optional(ATTR_COLOR_PATH): vol.In(COLOR_PATHS),
    vol.Optional(ATTR_START_KELVIN): _in_range(
        ATTR_START_KELVIN, COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX
    ),
    vol.Optional(ATTR_TARGET_KELVIN): _in_range(
        ATTR_TARGET_KELVIN, COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX
    ),
}

START_SUNRISE_SCHEMA: VolDictType = {
    vol.Optional(ATTR_DURATION): _duration(SUNRISE_DURATION_MIN, SUNRISE_DURATION_MAX),
    vol.Optional(ATTR_TARGET_BRIGHTNESS): _in_range(ATTR_TARGET_BRIGHTNESS, 1, BRIGHTNESS_MAX),
    vol.Optional(ATTR_START_BRIGHTNESS): _in_range(
        ATTR_START_BRIGHTNESS, BRIGHTNESS_MIN, BRIGHTNESS_MAX
    ),
    vol.Optional(ATTR_CURVE): vol.In(CURVES),
    **_COLOUR_FIELDS,
}

START_SUNSET_SCHEMA: VolDictType = {
    vol.Optional(ATTR_DURATION): _duration(SUNSET_DURATION_MIN, SUNSET_DURATION_MAX),
    vol.Optional(ATTR_START_BRIGHTNESS): _in_range(ATTR_START_BRIGHTNESS, 1, BRIGHTNESS_MAX),
    vol.Optional(ATTR_CURVE): vol.In(CURVES),
}

_ALARM_ID = vol.All(cv.string, vol.Match(rf"^{ALARM_ID_PATTERN}$"))


def _printable(value: str) -> str:
    """Refuse line breaks and other characters that do not print (as the device does)."""
    if not value.isprintable():
        raise vol.Invalid("the name has a line break or another character that does not print")
    return value


_ALARM_NAME = vol.All(
    cv.string,
    vol.Strip,
    vol.Length(min=ALARM_NAME_MIN_LENGTH, max=ALARM_NAME_MAX_LENGTH),
    _printable,
)

SET_ALARM_SCHEMA: VolDictType = {
    vol.Optional(ATTR_ALARM_ID): _ALARM_ID,
    vol.Optional(ATTR_NAME): _ALARM_NAME,
    vol.Optional(ATTR_TIME): cv.time,
    vol.Optional(ATTR_WEEKDAYS): vol.All(
        cv.ensure_list, vol.Length(min=1), [vol.All(vol.Lower, vol.In(WEEKDAY_NAMES))]
    ),
    # A one-off alarm's date, in the device's time zone (not with weekdays).
    vol.Optional(ATTR_DATE): cv.date,
    vol.Optional(ATTR_DURATION): _duration(ALARM_DURATION_MIN, ALARM_DURATION_MAX),
    vol.Optional(ATTR_TARGET_BRIGHTNESS): _in_range(ATTR_TARGET_BRIGHTNESS, 1, BRIGHTNESS_MAX),
    vol.Optional(ATTR_CURVE): vol.In(CURVES),
    vol.Optional(ATTR_ENABLED): cv.boolean,
    **_COLOUR_FIELDS,
}

DELETE_ALARM_SCHEMA: VolDictType = {vol.Required(ATTR_ALARM_ID): _ALARM_ID}


@daybreak_exception_handler
async def async_set_alarm(light: DaybreakEntity, call: ServiceCall) -> ServiceResponse:
    """``daybreak.set_alarm``: update the alarm ``alarm_id``, or create it.

    Without ``alarm_id``, or with one the device does not have, a new alarm is created
    (then ``time`` is needed); omitted values take the defaults (duration and curve
    from the options). A ``date`` makes it a one-off alarm, ``weekdays`` a weekly one
    (not both). Returns the alarm's id and next sunrise.
    """
    coordinator = light.coordinator
    client = coordinator.client
    data = call.data
    alarm_id: str | None = data.get(ATTR_ALARM_ID)
    if ATTR_DATE in data and ATTR_WEEKDAYS in data:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="date_and_weekdays")
    wake = None if ATTR_TIME not in data else data[ATTR_TIME].strftime("%H:%M")
    days = (
        None
        if ATTR_WEEKDAYS not in data
        else sorted({WEEKDAY_NAMES.index(day) for day in data[ATTR_WEEKDAYS]})
    )
    fields: dict[str, Any] = {
        "name": data.get(ATTR_NAME),
        "weekdays": days,
        "date": data.get(ATTR_DATE),
        "duration": data.get(ATTR_DURATION),
        "target_brightness": data.get(ATTR_TARGET_BRIGHTNESS),
        "enabled": data.get(ATTR_ENABLED),
        "color_path": data.get(ATTR_COLOR_PATH),
        "start_kelvin": data.get(ATTR_START_KELVIN),
        "target_kelvin": data.get(ATTR_TARGET_KELVIN),
    }
    curve = data.get(ATTR_CURVE)
    if alarm_id is not None and alarm_id in coordinator.data.alarms:
        if wake is None and curve is None and all(value is None for value in fields.values()):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="nothing_to_change",
                translation_placeholders={"alarm_id": alarm_id},
            )
        alarms = await client.update_alarm(alarm_id, time=wake, curve=curve, **fields)
        alarm = next((alarm for alarm in alarms if alarm.id == alarm_id), None)
        if alarm is None:  # the device's answer lacks the alarm it was asked about
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="invalid_answer",
                translation_placeholders={"name": coordinator.config_entry.title},
            )
    else:
        if wake is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="time_required",
                translation_placeholders={"alarm_id": alarm_id or ""},
            )
        if fields["duration"] is None:
            fields["duration"] = coordinator.alarm_seconds
        if fields["name"] is None:  # the id the user chose, else the device's: the wake time
            fields["name"] = alarm_id
        if fields["color_path"] is None:  # the Sunrise colour select's (colour devices)
            fields["color_path"] = coordinator.default_color_path
        # The device answers with the alarm it created (also the id it chose).
        alarm = await client.create_alarm(
            wake, alarm_id=alarm_id, curve=curve or coordinator.sunrise_curve, **fields
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
async def async_delete_alarm(light: DaybreakEntity, call: ServiceCall) -> None:
    """``daybreak.delete_alarm``: remove the alarm (a sunrise it started goes on)."""
    alarm_id: str = call.data[ATTR_ALARM_ID]
    if alarm_id not in light.coordinator.data.alarms:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="alarm_not_found",
            translation_placeholders={"alarm_id": alarm_id},
        )
    await light.coordinator.client.delete_alarm(alarm_id)


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
        func=async_set_alarm,
        supports_response=SupportsResponse.OPTIONAL,
    )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_DELETE_ALARM,
        entity_domain=LIGHT_DOMAIN,
        schema=DELETE_ALARM_SCHEMA,
        func=async_delete_alarm,
    )
