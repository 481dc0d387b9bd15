"""Shared test helpers: the token, handles on a running device, a recording client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
from gpiozero.pins.mock import MockPWMPin

from daybreak_device.dimming import Dimmer
from daybreak_device.output import GpiozeroOutput, MultiOutput, Output
from daybreak_device.protocol import DEVICE_EVENTS, PROTOCOL_VERSION, WAKE_SETTINGS_DEFAULTS
from daybreak_device.server import DaybreakServer

TOKEN = "test-token-0123456789"  # noqa: S105 - a test token
#: What a ``state`` of protocol 4 adds, on a device with no sunset or alarm running.
NEW_IN_4: dict[str, Any] = {
    "sunset": None,
    "alarm": None,
    "wake_settings": dict(WAKE_SETTINGS_DEFAULTS),
}
#: ``GET /api/health`` of a device that saves its state.
HEALTHY = {
    "status": "ok",
    "protocol_version": PROTOCOL_VERSION,
    "storage": {"ok": True, "error": None, "since": None},
}


class ShiftedClock:
    """Real time moved to a chosen moment (so servers, sockets and timeouts run normally).

    :meth:`set` steps it, as NTP stepping a Pi's clock would; the monotonic clock (and
    so the event loop) is untouched.
    """

    def __init__(self, at: float) -> None:
        self.set(at)

    def set(self, at: float) -> None:
        self.offset = at - time.time()

    def step(self, seconds: float) -> None:
        self.offset += seconds

    def __call__(self) -> float:
        return time.time() + self.offset


def level_of(duty: float, dimmer: Dimmer | None = None) -> float:
    """The brightness whose duty is ``duty`` (the dimmer, CIE by default, inverted)."""
    dimmer = dimmer or Dimmer()
    low, high = 0.0, 255.0
    for _ in range(60):
        middle = (low + high) / 2
        if dimmer.duty(middle) < duty:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def make_fake_sysfs(root: Path, chip: int = 0, channel: int = 0) -> Path:
    """Create a fake ``/sys/class/pwm`` with one chip and an already exported channel."""
    chip_dir = root / f"pwmchip{chip}"
    pwm = chip_dir / f"pwm{channel}"
    pwm.mkdir(parents=True)
    for name, value in (("export", ""), ("unexport", ""), ("npwm", "2")):
        (chip_dir / name).write_text(value)
    for name, value in (("period", "0"), ("duty_cycle", "0"), ("enable", "0")):
        (pwm / name).write_text(value)
    return pwm


@dataclass
class Device:
    """A running test server and the handles tests need."""

    server: DaybreakServer
    output: Output

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def pin(self) -> MockPWMPin:
        assert isinstance(self.output, GpiozeroOutput)
        pin = self.output.led.pin
        assert isinstance(pin, MockPWMPin)
        return pin

    @property
    def duties(self) -> dict[str, float]:
        """Each colour channel's duty as its mock pin has it (a multi-channel device)."""
        assert isinstance(self.output, MultiOutput)
        duties: dict[str, float] = {}
        for name, out in self.output.channels.items():
            assert isinstance(out, GpiozeroOutput)
            pin = out.led.pin
            assert isinstance(pin, MockPWMPin)
            duties[name] = float(pin.state)
        return duties


@dataclass
class Client:
    """A connected Socket.IO client that records what the device pushes."""

    sio: socketio.AsyncClient
    states: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    #: The alarm list of each pushed ``alarms`` event.
    alarms: list[list[dict[str, Any]]] = field(default_factory=list)
    #: The one-off events (``sunrise.*``, ``alarm.fired``) as (name, payload), in order.
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def open(cls, url: str, token: Any = TOKEN) -> Client:
        """Connect a new client to ``url`` that records every push (``None``: no auth)."""
        client = cls(socketio.AsyncClient(reconnection=False, handle_sigint=False))

        def recorder(record: Callable[[Any], None]) -> Callable[[Any], None]:
            def on_push(data: Any) -> None:
                record(data)
                client.changed.set()

            return on_push

        client.sio.on("state", recorder(client.states.append))
        client.sio.on("heartbeat", recorder(client.heartbeats.append))
        client.sio.on("alarms", recorder(lambda data: client.alarms.append(data["alarms"])))
        for event in DEVICE_EVENTS:
            client.sio.on(event, recorder(lambda data, e=event: client.events.append((e, data))))
        auth = None if token is None else {"token": token}
        await client.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=5)
        return client

    async def call(self, event: str, *args: Any) -> Any:
        return await self.sio.call(event, *args, timeout=5)

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``condition()`` is truthy, re-checking on every push; return it."""
        async with asyncio.timeout(timeout):
            while not (result := condition()):
                self.changed.clear()
                await self.changed.wait()
        return result

    def event_names(self) -> list[str]:
        """The names of the one-off events received so far."""
        return [name for name, _payload in self.events]

    async def wait_for_state(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait until a pushed state satisfies ``predicate``; return it."""
        async with asyncio.timeout(timeout):
            while True:
                for state in reversed(self.states):
                    if predicate(state):
                        return state
                self.changed.clear()
                await self.changed.wait()


def steady(level: float, *, on: bool = True) -> dict[str, Any]:
    """The state of a light resting at ``level`` (no ramp running)."""
    return {
        "on": on,
        "brightness": round(level),
        "level": float(level),
        "sunrise": None,
        "transition": None,
        "next_sunrise": None,
        "storage_error": None,
        **NEW_IN_4,
    }


def invalid(message: str) -> dict[str, Any]:
    """A failed ack/response with ``invalid_payload`` and ``message``."""
    return {"ok": False, "error": {"code": "invalid_payload", "message": message}}
