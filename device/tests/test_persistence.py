"""Persistence and restarts: the state file, resuming after a restart or a crash, shutdown.

The in-process tests restart a :class:`DaybreakServer` on the same state directory;
the process tests run the real ``daybreak-device`` console script against a fake
sysfs PWM tree and kill it with SIGKILL or stop it with SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from daybreak_device.config import Settings
from daybreak_device.dimming import Dimmer
from daybreak_device.store import atomic_write_json
from helpers import NEW_IN_4, TOKEN, Device, make_fake_sysfs

CIE = Dimmer()
OFF = {
    "on": False,
    "brightness": 0,
    "level": 0.0,
    "sunrise": None,
    "transition": None,
    "next_sunrise": None,
    "storage_error": None,
    **NEW_IN_4,
}
EXE = Path(sys.executable).parent / "daybreak-device"
PERIOD_NS = 500_000  # 2 kHz, the sysfs default


def read_state_file(settings: Settings) -> dict[str, Any]:
    return json.loads((settings.state_dir / "state.json").read_text())


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def rest(device: Device, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(
        base_url=device.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ) as client:
        response = await client.request(method, path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


# -- the state file ------------------------------------------------------------------------


async def test_state_file_is_written_after_each_command(device: Device, settings: Settings) -> None:
    await rest(device, "POST", "/api/light", {"brightness": 100})
    assert read_state_file(settings) == {
        "version": 1,
        "on": True,
        "level": 100.0,
        "on_brightness": 100.0,
        "ramp": None,
        "session": None,
        "wake_settings": NEW_IN_4["wake_settings"],
        "alarms": [],
    }

    await rest(device, "POST", "/api/light", {"on": False})
    saved = read_state_file(settings)
    assert (saved["on"], saved["level"], saved["on_brightness"]) == (False, 0.0, 100.0)

    before = time.time()
    await rest(device, "POST", "/api/light", {"brightness": 200, "transition": 30})
    ramp = read_state_file(settings)["ramp"]
    assert ramp["kind"] == "transition"
    assert (ramp["start"], ramp["target"], ramp["duration"]) == (0.0, 200.0, 30.0)
    assert ramp["curve"] == "linear"
    assert before <= ramp["started_at"] <= time.time()

    ack = await rest(
        device,
        "POST",
        "/api/sunrise",
        {"duration": 60, "start_brightness": 10, "target_brightness": 180, "curve": "ease_in"},
    )
    saved = read_state_file(settings)
    assert saved["on"] is True
    assert saved["on_brightness"] == 180.0
    assert saved["ramp"]["kind"] == "sunrise"
    assert saved["ramp"]["curve"] == "ease_in"
    assert (saved["ramp"]["start"], saved["ramp"]["target"]) == (10.0, 180.0)
    assert saved["ramp"]["started_at"] + 60 == pytest.approx(
        epoch(ack["state"]["sunrise"]["ends_at"]), abs=0.002
    )

    ack = await rest(device, "DELETE", "/api/sunrise")
    saved = read_state_file(settings)
    assert saved["ramp"] is None
    assert saved["level"] == pytest.approx(ack["state"]["level"], abs=1e-3)

    # Only the state and the device id; no temporary files left behind.
    assert sorted(p.name for p in settings.state_dir.iterdir()) == ["device_id", "state.json"]


def test_atomic_write_keeps_the_old_file_when_a_write_fails(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "state.json"
    atomic_write_json(path, {"level": 1})
    assert path.read_text() == '{\n "level": 1\n}\n'
    assert path.stat().st_mode & 0o777 == 0o644

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="Input/output error"):
        atomic_write_json(path, {"level": 2})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"level": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


# -- restarting in process ---------------------------------------------------------------


async def test_restart_restores_the_level(start_device, settings: Settings) -> None:
    first: Device = await start_device()
    await rest(first, "POST", "/api/light", {"brightness": 120})
    assert first.pin.state == CIE.duty(120)
    await first.server.stop()

    second: Device = await start_device()
    assert second.pin.state == CIE.duty(120)
    state = await rest(second, "GET", "/api/state")
    assert (state["on"], state["brightness"], state["level"]) == (True, 120, 120.0)

    # Off survives a restart too, and "on" still knows the last brightness.
    await rest(second, "POST", "/api/light", {"on": False})
    await second.server.stop()
    third: Device = await start_device()
    assert third.pin.state == 0.0
    assert await rest(third, "GET", "/api/state") == OFF
    ack = await rest(third, "POST", "/api/light", {"on": True})
    assert ack["state"]["level"] == 120.0
    assert third.pin.state == CIE.duty(120)


async def test_restart_mid_transition_resumes_on_schedule(start_device) -> None:
    first: Device = await start_device()
    ack = await rest(first, "POST", "/api/light", {"brightness": 255, "transition": 1.5})
    ends_at = ack["state"]["transition"]["ends_at"]
    await asyncio.sleep(0.4)
    await first.server.stop()

    second: Device = await start_device()
    state = await rest(second, "GET", "/api/state")
    assert state["transition"] == {"target_brightness": 255.0, "ends_at": ends_at}
    # It carries on from where the schedule is now, not from the start.
    expected = 255 * (1 - (epoch(ends_at) - time.time()) / 1.5)
    await wait_until(lambda: second.pin.state > 0)
    assert CIE.brightness(second.pin.state) == pytest.approx(expected, abs=15)
    await wait_until(lambda: second.pin.state == 1.0, timeout=3)
    assert time.time() >= epoch(ends_at) - 0.05
    state = await rest(second, "GET", "/api/state")
    assert state["transition"] is None
    assert state["level"] == 255.0


async def test_ramp_that_ended_while_down_lands_at_its_target(
    start_device, settings: Settings
) -> None:
    ramp = {
        "kind": "sunrise",
        "start": 0.0,
        "target": 200.0,
        "duration": 10.0,
        "curve": "linear",
        "started_at": time.time() - 100,
    }
    atomic_write_json(
        settings.state_dir / "state.json",
        {"version": 1, "on": True, "level": 0.0, "on_brightness": 200.0, "ramp": ramp},
    )
    device: Device = await start_device()
    assert device.pin.state == CIE.duty(200)
    state = await rest(device, "GET", "/api/state")
    assert (state["on"], state["level"], state["sunrise"]) == (True, 200.0, None)
    saved = read_state_file(settings)
    assert (saved["level"], saved["ramp"]) == (200.0, None)


VALID = {"version": 1, "on": True, "level": 80.0, "on_brightness": 80.0, "ramp": None}
GOOD_RAMP = {
    "kind": "sunrise",
    "start": 0.0,
    "target": 255.0,
    "duration": 60.0,
    "curve": "linear",
    "started_at": 1.0,
}


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'"state"',
        b"null",
        json.dumps({**VALID, "on": "yes"}).encode(),
        json.dumps({**VALID, "level": 300}).encode(),
        json.dumps({**VALID, "level": -1}).encode(),
        json.dumps({**VALID, "on_brightness": True}).encode(),
        json.dumps({**VALID, "level": "80"}).encode(),
        b'{"version": 1, "on": true, "level": NaN, "on_brightness": 80, "ramp": null}',
        json.dumps({"on": True}).encode(),
        json.dumps({**VALID, "ramp": {"kind": "sunrise"}}).encode(),
        json.dumps({**VALID, "ramp": [1, 2]}).encode(),
        json.dumps({**VALID, "ramp": {**GOOD_RAMP, "curve": "zigzag"}}).encode(),
        json.dumps({**VALID, "ramp": {**GOOD_RAMP, "started_at": 10**400}}).encode(),
        json.dumps({**VALID, "ramp": {**GOOD_RAMP, "duration": -5}}).encode(),
    ],
    ids=[
        "corrupt",
        "empty",
        "not-utf8",
        "list",
        "string",
        "null",
        "on-not-bool",
        "level-high",
        "level-negative",
        "bool-level",
        "string-level",
        "nan-level",
        "missing-keys",
        "ramp-incomplete",
        "ramp-not-object",
        "ramp-bad-curve",
        "ramp-huge-int",
        "ramp-negative-duration",
    ],
)
async def test_bad_state_file_gives_defaults_and_a_warning(
    start_device, settings: Settings, caplog, content: bytes
) -> None:
    settings.state_dir.mkdir(parents=True)
    state_file = settings.state_dir / "state.json"
    state_file.write_bytes(content)
    caplog.set_level(logging.WARNING, logger="daybreak_device")
    device: Device = await start_device()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(state_file) in r.getMessage() for r in warnings), caplog.text
    assert device.pin.state == 0.0
    assert await rest(device, "GET", "/api/state") == OFF
    # Defaults include full on-brightness, and the next command rewrites a good file.
    ack = await rest(device, "POST", "/api/light", {"on": True})
    assert ack["state"]["level"] == 255.0
    assert read_state_file(settings)["level"] == 255.0


async def test_missing_state_dir_is_created(start_device, tmp_path: Path) -> None:
    state_dir = tmp_path / "deep" / "er" / "state"
    device: Device = await start_device(state_dir=state_dir)
    assert state_dir.is_dir()
    assert (state_dir / "device_id").is_file()
    assert await rest(device, "GET", "/api/state") == OFF
    await rest(device, "POST", "/api/light", {"brightness": 30})
    assert json.loads((state_dir / "state.json").read_text())["level"] == 30.0


# -- the real process ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Call ``condition`` until it returns something truthy (bounded); return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def read_duty_ns(pwm: Path) -> int:
    """The duty_cycle the process wrote (retrying a read that caught a write half done)."""
    return int(poll(lambda: (pwm / "duty_cycle").read_text().strip(), 2, "duty_cycle"))


class DeviceProcess:
    """``daybreak-device`` running as a child process, logging to files."""

    def __init__(self, tmp_path: Path, args: list[str], port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = tmp_path / f"device-{port}-{time.monotonic_ns()}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(EXE), *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
        poll(self._ready, 15, f"the device to serve on {self.url}")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"device exited with {self.proc.returncode}:\n{self.log.read_text()}")
        try:
            return self.http.get("/api/health").status_code == 200
        except httpx.TransportError:
            return False

    def request(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def terminate(self, timeout: float = 2.0) -> tuple[int, float]:
        """SIGTERM; return the exit code and how long the process took to exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no exit within {timeout} s of SIGTERM:\n{self.log.read_text()}")
        return code, time.monotonic() - started

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)

    def close(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.kill()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., DeviceProcess]]:
    """Start ``daybreak-device`` processes on the fake sysfs tree; killed at teardown."""
    started: list[DeviceProcess] = []

    def run(*extra: str, port: int | None = None) -> DeviceProcess:
        port = port or free_port()
        args = [
            "--output", "sysfs",
            "--sysfs-root", str(tmp_path / "pwm"),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--token", TOKEN,
            "--state-dir", str(tmp_path / "state"),
            "--log-level", "warning",
            "--no-zeroconf",
            *extra,
        ]  # fmt: skip
        process = DeviceProcess(tmp_path, args, port)
        started.append(process)
        return process

    yield run
    for process in started:
        process.close()


