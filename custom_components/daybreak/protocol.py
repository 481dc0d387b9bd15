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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal, NotRequired, TypeAlias, TypedDict

import voluptuous as vol
from voluptuous.humanize import humanize_error

__all__ = [
    "ACK_FIELDS",
    "AFTER_WAKE_MAX",
    "ALARMS_SCHEMA",
    "ALARM_DATE_AHEAD_MAX_DAYS",
    "ALARM_DISMISSED_SCHEMA",
    "ALARM_DURATION_MAX",
    "ALARM_DURATION_MIN",
    "ALARM_DURATION_REPORTED_MAX",
    "ALARM_FIRED_SCHEMA",
    "ALARM_ID_MAX_LENGTH",
    "ALARM_ID_PATTERN",
    "ALARM_NAME_MAX_LENGTH",
    "ALARM_NAME_MIN_LENGTH",
    "ALARM_NAME_REPORTED_MAX_LENGTH",
    "ALARM_SCHEMA",
    "ALARM_SNOOZED_SCHEMA",
    "BRIGHTNESS_MAX",
    "BRIGHTNESS_MIN",
    "BUTTON_PRESSES",
    "BUTTON_PRESS_SCHEMA",
    "CHANNEL_LAYOUTS",
    "COLOR_PATHS",
    "COLOR_TEMP_KELVIN_MAX",
    "COLOR_TEMP_KELVIN_MIN",
    "COMMANDS",
    "CURVES",
    "DEFAULT_AFTER_WAKE",
    "DEFAULT_CURVE",
    "DEFAULT_SNOOZE_LENGTH",
    "DEFAULT_SUNRISE_DURATION",
    "DEFAULT_SUNRISE_MINUTES",
    "DEFAULT_SUNSET_DURATION",
    "DEFAULT_TARGET_BRIGHTNESS",
    "DEVICE_EVENTS",
    "DEVICE_ID_MAX_LENGTH",
    "DISMISS_ACTIONS",
    "ERROR_CODE_MAX_LENGTH",
    "ERROR_MESSAGE_MAX_LENGTH",
    "EVENT_ALARMS",
    "EVENT_ALARM_DISMISSED",
    "EVENT_ALARM_FIRED",
    "EVENT_ALARM_SNOOZED",
    "EVENT_BUTTON_PRESS",
    "EVENT_CREATE_ALARM",
    "EVENT_DELETE_ALARM",
    "EVENT_DISMISS_ALARM",
    "EVENT_GET_ALARM",
    "EVENT_GET_DEVICE",
    "EVENT_GET_INFO",
    "EVENT_GET_STATE",
    "EVENT_HEARTBEAT",
    "EVENT_LIST_ALARMS",
    "EVENT_SET_LIGHT",
    "EVENT_SET_WAKE_SETTINGS",
    "EVENT_SKIP_ALARM",
    "EVENT_SNOOZE_ALARM",
    "EVENT_START_SUNRISE",
    "EVENT_START_SUNSET",
    "EVENT_STATE",
    "EVENT_STOP_SUNRISE",
    "EVENT_STOP_SUNSET",
    "EVENT_SUNRISE_CANCELLED",
    "EVENT_SUNRISE_FINISHED",
    "EVENT_SUNRISE_STARTED",
    "EVENT_SUNSET_CANCELLED",
    "EVENT_SUNSET_FINISHED",
    "EVENT_SUNSET_STARTED",
    "EVENT_UPDATE_ALARM",
    "HEARTBEAT_SCHEMA",
    "INFO_SCHEMA",
    "INFO_TEXT_MAX_LENGTH",
    "MAX_ALARMS",
    "MAX_PAYLOAD_BYTES",
    "PROTOCOL_VERSION",
    "PROTOCOL_VERSION_MAX",
    "PUSHES",
    "SNOOZE_LENGTH_MAX",
    "SNOOZE_LENGTH_MIN",
    "STATE_SCHEMA",
    "SUNRISE_DURATION_MAX",
    "SUNRISE_DURATION_MIN",
    "SUNRISE_EVENT_SCHEMA",
    "SUNRISE_MINUTES_MAX",
    "SUNRISE_MINUTES_MIN",
    "SUNSET_DURATION_MAX",
    "SUNSET_DURATION_MIN",
    "SUNSET_EVENT_SCHEMA",
    "TIMESTAMP_MAX_LENGTH",
    "TIMESTAMP_YEAR_MAX",
    "TIMESTAMP_YEAR_MIN",
    "TRANSITION_MAX",
    "UPTIME_MAX",
    "WAKE_SETTINGS_DEFAULTS",
    "WEEKDAYS",
    "Ack",
    "AlarmDismissedPayload",
    "AlarmFiredPayload",
    "AlarmIdCommand",
    "AlarmPayload",
    "AlarmSnoozedPayload",
    "AlarmStatePayload",
    "AlarmSunrisePayload",
    "AlarmsPayload",
    "ButtonPress",
    "ButtonPressPayload",
    "ChannelLayout",
    "ChannelsInfo",
    "ColorPath",
    "CreateAlarmCommand",
    "Curve",
    "DeviceEventPayload",
    "DismissAction",
    "ErrorCode",
    "ErrorInfo",
    "HeartbeatPayload",
    "InfoPayload",
    "NextSunrisePayload",
    "ProtocolError",
    "SetLightCommand",
    "SetWakeSettingsCommand",
    "SkipAlarmCommand",
    "StartSunriseCommand",
    "StartSunsetCommand",
    "StatePayload",
    "SunriseEventPayload",
    "SunriseStatePayload",
    "SunsetEventPayload",
    "SunsetStatePayload",
    "TransitionStatePayload",
    "UpdateAlarmCommand",
    "WakeSettingsPayload",
    "apply_curve",
    "clamp_duration",
    "error_ack",
    "minutes_to_seconds",
    "seconds_to_minutes",
    "validate_ack",
    "validate_alarm",
    "validate_command",
    "validate_info",
    "validate_push",
]

#: Bumped on every change a client may depend on; clients compare it with what they need.
#: 1: light, sunrise, alarms. 2: the device pushes ``alarms`` and the sunrise/alarm
#: events below, a sunrise carries its ``alarm_id``, ``alarm.create`` takes an ``id``
#: and ``info`` has ``uptime``. 3: the ``storage_error`` error code (a command carried
#: out but not saved), ``storage_error`` in ``state`` and ``info``, ``storage`` in
#: ``/api/health``; ``state`` is pushed before the change is saved. Later in 3, without
#: a bump (optional on both sides): alarms have a ``name``, which ``alarm.create`` and
#: ``alarm.update`` take; a client shows the wake time for a device that sends none.
#: ``device.get`` (info, state and alarms in one answer); a client falls back to
#: ``info.get`` and ``alarms.list`` for a device that answers ``unknown_event``.
#: ``started_at`` in ``info`` and ``heartbeat`` (a client works it out from ``uptime``
#: for a device that sends none).
#: 4: colour: ``channels`` in ``info``; ``color_temp_kelvin``/``rgb_color`` in
#: ``light.set`` and in ``state``; ``color_path``, ``start_kelvin`` and ``target_kelvin``
#: on ``sunrise.start``, alarms and the sunrise state; sunsets (``sunset.*``), snooze and
#: dismiss (``alarm.snooze``, ``alarm.dismiss``, the ``no_alarm`` error code, ``alarm``
#: and ``wake_settings`` in ``state``, ``wake_settings.set``) and the bedside button's
#: ``button.press`` event.
#: One-off alarms: an alarm has a ``date`` (``YYYY-MM-DD``, or ``None`` for a weekly
#: one), which ``alarm.create`` and ``alarm.update`` take; it fires once and disables
#: itself.
PROTOCOL_VERSION: Final = 4

