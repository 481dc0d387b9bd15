"""Async client for a Daybreak device, with no Home Assistant import.

Like python-wled for WLED, this module owns the wire: it speaks the protocol in
:mod:`.protocol` over python-socketio, turns payloads into typed models and device
errors into a small exception tree. Home Assistant injects its aiohttp session.

Nothing the device sends is trusted: every push and every ack is checked against the
protocol's schemas first. An invalid message is dropped whole (the last good state
stays), counted in :attr:`DaybreakClient.dropped` and logged at most once a minute per
kind of message.

Usage::

    async with DaybreakClient("192.168.1.20", 8080, token, session=session) as client:
        client.on_state(print)
        await client.set_light(brightness=128, transition=2)
        await client.run()  # keeps the connection up, reconnecting with backoff
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from functools import partial
from time import perf_counter
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

import aiohttp
import socketio

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from .protocol import (
    DEVICE_EVENTS,
    EVENT_ALARMS,
    EVENT_CREATE_ALARM,
    EVENT_DELETE_ALARM,
    EVENT_DISMISS_ALARM,
    EVENT_GET_DEVICE,
    EVENT_GET_INFO,
    EVENT_GET_STATE,
    EVENT_HEARTBEAT,
    EVENT_LIST_ALARMS,
    EVENT_SET_LIGHT,
    EVENT_SET_WAKE_SETTINGS,
    EVENT_SKIP_ALARM,
    EVENT_SNOOZE_ALARM,
    EVENT_START_SUNRISE,
    EVENT_START_SUNSET,
    EVENT_STATE,
    EVENT_STOP_SUNRISE,
    EVENT_STOP_SUNSET,
    EVENT_UPDATE_ALARM,
    PROTOCOL_VERSION,
    WAKE_SETTINGS_DEFAULTS,
    ColorPath,
    Curve,
    DismissAction,
    ProtocolError,
    validate_ack,
    validate_alarm,
    validate_command,
    validate_info,
    validate_push,
)

__all__ = [
    "Alarm",
    "AlarmInProgress",
    "AlarmSunrise",
    "Channels",
    "DaybreakAuthenticationError",
    "DaybreakClient",
    "DaybreakCommandError",
    "DaybreakConnectionError",
    "DaybreakDevice",
    "DaybreakError",
    "DaybreakEvent",
    "DaybreakProtocolError",
    "DaybreakState",
    "DaybreakTimeoutError",
    "DeviceInfo",
    "DroppedMessages",
    "NextSunrise",
    "Sunrise",
    "Sunset",
    "Transition",
    "WakeSettings",
]

_LOGGER = logging.getLogger(__name__)
#: ``datetime.date``, for the models whose field ``date`` hides the name.
type _Date = date

# Module constants (not arguments only) so tests can shorten them.
#: Seconds to wait for the device: for the answer to a command, and to open a connection.
REQUEST_TIMEOUT = 5.0
#: The first and the longest wait between reconnect attempts (the wait doubles, ±20 %).
RECONNECT_MIN = 1.0
RECONNECT_MAX = 60.0
#: The wait starts over from RECONNECT_MIN only after a connection stayed up this long:
#: a device that accepts and drops at once is tried less and less often.
HEALTHY_AFTER = 60.0
#: Nothing heard from the device (no push, heartbeat or answer) for this long: ask it
#: (``state.get``); no answer within REQUEST_TIMEOUT drops the connection. So a silent
#: device is noticed within SILENCE_LIMIT + REQUEST_TIMEOUT, whatever Engine.IO ping
#: interval it announced (a device announcing an hour would otherwise go unnoticed).
SILENCE_LIMIT = 20.0
#: At most one log line per kind of dropped message in this many seconds.
REPORT_INTERVAL = 60.0
#: Longest excerpt of a reason or a library's log value that goes into the log.
EXCERPT_LENGTH = 200


class DaybreakError(Exception):
    """Base class of every error this client raises."""


class DaybreakConnectionError(DaybreakError):
    """The device cannot be reached, or the connection broke or timed out."""


class DaybreakTimeoutError(DaybreakConnectionError):
    """The device did not answer a command in time (the connection may be fine)."""


class DaybreakAuthenticationError(DaybreakError):
    """The device refused the token."""


class DaybreakProtocolError(DaybreakError):
    """The device sent something the protocol does not allow (it was dropped)."""


class DaybreakCommandError(DaybreakError):
    """The device (or the protocol check before sending) refused a command."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the protocol error ``code`` and the device's ``message``."""
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _excerpt(value: Any) -> str:
    """``value`` as text of at most :data:`EXCERPT_LENGTH` characters."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= EXCERPT_LENGTH:
        return text
    return f"{text[:EXCERPT_LENGTH]}… ({len(text)} characters)"


def _checked(what: str, validate: Callable[[Any], dict[str, Any]], data: Any) -> dict[str, Any]:
    """``validate(data)``; a :class:`ProtocolError` becomes :class:`DaybreakProtocolError`."""
    try:
        return validate(data)
    except ProtocolError as err:
        raise DaybreakProtocolError(f"malformed {what} from the device: {err.message}") from None


def _time(value: str) -> datetime:
    """A timestamp the protocol check accepted (aware, ISO 8601)."""
    return datetime.fromisoformat(value)


def _model[ModelT: DataclassInstance](
    cls: type[ModelT], data: Mapping[str, Any], **converted: Any
) -> ModelT:
    """``cls`` from a checked payload: its fields by name (``converted`` ones as given).

    Fields the payload leaves out (it may, where the protocol says so) keep their defaults.
    """
    values = {item.name: data[item.name] for item in fields(cls) if item.name in data}
    return cls(**(values | converted))


class _Checked(Protocol):
    """A model with ``from_checked``."""

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self: ...


def _optional[CheckedT: _Checked](
    model: type[CheckedT], data: dict[str, Any] | None
) -> CheckedT | None:
    """``model`` from a checked payload that may be ``None``."""
    return None if data is None else model.from_checked(data)


# The models: ``from_dict`` checks a payload against the protocol; ``from_checked`` builds
# one from a payload that passed that check (as the protocol's validators return it).


@dataclass(frozen=True, slots=True)
class Sunrise:
    """A running sunrise."""

    started_at: datetime
    ends_at: datetime
    duration: float
    start_brightness: float
    target_brightness: float
    progress: float
    curve: str
    #: The alarm that started it; ``None`` for a sunrise started by a command.
    alarm_id: str | None = None
    #: Its colour path and temperatures (colour devices, protocol 4; else ``None``).
    color_path: str | None = None
    start_kelvin: int | None = None
    target_kelvin: int | None = None

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(
            cls, data, started_at=_time(data["started_at"]), ends_at=_time(data["ends_at"])
        )


@dataclass(frozen=True, slots=True)
class Sunset:
    """A running sunset: from ``start_brightness`` to off."""

    started_at: datetime
    ends_at: datetime
    duration: float
    start_brightness: float
    progress: float
    curve: str

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(
            cls, data, started_at=_time(data["started_at"]), ends_at=_time(data["ends_at"])
        )


@dataclass(frozen=True, slots=True)
class AlarmInProgress:
    """The alarm that can be snoozed or dismissed now (until ``ends_at``).

    ``wake_at`` moves later with each snooze; ``snoozed_until`` is the end of the snooze
    in progress (``None`` when not snoozed).
    """

    alarm_id: str
    wake_at: datetime
    ends_at: datetime
    snoozed_until: datetime | None
    snoozes: int

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        until = data["snoozed_until"]
        return _model(
            cls,
            data,
            wake_at=_time(data["wake_at"]),
            ends_at=_time(data["ends_at"]),
            snoozed_until=None if until is None else _time(until),
        )


@dataclass(frozen=True, slots=True)
class WakeSettings:
    """What a snooze and a dismiss do on the device (seconds, 0-255 brightness)."""

    snooze_length: float
    snooze_level: float
    dismiss: DismissAction
    after_wake: float

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(cls, data)


@dataclass(frozen=True, slots=True)
class Transition:
    """A running transition (fade) toward ``target_brightness``."""

    target_brightness: float
    ends_at: datetime

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(cls, data, ends_at=_time(data["ends_at"]))


@dataclass(frozen=True, slots=True)
class AlarmSunrise:
    """An alarm's next sunrise: it starts at ``starts_at`` and ends at ``wake_at`` (local)."""

    starts_at: datetime
    wake_at: datetime

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(cls, data, starts_at=_time(data["starts_at"]), wake_at=_time(data["wake_at"]))