@pytest.fixture
def pwm(tmp_path: Path) -> Path:
    return make_fake_sysfs(tmp_path / "pwm")


def test_sigkill_mid_sunrise_resumes_on_schedule(spawn, pwm: Path, tmp_path: Path) -> None:
    duration = 4.0
    first = spawn()
    ack = first.request(
        "POST",
        "/api/sunrise",
        {"duration": duration, "start_brightness": 0, "target_brightness": 255},
    )
    sunrise = ack["state"]["sunrise"]
    started_at = epoch(sunrise["started_at"])

    def level_now() -> float:
        return 255 * min(1.0, (time.time() - started_at) / duration)

    poll(lambda: level_now() >= 50, 3, "the sunrise to get going")
    first.kill()
    # (Not read from the fake duty_cycle: the kill may land between its truncate and write.)
    at_kill = level_now()
    saved = json.loads((tmp_path / "state" / "state.json").read_text())
    assert saved["ramp"]["kind"] == "sunrise"
    assert saved["ramp"]["started_at"] == pytest.approx(started_at, abs=0.002)

    second = spawn()
    before = level_now()
    level = CIE.brightness(read_duty_ns(pwm) / PERIOD_NS)
    after = level_now()
    # Where the schedule is now (not restarted from 0, not stuck at the kill level).
    assert before - 15 <= level <= after + 5, (before, level, after)
    assert level > at_kill
    state = second.request("GET", "/api/state")
    assert state["sunrise"]["ends_at"] == sunrise["ends_at"]
    assert state["sunrise"]["started_at"] == sunrise["started_at"]

    final = poll(
        lambda: (s := second.request("GET", "/api/state"))["sunrise"] is None and s,
        duration + 2,
        "the sunrise to end",
    )
    assert time.time() >= epoch(sunrise["ends_at"]) - 0.05
    assert (final["on"], final["brightness"]) == (True, 255)
    assert read_duty_ns(pwm) == PERIOD_NS
    assert second.terminate()[0] == 0


