"""The colour model: colour temperature and RGB in, one duty per LED channel out.

Colours are CIE 1931 chromaticities ``(x, y)``; brightness is kept apart from them, as
the relative luminance ``Y`` the :class:`~daybreak_device.dimming.Dimmer` makes of the
brightness (CIE L*), so changing the colour never changes the brightness.

* **Colour temperature** lies on the Planckian locus: :func:`planckian_xy` uses
  Krystek's rational approximation (1985) in CIE 1960 ``(u, v)``, which stays within
  ``|Δuv| < 8e-5`` of the locus from 1000 K to 15000 K.
* **RGB** from Home Assistant is sRGB (gamma-encoded, D65): :func:`srgb_to_xy` gives
  its chromaticity, :func:`xy_to_srgb` the other way (scaled so the largest is 255).
* **Mixing** (:class:`Mixer`): each channel at full duty gives luminance ``lumens``
  (relative, calibrated) at chromaticity ``xy``, so its tristimulus values are known;
  the duties solve ``sum(duty_i * XYZ_i) = XYZ_target`` exactly. Two whites (CCT) reach
  the straight segment between them, three primaries (RGB) their triangle; the white of
  RGBW takes as much of the light as the colour allows (the purest white, the most
  efficient). A colour out of reach is clamped to the nearest reachable chromaticity.
* **Full brightness** is the same luminance for every white the device offers: the
  least of the largest luminance it can make over its colour-temperature range (for CCT
  one channel at full, for RGB the white its weakest primary limits). A saturated colour
  that cannot reach that luminance is shown as bright as it can be.

Blends (transitions, sunrise paths) move in mired between two colour temperatures (even
steps of perceived warmth) and in CIE 1976 ``(u', v')`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from .protocol import COLOR_TEMP_KELVIN_MAX, COLOR_TEMP_KELVIN_MIN

__all__ = [
    "CHANNEL_SETS",
    "Colour",
    "Mixer",
    "MixerChannel",
    "blend",
    "planckian_xy",
    "srgb_to_xy",
    "xy_to_srgb",
]

XY: Final = tuple[float, float]
#: The channel sets a device can drive, in this order (besides a single channel).
CHANNEL_SETS: Final = (
    ("warm", "cool"),
    ("red", "green", "blue"),
    ("red", "green", "blue", "white"),
)
#: The colour shown before any was asked for.
DEFAULT_KELVIN_SHOWN: Final = 2700.0
#: Warm white (the ``warm`` path on RGB(W)).
WARM_WHITE_KELVIN: Final = 2700.0
#: The ``sunrise`` path's first colour on RGB(W): a deep red-orange, no blue at all.
SUNRISE_DAWN_KELVIN: Final = 1000.0
#: The ``sunrise`` path's last colour when none is given: neutral white.
SUNRISE_TARGET_KELVIN: Final = 4000.0
#: The white range RGB(W) devices offer as colour temperature (kelvin).
RGB_WHITE_RANGE: Final = (2000.0, 6500.0)


_TINY: Final = 1e-12


def planckian_xy(kelvin: float) -> tuple[float, float]:
    """The CIE 1931 chromaticity of a black body at ``kelvin`` (Krystek 1985).

    Clamped to 1000-15000 K, the range of the approximation.
    """
    t = min(COLOR_TEMP_KELVIN_MAX, max(COLOR_TEMP_KELVIN_MIN, kelvin))
    u = (0.860117757 + 1.54118254e-4 * t + 1.28641212e-7 * t * t) / (
        1.0 + 8.42420235e-4 * t + 7.08145163e-7 * t * t
    )
    v = (0.317398726 + 4.22806245e-5 * t + 4.20481691e-8 * t * t) / (
        1.0 - 2.89741816e-5 * t + 1.61456053e-7 * t * t
    )
    d = 2.0 * u - 8.0 * v + 4.0
    return 3.0 * u / d, 2.0 * v / d


def _xy_to_uv76(xy: tuple[float, float]) -> tuple[float, float]:
    x, y = xy
    d = -2.0 * x + 12.0 * y + 3.0
    return 4.0 * x / d, 9.0 * y / d


def _uv76_to_xy(uv: tuple[float, float]) -> tuple[float, float]:
    u, v = uv
    d = 6.0 * u - 16.0 * v + 12.0
    return 9.0 * u / d, 4.0 * v / d


# sRGB (IEC 61966-2-1) linear RGB <-> XYZ, D65.
_SRGB_TO_XYZ: Final = (
    (0.4124564, 0.3575761, 0.1804375),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339, 0.1191920, 0.9503041),
)
_XYZ_TO_SRGB: Final = (
    (3.2404542, -1.5371385, -0.4985314),
    (-0.9692660, 1.8760108, 0.0415560),
    (0.0556434, -0.2040259, 1.0572252),
)
#: The chromaticity of D65 (sRGB's white), for black and unusable input.
D65_XY: Final = (0.31271, 0.32902)


def _decode(channel: float) -> float:
    c = min(1.0, max(0.0, channel / 255.0))
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _encode(linear: float) -> float:
    c = min(1.0, max(0.0, linear))
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def srgb_to_xy(rgb: Sequence[float]) -> tuple[float, float]:
    """The chromaticity of an sRGB colour (0-255 each); black gives D65."""
    lin = [_decode(c) for c in rgb]
    x, y, z = (sum(row[i] * lin[i] for i in range(3)) for row in _SRGB_TO_XYZ)
    total = x + y + z
    if total <= 0:
        return D65_XY
    return x / total, y / total


def xy_to_srgb(xy: tuple[float, float]) -> tuple[int, int, int]:
    """An sRGB colour of chromaticity ``xy``, the largest component 255.

    Chromaticities outside sRGB's gamut get their negative components cut to 0.
    """
    x, y = xy
    xyz = (x / y, 1.0, (1.0 - x - y) / y)
    lin = [max(0.0, sum(row[i] * xyz[i] for i in range(3))) for row in _XYZ_TO_SRGB]
    top = max(lin)
    if top <= 0:
        return (255, 255, 255)
    enc = [_encode(c / top) for c in lin]
    return (round(enc[0] * 255), round(enc[1] * 255), round(enc[2] * 255))


@dataclass(frozen=True, slots=True)
class Colour:
    """A chromaticity, and the colour temperature it was asked as (else ``None``)."""

    xy: tuple[float, float]
    kelvin: float | None = None

    @classmethod
    def from_kelvin(cls, kelvin: float) -> Colour:
        """A white on the Planckian locus."""
        return cls(planckian_xy(kelvin), float(kelvin))

    @classmethod
    def from_rgb(cls, rgb: Sequence[float]) -> Colour:
        """The chromaticity of an sRGB colour (its brightness is not kept)."""
        return cls(srgb_to_xy(rgb))

    @property
    def rgb(self) -> tuple[int, int, int]:
        """The colour as sRGB, the largest component 255."""
        return xy_to_srgb(self.xy)

    def to_json(self) -> dict[str, Any]:
        """The colour as saved in the state file."""
        return {"xy": list(self.xy), "kelvin": self.kelvin}

    @classmethod
    def from_json(cls, data: Any) -> Colour:
        """Rebuild a colour saved by :meth:`to_json`; raise ``ValueError`` if malformed."""
        if not isinstance(data, dict):
            raise ValueError("colour is not an object")
        xy, kelvin = data.get("xy"), data.get("kelvin")
        if (
            not isinstance(xy, list)
            or len(xy) != 2
            or not all(_finite(c) and 0 < c < 1 for c in xy)
        ):
            raise ValueError("colour xy is not two numbers between 0 and 1")
        if kelvin is not None and not (
            _finite(kelvin) and COLOR_TEMP_KELVIN_MIN <= kelvin <= COLOR_TEMP_KELVIN_MAX
        ):
            raise ValueError("colour kelvin out of range")
        return cls((float(xy[0]), float(xy[1])), None if kelvin is None else float(kelvin))


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def blend(start: Colour, end: Colour, fraction: float) -> Colour:
    """The colour ``fraction`` (0-1) of the way from ``start`` to ``end``.

    Between two colour temperatures it moves along the locus, linear in mired; else on
    a straight line in CIE 1976 ``(u', v')``.
    """
    if fraction <= 0.0:
        return start
    if fraction >= 1.0:
        return end
    if start.kelvin is not None and end.kelvin is not None:
        mired = 1e6 / start.kelvin + (1e6 / end.kelvin - 1e6 / start.kelvin) * fraction
        return Colour.from_kelvin(1e6 / mired)
    (u0, v0), (u1, v1) = _xy_to_uv76(start.xy), _xy_to_uv76(end.xy)
    return Colour(_uv76_to_xy((u0 + (u1 - u0) * fraction, v0 + (v1 - v0) * fraction)))


@dataclass(frozen=True, slots=True)
class MixerChannel:
    """One LED channel: its chromaticity and its luminance at full duty (relative)."""

    name: str
    xy: tuple[float, float]
    lumens: float
    #: A white channel's colour temperature (its xy is then on the locus).
    kelvin: float | None = None


def _xyz(xy: tuple[float, float], luminance: float) -> tuple[float, float, float]:
    x, y = xy
    return (x / y * luminance, luminance, (1.0 - x - y) / y * luminance)


def _inverse(m: Sequence[Sequence[float]]) -> list[list[float]]:
    """The inverse of a 3x3 matrix (raise ``ValueError`` if singular)."""
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    if abs(det) < 1e-12:
        raise ValueError("the three primaries' chromaticities lie on one line")
    return [
        [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
        [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
        [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
    ]


def _nearest_on_segment(
    p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> tuple[tuple[float, float], float]:
    """The point of segment ``ab`` nearest ``p`` and its parameter (0 at ``a``)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = dx * dx + dy * dy
    s = 0.0 if length == 0 else ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length
    s = min(1.0, max(0.0, s))
    return (a[0] + s * dx, a[1] + s * dy), s