@dataclass(frozen=True, slots=True)
class NextSunrise:
    """The next alarm sunrise of all alarms (the state's ``next_sunrise``)."""

    alarm_id: str
    starts_at: datetime
    wake_at: datetime

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(cls, data, starts_at=_time(data["starts_at"]), wake_at=_time(data["wake_at"]))


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm stored and fired on the device.

    ``time`` is the local wake time ``HH:MM`` in the device's time zone; ``weekdays``
    0 (Monday) to 6 (Sunday). ``date`` makes it a one-off alarm for that local date
    (it fires once, then disables itself; ``weekdays`` is then the date's weekday);
    ``None``: weekly. ``skip_next`` is true while the next occurrence is skipped;
    ``next_sunrise`` is the next occurrence that will fire (``None`` when disabled).
    """

    id: str
    #: What people call it: the name it was given, else its wake time.
    name: str
    time: str
    weekdays: tuple[int, ...]
    enabled: bool
    duration: float
    target_brightness: float
    curve: str
    skip_next: bool
    next_sunrise: AlarmSunrise | None
    #: The sunrise's colour (colour devices, protocol 4; else ``None``).
    color_path: str | None = None
    start_kelvin: int | None = None
    target_kelvin: int | None = None
    #: A one-off alarm's local date (protocol 4); ``None`` for a weekly one.
    date: _Date | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Build from an alarm payload; raise ``DaybreakProtocolError`` if it is invalid."""
        return cls.from_checked(_checked("alarm", validate_alarm, data))

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(
            cls,
            data,
            weekdays=tuple(data["weekdays"]),
            date=None if data["date"] is None else date.fromisoformat(data["date"]),
            next_sunrise=_optional(AlarmSunrise, data["next_sunrise"]),
        )


@dataclass(frozen=True, slots=True)
class DaybreakEvent:
    """A one-off event the device pushed: a sunrise started, finished or was cancelled.

    Or an alarm fired. ``type`` is the protocol's event name with ``_`` for ``.``
    (``sunrise_started``, ``sunrise_finished``, ``sunrise_cancelled``, ``alarm_fired``);
    ``data`` holds the event's other documented fields (``target_brightness`` and
    ``duration`` of a sunrise event, ``wake_at`` and ``sunrise`` of ``alarm_fired``),
    never anything else the device put in.
    """

    type: str
    time: datetime
    alarm_id: str | None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, event: str, data: Any) -> Self:
        """Build from a pushed event; raise ``DaybreakProtocolError`` if it is invalid."""
        return cls.from_checked(
            event, _checked(f"{event} event", partial(validate_push, event), data)
        )

    @classmethod
    def from_checked(cls, event: str, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return cls(
            type=event.replace(".", "_"),
            time=_time(data["time"]),
            alarm_id=data.get("alarm_id"),
            data={k: v for k, v in data.items() if k not in ("time", "alarm_id")},
        )


#: The types of :class:`DaybreakEvent`.
EVENT_TYPES: tuple[str, ...] = tuple(event.replace(".", "_") for event in DEVICE_EVENTS)


@dataclass(frozen=True, slots=True)
class DaybreakState:
    """The light's state: ``brightness`` is the current level on the 0-255 scale."""

    on: bool
    brightness: int
    level: float
    sunrise: Sunrise | None
    transition: Transition | None
    #: The next alarm sunrise to start; ``None`` also for devices without alarms.
    next_sunrise: NextSunrise | None = None
    #: Why the device cannot save its state (protocol 3); ``None`` when it can.
    storage_error: str | None = None
    #: The colour shown (colour devices, protocol 4): its temperature when it was asked
    #: as one, and as sRGB (largest component 255); ``None`` on a single channel.
    color_temp_kelvin: int | None = None
    rgb_color: tuple[int, int, int] | None = None
    #: The running sunset (protocol 4).
    sunset: Sunset | None = None
    #: The alarm in progress: snoozable and dismissable (protocol 4).
    alarm: AlarmInProgress | None = None
    #: The snooze and dismiss settings (before protocol 4: the defaults).
    wake_settings: WakeSettings = field(
        default_factory=lambda: WakeSettings.from_checked(dict(WAKE_SETTINGS_DEFAULTS))
    )

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Build from a ``state`` payload; raise ``DaybreakProtocolError`` if it is invalid."""
        return cls.from_checked(_checked("state", partial(validate_push, EVENT_STATE), data))

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(
            cls,
            data,
            sunrise=_optional(Sunrise, data["sunrise"]),
            transition=_optional(Transition, data["transition"]),
            next_sunrise=_optional(NextSunrise, data["next_sunrise"]),
            rgb_color=None if "rgb_color" not in data else tuple(data["rgb_color"]),
            sunset=_optional(Sunset, data.get("sunset")),
            alarm=_optional(AlarmInProgress, data.get("alarm")),
            wake_settings=WakeSettings.from_checked(
                data.get("wake_settings") or dict(WAKE_SETTINGS_DEFAULTS)
            ),
        )


@dataclass(frozen=True, slots=True)
class Channels:
    """A colour device's channels (``cct``, ``rgb`` or ``rgbw``) and its white range."""

    layout: str
    names: tuple[str, ...]
    min_color_temp_kelvin: int
    max_color_temp_kelvin: int

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(cls, data, names=tuple(data["names"]))


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the device says about itself."""

    device_id: str
    name: str
    model: str
    sw_version: str
    protocol_version: int
    output: str
    #: The IANA time zone of alarm times; ``None`` for devices without alarms.
    timezone: str | None = None
    #: Seconds the device server had been running when the info was read.
    uptime: float | None = None
    #: The colour channels (protocol 4); ``None`` for a single-channel device.
    channels: Channels | None = None
    #: Whether the device reads a bedside button (protocol 4).
    button: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Build from an ``info`` payload; raise ``DaybreakProtocolError`` if it is invalid."""
        return cls.from_checked(_checked("info", validate_info, data))

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> Self:
        """Build from a payload that passed the protocol check."""
        return _model(cls, data, channels=_optional(Channels, data.get("channels")))


@dataclass(frozen=True, slots=True)
class DaybreakDevice:
    """One snapshot of everything the client knows of the device (python-wled's ``Device``).

    A new one is made whenever a part changes; the parts are the objects the client
    holds (``alarms`` is the read-only mapping :attr:`DaybreakClient.alarms_by_id`).
    """

    info: DeviceInfo
    state: DaybreakState
    #: The device's alarms by id, oldest first.
    alarms: Mapping[str, Alarm]


@dataclass(frozen=True, slots=True)
class DroppedMessages:
    """Messages of one kind the client dropped: how many, and what was wrong with the last."""

    count: int
    last_error: str


def _validated(event: str, payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """Refuse locally what the device would refuse; return ``payload`` unchanged."""
    try:
        validate_command(event, payload)
    except ProtocolError as err:
        raise DaybreakCommandError(err.code, err.message) from None
    return payload


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that were given (not ``None``): omitted ones take the device's defaults."""
    return {key: value for key, value in fields.items() if value is not None}


def _alarm_fields(**fields: Any) -> dict[str, Any]:
    """The alarm fields that were given (``weekdays`` as a list, ``date`` as ISO text)."""
    payload = _given(**fields)
    if "weekdays" in payload:
        payload["weekdays"] = list(payload["weekdays"])
    if "date" in payload:
        payload["date"] = payload["date"].isoformat()
    return payload


class _LibraryLogger(logging.LoggerAdapter[logging.Logger]):
    """python-socketio's and python-engineio's log lines, as debug lines of ``logger``.

    Their warnings and errors are about things that are expected with a device on a
    network: it hangs or goes away ("packet queue is empty, aborting"), an ack comes
    after its command timed out ("Unknown callback received"). The client reports what
    matters itself, once; only a record with a traceback keeps its level. Values are cut
    to :data:`EXCERPT_LENGTH` characters (the libraries log whole packets).
    """

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        """Log at debug level (a record with a traceback at its own level)."""
        if not kwargs.get("exc_info"):
            level = logging.DEBUG
        if self.logger.isEnabledFor(level):
            self.logger.log(level, str(msg), *(_excerpt(arg) for arg in args), **kwargs)


class _SocketIOClient(socketio.AsyncClient):  # type: ignore[misc]
    """python-socketio's client, which hands a message it cannot handle to ``on_error``.

    python-socketio handles each message in a task of its own and leaves an exception
    there unhandled (a packet that is not valid JSON, an integer too long to parse): it
    would surface as "Task exception was never retrieved", once per message.
    """

    def __init__(self, on_error: Callable[[Exception], None], **options: Any) -> None:
        super().__init__(**options)
        self._on_error = on_error

    async def _handle_eio_message(self, data: Any) -> None:
        try:
            await super()._handle_eio_message(data)
        except Exception as err:  # noqa: BLE001 - reported by the DaybreakClient
            self._on_error(err)


_SOCKETIO_LOGGER = _LibraryLogger(logging.getLogger(f"{__name__}.socketio"))
_ENGINEIO_LOGGER = _LibraryLogger(logging.getLogger(f"{__name__}.engineio"))


class DaybreakClient:
    """A connection to one Daybreak device over Socket.IO (WebSocket transport).

    :meth:`connect` opens the connection and reads the device info and state;
    :meth:`run` then keeps it up until :meth:`close`, reconnecting with growing,
    jittered backoff (and raising :class:`DaybreakAuthenticationError` if the device
    stops accepting the token). Pushed ``state`` events update :attr:`state` and call
    the ``on_state`` callbacks, pushed ``alarms`` update :attr:`alarms` and call the
    ``on_alarms`` callbacks, one-off events call the ``on_event`` callbacks, and
    connection changes call the ``on_connection`` callbacks.
    """

    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        *,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float | None = None,
        reconnect_min: float | None = None,
        reconnect_max: float | None = None,
    ) -> None:
        """Prepare a client; nothing is opened until :meth:`connect`.

        ``session`` is the aiohttp session to use (Home Assistant passes its shared
        one); without it python-socketio makes its own. The timeouts default to
        :data:`REQUEST_TIMEOUT`, :data:`RECONNECT_MIN` and :data:`RECONNECT_MAX`.
        """
        self.host = host
        self.port = port
        self._token = token
        self._session = session
        self._timeout = REQUEST_TIMEOUT if request_timeout is None else request_timeout
        self._reconnect_min = RECONNECT_MIN if reconnect_min is None else reconnect_min
        self._reconnect_max = RECONNECT_MAX if reconnect_max is None else reconnect_max
        self._sio: _SocketIOClient | None = None
        # Whether the connection is complete: up, and the info, state and alarms read.
        self._ready = False
        self._closing = False
        self._closed = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._refused: Any = None
        self._last_heard = time.monotonic()
        self._warned_version: int | None = None
        self._arrivals = 0  # messages (pushes and acks) handled so far
        self._state_arrival = self._alarms_arrival = 0  # which set the state, the alarms
        self._dropped: dict[str, DroppedMessages] = {}
        self._unreported: dict[str, int] = {}
        self._reported_at: dict[str, float] = {}
        self.state: DaybreakState | None = None
        self.info: DeviceInfo | None = None
        self.alarms: list[Alarm] = []
        #: The same alarms by id (read-only; made once per change, not per read).
        self.alarms_by_id: Mapping[str, Alarm] = MappingProxyType({})
        #: When the device server started (as it says, or from its uptime), ``None``
        #: until known.
        self.started_at: datetime | None = None
        self._state_callbacks: list[Callable[[DaybreakState], None]] = []
        self._alarms_callbacks: list[Callable[[list[Alarm]], None]] = []
        self._event_callbacks: list[Callable[[DaybreakEvent], None]] = []
        self._connection_callbacks: list[Callable[[bool], None]] = []

    @property
    def url(self) -> str:
        """The device's base URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def uptime(self) -> float | None:
        """Seconds the device server has been running, ``None`` until known."""
        if self.started_at is None:
            return None
        return (datetime.now(UTC) - self.started_at).total_seconds()

    @property
    def connected(self) -> bool:
        """Whether the Socket.IO connection is up."""
        return self._sio is not None and self._sio.connected

    @property
    def ready(self) -> bool:
        """Whether the connection is up and :meth:`connect` has read everything through it.

        Pushes that come while connecting update :attr:`state` and :attr:`alarms` but the
        device is not "back" until then: this is the one place that says so.
        """
        return self._ready and self.connected

    @property
    def device(self) -> DaybreakDevice | None:
        """The device as last heard of; ``None`` until the first :meth:`connect` read it."""
        if self.info is None or self.state is None:
            return None
        return DaybreakDevice(self.info, self.state, self.alarms_by_id)

    @property
    def dropped(self) -> dict[str, DroppedMessages]:
        """The messages dropped so far, by kind (a push's event, ``… answer``, ``message``)."""
        return dict(self._dropped)

    # -- callbacks ----------------------------------------------------------------

    def on_state(self, callback: Callable[[DaybreakState], None]) -> Callable[[], None]:
        """Call ``callback(state)`` on every state the device pushes; returns an unsubscriber."""
        self._state_callbacks.append(callback)
        return lambda: self._state_callbacks.remove(callback)

    def on_alarms(self, callback: Callable[[list[Alarm]], None]) -> Callable[[], None]:
        """Call ``callback(alarms)`` when the device's alarms change; returns an unsubscriber."""
        self._alarms_callbacks.append(callback)
        return lambda: self._alarms_callbacks.remove(callback)

    def on_event(self, callback: Callable[[DaybreakEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on every one-off event the device pushes."""
        self._event_callbacks.append(callback)
        return lambda: self._event_callbacks.remove(callback)

    def on_connection(self, callback: Callable[[bool], None]) -> Callable[[], None]:
        """Call ``callback(connected)`` when :meth:`run` loses or regains the device."""
        self._connection_callbacks.append(callback)
        return lambda: self._connection_callbacks.remove(callback)

    # -- connection -----------------------------------------------------------------

    async def connect(self) -> DeviceInfo:
        """Connect, authenticate and read the device info and state.

        Raises :class:`DaybreakAuthenticationError` for a refused token,
        :class:`DaybreakConnectionError` when the device cannot be reached and
        :class:`DaybreakProtocolError` when its answers are invalid.
        """
        await self._drop_connection()
        self._refused = None
        self._disconnected.clear()
        self._ready = False
        options: dict[str, Any] = {
            "reconnection": False,
            "handle_sigint": False,
            "logger": _SOCKETIO_LOGGER,
            "engineio_logger": _ENGINEIO_LOGGER,
        }
        if self._session is not None:
            options["http_session"] = self._session
        sio = _SocketIOClient(self._on_undecodable, **options)

        async def on_disconnect(reason: Any = None) -> None:
            _LOGGER.debug("Disconnected from %s (%s)", self.url, _excerpt(reason))
            if sio is self._sio:  # not a connection dropped already
                self._disconnected.set()

        sio.on("connect_error", self._on_connect_error)
        sio.on("disconnect", on_disconnect)
        sio.on(EVENT_STATE, self._push_handler(EVENT_STATE, self._handle_state))
        sio.on(EVENT_HEARTBEAT, self._push_handler(EVENT_HEARTBEAT, self._handle_heartbeat))
        sio.on(EVENT_ALARMS, self._push_handler(EVENT_ALARMS, self._handle_alarms))
        for event in DEVICE_EVENTS:
            sio.on(event, self._push_handler(event, partial(self._handle_event, event)))
        self._sio = sio
        try:
            # wait_timeout does not cover the WebSocket handshake: a hung device (its
            # kernel still accepts TCP) would keep us waiting for aiohttp's 5 minutes.
            async with asyncio.timeout(self._timeout):
                await sio.connect(
                    self.url,
                    auth={"token": self._token},
                    transports=["websocket"],
                    wait_timeout=self._timeout,
                )
        except (socketio.exceptions.ConnectionError, OSError, TimeoutError) as err:
            if self._sio is sio:
                self._sio = None
            await self._disconnect(sio)
            if self._token_refused():
                raise DaybreakAuthenticationError("the device refused the token") from err
            raise DaybreakConnectionError(f"cannot connect to {self.url}: {err}") from err
        if self._sio is not sio:  # close() ran while we were connecting
            await self._disconnect(sio)
            raise DaybreakConnectionError("the client was closed while connecting")
        try:
            info = await self._read_device()
        except BaseException:
            await self._drop_connection()
            raise
        self._ready = True
        if info.protocol_version not in (PROTOCOL_VERSION, self._warned_version):
            self._warned_version = info.protocol_version
            _LOGGER.warning(
                "Device %s speaks protocol %d, this client %d",
                info.device_id,
                info.protocol_version,
                PROTOCOL_VERSION,
            )
        return info

    async def _read_device(self) -> DeviceInfo:
        """Read info, state and alarms: one request (two for a device without ``device.get``)."""
        try:
            ack, arrival = await self._request(EVENT_GET_DEVICE)
        except DaybreakCommandError as err:
            if err.code != "unknown_event":
                raise
            info = self._set_info((await self._request(EVENT_GET_INFO))[0]["info"])
            ack, arrival = await self._request(EVENT_LIST_ALARMS)  # with the state
        else:
            info = self._set_info(ack["info"])
        self._set_state(ack["state"], arrival)
        self._set_alarms(ack["alarms"], arrival)
        return info

    async def run(self) -> None:
        """Keep the connection up until :meth:`close`, reconnecting with backoff.

        Call after a successful :meth:`connect`. Returns after :meth:`close`; raises
        :class:`DaybreakAuthenticationError` if a reconnect is refused. Nothing else
        ends it: an unexpected error is logged (with its traceback, at most once a
        minute) and the connection tried again.

        The wait between attempts doubles (±20 %) from ``reconnect_min`` up to
        ``reconnect_max``, and starts over only once a connection has stayed up for
        :data:`HEALTHY_AFTER` seconds.
        """
        delay = self._reconnect_min
        connected_at = time.monotonic()
        while not self._was_closed():
            if not self.connected:
                try:
                    await self.connect()
                except DaybreakAuthenticationError:
                    raise
                except DaybreakError as err:  # unreachable, or a bad answer: try again
                    _LOGGER.debug(
                        "Reconnect to %s failed (%s); next try in %.2g s", self.url, err, delay
                    )
                    delay = await self._back_off(delay)
                    continue
                except Exception as err:  # noqa: BLE001 - a bug here must not end the listener
                    self._report("reconnect", "unexpected error", error=err)
                    delay = await self._back_off(delay)
                    continue
                if self._was_closed():  # close() was called while we were connecting
                    await self._drop_connection()
                    return
                connected_at = time.monotonic()
                self._notify_connection(True)
            await self._follow()
            if self._was_closed():
                return
            self._disconnected.clear()
            self._notify_connection(False)
            if time.monotonic() - connected_at >= HEALTHY_AFTER:
                delay = self._reconnect_min
            # Back off before the first try too: a device that is stopping drops its
            # clients while it still accepts connections, so reconnecting at once
            # reaches it just before it goes away (lost, back, lost again).
            delay = await self._back_off(delay)

    async def close(self) -> None:
        """Close the connection and make :meth:`run` return."""
        self._closing = True
        self._closed.set()
        await self._drop_connection()
        self._disconnected.set()

    async def __aenter__(self) -> Self:
        """Connect (see :meth:`connect`)."""
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the connection."""
        await self.close()

    # -- commands -----------------------------------------------------------------

    async def get_state(self) -> DaybreakState:
        """Read the state from the device."""
        ack, arrival = await self._request(EVENT_GET_STATE)
        return self._set_state(ack["state"], arrival)

    async def get_info(self) -> DeviceInfo:
        """Read the device info."""
        return self._set_info((await self._request(EVENT_GET_INFO))[0]["info"])

    async def ping(self) -> float:
        """Measure the round-trip time of a request (``info.get``), in seconds."""
        start = perf_counter()
        ack, _ = await self._request(EVENT_GET_INFO)
        elapsed = perf_counter() - start
        self._set_info(ack["info"])
        return elapsed

    async def set_light(
        self,
        *,
        on: bool | None = None,
        brightness: float | None = None,
        transition: float | None = None,
        color_temp_kelvin: float | None = None,
        rgb_color: tuple[int, int, int] | None = None,
    ) -> DaybreakState:
        """Turn on/off and/or set brightness (0-255), fading over ``transition`` seconds.

        A colour (``color_temp_kelvin`` or ``rgb_color``) needs a colour device (protocol 4).
        """
        payload = _given(
            on=on,
            brightness=brightness,
            transition=transition,
            color_temp_kelvin=color_temp_kelvin,
            rgb_color=None if rgb_color is None else list(rgb_color),
        )
        return await self._command(EVENT_SET_LIGHT, payload)

    async def start_sunrise(
        self,
        *,
        duration: float | None = None,
        target_brightness: float | None = None,
        start_brightness: float | None = None,
        curve: Curve | None = None,
        color_path: ColorPath | None = None,
        start_kelvin: float | None = None,
        target_kelvin: float | None = None,
    ) -> DaybreakState:
        """Start a sunrise on the device; omitted values take the device's defaults.

        The colour fields are protocol 4 (a single-channel device ignores them).
        """
        payload = _given(
            duration=duration,
            target_brightness=target_brightness,
            start_brightness=start_brightness,
            curve=curve,
            color_path=color_path,
            start_kelvin=start_kelvin,
            target_kelvin=target_kelvin,
        )
        return await self._command(EVENT_START_SUNRISE, payload)

    async def stop_sunrise(self) -> DaybreakState:
        """Stop a running sunrise; the light holds the level it reached."""
        return await self._command(EVENT_STOP_SUNRISE, None)

    async def start_sunset(
        self,
        *,
        duration: float | None = None,
        start_brightness: float | None = None,
        curve: Curve | None = None,
    ) -> DaybreakState:
        """Start a sunset (a fade to off) on the device (protocol 4)."""
        payload = _given(duration=duration, start_brightness=start_brightness, curve=curve)
        return await self._command(EVENT_START_SUNSET, payload)

    async def stop_sunset(self) -> DaybreakState:
        """Stop a running sunset; the light holds the level it reached (protocol 4)."""
        return await self._command(EVENT_STOP_SUNSET, None)

    async def snooze(self) -> DaybreakState:
        """Snooze the alarm in progress; ``DaybreakCommandError`` ``no_alarm`` without one."""
        return await self._command(EVENT_SNOOZE_ALARM, None)

    async def dismiss(self) -> DaybreakState:
        """Dismiss the alarm in progress; ``DaybreakCommandError`` ``no_alarm`` without one."""
        return await self._command(EVENT_DISMISS_ALARM, None)

    async def set_wake_settings(
        self,
        *,
        snooze_length: float | None = None,
        snooze_level: float | None = None,
        dismiss: DismissAction | None = None,
        after_wake: float | None = None,
    ) -> DaybreakState:
        """Change the device's snooze and dismiss settings (protocol 4)."""
        payload = _given(
            snooze_length=snooze_length,
            snooze_level=snooze_level,
            dismiss=dismiss,
            after_wake=after_wake,
        )
        return await self._command(EVENT_SET_WAKE_SETTINGS, payload)

    # -- alarms -------------------------------------------------------------------

    async def list_alarms(self) -> list[Alarm]:
        """Read the alarms stored on the device."""
        return await self._alarm_command(EVENT_LIST_ALARMS, None)

    async def create_alarm(
        self,
        time: str,
        *,
        alarm_id: str | None = None,
        name: str | None = None,
        weekdays: Iterable[int] | None = None,
        date: _Date | None = None,
        enabled: bool | None = None,
        duration: float | None = None,
        target_brightness: float | None = None,
        curve: Curve | None = None,
        color_path: ColorPath | None = None,
        start_kelvin: float | None = None,
        target_kelvin: float | None = None,
    ) -> Alarm:
        """Add an alarm (wake time ``HH:MM``); omitted values take the device's defaults.

        With a ``date`` (not with ``weekdays``) it is a one-off alarm for that local date.

        ``alarm_id`` chooses its id (refused with ``conflict`` when taken); without it
        the device makes one up. Without a ``name`` it is named by its wake time.
        Returns the alarm created, as the device's answer says (so an alarm another
        client creates at the same moment is never taken for it); :attr:`alarms` has
        all of them. The device refuses a 21st with ``limit_reached``.
        """
        payload = _alarm_fields(
            id=alarm_id,
            name=name,
            time=time,
            weekdays=weekdays,
            date=date,
            enabled=enabled,
            duration=duration,
            target_brightness=target_brightness,
            curve=curve,
            color_path=color_path,
            start_kelvin=start_kelvin,
            target_kelvin=target_kelvin,
        )
        ack = await self._alarm_ack(EVENT_CREATE_ALARM, payload)
        return Alarm.from_dict(ack.get("alarm"))

    async def update_alarm(
        self,
        alarm_id: str,
        *,
        name: str | None = None,
        time: str | None = None,
        weekdays: Iterable[int] | None = None,
        date: _Date | None = None,
        enabled: bool | None = None,
        duration: float | None = None,
        target_brightness: float | None = None,
        curve: Curve | None = None,
        color_path: ColorPath | None = None,
        start_kelvin: float | None = None,
        target_kelvin: float | None = None,
    ) -> list[Alarm]:
        """Change the given fields of an alarm (at least one); returns all alarms.

        A ``date`` makes it a one-off alarm for that date, ``weekdays`` a weekly one.
        """
        payload = {"id": alarm_id} | _alarm_fields(
            name=name,
            time=time,
            weekdays=weekdays,
            date=date,
            enabled=enabled,
            duration=duration,
            target_brightness=target_brightness,
            curve=curve,
            color_path=color_path,
            start_kelvin=start_kelvin,
            target_kelvin=target_kelvin,
        )
        return await self._alarm_command(EVENT_UPDATE_ALARM, payload)

    async def delete_alarm(self, alarm_id: str) -> list[Alarm]:
        """Remove an alarm (a sunrise it started goes on); returns the remaining alarms."""
        return await self._alarm_command(EVENT_DELETE_ALARM, {"id": alarm_id})

    async def skip_next_alarm(self, alarm_id: str, skip: bool = True) -> list[Alarm]:
        """Skip the alarm's next occurrence (``skip=False`` cancels that); returns all alarms."""
        return await self._alarm_command(EVENT_SKIP_ALARM, {"id": alarm_id, "skip": skip})

    # -- internals ----------------------------------------------------------------

    async def _alarm_command(self, event: str, payload: dict[str, Any] | None) -> list[Alarm]:
        """Send an alarm command; update the state from the ack and return the alarms."""
        await self._alarm_ack(event, payload)
        return self.alarms

    async def _alarm_ack(self, event: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        """Send an alarm command; update the state and alarms from the ack and return it."""
        ack, arrival = await self._request(event, _validated(event, payload))
        self._set_state(ack["state"], arrival)
        self._set_alarms(ack["alarms"], arrival)
        return ack

    async def _command(self, event: str, payload: dict[str, Any] | None) -> DaybreakState:
        payload = _validated(event, payload)
        ack, arrival = await self._request(event, payload)
        return self._set_state(ack["state"], arrival)

    async def _request(self, event: str, payload: Any = None) -> tuple[dict[str, Any], int]:
        """Send ``event``; return its ack once checked, and when it arrived (see ``_arrived``).

        Raise the device's refusal.
        """
        sio = self._sio
        if sio is None or not sio.connected:
            raise DaybreakConnectionError("not connected to the device")
        try:
            ack, arrival = await self._call(sio, event, payload)
        except (socketio.exceptions.SocketIOError, OSError) as err:
            raise DaybreakConnectionError(f"{event}: {err}") from err
        self._heard()
        try:
            checked = validate_ack(event, ack)
        except ProtocolError as err:
            kind = f"{event} answer"
            self._report(kind, err.message)
            raise DaybreakProtocolError(
                f"invalid answer to {event} from the device: {err.message}"
            ) from None
        if not checked["ok"]:
            code, message = checked["error"]["code"], checked["error"]["message"]
            if code == "unauthorized":
                raise DaybreakAuthenticationError(message)
            raise DaybreakCommandError(code, message)
        return checked, arrival

    async def _call(self, sio: _SocketIOClient, event: str, payload: Any) -> tuple[Any, int]:
        """Send ``event``; wait for its ack, at most the request timeout.

        Returns the ack and when it arrived among the device's messages: an ack is
        handled in the order it came, but the command's caller resumes later, after
        pushes that came after it. It ends too when the connection is lost or closed
        (python-socketio's ``call`` waits for its timeout even then).
        """
        answer: asyncio.Future[tuple[Any, int]] = asyncio.get_running_loop().create_future()

        def on_ack(*data: Any) -> None:
            if not answer.done():
                answer.set_result((data[0] if len(data) == 1 else list(data), self._arrived()))

        await sio.emit(event, payload, callback=on_ack)
        lost = asyncio.ensure_future(self._disconnected.wait())
        try:
            done, _ = await asyncio.wait(
                (answer, lost), timeout=self._timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
        if answer in done:
            return answer.result()
        answer.cancel()
        if lost in done:
            raise DaybreakConnectionError(f"the connection was lost before the answer to {event}")
        raise DaybreakTimeoutError(f"the device did not answer {event} within {self._timeout:g} s")

    def _arrived(self) -> int:
        """Number a message from the device, as it is handled (in the order they came)."""
        self._arrivals += 1
        return self._arrivals

    def _set_state(self, data: dict[str, Any], arrival: int) -> DaybreakState:
        """Take the state that arrived as message ``arrival``, unless a newer one came."""
        state = DaybreakState.from_checked(data)
        if arrival < self._state_arrival:
            return state  # a push that came after it was applied already
        self._state_arrival = arrival
        self.state = state
        for callback in list(self._state_callbacks):
            callback(state)
        return state

    def _set_info(self, data: dict[str, Any]) -> DeviceInfo:
        info = DeviceInfo.from_checked(data)
        self.info = info
        self._set_started_at(data)
        return info

    def _set_started_at(self, data: dict[str, Any]) -> None:
        """When the device started: as it says (``started_at``), else from its uptime."""
        if "started_at" in data:
            self.started_at = _time(data["started_at"])
        elif data.get("uptime") is not None:
            self.started_at = datetime.now(UTC) - timedelta(seconds=data["uptime"])

    def _set_alarms(self, data: list[dict[str, Any]], arrival: int) -> list[Alarm]:
        """Take the alarms that arrived as message ``arrival``, unless newer ones came."""
        alarms = [Alarm.from_checked(item) for item in data]
        if arrival < self._alarms_arrival or alarms == self.alarms:
            return alarms
        self._alarms_arrival = arrival
        self.alarms = alarms
        self.alarms_by_id = MappingProxyType({alarm.id: alarm for alarm in alarms})
        for callback in list(self._alarms_callbacks):
            callback(alarms)
        return alarms

    def _notify_connection(self, connected: bool) -> None:
        for callback in list(self._connection_callbacks):
            callback(connected)

    def _was_closed(self) -> bool:
        """Whether :meth:`close` was called (a method, so type checkers re-read it after awaits)."""
        return self._closing

    async def _back_off(self, delay: float) -> float:
        """Wait about ``delay`` seconds (or until :meth:`close`); return the next delay."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay * random.uniform(0.8, 1.2)):  # noqa: S311
                await self._closed.wait()
        return min(delay * 2, self._reconnect_max)

    async def _follow(self) -> None:
        """Return once the connection is lost or closed.

        A device silent for :data:`SILENCE_LIMIT` seconds is asked for its state; if it
        does not answer, the connection is dropped.
        """
        while not self._disconnected.is_set():
            remaining = self._last_heard + SILENCE_LIMIT - time.monotonic()
            if remaining > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._disconnected.wait()
                continue
            try:
                await self.get_state()
            except DaybreakConnectionError as err:  # no answer (or no connection)
                if not self._disconnected.is_set():
                    _LOGGER.debug("%s went silent (%s); reconnecting", self.url, err)
                    await self._drop_connection()
                    self._disconnected.set()
            except DaybreakError:
                pass  # it answered, if not well: it is there

    def _heard(self) -> None:
        self._last_heard = time.monotonic()

    def _report(self, kind: str, reason: str, *, error: BaseException | None = None) -> None:
        """Count a dropped message (or a failure: ``error``) and log it, rate-limited.

        One line at most per ``kind`` in :data:`REPORT_INTERVAL` seconds, with the
        number dropped since the last line; a failure's line has its traceback.
        """
        reason = _excerpt(reason)
        before = self._dropped.get(kind)
        self._dropped[kind] = DroppedMessages((before.count if before else 0) + 1, reason)
        unreported = self._unreported.get(kind, 0) + 1
        now = time.monotonic()
        reported_at = self._reported_at.get(kind)
        if reported_at is not None and now - reported_at < REPORT_INTERVAL:
            self._unreported[kind] = unreported
            return
        self._unreported[kind] = 0
        self._reported_at[kind] = now
        if error is not None:
            _LOGGER.error(
                "Error handling %s from %s (%d since the last report)",
                kind,
                self.url,
                unreported,
                exc_info=error,
            )
        else:
            _LOGGER.warning(
                "Ignored %d invalid %s message(s) from %s since the last report; the last: %s",
                unreported,
                kind,
                self.url,
                reason,
            )

    def _push_handler(
        self, event: str, handle: Callable[[dict[str, Any], int], None]
    ) -> Callable[..., Awaitable[None]]:
        """A handler for the pushed ``event``: check the payload, then ``handle`` it.

        ``handle`` gets the payload and its arrival number (see :meth:`_arrived`).
        """

        async def handler(*args: Any) -> None:
            self._heard()
            arrival = self._arrived()
            try:
                if len(args) != 1:
                    raise ProtocolError("invalid_payload", f"{len(args)} payloads instead of one")
                handle(validate_push(event, args[0]), arrival)
            except ProtocolError as err:
                self._report(event, err.message)
            except Exception as err:  # noqa: BLE001 - one bad push must not end the listener
                self._report(event, "error handling it", error=err)

        return handler

    def _handle_state(self, data: dict[str, Any], arrival: int) -> None:
        self._set_state(data, arrival)

    def _handle_heartbeat(self, data: dict[str, Any], _arrival: int) -> None:
        self._set_started_at(data)

    def _handle_alarms(self, data: dict[str, Any], arrival: int) -> None:
        self._set_alarms(data["alarms"], arrival)

    def _handle_event(self, event: str, data: dict[str, Any], _arrival: int) -> None:
        parsed = DaybreakEvent.from_checked(event, data)
        for callback in list(self._event_callbacks):
            callback(parsed)

    def _on_undecodable(self, err: Exception) -> None:
        self._heard()
        self._report("message", f"cannot decode it: {err}")

    def _token_refused(self) -> bool:
        """Whether the last ``connect_error`` was the device refusing the token."""
        data = self._refused.get("data") if isinstance(self._refused, dict) else None
        return isinstance(data, dict) and data.get("code") == "unauthorized"

    async def _drop_connection(self) -> None:
        self._ready = False
        sio, self._sio = self._sio, None
        if sio is not None:
            await self._disconnect(sio)

    async def _disconnect(self, sio: socketio.AsyncClient) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._timeout):  # never hang on a hung peer
                await sio.disconnect()
                # python-socketio keeps no reference to its read/write tasks: let them end.
                await sio.eio.wait()
        # After a transport error (e.g. no ping within ping interval + timeout) engineio
        # leaves the WebSocket open when the aiohttp session is not its own: close it,
        # without waiting for the close frame of a peer that may be hung.
        ws = sio.eio.ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0):
                    await ws.close()

    async def _on_connect_error(self, data: Any = None) -> None:
        self._refused = data
