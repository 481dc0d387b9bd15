"""Socket.IO: authentication, state push, commands and their errors over real sockets."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import socketio

from daybreak_device import __version__
from daybreak_device.alarms import local_timezone, zone_name
from daybreak_device.dimming import Dimmer
from daybreak_device.server import MAX_FRAME_BYTES, MODEL
from helpers import TOKEN, Client, Device, invalid, steady

OFF = {
    "on": False,
    "brightness": 0,
    "level": 0.0,
    "sunrise": None,
    "transition": None,
    "next_sunrise": None,
    "storage_error": None,
}
DIMMER = Dimmer()  # the default settings' dimming curve (CIE L*)
COMMAND_EVENTS = ["light.set", "sunrise.start", "sunrise.stop", "state.get", "info.get"]


def not_a_number(key: str, low: int, high: int, value: Any) -> str:
    return (
        f"expected a number between {low} and {high} "
        f"for dictionary value @ data[{key!r}]. Got {value!r}"
    )


def out_of_range(key: str, low: int, high: int, value: Any) -> str:
    return f"must be between {low} and {high} for dictionary value @ data[{key!r}]. Got {value!r}"


def compact_size(payload: Any) -> int:
    return len(json.dumps(payload, separators=(",", ":")))


async def fingerprint(client: Client, device: Device) -> tuple[Any, ...]:
    """Everything a refused command must leave alone: state, pin history, state file.

    Asking for the state also proves the server (and this connection) still serve.
    """
    ack = await client.call("state.get")
    state_file = device.server.settings.state_dir / "state.json"
    return ack, list(device.pin.states), state_file.read_bytes()


async def wait_until(client: Client, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds, re-checking whenever the client receives an event."""
    async with asyncio.timeout(timeout):
        while not condition():
            client.changed.clear()
            await client.changed.wait()


@pytest.fixture
async def lit(connect, device: Device) -> Client:
    """A connected client, with the light set to a known non-default level (77)."""
    client: Client = await connect()
    assert await client.call("light.set", {"brightness": 77}) == {"ok": True, "state": steady(77)}
    assert device.pin.state == pytest.approx(DIMMER.duty(77))
    return client


# -- connecting ---------------------------------------------------------------------


async def test_client_gets_full_state_on_connect(connect) -> None:
    client: Client = await connect()
    state = await client.wait_for_state(lambda s: True)
    assert state == {
        "on": False,
        "brightness": 0,
        "level": 0.0,
        "sunrise": None,
        "transition": None,
        "next_sunrise": None,
        "storage_error": None,
    }


@pytest.mark.parametrize("auth", [None, "wrong", "", 12345, {"nested": TOKEN}])
async def test_bad_token_is_refused_and_gets_no_state(device: Device, auth) -> None:
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    received: list[object] = []
    errors: list[object] = []
    sio.on("state", received.append)
    sio.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            device.url,
            auth=None if auth is None else {"token": auth},
            transports=["websocket"],
            wait_timeout=5,
        )
    assert errors == [{"message": "missing or wrong token", "data": {"code": "unauthorized"}}]
    await asyncio.sleep(0.3)
    assert received == []
    assert not sio.connected


@pytest.mark.parametrize(
    ("query", "options"),
    [
        pytest.param(f"?token={TOKEN}", {}, id="query-string"),
        pytest.param(f"?auth={TOKEN}", {}, id="query-string-auth"),
        pytest.param("", {"headers": {"Authorization": f"Bearer {TOKEN}"}}, id="bearer-header"),
        pytest.param("", {"auth": {"Token": TOKEN}}, id="wrong-key"),
        pytest.param("", {"auth": {"token": [TOKEN]}}, id="token-in-list"),
        pytest.param("", {"auth": {"token": TOKEN + " "}}, id="trailing-space"),
    ],
)
async def test_token_only_counts_in_auth_object(
    device: Device, query: str, options: dict[str, Any]
) -> None:
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    errors: list[object] = []
    sio.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(device.url + query, transports=["websocket"], wait_timeout=5, **options)
    assert errors == [{"message": "missing or wrong token", "data": {"code": "unauthorized"}}]
    assert not sio.connected


# -- light.set ------------------------------------------------------------------------


