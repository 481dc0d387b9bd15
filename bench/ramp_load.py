"""Ramp tick timing under CPU load, and drift over a time-compressed 30-minute sunrise.

The real ``DaybreakServer`` (uvicorn, Socket.IO, REST, light controller; ``--mock``
settings, no clients) runs in this process; its output is gpiozero's ``MockPWMPin``
behind a thin wrapper that timestamps every ``set_duty`` call of the engine
(``time.monotonic``, the loop's clock). A sunrise from 0 to 255 over ``--seconds``
(default 60) runs at the default 50 Hz: that is the 30-minute sunrise compressed 30x in
time with the same tick rate and the same code path (3000 ticks instead of 90000; the
engine computes each level from the elapsed time, so the length changes nothing but
the count). Figures:

* lateness: each tick's write time minus its ideal time (tick n at start + n * 20 ms,
  tick numbers replayed as the engine skips ticks it is too late for), p50/p99/max;
* drift: the final write (the target, at the end of the ramp) minus the scheduled end.

Load scenarios, one after another, ``--seconds`` each:

* ``idle``: nothing else running (the baseline of the ratios);
* ``other core``: this process pinned to CPU 0, one busy process (``while True: pass``)
  pinned to CPU 1;
* ``both cores``: two busy processes, nothing pinned (the scheduler shares both cores
  between them and the server);
* ``both cores, nice -10``: the same with the server's thread at nice -10, as
  ``Nice=-10`` in its systemd unit would run it (needs root or CAP_SYS_NICE; left out
  without).

Baseline under the ``both cores`` load as well: a naive loop, ``await
asyncio.sleep(0.02)`` after each tick, timed on the loop's clock, whose lateness adds up
(its drift after the run, and that drift scaled to 30 minutes).

Usage: ``bench/ramp_load.py [--seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from _common import TOKEN, percentile, print_header, ratio
from gpiozero.pins.mock import MockFactory, MockPWMPin

from daybreak_device.config import Settings
from daybreak_device.output import GpiozeroOutput
from daybreak_device.server import DaybreakServer

TICK_RATE = 50.0
PERIOD = 1.0 / TICK_RATE
GOAL_P99_MS = 5.0
FULL_SUNRISE_S = 1800.0


class TimedOutput:
    """The mock gpiozero output, recording (monotonic time, duty) of every write."""

    def __init__(self) -> None:
        self.inner = GpiozeroOutput("GPIO18", 1000.0, pin_factory=MockFactory(pin_class=MockPWMPin))
        self.writes: list[tuple[float, float]] = []

    @property
    def description(self) -> str:
        return "timed " + self.inner.description

    @property
    def duty(self) -> float:
        return self.inner.duty

    def set_duty(self, duty: float) -> None:
        self.writes.append((time.monotonic(), duty))
        self.inner.set_duty(duty)

    def close(self, *, turn_off: bool) -> None:
        self.inner.close(turn_off=turn_off)


@dataclass(frozen=True, slots=True)
class Timing:
    scenario: str
    ticks: int  # writes during the ramp (the final write excluded)
    expected: int  # ticks the schedule has
    lateness_ms: list[float]
    drift_ms: float


def clock_offset() -> float:
    """monotonic - wall clock, from the tightest of a few back-to-back reads."""
    best = (math.inf, 0.0)
    for _ in range(20):
        a = time.monotonic()
        wall = time.time()
        b = time.monotonic()
        best = min(best, (b - a, (a + b) / 2 - wall))
    return best[1]


def settings(state_dir: Path) -> Settings:
    extra: dict[str, Any] = {}
    if "zeroconf" in {f.name for f in fields(Settings)}:
        extra["zeroconf"] = False
    return Settings(host="127.0.0.1", port=0, token=TOKEN, state_dir=state_dir, mock=True, **extra)


async def engine_run(scenario: str, seconds: float) -> Timing:
    output = TimedOutput()
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-") as tmp:
        state_dir = Path(tmp) / "state"
        server = DaybreakServer(settings(state_dir), TOKEN, output=output)
        await server.start()
        finished = asyncio.Event()
        controller = server.controller
        controller.add_listener(
            lambda: finished.set() if controller.snapshot()["sunrise"] is None else None
        )
        output.writes.clear()
        await controller.start_sunrise(
            {
                "duration": seconds,
                "target_brightness": 255.0,
                "start_brightness": 0.0,
                "curve": "linear",
            }
        )
        saved = json.loads((state_dir / "state.json").read_text())
        anchor = saved["ramp"]["started_at"] + clock_offset()
        await asyncio.wait_for(finished.wait(), seconds + 10)
        await server.stop()
    writes = output.writes
    times = [t for t, _ in writes[:-1]]  # the last write is the target, at the end
    ticks = [0]
    for previous in times[:-1]:
        ticks.append(max(ticks[-1] + 1, math.floor((previous - anchor) / PERIOD) + 1))
    lateness = [(t - (anchor + n * PERIOD)) * 1e3 for t, n in zip(times, ticks, strict=True)]
    drift = (writes[-1][0] - (anchor + seconds)) * 1e3
    if writes[-1][1] != 1.0:
        raise RuntimeError(f"the ramp ended at duty {writes[-1][1]}, not 1.0")
    return Timing(scenario, len(times), math.ceil(seconds * TICK_RATE), lateness, drift)


async def naive_run(scenario: str, seconds: float) -> Timing:
    loop = asyncio.get_running_loop()
    ticks = round(seconds * TICK_RATE)
    start = loop.time()
    times = [start]
    for _ in range(ticks):
        await asyncio.sleep(PERIOD)
        times.append(loop.time())
    lateness = [(t - (start + n * PERIOD)) * 1e3 for n, t in enumerate(times)]
    return Timing(scenario, len(times) - 1, ticks, lateness, lateness[-1])


@contextlib.contextmanager
def busy(cpus: list[int | None]) -> Iterator[None]:
    """One busy process per entry, pinned to that CPU (None: not pinned)."""
    procs = []
    try:
        for cpu in cpus:
            proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            if cpu is not None:
                os.sched_setaffinity(proc.pid, {cpu})
            procs.append(proc)
        time.sleep(0.5)  # let them get going
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def niceness(value: int | None) -> Iterator[None]:
    """Run this thread (the event loop's) at ``value``; raises PermissionError if not allowed."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    if value is not None:
        os.setpriority(os.PRIO_PROCESS, 0, value)
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


@contextlib.contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    everything = os.sched_getaffinity(0)
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, everything)


