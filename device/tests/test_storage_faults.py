"""A disk that cannot take the state: full, read-only, not writable.

The state directory is a real, tiny tmpfs mounted for the test (the kernel's own
ENOSPC and EROFS, not a patched function), or, for the real process, a directory
that a server without the capability to override permissions cannot write. After
each command, what the LED shows (the mock pin), what ``GET /api/state`` reports and
the last ``state`` a second client was pushed are the same thing; freeing the disk
saves the state within a few seconds and health comes back.

Mounting needs root (CI and ``scripts/test`` run as root); elsewhere these tests are
skipped with that reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daybreak_device.dimming import Dimmer
from helpers import TOKEN, Client, Device, ShiftedClock, level_of

CIE = Dimmer()
FAULTS = ["full", "read-only"]


class SmallDisk:
    """A 256 KiB tmpfs at ``path`` that the test fills, frees, makes read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        run = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            pytest.skip(f"needs root to mount a tmpfs: {run.stderr.strip()}")
        self.filler = path / "filler"

    def break_it(self, fault: str) -> None:
        """Make the disk ``full`` (a filler file takes every byte) or ``read-only``."""
        if fault == "full":
            with self.filler.open("wb", buffering=0) as handle:
                try:
                    while handle.write(b"\0" * 4096):
                        pass
                except OSError:
                    pass
        else:
            self._remount("ro")

    def fix(self) -> None:
        """Free the disk and make it writable again."""
        self._remount("rw")
        self.filler.unlink(missing_ok=True)

    def _remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    small = SmallDisk(tmp_path / "disk")
    yield small
    small.unmount()


@pytest.fixture
async def on_disk(
    start_device: Callable[..., Awaitable[Device]], disk: SmallDisk
) -> Callable[..., Awaitable[Device]]:
    """Start a device whose state directory is on the small disk."""

    async def start(**overrides: Any) -> Device:
        return await start_device(state_dir=disk.path / "state", **overrides)

    return start


async def rest(device: Device, method: str, path: str, body: Any = None) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=device.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ) as http:
        return await http.request(method, path, json=body)


async def command(device: Device, client: Client, via: str, event: str, body: Any) -> Any:
    """Send ``event`` over ``via`` (``rest`` or ``sio``); return the ack (REST: its body)."""
    if via == "sio":
        return await client.call(event, body)
    method, path = {
        "light.set": ("POST", "/api/light"),
        "sunrise.start": ("POST", "/api/sunrise"),
        "sunrise.stop": ("DELETE", "/api/sunrise"),
        "alarm.create": ("POST", "/api/alarms"),
    }[event]
    response = await rest(device, method, path, body)
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    if answer.get("ok") is False:
        status = 507 if answer["error"]["code"] == "storage_error" else response.status_code
        assert response.status_code == status
    return answer


def shows(device: Device, level: float) -> bool:
    """Whether the LED shows ``level`` (as reported: rounded to 1/1000)."""
    return level_of(device.pin.state) == pytest.approx(level, abs=0.0006)


async def assert_consistent(device: Device, watcher: Client) -> dict[str, Any]:
    """LED = GET /api/state = the watcher's last push (a light at rest)."""
    state = (await rest(device, "GET", "/api/state")).json()
    await watcher.wait_for(lambda: watcher.states and watcher.states[-1] == state)
    assert shows(device, state["level"])
    return state


def saved(device: Device) -> dict[str, Any]:
    path = device.server.settings.state_dir / "state.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


async def health(device: Device) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=device.url, timeout=5) as http:
        body: dict[str, Any] = (await http.get("/api/health")).json()
    return body


async def until(condition: Callable[[], Any], timeout: float = 6.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := condition()):
            await asyncio.sleep(0.05)
    return result