async def test_set_light_reaches_pin_and_pushes_to_two_clients(connect, device: Device) -> None:
    first, second = await connect(), await connect()
    ack = await first.call("light.set", {"brightness": 255})
    assert ack["ok"] is True
    assert ack["state"]["on"] is True
    assert ack["state"]["brightness"] == 255
    assert device.pin.state == pytest.approx(1.0)
    for client in (first, second):
        await client.wait_for_state(lambda s: s["brightness"] == 255 and s["on"])


async def test_set_light_on_off_brightness_and_restore(connect, device: Device) -> None:
    client: Client = await connect()
    pin = device.pin

    assert await client.call("light.set", {"brightness": 128}) == {"ok": True, "state": steady(128)}
    assert pin.state == pytest.approx(DIMMER.duty(128))
    assert 0.18 < pin.state < 0.19  # perceptual dimming (CIE L*): half brightness is 18.4 %

    assert await client.call("light.set", {"on": False}) == {"ok": True, "state": OFF}
    assert pin.state == 0

    # on without brightness restores the last brightness
    assert await client.call("light.set", {"on": True}) == {"ok": True, "state": steady(128)}
    assert pin.state == pytest.approx(DIMMER.duty(128))

    # brightness 0 means off, even with on: true, and does not replace the last brightness
    assert await client.call("light.set", {"brightness": 0}) == {"ok": True, "state": OFF}
    assert pin.state == 0
    assert await client.call("light.set", {"on": True}) == {"ok": True, "state": steady(128)}
    assert await client.call("light.set", {"on": True, "brightness": 0}) == {
        "ok": True,
        "state": OFF,
    }
    assert pin.state == 0

    # fractional brightness is kept as the level; brightness is its rounded value
    ack = await client.call("light.set", {"on": True, "brightness": 100.25})
    assert ack == {"ok": True, "state": steady(100.25)}
    assert ack["state"]["brightness"] == 100
    assert pin.state == pytest.approx(DIMMER.duty(100.25))

    # on: false with a brightness stays off but remembers the brightness for next time
    assert await client.call("light.set", {"on": False, "brightness": 200}) == {
        "ok": True,
        "state": OFF,
    }
    assert pin.state == 0
    assert await client.call("light.set", {"on": True}) == {"ok": True, "state": steady(200)}
    assert pin.state == pytest.approx(DIMMER.duty(200))

    # full brightness is full duty; the ends of the scale are accepted
    assert await client.call("light.set", {"brightness": 255, "transition": 0}) == {
        "ok": True,
        "state": steady(255),
    }
    assert pin.state == pytest.approx(1.0)
    assert await client.call("state.get") == {"ok": True, "state": steady(255)}


async def test_set_light_transition_fades_on_the_pin(connect, device: Device) -> None:
    client: Client = await connect()
    pin = device.pin
    before = datetime.now(UTC)
    ack = await client.call("light.set", {"brightness": 200, "transition": 0.5})
    assert ack["ok"] is True
    state = ack["state"]
    assert state["on"] is True
    assert state["sunrise"] is None
    assert state["brightness"] < 20
    assert set(state["transition"]) == {"target_brightness", "ends_at"}
    assert state["transition"]["target_brightness"] == 200.0
    ends_at = datetime.fromisoformat(state["transition"]["ends_at"])
    assert ends_at.utcoffset().total_seconds() == 0
    assert 0.3 < (ends_at - before).total_seconds() < 1.5

    # progress is pushed while the fade runs, then the final state
    await client.wait_for_state(lambda s: s["transition"] is not None and 0 < s["level"] < 200)
    final = await client.wait_for_state(lambda s: s == steady(200))
    assert final == steady(200)
    assert await client.call("state.get") == {"ok": True, "state": steady(200)}

    values = [s.state for s in pin.states]
    assert values[0] == 0
    assert values[-1] == pytest.approx(DIMMER.duty(200))
    assert values == sorted(values)  # a monotonic fade up
    assert len(values) > 10  # many small steps (50 Hz ticks), not a jump
    fade_time = sum(s.timestamp for s in pin.states[2:])  # first to last change
    assert 0.3 < fade_time < 1.0

    # and back down to off
    client.states.clear()
    ack = await client.call("light.set", {"on": False, "transition": 0.3})
    assert ack["state"]["on"] is False
    assert ack["state"]["transition"]["target_brightness"] == 0.0
    assert await client.wait_for_state(lambda s: s == OFF) == OFF
    assert pin.state == 0
    down = [s.state for s in pin.states[len(values) - 1 :]]
    assert down == sorted(down, reverse=True)


