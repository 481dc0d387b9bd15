"""Output channels: which LED channels a device drives, on which pins, calibrated how.

One channel (``--pin``, or ``--pwm-chip``/``--pwm-channel``) is the default. Several are
given as ``--channels NAME=TARGET,...`` (or a ``channels`` table in the TOML file):

* CCT: ``warm`` and ``cool``; RGB: ``red``, ``green``, ``blue``; RGBW: those and ``white``.
* ``TARGET`` is a gpiozero pin (``18``, ``GPIO18``, ``BOARD12``) for ``--output gpiozero``,
  and for ``--output sysfs`` a PWM channel: ``N`` (on ``--pwm-chip``) or ``pwmchipC/N``.

Calibration lives in the TOML file, one table per channel (``[calibration.warm]``):
``kelvin`` for the white channels (defaults :data:`DEFAULT_KELVIN`), ``xy`` (CIE 1931
chromaticity) for the colour primaries (defaults :data:`DEFAULT_XY`, typical of 5050 /
WS2812-class LEDs), and ``lumens``, each channel's luminous output at full duty relative
to the others (defaults :data:`DEFAULT_LUMENS`): what keeps brightness right when mixing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .colour import CHANNEL_SETS, MixerChannel, planckian_xy
from .protocol import COLOR_TEMP_KELVIN_MAX, COLOR_TEMP_KELVIN_MIN

__all__ = [
    "CHANNEL_NAMES",
    "DEFAULT_KELVIN",
    "DEFAULT_LUMENS",
    "DEFAULT_XY",
    "ChannelSpec",
    "channel_specs",
    "parse_calibration",
    "parse_channels",
    "sysfs_target",
]

CHANNEL_NAMES: Final = ("warm", "cool", "red", "green", "blue", "white")
WHITE_CHANNELS: Final = frozenset({"warm", "cool", "white"})
DEFAULT_KELVIN: Final[Mapping[str, float]] = {"warm": 2700.0, "cool": 6500.0, "white": 4000.0}
#: Typical 5050 / WS2812-class primaries: 625 nm red, 525 nm green, 470 nm blue.
DEFAULT_XY: Final[Mapping[str, tuple[float, float]]] = {
    "red": (0.690, 0.308),
    "green": (0.170, 0.700),
    "blue": (0.135, 0.060),
}
#: Relative luminous output at full duty (a 5050 chip's R:G:B is about 3:6:1; W ~ R+G+B).
DEFAULT_LUMENS: Final[Mapping[str, float]] = {
    "warm": 1.0,
    "cool": 1.0,
    "red": 0.3,
    "green": 0.6,
    "blue": 0.1,
    "white": 1.0,
}
_LUMENS_RANGE: Final = (0.001, 1000.0)
_SYSFS_TARGET = re.compile(r"(?:pwmchip([0-9]{1,2})/)?([0-9]{1,2})")
_PIN_TARGET = re.compile(r"[A-Za-z0-9_]{1,32}")


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One configured channel: its name, where it is wired, its calibration."""

    name: str
    target: str
    xy: tuple[float, float]
    lumens: float
    kelvin: float | None = None

    def mixer_channel(self) -> MixerChannel:
        """The channel as the colour model needs it."""
        return MixerChannel(self.name, self.xy, self.lumens, self.kelvin)