# Events a client sends (each answered through the Socket.IO ack).
EVENT_SET_LIGHT: Final = "light.set"
EVENT_START_SUNRISE: Final = "sunrise.start"
EVENT_STOP_SUNRISE: Final = "sunrise.stop"
EVENT_GET_STATE: Final = "state.get"
EVENT_GET_INFO: Final = "info.get"
#: Info, state and alarms in one answer: what a client reads when it connects.
EVENT_GET_DEVICE: Final = "device.get"
# Alarms stored and fired on the device (see the "Alarms" section of docs/protocol.md).
EVENT_LIST_ALARMS: Final = "alarms.list"
EVENT_GET_ALARM: Final = "alarm.get"
EVENT_CREATE_ALARM: Final = "alarm.create"
EVENT_UPDATE_ALARM: Final = "alarm.update"
EVENT_DELETE_ALARM: Final = "alarm.delete"
EVENT_SKIP_ALARM: Final = "alarm.skip_next"
# The sunset (a fade to off) and what a waking sleeper does to a running alarm
# (protocol 4; see "Sunset, snooze and dismiss" in docs/protocol.md).
EVENT_START_SUNSET: Final = "sunset.start"
EVENT_STOP_SUNSET: Final = "sunset.stop"
EVENT_SNOOZE_ALARM: Final = "alarm.snooze"
EVENT_DISMISS_ALARM: Final = "alarm.dismiss"
EVENT_SET_WAKE_SETTINGS: Final = "wake_settings.set"