async def test_new_command_cancels_running_transition(connect, device: Device) -> None:
    client: Client = await connect()
    ack = await client.call("light.set", {"brightness": 255, "transition": 30})
    assert ack["state"]["transition"]["target_brightness"] == 255.0
    assert await client.call("light.set", {"brightness": 10}) == {"ok": True, "state": steady(10)}
    assert device.pin.state == pytest.approx(DIMMER.duty(10))
    changes = len(device.pin.states)
    await asyncio.sleep(0.2)  # ten ramp ticks, had the fade kept running
    assert len(device.pin.states) == changes
    assert await client.call("state.get") == {"ok": True, "state": steady(10)}


# -- sunrise ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [({},), ()], ids=["empty-object", "no-payload"])
async def test_sunrise_start_with_defaults(connect, device: Device, args) -> None:
    client: Client = await connect()
    before = datetime.now(UTC)
    ack = await client.call("sunrise.start", *args)
    assert ack["ok"] is True
    state = ack["state"]
    assert {k: state[k] for k in ("on", "brightness", "transition")} == {
        "on": True,
        "brightness": 0,
        "transition": None,
    }
    assert state["level"] == pytest.approx(0, abs=0.01)
    sunrise = state["sunrise"]
    assert set(sunrise) == {
        "active",
        "started_at",
        "ends_at",
        "duration",
        "start_brightness",
        "target_brightness",
        "progress",
        "curve",
        "alarm_id",
    }
    assert {k: v for k, v in sunrise.items() if k not in ("started_at", "ends_at", "progress")} == {
        "active": True,
        "duration": 1800.0,
        "start_brightness": 0.0,
        "target_brightness": 255.0,
        "curve": "linear",
        "alarm_id": None,  # started by a command, not an alarm
    }
    assert 0 <= sunrise["progress"] < 0.001
    started, ends = (datetime.fromisoformat(sunrise[k]) for k in ("started_at", "ends_at"))
    assert started.utcoffset().total_seconds() == 0
    assert abs((started - before).total_seconds()) < 2
    assert (ends - started).total_seconds() == pytest.approx(1800, abs=0.002)
    # the other client and a later query see it running
    later = await client.call("state.get")
    assert later["state"]["sunrise"]["started_at"] == sunrise["started_at"]
    assert later["state"]["sunrise"]["progress"] >= sunrise["progress"]


async def test_sunrise_starts_from_current_level_when_on(lit: Client) -> None:
    ack = await lit.call("sunrise.start", {"duration": 600})
    assert ack["state"]["sunrise"]["start_brightness"] == 77.0
    assert ack["state"]["sunrise"]["duration"] == 600.0
    assert ack["state"]["level"] == pytest.approx(77, abs=0.1)


async def test_sunrise_explicit_values_run_to_target_on_the_pin(connect, device: Device) -> None:
    observer: Client = await connect()
    client: Client = await connect()
    ack = await client.call(
        "sunrise.start",
        {"duration": 1, "target_brightness": 100, "start_brightness": 10, "curve": "ease_in"},
    )
    assert ack["ok"] is True
    sunrise = ack["state"]["sunrise"]
    assert {k: sunrise[k] for k in ("duration", "start_brightness", "target_brightness")} == {
        "duration": 1.0,
        "start_brightness": 10.0,
        "target_brightness": 100.0,
    }
    assert sunrise["curve"] == "ease_in"
    assert ack["state"]["on"] is True
    assert ack["state"]["level"] == pytest.approx(10, abs=0.5)

    # progress pushes reach every client, then the final state
    for each in (observer, client):
        await each.wait_for_state(
            lambda s: s["sunrise"] is not None and 0 < s["sunrise"]["progress"] < 1
        )
        assert await each.wait_for_state(lambda s: s == steady(100)) == steady(100)

    pin = device.pin
    values = [s.state for s in pin.states]
    assert values[-1] == pytest.approx(DIMMER.duty(100))
    assert values[0] == 0  # the light was off before
    ramp = values[1:]
    assert ramp[0] == pytest.approx(DIMMER.duty(10), rel=1e-3)
    assert ramp == sorted(ramp)
    assert len(ramp) > 20
    # ease_in: halfway through the time, the level is a quarter of the way (32.5), well
    # below the linear curve's 55
    times = [0.0]
    for change in pin.states[2:]:
        times.append(times[-1] + change.timestamp)
    halfway = min(range(len(times)), key=lambda i: abs(times[i] - 0.5))
    assert 20 < DIMMER.brightness(ramp[halfway]) < 45


