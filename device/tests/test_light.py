"""The light engine: transitions and sunrises on a real server, recorded on the mock pin."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from gpiozero.pins.mock import MockPWMPin

from daybreak_device.dimming import Dimmer
from daybreak_device.light import LightController, Ramp
from daybreak_device.output import OutputError
from daybreak_device.protocol import StartSunriseCommand, SunriseEventPayload
from daybreak_device.statefile import StateFile
from helpers import NEW_IN_4, Client, Device

CIE = Dimmer()
#: How far (in 0-255 brightness) a recorded duty may be from the level its timestamp
#: calls for: about 12 ms of a 0-255-in-1-s ramp; scheduling jitter does not matter
#: because the level is computed from the time the duty is written.
LEVEL_TOLERANCE = 3.0


def to_monotonic(iso: str) -> float:
    """Convert a wall-clock ISO time from the device to this process's monotonic clock."""
    return datetime.fromisoformat(iso).timestamp() - time.time() + time.monotonic()


def start_recording(pin: MockPWMPin) -> float:
    """Forget the pin's history; return the monotonic time the new history starts at."""
    pin.clear_states()
    return pin._last_change


def pin_changes(pin: MockPWMPin, origin: float) -> list[tuple[float, float]]:
    """The pin's changes since :func:`start_recording` as (monotonic time, duty)."""
    changes = []
    now = origin
    for state in pin.states[1:]:  # the first entry is the state at clear time
        now += state.timestamp  # MockPin records the time since the previous change
        changes.append((now, state.state))
    return changes


def assert_follows(changes: list[tuple[float, float]], ramp: Ramp, start: float) -> None:
    """Each recorded duty is the CIE duty of the level the ramp calls for at its time."""
    for at, duty in changes:
        expected = ramp.level_at(at - start)
        assert CIE.brightness(duty) == pytest.approx(expected, abs=LEVEL_TOLERANCE), (
            f"duty {duty} at {at - start:.3f} s: expected brightness {expected:.2f}"
        )


async def connected(connect, **kwargs) -> Client:
    client: Client = await connect(**kwargs)
    await client.wait_for_state(lambda s: True)
    return client


async def call(client: Client, event: str, payload: object = None) -> dict:
    """Send a command after forgetting earlier pushes, so waits only see what follows it."""
    client.states.clear()
    ack = await client.call(event) if payload is None else await client.call(event, payload)
    assert ack["ok"] is True, ack
    return ack


async def assert_no_writes_for(pin: MockPWMPin, seconds: float) -> None:
    """Nothing touches the pin for ``seconds`` (several ticks)."""
    origin = start_recording(pin)
    await asyncio.sleep(seconds)
    assert pin_changes(pin, origin) == []


# -- Ramp -----------------------------------------------------------------------------


def test_ramp_level_at_linear() -> None:
    ramp = Ramp("sunrise", 10.0, 210.0, 100.0, "linear", 1000.0)
    assert ramp.ends_at == 1100.0
    assert ramp.level_at(-5) == 10.0
    assert ramp.level_at(0) == 10.0
    assert ramp.level_at(25) == pytest.approx(60.0)
    assert ramp.level_at(50) == pytest.approx(110.0)
    assert ramp.level_at(100) == 210.0
    assert ramp.level_at(1e9) == 210.0
    assert ramp.progress(50) == 0.5
    assert ramp.progress(-1) == 0.0
    assert ramp.progress(101) == 1.0


@pytest.mark.parametrize(
    ("curve", "at_quarter", "at_half"),
    [
        ("linear", 60.0, 110.0),
        ("ease_in", 10 + 200 / 16, 60.0),
        ("ease_out", 10 + 200 * 7 / 16, 160.0),
        ("ease_in_out", 10 + 200 * 5 / 32, 110.0),
    ],
)
def test_ramp_level_at_curves(curve, at_quarter, at_half) -> None:
    ramp = Ramp("sunrise", 10.0, 210.0, 4.0, curve, 0.0)
    assert ramp.level_at(0) == 10.0
    assert ramp.level_at(1) == pytest.approx(at_quarter)
    assert ramp.level_at(2) == pytest.approx(at_half)
    assert ramp.level_at(4) == 210.0
    levels = [ramp.level_at(i / 100) for i in range(401)]
    assert levels == sorted(levels)


def test_ramp_level_at_downwards_and_zero_duration() -> None:
    down = Ramp("transition", 200.0, 0.0, 2.0, "linear", 0.0)
    assert down.level_at(0.5) == pytest.approx(150.0)
    assert down.level_at(2.0) == 0.0
    instant = Ramp("transition", 30.0, 90.0, 0.0, "linear", 0.0)
    assert instant.progress(0) == 1.0
    assert instant.level_at(0) == 90.0


def test_ramp_json_round_trip() -> None:
    ramp = Ramp("sunrise", 0.0, 255.0, 1800.0, "ease_in_out", 1_700_000_000.123)
    assert Ramp.from_json(ramp.to_json()) == ramp
    data = {
        "kind": "transition",
        "start": 0,
        "target": 255,
        "duration": 2,
        "curve": "linear",
        "started_at": 5,
    }
    assert Ramp.from_json(data) == Ramp("transition", 0.0, 255.0, 2.0, "linear", 5.0)


