"""The Daybreak wire protocol, shared by the device server and the Home Assistant side.

This module is the single definition of what travels between a Daybreak device and
its clients: event names, payload schemas, limits, error codes and the protocol
version. It imports nothing from Home Assistant (only the standard library and
voluptuous), because it is built unchanged into the ``daybreak-device`` package as
``daybreak_device.protocol``. Edit it here; there is no other copy.

Transport: Socket.IO over WebSocket. A client authenticates with ``{"token": ...}``
in the Socket.IO ``auth`` object. Commands are events sent with an acknowledgement;
the ack is ``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``.
The device pushes ``state`` on connect and on every change, and ``heartbeat``
periodically. ``docs/protocol.md`` describes the same in prose.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, NotRequired, TypeAlias, TypedDict

import voluptuous as vol
from voluptuous.humanize import humanize_error

__all__ = [
    "BRIGHTNESS_MAX",
    "BRIGHTNESS_MIN",
    "COMMANDS",
    "CURVES",
    "DEFAULT_SUNRISE_DURATION",
    "EVENT_GET_INFO",
    "EVENT_GET_STATE",
    "EVENT_HEARTBEAT",
    "EVENT_SET_LIGHT",
    "EVENT_START_SUNRISE",
    "EVENT_STATE",
    "EVENT_STOP_SUNRISE",
    "MAX_PAYLOAD_BYTES",
    "PROTOCOL_VERSION",
    "SUNRISE_DURATION_MAX",
    "SUNRISE_DURATION_MIN",
    "TRANSITION_MAX",
    "Ack",
    "Curve",
    "ErrorCode",
    "ErrorInfo",
    "HeartbeatPayload",
    "InfoPayload",
    "ProtocolError",
    "SetLightCommand",
    "StartSunriseCommand",
    "StatePayload",
    "SunriseStatePayload",
    "TransitionStatePayload",
    "apply_curve",
    "error_ack",
    "validate_command",
]

#: Bumped on every incompatible change; clients compare it with what they need.
PROTOCOL_VERSION: Final = 1

# Events a client sends (each answered through the Socket.IO ack).
EVENT_SET_LIGHT: Final = "light.set"
EVENT_START_SUNRISE: Final = "sunrise.start"
EVENT_STOP_SUNRISE: Final = "sunrise.stop"
EVENT_GET_STATE: Final = "state.get"
EVENT_GET_INFO: Final = "info.get"

# Events the device pushes.
EVENT_STATE: Final = "state"
EVENT_HEARTBEAT: Final = "heartbeat"

#: Largest accepted command payload, as compact JSON. Larger ones are refused with
#: ``payload_too_large``; the transport also closes connections whose frames exceed
#: a (larger) hard cap.
MAX_PAYLOAD_BYTES: Final = 4096

BRIGHTNESS_MIN: Final = 0
BRIGHTNESS_MAX: Final = 255
TRANSITION_MAX: Final = 3600.0  # seconds
SUNRISE_DURATION_MIN: Final = 1.0  # seconds
SUNRISE_DURATION_MAX: Final = 3 * 3600.0  # seconds
DEFAULT_SUNRISE_DURATION: Final = 1800.0  # seconds

Curve: TypeAlias = Literal["linear", "ease_in", "ease_out", "ease_in_out"]
#: Sunrise shapes: how the brightness (which the device maps to perceived lightness)
#: moves from start to target over the duration. ``linear`` is linear in perceived
#: lightness, so every second brightens the room by the same visible amount.
CURVES: Final[tuple[Curve, ...]] = ("linear", "ease_in", "ease_out", "ease_in_out")

ErrorCode: TypeAlias = Literal[
    "invalid_payload",
    "payload_too_large",
    "unknown_event",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "internal_error",
]


class ErrorInfo(TypedDict):
    """The ``error`` member of a failed ack or REST response."""

    code: ErrorCode
    message: str


class Ack(TypedDict):
    """An acknowledgement: ``ok`` plus ``state``/``info`` on success or ``error``."""

    ok: bool
    state: NotRequired[StatePayload]
    info: NotRequired[InfoPayload]
    error: NotRequired[ErrorInfo]


class SunriseStatePayload(TypedDict):
    """A running sunrise. Times are ISO 8601 UTC; durations are seconds."""

    active: bool
    started_at: str
    ends_at: str
    duration: float
    start_brightness: float
    target_brightness: float
    progress: float
    curve: Curve


class TransitionStatePayload(TypedDict):
    """A running (non-sunrise) transition toward ``target_brightness``."""

    target_brightness: float
    ends_at: str


class StatePayload(TypedDict):
    """The device state, as pushed in ``state`` events and returned by ``GET /api/state``.

    ``brightness`` is the current output level on Home Assistant's 0-255 scale,
    rounded; ``level`` is the same level unrounded. When ``on`` is false the light
    is off (or fading out) and ``brightness`` is the level it is at.
    """

    on: bool
    brightness: int
    level: float
    sunrise: SunriseStatePayload | None
    transition: TransitionStatePayload | None


class InfoPayload(TypedDict):
    """What ``info.get`` and ``GET /api/info`` return."""

    device_id: str
    name: str
    model: str
    sw_version: str
    protocol_version: int
    output: str


class HeartbeatPayload(TypedDict):
    """The periodic ``heartbeat`` event: device uptime and wall clock."""

    uptime: float
    time: str


class SetLightCommand(TypedDict, total=False):
    """``light.set``: at least one of ``on`` and ``brightness``.

    ``brightness`` 0 means off. ``transition`` (seconds) fades there on the device.
    """

    on: bool
    brightness: float
    transition: float


class StartSunriseCommand(TypedDict):
    """``sunrise.start`` after validation (defaults filled in).

    ``start_brightness`` ``None`` means "from the current level".
    """

    duration: float
    target_brightness: float
    start_brightness: float | None
    curve: Curve


class ProtocolError(Exception):
    """A request the device refuses, with a stable machine-readable code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        """Create the error with its ``code`` and a human-readable ``message``."""
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message

    def as_ack(self) -> Ack:
        """Return the error as a failed acknowledgement."""
        return error_ack(self.code, self.message)


