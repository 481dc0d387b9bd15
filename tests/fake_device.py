"""A fake Daybreak device that speaks the protocol, then lies, floods, stalls and storms.

A python-socketio ``AsyncServer`` on 127.0.0.1 (an ephemeral port) that answers the
integration's commands and pushes with payloads recorded from the real device server
(``daybreak_device``, protocol 2), and misbehaves on command: other info or state,
stalled commands, silence, dropping every client right after its handshake, any push.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import engineio
import socketio
from aiohttp import web

from custom_components.daybreak.protocol import PROTOCOL_VERSION

from .conftest import TOKEN

# Recorded from the real device server (Bedroom, Europe/Berlin, one alarm, a sunrise);
# the protocol version is today's.
INFO: dict[str, Any] = {
    "device_id": "aa3fc799649a",
    "name": "Bedroom",
    "model": "Daybreak DIY wake-up light",
    "sw_version": "0.1.0",
    "protocol_version": PROTOCOL_VERSION,
    "output": "gpiozero MockFactory GPIO18 1000 Hz",
    "timezone": "Europe/Berlin",
    "uptime": 0.025,
}
ALARM: dict[str, Any] = {
    "id": "weekdays",
    "time": "06:30",
    "weekdays": [0, 1, 2, 3, 4],
    "enabled": True,
    "duration": 1800.0,
    "target_brightness": 255.0,
    "curve": "linear",
    "skip_next": False,
    "next_sunrise": {
        "starts_at": "2026-12-02T06:00:00+01:00",
        "wake_at": "2026-12-02T06:30:00+01:00",
    },
}
STATE: dict[str, Any] = {
    "on": False,
    "brightness": 0,
    "level": 0.0,
    "sunrise": None,
    "transition": None,
    "next_sunrise": {
        "alarm_id": "weekdays",
        "starts_at": "2026-12-02T06:00:00+01:00",
        "wake_at": "2026-12-02T06:30:00+01:00",
    },
}
SUNRISE: dict[str, Any] = {
    "active": True,
    "started_at": "2026-12-01T09:10:34.771+00:00",
    "ends_at": "2026-12-01T09:40:34.771+00:00",
    "duration": 1800.0,
    "start_brightness": 0.0,
    "target_brightness": 255.0,
    "progress": 0.0,
    "curve": "linear",
    "alarm_id": None,
}
SUNRISE_STARTED: dict[str, Any] = {
    "time": "2026-12-01T09:10:34.771+00:00",
    "alarm_id": None,
    "target_brightness": 255.0,
    "duration": 1800.0,
}
ALARM_FIRED: dict[str, Any] = {
    "time": "2026-12-02T05:00:00.010+00:00",
    "alarm_id": "weekdays",
    "wake_at": "2026-12-02T06:30:00+01:00",
    "sunrise": True,
}

Answer = Callable[[Any], Any]


class _EngineIOServer(engineio.AsyncServer):  # type: ignore[misc]
    """Keeps its per-client ping tasks, so that stop() can end them (HA's tests check)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks: set[asyncio.Future[Any]] = set()

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        task = super().start_background_task(target, *args, **kwargs)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


class _SocketIOServer(socketio.AsyncServer):  # type: ignore[misc]
    def _engineio_server_class(self) -> type[_EngineIOServer]:
        return _EngineIOServer


class FakeDevice:
    """The fake device. Change its attributes to make it misbehave; :meth:`push` anything.

    ``info``, ``state`` and ``alarms`` are what it answers and pushes on connect;
    ``answers`` overrides the ack of a command (``event -> answer(payload)``);
    ``stalled`` commands are never answered; ``silent`` stops heartbeats and answers
    (Engine.IO pings go on, every ``ping_interval``); ``drop_after_handshake`` drops
    each client as soon as it has read info, state and alarms.
    """

    def __init__(
        self,
        *,
        ping_interval: float = 5.0,
        ping_timeout: float = 5.0,
        heartbeat_interval: float = 0.5,
    ) -> None:
        self.sio = _SocketIOServer(
            async_mode="aiohttp",
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            logger=False,
            engineio_logger=False,
        )
        self.app = web.Application()
        self.sio.attach(self.app)
        self.heartbeat_interval = heartbeat_interval
        self.info = copy.deepcopy(INFO)
        self.state = copy.deepcopy(STATE)
        self.alarms = [copy.deepcopy(ALARM)]
        self.answers: dict[str, Answer] = {}
        self.stalled: set[str] = set()
        self.silent = False
        self.drop_after_handshake = False
        #: When each client connected (monotonic), authenticated or not.
        self.connections: list[float] = []
        self.commands: list[tuple[str, Any]] = []
        self.port = 0
        self._started = time.monotonic()
        self._release = asyncio.Event()  # ends the stalled handlers at stop()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.sio.on("connect", self._on_connect)
        for event in (
            "device.get",
            "info.get",
            "state.get",
            "alarms.list",
            "light.set",
            "sunrise.start",
            "sunrise.stop",
            "alarm.create",
            "alarm.update",
            "alarm.delete",
            "alarm.skip_next",
        ):
            self.sio.on(event, self._command(event))

    @property
    def device_id(self) -> str:
        return str(self.info["device_id"])

    @property
    def clients(self) -> list[str]:
        """The sids of the connected clients."""
        return [sid for sid, _ in self.sio.manager.get_participants("/", None)]

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._spawn(self._heartbeats())

    async def stop(self) -> None:
        self._release.set()
        await self.sio.shutdown()
        await self.drop_clients()
        tasks = self._tasks | self.sio.eio.tasks
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def push(self, event: str, *payload: Any) -> None:
        """Push ``event`` to every client with the arguments ``payload`` (none, one, more)."""
        data = None if not payload else payload[0] if len(payload) == 1 else tuple(payload)
        await self.sio.emit(event, data)

    async def drop_clients(self) -> None:
        for sid in self.clients:
            await self.sio.disconnect(sid)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        self.connections.append(time.monotonic())
        if not isinstance(auth, dict) or auth.get("token") != TOKEN:
            raise socketio.exceptions.ConnectionRefusedError(
                "missing or wrong token", {"code": "unauthorized"}
            )
        self._spawn(self._send_initial(sid))

    async def _send_initial(self, sid: str) -> None:
        await asyncio.sleep(0)
        await self.sio.emit("state", self.state, to=sid)
        await self.sio.emit("alarms", {"alarms": self.alarms}, to=sid)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            if not self.silent:
                await self.sio.emit(
                    "heartbeat",
                    {
                        "uptime": round(time.monotonic() - self._started, 3),
                        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    },
                )

    def _command(self, event: str) -> Callable[..., Any]:
        async def handler(sid: str, payload: Any = None) -> Any:
            self.commands.append((event, payload))
            if self.silent or event in self.stalled:
                await self._release.wait()
                return None
            if event in self.answers:
                return self.answers[event](payload)
            ack = self._answer(event, payload)
            if event == "device.get" and self.drop_after_handshake:
                # After the ack goes out: the client has finished connecting.
                self._spawn(self.sio.disconnect(sid))
            return ack

        return handler

    def _answer(self, event: str, payload: Any) -> dict[str, Any]:
        if event == "device.get":
            return {"ok": True, "info": self.info, "state": self.state, "alarms": self.alarms}
        if event == "info.get":
            return {"ok": True, "info": self.info}
        if event == "light.set" and isinstance(payload, dict):
            brightness = payload.get("brightness", self.state["brightness"] or 255)
            on = payload.get("on", brightness > 0)
            self.state |= {"on": on, "brightness": brightness if on else 0}
            self.state["level"] = float(self.state["brightness"])
            self._spawn(self.sio.emit("state", self.state))
        if event.startswith("alarm"):
            return {"ok": True, "alarms": self.alarms, "state": self.state}
        return {"ok": True, "state": self.state}
