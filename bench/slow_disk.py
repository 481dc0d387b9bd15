"""Commands on a slow disk: push before persist, and group commit.

A plain SD card takes ~15 ms per fsync, and each state write does two (the file and
its directory). Everything on 127.0.0.1, client and server in one asyncio loop:

* ``sio-echo``: baseline, a bare python-socketio ``AsyncServer`` under uvicorn whose
  handler returns its argument; the ``call`` round trip.
* ``daybreak``: the real ``DaybreakServer`` with a gpiozero mock pin that timestamps its
  changes. One client calls ``light.set`` (brightness alternating 100/200) and measures
  from the call to (1) the pin change, (2) the ``state`` push with the new brightness,
  (3) the ack. Once on the real disk (a temp dir on the filesystem of ``--dir``), once on
  a *slow disk*: the same, with ``os.fsync`` wrapped to take 15 ms more.
* ``throughput``: 8 clients each keeping 4 ``light.set`` in flight (each sent when one
  of its acks returns) for 5 s on the slow disk: commands acked per second. The same
  is measured, in a child process of this run, for the device code of ``--compare REV``
  (default: the revision before the core split, ``7a5543f``), taken from git, so
  "today's" figure is measured beside the new one.

Usage: ``bench/slow_disk.py [-n COMMANDS] [--compare REV|none] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import socketio
from _common import TOKEN, percentile, print_header, ratio
from gpiozero.pins.mock import MockFactory
from roundtrip import LEVELS, Series, TimedPWMPin, bench_sio_echo, device_settings

from daybreak_device.output import GpiozeroOutput
from daybreak_device.server import DaybreakServer

REPO = Path(__file__).resolve().parent.parent
FSYNC_DELAY = 0.015
WARMUP = 50
CLIENTS = 8
#: Commands each throughput client keeps in flight (a slider, an automation burst).
IN_FLIGHT = 4
THROUGHPUT_SECONDS = 5.0


@contextmanager
def slow_fsync(delay: float) -> Iterator[None]:
    """Make every ``os.fsync`` in this process take ``delay`` seconds more."""
    real: Callable[[int], None] = os.fsync

    def slow(fd: int) -> None:
        time.sleep(delay)
        real(fd)

    os.fsync = slow
    try:
        yield
    finally:
        os.fsync = real


async def sio_echo(n: int, pause: float) -> Series:
    """The baseline: ``roundtrip``'s bare python-socketio echo, ``pause`` s between calls.

    Paced like the commands it is compared with (each of those waits for its ack, i.e.
    the disk), because an idle gap costs its own wake-up latency on a VM's CPU.
    """
    series = await bench_sio_echo(n, pause)
    series.name = f"sio-echo, {pause * 1e3:.0f} ms apart" if pause else "sio-echo"
    return series


async def start_server(state_dir: Path) -> tuple[DaybreakServer, TimedPWMPin]:
    factory = MockFactory(pin_class=TimedPWMPin)
    output = GpiozeroOutput("GPIO18", 1000.0, pin_factory=factory)
    pin = output.led.pin
    pin.changed = asyncio.Event()
    server = DaybreakServer(device_settings(state_dir), TOKEN, output=output)
    await server.start()
    return server, pin


async def connect(port: int) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await sio.connect(f"http://127.0.0.1:{port}", auth={"token": TOKEN}, transports=["websocket"])
    return sio


async def latencies(n: int, state_dir: Path, label: str) -> list[Series]:
    server, pin = await start_server(state_dir)
    pin_s = Series(f"{label} cmd->pin", "light.set call until the mock pin changed")
    state_s = Series(f"{label} cmd->state", "until the 'state' push with it arrived")
    ack_s = Series(f"{label} cmd->ack", "until the ack (after the durable write)")
    got_state = asyncio.Event()
    want = {"brightness": -1}

    def on_state(data: dict[str, Any]) -> None:
        if data.get("brightness") == want["brightness"]:
            got_state.set()

    sio = await connect(server.port)
    sio.on("state", on_state)
    try:
        for i in range(WARMUP + n):
            want["brightness"] = LEVELS[i % 2]
            got_state.clear()
            pin.changed.clear()
            t0 = time.perf_counter()
            call = asyncio.ensure_future(
                sio.call("light.set", {"brightness": want["brightness"]}, timeout=5)
            )
            async with asyncio.timeout(5):
                await got_state.wait()
                t_state = time.perf_counter()
                ack = await call
                t_ack = time.perf_counter()
            if not ack.get("ok"):
                raise RuntimeError(f"light.set refused: {ack}")
            if i >= WARMUP:
                pin_s.values.append((pin.changed_at - t0) * 1e3)
                state_s.values.append((t_state - t0) * 1e3)
                ack_s.values.append((t_ack - t0) * 1e3)
    finally:
        await sio.disconnect()
        await server.stop()
    return [pin_s, state_s, ack_s]


async def throughput(state_dir: Path) -> float:
    """Commands acked per second by CLIENTS clients sending back to back."""
    server, _pin = await start_server(state_dir)
    clients = [await connect(server.port) for _ in range(CLIENTS)]
    done = 0
    stop_at = time.perf_counter() + THROUGHPUT_SECONDS

    async def hammer(sio: socketio.AsyncClient, k: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < stop_at:
            ack = await sio.call("light.set", {"brightness": 10 + (k * 7 + i) % 200}, timeout=30)
            if not ack.get("ok"):
                raise RuntimeError(f"light.set refused: {ack}")
            done += 1
            i += 1

    began = time.perf_counter()
    try:
        await asyncio.gather(
            *(
                hammer(sio, k * IN_FLIGHT + j)
                for k, sio in enumerate(clients)
                for j in range(IN_FLIGHT)
            )
        )
    finally:
        for sio in clients:
            await sio.disconnect()
        await server.stop()
    return done / (time.perf_counter() - began)


def throughput_of_revision(rev: str, work: Path) -> float:
    """Run :func:`throughput` on the slow disk with the device code of ``rev``."""
    src = work / "src"
    src.mkdir()
    archive = work / "rev.tar"
    with archive.open("wb") as out:
        subprocess.run(
            [
                shutil.which("git") or "git",
                "-C",
                str(REPO),
                "archive",
                rev,
                "device/src",
                "custom_components/daybreak/protocol.py",
            ],
            stdout=out,
            check=True,
        )
    with tarfile.open(archive) as tar:
        tar.extractall(src, filter="data")
    package = src / "device" / "src"
    shutil.copy(src / "custom_components/daybreak/protocol.py", package / "daybreak_device")
    env = {**os.environ, "PYTHONPATH": f"{package}{os.pathsep}{Path(__file__).parent}"}
    run = subprocess.run(
        [sys.executable, __file__, "--throughput-only", "--dir", str(work)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(run.stdout.strip().splitlines()[-1])


def print_table(rows: list[Series], bases: dict[str, Series]) -> None:
    head = f"{'path':<26} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p99 goal ms':>11} {'ok':>4}"
    print(head)
    print("-" * len(head))
    for series in rows:
        base = bases.get(series.name.split(" cmd")[0], series)
        b99 = percentile(base.values, 99)
        p50, p99, worst = (percentile(series.values, q) for q in (50, 99, 100))
        goal = f"{1.5 * b99 + 0.5:.3f}" if "state" in series.name else ""
        ok = ("yes" if p99 <= 1.5 * b99 + 0.5 else "NO") if goal else ""
        print(f"{series.name:<26} {p50:>8.3f} {p99:>8.3f} {worst:>8.3f} {goal:>11} {ok:>4}")


async def run(n: int, compare: str | None, root: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-", dir=root) as tmp:
        real = await latencies(n, Path(tmp) / "real", "real disk")
        real_gap = percentile(real[2].values, 50) / 1e3
        with slow_fsync(FSYNC_DELAY):
            slow = await latencies(n, Path(tmp) / "slow", "slow disk")
            new_rate = await throughput(Path(tmp) / "rate")
    slow_gap = percentile(slow[2].values, 50) / 1e3
    # Each baseline paced like the commands it is the baseline of (see sio_echo).
    bases = {"real disk": await sio_echo(n, real_gap), "slow disk": await sio_echo(n, slow_gap)}
    rows = [await sio_echo(n, 0), bases["real disk"], *real, bases["slow disk"], *slow]
    old_rate = None
    if compare is not None:
        with tempfile.TemporaryDirectory(prefix="daybreak-bench-rev-", dir=root) as tmp:
            old_rate = throughput_of_revision(compare, Path(tmp))
    print(f"== light.set round trips, {n} commands each after {WARMUP} warm-up ==")
    print(f"(slow disk: os.fsync + {FSYNC_DELAY * 1e3:.0f} ms; state files under {root})")
    print_table(rows, bases)
    print("goal: cmd->state p99 <= 1.5 x p99 of the sio-echo above it + 0.5 ms; the echo")
    print("calls are spaced by the commands' p50 ack time, as the commands are")
    print()
    print(
        f"== Throughput on the slow disk, {CLIENTS} clients x {IN_FLIGHT} in flight,"
        f" {THROUGHPUT_SECONDS:g} s =="
    )
    print(f"  this revision          {new_rate:8.1f} commands/s")
    if old_rate is not None:
        print(f"  {compare:<22} {old_rate:8.1f} commands/s")
        print(f"  ratio                  {ratio(new_rate, old_rate):>8}  (goal >= 10x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="commands per path (default 500)")
    parser.add_argument("--compare", default="7a5543f", help="revision for today's figure")
    parser.add_argument("--dir", type=Path, default=REPO / ".venv", help="where state files go")
    parser.add_argument("--throughput-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.throughput_only:
        with (
            tempfile.TemporaryDirectory(prefix="daybreak-bench-", dir=args.dir) as tmp,
            slow_fsync(FSYNC_DELAY),
        ):
            print(asyncio.run(throughput(Path(tmp))))
        return 0
    start = time.perf_counter()
    print_header("commands on a slow disk (push before persist, group commit)")
    compare = None if args.compare == "none" else args.compare
    asyncio.run(run(args.n, compare, args.dir))
    print(f"(bench took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
