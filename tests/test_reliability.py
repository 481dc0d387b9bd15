"""Reliability against the real ``daybreak-device`` process: a hung device, then recovery.

The device runs as a child process (``python -m daybreak_device --mock``, this venv's
python) on 127.0.0.1 with a 5 s Engine.IO ping interval and a 5 s ping timeout, and the
integration is set up against it in ``hass``. The process is then stopped with SIGSTOP:
its sockets stay open and the kernel still accepts connections for it, but nothing
answers. The client only notices through Engine.IO's liveness check (python-engineio's
client drops a connection when nothing, not even a ping, arrives for ping interval +
ping timeout, which the server announces: 10 s here), so these tests wait in real time,
each bounded with ``asyncio.timeout``.

* noticed: from SIGSTOP until the light is ``unavailable`` in HA (at most 15 s);
* back in sync: from SIGCONT, or from launching a new process on the same port and state
  dir after a SIGKILL, until HA shows a brightness another client set over REST after the
  device came back (a value HA can only have from the device), at most 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from engineio import packet as engineio_packet
from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.const import DOMAIN

from .common import free_port, wait_for
from .conftest import TOKEN

pytestmark = pytest.mark.slow

ENTITY_ID = "light.bedroom"
PING_INTERVAL = 5.0
PING_TIMEOUT = 5.0
NOTICE_LIMIT = 15.0  # SIGSTOP -> entities unavailable
RECOVERY_LIMIT = 10.0  # SIGCONT / restart -> HA available and in sync
START_LIMIT = 15.0  # a cold python start of the device, on a slow machine
BEFORE, AFTER = 60, 180  # brightness set over REST before the hang, and after recovery


class DeviceProcess:
    """``python -m daybreak_device --mock`` as a child process, logging to a file.

    Restartable on the same port and state dir; :meth:`close` kills it (stopped or not).
    """

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = tmp_path / "device-state"
        self.log = tmp_path / "device.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.args = [
            sys.executable, "-m", "daybreak_device",
            "--mock",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--token", TOKEN,
            "--state-dir", str(self.state_dir),
            "--name", "Bedroom",
            "--ping-interval", str(PING_INTERVAL),
            "--ping-timeout", str(PING_TIMEOUT),
            "--log-level", "info",
            "--no-zeroconf",
        ]  # fmt: skip
        # Only the command line configures it (no DAYBREAK_* from the environment).
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DAYBREAK_")}
        self.cwd = tmp_path

    async def start(self) -> None:
        """Launch the process (appending to the log) and wait until it serves REST."""
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - a fork/exec, returns at once
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
            )
        finally:
            os.close(fd)
        try:
            async with asyncio.timeout(START_LIMIT), aiohttp.ClientSession() as session:
                while not await self._healthy(session):  # noqa: ASYNC110 - no event to await
                    await asyncio.sleep(0.02)
        except TimeoutError:
            pytest.fail(f"the device did not serve on {self.url}:\n{await self.log_text()}")

    async def _healthy(self, session: aiohttp.ClientSession) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"the device exited with {self.proc.returncode}:\n{await self.log_text()}")
        try:
            async with session.get(
                f"{self.url}/api/health", timeout=aiohttp.ClientTimeout(total=2)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """A REST request as another client would make it; returns the JSON answer."""
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method,
                f"{self.url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as response,
        ):
            assert response.status == 200, await response.text()
            result: dict[str, Any] = await response.json()
            return result

    def signal(self, sig: signal.Signals) -> float:
        """Send ``sig``; return when (``time.monotonic()``)."""
        assert self.proc is not None
        assert self.proc.poll() is None, "the device process is not running"
        self.proc.send_signal(sig)
        return time.monotonic()

    async def kill(self) -> None:
        """SIGKILL (works on a stopped process too) and reap it."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.kill()
        await wait_for(lambda: proc.poll() is not None)

    async def log_text(self) -> str:
        return await asyncio.to_thread(self.log.read_text, errors="replace")


@pytest.fixture
async def device_process(socket_enabled: None, tmp_path: Path) -> AsyncIterator[DeviceProcess]:
    """A running device process; killed at teardown, whatever state it is in."""
    process = DeviceProcess(tmp_path)
    try:
        await process.start()
        yield process
    finally:
        proc = process.proc
        if proc is not None and proc.poll() is None:
            proc.kill()  # SIGKILL also ends a stopped process
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)  # reaps at once after SIGKILL