def error_ack(code: ErrorCode, message: str) -> Ack:
    """Build ``{"ok": false, "error": {"code": code, "message": message}}``."""
    return {"ok": False, "error": {"code": code, "message": message}}


def _number(low: float, high: float) -> Callable[[Any], float]:
    """Return a validator for a finite real number in ``[low, high]`` (bool refused)."""

    def validate(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise vol.Invalid(f"expected a number between {low:g} and {high:g}")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond the float range (JSON allows those)
            number = math.inf
        if not math.isfinite(number) or not low <= number <= high:
            raise vol.Invalid(f"must be between {low:g} and {high:g}")
        return number

    return validate


def _strict_bool(value: Any) -> bool:
    """Accept only real booleans (not 0/1 or strings)."""
    if not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    return value


def _curve(value: Any) -> Curve:
    """Accept one of :data:`CURVES`."""
    for curve in CURVES:
        if value == curve and isinstance(value, str):
            return curve
    raise vol.Invalid(f"must be one of {', '.join(CURVES)}")


def _needs_on_or_brightness(value: dict[str, Any]) -> dict[str, Any]:
    if "on" not in value and "brightness" not in value:
        raise vol.Invalid("give 'on', 'brightness' or both")
    return value


def _empty(value: Any) -> dict[str, Any]:
    """Accept no payload (``None``, which :func:`validate_command` passes as ``{}``)."""
    if value == {}:
        return {}
    raise vol.Invalid("this command takes no payload")


SET_LIGHT_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Optional("on"): _strict_bool,
            vol.Optional("brightness"): _number(BRIGHTNESS_MIN, BRIGHTNESS_MAX),
            vol.Optional("transition"): _number(0, TRANSITION_MAX),
        }
    ),
    _needs_on_or_brightness,
)

START_SUNRISE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("duration", default=DEFAULT_SUNRISE_DURATION): _number(
            SUNRISE_DURATION_MIN, SUNRISE_DURATION_MAX
        ),
        vol.Optional("target_brightness", default=float(BRIGHTNESS_MAX)): _number(
            1, BRIGHTNESS_MAX
        ),
        vol.Optional("start_brightness", default=None): vol.Any(
            None,
            _number(BRIGHTNESS_MIN, BRIGHTNESS_MAX),
            msg=f"expected null or a number between {BRIGHTNESS_MIN} and {BRIGHTNESS_MAX}",
        ),
        vol.Optional("curve", default="linear"): _curve,
    }
)

#: Every command event and the schema of its payload.
COMMANDS: Final[Mapping[str, Callable[[Any], Any]]] = {
    EVENT_SET_LIGHT: SET_LIGHT_SCHEMA,
    EVENT_START_SUNRISE: START_SUNRISE_SCHEMA,
    EVENT_STOP_SUNRISE: _empty,
    EVENT_GET_STATE: _empty,
    EVENT_GET_INFO: _empty,
}


def validate_command(event: str, payload: Any) -> dict[str, Any]:
    """Validate a command payload and return it with defaults filled in.

    Raises :class:`ProtocolError` with ``unknown_event``, ``payload_too_large`` or
    ``invalid_payload``; the message says what was wrong, in words.
    """
    schema = COMMANDS.get(event)
    if schema is None:
        raise ProtocolError("unknown_event", f"unknown event {event[:64]!r}")
    try:
        size = len(json.dumps(payload, separators=(",", ":"), allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        raise ProtocolError("invalid_payload", "payload is not plain JSON") from None
    if size > MAX_PAYLOAD_BYTES:
        raise ProtocolError(
            "payload_too_large",
            f"payload is {size} bytes, the limit is {MAX_PAYLOAD_BYTES}",
        )
    if payload is None:
        payload = {}  # no payload: every option at its default
    if not isinstance(payload, dict):
        raise ProtocolError("invalid_payload", "payload must be a JSON object")
    try:
        result = schema(payload)
    except vol.Invalid as err:
        raise ProtocolError("invalid_payload", humanize_error(payload, err)) from None
    return dict(result)


def apply_curve(curve: Curve, progress: float) -> float:
    """Map sunrise progress (0-1 of the duration) to the fraction of the way done.

    All curves are monotonic and map 0 to 0 and 1 to 1: ``ease_in`` is quadratic
    (slow start), ``ease_out`` its mirror, ``ease_in_out`` the cubic smoothstep.
    """
    p = min(1.0, max(0.0, progress))
    if curve == "ease_in":
        return p * p
    if curve == "ease_out":
        return 1.0 - (1.0 - p) * (1.0 - p)
    if curve == "ease_in_out":
        return p * p * (3.0 - 2.0 * p)
    return p
