"""Snooze and dismiss: what a waking sleeper does to a running alarm, on the device.

The controller runs on the real clocks (its snooze timer and ramps are real tasks);
snoozes are made short by setting the snooze length below the protocol's minimum,
which only the settings object (not a command) allows.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_sunset import Events, RecordingOutput

from daybreak_device.dimming import Dimmer
from daybreak_device.light import LightController, Ramp
from daybreak_device.protocol import ProtocolError, StartSunriseCommand
from daybreak_device.statefile import StateFile
from helpers import TOKEN, Client, Device

CIE = Dimmer()
#: Brightness a recorded duty may be off the level its time calls for (a tick or two).
LEVEL_TOLERANCE = 4.0
#: Seconds a recorded moment may be off the one planned (scheduling on a loaded machine).
TIME_TOLERANCE = 0.08


def rise(duration: float, target: float = 200.0) -> StartSunriseCommand:
    return {
        "duration": duration,
        "target_brightness": target,
        "start_brightness": 0.0,
        "curve": "linear",
    }


async def alarm_running(
    path: Path, output: RecordingOutput, duration: float = 1.0, **settings: Any
) -> LightController:
    """A controller with alarm ``a1``'s sunrise (0 to 200 over ``duration``) just started."""
    controller = LightController(output, CIE, StateFile(path))
    controller.wake_settings.update({"snooze_length": 0.5, **settings})
    await controller.start()
    await controller.start_sunrise(rise(duration), alarm_id="a1")
    return controller


async def wait_until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def brightness_after(output: RecordingOutput, moment: float) -> list[tuple[float, float]]:
    return [(at, CIE.brightness(duty)) for at, duty in output.writes if at >= moment]


async def test_a_snooze_dims_then_the_sunrise_continues_and_ends_later(tmp_path: Path) -> None:
    """Twice in a row: each snooze pauses the sunrise for its length, at the snooze level."""
    output = RecordingOutput()
    controller = await alarm_running(tmp_path / "state.json", output)
    events = Events(controller)
    began = time.monotonic()
    planned_end = controller.snapshot()["sunrise"]["ends_at"]
    ramp = Ramp("sunrise", 0.0, 200.0, 1.0, "linear", 0.0)
    paused_total = 0.0
    for snooze in (1, 2):
        await asyncio.sleep(0.3)
        snoozed_at = time.monotonic()
        state = await controller.snooze()
        elapsed_at_pause = snoozed_at - began - paused_total
        assert state["sunrise"] is None
        assert (state["on"], state["level"]) == (False, 0.0)
        assert output.duty == 0.0
        alarm = state["alarm"]
        assert alarm is not None
        assert (alarm["alarm_id"], alarm["snoozes"]) == ("a1", snooze)
        assert alarm["snoozed_until"] is not None
        await wait_until(lambda: controller.snapshot()["sunrise"] is not None)
        # The snooze level once, then (the snooze over) where the sunrise had got to.
        (_, dimmed), (resumed_at, first_after) = brightness_after(output, snoozed_at)[:2]
        assert dimmed == 0.0
        assert resumed_at - snoozed_at == pytest.approx(0.5, abs=TIME_TOLERANCE)
        paused_total += resumed_at - snoozed_at
        assert first_after == pytest.approx(ramp.level_at(elapsed_at_pause), abs=LEVEL_TOLERANCE)
        state = controller.snapshot()
        assert state["alarm"]["snoozed_until"] is None
        assert state["sunrise"]["alarm_id"] == "a1"
    # It ends later by the two snoozes (0.5 s each), and the alarm's wake time with it.
    ends_at = state["sunrise"]["ends_at"]
    assert _seconds(ends_at) - _seconds(planned_end) == pytest.approx(1.0, abs=0.01)
    assert state["alarm"]["wake_at"] == ends_at
    await wait_until(lambda: controller.snapshot()["sunrise"] is None)
    finished = time.monotonic()
    assert finished - began == pytest.approx(1.0 + paused_total, abs=TIME_TOLERANCE)
    assert output.duty == CIE.duty(200.0)
    assert events.names() == ["alarm.snoozed", "alarm.snoozed", "sunrise.finished"]
    snoozed = events.seen[1][1]
    assert (snoozed["alarm_id"], snoozed["snoozes"]) == ("a1", 2)
    assert snoozed["wake_at"] == ends_at
    await controller.stop()