def print_table(results: list[Timing], seconds: float) -> None:
    base = results[0]
    b50, b99 = percentile(base.lateness_ms, 50), percentile(base.lateness_ms, 99)
    head = (
        f"{'scenario':<30} {'ticks':>6} {'of':>6} {'late50':>7} {'late99':>7} {'max':>8}"
        f" {'drift':>8} {'p50 vs idle':>11} {'p99 vs idle':>11}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        p50, p99 = percentile(r.lateness_ms, 50), percentile(r.lateness_ms, 99)
        print(
            f"{r.scenario:<30} {r.ticks:>6d} {r.expected:>6d} {p50:>7.3f} {p99:>7.3f}"
            f" {max(r.lateness_ms):>8.3f} {r.drift_ms:>8.3f}"
            f" {ratio(p50, b50):>11} {ratio(p99, b99):>11}"
        )
    naive = results[-1]
    print(
        "  Times in ms; ticks = writes during the ramp (the engine skips ticks it is too late"
        " for), of = ticks in the schedule; drift = final write minus scheduled end."
    )
    print(
        f"  naive loop: drift {naive.drift_ms:.1f} ms after {seconds:g} s, i.e. about "
        f"{naive.drift_ms * FULL_SUNRISE_S / seconds / 1e3:.1f} s over a 30-minute sunrise "
        "(its lateness adds up); the engine's does not (absolute deadlines)."
    )


async def run(seconds: float) -> list[Timing]:
    cpus = sorted(os.sched_getaffinity(0))
    other = cpus[1] if len(cpus) > 1 else cpus[0]
    results = []
    for label, load, pin, nice in (
        ("engine, idle", [], None, None),
        (f"engine, busy on other core ({other})", [other], {cpus[0]}, None),
        (f"engine, busy on both cores ({len(cpus)})", [None] * len(cpus), None, None),
        ("engine, both cores, nice -10", [None] * len(cpus), None, -10),
    ):
        began = time.perf_counter()
        try:
            with busy(load), pinned(pin), niceness(nice):
                results.append(await engine_run(label, seconds))
        except PermissionError as err:
            print(f"  {label}: left out ({err})")
            continue
        print(f"  {label}: {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    with busy([None] * len(cpus)):
        results.append(await naive_run(f"naive sleep, both cores ({len(cpus)})", seconds))
    print(f"  naive: {time.perf_counter() - began:.1f} s")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="ramp length (default 60)")
    args = parser.parse_args()
    start = time.perf_counter()
    print_header("ramp tick lateness under CPU load, compressed 30-minute sunrise")
    results = asyncio.run(run(args.seconds))
    print()
    print(
        f"== {args.seconds:g} s sunrise 0 -> 255 at {TICK_RATE:g} Hz "
        f"(the 30-minute one compressed {FULL_SUNRISE_S / args.seconds:g}x) =="
    )
    print_table(results, args.seconds)
    print()
    for r in results[:-1]:
        p99 = percentile(r.lateness_ms, 99)
        verdict = "MET" if p99 <= GOAL_P99_MS else "NOT MET"
        print(f"p99 lateness goal <= {GOAL_P99_MS:g} ms, {r.scenario}: {p99:.3f} ms {verdict}")
    print(f"(bench took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