def test_sigterm_saves_state_and_keeps_the_led(spawn, pwm: Path, tmp_path: Path) -> None:
    first = spawn()
    first.request("POST", "/api/light", {"brightness": 200})
    assert read_duty_ns(pwm) == round(CIE.duty(200) * PERIOD_NS)
    ack = first.request("POST", "/api/sunrise", {"duration": 60, "target_brightness": 255})
    ends_at = ack["state"]["sunrise"]["ends_at"]
    code, took = first.terminate()
    assert code == 0
    assert took < 2.0
    assert "Traceback" not in first.log.read_text()

    saved = json.loads((tmp_path / "state" / "state.json").read_text())
    assert saved["on"] is True
    assert saved["ramp"]["kind"] == "sunrise"
    assert saved["ramp"]["start"] == 200.0
    assert saved["ramp"]["started_at"] + 60 == pytest.approx(epoch(ends_at), abs=0.002)
    # on_exit keep: the hardware PWM keeps running at the level reached.
    assert read_duty_ns(pwm) >= round(CIE.duty(200) * PERIOD_NS)
    assert (pwm / "enable").read_text().strip() == "1"
    assert (pwm.parent / "unexport").read_text() == ""

    second = spawn()
    state = second.request("GET", "/api/state")
    assert state["sunrise"]["ends_at"] == ends_at
    assert second.terminate()[0] == 0


