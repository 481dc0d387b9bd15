"""Limits and defaults of the device's own hardware settings, in one place.

Clients never see these (what a client can see, such as sunrise durations and alarm
names, is in :mod:`daybreak_device.protocol`, shared with Home Assistant). The settings
parser, the dimmer and the output backends check against these so that a value the
configuration accepts is one the hardware side accepts too.
"""

from __future__ import annotations

from typing import Final

#: Duty of the lowest non-zero level (``min_duty``): 0 keeps the curve as it is; below 1
#: so that some range is left to dim in.
MIN_DUTY_MIN: Final = 0.0
MIN_DUTY_MAX: Final = 0.99
DEFAULT_MIN_DUTY: Final = 0.0

#: The dimming curve's exponent for ``--dimming gamma``.
GAMMA_MIN: Final = 0.1
GAMMA_MAX: Final = 5.0
DEFAULT_GAMMA: Final = 2.2

#: PWM frequency (Hz) each backend drives: gpiozero's software PWM, the kernel's sysfs PWM.
GPIOZERO_FREQUENCY_MIN: Final = 1.0
GPIOZERO_FREQUENCY_MAX: Final = 100_000.0
DEFAULT_GPIOZERO_FREQUENCY: Final = 1000.0
SYSFS_FREQUENCY_MIN: Final = 10.0
SYSFS_FREQUENCY_MAX: Final = 1_000_000.0
DEFAULT_SYSFS_FREQUENCY: Final = 2000.0