# Events the device pushes.
EVENT_STATE: Final = "state"
EVENT_HEARTBEAT: Final = "heartbeat"
#: All alarms (:class:`AlarmsPayload`), on connect and whenever one changes, including
#: when an alarm fires or its next occurrence moves on.
EVENT_ALARMS: Final = "alarms"
# Things that happen, pushed once when they happen (not replayed on connect): a sunrise
# started (by a command or an alarm), ran to its end, or was cancelled (stopped, or
# replaced by a light command or another sunrise); an alarm's occurrence fired.
EVENT_SUNRISE_STARTED: Final = "sunrise.started"
EVENT_SUNRISE_FINISHED: Final = "sunrise.finished"
EVENT_SUNRISE_CANCELLED: Final = "sunrise.cancelled"
EVENT_ALARM_FIRED: Final = "alarm.fired"
# Protocol 4: a sunset started, ran to off, or was cancelled; a running alarm was
# snoozed or dismissed; the bedside button was pressed.
EVENT_SUNSET_STARTED: Final = "sunset.started"
EVENT_SUNSET_FINISHED: Final = "sunset.finished"
EVENT_SUNSET_CANCELLED: Final = "sunset.cancelled"
EVENT_ALARM_SNOOZED: Final = "alarm.snoozed"
EVENT_ALARM_DISMISSED: Final = "alarm.dismissed"
EVENT_BUTTON_PRESS: Final = "button.press"
#: The pushed one-off events, in the order above.
DEVICE_EVENTS: Final[tuple[str, ...]] = (
    EVENT_SUNRISE_STARTED,
    EVENT_SUNRISE_FINISHED,
    EVENT_SUNRISE_CANCELLED,
    EVENT_ALARM_FIRED,
    EVENT_SUNSET_STARTED,
    EVENT_SUNSET_FINISHED,
    EVENT_SUNSET_CANCELLED,
    EVENT_ALARM_SNOOZED,
    EVENT_ALARM_DISMISSED,
    EVENT_BUTTON_PRESS,
)

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
#: Sunrise durations as clients show them, in whole minutes (the options, the web page).
SUNRISE_MINUTES_MIN: Final = 1
SUNRISE_MINUTES_MAX: Final = int(SUNRISE_DURATION_MAX // 60)
DEFAULT_SUNRISE_MINUTES: Final = int(DEFAULT_SUNRISE_DURATION // 60)
#: What ``sunrise.start`` and ``alarm.create`` use when the target is not given.
DEFAULT_TARGET_BRIGHTNESS: Final = float(BRIGHTNESS_MAX)
#: At most this many alarms; creating one more is refused with ``limit_reached``.
MAX_ALARMS: Final = 20
ALARM_DURATION_MIN: Final = 60.0  # seconds: an alarm's sunrise lasts 1 min to 3 h
ALARM_DURATION_MAX: Final = SUNRISE_DURATION_MAX
#: Longest alarm sunrise a device may *report* (and keeps when it loads its saved
#: alarms): saved under older, looser limits, an alarm outside today's command limits
#: stays valid, so tightening a limit never drops or hides an alarm already on a device.
ALARM_DURATION_REPORTED_MAX: Final = 24 * 3600.0
ALARM_ID_MAX_LENGTH: Final = 64
#: An alarm's name (what people see: "Alarm <name>"), 1 to 40 characters. An alarm
#: created without one is named by its wake time ``HH:MM``.
ALARM_NAME_MIN_LENGTH: Final = 1
ALARM_NAME_MAX_LENGTH: Final = 40
#: Longest alarm name a device may report (looser than the commands' limit, as with
#: :data:`ALARM_DURATION_REPORTED_MAX`).
ALARM_NAME_REPORTED_MAX_LENGTH: Final = 256
#: What an id chosen by the client in ``alarm.create`` may look like.
ALARM_ID_PATTERN: Final = r"[A-Za-z0-9_-]{1,64}"
#: A sunset (a fade to off as you fall asleep) lasts 1 min to 3 h.
SUNSET_DURATION_MIN: Final = 60.0  # seconds
SUNSET_DURATION_MAX: Final = 3 * 3600.0  # seconds
DEFAULT_SUNSET_DURATION: Final = 1800.0  # seconds
#: A snooze lasts 1 to 30 minutes, 9 by default.
SNOOZE_LENGTH_MIN: Final = 60.0  # seconds
SNOOZE_LENGTH_MAX: Final = 1800.0  # seconds
DEFAULT_SNOOZE_LENGTH: Final = 540.0  # seconds
#: How long after its wake time an alarm can still be snoozed or dismissed.
AFTER_WAKE_MAX: Final = 3 * 3600.0  # seconds
DEFAULT_AFTER_WAKE: Final = 1800.0  # seconds
DismissAction: TypeAlias = Literal["keep", "off"]
#: What dismissing an alarm does to the light: keep its level, or turn it off.
DISMISS_ACTIONS: Final[tuple[DismissAction, ...]] = ("keep", "off")
ButtonPress: TypeAlias = Literal[
    "press_start",
    "press_end",
    "long_press_start",
    "long_press_end",
    "multi_press_ongoing",
    "multi_press_end",
]
#: What the bedside button reports (``press`` of ``button.press``): Home Assistant's
#: standard button event types (``ButtonEventType``, 2026.8), modelled on Matter's
#: switch events. ``press_start`` when pressed; ``press_end`` when let go within a
#: second; ``long_press_start`` once held a second, ``long_press_end`` when then let go;
#: a press soon after a short one also gives ``multi_press_ongoing`` (when pressed) and
#: ``multi_press_end`` (when let go), both with ``multi_press_count`` 2.
BUTTON_PRESSES: Final[tuple[ButtonPress, ...]] = (
    "press_start",
    "press_end",
    "long_press_start",
    "long_press_end",
    "multi_press_ongoing",
    "multi_press_end",
)
#: A one-off alarm's ``date`` may be at most this many days after the device's today
#: (checked by the device, which knows its time zone; a past wake time is refused too).
ALARM_DATE_AHEAD_MAX_DAYS: Final = 366
#: Weekdays as numbers, 0 Monday to 6 Sunday (Python's ``date.weekday()``).
WEEKDAYS: Final[tuple[int, ...]] = (0, 1, 2, 3, 4, 5, 6)

Curve: TypeAlias = Literal["linear", "ease_in", "ease_out", "ease_in_out"]
#: Sunrise shapes: how the brightness (which the device maps to perceived lightness)
#: moves from start to target over the duration. ``linear`` is linear in perceived
#: lightness, so every second brightens the room by the same visible amount.
CURVES: Final[tuple[Curve, ...]] = ("linear", "ease_in", "ease_out", "ease_in_out")
#: The curve of a sunrise or alarm that names none.
DEFAULT_CURVE: Final[Curve] = "linear"

ColorPath: TypeAlias = Literal["sunrise", "warm", "white"]
#: How a sunrise's colour moves as it brightens (devices with colour channels):
#: ``sunrise`` from deep red/amber (on CCT: the warm white) through warm white to the
#: target colour temperature, ``warm`` stays warm white, ``white`` keeps one colour
#: (``target_kelvin``, else the light's colour): brightness alone rises.
COLOR_PATHS: Final[tuple[ColorPath, ...]] = ("sunrise", "warm", "white")
#: Colour temperatures a command may ask for (the device clamps them to its range).
COLOR_TEMP_KELVIN_MIN: Final = 1000
COLOR_TEMP_KELVIN_MAX: Final = 15000
ChannelLayout: TypeAlias = Literal["single", "cct", "rgb", "rgbw"]
CHANNEL_LAYOUTS: Final[tuple[ChannelLayout, ...]] = ("single", "cct", "rgb", "rgbw")

ErrorCode: TypeAlias = Literal[
    "invalid_payload",
    "payload_too_large",
    "unknown_event",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "internal_error",
    "limit_reached",
    "conflict",
    #: The command was carried out (the light shows it, ``state`` was pushed) but the
    #: device could not save it; it keeps retrying. The ack also carries ``state``.
    "storage_error",
    #: Too many failed logins from this address: the token was not checked; try again
    #: after ``retry_after`` seconds (HTTP 429 with ``Retry-After``).
    "rate_limited",
    #: The request's ``Host`` is not a name of the device (DNS rebinding); HTTP 421.
    "host_not_allowed",
    #: ``alarm.snooze`` or ``alarm.dismiss`` while no alarm runs: nothing was changed
    #: (protocol 4; HTTP 409).
    "no_alarm",
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
    # Alarm commands answer with ``alarms`` (all of them) and ``state``; those about one
    # alarm (get, create, update, skip) with that ``alarm`` too.
    alarm: NotRequired[AlarmPayload]
    alarms: NotRequired[list[AlarmPayload]]


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
    #: The alarm that started the sunrise, ``None`` for one started by a command.
    alarm_id: NotRequired[str | None]
    #: Its colour path and temperatures (devices with colour channels; protocol 4).
    color_path: NotRequired[ColorPath]
    start_kelvin: NotRequired[int | None]
    target_kelvin: NotRequired[int | None]


class SunsetStatePayload(TypedDict):
    """A running sunset: from ``start_brightness`` to off. Times are ISO 8601 UTC."""

    started_at: str
    ends_at: str
    duration: float
    start_brightness: float
    progress: float
    curve: Curve


class AlarmStatePayload(TypedDict):
    """The alarm in progress: its sunrise runs, it is snoozed, or it woke you lately.

    ``wake_at`` is when its sunrise ends (each snooze moves it later by the snooze);
    ``ends_at`` when it can no longer be snoozed or dismissed (``wake_at`` plus the
    ``after_wake`` setting); ``snoozed_until`` the end of the snooze in progress
    (``None`` when not snoozed); ``snoozes`` how many times it was snoozed. ISO 8601 UTC.
    """

    alarm_id: str
    wake_at: str
    ends_at: str
    snoozed_until: str | None
    snoozes: int


class WakeSettingsPayload(TypedDict):
    """The device's snooze and dismiss settings (``wake_settings`` in the state).

    ``snooze_length`` (seconds) and ``snooze_level`` (0-255, 0 off) are what a snooze
    does; ``dismiss`` what dismissing does to the light; ``after_wake`` (seconds) how
    long after its wake time an alarm can still be snoozed or dismissed.
    """

    snooze_length: float
    snooze_level: float
    dismiss: DismissAction
    after_wake: float


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
    #: The next alarm sunrise to start, or ``None``; devices without alarms omit it.
    next_sunrise: NotRequired[NextSunrisePayload | None]
    #: Why the device cannot save its state (``None`` when it can; protocol 3).
    storage_error: NotRequired[str | None]
    #: The colour shown (devices with colour channels; protocol 4): its colour
    #: temperature when it was asked as one (else ``None``) and as sRGB (the largest
    #: component 255; brightness is ``brightness``).
    color_temp_kelvin: NotRequired[int | None]
    rgb_color: NotRequired[list[int]]

    #: The running sunset, or ``None`` (protocol 4).
    sunset: NotRequired[SunsetStatePayload | None]
    #: The alarm in progress, or ``None`` (protocol 4).
    alarm: NotRequired[AlarmStatePayload | None]
    #: The snooze and dismiss settings (protocol 4).
    wake_settings: NotRequired[WakeSettingsPayload]


class ChannelsInfo(TypedDict):
    """The device's output channels (``channels`` in ``info``; protocol 4).

    ``names`` in driving order; the colour temperature range the device offers.
    """

    layout: ChannelLayout
    names: list[str]
    min_color_temp_kelvin: int
    max_color_temp_kelvin: int


class InfoPayload(TypedDict):
    """What ``info.get`` and ``GET /api/info`` return."""

    device_id: str
    name: str
    model: str
    sw_version: str
    protocol_version: int
    output: str
    #: The IANA time zone alarm times are in, e.g. ``Europe/Berlin``.
    timezone: NotRequired[str]
    #: Seconds since the device server started (protocol 2).
    uptime: NotRequired[float]
    #: When the device server started (ISO 8601 UTC; within protocol 3): the wall clock
    #: now minus the uptime, so a clock step moves it.
    started_at: NotRequired[str]
    #: Why the device cannot save its state (``None`` when it can; protocol 3).
    storage_error: NotRequired[str | None]
    #: The colour channels; a single-channel device leaves it out (protocol 4).
    channels: NotRequired[ChannelsInfo]
    #: Whether the device reads a bedside button (protocol 4).
    button: NotRequired[bool]


class AlarmSunrisePayload(TypedDict):
    """An alarm's next sunrise: it starts at ``starts_at`` and ends at ``wake_at``.

    ISO 8601 local times of the device's time zone, with their UTC offset.
    """

    starts_at: str
    wake_at: str


class NextSunrisePayload(AlarmSunrisePayload):
    """The next alarm sunrise of all alarms (``next_sunrise`` in the state)."""

    alarm_id: str


class AlarmPayload(TypedDict):
    """An alarm as the device reports it.

    ``time`` is the local wake time ``HH:MM`` in the device's time zone; ``weekdays``
    are 0 (Monday) to 6 (Sunday), sorted. ``date`` (``YYYY-MM-DD``, protocol 4) makes
    it a one-off alarm for that local date (``weekdays`` then holds the date's weekday,
    so a client that knows no dates still sees a valid alarm); ``None``: weekly.
    ``skip_next`` is true while the alarm's next occurrence is skipped;
    ``next_sunrise`` is the next one that will fire (``None`` when disabled).
    """

    id: str
    #: What people call it; the wake time ``HH:MM`` when it was given none.
    name: str
    time: str
    weekdays: list[int]
    date: str | None
    enabled: bool
    duration: float
    target_brightness: float
    curve: Curve
    skip_next: bool
    next_sunrise: AlarmSunrisePayload | None
    #: The sunrise's colour (protocol 4; ``None`` kelvin: the device's default).
    color_path: NotRequired[ColorPath]
    start_kelvin: NotRequired[int | None]
    target_kelvin: NotRequired[int | None]


class AlarmsPayload(TypedDict):
    """The pushed ``alarms`` event: every alarm, oldest first."""

    alarms: list[AlarmPayload]


class SunriseEventPayload(TypedDict):
    """``sunrise.started``, ``sunrise.finished`` and ``sunrise.cancelled``.

    ``time`` is when it happened (ISO 8601 UTC); ``alarm_id`` the alarm that started
    the sunrise (``None`` for a command); ``target_brightness`` and ``duration`` the
    sunrise's.
    """

    time: str
    alarm_id: str | None
    target_brightness: float
    duration: float


class AlarmFiredPayload(TypedDict):
    """``alarm.fired``: an alarm's occurrence came due (its sunrise starts now).

    ``wake_at`` is the occurrence's wake time (ISO 8601, device-local with offset).
    ``sunrise`` is false when the light was already at least as bright, so no
    sunrise was started.
    """

    time: str
    alarm_id: str
    wake_at: str
    sunrise: bool


class SunsetEventPayload(TypedDict):
    """``sunset.started``, ``sunset.finished`` and ``sunset.cancelled``."""

    time: str
    start_brightness: float
    duration: float


class AlarmSnoozedPayload(TypedDict):
    """``alarm.snoozed``: the alarm's light is down until ``until``; it wakes at ``wake_at``."""

    time: str
    alarm_id: str
    until: str
    wake_at: str
    snoozes: int


class AlarmDismissedPayload(TypedDict):
    """``alarm.dismissed``: the alarm ended; ``dismiss`` is what the light did."""

    time: str
    alarm_id: str
    dismiss: DismissAction


class ButtonPressPayload(TypedDict):
    """``button.press``: the bedside button did ``press`` (one of :data:`BUTTON_PRESSES`).

    ``multi_press_count`` (the presses so far in a quick sequence) comes with the
    ``multi_press_*`` ones.
    """

    time: str
    press: ButtonPress
    multi_press_count: NotRequired[int]


#: Any one-off event's payload.
DeviceEventPayload: TypeAlias = (
    SunriseEventPayload
    | AlarmFiredPayload
    | SunsetEventPayload
    | AlarmSnoozedPayload
    | AlarmDismissedPayload
    | ButtonPressPayload
)


class HeartbeatPayload(TypedDict):
    """The periodic ``heartbeat`` event: device uptime and wall clock."""

    uptime: float
    time: str
    #: As in :class:`InfoPayload` (within protocol 3).
    started_at: NotRequired[str]


class SetLightCommand(TypedDict, total=False):
    """``light.set``: at least one of ``on`` and ``brightness``.

    ``brightness`` 0 means off. ``transition`` (seconds) fades there on the device.
    """

    on: bool
    brightness: float
    transition: float
    #: One of the two (protocol 4); a colour alone turns the light on.
    color_temp_kelvin: float
    rgb_color: list[int]


class StartSunriseCommand(TypedDict):
    """``sunrise.start`` after validation (defaults filled in).

    ``start_brightness`` ``None`` means "from the current level".
    """

    duration: float
    target_brightness: float
    start_brightness: float | None
    curve: Curve
    #: Protocol 4; ``None`` kelvin: the path's default for the device.
    color_path: NotRequired[ColorPath]
    start_kelvin: NotRequired[float | None]
    target_kelvin: NotRequired[float | None]


class StartSunsetCommand(TypedDict):
    """``sunset.start`` after validation: ``start_brightness`` ``None`` is "from now"."""

    duration: float
    start_brightness: float | None
    curve: Curve


class SetWakeSettingsCommand(TypedDict, total=False):
    """``wake_settings.set``: at least one setting to change."""

    snooze_length: float
    snooze_level: float
    dismiss: DismissAction
    after_wake: float


class CreateAlarmCommand(TypedDict):
    """``alarm.create`` after validation (defaults filled in).

    ``id`` is optional: the device makes one up when it is missing, and refuses one
    that is taken with ``conflict``. Without a ``name`` the alarm is named by its wake
    time.
    """

    id: NotRequired[str]
    name: NotRequired[str]
    time: str
    weekdays: list[int]
    #: A one-off alarm's local date ``YYYY-MM-DD``; ``None``: weekly on ``weekdays``.
    date: str | None
    enabled: bool
    duration: float
    target_brightness: float
    curve: Curve
    color_path: NotRequired[ColorPath]
    start_kelvin: NotRequired[float | None]
    target_kelvin: NotRequired[float | None]


class UpdateAlarmCommand(TypedDict, total=False):
    """``alarm.update``: ``id`` and at least one field to change.

    ``name`` ``None`` takes the name away: the alarm is named by its wake time again.
    ``date`` and ``weekdays`` exclude each other: new weekdays make a one-off alarm
    weekly, a date makes a weekly one one-off.
    """

    id: str
    name: str | None
    time: str
    weekdays: list[int]
    #: A date makes the alarm one-off; ``None`` (or new ``weekdays``) makes it weekly.
    date: str | None
    enabled: bool
    duration: float
    target_brightness: float
    curve: Curve
    color_path: ColorPath
    start_kelvin: float | None
    target_kelvin: float | None


class AlarmIdCommand(TypedDict):
    """``alarm.get`` and ``alarm.delete``."""

    id: str


class SkipAlarmCommand(TypedDict):
    """``alarm.skip_next``: ``skip`` false cancels a skip."""

    id: str
    skip: bool


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


@dataclass(frozen=True, slots=True)
class _Number:
    """A validator for a finite real number in ``[low, high]`` (bool refused).

    An object whose check is a method run at validation time, not a closure made once at
    import: mutation testing (``scripts/mutate``) can switch only code that runs later.
    """

    low: float
    high: float

    def __call__(self, value: Any) -> float:
        """Return ``value`` as a float, or raise ``vol.Invalid`` saying what is allowed."""
        low, high = self.low, self.high
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise vol.Invalid(f"expected a number between {low:g} and {high:g}")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond the float range (JSON allows those)
            number = math.inf
        if not math.isfinite(number) or not low <= number <= high:
            raise vol.Invalid(f"must be between {low:g} and {high:g}")
        return number


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


def clamp_duration(
    seconds: float, low: float = SUNRISE_DURATION_MIN, high: float = SUNRISE_DURATION_MAX
) -> float:
    """``seconds`` moved into ``[low, high]`` (by default a sunrise's limits)."""
    return min(max(float(seconds), low), high)


def minutes_to_seconds(
    minutes: float, low: float = SUNRISE_DURATION_MIN, high: float = SUNRISE_DURATION_MAX
) -> float:
    """A duration in minutes as seconds, clamped to ``[low, high]`` seconds.

    The default bounds are a sunrise's; pass :data:`ALARM_DURATION_MIN` and
    :data:`ALARM_DURATION_MAX` for an alarm's.
    """
    return clamp_duration(60.0 * minutes, low, high)


def seconds_to_minutes(seconds: float) -> int:
    """A duration in seconds as whole minutes, clamped to the minutes clients show."""
    return min(max(round(seconds / 60), SUNRISE_MINUTES_MIN), SUNRISE_MINUTES_MAX)


def _color_path(value: Any) -> ColorPath:
    """Accept one of :data:`COLOR_PATHS`."""
    for path in COLOR_PATHS:
        if value == path and isinstance(value, str):
            return path
    raise vol.Invalid(f"must be one of {', '.join(COLOR_PATHS)}")


_KELVIN: Final = _Number(COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX)


def _kelvin_or_none(value: Any) -> float | None:
    """Accept ``None`` (the default) or a colour temperature."""
    return None if value is None else _KELVIN(value)


def _rgb(value: Any) -> list[int]:
    """Accept ``[r, g, b]``: three whole numbers 0-255, not all 0."""
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(type(c) is int and 0 <= c <= 255 for c in value)
    ):
        raise vol.Invalid("expected [red, green, blue], three whole numbers from 0 to 255")
    if not any(value):
        raise vol.Invalid("black is no colour: use brightness 0 to turn the light off")
    return list(value)


def _needs_on_or_brightness(value: dict[str, Any]) -> dict[str, Any]:
    if not value.keys() & {"on", "brightness", "color_temp_kelvin", "rgb_color"}:
        raise vol.Invalid("give 'on', 'brightness', 'color_temp_kelvin' or 'rgb_color'")
    if "color_temp_kelvin" in value and "rgb_color" in value:
        raise vol.Invalid("give 'color_temp_kelvin' or 'rgb_color', not both")
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
            vol.Optional("brightness"): _Number(BRIGHTNESS_MIN, BRIGHTNESS_MAX),
            vol.Optional("transition"): _Number(0, TRANSITION_MAX),
            vol.Optional("color_temp_kelvin"): _KELVIN,
            vol.Optional("rgb_color"): _rgb,
        }
    ),
    _needs_on_or_brightness,
)

