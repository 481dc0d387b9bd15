"""The device server: Socket.IO and REST on one uvicorn, in one asyncio loop.

:class:`DaybreakServer` wires the pieces together: the output backend, the
:class:`~daybreak_device.light.LightController`, a python-socketio ``AsyncServer``
(ASGI, WebSocket only) wrapped around a Starlette app with the REST API, and the
push stream task that pushes, in order, the one-off events (``sunrise.*``,
``alarm.fired``) as they happen, ``state`` and ``alarms`` on change (coalesced) and
``heartbeat`` periodically.
Socket.IO commands and REST calls go through the same :meth:`DaybreakServer.execute`,
so they validate and answer alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import socket
import time
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import engineio
import socketio
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import __version__
from .alarms import Alarm, AlarmScheduler, Occurrence, iso_local, load_timezone, zone_name
from .config import Settings, resolve_device_id
from .dimming import Dimmer
from .discovery import Advertiser, advertising_plan, build_service_info
from .light import LightController, iso_utc
from .output import GpiozeroOutput, Output, SysfsPwmOutput, mock_pin_factory
from .protocol import (
    COMMANDS,
    EVENT_ALARM_FIRED,
    EVENT_ALARMS,
    EVENT_CREATE_ALARM,
    EVENT_DELETE_ALARM,
    EVENT_GET_ALARM,
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
    MAX_PAYLOAD_BYTES,
    PROTOCOL_VERSION,
    Ack,
    AlarmFiredPayload,
    AlarmsPayload,
    CreateAlarmCommand,
    ErrorCode,
    HeartbeatPayload,
    InfoPayload,
    ProtocolError,
    SetLightCommand,
    StartSunriseCommand,
    StatePayload,
    SunriseEventPayload,
    UpdateAlarmCommand,
    error_ack,
    validate_command,
)
from .webpage import web_routes

_LOGGER = logging.getLogger(__name__)

MODEL = "Daybreak DIY wake-up light"
#: Hard cap on one Engine.IO message; larger frames close the connection. Commands
#: are far smaller and get a clear ``payload_too_large`` error above MAX_PAYLOAD_BYTES.
MAX_FRAME_BYTES = 64 * 1024
CLIENTS_ROOM = "clients"
#: Socket.IO packet types that carry binary attachments (BINARY_EVENT, BINARY_ACK).
_BINARY_PACKET_TYPES = (str(socketio.packet.BINARY_EVENT), str(socketio.packet.BINARY_ACK))
_HTTP_STATUS: dict[ErrorCode, int] = {
    "invalid_payload": 422,
    "payload_too_large": 413,
    "unknown_event": 404,
    "unauthorized": 401,
    "not_found": 404,
    "method_not_allowed": 405,
    "internal_error": 500,
    "limit_reached": 409,
    "conflict": 409,
}


def build_output(settings: Settings) -> Output:
    """Open the output backend the settings ask for."""
    if settings.output == "sysfs":
        return SysfsPwmOutput(
            chip=settings.pwm_chip,
            channel=settings.pwm_channel,
            frequency=settings.pwm_frequency(),
            root=settings.sysfs_root,
            active_high=not settings.active_low,
        )
    pin: int | str = int(settings.pin) if settings.pin.isdigit() else settings.pin
    return GpiozeroOutput(
        pin,
        settings.pwm_frequency(),
        active_high=not settings.active_low,
        pin_factory=mock_pin_factory() if settings.mock else None,
    )


class _BadJsonError(ProtocolError):
    """A REST body that is not JSON at all (HTTP 400 rather than 422)."""

    def __init__(self) -> None:
        super().__init__("invalid_payload", "body is not valid JSON")


class _EngineIOServer(engineio.AsyncServer):  # type: ignore[misc]
    """Engine.IO server that keeps references to its background tasks.

    python-engineio starts per-client ping tasks with ``asyncio.ensure_future`` and
    keeps no reference; keeping them lets :meth:`DaybreakServer.stop` cancel them, so
    stopping leaves no task behind (Home Assistant's tests check that).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks: set[asyncio.Future[Any]] = set()

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Start the task as usual and remember it until it is done."""
        task = super().start_background_task(target, *args, **kwargs)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


class _SocketIOServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's ``AsyncServer`` on top of :class:`_EngineIOServer`.

    It also refuses binary packets: the protocol is JSON only, and python-socketio
    would keep a binary packet's attachments in memory until as many as its header
    announces (up to 10 digits) have arrived; each frame is capped, their count is not.
    """

    def _engineio_server_class(self) -> type[_EngineIOServer]:
        return _EngineIOServer

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, bytes):
            return  # a binary attachment: dropped, never buffered
        if isinstance(data, str) and data[:1] in _BINARY_PACKET_TYPES:
            await self._refuse_binary_packet(eio_sid, data)
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, RecursionError) as err:
            # A frame python-socketio cannot decode (bad JSON, nesting too deep for
            # Python 3.11, a bad packet type): dropped, as the library would, but
            # without an error and a traceback in the log for each one.
            _LOGGER.debug("Dropped a malformed Socket.IO frame: %s", err)

    async def _refuse_binary_packet(self, eio_sid: str, data: str) -> None:
        """Answer a binary event that asks for an ack with an error; drop anything else."""
        try:
            pkt = self.packet_class(encoded_packet=data)
        except (ValueError, RecursionError):
            return
        namespace = pkt.namespace or "/"
        if (
            pkt.packet_type == socketio.packet.BINARY_EVENT
            and pkt.id is not None
            and self.manager.sid_from_eio_sid(eio_sid, namespace) is not None
        ):
            ack = error_ack("invalid_payload", "binary attachments are not supported")
            await self._send_packet(
                eio_sid,
                self.packet_class(socketio.packet.ACK, namespace=namespace, id=pkt.id, data=[ack]),
            )


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: :func:`DaybreakServer.run` owns signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


