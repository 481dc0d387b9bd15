"""Async client for a Daybreak device, with no Home Assistant import.

Like python-wled for WLED, this module owns the wire: it speaks the protocol in
:mod:`.protocol` over python-socketio, turns payloads into typed models and device
errors into a small exception tree. Home Assistant injects its aiohttp session.

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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from time import perf_counter
from types import TracebackType
from typing import Any, Self

import aiohttp
import socketio

from .protocol import (
    DEVICE_EVENTS,
    EVENT_ALARMS,
    EVENT_CREATE_ALARM,
    EVENT_DELETE_ALARM,
    EVENT_GET_INFO,
    EVENT_GET_STATE,
    EVENT_HEARTBEAT,
    EVENT_LIST_ALARMS,
    EVENT_SET_LIGHT,
    EVENT_SKIP_ALARM,
    EVENT_START_SUNRISE,
    EVENT_STATE,
    EVENT_STOP_SUNRISE,
    EVENT_UPDATE_ALARM,
    PROTOCOL_VERSION,
    Curve,
    ProtocolError,
    validate_command,
)

__all__ = [
    "Alarm",
    "AlarmSunrise",
    "DaybreakAuthenticationError",
    "DaybreakClient",
    "DaybreakCommandError",
    "DaybreakConnectionError",
    "DaybreakError",
    "DaybreakEvent",
    "DaybreakState",
    "DeviceInfo",
    "NextSunrise",
    "Sunrise",
    "Transition",
]

_LOGGER = logging.getLogger(__name__)


class DaybreakError(Exception):
    """Base class of every error this client raises."""


class DaybreakConnectionError(DaybreakError):
    """The device cannot be reached, or the connection broke or timed out."""


class DaybreakAuthenticationError(DaybreakError):
    """The device refused the token."""


class DaybreakCommandError(DaybreakError):
    """The device (or the protocol check before sending) refused a command."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the protocol error ``code`` and the device's ``message``."""
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _number(data: dict[str, Any], key: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} is not a number")
    return float(value)


def _time(data: dict[str, Any], key: str) -> datetime:
    return datetime.fromisoformat(str(data[key]))


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build from the protocol's ``sunrise`` object."""
        alarm_id = data.get("alarm_id")
        return cls(
            started_at=_time(data, "started_at"),
            ends_at=_time(data, "ends_at"),
            duration=_number(data, "duration"),
            start_brightness=_number(data, "start_brightness"),
            target_brightness=_number(data, "target_brightness"),
            progress=_number(data, "progress"),
            curve=str(data["curve"]),
            alarm_id=None if alarm_id is None else str(alarm_id),
        )


@dataclass(frozen=True, slots=True)
class Transition:
    """A running transition (fade) toward ``target_brightness``."""

    target_brightness: float
    ends_at: datetime

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build from the protocol's ``transition`` object."""
        return cls(_number(data, "target_brightness"), _time(data, "ends_at"))


@dataclass(frozen=True, slots=True)
class AlarmSunrise:
    """An alarm's next sunrise: it starts at ``starts_at`` and ends at ``wake_at`` (local)."""

    starts_at: datetime
    wake_at: datetime

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build from an alarm's ``next_sunrise`` object."""
        return cls(starts_at=_time(data, "starts_at"), wake_at=_time(data, "wake_at"))