async def test_sunrise_stop_holds_the_level_reached(connect, device: Device) -> None:
    client: Client = await connect()
    ack = await client.call(
        "sunrise.start", {"duration": 10, "start_brightness": 100, "target_brightness": 200}
    )
    assert ack["state"]["sunrise"]["active"] is True
    await client.wait_for_state(lambda s: s["sunrise"] is not None and s["sunrise"]["progress"] > 0)
    ack = await client.call("sunrise.stop")
    assert ack["ok"] is True
    state = ack["state"]
    assert state["sunrise"] is None
    assert state["transition"] is None
    assert state["on"] is True
    assert 100 < state["level"] < 150
    assert state["brightness"] == round(state["level"])
    assert device.pin.state == pytest.approx(DIMMER.duty(state["level"]), rel=1e-4)
    changes = len(device.pin.states)
    await asyncio.sleep(0.2)
    assert len(device.pin.states) == changes  # the ramp really stopped
    assert await client.call("state.get") == {"ok": True, "state": state}

    # the level reached becomes the brightness that on: true restores
    assert (await client.call("light.set", {"on": False}))["state"] == OFF
    assert (await client.call("light.set", {"on": True}))["state"] == state


@pytest.mark.parametrize("args", [(), ({},), (None,)], ids=["no-payload", "empty", "null"])
async def test_sunrise_stop_without_sunrise_changes_nothing(
    lit: Client, device: Device, args: tuple[Any, ...]
) -> None:
    before = await fingerprint(lit, device)
    assert await lit.call("sunrise.stop", *args) == {"ok": True, "state": steady(77)}
    assert await fingerprint(lit, device) == before


async def test_light_set_cancels_sunrise(lit: Client) -> None:
    assert (await lit.call("sunrise.start", {"duration": 60}))["state"]["sunrise"] is not None
    assert await lit.call("light.set", {"brightness": 30}) == {"ok": True, "state": steady(30)}
    assert await lit.call("sunrise.stop") == {"ok": True, "state": steady(30)}


# -- queries ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [(), ({},), (None,)], ids=["no-payload", "empty", "null"])
async def test_state_get(lit: Client, args: tuple[Any, ...]) -> None:
    assert await lit.call("state.get", *args) == {"ok": True, "state": steady(77)}


@pytest.mark.parametrize("args", [(), ({},)], ids=["no-payload", "empty"])
async def test_info_get(connect, device: Device, args: tuple[Any, ...]) -> None:
    client: Client = await connect()
    device_id = (device.server.settings.state_dir / "device_id").read_text().strip()
    assert len(device_id) == 12
    assert all(c in "0123456789abcdef" for c in device_id)
    ack = await client.call("info.get", *args)
    uptime = ack["info"].pop("uptime")
    assert ack == {
        "ok": True,
        "info": {
            "device_id": device_id,
            "name": "Daybreak",
            "model": MODEL,
            "sw_version": __version__,
            "protocol_version": 4,
            "output": device.output.description,
            "timezone": zone_name(local_timezone()),
            "storage_error": None,
        },
    }
    assert 0 < uptime < 30
    assert device.output.description.startswith("gpiozero MockFactory GPIO18 1000 Hz")


async def test_info_reports_configured_name_and_stable_id(start_device, connect) -> None:
    bedroom: Device = await start_device(name="Bedroom", pin="GPIO19")
    info = (await (await connect(target=bedroom)).call("info.get"))["info"]
    assert info["name"] == "Bedroom"
    again = (await (await connect(target=bedroom)).call("info.get"))["info"]
    assert again.pop("uptime") >= info.pop("uptime")
    assert again == info


# -- refused commands -----------------------------------------------------------------