class DaybreakServer:
    """One Daybreak device: light controller, Socket.IO, REST and background tasks.

    Use :meth:`start` / :meth:`stop` (tests, embedding) or :meth:`run` (the CLI,
    which also handles SIGINT and SIGTERM).
    """

    def __init__(
        self,
        settings: Settings,
        token: str,
        *,
        output: Output | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Prepare the server; nothing is opened or bound until :meth:`start`.

        ``clock`` is the wall clock (epoch seconds) of the ramps and alarms.
        """
        self.settings = settings
        self._token = token.encode()
        self._output = output
        self._clock = clock
        self._controller: LightController | None = None
        self._alarms: AlarmScheduler | None = None
        self._advertiser: Advertiser | None = None
        self._device_id = ""
        self._started_monotonic = time.monotonic()
        # The push stream: woken by _wake; pushes the queued one-off events in order,
        # then the state and the alarms if they are marked dirty.
        self._wake = asyncio.Event()
        self._events: deque[tuple[str, SunriseEventPayload | AlarmFiredPayload]] = deque()
        self._state_dirty = False
        self._alarms_dirty = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._uvicorn: _Uvicorn | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._stopping = False
        self.sio = _SocketIOServer(
            async_mode="asgi",
            transports=["websocket"],
            max_http_buffer_size=MAX_FRAME_BYTES,
            ping_interval=settings.ping_interval,
            ping_timeout=settings.ping_timeout,
            # cors_allowed_origins stays at its default: same origin only.
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        for event in COMMANDS:
            self.sio.on(event, self._command_handler(event))
        self.sio.on("*", self._on_unknown_event)
        self.app = socketio.ASGIApp(self.sio, other_asgi_app=self._build_rest_app())

    # -- lifecycle -------------------------------------------------------------------

    @property
    def controller(self) -> LightController:
        """The light controller (available after :meth:`start`)."""
        if self._controller is None:
            raise RuntimeError("server not started")
        return self._controller

    @property
    def alarms(self) -> AlarmScheduler:
        """The alarm scheduler (available after :meth:`start`)."""
        if self._alarms is None:
            raise RuntimeError("server not started")
        return self._alarms

    @property
    def advertiser(self) -> Advertiser | None:
        """The zeroconf advertiser while the device is advertised, else ``None``."""
        return self._advertiser

    @property
    def port(self) -> int:
        """The TCP port actually bound (useful with port 0)."""
        if self._socket is None:
            raise RuntimeError("server not started")
        return int(self._socket.getsockname()[1])

    async def start(self) -> None:
        """Open the output, restore state, bind the port and start serving."""
        self._started_monotonic = time.monotonic()
        settings = self.settings
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self._device_id = await asyncio.to_thread(resolve_device_id, settings.state_dir)
        if self._output is None:
            self._output = build_output(settings)
        dimmer = Dimmer(settings.dimming, settings.gamma, settings.min_duty)
        timezone = await asyncio.to_thread(load_timezone, settings.timezone)
        self._alarms = AlarmScheduler(
            timezone, fire=self._fire_alarm, save=self._save_state, clock=self._clock
        )
        self._controller = LightController(
            self._output,
            dimmer,
            settings.state_dir / "state.json",
            tick_rate=settings.tick_rate,
            progress_interval=settings.progress_interval,
            wall_clock=self._clock,
        )
        # The alarms live in the state file too: one atomic write holds both a started
        # alarm sunrise and the alarm's note that it fired.
        self._controller.persist("alarms", load=self._alarms.load, dump=self._alarms.dump)
        await self._controller.start()
        self._controller.add_listener(self._state_changed)
        self._controller.add_event_listener(self._queue_event)
        self._alarms.add_listener(self._alarms_changed)
        self._alarms.start()
        if settings.mock:
            self._controller.add_listener(self._log_mock_led)
        self._spawn(self._push_stream(), "daybreak push stream")

        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only
        # when the proto says TCP; without it, Nagle delays each response body by ~40 ms.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        sock.setblocking(False)
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            ws_max_size=MAX_FRAME_BYTES,
        )
        self._uvicorn = _Uvicorn(config)
        self._serve_task = asyncio.create_task(
            self._uvicorn.serve(sockets=[sock]), name="daybreak uvicorn"
        )
        while not self._uvicorn.started:
            if self._serve_task.done():
                self._serve_task.result()  # raises what failed
                raise RuntimeError("uvicorn stopped during startup")
            await asyncio.sleep(0.005)
        _LOGGER.info(
            "Daybreak device %r (id %s) serving on %s:%d with %s",
            settings.name,
            self._device_id,
            settings.host,
            self.port,
            self._output.description,
        )
        if settings.zeroconf:
            await self._advertise()

    async def _advertise(self) -> None:
        """Advertise the device with zeroconf (in the background; failures are logged)."""
        try:
            interfaces, ip_version, addresses = await asyncio.to_thread(
                advertising_plan, self.settings.host
            )
        except OSError as err:
            _LOGGER.error("Not advertising the device: %s", err)  # noqa: TRY400
            return
        info = build_service_info(
            name=self.settings.name,
            device_id=self._device_id,
            port=self.port,
            addresses=addresses,
            version=__version__,
        )
        self._advertiser = Advertiser(info, interfaces=interfaces, ip_version=ip_version)
        await self._advertiser.start()

    async def stop(self) -> None:
        """Stop everything: new connections, clients, engine (state saved), tasks, output.

        The listening socket closes first, so clients that are dropped do not reconnect
        to a server that is going away; commands are refused from then on.
        """
        self._stopping = True
        if self._advertiser is not None:
            await self._advertiser.stop()
            self._advertiser = None
        if self._alarms is not None:
            await self._alarms.stop()
        if self._uvicorn is not None:
            for listener in self._uvicorn.servers:
                listener.close()
            await self.sio.shutdown()
            for sid, _eio_sid in list(self.sio.manager.get_participants("/", CLIENTS_ROOM)):
                await self.sio.disconnect(sid)
        if self._controller is not None:
            await self._controller.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._uvicorn is not None and self._serve_task is not None:
            self._uvicorn.should_exit = True
            await self._serve_task
            self._uvicorn = None
        eio_tasks = self.sio.eio.tasks
        for task in list(eio_tasks):
            task.cancel()
        if eio_tasks:
            await asyncio.wait(eio_tasks)
        if self._socket is not None:
            self._socket.close()
        if self._output is not None:
            self._output.close(turn_off=self.settings.on_exit == "off")

    async def run(self) -> None:
        """Start, serve until SIGINT or SIGTERM, then stop cleanly."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
            await stop.wait()
            _LOGGER.info("Stopping")
        finally:
            await self.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _log_mock_led(self) -> None:
        """With ``--mock`` there is no LED to look at: log what it would show."""
        state = self.controller.snapshot()
        _LOGGER.info(
            "Mock LED: %s, brightness %d, duty %.4f%s",
            "on" if state["on"] else "off",
            state["brightness"],
            self.controller.output.duty,
            f", sunrise {state['sunrise']['progress']:.0%}" if state["sunrise"] else "",
        )

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        # Keep a reference so the task is not garbage-collected mid-run.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- protocol -----------------------------------------------------------------

    def uptime(self) -> float:
        """Seconds since the server started (monotonic clock, rounded to 1 ms)."""
        return round(time.monotonic() - self._started_monotonic, 3)

    def info(self) -> InfoPayload:
        """The device info payload."""
        return {
            "device_id": self._device_id,
            "name": self.settings.name,
            "model": MODEL,
            "sw_version": __version__,
            "protocol_version": PROTOCOL_VERSION,
            "output": self._output.description if self._output else "",
            "timezone": zone_name(self._alarms.tz) if self._alarms else "",
            "uptime": self.uptime(),
        }

    def state(self) -> StatePayload:
        """The state payload: the light's state and the next alarm sunrise."""
        return self._with_next_sunrise(self.controller.snapshot())

    def alarms_payload(self) -> AlarmsPayload:
        """The ``alarms`` event's payload: every alarm."""
        return {"alarms": self.alarms.list_payload()}

    def _with_next_sunrise(self, state: StatePayload) -> StatePayload:
        state["next_sunrise"] = self.alarms.next_sunrise_payload()
        return state

    async def execute(self, event: str, payload: Any) -> Ack:
        """Validate and run one command; raise :class:`ProtocolError` if refused."""
        data = validate_command(event, payload)
        if self._stopping:
            raise ProtocolError("internal_error", "the device is shutting down")
        controller = self.controller
        if event == EVENT_SET_LIGHT:
            command: SetLightCommand = data  # type: ignore[assignment]
            state = await controller.set_light(command)
            return {"ok": True, "state": self._with_next_sunrise(state)}
        if event == EVENT_START_SUNRISE:
            sunrise: StartSunriseCommand = data  # type: ignore[assignment]
            state = await controller.start_sunrise(sunrise)
            return {"ok": True, "state": self._with_next_sunrise(state)}
        if event == EVENT_STOP_SUNRISE:
            state = await controller.stop_sunrise()
            return {"ok": True, "state": self._with_next_sunrise(state)}
        if event == EVENT_GET_STATE:
            return {"ok": True, "state": self.state()}
        if event == EVENT_GET_INFO:
            return {"ok": True, "info": self.info()}
        return await self._execute_alarm(event, data)

    async def _execute_alarm(self, event: str, data: dict[str, Any]) -> Ack:
        """Run an alarm command: the ack has ``alarms``, ``state`` and (one alarm) ``alarm``."""
        alarms = self.alarms
        alarm: Alarm | None = None
        if event == EVENT_LIST_ALARMS:
            pass
        elif event == EVENT_GET_ALARM:
            alarm = alarms.get(data["id"])
        elif event == EVENT_CREATE_ALARM:
            create: CreateAlarmCommand = data  # type: ignore[assignment]
            alarm = await alarms.create(create)
        elif event == EVENT_UPDATE_ALARM:
            update: UpdateAlarmCommand = data  # type: ignore[assignment]
            alarm = await alarms.update(update)
        elif event == EVENT_DELETE_ALARM:
            await alarms.delete(data["id"])
        elif event == EVENT_SKIP_ALARM:
            alarm = await alarms.skip_next(data["id"], skip=data["skip"])
        else:  # pragma: no cover - validate_command knows every event
            raise ProtocolError("unknown_event", f"unknown event {event!r}")
        ack: Ack = {"ok": True, "alarms": alarms.list_payload(), "state": self.state()}
        if alarm is not None:
            ack["alarm"] = alarms.payload(alarm)
        return ack

    async def _fire_alarm(self, alarm: Alarm, occurrence: Occurrence) -> None:
        """Start an alarm's sunrise at its scheduled start, so it ends at the wake time.

        A light already at or above the alarm's brightness is left alone: a wake-up
        alarm never dims the room. Either way ``alarm.fired`` is pushed first (with
        ``sunrise`` false when left alone), then the sunrise's ``sunrise.started``.
        """
        controller = self.controller
        bright = controller.snapshot()["on"] and (
            controller.current_level() >= alarm.target_brightness
        )
        fired: AlarmFiredPayload = {
            "time": iso_utc(self._clock()),
            "alarm_id": alarm.id,
            "wake_at": iso_local(occurrence.wake_at, self.alarms.tz),
            "sunrise": not bright,
        }
        self._queue_event(EVENT_ALARM_FIRED, fired)
        if bright:
            _LOGGER.info("Alarm %s: the light is already that bright; left alone", alarm.id)
            return
        command: StartSunriseCommand = {
            "duration": alarm.duration,
            "target_brightness": alarm.target_brightness,
            "start_brightness": None,
            "curve": alarm.curve,
        }
        await controller.start_sunrise(command, started_at=occurrence.starts_at, alarm_id=alarm.id)

    async def _save_state(self) -> None:
        await self.controller.save()

    async def _safe_execute(self, event: str, payload: Any) -> Ack:
        try:
            return await self.execute(event, payload)
        except ProtocolError as err:
            return err.as_ack()
        except Exception:
            _LOGGER.exception("Command %s failed", event)
            return error_ack("internal_error", "the device could not carry out the command")

    # -- Socket.IO ------------------------------------------------------------------

    def _authorized(self, token: Any) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self._token)

    async def _on_connect(
        self, sid: str, environ: Any = None, auth: Any = None, *_: Any
    ) -> Ack | None:
        """Accept a client whose ``auth`` carries the token; then send it the state."""
        if self.sio.manager.is_connected(sid, "/"):
            # Not a connection: a connected client sent an event named "connect".
            return error_ack("unknown_event", "unknown event 'connect'")
        token = auth.get("token") if isinstance(auth, dict) else None
        if not self._authorized(token):
            _LOGGER.info("Refused a client from %s: bad token", environ.get("REMOTE_ADDR"))
            # Reaches the client as {"message": ..., "data": {"code": "unauthorized"}}.
            raise socketio.exceptions.ConnectionRefusedError(
                "missing or wrong token", {"code": "unauthorized"}
            )
        await self.sio.enter_room(sid, CLIENTS_ROOM)
        # The CONNECT packet is sent after this handler returns; state and alarms follow.
        self._spawn(self._send_initial(sid), f"daybreak initial state {sid}")
        return None

    async def _send_initial(self, sid: str) -> None:
        """Send a new client the state, then the alarms (no one-off events)."""
        await asyncio.sleep(0)
        await self.sio.emit(EVENT_STATE, self.state(), to=sid)
        await self.sio.emit(EVENT_ALARMS, self.alarms_payload(), to=sid)

    async def _on_disconnect(self, sid: str, reason: Any = None, *_: Any) -> Ack | None:
        if self.sio.manager.is_connected(sid, "/"):
            # Not a disconnection: a connected client sent an event named "disconnect".
            return error_ack("unknown_event", "unknown event 'disconnect'")
        _LOGGER.debug("Client %s disconnected (%s)", sid, reason)
        return None

    def _command_handler(self, event: str) -> Any:
        async def handler(sid: str, *args: Any) -> Ack:
            if len(args) > 1:
                return error_ack("invalid_payload", "send one payload object, not several")
            return await self._safe_execute(event, args[0] if args else None)

        handler.__name__ = f"on_{event.replace('.', '_')}"
        return handler

    async def _on_unknown_event(self, event: Any, *args: Any) -> Ack:
        # Called as (event, sid, *data); for an event named "*" (python-socketio's
        # catch-all key) as (sid, *data).
        sid = args[0] if args else None
        if not (isinstance(sid, str) and self.sio.manager.is_connected(sid, "/")):
            event = "*"
        return error_ack("unknown_event", f"unknown event {str(event)[:64]!r}")

    def _state_changed(self) -> None:
        """The light changed: push ``state`` soon."""
        self._state_dirty = True
        self._wake.set()

    def _alarms_changed(self) -> None:
        """The alarms changed: push ``alarms`` and ``state`` (its ``next_sunrise``) soon."""
        self._alarms_dirty = self._state_dirty = True
        self._wake.set()

    def _queue_event(self, event: str, payload: SunriseEventPayload | AlarmFiredPayload) -> None:
        """Push the one-off ``event`` soon, after those queued before it."""
        self._events.append((event, payload))
        self._wake.set()

    async def _push_stream(self) -> None:
        """Push to all clients: one-off events, ``state``, ``alarms``, ``heartbeat``.

        Each wake-up sends the queued events in order, then ``state`` and ``alarms`` if
        they changed since they were last sent (many changes, one push). ``heartbeat``
        goes whenever ``heartbeat_interval`` passes without a wake-up. Runs whether or
        not clients are connected.
        """
        interval = self.settings.heartbeat_interval
        next_heartbeat = time.monotonic() + interval
        while True:
            timeout = max(0.0, next_heartbeat - time.monotonic())
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                next_heartbeat = time.monotonic() + interval
                heartbeat: HeartbeatPayload = {
                    "uptime": self.uptime(),
                    "time": iso_utc(time.time()),
                }
                await self.sio.emit(EVENT_HEARTBEAT, heartbeat, to=CLIENTS_ROOM)
                continue
            self._wake.clear()
            while self._events:
                event, payload = self._events.popleft()
                await self.sio.emit(event, payload, to=CLIENTS_ROOM)
            if self._state_dirty:
                self._state_dirty = False
                await self.sio.emit(EVENT_STATE, self.state(), to=CLIENTS_ROOM)
            if self._alarms_dirty:
                self._alarms_dirty = False
                await self.sio.emit(EVENT_ALARMS, self.alarms_payload(), to=CLIENTS_ROOM)

    # -- REST ---------------------------------------------------------------------

    def _build_rest_app(self) -> Starlette:
        routes = [
            Route("/api/health", self._rest_health, methods=["GET"]),
            Route("/api/info", self._rest_info, methods=["GET"]),
            Route("/api/state", self._rest_state, methods=["GET"]),
            Route("/api/light", self._rest_light, methods=["POST"]),
            Route("/api/sunrise", self._rest_sunrise, methods=["POST", "DELETE"]),
            Route("/api/alarms", self._rest_alarms, methods=["GET", "POST"]),
            Route(
                "/api/alarms/{alarm_id}",
                self._rest_alarm,
                methods=["GET", "PUT", "PATCH", "DELETE"],
            ),
            Route("/api/alarms/{alarm_id}/skip", self._rest_alarm_skip, methods=["POST", "DELETE"]),
            *web_routes(),  # the device's web page: / and /static/..., no token
        ]
        return Starlette(
            routes=routes,
            exception_handlers={HTTPException: self._rest_http_error},
        )

    @staticmethod
    def _error_response(code: ErrorCode, message: str, status: int | None = None) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if code == "unauthorized" else None
        return JSONResponse(
            error_ack(code, message), status_code=status or _HTTP_STATUS[code], headers=headers
        )

    async def _rest_http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return self._error_response("not_found", f"no such resource: {request.url.path}")
        if status == 405:
            response = self._error_response(
                "method_not_allowed", f"{request.method} not allowed here"
            )
            if isinstance(exc, HTTPException) and exc.headers:
                response.headers.update(exc.headers)  # Allow: the methods that are
            return response
        return self._error_response("internal_error", "request failed", status)

    def _check_auth(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self._authorized(token.strip()):
            return self._error_response("unauthorized", "missing or wrong bearer token")
        return None

    async def _read_json(self, request: Request) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_PAYLOAD_BYTES:
            raise ProtocolError("payload_too_large", f"body is over {MAX_PAYLOAD_BYTES} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_PAYLOAD_BYTES:
                raise ProtocolError("payload_too_large", f"body is over {MAX_PAYLOAD_BYTES} bytes")
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise _BadJsonError from None
        except RecursionError:
            # Valid JSON that Python 3.11 cannot parse (3.12+ can, and then refuses
            # it in validation): the same 422 on every Python.
            raise ProtocolError("invalid_payload", "JSON nested too deep") from None

    async def _rest_command(
        self,
        request: Request,
        event: str,
        *,
        body: bool,
        path: dict[str, Any] | None = None,
    ) -> Response:
        """Run ``event`` with the JSON body (if ``body``) and the ``path`` parameters."""
        if (denied := self._check_auth(request)) is not None:
            return denied
        try:
            payload = await self._read_json(request) if body else None
            if path is not None:
                payload = _with_path_parameters(payload, path)
            ack = await self.execute(event, payload)
        except ProtocolError as err:
            status = 400 if isinstance(err, _BadJsonError) else None
            return self._error_response(err.code, err.message, status)
        if event == EVENT_GET_STATE:
            return JSONResponse(ack.get("state"))
        if event == EVENT_GET_INFO:
            return JSONResponse(ack.get("info"))
        if event == EVENT_LIST_ALARMS:
            return JSONResponse(ack.get("alarms"))
        if event == EVENT_GET_ALARM:
            return JSONResponse(ack.get("alarm"))
        if event == EVENT_CREATE_ALARM and "alarm" in ack:
            location = f"/api/alarms/{ack['alarm']['id']}"
            return JSONResponse(ack, status_code=201, headers={"Location": location})
        return JSONResponse(ack)

    async def _rest_health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "protocol_version": PROTOCOL_VERSION})

    async def _rest_info(self, request: Request) -> Response:
        return await self._rest_command(request, EVENT_GET_INFO, body=False)

    async def _rest_state(self, request: Request) -> Response:
        return await self._rest_command(request, EVENT_GET_STATE, body=False)

    async def _rest_light(self, request: Request) -> Response:
        return await self._rest_command(request, EVENT_SET_LIGHT, body=True)

    async def _rest_sunrise(self, request: Request) -> Response:
        if request.method == "DELETE":
            return await self._rest_command(request, EVENT_STOP_SUNRISE, body=False)
        return await self._rest_command(request, EVENT_START_SUNRISE, body=True)

    async def _rest_alarms(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._rest_command(request, EVENT_CREATE_ALARM, body=True)
        return await self._rest_command(request, EVENT_LIST_ALARMS, body=False)

    async def _rest_alarm(self, request: Request) -> Response:
        path = {"id": request.path_params["alarm_id"]}
        if request.method in ("PUT", "PATCH"):
            return await self._rest_command(request, EVENT_UPDATE_ALARM, body=True, path=path)
        event = EVENT_DELETE_ALARM if request.method == "DELETE" else EVENT_GET_ALARM
        return await self._rest_command(request, event, body=False, path=path)

    async def _rest_alarm_skip(self, request: Request) -> Response:
        path = {"id": request.path_params["alarm_id"], "skip": request.method == "POST"}
        return await self._rest_command(request, EVENT_SKIP_ALARM, body=False, path=path)


def _with_path_parameters(payload: Any, path: dict[str, Any]) -> Any:
    """The REST payload: the JSON body with the parameters from the URL path added.

    A body that is not an object is passed on for validation to refuse; a body that
    names a parameter differently from the path is refused here.
    """
    if payload is None:
        return dict(path)
    if not isinstance(payload, dict):
        return payload
    for key, value in path.items():
        if key in payload and payload[key] != value:
            raise ProtocolError("invalid_payload", f"{key!r} in the body differs from the path")
    return {**payload, **path}