def _seconds(iso: str) -> float:
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromisoformat(iso).timestamp()


async def test_a_snooze_to_a_low_level_keeps_the_light_on_there(tmp_path: Path) -> None:
    output = RecordingOutput()
    controller = await alarm_running(tmp_path / "state.json", output, 60.0, snooze_level=20.0)
    state = await controller.snooze()
    assert (state["on"], state["level"]) == (True, 20.0)
    assert output.duty == CIE.duty(20.0)
    await controller.stop()


async def test_snoozing_a_snoozed_alarm_starts_the_snooze_again(tmp_path: Path) -> None:
    controller = await alarm_running(tmp_path / "state.json", RecordingOutput(), 60.0)
    first = await controller.snooze()
    await asyncio.sleep(0.2)
    second = await controller.snooze()
    gained = _seconds(second["alarm"]["snoozed_until"]) - _seconds(first["alarm"]["snoozed_until"])
    assert gained == pytest.approx(0.2, abs=TIME_TOLERANCE)
    assert _seconds(second["alarm"]["wake_at"]) - _seconds(first["alarm"]["wake_at"]) == (
        pytest.approx(gained, abs=0.002)
    )
    assert second["alarm"]["snoozes"] == 2
    await controller.stop()


async def test_a_snooze_after_the_wake_time_brings_the_light_back(tmp_path: Path) -> None:
    output = RecordingOutput()
    controller = await alarm_running(tmp_path / "state.json", output, 0.2)
    events = Events(controller)
    await wait_until(lambda: controller.snapshot()["sunrise"] is None)
    assert controller.snapshot()["alarm"] is not None  # within the time after the wake
    state = await controller.snooze()
    assert state["level"] == 0.0
    await wait_until(lambda: controller.snapshot()["alarm"]["snoozed_until"] is None)
    state = controller.snapshot()
    assert (state["on"], state["level"], state["sunrise"]) == (True, 200.0, None)
    assert output.duty == CIE.duty(200.0)
    # No second sunrise.finished: the snooze only brought the light back.
    assert events.names() == ["sunrise.finished", "alarm.snoozed"]
    await controller.stop()


@pytest.mark.parametrize(("setting", "level"), [("keep", 80.0), ("off", 0.0)])
async def test_dismiss_during_the_sunrise_keeps_the_level_or_turns_off(
    tmp_path: Path, setting: Any, level: float
) -> None:
    controller = await alarm_running(tmp_path / "state.json", RecordingOutput(), 60.0)
    controller.wake_settings.update({"dismiss": setting})
    events = Events(controller)
    await controller.start_sunrise(
        {"duration": 60.0, "target_brightness": 200.0, "start_brightness": 80.0, "curve": "linear"},
        alarm_id="a1",
    )
    state = await controller.dismiss()
    assert (state["sunrise"], state["alarm"]) == (None, None)
    assert state["level"] == pytest.approx(level, abs=0.5)
    assert state["on"] is (level > 0)
    assert events.names() == ["sunrise.cancelled", "sunrise.started", "sunrise.cancelled",
                              "alarm.dismissed"]  # fmt: skip
    assert events.seen[-1][1]["alarm_id"] == "a1"
    assert events.seen[-1][1]["dismiss"] == setting
    with pytest.raises(ProtocolError) as refused:
        await controller.dismiss()
    assert refused.value.code == "no_alarm"
    await controller.stop()