def test_ramp_carries_the_alarm_that_started_it() -> None:
    ramp = Ramp("sunrise", 0.0, 200.0, 1800.0, "linear", 1_700_000_000.0, "wake-up")
    assert ramp.to_json()["alarm_id"] == "wake-up"
    assert Ramp.from_json(ramp.to_json()) == ramp
    # Saved before protocol 2: no alarm id, as if started by a command.
    old = {k: v for k, v in ramp.to_json().items() if k != "alarm_id"}
    assert Ramp.from_json(old) == Ramp("sunrise", 0.0, 200.0, 1800.0, "linear", 1_700_000_000.0)
    assert Ramp.from_json({**old, "alarm_id": None}).alarm_id is None


GOOD = {
    "kind": "sunrise",
    "start": 0.0,
    "target": 255.0,
    "duration": 60.0,
    "curve": "linear",
    "started_at": 1000.0,
}


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "ramp",
        {},
        {**GOOD, "kind": "fade"},
        {**GOOD, "kind": None},
        {**GOOD, "curve": "cubic"},
        {**GOOD, "curve": ["linear"]},
        {k: v for k, v in GOOD.items() if k != "duration"},
        {k: v for k, v in GOOD.items() if k != "started_at"},
        {**GOOD, "start": "0"},
        {**GOOD, "target": True},
        {**GOOD, "duration": None},
        {**GOOD, "started_at": float("nan")},
        {**GOOD, "started_at": 10**400},  # an integer too large for a float
        {**GOOD, "duration": float("inf")},
        {**GOOD, "start": -1.0},
        {**GOOD, "target": 255.5},
        {**GOOD, "duration": -1.0},
        {**GOOD, "alarm_id": 7},
        {**GOOD, "alarm_id": ""},
        {**GOOD, "alarm_id": "x" * 65},
    ],
)
def test_ramp_from_json_rejects_malformed_data(data) -> None:
    with pytest.raises(ValueError, match="ramp"):
        Ramp.from_json(data)


@pytest.mark.parametrize("tick_rate", [0, 0.5, 1001])
def test_controller_rejects_bad_tick_rate(tmp_path: Path, tick_rate) -> None:
    with pytest.raises(ValueError, match="tick rate must be between 1 and 1000 Hz"):
        LightController(None, CIE, StateFile(tmp_path / "state.json"), tick_rate=tick_rate)  # type: ignore[arg-type]


# -- transitions ------------------------------------------------------------------------


async def test_transition_follows_the_cie_curve(connect, device: Device) -> None:
    client = await connected(connect)
    pin = device.pin
    origin = start_recording(pin)
    ack = await call(client, "light.set", {"brightness": 255, "transition": 1})
    assert ack["ok"] is True
    assert ack["state"]["on"] is True
    assert ack["state"]["transition"]["target_brightness"] == 255
    start = to_monotonic(ack["state"]["transition"]["ends_at"]) - 1.0
    final = await client.wait_for_state(lambda s: s["transition"] is None and s["level"] == 255)
    assert final == {
        "on": True,
        "brightness": 255,
        "level": 255.0,
        "sunrise": None,
        "transition": None,
        "next_sunrise": None,
        "storage_error": None,
        **NEW_IN_4,
    }

    changes = pin_changes(pin, origin)
    duties = [duty for _, duty in changes]
    assert duties == sorted(duties), "duty went down during a fade up"
    assert duties[-1] == 1.0
    assert max(duties) <= 1.0
    took = changes[-1][0] - changes[0][0]
    assert 0.9 <= took <= 1.5
    # 50 Hz for 1 s: about 50 updates, each the exact float duty (not 8-bit or 1 % steps).
    assert 20 <= len(changes) <= 60
    off_grid = [d for d in duties[:-1] if abs(d * 255 - round(d * 255)) > 1e-6]
    assert len(off_grid) >= len(duties) - 3
    assert_follows(changes, Ramp("transition", 0.0, 255.0, 1.0, "linear", 0.0), start)


async def test_fade_out_to_off_and_back_on(connect, device: Device) -> None:
    client = await connected(connect)
    pin = device.pin
    assert (await call(client, "light.set", {"brightness": 255}))["ok"]
    assert pin.state == 1.0

    origin = start_recording(pin)
    ack = await call(client, "light.set", {"on": False, "transition": 0.5})
    assert ack["state"]["on"] is False
    assert ack["state"]["transition"]["target_brightness"] == 0
    start = to_monotonic(ack["state"]["transition"]["ends_at"]) - 0.5
    final = await client.wait_for_state(lambda s: s["transition"] is None and not s["on"])
    assert final["brightness"] == 0
    assert final["level"] == 0.0
    changes = pin_changes(pin, origin)
    duties = [duty for _, duty in changes]
    assert duties == sorted(duties, reverse=True)
    assert duties[-1] == 0.0
    assert max(duties) <= 1.0
    assert 0.4 <= changes[-1][0] - changes[0][0] <= 1.0
    assert len(changes) >= 10
    assert_follows(changes, Ramp("transition", 255.0, 0.0, 0.5, "linear", 0.0), start)

    # "on" alone fades back to the last on-brightness.
    ack = await call(client, "light.set", {"on": True, "transition": 0.3})
    assert ack["state"]["transition"]["target_brightness"] == 255
    await client.wait_for_state(lambda s: s["transition"] is None and s["level"] == 255)
    assert pin.state == 1.0


async def test_manual_command_cancels_a_transition(connect, device: Device) -> None:
    client = await connected(connect)
    pin = device.pin
    await call(client, "light.set", {"brightness": 255, "transition": 2})
    await asyncio.sleep(0.3)
    assert 0 < pin.state < 1
    ack = await call(client, "light.set", {"brightness": 100})
    assert ack["state"]["transition"] is None
    assert ack["state"]["brightness"] == 100
    assert ack["state"]["level"] == 100.0
    assert pin.state == CIE.duty(100)
    await assert_no_writes_for(pin, 0.3)
    state = await call(client, "state.get")
    assert state["state"]["transition"] is None
    assert state["state"]["level"] == 100.0


