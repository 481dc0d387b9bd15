"""One clock for the LED and the report: the wall clock stepped during a sunrise.

A Pi that boots without a real-time clock has its wall clock stepped by NTP, often by
hours, while the monotonic clock runs on. The device's rule (docs/protocol.md): a
running ramp keeps its monotonic schedule, so the step changes neither the level nor
the time left; its reported ``started_at``/``ends_at`` are re-anchored to the new wall
clock; the report is always the level the LED was driven to, and ``sunrise.stop``
holds exactly that level. The server runs on a :class:`helpers.ShiftedClock` that the
test steps; the event loop's monotonic clock is real.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any

import pytest

from daybreak_device.dimming import Dimmer
from helpers import Client, Device, ShiftedClock, level_of

CIE = Dimmer()


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def sample(device: Device, seconds: float) -> list[tuple[float, dict[str, Any]]]:
    """Every ~10 ms: the level the LED shows and the state reported at that moment."""
    samples = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        samples.append((level_of(device.pin.state), device.server.state()))
        await asyncio.sleep(0.01)
    return samples


def assert_led_is_reported(samples: list[tuple[float, dict[str, Any]]]) -> None:
    for shown, state in samples:
        assert state["level"] == pytest.approx(shown, abs=0.01), (shown, state)
        assert state["brightness"] == round(state["level"])


@pytest.mark.parametrize("step", [-7200.0, +7200.0], ids=["back-2h", "forward-past-the-end"])
async def test_a_wall_clock_step_during_a_sunrise(start_device, step: float) -> None:
    clock = ShiftedClock(time.time())
    device: Device = await start_device(clock=clock)
    watcher = await Client.open(device.url)
    try:
        ack = await watcher.call(
            "sunrise.start", {"duration": 3, "start_brightness": 0, "target_brightness": 255}
        )
        assert ack["ok"]
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.sleep(1.0)
        before = device.server.state()
        clock.step(step)
        samples = await sample(device, 0.6)
        assert_led_is_reported(samples)
        # The schedule goes on: neither back to the start nor on to the end.
        levels = [state["level"] for _, state in samples]
        assert before["level"] <= levels[0] < levels[-1] < 255
        assert all(state["sunrise"] is not None for _, state in samples)
        # Re-anchored: the reported end is the time left from the new wall clock.
        sunrise = samples[-1][1]["sunrise"]
        left = 3 - (loop.time() - started)
        assert epoch(sunrise["ends_at"]) - clock() == pytest.approx(left, abs=0.15)
        assert sunrise["progress"] == pytest.approx(1 - left / 3, abs=0.02)

        # Stop holds exactly what the LED shows, and the report says so.
        shown = level_of(device.pin.state)
        ack = await watcher.call("sunrise.stop")
        assert ack["state"]["sunrise"] is None
        assert ack["state"]["level"] == pytest.approx(level_of(device.pin.state), abs=0.01)
        # No jump: within a couple of 20 ms ticks (1.7 levels each on this 3 s ramp; a
        # loaded machine may run one late) of what it showed before the stop.
        assert level_of(device.pin.state) == pytest.approx(shown, abs=3 * 1.7)
        held = device.pin.state
        await asyncio.sleep(0.2)
        assert device.pin.state == held
        assert watcher.event_names() == ["sunrise.started", "sunrise.cancelled"]
    finally:
        await watcher.sio.disconnect()


async def test_a_step_past_the_end_finishes_the_sunrise_once_on_its_schedule(
    start_device,
) -> None:
    clock = ShiftedClock(time.time())
    device: Device = await start_device(clock=clock)
    watcher = await Client.open(device.url)
    try:
        await watcher.call(
            "sunrise.start", {"duration": 2, "start_brightness": 0, "target_brightness": 255}
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.sleep(0.5)
        clock.step(3 * 3600)
        assert_led_is_reported(await sample(device, 0.3))
        assert device.server.state()["sunrise"] is not None
        await watcher.wait_for(lambda: "sunrise.finished" in watcher.event_names())
        finished = loop.time() - started
        # Not at the step (0.5 s in) but at its 2 s end; a loaded machine may run late.
        assert 1.9 <= finished < 4.0
        await asyncio.sleep(0.5)
        assert watcher.event_names() == ["sunrise.started", "sunrise.finished"]
        state = device.server.state()
        assert (state["level"], state["sunrise"]) == (255.0, None)
        assert device.pin.state == CIE.duty(255)
    finally:
        await watcher.sio.disconnect()


async def test_a_sunrise_saved_after_a_step_resumes_where_it_is(start_device, settings) -> None:
    """The saved schedule is on the new wall clock, so a restart resumes it in place."""
    clock = ShiftedClock(time.time())
    first: Device = await start_device(clock=clock)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await first.server.execute(
        "sunrise.start", {"duration": 600, "start_brightness": 0, "target_brightness": 255}
    )
    await asyncio.sleep(0.3)
    clock.step(-7200)
    level = first.server.state()["level"]
    await first.server.stop()
    saved = json.loads((settings.state_dir / "state.json").read_text())["ramp"]
    # Saved as started 0.3 s (and the time stopping took) before now on the new clock,
    # not two hours and 0.3 s.
    assert 0.3 <= clock() - saved["started_at"] <= loop.time() - started + 0.05

    second: Device = await start_device(clock=clock)
    resumed = second.server.state()
    assert resumed["sunrise"] is not None
    assert resumed["level"] == pytest.approx(level, abs=0.5)
    assert level_of(second.pin.state) == pytest.approx(resumed["level"], abs=0.01)