async def test_dismiss_while_snoozed_ends_the_paused_sunrise(tmp_path: Path) -> None:
    controller = await alarm_running(tmp_path / "state.json", RecordingOutput(), 60.0)
    events = Events(controller)
    await controller.snooze()
    state = await controller.dismiss()
    assert (state["alarm"], state["sunrise"], state["level"]) == (None, None, 0.0)
    assert events.names() == ["alarm.snoozed", "sunrise.cancelled", "alarm.dismissed"]
    await asyncio.sleep(0.7)  # past the snooze's end: nothing comes back
    assert controller.snapshot()["level"] == 0.0
    await controller.stop()


async def test_outside_an_alarm_snooze_and_dismiss_are_refused(tmp_path: Path) -> None:
    output = RecordingOutput()
    controller = LightController(output, CIE, StateFile(tmp_path / "state.json"))
    await controller.start()
    await controller.set_light({"brightness": 90.0})
    # A sunrise started by a command is no alarm.
    await controller.start_sunrise(rise(60.0))
    before, writes = controller.snapshot(), len(output.writes)
    for command in (controller.snooze, controller.dismiss):
        with pytest.raises(ProtocolError) as refused:
            await command()
        assert refused.value.code == "no_alarm"
        assert "no alarm is running" in refused.value.message
    after = controller.snapshot()
    assert after["sunrise"] is not None
    assert after["sunrise"]["started_at"] == before["sunrise"]["started_at"]
    assert len(output.writes) - writes < 5  # only the sunrise's ticks
    await controller.stop()


async def test_a_command_or_the_time_after_the_wake_ends_the_alarm(tmp_path: Path) -> None:
    controller = await alarm_running(tmp_path / "state.json", RecordingOutput(), 60.0)
    await controller.set_light({"brightness": 50.0})
    assert controller.snapshot()["alarm"] is None
    with pytest.raises(ProtocolError):
        await controller.snooze()
    # The time after the wake time runs out.
    await controller.set_wake_settings({"after_wake": 0.3})
    await controller.start_sunrise(rise(0.2), alarm_id="a2")
    await wait_until(lambda: controller.snapshot()["sunrise"] is None)
    assert controller.snapshot()["alarm"]["alarm_id"] == "a2"
    await wait_until(lambda: controller.snapshot()["alarm"] is None)
    with pytest.raises(ProtocolError):
        await controller.dismiss()
    await controller.stop()


async def test_a_snooze_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    controller = await alarm_running(path, RecordingOutput(), 2.0, snooze_length=0.6)
    await asyncio.sleep(0.5)
    await controller.snooze()
    await controller.stop()
    saved = json.loads(path.read_text())
    assert saved["session"]["alarm_id"] == "a1"
    assert saved["session"]["snoozed_until"] is not None
    assert saved["wake_settings"]["snooze_length"] == 0.6
    output = RecordingOutput()
    restarted = LightController(output, CIE, StateFile(path))
    await restarted.start()
    state = restarted.snapshot()
    assert state["alarm"]["snoozes"] == 1
    assert state["level"] == 0.0
    # Below the limits, the saved length is not taken again; the snooze keeps its end.
    assert restarted.wake_settings.snooze_length == 540.0
    await wait_until(lambda: restarted.snapshot()["sunrise"] is not None)
    assert restarted.snapshot()["level"] == pytest.approx(50.0, abs=LEVEL_TOLERANCE + 3)
    await restarted.stop()
    # Down past the snooze's end: the sunrise goes on where its new schedule is.
    await asyncio.sleep(0.5)
    late = LightController(RecordingOutput(), CIE, StateFile(path))
    await late.start()
    await wait_until(lambda: late.snapshot()["sunrise"] is not None)
    assert late.snapshot()["sunrise"]["progress"] > 0.45
    assert late.snapshot()["alarm"]["alarm_id"] == "a1"
    await late.stop()