LIGHT_ERRORS = [
    ({"brightness": "1"}, not_a_number("brightness", 0, 255, "1")),
    ({"brightness": "255"}, not_a_number("brightness", 0, 255, "255")),
    ({"brightness": True}, not_a_number("brightness", 0, 255, True)),
    ({"brightness": False}, not_a_number("brightness", 0, 255, False)),
    ({"brightness": None}, not_a_number("brightness", 0, 255, None)),
    ({"brightness": [128]}, not_a_number("brightness", 0, 255, [128])),
    ({"brightness": {"value": 1}}, not_a_number("brightness", 0, 255, {"value": 1})),
    ({"brightness": 256}, out_of_range("brightness", 0, 255, 256)),
    ({"brightness": 255.01}, out_of_range("brightness", 0, 255, 255.01)),
    ({"brightness": -1}, out_of_range("brightness", 0, 255, -1)),
    ({"brightness": -0.001}, out_of_range("brightness", 0, 255, -0.001)),
    ({"brightness": 10**30}, out_of_range("brightness", 0, 255, 10**30)),
    ({"brightness": 1e300}, out_of_range("brightness", 0, 255, 1e300)),
    ({"on": 1}, "expected true or false for dictionary value @ data['on']. Got 1"),
    ({"on": 0}, "expected true or false for dictionary value @ data['on']. Got 0"),
    ({"on": "true"}, "expected true or false for dictionary value @ data['on']. Got 'true'"),
    ({"on": None}, "expected true or false for dictionary value @ data['on']. Got None"),
    ({"on": True, "transition": "1"}, not_a_number("transition", 0, 3600, "1")),
    ({"on": True, "transition": True}, not_a_number("transition", 0, 3600, True)),
    ({"on": True, "transition": -1}, out_of_range("transition", 0, 3600, -1)),
    ({"on": True, "transition": 3600.5}, out_of_range("transition", 0, 3600, 3600.5)),
    ({"on": True, "color": "red"}, "extra keys not allowed @ data['color']. Got 'red'"),
    ({"On": True}, "extra keys not allowed @ data['On']. Got True"),
    (
        {"on": True, "x": 1, "y": None},
        "extra keys not allowed @ data['x']. Got 1\nextra keys not allowed @ data['y']. Got None",
    ),
    (
        {"on": "yes", "brightness": "1"},
        not_a_number("brightness", 0, 255, "1")
        + "\nexpected true or false for dictionary value @ data['on']. Got 'yes'",
    ),
    ({}, "give 'on', 'brightness' or both. Got {}"),
    ({"transition": 1}, "give 'on', 'brightness' or both. Got {'transition': 1}"),
]

SUNRISE_ERRORS = [
    ({"duration": 0.99}, out_of_range("duration", 1, 10800, 0.99)),
    ({"duration": 0}, out_of_range("duration", 1, 10800, 0)),
    ({"duration": 10800.5}, out_of_range("duration", 1, 10800, 10800.5)),
    ({"duration": -60}, out_of_range("duration", 1, 10800, -60)),
    ({"duration": "60"}, not_a_number("duration", 1, 10800, "60")),
    ({"duration": True}, not_a_number("duration", 1, 10800, True)),
    ({"duration": None}, not_a_number("duration", 1, 10800, None)),
    ({"target_brightness": 0}, out_of_range("target_brightness", 1, 255, 0)),
    ({"target_brightness": 0.5}, out_of_range("target_brightness", 1, 255, 0.5)),
    ({"target_brightness": 255.5}, out_of_range("target_brightness", 1, 255, 255.5)),
    ({"target_brightness": "255"}, not_a_number("target_brightness", 1, 255, "255")),
    ({"target_brightness": True}, not_a_number("target_brightness", 1, 255, True)),
    (
        {"start_brightness": 256},
        (
            "expected null or a number between 0 and 255 for dictionary value "
            "@ data['start_brightness']. Got 256"
        ),
    ),
    (
        {"start_brightness": "0"},
        (
            "expected null or a number between 0 and 255 for dictionary value "
            "@ data['start_brightness']. Got '0'"
        ),
    ),
    (
        {"start_brightness": False},
        (
            "expected null or a number between 0 and 255 for dictionary value "
            "@ data['start_brightness']. Got False"
        ),
    ),
    *(
        (
            {"curve": curve},
            (
                "must be one of linear, ease_in, ease_out, ease_in_out for dictionary value "
                f"@ data['curve']. Got {curve!r}"
            ),
        )
        for curve in ("cubic", "LINEAR", "ease-in", "", None, 1, ["linear"])
    ),
    ({"duration": 60, "speed": 2}, "extra keys not allowed @ data['speed']. Got 2"),
    ({"brightness": 255}, "extra keys not allowed @ data['brightness']. Got 255"),
]

NON_OBJECTS = [[], [{"on": True}], "on", "", 1, 0, 1.5, True, False]