def test_sigterm_with_on_exit_off_turns_the_led_off(spawn, pwm: Path, tmp_path: Path) -> None:
    device = spawn("--on-exit", "off")
    device.request("POST", "/api/light", {"brightness": 200})
    assert read_duty_ns(pwm) > 0
    code, took = device.terminate()
    assert code == 0
    assert took < 2.0
    assert (pwm / "duty_cycle").read_text().strip() == "0"
    assert (pwm / "enable").read_text().strip() == "0"
    assert (pwm.parent / "unexport").read_text().strip() == "0"
    # The state is kept: the light was on at 200 when the server stopped.
    saved = json.loads((tmp_path / "state" / "state.json").read_text())
    assert (saved["on"], saved["level"], saved["ramp"]) == (True, 200.0, None)


async def test_temp_files_left_by_an_interrupted_save_are_removed(
    start_device, settings, caplog
) -> None:
    # A kill between mkstemp and rename leaves .state.json.XXXX.tmp; the state file
    # itself is intact. The next start cleans up.
    settings.state_dir.mkdir(parents=True)
    stale = [settings.state_dir / f".state.json.abc{n}.tmp" for n in range(3)]
    for path in stale:
        path.write_text('{"half": ')
    other = settings.state_dir / ".token.keep.tmp"  # not ours: left alone
    other.write_text("x")
    caplog.set_level(logging.INFO, logger="daybreak_device")
    device = await start_device()
    assert not any(path.exists() for path in stale)
    assert other.exists()
    assert "Removed 3 temporary file(s)" in caplog.text
    assert device.server.controller.snapshot()["on"] is False