async def test_new_transition_starts_where_the_running_one_is(connect, device: Device) -> None:
    client = await connected(connect)
    pin = device.pin
    await call(client, "light.set", {"brightness": 255, "transition": 2})
    await asyncio.sleep(0.5)
    origin = start_recording(pin)
    ack = await call(client, "light.set", {"brightness": 0, "transition": 0.5})
    reached = ack["state"]["level"]
    assert 20 < reached < 150
    assert ack["state"]["on"] is False
    start = to_monotonic(ack["state"]["transition"]["ends_at"]) - 0.5
    await client.wait_for_state(lambda s: s["transition"] is None and s["level"] == 0)
    changes = pin_changes(pin, origin)
    duties = [duty for _, duty in changes]
    assert duties == sorted(duties, reverse=True), "the light jumped up before fading down"
    assert duties[-1] == 0.0
    # No jump: the first write is about where the first transition had got to.
    assert CIE.brightness(duties[0]) == pytest.approx(reached, abs=LEVEL_TOLERANCE)
    assert_follows(changes, Ramp("transition", reached, 0.0, 0.5, "linear", 0.0), start)


async def test_tick_rate_sets_the_update_rate(start_device, connect) -> None:
    device: Device = await start_device(tick_rate=10, pin="GPIO17")
    client = await connected(connect, target=device)
    origin = start_recording(device.pin)
    await call(client, "light.set", {"brightness": 255, "transition": 1})
    await client.wait_for_state(lambda s: s["transition"] is None and s["level"] == 255)
    changes = pin_changes(device.pin, origin)
    assert 6 <= len(changes) <= 13  # about 10 ticks plus the final write
    assert changes[-1][1] == 1.0


# -- sunrise -------------------------------------------------------------------------------


async def test_sunrise_pushes_throttled_progress_and_ends_at_target(
    connect, device: Device
) -> None:
    client = await connected(connect)
    pin = device.pin
    ack = await call(client, "sunrise.start", {"duration": 2})
    assert ack["ok"] is True
    state = ack["state"]
    sunrise = state["sunrise"]
    assert state["on"] is True
    assert state["transition"] is None
    assert sunrise["active"] is True
    assert sunrise["duration"] == 2.0
    assert sunrise["start_brightness"] == 0.0
    assert sunrise["target_brightness"] == 255.0
    assert sunrise["curve"] == "linear"
    assert sunrise["progress"] < 0.1
    started_at = datetime.fromisoformat(sunrise["started_at"])
    ends_at = datetime.fromisoformat(sunrise["ends_at"])
    assert (ends_at - started_at).total_seconds() == pytest.approx(2.0, abs=0.002)

    final = await client.wait_for_state(lambda s: s["sunrise"] is None, timeout=6)
    assert final["on"] is True
    assert final["brightness"] == 255
    assert pin.state == 1.0

    pushed = list(client.states)
    active = [s for s in pushed if s["sunrise"] is not None]
    assert pushed[-1] == final
    assert all(s["sunrise"]["ends_at"] == sunrise["ends_at"] for s in active)
    # Start, a push every 0.2 s, end: about 11, never one per tick (100 ticks).
    assert 6 <= len(pushed) <= 14, [s["level"] for s in pushed]
    progress = [s["sunrise"]["progress"] for s in active]
    assert progress == sorted(progress)
    gaps = [b - a for a, b in itertools.pairwise(progress)]
    assert min(gaps) >= 0.03, gaps
    levels = [s["level"] for s in pushed]
    assert levels == sorted(levels)


async def test_sunrise_stop_holds_the_level_reached(connect, device: Device) -> None:
    client = await connected(connect)
    pin = device.pin
    await call(client, "sunrise.start", {"duration": 2, "start_brightness": 0})
    await asyncio.sleep(0.8)
    ack = await call(client, "sunrise.stop")
    assert ack["ok"] is True
    state = ack["state"]
    assert state["sunrise"] is None
    assert state["on"] is True
    level = state["level"]
    assert 255 * 0.25 < level < 255 * 0.75
    assert CIE.brightness(pin.state) == pytest.approx(level, abs=1e-3)  # level is rounded
    await assert_no_writes_for(pin, 0.3)
    pushed = await client.wait_for_state(lambda s: s["sunrise"] is None)
    assert pushed["level"] == level
    # The held level is the new on-brightness.
    await call(client, "light.set", {"on": False})
    assert pin.state == 0.0
    ack = await call(client, "light.set", {"on": True})
    assert ack["state"]["level"] == level


async def test_sunrise_stop_without_a_sunrise_changes_nothing(connect, device: Device) -> None:
    client = await connected(connect)
    await call(client, "light.set", {"brightness": 255, "transition": 0.5})
    ack = await call(client, "sunrise.stop")
    assert ack["ok"] is True
    # A running transition is not a sunrise: it carries on.
    assert ack["state"]["transition"]["target_brightness"] == 255
    final = await client.wait_for_state(lambda s: s["transition"] is None and s["level"] == 255)
    assert final["on"] is True
    assert device.pin.state == 1.0
    ack = await call(client, "sunrise.stop")
    assert ack["state"] == final


async def test_light_set_cancels_a_sunrise(connect, device: Device) -> None:
    client = await connected(connect)
    pin = device.pin
    await call(client, "sunrise.start", {"duration": 2})
    await asyncio.sleep(0.3)
    ack = await call(client, "light.set", {"brightness": 50})
    assert ack["state"]["sunrise"] is None
    assert ack["state"]["transition"] is None
    assert ack["state"]["brightness"] == 50
    assert pin.state == CIE.duty(50)
    await client.wait_for_state(lambda s: s["sunrise"] is None and s["brightness"] == 50)
    await assert_no_writes_for(pin, 0.3)