def error_cases(event: str) -> list[tuple[tuple[Any, ...], str]]:
    """(call arguments, expected message) pairs that ``event`` must refuse."""
    cases: list[tuple[tuple[Any, ...], str]] = []
    if event == "light.set":
        cases += [((payload,), message) for payload, message in LIGHT_ERRORS]
    if event == "sunrise.start":
        cases += [((payload,), message) for payload, message in SUNRISE_ERRORS]
    if event == "light.set":
        cases.append(((), "give 'on', 'brightness' or both. Got {}"))
    elif event == "sunrise.start":
        pass  # no payload is valid: every default (test_sunrise_start_with_defaults)
    else:
        cases += [
            ((payload,), f"this command takes no payload. Got {payload!r}")
            for payload in ({"a": 1}, {"on": True}, {"": None})
        ]
    cases += [((payload,), "payload must be a JSON object") for payload in NON_OBJECTS]
    cases += [
        ((two,), "send one payload object, not several")  # a tuple is sent as two args
        for two in (({"on": True}, {"on": False}), ({}, None), (None, None))
    ]
    return cases


@pytest.mark.parametrize("event", COMMAND_EVENTS)
async def test_refused_command_changes_nothing(
    lit: Client, device: Device, subtests: pytest.Subtests, event: str
) -> None:
    for args, message in error_cases(event):
        with subtests.test(args=args):
            before = await fingerprint(lit, device)
            assert await lit.call(event, *args) == invalid(message)
            assert await fingerprint(lit, device) == before
            assert lit.sio.connected


@pytest.mark.parametrize("event", COMMAND_EVENTS)
@pytest.mark.parametrize("size", [5000, 30000])
async def test_payload_over_limit_is_refused(
    lit: Client, device: Device, event: str, size: int
) -> None:
    payload = {"brightness": 200, "pad": "x" * size}
    before = await fingerprint(lit, device)
    assert await lit.call(event, payload) == {
        "ok": False,
        "error": {
            "code": "payload_too_large",
            "message": f"payload is {compact_size(payload)} bytes, the limit is 4096",
        },
    }
    assert await fingerprint(lit, device) == before


async def test_payload_limit_is_exactly_4096_compact_bytes(lit: Client, device: Device) -> None:
    at_limit = {"on": True, "pad": ""}
    at_limit["pad"] = "x" * (4096 - compact_size(at_limit))
    assert compact_size(at_limit) == 4096
    over = {**at_limit, "pad": at_limit["pad"] + "x"}
    before = await fingerprint(lit, device)
    ack = await lit.call("light.set", at_limit)  # passes the size check, fails the schema
    assert ack["error"]["code"] == "invalid_payload"
    assert ack["error"]["message"].startswith("extra keys not allowed @ data['pad']. Got 'xxx")
    assert await lit.call("light.set", over) == {
        "ok": False,
        "error": {
            "code": "payload_too_large",
            "message": "payload is 4097 bytes, the limit is 4096",
        },
    }
    assert await fingerprint(lit, device) == before


UNKNOWN_EVENTS = [
    "light.toggle",
    "LIGHT.SET",
    "light.set ",
    "state",
    "heartbeat",
    "message",
    "connect",
    "disconnect",
    "connect_error",
    "*",
    "",
    "é" * 10,
]


@pytest.mark.parametrize(
    "args", [(), ({"on": True},), (({"on": True}, 1, 2),)], ids=["none", "one", "three"]
)
async def test_unknown_event(
    lit: Client, device: Device, subtests: pytest.Subtests, args: tuple[Any, ...]
) -> None:
    for event in UNKNOWN_EVENTS:
        with subtests.test(event=event):
            before = await fingerprint(lit, device)
            assert await lit.call(event, *args) == {
                "ok": False,
                "error": {"code": "unknown_event", "message": f"unknown event {event!r}"},
            }
            assert await fingerprint(lit, device) == before
            assert lit.sio.connected


async def test_unknown_event_name_is_truncated_in_the_message(lit: Client) -> None:
    ack = await lit.call("x" * 1000, {})
    assert ack == {
        "ok": False,
        "error": {"code": "unknown_event", "message": f"unknown event {'x' * 64!r}"},
    }