async def _set_up(hass: HomeAssistant, device: DeviceProcess) -> MockConfigEntry:
    info = await device.request("GET", "/api/info")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        unique_id=info["device_id"],
        data={CONF_HOST: "127.0.0.1", CONF_PORT: device.port, CONF_TOKEN: TOKEN},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


def _shows(hass: HomeAssistant, brightness: int) -> bool:
    state = hass.states.get(ENTITY_ID)
    return (
        state is not None
        and state.state == STATE_ON
        and state.attributes.get(ATTR_BRIGHTNESS) == brightness
    )


def _unavailable(hass: HomeAssistant) -> bool:
    state = hass.states.get(ENTITY_ID)
    return state is not None and state.state == STATE_UNAVAILABLE


async def _seconds_until(hass: HomeAssistant, condition: Any, since: float, limit: float) -> float:
    """Wait (at most until ``since + limit``) for ``condition()``; seconds from ``since``."""
    remaining = since + limit - time.monotonic()
    try:
        await wait_for(condition, timeout=max(remaining, 0.0))
    except TimeoutError:
        state = hass.states.get(ENTITY_ID)
        pytest.fail(f"not within {limit} s; {ENTITY_ID} is {state}")
    return time.monotonic() - since


@pytest.mark.parametrize("recovery", ["sigcont", "restart"])
async def test_hung_device_is_noticed_and_recovered(
    hass: HomeAssistant,
    device_process: DeviceProcess,
    caplog: pytest.LogCaptureFixture,
    recovery: str,
) -> None:
    device = device_process
    caplog.set_level(logging.DEBUG, logger="custom_components.daybreak")
    entry = await _set_up(hass, device)
    client = entry.runtime_data.client

    await device.request("POST", "/api/light", {"brightness": BEFORE})
    await wait_for(lambda: _shows(hass, BEFORE))

    # Hang the device right after a ping reached the client: the worst case, when the
    # client's read timeout (ping interval + ping timeout) has just been re-armed.
    pinged = asyncio.Event()
    eio = client._sio.eio  # the connection's Engine.IO client
    receive_packet = eio._receive_packet

    async def watch(pkt: Any) -> None:
        await receive_packet(pkt)
        if pkt.packet_type == engineio_packet.PING:
            pinged.set()

    eio._receive_packet = watch
    async with asyncio.timeout(PING_INTERVAL + 2):
        await pinged.wait()
    stopped_at = device.signal(signal.SIGSTOP)
    noticed = await _seconds_until(hass, lambda: _unavailable(hass), stopped_at, NOTICE_LIMIT)
    assert not client.connected

    if recovery == "sigcont":
        back_from = device.signal(signal.SIGCONT)
    else:
        await device.kill()
        back_from = time.monotonic()
        await device.start()  # same port, same state dir
        started = time.monotonic() - back_from
        # It kept the brightness it had when it hung (its state file).
        assert (await device.request("GET", "/api/state"))["brightness"] == BEFORE
    # Another client changes the brightness: HA can only learn it from the device.
    await device.request("POST", "/api/light", {"brightness": AFTER})
    back = await _seconds_until(
        hass, lambda: _shows(hass, AFTER) and client.connected, back_from, RECOVERY_LIMIT
    )
    # (A push can bring the value while the reconnect still reads the state: wait for it.)
    await wait_for(lambda: "Connection to Bedroom is back" in caplog.text)
    assert entry.state is ConfigEntryState.LOADED
    assert [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.daybreak") and r.levelno >= logging.INFO
    ] == [
        "Lost the connection to Bedroom; reconnecting",
        "Connection to Bedroom is back",
    ], caplog.text
    # Nor an error from a library (python-engineio: "packet queue is empty, aborting").
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

    detail = f" (device serving after {started:.2f} s)" if recovery == "restart" else ""
    print(  # the measured times (-rP or -s)
        f"\n[reliability] {recovery}: SIGSTOP noticed after {noticed:.2f} s; "
        f"back in sync {back:.2f} s after {'SIGCONT' if recovery == 'sigcont' else 'relaunch'}"
        f"{detail}"
    )

    # And it keeps following the device.
    await device.request("POST", "/api/light", {"brightness": BEFORE})
    await wait_for(lambda: _shows(hass, BEFORE))
