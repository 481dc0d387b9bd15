"""The sunset: a ramp from the light's level (or a given one) to off, on the device."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from daybreak_device.dimming import Dimmer
from daybreak_device.light import LightController, Ramp
from daybreak_device.protocol import DeviceEventPayload, StartSunsetCommand
from daybreak_device.statefile import StateFile
from helpers import TOKEN, Client, Device, invalid

CIE = Dimmer()


class RecordingOutput:
    """An output that records when (monotonic) each duty was written."""

    description = "recording test output"

    def __init__(self) -> None:
        self.duty = 0.0
        self.writes: list[tuple[float, float]] = []

    def set_duty(self, duty: float) -> None:
        self.duty = duty
        self.writes.append((time.monotonic(), duty))

    def close(self, *, turn_off: bool) -> None:
        pass


def sunset(
    duration: float, start: float | None = None, curve: Any = "linear"
) -> StartSunsetCommand:
    return {"duration": duration, "start_brightness": start, "curve": curve}


def controller_on(path: Path, output: RecordingOutput, wall: Any = time.time) -> LightController:
    return LightController(output, CIE, StateFile(path), wall_clock=wall)


class Events:
    def __init__(self, controller: LightController) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        controller.add_event_listener(self.record)

    def record(self, event: str, payload: DeviceEventPayload) -> None:
        self.seen.append((event, dict(payload)))

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]


async def until_no_sunset(controller: LightController, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while controller.snapshot()["sunset"] is not None:
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("curve", ["linear", "ease_in", "ease_out", "ease_in_out"])
async def test_a_sunset_fades_from_the_current_level_to_off_along_its_curve(
    tmp_path: Path, curve: Any
) -> None:
    output = RecordingOutput()
    controller = controller_on(tmp_path / "state.json", output)
    await controller.start()
    await controller.set_light({"brightness": 180.0})
    output.writes.clear()
    state = await controller.start_sunset(sunset(0.6, curve=curve))
    began = output.writes[0][0]
    assert state["on"] is True
    assert state["sunset"] is not None
    assert state["sunset"]["start_brightness"] == 180.0
    assert state["sunset"]["curve"] == curve
    assert state["sunset"]["duration"] == 0.6
    assert state["sunrise"] is None
    assert state["transition"] is None
    await until_no_sunset(controller)
    ramp = Ramp("sunset", 180.0, 0.0, 0.6, curve, 0.0)
    levels = [CIE.brightness(duty) for _, duty in output.writes]
    assert len(levels) > 15  # ticks at 50 Hz
    assert levels == sorted(levels, reverse=True)  # never brighter on the way down
    for at, duty in output.writes[1:-1]:
        assert CIE.brightness(duty) == pytest.approx(ramp.level_at(at - began), abs=4.0)
    assert output.writes[-1][1] == 0.0
    end = controller.snapshot()
    assert (end["on"], end["level"], end["sunset"]) == (False, 0.0, None)
    # The on-brightness is kept: turned on, the light comes back where it was.
    assert (await controller.set_light({"on": True}))["level"] == 180.0
    await controller.stop()


async def test_a_sunset_from_off_starts_at_the_last_brightness_or_the_given_one(
    tmp_path: Path,
) -> None:
    output = RecordingOutput()
    controller = controller_on(tmp_path / "state.json", output)
    await controller.start()
    await controller.set_light({"brightness": 120.0})
    await controller.set_light({"on": False})
    state = await controller.start_sunset(sunset(60.0))
    assert state["sunset"]["start_brightness"] == 120.0
    assert state["level"] == pytest.approx(120.0, abs=0.5)
    state = await controller.start_sunset(sunset(60.0, start=40.0))
    assert state["sunset"]["start_brightness"] == 40.0
    assert state["level"] == pytest.approx(40.0, abs=0.5)
    # During a sunrise: from the level the sunrise reached.
    await controller.start_sunrise(
        {"duration": 60.0, "target_brightness": 200.0, "start_brightness": 100.0, "curve": "linear"}
    )
    state = await controller.start_sunset(sunset(60.0))
    assert state["sunset"]["start_brightness"] == pytest.approx(100.0, abs=2)
    assert state["sunrise"] is None
    await controller.stop()


async def test_sunset_events_and_a_stop_holding_the_level(tmp_path: Path) -> None:
    wall = [1_000.0]
    controller = controller_on(tmp_path / "state.json", RecordingOutput(), lambda: wall[0])
    events = Events(controller)
    await controller.start()
    await controller.set_light({"brightness": 100.0})
    await controller.start_sunset(sunset(0.3))
    wall[0] = 1_000.5
    await until_no_sunset(controller)
    await controller.start_sunset(sunset(600.0, start=50.0))
    await asyncio.sleep(0.1)
    state = await controller.stop_sunset()
    assert state["sunset"] is None
    assert state["on"] is True
    assert state["level"] == pytest.approx(50.0, abs=0.5)
    assert (await controller.stop_sunset()) == state  # no sunset: nothing changes
    at_1000, at_1000_5 = "1970-01-01T00:16:40.000+00:00", "1970-01-01T00:16:40.500+00:00"
    assert events.seen == [
        ("sunset.started", {"time": at_1000, "start_brightness": 100.0, "duration": 0.3}),
        ("sunset.finished", {"time": at_1000_5, "start_brightness": 100.0, "duration": 0.3}),
        ("sunset.started", {"time": at_1000_5, "start_brightness": 50.0, "duration": 600.0}),
        ("sunset.cancelled", {"time": at_1000_5, "start_brightness": 50.0, "duration": 600.0}),
    ]
    await controller.stop()


async def test_a_sunset_running_at_restart_is_resumed_and_finishes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    wall = [1_000.0]
    controller = controller_on(path, RecordingOutput(), lambda: wall[0])
    await controller.start()
    await controller.set_light({"brightness": 200.0})
    await controller.start_sunset(sunset(60.0))
    await controller.stop()
    assert json.loads(path.read_text())["ramp"]["kind"] == "sunset"
    wall[0] += 30.0
    output = RecordingOutput()
    resumed = controller_on(path, output, lambda: wall[0])
    events = Events(resumed)
    await resumed.start()
    state = resumed.snapshot()
    assert state["sunset"] is not None
    assert state["sunset"]["progress"] == pytest.approx(0.5, abs=0.01)
    assert state["sunset"]["ends_at"] == "1970-01-01T00:17:40.000+00:00"
    assert state["level"] == pytest.approx(100.0, abs=1)
    assert events.seen == []  # resumed, not started again
    await resumed.stop()
    # One that ended while the device was down lands at off.
    wall[0] += 60.0
    landed = controller_on(path, RecordingOutput(), lambda: wall[0])
    await landed.start()
    assert landed.snapshot()["sunset"] is None
    assert (landed.snapshot()["on"], landed.snapshot()["level"]) == (False, 0.0)
    await landed.stop()


# -- on the device server: Socket.IO and REST ------------------------------------------


async def test_a_light_command_cancels_a_sunset(connect, device: Device) -> None:
    client: Client = await connect()
    assert (await client.call("light.set", {"brightness": 150}))["ok"] is True
    ack = await client.call("sunset.start", {"duration": 600, "curve": "ease_in"})
    assert ack["ok"] is True
    assert ack["state"]["sunset"]["start_brightness"] == 150.0
    assert ack["state"]["sunset"]["curve"] == "ease_in"
    ack = await client.call("light.set", {"brightness": 80})
    assert ack["state"]["sunset"] is None
    assert ack["state"]["level"] == 80.0
    await client.wait_for(lambda: "sunset.cancelled" in client.event_names())
    assert client.event_names() == ["sunset.started", "sunset.cancelled"]
    assert client.events[1][1]["start_brightness"] == 150.0
    # A sunrise replaces a sunset too.
    await client.call("sunset.start")
    ack = await client.call("sunrise.start", {"duration": 60})
    assert (ack["state"]["sunset"], ack["state"]["sunrise"] is not None) == (None, True)


async def test_sunset_over_rest(device: Device) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=device.url, headers=headers) as http:
        response = await http.post("/api/sunset", json={"duration": 120, "start_brightness": 60})
        assert response.status_code == 200
        assert response.json()["state"]["sunset"]["duration"] == 120.0
        response = await http.delete("/api/sunset")
        assert response.status_code == 200
        assert response.json()["state"]["sunset"] is None
        assert response.json()["state"]["on"] is True


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"duration": 59}, "must be between 60 and 10800 for dictionary value @ data['duration']"),
        (
            {"duration": 10801},
            "must be between 60 and 10800 for dictionary value @ data['duration']",
        ),
        (
            {"start_brightness": 0},
            (
                "expected null or a number between 1 and 255 for dictionary value "
                "@ data['start_brightness']"
            ),
        ),
        ({"curve": "sudden"}, "must be one of linear, ease_in, ease_out, ease_in_out"),
        ({"target_brightness": 5}, "extra keys not allowed"),
    ],
)
async def test_bad_sunsets_are_refused_and_change_nothing(
    connect, device: Device, payload: dict[str, Any], message: str
) -> None:
    client: Client = await connect()
    ack = await client.call("sunset.start", payload)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "invalid_payload"
    assert message in ack["error"]["message"]
    assert device.server.state()["sunset"] is None
    assert client.event_names() == []


async def test_sunset_stop_takes_no_payload(connect, device: Device) -> None:
    client: Client = await connect()
    ack = await client.call("sunset.stop", {"x": 1})
    assert ack == invalid("this command takes no payload. Got {'x': 1}")