@pytest.mark.parametrize(
    "session",
    [
        "not an object",
        {"alarm_id": "", "wake_at": 1.0, "snoozed_until": None, "resume": None, "snoozes": 0},
        {"alarm_id": "a", "wake_at": "x", "snoozed_until": None, "resume": None, "snoozes": 0},
        {"alarm_id": "a", "wake_at": 1.0, "snoozed_until": 2.0, "resume": None, "snoozes": 1},
        {"alarm_id": "a", "wake_at": 1.0, "snoozed_until": None, "resume": None, "snoozes": -1},
    ],
)
async def test_an_invalid_saved_alarm_is_dropped_not_the_light(
    tmp_path: Path, session: Any, caplog
) -> None:
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "on": True,
                "level": 70.0,
                "on_brightness": 70.0,
                "ramp": None,
                "session": session,
            }
        )
    )
    controller = LightController(RecordingOutput(), CIE, StateFile(path))
    await controller.start()
    assert controller.snapshot()["alarm"] is None
    assert controller.snapshot()["level"] == 70.0
    assert "the alarm in progress is invalid" in caplog.text
    await controller.stop()


# -- on the device server ---------------------------------------------------------------


async def test_snooze_and_dismiss_over_socketio_and_rest(connect, device: Device) -> None:
    client: Client = await connect()
    ack = await client.call("alarm.snooze")
    assert ack["ok"] is False
    assert ack["error"]["code"] == "no_alarm"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=device.url, headers=headers) as http:
        response = await http.post("/api/alarm/dismiss")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "no_alarm"
        await device.server.controller.start_sunrise(rise(600.0), alarm_id="wake")
        response = await http.post("/api/alarm/snooze")
        assert response.status_code == 200
        alarm = response.json()["state"]["alarm"]
        assert (alarm["alarm_id"], alarm["snoozes"]) == ("wake", 1)
    await client.wait_for(lambda: "alarm.snoozed" in client.event_names())
    ack = await client.call("alarm.dismiss")
    assert ack["ok"] is True
    assert ack["state"]["alarm"] is None
    await client.wait_for(lambda: "alarm.dismissed" in client.event_names())
    dismissed = dict(client.events)["alarm.dismissed"]
    assert (dismissed["alarm_id"], dismissed["dismiss"]) == ("wake", "keep")


async def test_wake_settings_are_validated_and_kept_across_a_restart(start_device) -> None:
    device: Device = await start_device()
    client = await Client.open(device.url)
    ack = await client.call("wake_settings.set", {"snooze_length": 30})
    assert ack["ok"] is False
    assert "must be between 60 and 1800" in ack["error"]["message"]
    ack = await client.call("wake_settings.set", {})
    assert "give at least one of snooze_length" in ack["error"]["message"]
    ack = await client.call("wake_settings.set", {"dismiss": "explode"})
    assert "must be one of keep, off" in ack["error"]["message"]
    ack = await client.call(
        "wake_settings.set", {"snooze_length": 300, "snooze_level": 12, "dismiss": "off"}
    )
    assert ack["state"]["wake_settings"] == {
        "snooze_length": 300.0,
        "snooze_level": 12.0,
        "dismiss": "off",
        "after_wake": 1800.0,
    }
    await client.sio.disconnect()
    await device.server.stop()
    again: Device = await start_device()
    assert again.server.state()["wake_settings"]["dismiss"] == "off"
    assert again.server.state()["wake_settings"]["snooze_length"] == 300.0


async def test_an_invalid_saved_wake_setting_falls_back_to_its_default(
    tmp_path: Path, caplog
) -> None:
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps({"version": 1, "wake_settings": {"snooze_length": 5, "dismiss": "off"}})
    )
    controller = LightController(RecordingOutput(), CIE, StateFile(path))
    await controller.start()
    assert controller.wake_settings.payload() == {
        "snooze_length": 540.0,
        "snooze_level": 0.0,
        "dismiss": "off",
        "after_wake": 1800.0,
    }
    assert "snooze_length" in caplog.text
    await controller.stop()