START_SUNRISE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("duration", default=DEFAULT_SUNRISE_DURATION): _Number(
            SUNRISE_DURATION_MIN, SUNRISE_DURATION_MAX
        ),
        vol.Optional("target_brightness", default=DEFAULT_TARGET_BRIGHTNESS): _Number(
            1, BRIGHTNESS_MAX
        ),
        vol.Optional("start_brightness", default=None): vol.Any(
            None,
            _Number(BRIGHTNESS_MIN, BRIGHTNESS_MAX),
            msg=f"expected null or a number between {BRIGHTNESS_MIN} and {BRIGHTNESS_MAX}",
        ),
        vol.Optional("curve", default=DEFAULT_CURVE): _curve,
        # Protocol 4; left out: the ``sunrise`` path with the device's temperatures.
        vol.Optional("color_path"): _color_path,
        vol.Optional("start_kelvin"): _kelvin_or_none,
        vol.Optional("target_kelvin"): _kelvin_or_none,
    }
)

START_SUNSET_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("duration", default=DEFAULT_SUNSET_DURATION): _Number(
            SUNSET_DURATION_MIN, SUNSET_DURATION_MAX
        ),
        vol.Optional("start_brightness", default=None): vol.Any(
            None,
            _Number(1, BRIGHTNESS_MAX),
            msg=f"expected null or a number between 1 and {BRIGHTNESS_MAX}",
        ),
        vol.Optional("curve", default="linear"): _curve,
    }
)