async def test_sunrise_starts_from_the_current_level(connect, device: Device) -> None:
    client = await connected(connect)
    await call(client, "light.set", {"brightness": 100})
    ack = await call(client, "sunrise.start", {"duration": 1, "target_brightness": 200})
    sunrise = ack["state"]["sunrise"]
    assert sunrise["start_brightness"] == 100.0
    assert ack["state"]["level"] == pytest.approx(100.0, abs=LEVEL_TOLERANCE)
    await client.wait_for_state(lambda s: s["sunrise"] is None and s["level"] == 200)
    assert device.pin.state == CIE.duty(200)


@pytest.mark.parametrize(
    ("curve", "start", "target"),
    [
        ("ease_in", 40.0, 220.0),
        ("ease_out", 0.0, 128.0),
        ("ease_in_out", 10.0, 255.0),
        ("linear", 200.0, 60.0),
    ],
)
async def test_sunrise_with_start_target_and_curve(
    connect, device: Device, curve, start, target
) -> None:
    client = await connected(connect)
    pin = device.pin
    origin = start_recording(pin)
    command = {
        "duration": 1,
        "start_brightness": start,
        "target_brightness": target,
        "curve": curve,
    }
    ack = await call(client, "sunrise.start", command)
    assert ack["ok"] is True, ack
    sunrise = ack["state"]["sunrise"]
    assert sunrise["curve"] == curve
    assert sunrise["start_brightness"] == start
    assert sunrise["target_brightness"] == target
    assert sunrise["duration"] == 1.0
    begin = to_monotonic(sunrise["ends_at"]) - 1.0
    final = await client.wait_for_state(lambda s: s["sunrise"] is None and s["level"] == target)
    assert final["on"] is True

    changes = pin_changes(pin, origin)
    duties = [duty for _, duty in changes]
    assert duties[-1] == CIE.duty(target)
    assert duties == sorted(duties, reverse=target < start)
    assert CIE.brightness(duties[0]) == pytest.approx(start, abs=LEVEL_TOLERANCE)
    assert len(changes) >= 20
    assert_follows(changes, Ramp("sunrise", start, target, 1.0, curve, 0.0), begin)


class FlakyOutput:
    """An output whose writes fail while ``failing`` is set (a transient sysfs error)."""

    description = "flaky test output"

    def __init__(self) -> None:
        self.duty = 0.0
        self.failing = False
        self.failures = 0

    def set_duty(self, duty: float) -> None:
        if self.failing:
            self.failures += 1
            raise OutputError("cannot write 1 to duty_cycle: Input/output error")
        self.duty = duty

    def close(self, *, turn_off: bool) -> None:
        pass


async def test_output_errors_do_not_stop_a_sunrise(tmp_path: Path, caplog) -> None:
    output = FlakyOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"), tick_rate=50)
    await controller.start()
    changed = asyncio.Event()
    controller.add_listener(changed.set)
    await controller.start_sunrise(
        {"duration": 0.6, "target_brightness": 255.0, "start_brightness": 0.0, "curve": "linear"}
    )
    output.failing = True
    await asyncio.sleep(0.2)
    output.failing = False
    async with asyncio.timeout(3):
        while controller.snapshot()["sunrise"] is not None:
            changed.clear()
            await changed.wait()
    assert output.failures >= 3
    assert output.duty == 1.0
    assert controller.snapshot()["brightness"] == 255
    errors = [r for r in caplog.records if "Cannot drive the LED" in r.getMessage()]
    assert len(errors) == 1  # throttled: one line, not one per tick
    assert any("works again" in r.getMessage() for r in caplog.records)
    await controller.stop()


def sunrise_command(duration: float) -> StartSunriseCommand:
    """A sunrise from 0 to 90 over ``duration`` seconds."""
    return {
        "duration": duration,
        "target_brightness": 90.0,
        "start_brightness": 0.0,
        "curve": "linear",
    }


async def until_no_sunrise(controller: LightController) -> None:
    async with asyncio.timeout(3):
        while controller.snapshot()["sunrise"] is not None:
            await asyncio.sleep(0.01)


async def test_sunrise_events_from_the_controller(tmp_path: Path) -> None:
    """Started, finished and cancelled, each with the alarm; none for a resumed sunrise."""
    output = FlakyOutput()
    wall = [1_000.0]
    state_file = tmp_path / "state.json"
    events: list[tuple[str, dict[str, Any]]] = []

    def record(event: str, payload: SunriseEventPayload) -> None:
        events.append((event, dict(payload)))

    controller = LightController(output, CIE, StateFile(state_file), wall_clock=lambda: wall[0])
    controller.add_event_listener(record)
    await controller.start()
    state = await controller.start_sunrise(sunrise_command(0.3), started_at=999.9, alarm_id="a1")
    assert state["sunrise"]["alarm_id"] == "a1"
    wall[0] = 1_000.5
    await until_no_sunrise(controller)
    await controller.start_sunrise(sunrise_command(600.0))
    await controller.stop_sunrise()
    at_1000, at_1000_5 = "1970-01-01T00:16:40.000+00:00", "1970-01-01T00:16:40.500+00:00"
    by_alarm = {"alarm_id": "a1", "target_brightness": 90.0, "duration": 0.3}
    by_command = {"alarm_id": None, "target_brightness": 90.0, "duration": 600.0}
    assert events == [
        ("sunrise.started", {"time": at_1000, **by_alarm}),
        ("sunrise.finished", {"time": at_1000_5, **by_alarm}),
        ("sunrise.started", {"time": at_1000_5, **by_command}),
        ("sunrise.cancelled", {"time": at_1000_5, **by_command}),
    ]

    # A sunrise running at shutdown is saved with its alarm and resumed without a
    # "started"; it still finishes with its alarm.
    await controller.start_sunrise(sunrise_command(60.0), alarm_id="a2")
    await controller.stop()
    assert json.loads(state_file.read_text())["ramp"]["alarm_id"] == "a2"
    events.clear()
    wall[0] += 59.8
    resumed = LightController(output, CIE, StateFile(state_file), wall_clock=lambda: wall[0])
    resumed.add_event_listener(record)
    await resumed.start()
    assert resumed.snapshot()["sunrise"]["alarm_id"] == "a2"
    assert events == []
    await until_no_sunrise(resumed)
    assert [(name, payload["alarm_id"]) for name, payload in events] == [("sunrise.finished", "a2")]
    await resumed.stop()


