"""Fixtures: the real device server on 127.0.0.1 with mock pins, real clients.

The server runs in the test's event loop with gpiozero's ``MockFactory`` and
``MockPWMPin`` (every pin change recorded with a timestamp) or a fake sysfs PWM
tree; clients are a real ``socketio.AsyncClient`` over WebSocket and ``httpx``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from daybreak_device.config import Settings
from daybreak_device.output import GpiozeroOutput, Output
from daybreak_device.server import DaybreakServer, build_output
from helpers import TOKEN, Client, Device


@pytest.fixture
def pin_factory() -> MockFactory:
    """gpiozero's mock pin factory with PWM-capable pins."""
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a test server on 127.0.0.1, an ephemeral port and a temp state dir."""
    return Settings(
        host="127.0.0.1",
        port=0,
        token=TOKEN,
        state_dir=tmp_path / "state",
        mock=True,
        progress_interval=0.2,
        heartbeat_interval=0.5,
        zeroconf=False,  # test_zeroconf.py turns it on, on loopback only
    )


@pytest.fixture
async def start_device(
    settings: Settings, pin_factory: MockFactory
) -> AsyncIterator[Callable[..., Awaitable[Device]]]:
    """Start a device server (keyword arguments override settings); stopped at teardown.

    ``clock`` is the server's wall clock (e.g. a :class:`helpers.ShiftedClock`).
    """
    running: list[DaybreakServer] = []

    async def start(
        output: Output | None = None, clock: Callable[[], float] = time.time, **overrides: Any
    ) -> Device:
        conf = replace(settings, **overrides)
        if output is None and conf.channels:
            output = build_output(conf, pin_factory=pin_factory)  # one mock pin per channel
        elif output is None:
            output = GpiozeroOutput(conf.pin, conf.pwm_frequency(), pin_factory=pin_factory)
        server = DaybreakServer(
            conf, conf.token or TOKEN, output=output, clock=clock, pin_factory=pin_factory
        )
        await server.start()
        running.append(server)
        return Device(server, output)

    yield start
    for server in running:
        await server.stop()


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]]) -> Device:
    """One running device server with default test settings."""
    return await start_device()


@pytest.fixture
async def connect(device: Device) -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    """Connect real Socket.IO clients to ``device``; disconnected at teardown."""
    clients: list[Client] = []

    async def open_client(token: Any = TOKEN, *, target: Device | None = None) -> Client:
        client = await Client.open((target or device).url, token)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        if client.sio.connected:
            await client.sio.disconnect()


@pytest.fixture
async def http(device: Device) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for ``device`` with the right bearer token."""
    async with httpx.AsyncClient(
        base_url=device.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ) as client:
        yield client