def _dismiss_action(value: Any) -> DismissAction:
    """Accept one of :data:`DISMISS_ACTIONS`."""
    for action in DISMISS_ACTIONS:
        if value == action and isinstance(value, str):
            return action
    raise vol.Invalid(f"must be one of {', '.join(DISMISS_ACTIONS)}")


_WAKE_SETTINGS: Final[dict[str, Callable[[Any], Any]]] = {
    "snooze_length": _Number(SNOOZE_LENGTH_MIN, SNOOZE_LENGTH_MAX),
    "snooze_level": _Number(BRIGHTNESS_MIN, BRIGHTNESS_MAX),
    "dismiss": _dismiss_action,
    "after_wake": _Number(0, AFTER_WAKE_MAX),
}
#: The wake settings of a new device.
WAKE_SETTINGS_DEFAULTS: Final[WakeSettingsPayload] = {
    "snooze_length": DEFAULT_SNOOZE_LENGTH,
    "snooze_level": 0.0,
    "dismiss": "keep",
    "after_wake": DEFAULT_AFTER_WAKE,
}


def _needs_a_setting(value: dict[str, Any]) -> dict[str, Any]:
    if not value:
        raise vol.Invalid(f"give at least one of {', '.join(_WAKE_SETTINGS)}")
    return value


SET_WAKE_SETTINGS_SCHEMA: Final = vol.All(
    vol.Schema({vol.Optional(key): check for key, check in _WAKE_SETTINGS.items()}),
    _needs_a_setting,
)

_ALARM_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def _alarm_id(value: Any) -> str:
    """Accept an alarm id: a string of 1 to ALARM_ID_MAX_LENGTH characters."""
    if isinstance(value, str) and 1 <= len(value) <= ALARM_ID_MAX_LENGTH:
        return value
    raise vol.Invalid(f"expected an alarm id (a string of 1 to {ALARM_ID_MAX_LENGTH} characters)")


_NEW_ALARM_ID = re.compile(ALARM_ID_PATTERN)


def _new_alarm_id(value: Any) -> str:
    """Accept an id for a new alarm: 1-64 letters, digits, ``_`` or ``-``."""
    if isinstance(value, str) and _NEW_ALARM_ID.fullmatch(value):
        return value
    raise vol.Invalid("expected an alarm id of 1 to 64 letters, digits, '_' or '-'")


def _alarm_name(value: Any) -> str:
    """Accept an alarm name: 1-40 characters, no control characters; spaces trimmed."""
    if isinstance(value, str):
        name = value.strip()
        if ALARM_NAME_MIN_LENGTH <= len(name) <= ALARM_NAME_MAX_LENGTH and name.isprintable():
            return name
    raise vol.Invalid(
        f"expected a name of {ALARM_NAME_MIN_LENGTH} to {ALARM_NAME_MAX_LENGTH} characters"
        " (no line breaks or control characters)"
    )


def _alarm_name_or_none(value: Any) -> str | None:
    """Accept an alarm name, or ``None`` for "named by the wake time"."""
    return None if value is None else _alarm_name(value)


def _alarm_time(value: Any) -> str:
    """Accept a 24-hour ``HH:MM`` (or ``H:MM``) wake time; return it as ``HH:MM``."""
    match = _ALARM_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is not None and int(match[1]) < 24 and int(match[2]) < 60:
        return f"{int(match[1]):02d}:{match[2]}"
    raise vol.Invalid("expected a time of day as HH:MM (24-hour clock)")


def _weekdays(value: Any) -> list[int]:
    """Accept a non-empty list of distinct weekdays 0-6 (Monday-Sunday); return it sorted."""
    if not isinstance(value, list) or not value:
        raise vol.Invalid("expected a non-empty list of weekdays, 0 (Monday) to 6 (Sunday)")
    for day in value:
        if isinstance(day, bool) or not isinstance(day, int) or day not in WEEKDAYS:
            raise vol.Invalid("weekdays are whole numbers from 0 (Monday) to 6 (Sunday)")
    if len(set(value)) != len(value):
        raise vol.Invalid("a weekday is listed twice")
    return sorted(value)


_ALARM_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _alarm_date(value: Any) -> str:
    """Accept a calendar date ``YYYY-MM-DD`` (years 2000-2199)."""
    if isinstance(value, str) and _ALARM_DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise vol.Invalid(f"{value} is not a date of the calendar") from None
        if TIMESTAMP_YEAR_MIN <= day.year <= TIMESTAMP_YEAR_MAX:
            return value
    raise vol.Invalid("expected a date as YYYY-MM-DD (years 2000-2199)")


def _alarm_date_or_none(value: Any) -> str | None:
    """Accept a date, or ``None`` for "weekly"."""
    return None if value is None else _alarm_date(value)