# -- what the mutation tests found untested (scripts/mutate) ------------------------------


class RecordingOutput(FlakyOutput):
    """A flaky output that also records when (monotonic) each duty was written."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[float, float]] = []

    def set_duty(self, duty: float) -> None:
        super().set_duty(duty)
        self.writes.append((time.monotonic(), duty))


def messages(caplog, needle: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if needle in r.getMessage()]


async def test_the_led_failing_again_after_recovering_is_survived_and_logged(
    tmp_path: Path, caplog
) -> None:
    """Two outages in one sunrise: each is logged when it starts and when it ends."""
    output = FlakyOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"), tick_rate=50)
    await controller.start()
    await controller.start_sunrise(
        {"duration": 1.2, "target_brightness": 255.0, "start_brightness": 0.0, "curve": "linear"}
    )
    for _ in range(2):
        output.failing = True
        await asyncio.sleep(0.15)
        output.failing = False
        await asyncio.sleep(0.15)
    await until_no_sunrise(controller)
    assert output.duty == 1.0
    assert controller.snapshot()["brightness"] == 255
    err = "cannot write 1 to duty_cycle: Input/output error"
    assert messages(caplog, "Cannot drive the LED") == [
        f"Cannot drive the LED (1 failed writes): {err}",
        f"Cannot drive the LED (1 failed writes): {err}",
    ]
    works = messages(caplog, "works again")
    assert len(works) == 2
    assert all(re.fullmatch(r"LED output works again after \d+ failed writes", m) for m in works)
    await controller.stop()


async def test_a_long_output_outage_is_logged_every_500_failed_writes(
    tmp_path: Path, caplog
) -> None:
    output = FlakyOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"))
    await controller.start()
    output.failing = True
    for level in range(1200):
        controller._write_output(level % 255)
    output.failing = False
    controller._write_output(10.0)
    assert [m.split(")")[0] for m in messages(caplog, "Cannot drive")] == [
        "Cannot drive the LED (1 failed writes",
        "Cannot drive the LED (500 failed writes",
        "Cannot drive the LED (1000 failed writes",
    ]
    assert messages(caplog, "works again") == ["LED output works again after 1200 failed writes"]
    assert output.duty == CIE.duty(10.0)
    await controller.stop()


async def test_a_ramp_runs_at_the_tick_rate(tmp_path: Path) -> None:
    output = RecordingOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"), tick_rate=20)
    await controller.start()
    output.writes.clear()
    await controller.set_light({"brightness": 255.0, "transition": 1.0})
    async with asyncio.timeout(3):
        while controller.snapshot()["transition"] is not None:
            await asyncio.sleep(0.02)
    # 20 Hz for 1 s: the first write, 19 ticks and the final write (not half as many).
    assert 16 <= len(output.writes) <= 22
    await controller.stop()


async def test_after_a_stall_the_ramp_skips_the_missed_ticks(tmp_path: Path) -> None:
    """A blocked event loop (a slow SD card, a busy Pi) does not cause a burst of writes:
    the ramp writes the level for now, then keeps to its 10 Hz grid of deadlines."""
    output = RecordingOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"), tick_rate=10)
    await controller.start()
    loop = asyncio.get_running_loop()
    output.writes.clear()
    begin = loop.time()
    await controller.set_light({"brightness": 255.0, "transition": 2.0})
    stall_end: list[float] = []

    def stall() -> None:
        time.sleep(0.4)
        stall_end.append(time.monotonic())

    loop.call_at(begin + 0.25, stall)
    await asyncio.sleep(1.2)
    after = [at for at, _ in output.writes if at >= stall_end[0]]
    # The overdue tick at once, then the next deadline on the grid (0.7 s: 0.05 s later),
    # never the four ticks the stall swallowed.
    assert after[0] - stall_end[0] < 0.03
    assert 0.02 < after[1] - after[0] < 0.09
    assert after[1] - begin == pytest.approx(0.7, abs=0.03)
    assert all(b - a > 0.05 for a, b in itertools.pairwise(after[1:]))
    await controller.stop()


async def test_a_fade_to_off_running_at_restart_goes_on(tmp_path: Path, caplog) -> None:
    """A fade to off saved at shutdown is resumed, not dropped (the light would stay on)."""
    path = tmp_path / "state.json"
    wall = [1_000.0]
    output = FlakyOutput()
    controller = LightController(output, CIE, StateFile(path), wall_clock=lambda: wall[0])
    await controller.start()
    await controller.set_light({"brightness": 200.0})
    await controller.set_light({"on": False, "transition": 60.0})
    await controller.stop()
    saved = json.loads(path.read_text())
    assert saved["ramp"]["target"] == 0.0
    wall[0] += 30.0
    resumed = LightController(output, CIE, StateFile(path), wall_clock=lambda: wall[0])
    with caplog.at_level(logging.INFO):
        await resumed.start()
    state = resumed.snapshot()
    assert state["on"] is False
    assert state["transition"] == {
        "target_brightness": 0.0,
        "ends_at": "1970-01-01T00:17:40.000+00:00",
    }
    assert state["level"] == pytest.approx(100.0, abs=1)
    assert messages(caplog, "Resuming") == ["Resuming transition 30.0 s in, 30.0 s left"]
    await resumed.stop()


@pytest.mark.parametrize(
    "change",
    [
        {"start": 0.0, "target": 0.0},
        {"start": 255.0, "target": 255.0},
        {"start": 0.0, "target": 255.0},
        {"duration": 0.0},
        {"alarm_id": "x" * 64},
        {"alarm_id": "a"},
    ],
)
def test_ramp_from_json_accepts_the_limits(change: dict[str, Any]) -> None:
    data = {**GOOD, **change}
    assert Ramp.from_json(data).to_json() == {"alarm_id": None, **data}


def test_ramp_from_json_messages() -> None:
    cases = [
        ("x", "ramp is not an object"),
        ({**GOOD, "kind": "fade"}, "ramp kind or curve unknown"),
        ({**GOOD, "curve": "cubic"}, "ramp kind or curve unknown"),
        ({**GOOD, "start": None}, "ramp numbers missing or not finite"),
        ({**GOOD, "started_at": 10**400}, "ramp numbers missing or not finite"),
        ({**GOOD, "target": 256}, "ramp values out of range"),
        ({**GOOD, "alarm_id": ""}, "ramp alarm id is not a valid id or null"),
    ]
    for data, message in cases:
        with pytest.raises(ValueError) as info:
            Ramp.from_json(data)
        assert str(info.value) == message


async def test_a_dim_brightness_below_one_turns_the_light_on(tmp_path: Path) -> None:
    """Brightness is a float: 0.5 is a (very dim) light, and "on" brings it back."""
    output = FlakyOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"))
    await controller.start()
    state = await controller.set_light({"brightness": 0.5})
    assert (state["on"], state["level"], state["brightness"]) == (True, 0.5, 0)
    assert output.duty == CIE.duty(0.5) > 0
    await controller.set_light({"on": False})
    assert output.duty == 0.0
    state = await controller.set_light({"on": True})
    assert (state["on"], state["level"]) == (True, 0.5)
    await controller.stop()


async def test_stopping_a_sunrise_still_at_level_0_reports_off(tmp_path: Path) -> None:
    output = FlakyOutput()
    frozen = 5_000.0  # the sunrise has not moved yet when it is stopped
    controller = LightController(
        output, CIE, StateFile(tmp_path / "state.json"), wall_clock=lambda: frozen
    )
    await controller.start()
    state = await controller.start_sunrise(sunrise_command(600.0))
    assert (state["on"], state["level"]) == (True, 0.0)
    state = await controller.stop_sunrise()
    assert (state["on"], state["brightness"], state["sunrise"]) == (False, 0, None)
    assert output.duty == 0.0
    # "on" then restores the brightness the sunrise was going to, not level 0.
    state = await controller.set_light({"on": True})
    assert (state["on"], state["level"]) == (True, 90.0)
    await controller.stop()


async def test_stopping_a_sunrise_below_level_1_keeps_the_on_brightness(tmp_path: Path) -> None:
    output = FlakyOutput()
    controller = LightController(
        output, CIE, StateFile(tmp_path / "state.json"), wall_clock=lambda: 5_000.0
    )
    await controller.start()
    await controller.start_sunrise({**sunrise_command(600.0), "start_brightness": 0.99})
    state = await controller.stop_sunrise()
    assert (state["on"], state["level"]) == (True, 0.99)
    await controller.set_light({"on": False})
    assert (await controller.set_light({"on": True}))["level"] == 90.0
    await controller.start_sunrise({**sunrise_command(600.0), "start_brightness": 1.0})
    await controller.stop_sunrise()
    await controller.set_light({"on": False})
    assert (await controller.set_light({"on": True}))["level"] == 1.0
    await controller.stop()


async def test_a_wall_clock_step_moves_the_reported_times_not_the_light(
    tmp_path: Path, caplog
) -> None:
    wall = [10_000.0]
    output = FlakyOutput()
    controller = LightController(
        output, CIE, StateFile(tmp_path / "state.json"), wall_clock=lambda: wall[0]
    )
    await controller.start()
    command = {**sunrise_command(600.0), "start_brightness": 30.0}
    await controller.start_sunrise(command, started_at=9_700.0)  # half way: level 60
    first = controller.snapshot()["sunrise"]
    assert first["started_at"] == "1970-01-01T02:41:40.000+00:00"
    # The engine's task has a name that says what it is (asyncio's debug output, dumps).
    assert "daybreak sunrise" in {task.get_name() for task in asyncio.all_tasks()}
    wall[0] += 0.9  # NTP's usual small corrections: nothing changes
    assert controller.snapshot()["sunrise"]["started_at"] == first["started_at"]
    assert messages(caplog, "wall clock") == []
    wall[0] += 99.1  # a step of 100 s in all: the times follow, the light does not
    with caplog.at_level(logging.INFO):
        moved = controller.snapshot()
    started = datetime.fromisoformat(moved["sunrise"]["started_at"]).timestamp()
    assert started == pytest.approx(9_800.0, abs=0.2)  # less the time the sunrise has run
    assert datetime.fromisoformat(moved["sunrise"]["ends_at"]).timestamp() == started + 600
    assert moved["sunrise"]["progress"] == pytest.approx(0.5, abs=0.01)
    assert moved["level"] == pytest.approx(60.0, abs=0.5)
    [message] = messages(caplog, "wall clock")
    assert re.fullmatch(
        r"The wall clock moved \+100\.0 s during the sunrise; "
        r"it keeps its schedule \(\d{3}\.\d s left\)",
        message,
    ), message
    assert float(message.split("(")[1].split()[0]) == pytest.approx(300.0, abs=1)
    assert controller.snapshot()["sunrise"] == {**moved["sunrise"], "progress": ANY}
    assert len(messages(caplog, "wall clock")) == 1  # re-anchored once, not every time
    await controller.stop()


async def test_stop_keeps_a_running_sunrise_without_reporting_it_cancelled(tmp_path: Path) -> None:
    """A restart is not a cancellation: stop() saves the sunrise and sends no event."""
    events: list[str] = []
    output = FlakyOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"))
    controller.add_event_listener(lambda event, payload: events.append(event))
    await controller.start()
    await controller.start_sunrise(sunrise_command(600.0))
    await controller.stop()
    assert events == ["sunrise.started"]
    assert json.loads((tmp_path / "state.json").read_text())["ramp"]["kind"] == "sunrise"


async def test_stop_before_start_touches_nothing(tmp_path: Path, caplog) -> None:
    controller = LightController(FlakyOutput(), CIE, StateFile(tmp_path / "state.json"))
    await controller.stop()
    assert caplog.records == []
    assert list(tmp_path.iterdir()) == []


async def test_stop_on_a_broken_or_hung_disk_says_why_and_gives_up_in_a_second(
    tmp_path: Path, caplog, monkeypatch
) -> None:
    from daybreak_device import statefile  # noqa: PLC0415

    def full(path: Path, data: Any) -> None:
        raise OSError(28, "No space left on device")

    controller = LightController(FlakyOutput(), CIE, StateFile(tmp_path / "state.json"))
    await controller.start()
    monkeypatch.setattr(statefile, "atomic_write_json", full)
    await controller.stop()
    assert messages(caplog, "Stopping") == [
        (
            "Stopping with the newest state not saved: the change is made but not saved: "
            "cannot write state.json: No space left on device"
        )
    ]
    caplog.clear()

    def hung(path: Path, data: Any) -> None:
        time.sleep(1.6)

    controller = LightController(FlakyOutput(), CIE, StateFile(tmp_path / "other.json"))
    await controller.start()
    monkeypatch.setattr(statefile, "atomic_write_json", hung)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await controller.stop()
    assert 0.9 < loop.time() - began < 1.4
    assert messages(caplog, "Stopping") == ["Stopping with the newest state not saved: timeout"]


async def test_removed_listeners_are_not_called(tmp_path: Path) -> None:
    controller = LightController(FlakyOutput(), CIE, StateFile(tmp_path / "state.json"))
    await controller.start()
    heard: list[str] = []
    remove = controller.add_listener(lambda: heard.append("state"))
    remove_event = controller.add_event_listener(lambda event, payload: heard.append(event))
    await controller.start_sunrise(sunrise_command(600.0))
    assert heard == ["sunrise.started", "state"]
    remove()
    remove_event()
    await controller.stop_sunrise()
    assert heard == ["sunrise.started", "state"]
    with pytest.raises(RuntimeError, match=r"^no ramp is running$"):
        controller._started_at()
    await controller.stop()


async def test_brightness_0_turns_off_and_on_brings_back_the_last_brightness(
    tmp_path: Path,
) -> None:
    output = FlakyOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"))
    await controller.start()
    await controller.set_light({"brightness": 120.0})
    state = await controller.set_light({"on": True, "brightness": 0.0})  # 0 wins: off
    assert (state["on"], state["level"], output.duty) == (False, 0.0, 0.0)
    state = await controller.set_light({"on": True})
    assert (state["on"], state["level"]) == (True, 120.0)
    state = await controller.set_light({"brightness": 1.0})
    assert (state["on"], state["level"]) == (True, 1.0)
    await controller.stop()


async def test_a_scheduled_sunrise_joins_its_schedule(tmp_path: Path) -> None:
    """An alarm's sunrise noticed late starts at the level its schedule calls for now."""
    wall = 50_000.0
    controller = LightController(
        FlakyOutput(), CIE, StateFile(tmp_path / "state.json"), wall_clock=lambda: wall
    )
    await controller.start()
    state = await controller.start_sunrise(sunrise_command(600.0), started_at=wall - 300.0)
    assert state["sunrise"]["started_at"] == "1970-01-01T13:48:20.000+00:00"
    assert state["sunrise"]["progress"] == 0.5
    assert state["level"] == pytest.approx(45.0)
    await controller.stop()


