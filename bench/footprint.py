"""Device server footprint (RSS, idle CPU) and state fan-out latency to 50 clients.

Servers run as child processes on 127.0.0.1, each with a fresh state dir; the clients
(``socketio.AsyncClient``, WebSocket) run in this process, in one asyncio loop:

* ``daybreak``: ``daybreak-device --mock`` (``--no-zeroconf`` when it has that flag:
  nothing may go to the LAN from a bench; zeroconf is still imported).
* baseline ``sio+uvicorn``: a bare python-socketio ``AsyncServer`` (ASGI, WebSocket only)
  under ``uvicorn.run``, with one handler that broadcasts what it gets as ``state``.
* ``... -aiohttp``: the same two with ``aiohttp`` hidden (``sys.modules["aiohttp"] = None``
  before the import). python-engineio imports its aiohttp *client* whenever aiohttp is
  installed; the test venv has it for the tests' clients, while ``pip install
  daybreak-device`` (a Pi) does not install it.
* reference ``python``: an interpreter doing nothing (``time.sleep``).

For each server and 0, 1 and 50 connected clients: after 1 s to settle, RSS (VmRSS from
/proc/PID/status) at the end of a 10 s window and CPU (utime + stime from
/proc/PID/stat) over it, as a share of one core. Idle means: no commands; the
clients answer Engine.IO pings (every 5 s) and Daybreak sends heartbeats (every 10 s).

Fan-out: with 50 clients connected, one client sends a command (Daybreak: ``light.set``
with brightness alternating 100/200; baseline: an event its handler broadcasts); the
time from the send until each of the 50 clients has the state event (all 50 samples of
each command), and until the last of them has it (one sample per command). The
clients share this process's loop, so the spread includes their own serial work.

Usage: ``bench/footprint.py [--window S] [--commands N]`` (defaults 10 s, 200).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
from _common import (
    TOKEN,
    Child,
    free_port,
    percentile,
    print_header,
    ratio,
    start_child,
    start_device,
)

CLIENT_COUNTS = (0, 1, 50)
FANOUT_CLIENTS = 50
NO_AIOHTTP = 'import sys\nsys.modules["aiohttp"] = None  # as if not installed'
GOAL_RSS_MB = 45.0

BARE_SERVER = """
import sys
import socketio
import uvicorn

sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])


@sio.on("command")
async def command(sid, data):
    await sio.emit("state", data)
    return {"ok": True}