@dataclass(frozen=True, slots=True)
class NextSunrise:
    """The next alarm sunrise of all alarms (the state's ``next_sunrise``)."""

    alarm_id: str
    starts_at: datetime
    wake_at: datetime

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build from the state's ``next_sunrise`` object."""
        return cls(
            alarm_id=str(data["alarm_id"]),
            starts_at=_time(data, "starts_at"),
            wake_at=_time(data, "wake_at"),
        )


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm stored and fired on the device.

    ``time`` is the local wake time ``HH:MM`` in the device's time zone; ``weekdays``
    0 (Monday) to 6 (Sunday). ``skip_next`` is true while the next occurrence is
    skipped; ``next_sunrise`` is the next occurrence that will fire (``None`` when
    disabled).
    """

    id: str
    time: str
    weekdays: tuple[int, ...]
    enabled: bool
    duration: float
    target_brightness: float
    curve: str
    skip_next: bool
    next_sunrise: AlarmSunrise | None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Build from an alarm payload; raise ``DaybreakError`` if it is malformed."""
        try:
            if not isinstance(data, dict):
                raise TypeError("not an alarm object")
            weekdays = data["weekdays"]
            if not isinstance(weekdays, list) or not all(
                isinstance(day, int) and not isinstance(day, bool) for day in weekdays
            ):
                raise TypeError("weekdays is not a list of numbers")
            if not isinstance(data["enabled"], bool):
                raise TypeError("enabled is not a bool")
            upcoming = data.get("next_sunrise")
            return cls(
                id=str(data["id"]),
                time=str(data["time"]),
                weekdays=tuple(weekdays),
                enabled=data["enabled"],
                duration=_number(data, "duration"),
                target_brightness=_number(data, "target_brightness"),
                curve=str(data["curve"]),
                skip_next=bool(data.get("skip_next", False)),
                next_sunrise=None if upcoming is None else AlarmSunrise.from_dict(upcoming),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DaybreakError(f"malformed alarm from the device: {err}") from err


def _alarms(data: Any) -> list[Alarm]:
    if not isinstance(data, list):
        raise DaybreakError("malformed alarm list from the device")
    return [Alarm.from_dict(item) for item in data]


@dataclass(frozen=True, slots=True)
class DaybreakEvent:
    """A one-off event the device pushed: a sunrise started, finished or was cancelled.

    Or an alarm fired. ``type`` is the protocol's event name with ``_`` for ``.``
    (``sunrise_started``, ``sunrise_finished``, ``sunrise_cancelled``, ``alarm_fired``);
    ``data`` is the rest of the payload (e.g. ``target_brightness``, ``wake_at``).
    """

    type: str
    time: datetime
    alarm_id: str | None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, event: str, data: Any) -> Self:
        """Build from a pushed event; raise ``DaybreakError`` if it is malformed."""
        try:
            if not isinstance(data, dict):
                raise TypeError("not an event object")
            alarm_id = data.get("alarm_id")
            return cls(
                type=event.replace(".", "_"),
                time=_time(data, "time"),
                alarm_id=None if alarm_id is None else str(alarm_id),
                data={k: v for k, v in data.items() if k not in ("time", "alarm_id")},
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DaybreakError(f"malformed {event} event from the device: {err}") from err


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

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Build from a ``state`` payload; raise ``DaybreakError`` if it is malformed."""
        try:
            if not isinstance(data, dict) or not isinstance(data["on"], bool):
                raise TypeError("not a state object")
            sunrise, transition = data.get("sunrise"), data.get("transition")
            upcoming = data.get("next_sunrise")
            return cls(
                on=data["on"],
                brightness=int(_number(data, "brightness")),
                level=_number(data, "level"),
                sunrise=None if sunrise is None else Sunrise.from_dict(sunrise),
                transition=None if transition is None else Transition.from_dict(transition),
                next_sunrise=None if upcoming is None else NextSunrise.from_dict(upcoming),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DaybreakError(f"malformed state from the device: {err}") from err


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

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Build from an ``info`` payload; raise ``DaybreakError`` if it is malformed."""
        try:
            if not isinstance(data, dict):
                raise TypeError("not an info object")
            return cls(
                device_id=str(data["device_id"]),
                name=str(data["name"]),
                model=str(data["model"]),
                sw_version=str(data["sw_version"]),
                protocol_version=int(data["protocol_version"]),
                output=str(data.get("output", "")),
                timezone=str(data["timezone"]) if data.get("timezone") else None,
                uptime=None if data.get("uptime") is None else _number(data, "uptime"),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DaybreakError(f"malformed info from the device: {err}") from err


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
    """The alarm fields that were given (``weekdays`` as a list, as the protocol wants)."""
    payload = _given(**fields)
    if "weekdays" in payload:
        payload["weekdays"] = list(payload["weekdays"])
    return payload


class DaybreakClient:
    """A connection to one Daybreak device over Socket.IO (WebSocket transport).

    :meth:`connect` opens the connection and reads the device info and state;
    :meth:`run` then keeps it up until :meth:`close`, reconnecting with exponential
    backoff (and raising :class:`DaybreakAuthenticationError` if the device stops
    accepting the token). Pushed ``state`` events update :attr:`state` and call the
    ``on_state`` callbacks, pushed ``alarms`` update :attr:`alarms` and call the
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
        request_timeout: float = 10.0,
        reconnect_min: float = 1.0,
        reconnect_max: float = 60.0,
    ) -> None:
        """Prepare a client; nothing is opened until :meth:`connect`.

        ``session`` is the aiohttp session to use (Home Assistant passes its shared
        one); without it python-socketio makes its own.
        """
        self.host = host
        self.port = port
        self._token = token
        self._session = session
        self._timeout = request_timeout
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._sio: socketio.AsyncClient | None = None
        self._closing = False
        self._disconnected = asyncio.Event()
        self._refused: Any = None
        self.state: DaybreakState | None = None
        self.info: DeviceInfo | None = None
        self.alarms: list[Alarm] = []
        #: When the device server started (from its uptime), ``None`` until known.
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

        Raises :class:`DaybreakAuthenticationError` for a refused token and
        :class:`DaybreakConnectionError` when the device cannot be reached.
        """
        await self._drop_connection()
        self._refused = None
        self._disconnected.clear()
        options: dict[str, Any] = {"reconnection": False, "handle_sigint": False}
        if self._session is not None:
            options["http_session"] = self._session
        sio = socketio.AsyncClient(**options)
        sio.on("connect_error", self._on_connect_error)
        sio.on("disconnect", self._on_disconnect)
        sio.on(EVENT_STATE, self._on_state)
        sio.on(EVENT_HEARTBEAT, self._on_heartbeat)
        sio.on(EVENT_ALARMS, self._on_alarms)
        for event in DEVICE_EVENTS:
            sio.on(event, self._event_handler(event))
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
            if isinstance(self._refused, dict) and (
                (self._refused.get("data") or {}).get("code") == "unauthorized"
            ):
                raise DaybreakAuthenticationError("the device refused the token") from err
            raise DaybreakConnectionError(f"cannot connect to {self.url}: {err}") from err
        if self._sio is not sio:  # close() ran while we were connecting
            await self._disconnect(sio)
            raise DaybreakConnectionError("the client was closed while connecting")
        try:
            info = self._set_info((await self._call(EVENT_GET_INFO)).get("info"))
            self._set_state(
                DaybreakState.from_dict((await self._call(EVENT_GET_STATE)).get("state"))
            )
            self._set_alarms(_alarms((await self._call(EVENT_LIST_ALARMS)).get("alarms")))
        except BaseException:
            await self._drop_connection()
            raise
        if info.protocol_version != PROTOCOL_VERSION:
            _LOGGER.warning(
                "Device %s speaks protocol %d, this client %d",
                info.device_id,
                info.protocol_version,
                PROTOCOL_VERSION,
            )
        return info

    async def run(self) -> None:
        """Keep the connection up until :meth:`close`, reconnecting with backoff.

        Call after a successful :meth:`connect`. Returns after :meth:`close`; raises
        :class:`DaybreakAuthenticationError` if a reconnect is refused.
        """
        delay = self._reconnect_min
        while not self._closing:
            if not self.connected:
                try:
                    await self.connect()
                except DaybreakAuthenticationError:
                    raise
                except DaybreakError as err:  # unreachable, or a bad answer: try again
                    _LOGGER.debug(
                        "Reconnect to %s failed (%s); next try in %.0f s", self.url, err, delay
                    )
                    # Wait for the next try, or until close() sets the event.
                    self._disconnected.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay * random.uniform(0.8, 1.2)):  # noqa: S311
                            await self._disconnected.wait()
                    delay = min(delay * 2, self._reconnect_max)
                    continue
                if self._was_closed():  # close() was called while we were connecting
                    await self._drop_connection()
                    return
                delay = self._reconnect_min
                self._notify_connection(True)
            await self._disconnected.wait()
            if not self._closing:
                self._disconnected.clear()  # close() sets it again, ending the wait below
                self._notify_connection(False)
                # Back off before the first try too: a device that is stopping drops its
                # clients while it still accepts connections, so reconnecting at once
                # reaches it just before it goes away (lost, back, lost again).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay * random.uniform(0.8, 1.2)):  # noqa: S311
                        await self._disconnected.wait()

    async def close(self) -> None:
        """Close the connection and make :meth:`run` return."""
        self._closing = True
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
        return self._set_state(
            DaybreakState.from_dict((await self._call(EVENT_GET_STATE)).get("state"))
        )

    async def get_info(self) -> DeviceInfo:
        """Read the device info."""
        return self._set_info((await self._call(EVENT_GET_INFO)).get("info"))

    async def ping(self) -> float:
        """Measure the round-trip time of a request (``info.get``), in seconds."""
        start = perf_counter()
        ack = await self._call(EVENT_GET_INFO)
        elapsed = perf_counter() - start
        self._set_info(ack.get("info"))
        return elapsed

    async def set_light(
        self,
        *,
        on: bool | None = None,
        brightness: float | None = None,
        transition: float | None = None,
    ) -> DaybreakState:
        """Turn on/off and/or set brightness (0-255), fading over ``transition`` seconds."""
        payload = _given(on=on, brightness=brightness, transition=transition)
        return await self._command(EVENT_SET_LIGHT, payload)

    async def start_sunrise(
        self,
        *,
        duration: float | None = None,
        target_brightness: float | None = None,
        start_brightness: float | None = None,
        curve: Curve | None = None,
    ) -> DaybreakState:
        """Start a sunrise on the device; omitted values take the device's defaults."""
        payload = _given(
            duration=duration,
            target_brightness=target_brightness,
            start_brightness=start_brightness,
            curve=curve,
        )
        return await self._command(EVENT_START_SUNRISE, payload)

    async def stop_sunrise(self) -> DaybreakState:
        """Stop a running sunrise; the light holds the level it reached."""
        return await self._command(EVENT_STOP_SUNRISE, None)

    # -- alarms -------------------------------------------------------------------

    async def list_alarms(self) -> list[Alarm]:
        """Read the alarms stored on the device."""
        return await self._alarm_command(EVENT_LIST_ALARMS, None)

    async def create_alarm(
        self,
        time: str,
        *,
        alarm_id: str | None = None,
        weekdays: Iterable[int] | None = None,
        enabled: bool | None = None,
        duration: float | None = None,
        target_brightness: float | None = None,
        curve: Curve | None = None,
    ) -> Alarm:
        """Add an alarm (wake time ``HH:MM``); omitted values take the device's defaults.

        ``alarm_id`` chooses its id (refused with ``conflict`` when taken); without it
        the device makes one up. Returns the alarm created, as the device's answer says
        (so an alarm another client creates at the same moment is never taken for it);
        :attr:`alarms` has all of them. The device refuses a 21st with ``limit_reached``.
        """
        payload = _alarm_fields(
            id=alarm_id,
            time=time,
            weekdays=weekdays,
            enabled=enabled,
            duration=duration,
            target_brightness=target_brightness,
            curve=curve,
        )
        ack = await self._alarm_ack(EVENT_CREATE_ALARM, payload)
        return Alarm.from_dict(ack.get("alarm"))

    async def update_alarm(
        self,
        alarm_id: str,
        *,
        time: str | None = None,
        weekdays: Iterable[int] | None = None,
        enabled: bool | None = None,
        duration: float | None = None,
        target_brightness: float | None = None,
        curve: Curve | None = None,
    ) -> list[Alarm]:
        """Change the given fields of an alarm (at least one); returns all alarms."""
        payload = {"id": alarm_id} | _alarm_fields(
            time=time,
            weekdays=weekdays,
            enabled=enabled,
            duration=duration,
            target_brightness=target_brightness,
            curve=curve,
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
        ack = await self._call(event, _validated(event, payload))
        alarms = _alarms(ack.get("alarms"))
        self._set_state(DaybreakState.from_dict(ack.get("state")))
        self._set_alarms(alarms)
        return ack

    async def _command(self, event: str, payload: dict[str, Any] | None) -> DaybreakState:
        payload = _validated(event, payload)
        return self._set_state(
            DaybreakState.from_dict((await self._call(event, payload)).get("state"))
        )

    async def _call(self, event: str, payload: Any = None) -> dict[str, Any]:
        sio = self._sio
        if sio is None or not sio.connected:
            raise DaybreakConnectionError("not connected to the device")
        try:
            ack = await sio.call(event, payload, timeout=self._timeout)
        except socketio.exceptions.TimeoutError as err:
            raise DaybreakConnectionError(f"{event}: no answer from the device") from err
        except (socketio.exceptions.SocketIOError, OSError) as err:
            raise DaybreakConnectionError(f"{event}: {err}") from err
        if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
            raise DaybreakError(f"{event}: malformed answer from the device")
        if not ack["ok"]:
            error = ack.get("error")
            if not isinstance(error, dict):
                error = {}
            code, message = str(error.get("code", "unknown")), str(error.get("message", ""))
            if code == "unauthorized":
                raise DaybreakAuthenticationError(message)
            raise DaybreakCommandError(code, message)
        return ack

    def _set_state(self, state: DaybreakState) -> DaybreakState:
        self.state = state
        for callback in list(self._state_callbacks):
            callback(state)
        return state

    def _set_info(self, data: Any) -> DeviceInfo:
        info = DeviceInfo.from_dict(data)
        self.info = info
        if info.uptime is not None:
            self._set_uptime(info.uptime)
        return info

    def _set_uptime(self, uptime: float) -> None:
        self.started_at = datetime.now(UTC) - timedelta(seconds=uptime)

    def _set_alarms(self, alarms: list[Alarm]) -> None:
        if alarms == self.alarms:
            return
        self.alarms = alarms
        for callback in list(self._alarms_callbacks):
            callback(alarms)

    def _notify_connection(self, connected: bool) -> None:
        for callback in list(self._connection_callbacks):
            callback(connected)

    def _was_closed(self) -> bool:
        """Whether :meth:`close` was called (a method, so type checkers re-read it after awaits)."""
        return self._closing

    async def _drop_connection(self) -> None:
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

    async def _on_disconnect(self, reason: Any = None) -> None:
        _LOGGER.debug("Disconnected from %s (%s)", self.url, reason)
        self._disconnected.set()

    async def _on_state(self, data: Any) -> None:
        try:
            state = DaybreakState.from_dict(data)
        except DaybreakError:
            _LOGGER.warning("Ignoring a malformed state from %s: %r", self.url, data)
            return
        self._set_state(state)

    async def _on_heartbeat(self, data: Any) -> None:
        uptime = data.get("uptime") if isinstance(data, dict) else None
        if isinstance(uptime, int | float) and not isinstance(uptime, bool):
            self._set_uptime(float(uptime))

    async def _on_alarms(self, data: Any) -> None:
        try:
            alarms = _alarms(data.get("alarms") if isinstance(data, dict) else None)
        except DaybreakError:
            _LOGGER.warning("Ignoring a malformed alarm list from %s: %.200r", self.url, data)
            return
        self._set_alarms(alarms)

    def _event_handler(self, event: str) -> Callable[[Any], Awaitable[None]]:
        async def handler(data: Any = None) -> None:
            try:
                parsed = DaybreakEvent.from_dict(event, data)
            except DaybreakError:
                _LOGGER.warning(
                    "Ignoring a malformed %s event from %s: %.200r", event, self.url, data
                )
                return
            for callback in list(self._event_callbacks):
                callback(parsed)

        return handler