async def test_a_sunrise_started_while_fading_out_starts_from_dark(tmp_path: Path) -> None:
    """The light is off (fading out): a sunrise without a start brightness starts at 0."""
    controller = LightController(FlakyOutput(), CIE, StateFile(tmp_path / "state.json"))
    await controller.start()
    await controller.set_light({"brightness": 200.0})
    await controller.set_light({"on": False, "transition": 60.0})
    assert controller.current_level() > 150
    state = await controller.start_sunrise(
        {"duration": 600.0, "target_brightness": 255.0, "start_brightness": None, "curve": "linear"}
    )
    assert state["sunrise"]["start_brightness"] == 0.0
    assert state["level"] < 1
    await controller.stop()


async def start_from(path: Path, saved: dict[str, Any], wall: float = 1_000.0) -> LightController:
    """A controller started on a state file holding ``saved`` (wall clock frozen)."""
    path.write_text(json.dumps(saved))
    controller = LightController(FlakyOutput(), CIE, StateFile(path), wall_clock=lambda: wall)
    await controller.start()
    return controller


LIGHT = {"on": True, "level": 80.0, "on_brightness": 80.0, "ramp": None}


@pytest.mark.parametrize(
    ("saved", "reason"),
    [
        ({**LIGHT, "on": "yes"}, "'on' is not a boolean"),
        ({**LIGHT, "level": "80"}, "levels are not numbers"),
        ({**LIGHT, "on_brightness": True}, "levels are not numbers"),
        ({**LIGHT, "level": 255.5}, "levels out of range"),
        ({**LIGHT, "on_brightness": -1}, "levels out of range"),
        ({"on": True, "level": 80.0}, "'on_brightness'"),
        ({**LIGHT, "ramp": {"kind": "fade"}}, "ramp kind or curve unknown"),
    ],
)
async def test_an_invalid_saved_light_starts_dark_and_says_why(
    tmp_path: Path, caplog, saved: dict[str, Any], reason: str
) -> None:
    path = tmp_path / "state.json"
    controller = await start_from(path, saved)
    state = controller.snapshot()
    assert (state["on"], state["level"]) == (False, 0.0)
    assert messages(caplog, "invalid") == [
        f"State file {path} is invalid ({reason}); using defaults"
    ]
    await controller.stop()


