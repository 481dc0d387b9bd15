"""Bedside button edge → LED change latency, while a 50 Hz ramp runs.

The real ``DaybreakServer`` (``--mock`` settings, no clients) runs in this process with
a bedside button on ``GPIO17``: a gpiozero ``MockFactory`` pin, driven from a separate
thread as lgpio's callback thread would (``drive_low``, 50 ms held, ``drive_high``: a
short press, which acts at its release). The LED is the same factory's ``MockPWMPin``
behind a wrapper that timestamps every ``set_duty`` (``time.monotonic``).

Each press turns the LED to 0 (duty 0.0); the latency is the first such write minus the
moment just before ``drive_high`` (the release edge). Scenarios, ``--presses`` each:

* ``idle``: the light on at a steady level, no ramp; the press toggles it off (the
  baseline of the ratios);
* ``sunrise``: a sunrise from 100 to 255 over 10 min ticking at 50 Hz; the press
  toggles the light off (a manual command cancels the ramp);
* ``alarm``: an alarm's sunrise, the same ramp; the press snoozes it (to off).

Beside them, from the same run, the ramp's own tick lateness: each tick's write time
minus its deadline (tick n at the ramp's start on the loop's clock + n * 20 ms),
p50/p99/max.

Usage: ``bench/button_latency.py [--presses N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import tempfile
import threading
import time
from pathlib import Path

from _common import TOKEN, percentile, print_header, ratio
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin

from daybreak_device.config import Settings
from daybreak_device.output import GpiozeroOutput
from daybreak_device.server import DaybreakServer

PERIOD = 1 / 50.0
GOAL_P99_MS = 50.0
BUTTON = "GPIO17"
HOLD = 0.05  # seconds the button is held


class TimedOutput:
    """The mock gpiozero output, recording (monotonic time, duty) of every write."""

    def __init__(self, factory: MockFactory) -> None:
        self.inner = GpiozeroOutput("GPIO18", 1000.0, pin_factory=factory)
        self.writes: list[tuple[float, float]] = []
        self.lock = threading.Lock()

    @property
    def description(self) -> str:
        return "timed " + self.inner.description

    @property
    def duty(self) -> float:
        return self.inner.duty

    def set_duty(self, duty: float) -> None:
        with self.lock:
            self.writes.append((time.monotonic(), duty))
        self.inner.set_duty(duty)

    def close(self, *, turn_off: bool) -> None:
        self.inner.close(turn_off=turn_off)


def press(pin: MockPin) -> float:
    """A short press from this (non-loop) thread; the monotonic time of its release."""
    pin.drive_low()
    time.sleep(HOLD)
    released = time.monotonic()
    pin.drive_high()
    return released


def tick_lateness(writes: list[tuple[float, float]], start: float, until: float) -> list[float]:
    """Lateness (ms) of a ramp's ticks before ``until``; tick 0 is due at ``start``."""
    ramp = [t for t, _ in writes if t < until]
    lateness = []
    for at in ramp[1:]:  # the first is the level shown at the start, not a tick
        tick = math.floor((at - start) / PERIOD)  # the deadline just before the write
        lateness.append((at - (start + tick * PERIOD)) * 1e3)
    return lateness


async def run(presses: int) -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    output = TimedOutput(factory)
    latencies: dict[str, list[float]] = {"idle": [], "sunrise": [], "alarm": []}
    lateness: list[float] = []
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-") as tmp:
        settings = Settings(
            host="127.0.0.1",
            port=0,
            token=TOKEN,
            state_dir=Path(tmp) / "state",
            mock=True,
            zeroconf=False,
            button_pin=BUTTON,
        )
        server = DaybreakServer(settings, TOKEN, output=output, pin_factory=factory)
        await server.start()
        pin = factory.pin(BUTTON)
        controller = server.controller
        ramp = {"duration": 600.0, "target_brightness": 255.0, "start_brightness": 100.0,
                "curve": "linear"}  # fmt: skip
        for scenario in ("idle", "sunrise", "alarm"):
            for _ in range(presses):
                if scenario == "idle":
                    await controller.set_light({"brightness": 150.0})
                else:
                    alarm = "bench" if scenario == "alarm" else None
                    await controller.start_sunrise(ramp, alarm_id=alarm)  # type: ignore[arg-type]
                # The loop time the ramp's ticks are scheduled from (the engine's own).
                start = controller._anchor  # noqa: SLF001
                with output.lock:
                    output.writes.clear()
                # Let the ramp tick a while (and the double-press window pass).
                await asyncio.sleep(random.uniform(0.45, 0.6))
                released = await asyncio.to_thread(press, pin)
                deadline = time.monotonic() + 2.0
                while True:
                    with output.lock:
                        off = [t for t, duty in output.writes if duty == 0.0 and t >= released]
                    if off or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.005)
                if not off:
                    raise RuntimeError(f"{scenario}: the press did not turn the LED off")
                latencies[scenario].append((off[0] - released) * 1e3)
                if scenario != "idle":
                    with output.lock:
                        lateness += tick_lateness(list(output.writes), start, released)
        await server.stop()

    print(f"presses per scenario: {presses} (short, {HOLD * 1e3:.0f} ms, from another thread)")
    print()
    print("| scenario | press release → LED off, p50 / p99 / max (ms) | vs idle (p50 / p99) |")
    print("| --- | --- | --- |")
    base = latencies["idle"]
    for scenario, values in latencies.items():
        p50, p99, top = percentile(values, 50), percentile(values, 99), max(values)
        print(
            f"| {scenario} | {p50:.3f} / {p99:.3f} / {top:.3f} | "
            f"{ratio(p50, percentile(base, 50))} / {ratio(p99, percentile(base, 99))} |"
        )
    print(
        f"| ramp tick lateness, same run ({len(lateness)} ticks) | "
        f"{percentile(lateness, 50):.3f} / {percentile(lateness, 99):.3f} / "
        f"{max(lateness):.3f} | |"
    )
    worst = max(percentile(v, 99) for v in latencies.values())
    verdict = "met" if worst <= GOAL_P99_MS else "MISSED"
    print()
    print(f"goal: p99 ≤ {GOAL_P99_MS:g} ms in every scenario: {verdict} ({worst:.3f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=150, help="presses per scenario")
    args = parser.parse_args()
    print_header("bedside button edge → LED latency during a 50 Hz ramp")
    asyncio.run(run(args.presses))


if __name__ == "__main__":
    main()