uvicorn.run(
    socketio.ASGIApp(sio), host="127.0.0.1", port=int(sys.argv[1]),
    log_level="warning", lifespan="off",
)
"""


@dataclass
class Window:
    clients: int
    rss_mb: float
    cpu_pct: float  # of one core


@dataclass
class Footprint:
    name: str
    note: str
    start_rss_mb: float = 0.0
    windows: list[Window] = field(default_factory=list)
    fanout_each_ms: list[float] = field(default_factory=list)
    fanout_last_ms: list[float] = field(default_factory=list)


def start_bare(tmp: Path, name: str, prelude: str = "") -> Child:
    port = free_port()
    argv = [sys.executable, "-c", prelude + "\n" + BARE_SERVER, str(port)]
    return start_child(name, argv, port, tmp / f"{name}.log", "/socket.io/")


def start_python(tmp: Path) -> Child:
    """A plain interpreter (no port: waits until it has started)."""
    import subprocess  # noqa: PLC0415

    log = tmp / "python.log"
    ready = tmp / "python.ready"
    code = f"import pathlib, time\npathlib.Path({str(ready)!r}).touch()\ntime.sleep(3600)"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=out)
    deadline = time.monotonic() + 10
    while not ready.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("python did not start")
        time.sleep(0.01)
    return Child("python", proc, 0, log)


async def connect_clients(
    child: Child, count: int, on_state: Callable[[int, Any], None] | None = None
) -> list[socketio.AsyncClient]:
    async def one(index: int) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        if on_state is not None:
            sio.on("state", lambda data: on_state(index, data))
        await sio.connect(
            child.url, auth={"token": TOKEN}, transports=["websocket"], wait_timeout=10
        )
        return sio

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def measure_windows(child: Child, result: Footprint, window: float) -> None:
    result.start_rss_mb = child.rss_mb()
    for count in CLIENT_COUNTS:
        clients = await connect_clients(child, count) if child.port else []
        await asyncio.sleep(1.0)
        cpu0, t0 = child.cpu_seconds(), time.monotonic()
        await asyncio.sleep(window)
        cpu = (child.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        result.windows.append(Window(count, child.rss_mb(), cpu * 100))
        for sio in clients:
            await sio.disconnect()
        if not child.port:
            break  # the plain interpreter takes no clients


async def measure_fanout(child: Child, result: Footprint, commands: int, daybreak: bool) -> None:
    arrivals: list[float | None] = [None] * FANOUT_CLIENTS
    want = {"brightness": -1}
    all_in = asyncio.Event()

    def on_state(index: int, data: Any) -> None:
        if (
            isinstance(data, dict)
            and data.get("brightness") == want["brightness"]
            and arrivals[index] is None
        ):
            arrivals[index] = time.perf_counter()
            if all(a is not None for a in arrivals):
                all_in.set()

    clients = await connect_clients(child, FANOUT_CLIENTS, on_state)
    sender = clients[0]
    await asyncio.sleep(0.5)
    try:
        for i in range(commands + 10):  # 10 warm-up commands
            level = (100, 200)[i % 2]
            want["brightness"] = level
            arrivals[:] = [None] * FANOUT_CLIENTS
            all_in.clear()
            t0 = time.perf_counter()
            if daybreak:
                ack = await sender.call("light.set", {"brightness": level}, timeout=5)
            else:
                ack = await sender.call("command", {"brightness": level}, timeout=5)
            if not ack.get("ok"):
                raise RuntimeError(f"command refused: {ack}")
            await asyncio.wait_for(all_in.wait(), 10)
            if i >= 10:
                got = [(a - t0) * 1e3 for a in arrivals if a is not None]
                result.fanout_each_ms.extend(got)
                result.fanout_last_ms.append(max(got))
            await asyncio.sleep(0.005)
    finally:
        for sio in clients:
            await sio.disconnect()


def print_footprint(results: list[Footprint], window: float) -> None:
    base_by_clients = {w.clients: w for w in results[1].windows}  # sio+uvicorn
    print(f"== RSS and idle CPU (server process; {window:g} s windows) ==")
    head = (
        f"{'server':<22} {'clients':>7} {'RSS MB':>7} {'vs sio':>7} {'CPU %core':>9} {'vs sio':>7}"
    )
    print(head)
    print("-" * len(head))
    for res in results:
        bases = base_by_clients
        if res.name.endswith("-aiohttp"):
            bases = {w.clients: w for w in results[3].windows}  # sio+uvicorn -aiohttp
        for w in res.windows:
            base = bases.get(w.clients)
            print(
                f"{res.name:<22} {w.clients:>7d} {w.rss_mb:>7.1f}"
                f" {ratio(w.rss_mb, base.rss_mb) if base else '':>7}"
                f" {w.cpu_pct:>9.3f} {ratio(w.cpu_pct, base.cpu_pct) if base else '':>7}"
            )
    print()
    for res in results:
        print(f"  {res.name:<22} {res.note}; RSS right after start {res.start_rss_mb:.1f} MB")
    print(
        "  'vs sio' = figure / the bare python-socketio + uvicorn server's, with or without"
        " aiohttp alike, from this run."
    )
    print()


def print_fanout(results: list[Footprint]) -> None:
    rows = [r for r in results if r.fanout_last_ms]
    base = next(r for r in rows if r.name == "sio+uvicorn")
    print(f"== State fan-out to {FANOUT_CLIENTS} clients ==")
    head = (
        f"{'server':<14} {'what':<10} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f" {'p50 vs sio':>10} {'p99 vs sio':>10}"
    )
    print(head)
    print("-" * len(head))
    for res in rows:
        for label, values, bvalues in (
            ("each", res.fanout_each_ms, base.fanout_each_ms),
            ("last", res.fanout_last_ms, base.fanout_last_ms),
        ):
            p50, p99 = percentile(values, 50), percentile(values, 99)
            print(
                f"{res.name:<14} {label:<10} {len(values):>6d} {p50:>8.2f} {p99:>8.2f}"
                f" {max(values):>8.2f} {ratio(p50, percentile(bvalues, 50)):>10}"
                f" {ratio(p99, percentile(bvalues, 99)):>10}"
            )
    print(
        "  each: command sent until one client had the state (every client of every command);"
        " last: until all 50 had it (per command)."
    )
    print()


async def run(window: float, commands: int) -> None:
    results = [
        Footprint("daybreak", "daybreak-device --mock, fresh state dir"),
        Footprint("sio+uvicorn", "bare python-socketio AsyncServer under uvicorn.run"),
        Footprint("daybreak -aiohttp", "the same, aiohttp hidden (as a Pi install)"),
        Footprint("sio+uvicorn -aiohttp", "the same, aiohttp hidden"),
        Footprint("python", "python -c 'time.sleep(3600)' (reference)"),
    ]
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-") as tmp_name:
        tmp = Path(tmp_name)
        starters: list[Callable[[], Child]] = [
            lambda: start_device(tmp / "state-1"),
            lambda: start_bare(tmp, "sio-uvicorn"),
            lambda: start_device(tmp / "state-2", python_prelude=NO_AIOHTTP),
            lambda: start_bare(tmp, "sio-uvicorn-noaio", NO_AIOHTTP),
            lambda: start_python(tmp),
        ]
        for result, starter in zip(results, starters, strict=True):
            began = time.perf_counter()
            child = starter()
            try:
                await measure_windows(child, result, window)
                if result.name in ("daybreak", "sio+uvicorn"):
                    await measure_fanout(child, result, commands, result.name == "daybreak")
            finally:
                child.stop()
            print(f"  {result.name}: {time.perf_counter() - began:.1f} s")
    print()
    print_footprint(results, window)
    print_fanout(results)
    day = {w.clients: w for w in results[0].windows}
    lean = {w.clients: w for w in results[2].windows}
    print(
        f"RSS goal <= {GOAL_RSS_MB:g} MB with 1 client: as tested {day[1].rss_mb:.1f} MB "
        f"({'MET' if day[1].rss_mb <= GOAL_RSS_MB else 'NOT MET'}); without aiohttp "
        f"{lean[1].rss_mb:.1f} MB ({'MET' if lean[1].rss_mb <= GOAL_RSS_MB else 'NOT MET'})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0, help="seconds per window")
    parser.add_argument("--commands", type=int, default=200, help="fan-out commands (>= 100)")
    args = parser.parse_args()
    start = time.perf_counter()
    print_header("device footprint and fan-out to 50 clients")
    asyncio.run(run(args.window, args.commands))
    print(f"(bench took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
