"""Perceptual dimming: Home Assistant brightness to LED duty cycle.

Home Assistant's brightness (0-255) is treated as *perceived* lightness, so equal
brightness steps look equal. The default curve is CIE 1931 L*: brightness 255 is
L* 100, and the relative luminance (which PWM duty controls) follows
``Y = ((L* + 16) / 116) ** 3`` above L* 8 and ``Y = L* / 903.3`` below. Half
brightness is therefore about 18.4 % duty, and the dim end is very fine, which is
what the high-resolution output backends are for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from .limits import (
    DEFAULT_GAMMA,
    DEFAULT_MIN_DUTY,
    GAMMA_MAX,
    GAMMA_MIN,
    MIN_DUTY_MAX,
    MIN_DUTY_MIN,
)

DimmingCurve: TypeAlias = Literal["cie", "gamma", "linear"]
DIMMING_CURVES: Final[tuple[DimmingCurve, ...]] = ("cie", "gamma", "linear")

_KAPPA: Final = 24389 / 27  # 903.296..., CIE's exact constant
_EPSILON: Final = 216 / 24389  # 0.008856..., the luminance at L* 8


def lightness_to_luminance(lightness: float) -> float:
    """Return relative luminance Y (0-1) for CIE L* (0-100)."""
    if lightness <= 8.0:
        return lightness / _KAPPA
    root = (lightness + 16.0) / 116.0
    return root * root * root


def luminance_to_lightness(luminance: float) -> float:
    """Return CIE L* (0-100) for relative luminance Y (0-1)."""
    if luminance <= _EPSILON:
        return luminance * _KAPPA
    return 116.0 * math.cbrt(luminance) - 16.0


@dataclass(frozen=True, slots=True)
class Dimmer:
    """Maps brightness (0-255, float) to duty (0-1, float) and back.

    ``min_duty`` lifts the lowest non-zero level for LED drivers that show nothing
    below some duty; 0 (the default) keeps the curve as it is.
    """

    curve: DimmingCurve = "cie"
    gamma: float = DEFAULT_GAMMA
    min_duty: float = DEFAULT_MIN_DUTY

    def __post_init__(self) -> None:
        """Check the settings, with errors that say what is allowed."""
        if self.curve not in DIMMING_CURVES:
            raise ValueError(f"dimming curve must be one of {', '.join(DIMMING_CURVES)}")
        if not GAMMA_MIN <= self.gamma <= GAMMA_MAX:
            raise ValueError(f"gamma must be between {GAMMA_MIN:g} and {GAMMA_MAX:g}")
        # The same range as the min_duty setting (config.py), not just "below 1".
        if not MIN_DUTY_MIN <= self.min_duty <= MIN_DUTY_MAX:
            raise ValueError(f"min_duty must be between {MIN_DUTY_MIN:g} and {MIN_DUTY_MAX:g}")

    def duty(self, brightness: float) -> float:
        """Return the duty cycle (0-1) for a brightness on the 0-255 scale."""
        return self.lift(self.luminance(brightness))

    def luminance(self, brightness: float) -> float:
        """The relative luminance (0-1) the curve gives ``brightness``, before ``min_duty``.

        With several colour channels this is the total luminance they mix to.
        """
        fraction = min(1.0, max(0.0, brightness / 255.0))
        if fraction <= 0.0:
            return 0.0
        if self.curve == "cie":
            return lightness_to_luminance(100.0 * fraction)
        if self.curve == "gamma":
            return float(fraction**self.gamma)
        return fraction

    def lift(self, duty: float) -> float:
        """A channel's duty with ``min_duty`` applied: 0 stays 0, the rest is lifted."""
        if duty <= 0.0:
            return 0.0
        return self.min_duty + (1.0 - self.min_duty) * duty

    def brightness(self, duty: float) -> float:
        """Return the brightness (0-255) whose duty is ``duty``; inverse of :meth:`duty`."""
        if duty <= 0.0:
            return 0.0
        raw = max(0.0, (min(1.0, duty) - self.min_duty) / (1.0 - self.min_duty))
        if self.curve == "cie":
            fraction = luminance_to_lightness(raw) / 100.0
        elif self.curve == "gamma":
            fraction = raw ** (1.0 / self.gamma)
        else:
            fraction = raw
        return 255.0 * fraction