class Mixer:
    """Duties for a chromaticity and luminance on CCT, RGB or RGBW channels.

    Channels in the order given: ``warm, cool`` (CCT), ``red, green, blue`` (RGB) or
    ``red, green, blue, white`` (RGBW). :attr:`kelvin_range` is the colour temperature
    range offered; luminance 1 is full brightness (see the module docstring).
    """

    def __init__(self, channels: Sequence[MixerChannel]) -> None:
        """Set up the mixing for ``channels``; raise ``ValueError`` for an unusable set."""
        names = tuple(c.name for c in channels)
        if names not in CHANNEL_SETS:
            raise ValueError(f"cannot mix channels {', '.join(names)}")
        for channel in channels:
            x, y = channel.xy
            if not (0 < x < 1 and 0 < y < 1 and x + y < 1):
                raise ValueError(f"channel {channel.name}: xy must be a chromaticity")
            if not channel.lumens > 0:
                raise ValueError(f"channel {channel.name}: lumens must be above 0")
        self.channels = tuple(channels)
        kinds: dict[int, Literal["cct", "rgb", "rgbw"]] = {2: "cct", 3: "rgb", 4: "rgbw"}
        self.kind = kinds[len(channels)]
        self._full = [_xyz(c.xy, c.lumens) for c in channels]
        if self.kind == "cct":
            self._inv: list[list[float]] = []
        else:
            columns = self._full[:3]
            self._inv = _inverse([[col[row] for col in columns] for row in range(3)])
        self._scale = 1.0
        low, high = RGB_WHITE_RANGE
        if self.kind == "cct":
            low, high = (channels[0].kelvin or 2700.0, channels[1].kelvin or 6500.0)
            if not low < high:
                raise ValueError("the warm channel's kelvin must be below the cool one's")
        self.kelvin_range = (low, high)
        # Full brightness: what every white in the range can reach (see the module).
        steps = 64
        reach = [
            self._max_luminance(planckian_xy(low * (high / low) ** (n / steps)))
            for n in range(steps + 1)
        ]
        self._scale = min(reach)

    def _max_luminance(self, xy: tuple[float, float]) -> float:
        duties = self._unit_duties(self.reachable(xy))
        return 1.0 / max(duties)

    def reachable(self, xy: tuple[float, float]) -> tuple[float, float]:
        """The reachable chromaticity nearest ``xy`` (``xy`` itself if reachable)."""
        if self.kind == "cct":
            return _nearest_on_segment(xy, self.channels[0].xy, self.channels[1].xy)[0]
        weights = self._rgb_weights(_xyz(xy, 1.0))
        if min(weights) >= 0:
            return xy
        corners = [c.xy for c in self.channels[:3]]
        candidates = [
            _nearest_on_segment(xy, corners[i], corners[(i + 1) % 3])[0] for i in range(3)
        ]
        return min(candidates, key=lambda p: (p[0] - xy[0]) ** 2 + (p[1] - xy[1]) ** 2)

    def _rgb_weights(self, target: tuple[float, float, float]) -> list[float]:
        return [sum(row[i] * target[i] for i in range(3)) for row in self._inv]

    def _unit_duties(self, xy: tuple[float, float]) -> list[float]:
        """Duties for luminance 1 (unscaled; may exceed 1) at reachable ``xy``."""
        if self.kind == "cct":
            warm, cool = self.channels
            _point, s = _nearest_on_segment(xy, warm.xy, cool.xy)
            # The mixture's xy is the average of the channels' xy weighted by X+Y+Z
            # (= Y / y): weight s on cool. Solved for total luminance 1.
            k = 1.0 / ((1.0 - s) * warm.xy[1] + s * cool.xy[1])
            return [
                (1.0 - s) * k * warm.xy[1] / warm.lumens,
                s * k * cool.xy[1] / cool.lumens,
            ]
        target = _xyz(xy, 1.0)
        rgb = [max(0.0, w) for w in self._rgb_weights(target)]
        if self.kind == "rgb":
            return rgb
        # RGBW: as much white as leaves the rest non-negative.
        per_white = self._rgb_weights(self._full[3])
        white = min((a / b for a, b in zip(rgb, per_white, strict=True) if b > 0), default=0.0)
        white = max(0.0, white)
        return [max(0.0, a - white * b) for a, b in zip(rgb, per_white, strict=True)] + [white]

    def duties(self, xy: tuple[float, float], luminance: float) -> list[float]:
        """Duties (0-1 each) for chromaticity ``xy`` at ``luminance`` (0-1 of full).

        ``xy`` is clamped to the nearest reachable colour; a luminance beyond what that
        colour can reach is shown as bright as it can.
        """
        if luminance <= 0:
            return [0.0] * len(self.channels)
        unit = self._unit_duties(self.reachable(xy))
        wanted = luminance * self._scale
        top = max(unit)
        if wanted * top > 1.0:
            wanted = 1.0 / top
        # Rounding leaves ~1e-17 where a channel is off: off it is.
        return [0.0 if d < _TINY else min(1.0, d * wanted) for d in unit]