async def test_a_saved_light_is_restored_quietly(tmp_path: Path, caplog) -> None:
    controller = await start_from(tmp_path / "state.json", {**LIGHT, "level": 80})
    state = controller.snapshot()
    assert (state["on"], state["level"], state["transition"]) == (True, 80.0, None)
    await controller.stop()
    # A file with no light keys at all (only another section's): defaults, no warning.
    controller = await start_from(tmp_path / "other.json", {"version": 1, "alarms": []})
    assert controller.snapshot()["on"] is False
    assert caplog.records == []
    await controller.stop()


async def test_a_ramp_that_ended_while_down_lands_at_its_target(tmp_path: Path) -> None:
    ramp = Ramp("sunrise", 0.0, 200.0, 60.0, "linear", 1_000.0).to_json()
    for wall in (1_060.0, 5_000.0):  # exactly at its end, and long after
        path = tmp_path / f"state-{wall}.json"
        events: list[str] = []
        controller = await start_from(path, {**LIGHT, "ramp": ramp}, wall=wall)
        controller.add_event_listener(lambda event, payload, seen=events: seen.append(event))
        state = controller.snapshot()
        assert (state["on"], state["level"], state["sunrise"]) == (True, 200.0, None)
        await asyncio.sleep(0.1)
        assert events == []  # not resumed: no ramp left to finish
        await controller.stop()
        assert json.loads(path.read_text())["level"] == 200.0


