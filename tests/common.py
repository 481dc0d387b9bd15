"""Helpers shared by the integration tests (bounded waits, ports, log records)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.daybreak.client import DaybreakClient
from daybreak_device.server import CLIENTS_ROOM

from .conftest import TOKEN, Device

LOGGER_NAME = "custom_components.daybreak"
BERLIN = ZoneInfo("Europe/Berlin")
#: Monday 2026-11-23 05:00 in Berlin: a device clock for alarm tests.
MONDAY_5AM = datetime(2026, 11, 23, 5, 0, tzinfo=BERLIN).timestamp()
#: A fixed device id (12 hex digits) for snapshots: written into the state dir before start.
FIXED_DEVICE_ID = "da7b3ea4c0de"


def fixed_id_state_dir(path: Path) -> Path:
    """A device state dir whose device id is :data:`FIXED_DEVICE_ID`."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "device_id").write_text(FIXED_DEVICE_ID + "\n", encoding="utf-8")
    return path


async def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.02)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connected_clients(device: Device) -> list[object]:
    """The Socket.IO clients the device server has accepted (authenticated) now."""
    return list(device.server.sio.manager.get_participants("/", CLIENTS_ROOM))


def info_records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    """INFO records of the integration's logger that contain ``text``."""
    return [
        record
        for record in caplog.records
        if record.name == LOGGER_NAME
        and record.levelno == logging.INFO
        and text in record.getMessage()
    ]


ENTITY_ID = "light.bedroom"  # the light of the "Bedroom" test device
#: The translated error of a command while the "Bedroom" device is not connected.
NOT_CONNECTED = (
    "Home Assistant is not connected to the Daybreak device Bedroom right now. It "
    "reconnects by itself; try again once the device is back"
)
#: The translated error of a command the "Bedroom" device did not answer in time.
NO_ANSWER = (
    "The Daybreak device Bedroom did not answer in time. It may still carry the command "
    "out; check the light and try again"
)


async def wait_for_state(
    hass: HomeAssistant, predicate: Callable[[State], bool], timeout: float = 5.0
) -> State:
    """Wait until the light's HA state satisfies ``predicate``; return it."""
    async with asyncio.timeout(timeout):
        while True:
            state = hass.states.get(ENTITY_ID)
            if state is not None and predicate(state):
                return state
            await asyncio.sleep(0.02)


class ShiftedClock:
    """Real time moved to a chosen moment, so servers, sockets and timeouts run normally.

    Give it to ``start_device(clock=...)`` as the device's wall clock; ``at`` ``None``
    starts at the real time.
    """

    def __init__(self, at: float | None = None) -> None:
        self.offset = 0.0
        if at is not None:
            self.set(at)

    def set(self, at: float) -> None:
        """Move the clock to ``at`` (epoch seconds); it runs on from there."""
        self.offset = at - time.time()

    def __call__(self) -> float:
        return time.time() + self.offset


def device_answers(client: DaybreakClient, ack: Any) -> AbstractContextManager[Any]:
    """Make the device's answers ``ack``: patches the Socket.IO ``emit`` under the client.

    (The client sends a command with ``emit`` and an ack callback.)
    """
    sio = client._sio
    assert sio is not None

    async def emit(_event: str, _data: Any = None, *, callback: Any = None, **_: Any) -> None:
        if callback is not None:
            callback(ack)

    return patch.object(sio, "emit", emit)


async def restart_and_reconnect(
    hass: HomeAssistant, entry: MockConfigEntry, device: Device
) -> None:
    """Restart the stopped device; wait until the integration says the connection is back."""
    back = asyncio.Event()
    unsubscribe = entry.runtime_data.client.on_connection(
        lambda connected: back.set() if connected else None
    )
    try:
        await device.restart()
        await skip_backoff(hass, back)
    finally:
        unsubscribe()


async def skip_backoff(
    hass: HomeAssistant, done: asyncio.Event | Callable[[], object], timeout: float = 10
) -> None:
    """Skip the client's reconnect backoff (it grows: 1 s, 2 s, 4 s...) until ``done``.

    Each step fires the timers due within 3 s, not the connection's own timeouts (5 s).
    """
    finished = done.is_set if isinstance(done, asyncio.Event) else done
    async with asyncio.timeout(timeout):
        while not finished():
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=3))
            await asyncio.sleep(0.3)


async def start_sunrise_over_rest(device: Device, **payload: Any) -> None:
    """Start a sunrise as another client would: ``POST /api/sunrise``."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{device.port}/api/sunrise",
            json=payload,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as response,
    ):
        assert response.status == 200