def _date_or_weekdays(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse both a ``date`` and ``weekdays``: an alarm is one-off or weekly."""
    if value.get("date") is not None and "weekdays" in value:
        raise vol.Invalid("give a date (one-off alarm) or weekdays (weekly alarm), not both")
    return value


def _create_defaults(value: dict[str, Any]) -> dict[str, Any]:
    """Fill in what ``alarm.create`` leaves out: weekly on every day, no date."""
    value.setdefault("date", None)
    if "weekdays" not in value:
        value["weekdays"] = (
            list(WEEKDAYS)
            if value["date"] is None
            else [date.fromisoformat(value["date"]).weekday()]
        )
    return value


_ALARM_FIELDS: Final[dict[str, Callable[[Any], Any]]] = {
    "time": _alarm_time,
    "weekdays": _weekdays,
    "enabled": _strict_bool,
    "duration": _Number(ALARM_DURATION_MIN, ALARM_DURATION_MAX),
    "target_brightness": _Number(1, BRIGHTNESS_MAX),
    "curve": _curve,
}
#: An alarm's colour settings (protocol 4).
_ALARM_COLOUR_FIELDS: Final[dict[str, Callable[[Any], Any]]] = {
    "color_path": _color_path,
    "start_kelvin": _kelvin_or_none,
    "target_kelvin": _kelvin_or_none,
}


def _needs_a_change(value: dict[str, Any]) -> dict[str, Any]:
    if value.keys() <= {"id"}:
        raise vol.Invalid(
            f"give at least one of {', '.join([*_ALARM_FIELDS, *_ALARM_COLOUR_FIELDS])}, date, name"
        )
    return value


CREATE_ALARM_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Optional("id"): _new_alarm_id,
            vol.Optional("name"): _alarm_name,
            vol.Required("time"): _alarm_time,
            vol.Optional("weekdays"): _weekdays,
            vol.Optional("date"): _alarm_date_or_none,
            vol.Optional("enabled", default=True): _strict_bool,
            vol.Optional("duration", default=DEFAULT_SUNRISE_DURATION): _ALARM_FIELDS["duration"],
            vol.Optional("target_brightness", default=DEFAULT_TARGET_BRIGHTNESS): _ALARM_FIELDS[
                "target_brightness"
            ],
            vol.Optional("curve", default=DEFAULT_CURVE): _curve,
            # Protocol 4; left out: the ``sunrise`` path with the device's temperatures.
            vol.Optional("color_path"): _color_path,
            vol.Optional("start_kelvin"): _kelvin_or_none,
            vol.Optional("target_kelvin"): _kelvin_or_none,
        }
    ),
    _date_or_weekdays,
    _create_defaults,
)

_UPDATE_ALARM_FIELDS: Final[dict[vol.Marker, Callable[[Any], Any]]] = {
    vol.Required("id"): _alarm_id,
    vol.Optional("name"): _alarm_name_or_none,
    vol.Optional("date"): _alarm_date_or_none,
    **{vol.Optional(key): check for key, check in _ALARM_FIELDS.items()},
    **{vol.Optional(key): check for key, check in _ALARM_COLOUR_FIELDS.items()},
}

UPDATE_ALARM_SCHEMA: Final = vol.All(
    vol.Schema(_UPDATE_ALARM_FIELDS), _needs_a_change, _date_or_weekdays
)

ALARM_ID_SCHEMA: Final = vol.Schema({vol.Required("id"): _alarm_id})

SKIP_ALARM_SCHEMA: Final = vol.Schema(
    {vol.Required("id"): _alarm_id, vol.Optional("skip", default=True): _strict_bool}
)

#: Every command event and the schema of its payload.
COMMANDS: Final[Mapping[str, Callable[[Any], Any]]] = {
    EVENT_SET_LIGHT: SET_LIGHT_SCHEMA,
    EVENT_START_SUNRISE: START_SUNRISE_SCHEMA,
    EVENT_STOP_SUNRISE: _empty,
    EVENT_GET_STATE: _empty,
    EVENT_GET_INFO: _empty,
    EVENT_GET_DEVICE: _empty,
    EVENT_LIST_ALARMS: _empty,
    EVENT_GET_ALARM: ALARM_ID_SCHEMA,
    EVENT_CREATE_ALARM: CREATE_ALARM_SCHEMA,
    EVENT_UPDATE_ALARM: UPDATE_ALARM_SCHEMA,
    EVENT_DELETE_ALARM: ALARM_ID_SCHEMA,
    EVENT_SKIP_ALARM: SKIP_ALARM_SCHEMA,
    EVENT_START_SUNSET: START_SUNSET_SCHEMA,
    EVENT_STOP_SUNSET: _empty,
    EVENT_SNOOZE_ALARM: _empty,
    EVENT_DISMISS_ALARM: _empty,
    EVENT_SET_WAKE_SETTINGS: SET_WAKE_SETTINGS_SCHEMA,
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


# -- what the device sends ---------------------------------------------------------------
#
# Clients check every push and every ack against the schemas below before they use it:
# a message that fails is dropped whole. Unknown keys are dropped too (a newer device may
# add some), so a validated payload holds the documented fields only.

#: Timestamps the device sends carry a UTC offset and fall in these years.
TIMESTAMP_YEAR_MIN: Final = 2000
TIMESTAMP_YEAR_MAX: Final = 2199
#: Longest timestamp string (ISO 8601 with microseconds and offset is 32 characters).
TIMESTAMP_MAX_LENGTH: Final = 40
#: Longest text the device sends in ``info`` (name, model, versions, output, time zone).
INFO_TEXT_MAX_LENGTH: Final = 256
#: Longest device id (a device makes 12 hex digits).
DEVICE_ID_MAX_LENGTH: Final = 64
#: Error messages in acks are cut to this length (the device quotes the payload).
ERROR_MESSAGE_MAX_LENGTH: Final = 512
ERROR_CODE_MAX_LENGTH: Final = 64
#: Largest ``uptime`` (seconds) a device may report: a century.
UPTIME_MAX: Final = 100 * 366 * 86400.0
#: Largest ``protocol_version`` a device may report (a newer one than ours is fine).
PROTOCOL_VERSION_MAX: Final = 9999


def _integer(low: int, high: int) -> Callable[[Any], int]:
    """Return a validator for a whole number in ``[low, high]`` (bool and float refused)."""

    def validate(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise vol.Invalid(f"expected a whole number between {low} and {high}")
        return value

    return validate


def _text(max_length: int, min_length: int = 0) -> Callable[[Any], str]:
    """Return a validator for a string of ``min_length`` to ``max_length`` characters."""

    def validate(value: Any) -> str:
        if not isinstance(value, str) or not min_length <= len(value) <= max_length:
            raise vol.Invalid(f"expected a string of {min_length} to {max_length} characters")
        return value

    return validate


def _timestamp(value: Any) -> str:
    """Accept an ISO 8601 time with a UTC offset in a sane year; return it unchanged."""
    if isinstance(value, str) and len(value) <= TIMESTAMP_MAX_LENGTH:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.utcoffset() is None:
                raise vol.Invalid("expected a time with its UTC offset")
            if not TIMESTAMP_YEAR_MIN <= moment.year <= TIMESTAMP_YEAR_MAX:
                raise vol.Invalid(
                    f"expected a year from {TIMESTAMP_YEAR_MIN} to {TIMESTAMP_YEAR_MAX}"
                )
            return value
    raise vol.Invalid("expected an ISO 8601 time")


def _rgb_shown(value: Any) -> list[int]:
    """Accept the ``[r, g, b]`` a device shows (three whole numbers 0-255)."""
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(type(c) is int and 0 <= c <= 255 for c in value)
    ):
        raise vol.Invalid("expected [red, green, blue], three whole numbers from 0 to 255")
    return list(value)


def _channel_names(value: Any) -> list[str]:
    """Accept the channel names of a known layout, in driving order."""
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= 4
        or not all(isinstance(name, str) and 1 <= len(name) <= 16 for name in value)
    ):
        raise vol.Invalid("expected a list of 1 to 4 channel names")
    return list(value)


def _channel_layout(value: Any) -> ChannelLayout:
    for layout in CHANNEL_LAYOUTS:
        if value == layout and isinstance(value, str):
            return layout
    raise vol.Invalid(f"must be one of {', '.join(CHANNEL_LAYOUTS)}")


def _or_none(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Return a validator that accepts ``None`` or what ``validator`` accepts."""

    def validate(value: Any) -> Any:
        return None if value is None else validator(value)

    return validate


def _device_object(fields: dict[vol.Marker, Callable[[Any], Any]]) -> vol.Schema:
    """A schema for an object the device sends: unknown keys are dropped."""
    return vol.Schema(fields, extra=vol.REMOVE_EXTRA)


_BRIGHTNESS: Final = _Number(BRIGHTNESS_MIN, BRIGHTNESS_MAX)

SUNRISE_STATE_SCHEMA: Final = _device_object(
    {
        vol.Optional("active", default=True): _strict_bool,
        vol.Required("started_at"): _timestamp,
        vol.Required("ends_at"): _timestamp,
        vol.Required("duration"): _Number(SUNRISE_DURATION_MIN, SUNRISE_DURATION_MAX),
        vol.Required("start_brightness"): _BRIGHTNESS,
        vol.Required("target_brightness"): _BRIGHTNESS,
        vol.Required("progress"): _Number(0, 1),
        vol.Required("curve"): _curve,
        vol.Optional("alarm_id", default=None): _or_none(_new_alarm_id),
        vol.Optional("color_path"): _color_path,
        vol.Optional("start_kelvin"): _or_none(
            _integer(COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX)
        ),
        vol.Optional("target_kelvin"): _or_none(
            _integer(COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX)
        ),
    }
)

TRANSITION_STATE_SCHEMA: Final = _device_object(
    {vol.Required("target_brightness"): _BRIGHTNESS, vol.Required("ends_at"): _timestamp}
)

ALARM_SUNRISE_SCHEMA: Final = _device_object(
    {vol.Required("starts_at"): _timestamp, vol.Required("wake_at"): _timestamp}
)

NEXT_SUNRISE_SCHEMA: Final = _device_object(
    {
        vol.Required("alarm_id"): _new_alarm_id,
        vol.Required("starts_at"): _timestamp,
        vol.Required("wake_at"): _timestamp,
    }
)

SUNSET_STATE_SCHEMA: Final = _device_object(
    {
        vol.Required("started_at"): _timestamp,
        vol.Required("ends_at"): _timestamp,
        vol.Required("duration"): _Number(SUNSET_DURATION_MIN, SUNSET_DURATION_MAX),
        vol.Required("start_brightness"): _BRIGHTNESS,
        vol.Required("progress"): _Number(0, 1),
        vol.Required("curve"): _curve,
    }
)

#: A century of snoozes is more than any alarm gets.
_SNOOZES_MAX: Final = 100_000

ALARM_STATE_SCHEMA: Final = _device_object(
    {
        vol.Required("alarm_id"): _new_alarm_id,
        vol.Required("wake_at"): _timestamp,
        vol.Required("ends_at"): _timestamp,
        vol.Required("snoozed_until"): _or_none(_timestamp),
        vol.Required("snoozes"): _integer(0, _SNOOZES_MAX),
    }
)

WAKE_SETTINGS_SCHEMA: Final = _device_object(
    {vol.Required(key): check for key, check in _WAKE_SETTINGS.items()}
)

#: :class:`StatePayload`, in ``state`` pushes and in acks.
STATE_SCHEMA: Final = _device_object(
    {
        vol.Required("on"): _strict_bool,
        vol.Required("brightness"): _integer(BRIGHTNESS_MIN, BRIGHTNESS_MAX),
        vol.Required("level"): _BRIGHTNESS,
        vol.Optional("sunrise", default=None): _or_none(SUNRISE_STATE_SCHEMA),
        vol.Optional("transition", default=None): _or_none(TRANSITION_STATE_SCHEMA),
        vol.Optional("next_sunrise", default=None): _or_none(NEXT_SUNRISE_SCHEMA),
        vol.Optional("storage_error", default=None): _or_none(_text(ERROR_MESSAGE_MAX_LENGTH)),
        vol.Optional("color_temp_kelvin"): _or_none(
            _integer(COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX)
        ),
        vol.Optional("rgb_color"): _rgb_shown,
        vol.Optional("sunset", default=None): _or_none(SUNSET_STATE_SCHEMA),
        vol.Optional("alarm", default=None): _or_none(ALARM_STATE_SCHEMA),
        # A device before protocol 4 has the defaults (and no snooze).
        vol.Optional("wake_settings", default=lambda: dict(WAKE_SETTINGS_DEFAULTS)): (
            WAKE_SETTINGS_SCHEMA
        ),
    }
)


def _without_unset(info: dict[str, Any]) -> dict[str, Any]:
    """Drop a ``timezone`` of ``""`` (a device without alarms) and an ``uptime`` of ``None``."""
    if not info.get("timezone"):
        info.pop("timezone", None)
    if info.get("uptime") is None:
        info.pop("uptime", None)
    return info


#: :class:`InfoPayload`, without a ``timezone`` or ``uptime`` the device left unset.
INFO_SCHEMA: Final = vol.All(
    _device_object(
        {
            vol.Required("device_id"): _text(DEVICE_ID_MAX_LENGTH, 1),
            vol.Required("name"): _text(INFO_TEXT_MAX_LENGTH),
            vol.Required("model"): _text(INFO_TEXT_MAX_LENGTH),
            vol.Required("sw_version"): _text(INFO_TEXT_MAX_LENGTH),
            vol.Required("protocol_version"): _integer(1, PROTOCOL_VERSION_MAX),
            vol.Optional("output", default=""): _text(INFO_TEXT_MAX_LENGTH),
            vol.Optional("timezone"): _or_none(_text(INFO_TEXT_MAX_LENGTH)),
            vol.Optional("uptime"): _or_none(_Number(0, UPTIME_MAX)),
            vol.Optional("started_at"): _timestamp,
            vol.Optional("storage_error", default=None): _or_none(_text(ERROR_MESSAGE_MAX_LENGTH)),
            vol.Optional("channels"): _device_object(
                {
                    vol.Required("layout"): _channel_layout,
                    vol.Required("names"): _channel_names,
                    vol.Required("min_color_temp_kelvin"): _integer(
                        COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX
                    ),
                    vol.Required("max_color_temp_kelvin"): _integer(
                        COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX
                    ),
                }
            ),
            vol.Optional("button", default=False): _strict_bool,
        }
    ),
    _without_unset,
)


def _named(alarm: dict[str, Any]) -> dict[str, Any]:
    """Name an alarm a device reports without a name (an older one) by its wake time."""
    alarm.setdefault("name", alarm["time"])
    return alarm


#: :class:`AlarmPayload`: the device's alarms use the ids ``alarm.create`` accepts; one
#: without a ``name`` is named by its wake time.
ALARM_SCHEMA: Final = vol.All(
    _device_object(
        {
            vol.Required("id"): _new_alarm_id,
            vol.Optional("name"): _text(ALARM_NAME_REPORTED_MAX_LENGTH, 1),
            **{vol.Required(key): check for key, check in _ALARM_FIELDS.items()},
            # What a device reports may predate today's command limits (see above).
            vol.Required("duration"): _Number(0, ALARM_DURATION_REPORTED_MAX),
            # Devices before protocol 4 have weekly alarms only.
            vol.Optional("date", default=None): _alarm_date_or_none,
            vol.Optional("skip_next", default=False): _strict_bool,
            vol.Optional("next_sunrise", default=None): _or_none(ALARM_SUNRISE_SCHEMA),
            # Protocol 4 (older devices leave them out; so does the validated alarm).
            vol.Optional("color_path"): _color_path,
            vol.Optional("start_kelvin"): _or_none(
                _integer(COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX)
            ),
            vol.Optional("target_kelvin"): _or_none(
                _integer(COLOR_TEMP_KELVIN_MIN, COLOR_TEMP_KELVIN_MAX)
            ),
        }
    ),
    _named,
)


def _alarm_list(value: Any) -> list[dict[str, Any]]:
    """Accept at most :data:`MAX_ALARMS` valid alarms with distinct ids."""
    if not isinstance(value, list):
        raise vol.Invalid("expected a list of alarms")
    if len(value) > MAX_ALARMS:
        raise vol.Invalid(f"{len(value)} alarms, more than the {MAX_ALARMS} allowed")
    alarms: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        try:
            alarms.append(ALARM_SCHEMA(item))
        except vol.Invalid as err:
            err.prepend([index])
            raise
    if len({alarm["id"] for alarm in alarms}) != len(alarms):
        raise vol.Invalid("two alarms have the same id")
    return alarms


#: :class:`AlarmsPayload`, the ``alarms`` push.
ALARMS_SCHEMA: Final = _device_object({vol.Required("alarms"): _alarm_list})

#: :class:`HeartbeatPayload`.
HEARTBEAT_SCHEMA: Final = _device_object(
    {
        vol.Required("uptime"): _Number(0, UPTIME_MAX),
        vol.Required("time"): _timestamp,
        vol.Optional("started_at"): _timestamp,
    }
)

#: :class:`SunriseEventPayload`.
SUNRISE_EVENT_SCHEMA: Final = _device_object(
    {
        vol.Required("time"): _timestamp,
        vol.Required("alarm_id"): _or_none(_new_alarm_id),
        vol.Required("target_brightness"): _BRIGHTNESS,
        vol.Required("duration"): _Number(SUNRISE_DURATION_MIN, SUNRISE_DURATION_MAX),
    }
)

#: :class:`AlarmFiredPayload`.
ALARM_FIRED_SCHEMA: Final = _device_object(
    {
        vol.Required("time"): _timestamp,
        vol.Required("alarm_id"): _new_alarm_id,
        vol.Required("wake_at"): _timestamp,
        vol.Required("sunrise"): _strict_bool,
    }
)

#: :class:`SunsetEventPayload`.
SUNSET_EVENT_SCHEMA: Final = _device_object(
    {
        vol.Required("time"): _timestamp,
        vol.Required("start_brightness"): _BRIGHTNESS,
        vol.Required("duration"): _Number(SUNSET_DURATION_MIN, SUNSET_DURATION_MAX),
    }
)

#: :class:`AlarmSnoozedPayload`.
ALARM_SNOOZED_SCHEMA: Final = _device_object(
    {
        vol.Required("time"): _timestamp,
        vol.Required("alarm_id"): _new_alarm_id,
        vol.Required("until"): _timestamp,
        vol.Required("wake_at"): _timestamp,
        vol.Required("snoozes"): _integer(1, _SNOOZES_MAX),
    }
)

#: :class:`AlarmDismissedPayload`.
ALARM_DISMISSED_SCHEMA: Final = _device_object(
    {
        vol.Required("time"): _timestamp,
        vol.Required("alarm_id"): _new_alarm_id,
        vol.Required("dismiss"): _dismiss_action,
    }
)


def _button_press(value: Any) -> ButtonPress:
    """Accept one of :data:`BUTTON_PRESSES`."""
    for press in BUTTON_PRESSES:
        if value == press and isinstance(value, str):
            return press
    raise vol.Invalid(f"must be one of {', '.join(BUTTON_PRESSES)}")


#: :class:`ButtonPressPayload`.
BUTTON_PRESS_SCHEMA: Final = _device_object(
    {
        vol.Required("time"): _timestamp,
        vol.Required("press"): _button_press,
        vol.Optional("multi_press_count"): _integer(2, 100),
    }
)

#: Every event the device pushes and the schema of its payload.
PUSHES: Final[Mapping[str, Callable[[Any], Any]]] = {
    EVENT_STATE: STATE_SCHEMA,
    EVENT_ALARMS: ALARMS_SCHEMA,
    EVENT_HEARTBEAT: HEARTBEAT_SCHEMA,
    EVENT_SUNRISE_STARTED: SUNRISE_EVENT_SCHEMA,
    EVENT_SUNRISE_FINISHED: SUNRISE_EVENT_SCHEMA,
    EVENT_SUNRISE_CANCELLED: SUNRISE_EVENT_SCHEMA,
    EVENT_ALARM_FIRED: ALARM_FIRED_SCHEMA,
    EVENT_SUNSET_STARTED: SUNSET_EVENT_SCHEMA,
    EVENT_SUNSET_FINISHED: SUNSET_EVENT_SCHEMA,
    EVENT_SUNSET_CANCELLED: SUNSET_EVENT_SCHEMA,
    EVENT_ALARM_SNOOZED: ALARM_SNOOZED_SCHEMA,
    EVENT_ALARM_DISMISSED: ALARM_DISMISSED_SCHEMA,
    EVENT_BUTTON_PRESS: BUTTON_PRESS_SCHEMA,
}

#: What a successful ack carries (besides ``ok``), per command.
ACK_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    EVENT_SET_LIGHT: ("state",),
    EVENT_START_SUNRISE: ("state",),
    EVENT_STOP_SUNRISE: ("state",),
    EVENT_GET_STATE: ("state",),
    EVENT_GET_INFO: ("info",),
    EVENT_GET_DEVICE: ("info", "state", "alarms"),
    EVENT_LIST_ALARMS: ("alarms", "state"),
    EVENT_GET_ALARM: ("alarm", "alarms", "state"),
    EVENT_CREATE_ALARM: ("alarm", "alarms", "state"),
    EVENT_UPDATE_ALARM: ("alarm", "alarms", "state"),
    EVENT_DELETE_ALARM: ("alarms", "state"),
    EVENT_SKIP_ALARM: ("alarm", "alarms", "state"),
    EVENT_START_SUNSET: ("state",),
    EVENT_STOP_SUNSET: ("state",),
    EVENT_SNOOZE_ALARM: ("state",),
    EVENT_DISMISS_ALARM: ("state",),
    EVENT_SET_WAKE_SETTINGS: ("state",),
}

