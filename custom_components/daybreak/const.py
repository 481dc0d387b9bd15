"""Constants for the Daybreak integration."""

from __future__ import annotations

import logging
from typing import Final

from .protocol import PROTOCOL_VERSION

DOMAIN: Final = "daybreak"
LOGGER = logging.getLogger(__package__)
MANUFACTURER: Final = "Daybreak"
DEFAULT_PORT: Final = 8080
#: Devices speaking an older protocol work, without alarm pushes and events, and get a
#: repair issue telling the user to update them.
REQUIRED_PROTOCOL_VERSION: Final = PROTOCOL_VERSION

CONF_SUNRISE_DURATION: Final = "sunrise_duration"  # options: minutes
CONF_SUNRISE_CURVE: Final = "sunrise_curve"
#: The default sunrise colour path (devices with colour channels).
CONF_SUNRISE_COLOR: Final = "sunrise_color"

#: The light's effect (a translation key: its name "Sunrise" is in translations/en.json).
EFFECT_SUNRISE: Final = "sunrise"
#: The sunset effect (a fade to off on the device; protocol 4).
EFFECT_SUNSET: Final = "sunset"

SERVICE_START_SUNRISE: Final = "start_sunrise"
SERVICE_STOP_SUNRISE: Final = "stop_sunrise"
SERVICE_START_SUNSET: Final = "start_sunset"
SERVICE_SNOOZE: Final = "snooze"
SERVICE_DISMISS: Final = "dismiss"
SERVICE_SET_ALARM: Final = "set_alarm"
SERVICE_DELETE_ALARM: Final = "delete_alarm"
ATTR_ALARM_ID: Final = "alarm_id"
ATTR_NAME: Final = "name"
ATTR_TIME: Final = "time"
ATTR_WEEKDAYS: Final = "weekdays"
ATTR_DATE: Final = "date"
ATTR_ENABLED: Final = "enabled"
#: HA's weekday names, Monday first: the protocol's weekdays 0-6.
WEEKDAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ATTR_DURATION: Final = "duration"
ATTR_TARGET_BRIGHTNESS: Final = "target_brightness"
ATTR_START_BRIGHTNESS: Final = "start_brightness"
ATTR_CURVE: Final = "curve"
ATTR_COLOR_PATH: Final = "color_path"
ATTR_START_KELVIN: Final = "start_kelvin"
ATTR_TARGET_KELVIN: Final = "target_kelvin"
