"""Constants for the Daybreak integration."""

from __future__ import annotations

import logging
from typing import Final

from .protocol import CURVES, DEFAULT_SUNRISE_DURATION

DOMAIN: Final = "daybreak"
LOGGER = logging.getLogger(__package__)
MANUFACTURER: Final = "Daybreak"
DEFAULT_PORT: Final = 8080

CONF_SUNRISE_DURATION: Final = "sunrise_duration"  # options: minutes
CONF_SUNRISE_CURVE: Final = "sunrise_curve"
DEFAULT_SUNRISE_MINUTES: Final = int(DEFAULT_SUNRISE_DURATION // 60)
SUNRISE_CURVES: Final = CURVES

EFFECT_SUNRISE: Final = "Sunrise"

SERVICE_START_SUNRISE: Final = "start_sunrise"
SERVICE_STOP_SUNRISE: Final = "stop_sunrise"
ATTR_DURATION: Final = "duration"
ATTR_TARGET_BRIGHTNESS: Final = "target_brightness"
ATTR_START_BRIGHTNESS: Final = "start_brightness"
ATTR_CURVE: Final = "curve"