async def test_refused_command_pushes_no_state(connect, lit: Client, device: Device) -> None:
    observer: Client = await connect()
    await observer.wait_for_state(lambda s: s == steady(77))
    pushed = len(observer.states)
    assert (await lit.call("light.set", {"brightness": "1"}))["ok"] is False
    assert (await lit.call("nope", {}))["ok"] is False
    # The stream task pushes pending state before the next heartbeat, so once a new
    # heartbeat arrives, any state push caused by the refused commands would be here.
    beats = len(observer.heartbeats)
    await wait_until(observer, lambda: len(observer.heartbeats) > beats)
    assert len(observer.states) == pushed


# -- transport limits and malformed frames ------------------------------------------------


async def test_frame_over_transport_cap_closes_only_that_connection(
    connect, lit: Client, device: Device
) -> None:
    other: Client = await connect()
    before = await fingerprint(other, device)
    closed = asyncio.Event()
    lit.sio.on("disconnect", lambda *_: closed.set())
    await lit.sio.emit("light.set", {"brightness": 200, "pad": "x" * MAX_FRAME_BYTES})
    async with asyncio.timeout(5):
        await closed.wait()
    assert not lit.sio.connected
    assert other.sio.connected
    assert await fingerprint(other, device) == before
    assert (await other.call("light.set", {"brightness": 90}))["state"] == steady(90)
    newcomer: Client = await connect()
    assert await newcomer.call("state.get") == {"ok": True, "state": steady(90)}


async def test_frame_just_under_transport_cap_gets_payload_too_large(
    lit: Client, device: Device
) -> None:
    payload = {"brightness": 200, "pad": "x" * (MAX_FRAME_BYTES - 1000)}
    before = await fingerprint(lit, device)
    ack = await lit.call("light.set", payload)
    assert ack["error"]["code"] == "payload_too_large"
    assert await fingerprint(lit, device) == before
    assert lit.sio.connected


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param('42["light.set",' + "[" * 1500 + "]" * 1500 + "]", id="deep-nesting"),
        pytest.param('42["light.set",{"brightness":1' + "0" * 200 + "}]", id="huge-int"),
        pytest.param('42["light.set",{"brightness":', id="truncated"),
        pytest.param("42[]", id="empty-event"),
        pytest.param('42{"on":true}', id="not-a-list"),
        pytest.param("4garbage", id="garbage"),
        pytest.param("49", id="bad-type"),
    ],
)
async def test_malformed_frames_leave_the_connection_working(
    lit: Client, device: Device, frame: str
) -> None:
    """The Socket.IO library drops frames it cannot decode (no ack); nothing breaks."""
    before = await fingerprint(lit, device)
    await lit.sio.eio.send(frame)
    assert await fingerprint(lit, device) == before
    assert lit.sio.connected


# -- pushes ---------------------------------------------------------------------------


async def test_commands_from_one_client_are_pushed_to_all(connect) -> None:
    first, second = await connect(), await connect()
    await first.call("sunrise.start", {"duration": 600, "target_brightness": 50})
    for client in (first, second):
        state = await client.wait_for_state(lambda s: s["sunrise"] is not None)
        assert state["sunrise"]["target_brightness"] == 50.0
    await second.call("sunrise.stop")
    for client in (first, second):
        await client.wait_for_state(lambda s: s["sunrise"] is None and s["on"])


async def test_heartbeats_arrive_with_uptime_and_time(connect) -> None:
    first, second = await connect(), await connect()
    for client in (first, second):
        await wait_until(client, lambda c=client: len(c.heartbeats) >= 3, timeout=4)
    beats = first.heartbeats
    for beat in beats:
        assert set(beat) == {"uptime", "time"}
        assert isinstance(beat["uptime"], float | int)
        assert beat["uptime"] > 0
        when = datetime.fromisoformat(beat["time"])
        assert when.utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - when).total_seconds()) < 5
    gaps = [b["uptime"] - a["uptime"] for a, b in itertools.pairwise(beats)]
    assert all(0.3 < gap < 1.0 for gap in gaps)  # heartbeat_interval is 0.5 s
    times = [datetime.fromisoformat(b["time"]) for b in beats]
    assert times == sorted(times)


# -- one-off events ----------------------------------------------------------------------


def assert_sunrise_event(
    event: tuple[str, dict[str, Any]],
    name: str,
    *,
    target: float,
    duration: float,
    after: datetime,
) -> datetime:
    """``event`` is ``name`` for a commanded sunrise to ``target`` over ``duration``,
    sent at or after ``after`` and now; return its time."""
    assert event[0] == name
    payload = event[1]
    assert payload.keys() == {"time", "alarm_id", "target_brightness", "duration"}
    assert (payload["alarm_id"], payload["target_brightness"], payload["duration"]) == (
        None,
        target,
        duration,
    )
    when = datetime.fromisoformat(payload["time"])
    assert when.utcoffset().total_seconds() == 0
    assert after - timedelta(milliseconds=1) <= when <= datetime.now(UTC)
    return when