async def test_the_state_reports_rounded_numbers(tmp_path: Path) -> None:
    wall = 1_200.0
    controller = LightController(
        FlakyOutput(), CIE, StateFile(tmp_path / "state.json"), wall_clock=lambda: wall
    )
    await controller.start()
    state = await controller.set_light({"brightness": 12.345678})
    assert (state["level"], state["brightness"]) == (12.346, 12)
    state = await controller.start_sunrise(sunrise_command(600.0), started_at=1_000.0)
    assert state["sunrise"]["progress"] == 0.3333
    assert state["level"] == 30.0
    await controller.stop()


async def test_a_fade_to_a_dim_level_ends_on_and_to_0_ends_off(tmp_path: Path, caplog) -> None:
    controller = LightController(FlakyOutput(), CIE, StateFile(tmp_path / "state.json"))
    await controller.start()
    await controller.set_light({"brightness": 100.0})
    with caplog.at_level(logging.DEBUG, logger="daybreak_device.light"):
        await controller.set_light({"brightness": 0.5, "transition": 0.2})
        async with asyncio.timeout(3):
            while controller.snapshot()["transition"] is not None:
                await asyncio.sleep(0.02)
    state = controller.snapshot()
    assert (state["on"], state["level"]) == (True, 0.5)
    assert messages(caplog, "finished at") == ["transition finished at 0.50"]
    await controller.set_light({"on": False, "transition": 0.2})
    async with asyncio.timeout(3):
        while controller.snapshot()["transition"] is not None:
            await asyncio.sleep(0.02)
    state = controller.snapshot()
    assert state["on"] is False
    assert state["level"] == 0.0
    await controller.stop()


@pytest.mark.parametrize("tick_rate", [1, 1000])
def test_tick_rate_limits_are_allowed(tmp_path: Path, tick_rate: float) -> None:
    controller = LightController(
        FlakyOutput(), CIE, StateFile(tmp_path / "state.json"), tick_rate=tick_rate
    )
    assert controller._period == 1 / tick_rate


def test_tick_rate_refusal_says_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        LightController(FlakyOutput(), CIE, StateFile(tmp_path / "state.json"), tick_rate=0.9)
    assert str(info.value) == "tick rate must be between 1 and 1000 Hz"


def test_the_engine_defaults_are_50_hz_and_a_push_a_second(tmp_path: Path) -> None:
    controller = LightController(FlakyOutput(), CIE, StateFile(tmp_path / "state.json"))
    assert (controller._period, controller._progress_interval) == (0.02, 1.0)