async def until_healthy(device: Device) -> None:
    async with asyncio.timeout(6):
        while (await health(device))["status"] != "ok":
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("via", ["rest", "sio"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_light_set_on_a_broken_disk_is_made_pushed_reported_and_saved_later(
    on_disk, disk: SmallDisk, fault: str, via: str, caplog
) -> None:
    device: Device = await on_disk()
    watcher = await Client.open(device.url)
    actor = await Client.open(device.url)
    try:
        await command(device, actor, via, "light.set", {"brightness": 40})
        disk.break_it(fault)
        for level in (120, 130, 140):
            ack = await command(device, actor, via, "light.set", {"brightness": level})
            assert ack["ok"] is False
            assert ack["error"]["code"] == "storage_error"
            assert "not saved" in ack["error"]["message"]
            # The change stays: the room is lit as asked, and the ack says what it shows.
            assert ack["state"]["brightness"] == level
            state = await assert_consistent(device, watcher)
            assert state["brightness"] == level
            assert state["storage_error"] is not None
        report = await health(device)
        assert report["status"] == "degraded"
        assert report["storage"]["ok"] is False
        info = (await actor.call("info.get"))["info"]
        assert info["storage_error"] == report["storage"]["error"]
        assert saved(device)["level"] == 40  # the disk still has the last good state
        # One line for the fault, not one per command or retry.
        faults = [r for r in caplog.records if "Cannot save the state" in r.getMessage()]
        assert len(faults) == 1
        assert not [r for r in caplog.records if r.exc_info]

        disk.fix()
        await until(lambda: saved(device)["level"] == 140)
        await until_healthy(device)
        await watcher.wait_for(lambda: watcher.states[-1]["storage_error"] is None)
        assert (await command(device, actor, via, "light.set", {"brightness": 90}))["ok"]
        assert saved(device)["level"] == 90
        await assert_consistent(device, watcher)
        assert any("saved again" in r.getMessage() for r in caplog.records)
    finally:
        await watcher.sio.disconnect()
        await actor.sio.disconnect()


@pytest.mark.parametrize("via", ["rest", "sio"])
async def test_sunrise_start_and_stop_on_a_full_disk(on_disk, disk: SmallDisk, via: str) -> None:
    device: Device = await on_disk()
    watcher = await Client.open(device.url)
    actor = await Client.open(device.url)
    try:
        disk.break_it("full")
        ack = await command(
            device, actor, via, "sunrise.start", {"duration": 30, "start_brightness": 0}
        )
        assert ack["error"]["code"] == "storage_error"
        assert ack["state"]["sunrise"] is not None  # it runs
        await watcher.wait_for(lambda: "sunrise.started" in watcher.event_names())
        await until(lambda: device.pin.state > CIE.duty(2))
        ack = await command(device, actor, via, "sunrise.stop", None)
        assert ack["error"]["code"] == "storage_error"
        held = ack["state"]
        assert held["sunrise"] is None
        state = await assert_consistent(device, watcher)
        assert state["level"] == held["level"]
        assert watcher.event_names() == ["sunrise.started", "sunrise.cancelled"]
        await asyncio.sleep(0.3)
        assert shows(device, held["level"])  # it holds

        disk.fix()
        await until(lambda: saved(device)["ramp"] is None and saved(device)["on"])
        assert saved(device)["level"] == pytest.approx(held["level"], abs=0.001)
    finally:
        await watcher.sio.disconnect()
        await actor.sio.disconnect()


@pytest.mark.parametrize("via", ["rest", "sio"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_alarm_create_on_a_broken_disk_is_refused_whole(
    on_disk, disk: SmallDisk, fault: str, via: str
) -> None:
    device: Device = await on_disk()
    watcher = await Client.open(device.url)
    actor = await Client.open(device.url)
    try:
        kept = (await actor.call("alarm.create", {"time": "06:00"}))["alarm"]
        disk.break_it(fault)
        ack = await command(device, actor, via, "alarm.create", {"time": "07:00"})
        assert ack["error"]["code"] == "storage_error"
        # An acked alarm is on disk; one that could not be saved is not kept at all.
        assert (await actor.call("alarms.list"))["alarms"] == [kept]
        await asyncio.sleep(0.2)
        assert watcher.alarms[-1] == [kept]
        disk.fix()
        await until_healthy(device)
        assert [a["id"] for a in saved(device)["alarms"]] == [kept["id"]]
    finally:
        await watcher.sio.disconnect()
        await actor.sio.disconnect()


#: Monday 2026-11-23 05:00 UTC.
MONDAY_5AM = 1795410000.0


async def test_an_alarm_firing_on_a_full_disk_is_saved_once_the_disk_is_freed(
    on_disk, disk: SmallDisk
) -> None:
    clock = ShiftedClock(MONDAY_5AM)
    device: Device = await on_disk(clock=clock, timezone="UTC")
    watcher = await Client.open(device.url)
    try:
        alarm = (await watcher.call("alarm.create", {"time": "06:00", "duration": 600}))["alarm"]
        disk.break_it("full")
        clock.set(MONDAY_5AM + 3600 - 300)  # halfway through its 10-minute sunrise
        await device.server.alarms.check()
        await watcher.wait_for(lambda: "alarm.fired" in watcher.event_names())
        pushed = await watcher.wait_for_state(lambda s: s["sunrise"] is not None)
        assert pushed["sunrise"]["alarm_id"] == alarm["id"]
        assert pushed["storage_error"] is not None
        assert shows(device, device.server.state()["level"])
        assert device.server.state()["level"] == pytest.approx(127.5, abs=3)
        assert saved(device)["alarms"][0]["last_wake"] is None
        disk.fix()
        await until(lambda: saved(device)["alarms"][0]["last_wake"] == MONDAY_5AM + 3600)
        assert saved(device)["ramp"]["alarm_id"] == alarm["id"]
    finally:
        await watcher.sio.disconnect()


@pytest.mark.parametrize("fault", FAULTS)
async def test_start_on_a_broken_disk_with_a_finished_sunrise_serves(
    start_device, disk: SmallDisk, fault: str, caplog
) -> None:
    state_dir = disk.path / "state"
    state_dir.mkdir()
    (state_dir / "device_id").write_text("0123456789ab\n")
    ended = {
        "kind": "sunrise",
        "start": 0.0,
        "target": 200.0,
        "duration": 60.0,
        "curve": "linear",
        "started_at": time.time() - 3600,
        "alarm_id": None,
    }
    (state_dir / "state.json").write_text(
        json.dumps({"version": 1, "on": True, "level": 10, "on_brightness": 200, "ramp": ended})
    )
    disk.break_it(fault)
    device: Device = await start_device(state_dir=state_dir)
    watcher = await Client.open(device.url)
    try:
        state = await assert_consistent(device, watcher)
        assert (state["on"], state["level"], state["sunrise"]) == (True, 200.0, None)
        await until(lambda: device.server.store.fault is not None)
        assert (await health(device))["status"] == "degraded"
        assert (await watcher.call("light.set", {"brightness": 50}))["error"]["code"] == (
            "storage_error"
        )
        assert len([r for r in caplog.records if "Cannot save" in r.getMessage()]) == 1
        disk.fix()
        await until(lambda: saved(device)["level"] == 50)
    finally:
        await watcher.sio.disconnect()


async def test_start_with_a_state_directory_that_cannot_be_created(
    start_device, disk: SmallDisk
) -> None:
    disk.break_it("read-only")
    device: Device = await start_device(state_dir=disk.path / "missing" / "state")
    watcher = await Client.open(device.url)
    try:
        state = await assert_consistent(device, watcher)
        assert (state["on"], state["level"]) == (False, 0.0)
        info = (await watcher.call("info.get"))["info"]
        assert len(info["device_id"]) == 12
        await until(lambda: device.server.store.fault is not None)
        disk.fix()
        await until_healthy(device)
        assert saved(device)["level"] == 0
    finally:
        await watcher.sio.disconnect()


# -- the real process ----------------------------------------------------------------------


def device_command(state_dir: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "daybreak_device",
        "--mock",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--token",
        TOKEN,
        "--state-dir",
        str(state_dir),
        "--no-zeroconf",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        async with asyncio.timeout(15):
            while True:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    await http.get(f"{url}/api/health")
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
                else:
                    return


async def test_the_process_without_permission_to_write_serves_and_stops_cleanly(
    tmp_path: Path, disk: SmallDisk
) -> None:
    """As root with CAP_DAC_OVERRIDE dropped, in a 0555 directory; then SIGTERM on a full disk."""
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop capabilities")
    state_dir = tmp_path / "locked"
    state_dir.mkdir()
    (state_dir / "state.json").write_text(
        json.dumps({"version": 1, "on": True, "level": 77, "on_brightness": 77, "ramp": None})
    )
    state_dir.chmod(0o555)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]
    process = subprocess.Popen(
        [*drop, *device_command(state_dir, port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "DAYBREAK_LOG_LEVEL": "info"},
    )
    try:
        await wait_serving(url, process)
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        ) as http:
            assert (await http.get("/api/state")).json()["level"] == 77
            response = await http.post("/api/light", json={"brightness": 12})
            assert response.status_code == 507
            assert response.json()["error"]["code"] == "storage_error"
            assert (await http.get("/api/state")).json()["level"] == 12
            assert (await http.get("/api/health")).json()["status"] == "degraded"
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert await asyncio.to_thread(process.wait, 5) == 0
        assert time.monotonic() - started < 2
    finally:
        if process.poll() is None:
            process.kill()
        state_dir.chmod(0o755)
    log = process.stderr.read().decode() if process.stderr else ""
    assert "Traceback" not in log
    assert log.count("Cannot save the state") == 1, log

    # A full disk at SIGTERM: exit 0, within 2 s, the state held in memory logged as lost.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        device_command(disk.path / "state", port), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        await wait_serving(url, process)
        disk.break_it("full")
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        ) as http:
            await http.post("/api/sunrise", json={"duration": 600})
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert await asyncio.to_thread(process.wait, 5) == 0
        assert time.monotonic() - started < 2
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in (process.stderr.read().decode() if process.stderr else "")