_ACK_FIELD_SCHEMAS: Final[Mapping[str, Callable[[Any], Any]]] = {
    "state": STATE_SCHEMA,
    "info": INFO_SCHEMA,
    "alarms": _alarm_list,
    "alarm": ALARM_SCHEMA,
}


def _reason(err: vol.Invalid) -> str:
    """What was wrong, in words: ``path: message`` (never the offending value)."""
    if isinstance(err, vol.MultipleInvalid):
        err = err.errors[0]
    where = ".".join(str(part) for part in err.path)
    return f"{where}: {err.error_message}" if where else err.error_message


def _validated(schema: Callable[[Any], Any], payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ProtocolError("invalid_payload", "expected a JSON object")
    try:
        return dict(schema(payload))
    except vol.Invalid as err:
        raise ProtocolError("invalid_payload", _reason(err)) from None


def validate_push(event: str, payload: Any) -> dict[str, Any]:
    """Validate a pushed event's payload; return it with only the documented fields.

    Raises :class:`ProtocolError` (``unknown_event`` or ``invalid_payload``; the message
    says what was wrong, without quoting the payload).
    """
    schema = PUSHES.get(event)
    if schema is None:
        raise ProtocolError("unknown_event", f"unknown event {event[:64]!r}")
    return _validated(schema, payload)


def validate_info(payload: Any) -> dict[str, Any]:
    """Validate an :class:`InfoPayload` (see :func:`validate_push`)."""
    return _validated(INFO_SCHEMA, payload)


def validate_alarm(payload: Any) -> dict[str, Any]:
    """Validate one :class:`AlarmPayload` (see :func:`validate_push`)."""
    return _validated(ALARM_SCHEMA, payload)


def _error_info(error: Any) -> dict[str, str]:
    """The ``error`` of a failed ack, bounded; code ``unknown`` when it gives none."""
    code, message = "unknown", ""
    if isinstance(error, dict):
        if isinstance(error.get("code"), str) and 0 < len(error["code"]) <= ERROR_CODE_MAX_LENGTH:
            code = error["code"]
        if isinstance(error.get("message"), str):
            message = error["message"][:ERROR_MESSAGE_MAX_LENGTH]
    return {"code": code, "message": message}


def validate_ack(event: str, ack: Any) -> dict[str, Any]:
    """Validate the ack of command ``event``.

    A failed ack comes back as ``{"ok": False, "error": {"code", "message"}}`` (code
    ``unknown`` when the device gave none; the message cut to
    :data:`ERROR_MESSAGE_MAX_LENGTH`). A successful one must carry the fields of
    :data:`ACK_FIELDS`, each valid, and an ``alarm`` among its ``alarms``; it comes back
    with those fields only. Raises :class:`ProtocolError` (``invalid_payload``) otherwise.
    """
    if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
        raise ProtocolError("invalid_payload", "expected an object with ok true or false")
    if not ack["ok"]:
        return {"ok": False, "error": _error_info(ack.get("error"))}
    result: dict[str, Any] = {"ok": True}
    for key in ACK_FIELDS.get(event, ()):
        if key not in ack:
            raise ProtocolError("invalid_payload", f"{key}: missing")
        try:
            result[key] = _ACK_FIELD_SCHEMAS[key](ack[key])
        except vol.Invalid as err:
            err.prepend([key])
            raise ProtocolError("invalid_payload", _reason(err)) from None
    if "alarm" in result and result["alarm"] not in result["alarms"]:
        raise ProtocolError("invalid_payload", "alarm: not among the alarms")
    return result


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