def parse_channels(value: Any) -> tuple[tuple[str, str], ...]:
    """``warm=18,cool=19`` (or a TOML table, or a list of such strings) as name/target pairs."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
    else:
        texts = value if isinstance(value, list | tuple) else [value]
        items = []
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(
                    "expected NAME=PIN pairs separated by commas, e.g. warm=18,cool=19"
                )
            for part in text.split(","):
                name, sep, target = part.strip().partition("=")
                if not sep:
                    raise ValueError(f"{part.strip()!r} is not NAME=PIN (e.g. warm=18)")
                items.append((name.strip(), target.strip()))
    for name, raw in items:
        if name not in CHANNEL_NAMES:
            raise ValueError(f"unknown channel {name!r}; channels are {', '.join(CHANNEL_NAMES)}")
        target = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
        if not isinstance(target, str) or not _PIN_TARGET.fullmatch(target.replace("/", "_")):
            raise ValueError(f"channel {name}: {raw!r} is not a pin or PWM channel")
        pairs.append((name, target))
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("a channel is named twice")
    targets = [target for _, target in pairs]
    if len(set(targets)) != len(targets):
        raise ValueError("two channels are on the same pin")
    for channel_set in CHANNEL_SETS:
        if set(names) == set(channel_set):
            order = {name: index for index, name in enumerate(channel_set)}
            return tuple(sorted(pairs, key=lambda pair: order[pair[0]]))
    raise ValueError(
        f"channels {', '.join(names)} are no known set: give warm and cool (CCT), "
        "red, green and blue (RGB), or red, green, blue and white (RGBW)"
    )


def _number(value: Any, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{what} must be a number between {low:g} and {high:g}")
    return float(value)


def parse_calibration(value: Any) -> dict[str, dict[str, Any]]:
    """The ``[calibration.NAME]`` tables of the TOML file, checked (not the channels' set)."""
    if not isinstance(value, Mapping):
        raise ValueError(
            "expected tables such as [calibration.warm] with kelvin and lumens (config file only)"
        )
    result: dict[str, dict[str, Any]] = {}
    for name, table in value.items():
        if name not in CHANNEL_NAMES:
            raise ValueError(f"unknown channel {name!r}; channels are {', '.join(CHANNEL_NAMES)}")
        if not isinstance(table, Mapping):
            raise ValueError(f"{name}: expected a table")
        allowed = {"lumens"} | ({"kelvin"} if name in WHITE_CHANNELS else {"xy"})
        unknown = set(table) - allowed
        if unknown:
            raise ValueError(
                f"{name}: unknown key {sorted(unknown)[0]!r}; "
                f"{name} takes {', '.join(sorted(allowed))}"
            )
        entry: dict[str, Any] = {}
        if "lumens" in table:
            entry["lumens"] = _number(table["lumens"], *_LUMENS_RANGE, f"{name}.lumens")
        if "kelvin" in table:
            entry["kelvin"] = _number(
                table["kelvin"], COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX, f"{name}.kelvin"
            )
        if "xy" in table:
            xy = table["xy"]
            if not isinstance(xy, list) or len(xy) != 2:
                raise ValueError(f"{name}.xy must be [x, y]")
            x, y = (_number(c, 0.0001, 0.9999, f"{name}.xy") for c in xy)
            if x + y >= 1:
                raise ValueError(f"{name}.xy: x + y must be below 1 (a CIE 1931 chromaticity)")
            entry["xy"] = (x, y)
        result[str(name)] = entry
    return result


def channel_specs(
    channels: tuple[tuple[str, str], ...], calibration: Mapping[str, Mapping[str, Any]]
) -> list[ChannelSpec]:
    """The configured channels with their calibration (defaults filled in)."""
    names = {name for name, _ in channels}
    stray = sorted(set(calibration) - names)
    if stray:
        raise ValueError(f"calibration for channel {stray[0]}, which channels does not name")
    specs: list[ChannelSpec] = []
    for name, target in channels:
        entry = calibration.get(name, {})
        lumens = float(entry.get("lumens", DEFAULT_LUMENS[name]))
        if name in WHITE_CHANNELS:
            kelvin = float(entry.get("kelvin", DEFAULT_KELVIN[name]))
            specs.append(ChannelSpec(name, target, planckian_xy(kelvin), lumens, kelvin))
        else:
            specs.append(ChannelSpec(name, target, entry.get("xy", DEFAULT_XY[name]), lumens))
    return specs


def sysfs_target(target: str, default_chip: int) -> tuple[int, int]:
    """A sysfs channel target, ``N`` or ``pwmchipC/N``, as ``(chip, channel)``."""
    match = _SYSFS_TARGET.fullmatch(target)
    if match is None:
        raise ValueError(
            f"{target!r} is not a PWM channel: give N (on --pwm-chip) or pwmchipC/N, "
            "e.g. warm=0,cool=1 or warm=pwmchip0/0,cool=pwmchip0/1"
        )
    chip = default_chip if match[1] is None else int(match[1])
    return chip, int(match[2])
