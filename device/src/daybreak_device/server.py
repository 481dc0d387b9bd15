"""The device server: wires the device's parts together and runs them in one loop.

:class:`DaybreakServer` opens the output backend and the state file, builds the
:class:`~daybreak_device.light.LightController` and the
:class:`~daybreak_device.alarms.AlarmScheduler` (both saving through one
:class:`~daybreak_device.statefile.StateFile`), the
:class:`~daybreak_device.router.Router` that runs every command, the two transports
onto it (:mod:`~daybreak_device.sio_transport`, :mod:`~daybreak_device.rest_transport`,
served by one uvicorn on one port), the :class:`~daybreak_device.push.PushStream`, the
:class:`~daybreak_device.wake.WakePolicy` and zeroconf; then starts and stops them in
order. Each of those lives in the module named after it.

In front of both transports stand the defences against hostile peers on the LAN: the
:class:`~daybreak_device.connections.ConnectionGuard` (a cap on connections below the
descriptor limit, a deadline for every phase of a connection), the
:class:`~daybreak_device.connections.PeerGuard` (the ``Host`` check of
:mod:`~daybreak_device.hosts`), the throttled :class:`~daybreak_device.throttle.Login`
and the :class:`~daybreak_device.peerlog.PeerLog`, which counts what peers get wrong and
logs it as one line a minute at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import socketio
import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from . import __version__
from .alarms import AlarmScheduler, load_timezone, zone_name
from .button import BedsideButton, ButtonActions
from .channels import channel_specs, sysfs_target
from .colour import Mixer
from .config import Settings, resolve_device_id
from .connections import (
    KEEP_ALIVE,
    ConnectionGuard,
    PeerGuard,
    connection_limit,
    raise_descriptor_limit,
)
from .dimming import Dimmer
from .discovery import Advertiser, advertising_plan, build_service_info
from .hosts import HostCheck, device_names
from .light import LightController, iso_utc
from .output import (
    GpiozeroOutput,
    MultiOutput,
    Output,
    OutputError,
    SysfsPwmOutput,
    mock_pin_factory,
)
from .peerlog import AcceptErrors, PeerLog, QuietLibraryLog
from .protocol import (
    EVENT_ALARMS,
    EVENT_STATE,
    PROTOCOL_VERSION,
    Ack,
    AlarmsPayload,
    HeartbeatPayload,
    InfoPayload,
    StatePayload,
)
from .push import PushStream
from .rest_transport import RestTransport
from .router import Router
from .sio_transport import CLIENTS_ROOM, MAX_FRAME_BYTES, SocketIOTransport
from .statefile import StateFile
from .throttle import Login
from .wake import WakePolicy
from .webpage import web_routes

if TYPE_CHECKING:
    from gpiozero.pins import Factory

__all__ = [
    "CLIENTS_ROOM",
    "MAX_FRAME_BYTES",
    "MODEL",
    "DaybreakServer",
    "build_mixer",
    "build_output",
]

_LOGGER = logging.getLogger(__name__)

MODEL = "Daybreak DIY wake-up light"

#: Connections accepted per event-loop iteration (asyncio's batch is the backlog).
ACCEPT_BATCH = 32
#: The kernel's queue of connections not yet accepted (uvicorn's default).
LISTEN_BACKLOG = 2048
#: What uvicorn logs about a peer's bytes (per connection or frame): counted instead.
_UVICORN_PEER_MESSAGES = (
    ("Invalid HTTP request received", "bad HTTP requests"),
    ("Unsupported upgrade request", "bad HTTP requests"),
    ("Invalid UTF-8 sequence received from client", "malformed frames"),
)


def build_output(settings: Settings, *, pin_factory: Factory | None = None) -> Output:
    """Open the output backend the settings ask for (one output per colour channel).

    ``pin_factory`` is gpiozero's (default: its own choice, or a mock one with ``mock``).
    """
    if pin_factory is None and settings.mock:
        pin_factory = mock_pin_factory()
    if settings.channels:
        opened: dict[str, Output] = {}
        try:
            for name, target in settings.channels:
                opened[name] = _open_channel(settings, target, pin_factory)
        except (OutputError, ValueError):
            for out in opened.values():
                out.close(turn_off=True)
            raise
        return MultiOutput(opened)
    if settings.output == "sysfs":
        return SysfsPwmOutput(
            chip=settings.pwm_chip,
            channel=settings.pwm_channel,
            frequency=settings.pwm_frequency(),
            root=settings.sysfs_root,
            active_high=not settings.active_low,
        )
    return _open_channel(settings, settings.pin, pin_factory)


def _open_channel(settings: Settings, target: str, pin_factory: Factory | None) -> Output:
    """Open one channel: a gpiozero pin, or a sysfs PWM channel (``N`` or ``pwmchipC/N``)."""
    if settings.output == "sysfs":
        chip, channel = (
            sysfs_target(target, settings.pwm_chip)
            if settings.channels
            else (settings.pwm_chip, settings.pwm_channel)
        )
        return SysfsPwmOutput(
            chip=chip,
            channel=channel,
            frequency=settings.pwm_frequency(),
            root=settings.sysfs_root,
            active_high=not settings.active_low,
        )
    pin: int | str = int(target) if target.isdigit() else target
    return GpiozeroOutput(
        pin,
        settings.pwm_frequency(),
        active_high=not settings.active_low,
        pin_factory=pin_factory,
    )


def build_mixer(settings: Settings) -> Mixer | None:
    """The colour mixer for the configured channels (``None`` for one channel)."""
    if not settings.channels:
        return None
    specs = channel_specs(settings.channels, settings.calibration)
    return Mixer([spec.mixer_channel() for spec in specs])


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: :func:`DaybreakServer.run` owns signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


class DaybreakServer:
    """One Daybreak device: light controller, alarms, transports and background tasks.

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
        pin_factory: Factory | None = None,
    ) -> None:
        """Prepare the server; nothing is opened or bound until :meth:`start`.

        ``clock`` is the wall clock (epoch seconds) of the ramps and alarms;
        ``pin_factory`` the gpiozero pin factory of the bedside button (default: the
        mock one with ``--mock``, else gpiozero's).
        """
        self.settings = settings
        self._output = output
        self._pin_factory = pin_factory
        self._button: BedsideButton | None = None
        self._clock = clock
        # Push before persist: the state file's writer waits for the push stream.
        self._store = StateFile(
            settings.state_dir / "state.json", clock=clock, before_write=self._pushed
        )
        self._controller: LightController | None = None
        self._alarms: AlarmScheduler | None = None
        self._router: Router | None = None
        self._advertiser: Advertiser | None = None
        self._device_id = ""
        self._started_monotonic = time.monotonic()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._uvicorn: _Uvicorn | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._push = PushStream(
            self._emit,
            state=self.state,
            alarms=self.alarms_payload,
            heartbeat=self._heartbeat,
            heartbeat_interval=settings.heartbeat_interval,
        )
        self._store.add_listener(self._push.state_changed)
        #: What peers got wrong, counted and summarised (see :mod:`.peerlog`).
        self.peers = PeerLog()
        self._login = Login(token, self.peers)
        self._accept_errors = AcceptErrors(self.peers)
        self._uvicorn_filter = QuietLibraryLog(self.peers, _UVICORN_PEER_MESSAGES)
        self.connections = ConnectionGuard(
            settings.max_connections, self.peers, accepted=self._accept_errors.accepted
        )
        self._hosts = HostCheck()
        self._sio = SocketIOTransport(
            self,
            login=self._login.check,
            authenticated=self.connections.authenticated,
            peers=self.peers,
            initial=lambda: [(EVENT_STATE, self.state()), (EVENT_ALARMS, self.alarms_payload())],
            ping_interval=settings.ping_interval,
            ping_timeout=settings.ping_timeout,
        )
        self.sio = self._sio.sio
        self._rest = RestTransport(
            self,
            login=self._login.check,
            authenticated=self.connections.authenticated,
            health=self.health,
            extra=web_routes(),  # the device's web page: / and /static/..., no token
        )
        self.app = PeerGuard(
            socketio.ASGIApp(self.sio, other_asgi_app=self._rest.app),
            guard=self.connections,
            hosts=self._hosts,
            peers=self.peers,
        )

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
    def router(self) -> Router:
        """The command router (available after :meth:`start`)."""
        if self._router is None:
            raise RuntimeError("server not started")
        return self._router

    @property
    def store(self) -> StateFile:
        """The state file."""
        return self._store

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
        """Open the output, restore state, bind the port and start serving.

        A state directory that cannot be created, read or written does not stop the
        device: it serves from memory (defaults, or what it could read) and reports the
        fault in ``/api/health``, ``info`` and ``state`` until the disk takes the state.
        """
        self._started_monotonic = time.monotonic()
        settings = self.settings
        self._device_id = await asyncio.to_thread(_device_id, settings)
        self._hosts.add(
            *device_names(
                name=settings.name,
                device_id=self._device_id,
                bind=settings.host,
                allowed=settings.allowed_host,
            )
        )
        descriptors = raise_descriptor_limit()
        self.connections.limit = connection_limit(settings.max_connections, descriptors)
        if self.connections.limit < settings.max_connections:
            _LOGGER.warning(
                "At most %d connections (not %d): the process may open %d files; "
                "raise LimitNOFILE (ulimit -n) for more",
                self.connections.limit,
                settings.max_connections,
                descriptors,
            )
        if self._output is None:
            self._output = build_output(settings)
        dimmer = Dimmer(settings.dimming, settings.gamma, settings.min_duty)
        timezone = await asyncio.to_thread(load_timezone, settings.timezone)
        self._controller = LightController(
            self._output,
            dimmer,
            self._store,
            mixer=build_mixer(settings),
            tick_rate=settings.tick_rate,
            progress_interval=settings.progress_interval,
            wall_clock=self._clock,
        )
        wake = WakePolicy(
            self._controller,
            event=self._push.event,
            timezone=lambda: self.alarms.tz,
            clock=self._clock,
        )
        self._alarms = AlarmScheduler(
            timezone,
            fire=wake.fire,
            save=self._store.save,
            clock=self._clock,
            colour=bool(settings.channels),
        )
        alarms = self._alarms
        # The alarms live in the state file too: one atomic write holds both a started
        # alarm sunrise and the alarm's note that it fired.
        self._store.add_section(
            frozenset({"alarms"}),
            load=lambda data: alarms.load(data.get("alarms")),
            dump=lambda: {"alarms": alarms.dump()},
        )
        # Looked up per call, so a test (or a subclass) can replace them on the server.
        self._router = Router(
            self._controller,
            alarms,
            state=lambda: self.state(),  # noqa: PLW0108 - late-bound, see above
            complete=lambda state: self._complete(state),  # noqa: PLW0108
            info=lambda: self.info(),  # noqa: PLW0108
        )
        await self._store.open()
        await self._controller.start()
        # One write at start: it tells at once whether the disk takes the state (and
        # saves a sunrise that ended while the device was down). A fault is reported
        # (in the log once, in health, info and state) and retried; it never stops us.
        self._store.request_save()
        self._controller.add_listener(self._push.state_changed)
        self._controller.add_event_listener(self._push.event)
        alarms.add_listener(self._push.alarms_changed)
        alarms.start()
        if settings.mock:
            self._controller.add_listener(self._log_mock_led)
        self._start_tasks()

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
            http=self.connections.protocol_class(AutoHTTPProtocol),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=KEEP_ALIVE,
            # asyncio accepts up to `backlog` connections per loop iteration: a burst of
            # a thousand would stall every answer for ~0.1 s. The kernel's queue is made
            # long again below, once uvicorn has called listen().
            backlog=ACCEPT_BATCH,
            ws_max_size=MAX_FRAME_BYTES,
            # The TCP peer is the client: X-Forwarded-For from a local process must not
            # pick the address that logins are throttled by.
            proxy_headers=False,
        )
        # After uvicorn.Config: it configures its loggers.
        logging.getLogger("uvicorn.error").addFilter(self._uvicorn_filter)
        self._uvicorn = _Uvicorn(config)
        self._serve_task = asyncio.create_task(
            self._uvicorn.serve(sockets=[sock]), name="daybreak uvicorn"
        )
        while not self._uvicorn.started:
            if self._serve_task.done():
                self._serve_task.result()  # raises what failed
                raise RuntimeError("uvicorn stopped during startup")
            await asyncio.sleep(0.005)
        sock.listen(LISTEN_BACKLOG)
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

    def _start_tasks(self) -> None:
        """Start the push stream, the connection guard and the bedside button."""
        self._spawn(self._push.run(), "daybreak push stream")
        self._accept_errors.install(asyncio.get_running_loop())
        self._spawn(self.connections.run(tick=self.peers.flush), "daybreak connection guard")
        if self.settings.button_pin is not None:
            self._open_button(self.settings.button_pin)

    def _open_button(self, pin: str) -> None:
        """Read the bedside button on ``pin``; a pin that cannot be opened is logged."""
        actions = ButtonActions(
            self.controller, event=self._push.event, guard=self.router.guard, clock=self._clock
        )
        factory = self._pin_factory
        if factory is None and self.settings.mock:
            factory = mock_pin_factory()
        button = BedsideButton(
            int(pin) if pin.isdigit() else pin, actions.press, pin_factory=factory
        )
        try:
            button.open()
        except Exception as err:  # noqa: BLE001 - gpiozero raises many kinds; serve on
            _LOGGER.error("Cannot read the bedside button on %s: %s", pin, err)  # noqa: TRY400
            return
        self._button = button
        self._spawn(actions.run(), "daybreak bedside button")
        _LOGGER.info("Reading the %s", button.description)

    @property
    def button(self) -> BedsideButton | None:
        """The bedside button, when one is configured and could be opened."""
        return self._button

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
        to a server that is going away; commands are refused from then on. A disk that
        cannot take the last write costs at most about a second, never an error.
        """
        if self._router is not None:
            self._router.stop()
        if self._advertiser is not None:
            await self._advertiser.stop()
            self._advertiser = None
        if self._alarms is not None:
            await self._alarms.stop()
        if self._button is not None:
            self._button.close()
            self._button = None
        if self._uvicorn is not None:
            for listener in self._uvicorn.servers:
                listener.close()
            await self._sio.close()
        if self._controller is not None:
            await self._controller.stop()
        await self._store.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._uvicorn is not None and self._serve_task is not None:
            self._uvicorn.should_exit = True
            await self._serve_task
            self._uvicorn = None
        eio_tasks = self._sio.engine_tasks
        for eio_task in list(eio_tasks):
            eio_task.cancel()
        if eio_tasks:
            await asyncio.wait(eio_tasks)
        if self._socket is not None:
            self._socket.close()
        self._accept_errors.uninstall()
        logging.getLogger("uvicorn.error").removeFilter(self._uvicorn_filter)
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

    # -- payloads -------------------------------------------------------------------

    async def _pushed(self) -> None:
        await self._push.sent()

    async def _emit(self, event: str, payload: Any) -> None:
        await self._sio.emit(event, payload)

    def uptime(self) -> float:
        """Seconds since the server started (monotonic clock, rounded to 1 ms)."""
        return round(time.monotonic() - self._started_monotonic, 3)

    def started_at(self) -> str:
        """When the server started, by the wall clock now (a clock step moves it)."""
        return iso_utc(time.time() - self.uptime())

    def storage_error(self) -> str | None:
        """Why the newest state is not saved, or ``None`` when it is."""
        fault = self._store.fault
        return None if fault is None else fault.message

    def health(self) -> dict[str, Any]:
        """``GET /api/health``: ``ok``, or ``degraded`` with the storage fault."""
        fault = self._store.fault
        return {
            "status": "ok" if fault is None else "degraded",
            "protocol_version": PROTOCOL_VERSION,
            "storage": {
                "ok": fault is None,
                "error": None if fault is None else fault.message,
                "since": None if fault is None else iso_utc(fault.since),
            },
        }

    def info(self) -> InfoPayload:
        """The device info payload."""
        info: InfoPayload = {
            "device_id": self._device_id,
            "name": self.settings.name,
            "model": MODEL,
            "sw_version": __version__,
            "protocol_version": PROTOCOL_VERSION,
            "output": self._output.description if self._output else "",
            "timezone": zone_name(self._alarms.tz) if self._alarms else "",
            "uptime": self.uptime(),
            "started_at": self.started_at(),
            "storage_error": self.storage_error(),
            "button": self._button is not None,
        }
        channels = self._controller.channels_info() if self._controller else None
        if channels is not None:
            info["channels"] = channels
        return info

    def state(self) -> StatePayload:
        """The state payload: the light's state, the next alarm sunrise, the storage fault."""
        return self._complete(self.controller.snapshot())

    def _complete(self, state: StatePayload) -> StatePayload:
        """The light's snapshot with the next alarm sunrise and the storage fault."""
        state["next_sunrise"] = self.alarms.next_sunrise_payload()
        state["storage_error"] = self.storage_error()
        return state

    def alarms_payload(self) -> AlarmsPayload:
        """The ``alarms`` event's payload: every alarm."""
        return {"alarms": self.alarms.list_payload()}

    def _heartbeat(self) -> HeartbeatPayload:
        now = time.time()
        uptime = self.uptime()
        return {"uptime": uptime, "time": iso_utc(now), "started_at": iso_utc(now - uptime)}

    async def execute(self, event: str, payload: Any) -> Ack:
        """Validate and run one command; raise :class:`ProtocolError` if refused."""
        return await self.router.execute(event, payload)

    async def answer(self, event: str, payload: Any) -> Ack:
        """Run one command and answer it, whatever happens (see :class:`Router`)."""
        return await self.router.guard(event, self.execute(event, payload))

    def log_unexpected(self, what: str, err: BaseException) -> None:
        """Log ``err``, which ``what`` raised, throttled (see :class:`Router`)."""
        self.router.log_unexpected(what, err)


def _device_id(settings: Settings) -> str:
    """The device's id; on a state directory that cannot be written, one for this run."""
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        return resolve_device_id(settings.state_dir)
    except OSError as err:
        device_id = secrets.token_hex(6)
        _LOGGER.error(  # noqa: TRY400
            "Cannot keep the device id in %s (%s); using %s for this run",
            settings.state_dir,
            err.strerror or err,
            device_id,
        )
        return device_id