async def no_more_pushes(client: Client) -> None:
    """Wait two heartbeats: what the device was going to push has arrived by then."""
    beats = len(client.heartbeats)
    await wait_until(client, lambda: len(client.heartbeats) >= beats + 2)


async def test_a_sunrise_that_runs_to_its_end_is_started_then_finished(connect) -> None:
    observer: Client = await connect()
    client: Client = await connect()
    before = datetime.now(UTC)
    await client.call("sunrise.start", {"duration": 1, "target_brightness": 100})
    for each in (observer, client):
        await each.wait_for(lambda c=each: len(c.events) == 2)
        started = assert_sunrise_event(
            each.events[0], "sunrise.started", target=100.0, duration=1.0, after=before
        )
        finished = assert_sunrise_event(
            each.events[1], "sunrise.finished", target=100.0, duration=1.0, after=started
        )
        assert 0.9 < (finished - started).total_seconds() < 1.5
        await each.wait_for_state(lambda s: s == steady(100))
    await no_more_pushes(observer)
    assert observer.event_names() == ["sunrise.started", "sunrise.finished"]
    # The progress pushes are states only: the alarms went once, on connect.
    assert len(observer.states) > 3
    assert observer.alarms == [[]]


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        pytest.param("sunrise.stop", None, [], id="stopped"),
        pytest.param("light.set", {"brightness": 30}, [], id="light-set"),
        pytest.param("light.set", {"on": False, "transition": 0.2}, [], id="faded-out"),
        pytest.param(
            "sunrise.start",
            {"duration": 30, "target_brightness": 200},
            [("sunrise.started", 200.0, 30.0)],
            id="another-sunrise",
        ),
    ],
)
async def test_a_sunrise_ended_by_a_command_is_cancelled(
    connect, event: str, payload: Any, expected: list[tuple[str, float, float]]
) -> None:
    observer: Client = await connect()
    client: Client = await connect()
    before = datetime.now(UTC)
    await client.call("sunrise.start", {"duration": 60, "target_brightness": 100})
    await client.call(event, *([] if payload is None else [payload]))
    await observer.wait_for(lambda: len(observer.events) == 2 + len(expected))
    await no_more_pushes(observer)
    started, cancelled, *after = observer.events
    when = assert_sunrise_event(
        started, "sunrise.started", target=100.0, duration=60.0, after=before
    )
    when = assert_sunrise_event(
        cancelled, "sunrise.cancelled", target=100.0, duration=60.0, after=when
    )
    for got, (name, target, duration) in zip(after, expected, strict=True):
        when = assert_sunrise_event(got, name, target=target, duration=duration, after=when)
    assert client.events == observer.events


async def test_commands_that_touch_no_sunrise_send_no_event(connect) -> None:
    observer: Client = await connect()
    client: Client = await connect()
    await client.call("light.set", {"brightness": 50})
    await client.call("light.set", {"brightness": 150, "transition": 0.3})
    await client.call("sunrise.stop")
    await client.wait_for_state(lambda s: s == steady(150))
    await client.call("light.set", {"on": False, "transition": 0.2})
    await client.call("sunrise.stop")
    await client.call("light.set", {"on": True})
    await no_more_pushes(observer)
    assert observer.events == []


async def test_events_are_not_replayed_on_connect(connect, device: Device) -> None:
    first: Client = await connect()
    await first.call("sunrise.start", {"duration": 1, "target_brightness": 80})
    await first.wait_for(lambda: first.event_names() == ["sunrise.started", "sunrise.finished"])
    await first.call("sunrise.start", {"duration": 60})
    await first.wait_for(lambda: len(first.events) == 3)
    late: Client = await connect()
    await late.wait_for(lambda: late.states and late.alarms)
    assert late.states[0]["sunrise"]["target_brightness"] == 255.0  # the state tells
    await no_more_pushes(late)
    assert late.events == []
    assert late.alarms == [[]]
    # and what happens from now on reaches it
    await first.call("sunrise.stop")
    await late.wait_for(lambda: late.event_names() == ["sunrise.cancelled"])
