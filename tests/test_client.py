"""The HA-free client against the real device server (no Home Assistant instance).

Each test uses an ``aiohttp.ClientSession`` of its own, as a script or python-wled
style library user would, and the ``device`` fixture (a real ``DaybreakServer`` in
the same event loop, with ``socket_enabled``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import AsyncMock, patch

import aiohttp
import pytest

import daybreak_device
from custom_components.daybreak import client as client_module
from custom_components.daybreak.client import (
    Alarm,
    AlarmSunrise,
    DaybreakAuthenticationError,
    DaybreakClient,
    DaybreakCommandError,
    DaybreakConnectionError,
    DaybreakError,
    DaybreakProtocolError,
    DaybreakState,
    DaybreakTimeoutError,
    DeviceInfo,
    NextSunrise,
    Sunrise,
    Transition,
)
from custom_components.daybreak.protocol import (
    MAX_ALARMS,
    PROTOCOL_VERSION,
    apply_curve,
    validate_command,
)
from daybreak_device.dimming import Dimmer
from daybreak_device.server import MODEL

from .common import connected_clients, device_answers, free_port, wait_for
from .conftest import TOKEN, Device
from .fake_device import ALARM, FakeDevice


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here: override conftest's autouse fixture that needs ``hass``."""


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def make_client(device: Device, session: aiohttp.ClientSession, **kwargs: Any) -> DaybreakClient:
    return DaybreakClient(
        "127.0.0.1", device.port, kwargs.pop("token", TOKEN), session=session, **kwargs
    )


# -- connection and models ---------------------------------------------------------


async def test_connect_reads_info_and_state(device: Device, session: aiohttp.ClientSession) -> None:
    client = make_client(device, session)
    assert not client.connected
    info = await client.connect()
    try:
        assert client.connected
        assert client.info is info
        assert info == DeviceInfo(
            device_id=device.device_id,
            name="Bedroom",
            model=MODEL,
            sw_version=daybreak_device.__version__,
            protocol_version=PROTOCOL_VERSION,
            output=device.server.info()["output"],
            timezone=device.server.info()["timezone"],
            uptime=info.uptime,
        )
        assert info.timezone
        assert info.uptime is not None
        assert 0 <= info.uptime < 60
        assert client.state == DaybreakState(
            on=False, brightness=0, level=0.0, sunrise=None, transition=None
        )
        again = await client.get_info()
        assert again == dataclasses.replace(info, uptime=again.uptime)
        assert again.uptime is not None
        assert again.uptime >= info.uptime
        assert await client.get_state() == client.state
    finally:
        await client.close()
    assert not client.connected


async def test_async_with_connects_and_closes(
    device: Device, session: aiohttp.ClientSession
) -> None:
    async with make_client(device, session) as client:
        assert client.connected
        assert client.info is not None
        assert client.info.name == "Bedroom"
    assert not client.connected


async def test_without_a_session_socketio_makes_its_own(device: Device) -> None:
    async with DaybreakClient("127.0.0.1", device.port, TOKEN) as client:
        state = await client.set_light(brightness=40)
        assert state.brightness == 40
    assert not client.connected


def test_url() -> None:
    assert DaybreakClient("192.168.1.20", 8080, "t").url == "http://192.168.1.20:8080"
    assert DaybreakClient("daybreak.local", 80, "t").url == "http://daybreak.local:80"
    assert DaybreakClient("fe80::1", 8080, "t").url == "http://[fe80::1]:8080"


async def test_wrong_token_is_an_authentication_error(
    device: Device, session: aiohttp.ClientSession
) -> None:
    client = make_client(device, session, token="wrong-token")  # noqa: S106
    with pytest.raises(DaybreakAuthenticationError, match="refused the token"):
        await client.connect()
    assert not client.connected
    assert client.info is None
    await client.close()


async def test_nothing_listening_is_a_connection_error(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    port = free_port()
    client = DaybreakClient("127.0.0.1", port, TOKEN, session=session, request_timeout=2)
    with pytest.raises(
        DaybreakConnectionError, match=re.escape(f"cannot connect to http://127.0.0.1:{port}")
    ):
        await client.connect()
    assert not client.connected
    await client.close()


async def test_commands_need_a_connection(device: Device, session: aiohttp.ClientSession) -> None:
    client = make_client(device, session)
    with pytest.raises(DaybreakConnectionError, match="not connected"):
        await client.get_state()
    with pytest.raises(DaybreakConnectionError, match="not connected"):
        await client.set_light(on=True)
    async with client:
        pass
    with pytest.raises(DaybreakConnectionError, match="not connected"):
        await client.stop_sunrise()


async def test_connect_twice_replaces_the_connection(
    device: Device, session: aiohttp.ClientSession
) -> None:
    async with make_client(device, session) as client:
        first = client._sio
        await client.connect()
        assert client.connected
        assert client._sio is not first
        assert first is not None
        assert not first.connected


# -- commands ----------------------------------------------------------------------


async def test_set_light(device: Device, session: aiohttp.ClientSession) -> None:
    async with make_client(device, session) as client:
        state = await client.set_light(brightness=128)
        assert (state.on, state.brightness, state.level) == (True, 128, 128.0)
        assert client.state == state
        assert device.pin.state == pytest.approx(Dimmer().duty(128))

        state = await client.set_light(on=False)
        assert (state.on, state.brightness) == (False, 0)
        assert device.pin.state == 0

        state = await client.set_light(on=True)  # restores the last level
        assert state.brightness == 128

        state = await client.set_light(brightness=0)
        assert state.on is False


async def test_set_light_with_transition(device: Device, session: aiohttp.ClientSession) -> None:
    async with make_client(device, session) as client:
        state = await client.set_light(brightness=200, transition=5)
        assert state.on is True
        assert state.sunrise is None
        assert isinstance(state.transition, Transition)
        assert state.transition.target_brightness == 200
        assert isinstance(state.transition.ends_at, datetime)
        assert state.transition.ends_at.tzinfo is not None
        assert state.brightness < 200


async def test_start_and_stop_sunrise(device: Device, session: aiohttp.ClientSession) -> None:
    async with make_client(device, session) as client:
        state = await client.start_sunrise(
            duration=600, target_brightness=200, start_brightness=10, curve="ease_in"
        )
        sunrise = state.sunrise
        assert isinstance(sunrise, Sunrise)
        assert (sunrise.duration, sunrise.target_brightness) == (600.0, 200.0)
        assert (sunrise.start_brightness, sunrise.curve) == (10.0, "ease_in")
        assert 0 <= sunrise.progress < 0.01
        assert (sunrise.ends_at - sunrise.started_at).total_seconds() == pytest.approx(600)
        assert state.on is True
        assert state.transition is None

        state = await client.stop_sunrise()
        assert state.sunrise is None
        assert state.on is True
        assert state.brightness == 10

        state = await client.start_sunrise()  # the device's defaults
        assert state.sunrise is not None
        assert (state.sunrise.duration, state.sunrise.curve) == (1800.0, "linear")
        assert state.sunrise.target_brightness == 255


@pytest.mark.parametrize(
    ("command", "kwargs", "message"),
    [
        ("set_light", {}, "give 'on', 'brightness', 'color_temp_kelvin' or 'rgb_color'"),
        ("set_light", {"brightness": 256}, "brightness"),
        ("set_light", {"brightness": -1}, "brightness"),
        ("set_light", {"on": True, "transition": 3601}, "transition"),
        ("set_light", {"brightness": float("nan")}, "not plain JSON"),
        ("start_sunrise", {"duration": 0}, "duration"),
        ("start_sunrise", {"duration": 10801}, "duration"),
        ("start_sunrise", {"target_brightness": 0}, "target_brightness"),
        ("start_sunrise", {"start_brightness": 300}, "start_brightness"),
        ("start_sunrise", {"curve": "sawtooth"}, "curve"),
    ],
)
async def test_invalid_commands_are_refused_before_sending(
    device: Device,
    session: aiohttp.ClientSession,
    command: str,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    async with make_client(device, session) as client:
        assert client._sio is not None
        before = device.server.controller.snapshot()
        with (
            patch.object(client._sio, "emit", wraps=client._sio.emit) as emit,
            pytest.raises(DaybreakCommandError) as exc_info,
        ):
            await getattr(client, command)(**kwargs)
        emit.assert_not_called()
        err = exc_info.value
        assert err.code == "invalid_payload"
        assert message in err.message
        assert str(err) == f"invalid_payload: {err.message}"
        assert device.server.controller.snapshot() == before


async def test_the_device_refusing_a_command(
    device: Device, session: aiohttp.ClientSession
) -> None:
    """With the local check out of the way, the device refuses the same payload itself."""
    async with make_client(device, session) as client:
        with (
            patch.object(client_module, "validate_command"),
            pytest.raises(DaybreakCommandError) as exc_info,
        ):
            await client.set_light(brightness=300)
        assert exc_info.value.code == "invalid_payload"
        assert "brightness" in exc_info.value.message
        assert device.server.controller.snapshot()["brightness"] == 0


@pytest.mark.parametrize(
    ("ack", "error"),
    [
        (
            {"ok": False, "error": {"code": "internal_error", "message": "LED failed"}},
            DaybreakCommandError("internal_error", "LED failed"),
        ),
        ({"ok": False}, DaybreakCommandError("unknown", "")),
        ({"ok": False, "error": "broken"}, DaybreakCommandError("unknown", "")),
        (
            {"ok": False, "error": {"code": "unauthorized", "message": "token changed"}},
            DaybreakAuthenticationError("token changed"),
        ),
        (
            "nonsense",
            DaybreakProtocolError(
                "invalid answer to light.set from the device: "
                "expected an object with ok true or false"
            ),
        ),
        (
            {"ok": "yes"},
            DaybreakProtocolError(
                "invalid answer to light.set from the device: "
                "expected an object with ok true or false"
            ),
        ),
        (
            {"ok": True},
            DaybreakProtocolError("invalid answer to light.set from the device: state: missing"),
        ),
        (
            {"ok": True, "state": {"on": 1}},
            DaybreakProtocolError(
                "invalid answer to light.set from the device: state.on: expected true or false"
            ),
        ),
        (
            {"ok": False, "error": {"code": 7, "message": "x" * 10_000}},
            DaybreakCommandError("unknown", "x" * 512),
        ),
    ],
)
async def test_answers_from_the_device(
    device: Device, session: aiohttp.ClientSession, ack: Any, error: Exception | type[Exception]
) -> None:
    async with make_client(device, session) as client:
        assert client._sio is not None
        state_before = client.state
        with (
            device_answers(client, ack),
            pytest.raises(DaybreakError) as exc_info,
        ):
            await client.set_light(on=True)
        if isinstance(error, Exception):
            assert type(exc_info.value) is type(error)
            assert str(exc_info.value) == str(error)
            if isinstance(error, DaybreakCommandError):
                assert isinstance(exc_info.value, DaybreakCommandError)
                assert (exc_info.value.code, exc_info.value.message) == (error.code, error.message)
        assert client.state == state_before


async def test_no_answer_is_a_timeout(device: Device, session: aiohttp.ClientSession) -> None:
    release = asyncio.Event()
    execute = device.server.execute

    async def hang(event: str, payload: Any) -> Any:
        await release.wait()
        return await execute(event, payload)

    async with make_client(device, session, request_timeout=0.2) as client:
        with (
            patch.object(device.server, "execute", hang),
            pytest.raises(
                DaybreakTimeoutError, match=r"the device did not answer light\.set within 0\.2 s"
            ) as exc_info,
        ):
            await client.set_light(on=True)
        assert isinstance(exc_info.value, DaybreakConnectionError)
        release.set()
        assert client.connected


async def test_a_transport_error_is_a_connection_error(
    device: Device, session: aiohttp.ClientSession
) -> None:
    async with make_client(device, session) as client:
        assert client._sio is not None
        with (
            patch.object(client._sio, "emit", AsyncMock(side_effect=OSError("reset by peer"))),
            pytest.raises(DaybreakConnectionError, match=r"state\.get: reset by peer"),
        ):
            await client.get_state()


# -- pushed events -----------------------------------------------------------------


async def test_pushed_states_reach_on_state(device: Device, session: aiohttp.ClientSession) -> None:
    received: list[DaybreakState] = []
    async with make_client(device, session) as client:
        unsubscribe = client.on_state(received.append)
        # A change made on the device itself (its web page, REST, another client).
        await device.server.controller.set_light({"brightness": 77})
        await wait_for(lambda: any(s.brightness == 77 for s in received))
        assert client.state is not None
        assert client.state.brightness == 77
        assert received[-1].on is True

        unsubscribe()
        count = len(received)
        await device.server.controller.set_light({"brightness": 10})
        await wait_for(lambda: client.state is not None and client.state.brightness == 10)
        assert len(received) == count


async def test_progress_is_pushed_during_a_transition(
    device: Device, session: aiohttp.ClientSession
) -> None:
    received: list[DaybreakState] = []
    async with make_client(device, session) as client:
        client.on_state(received.append)
        await client.set_light(brightness=255, transition=1)
        await wait_for(lambda: received[-1].transition is None and received[-1].brightness == 255)
    levels = [s.brightness for s in received]
    assert levels == sorted(levels)
    assert len({b for b in levels if 0 < b < 255}) >= 2  # pushed every 0.2 s (fixture)


async def test_uptime_comes_with_the_info_and_each_heartbeat(
    start_device: Any, session: aiohttp.ClientSession
) -> None:
    device = await start_device(heartbeat_interval=0.1)
    client = make_client(device, session)
    assert client.uptime is None
    assert client.started_at is None
    async with client:
        assert client.uptime is not None
        assert 0 < client.uptime < 60
        started_at = client.started_at
        client.started_at = None
        await wait_for(lambda: client.started_at is not None)  # a heartbeat came
        assert started_at is not None
        assert abs(client.started_at - started_at) < timedelta(seconds=1)


async def test_malformed_pushes_are_ignored(
    start_device: Any, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    device = await start_device(heartbeat_interval=3600)  # only the heartbeats sent below
    received: list[DaybreakState] = []
    async with make_client(device, session) as client:
        client.on_state(received.append)
        state = client.state
        for payload in (
            "off",
            {"on": "yes", "brightness": 1, "level": 1},
            {"on": True, "brightness": True, "level": 1},
            {"on": True, "brightness": 1},
            {"on": True, "brightness": 1, "level": 1, "sunrise": {"progress": 0.5}},
            {
                "on": True,
                "brightness": 1,
                "level": 1,
                "transition": {"target_brightness": 5, "ends_at": "soon"},
            },
        ):
            await device.server.sio.emit("state", payload)
        started_at = client.started_at
        await device.server.sio.emit("heartbeat", {"uptime": "long"})
        await device.server.sio.emit("heartbeat", {"uptime": True})
        await device.server.sio.emit("heartbeat", "beat")
        # A good push after them still arrives, so the bad ones were seen and dropped.
        await device.server.controller.set_light({"brightness": 33})
        await wait_for(lambda: bool(received))
        assert [s.brightness for s in received] == [33]
        assert state is not None
        assert client.started_at == started_at
        assert client.connected
        assert client.dropped["state"].count == 6
        assert client.dropped["heartbeat"].count == 3
    # One line for each kind (at most one a minute), the first when it came.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("Ignored 1 invalid state message(s) from ")
    assert warnings[1].startswith("Ignored 1 invalid heartbeat message(s) from ")


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"on": False, "brightness": 0},
        {"on": 0, "brightness": 0, "level": 0},
        {"on": False, "brightness": "0", "level": 0},
        {"on": False, "brightness": 0, "level": 0, "sunrise": {}},
        {"on": False, "brightness": 0, "level": 0, "transition": []},
    ],
)
def test_malformed_state(data: Any) -> None:
    with pytest.raises(DaybreakError, match="malformed state from the device"):
        DaybreakState.from_dict(data)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "info",
        {"device_id": "x", "name": "n", "model": "m", "sw_version": "1"},
        {"device_id": "x", "name": "n", "model": "m", "sw_version": "1", "protocol_version": "v"},
    ],
)
def test_malformed_info(data: Any) -> None:
    with pytest.raises(DaybreakError, match="malformed info from the device"):
        DeviceInfo.from_dict(data)


def test_info_without_output() -> None:
    info = DeviceInfo.from_dict(
        {"device_id": "x", "name": "n", "model": "m", "sw_version": "1", "protocol_version": 1}
    )
    assert info.output == ""
    assert info.timezone is None  # a device from before alarms


def test_state_without_next_sunrise() -> None:
    """A device from before alarms leaves ``next_sunrise`` out."""
    state = DaybreakState.from_dict({"on": False, "brightness": 0, "level": 0})
    assert state.next_sunrise is None


# -- alarms --------------------------------------------------------------------------


async def test_alarms_create_list_update_skip_delete(
    start_device: Any, session: aiohttp.ClientSession
) -> None:
    device = await start_device(timezone="Europe/Berlin")
    async with make_client(device, session) as client:
        assert client.info is not None
        assert client.info.timezone == "Europe/Berlin"
        assert client.state is not None
        assert client.state.next_sunrise is None
        assert await client.list_alarms() == []

        states: list[DaybreakState] = []
        client.on_state(states.append)
        alarm = await client.create_alarm(
            "6:30", weekdays=(4, 0), duration=900, target_brightness=200, curve="ease_in"
        )
        alarms = client.alarms
        assert alarms == [alarm]
        assert re.fullmatch(r"[0-9a-f]{8}", alarm.id)
        assert alarm.time == "06:30"
        assert alarm.weekdays == (0, 4)  # sorted by the device
        assert alarm.enabled
        assert alarm.duration == 900.0
        assert alarm.target_brightness == 200.0
        assert alarm.curve == "ease_in"
        assert not alarm.skip_next
        assert alarm.next_sunrise is not None
        wake = alarm.next_sunrise.wake_at
        assert (wake.hour, wake.minute) == (6, 30)
        assert wake.weekday() in (0, 4)
        assert wake.utcoffset() is not None  # local time with its offset
        assert (wake - alarm.next_sunrise.starts_at).total_seconds() == 900
        # The ack's state went to client.state (and the callbacks).
        assert states
        assert client.state.next_sunrise == NextSunrise(
            alarm_id=alarm.id,
            starts_at=alarm.next_sunrise.starts_at,
            wake_at=wake,
        )
        assert await client.list_alarms() == alarms

        alarms = await client.skip_next_alarm(alarm.id)
        skipped = next(item for item in alarms if item.id == alarm.id)
        assert skipped.skip_next
        assert skipped.next_sunrise is not None
        assert skipped.next_sunrise.wake_at > wake  # the one after
        assert client.state.next_sunrise is not None
        assert client.state.next_sunrise.wake_at == skipped.next_sunrise.wake_at
        alarms = await client.skip_next_alarm(alarm.id, skip=False)
        assert alarms == [alarm]

        assert await client.delete_alarm(alarm.id) == []
        assert client.state.next_sunrise is None
        assert await client.list_alarms() == []


async def test_alarm_defaults_and_update(device: Device, session: aiohttp.ClientSession) -> None:
    async with make_client(device, session) as client:
        alarm = await client.create_alarm("06:00")
        second = await client.create_alarm("22:05")
        assert client.alarms == [alarm, second]
        assert second.weekdays == (0, 1, 2, 3, 4, 5, 6)
        assert (second.duration, second.target_brightness, second.curve) == (
            1800.0,
            255.0,
            "linear",
        )

        alarms = await client.update_alarm(second.id, enabled=False, weekdays=[5, 6])
        second = next(item for item in alarms if item.id == second.id)
        assert not second.enabled
        assert second.weekdays == (5, 6)
        assert second.next_sunrise is None  # disabled
        assert second.time == "22:05"  # unchanged

        alarms = await client.delete_alarm(alarm.id)
        assert alarms == [second]
        assert client.state is not None
        assert client.state.next_sunrise is None  # the remaining one is disabled


async def test_alarm_errors_from_the_device(device: Device, session: aiohttp.ClientSession) -> None:
    async with make_client(device, session) as client:
        for call in (
            client.delete_alarm("nope"),
            client.update_alarm("nope", enabled=False),
            client.skip_next_alarm("nope"),
        ):
            with pytest.raises(DaybreakCommandError) as exc_info:
                await call
            assert exc_info.value.code == "not_found"

        for index in range(MAX_ALARMS):
            await client.create_alarm(f"{index:02d}:00")
        assert len(client.alarms) == MAX_ALARMS
        with pytest.raises(DaybreakCommandError) as exc_info:
            await client.create_alarm("23:00")
        assert exc_info.value.code == "limit_reached"
        assert len(await client.list_alarms()) == MAX_ALARMS


@pytest.mark.parametrize(
    ("command", "arguments", "message"),
    [
        ("create_alarm", (("24:00",), {}), "HH:MM"),
        ("create_alarm", (("7:00",), {"weekdays": []}), "weekdays"),
        ("create_alarm", (("7:00",), {"weekdays": [1, 1]}), "twice"),
        ("create_alarm", (("7:00",), {"duration": 30}), "duration"),
        ("update_alarm", (("abc",), {}), "at least one"),
        ("update_alarm", (("",), {"enabled": True}), "alarm id"),
        ("delete_alarm", (("x" * 65,), {}), "alarm id"),
        ("skip_next_alarm", (("abc",), {"skip": "yes"}), "true or false"),
    ],
)
async def test_invalid_alarm_commands_are_refused_before_sending(
    device: Device,
    session: aiohttp.ClientSession,
    command: str,
    arguments: tuple[tuple[Any, ...], dict[str, Any]],
    message: str,
) -> None:
    args, kwargs = arguments
    async with make_client(device, session) as client:
        assert client._sio is not None
        with (
            patch.object(client._sio, "emit", wraps=client._sio.emit) as emit,
            pytest.raises(DaybreakCommandError) as exc_info,
        ):
            await getattr(client, command)(*args, **kwargs)
        emit.assert_not_called()
        assert exc_info.value.code == "invalid_payload"
        assert message in exc_info.value.message


@pytest.mark.parametrize(
    "ack",
    [
        {"ok": True, "state": {"on": False, "brightness": 0, "level": 0}},
        {"ok": True, "alarms": {}, "state": {"on": False, "brightness": 0, "level": 0}},
        {"ok": True, "alarms": [{"id": "a"}]},
        {"ok": True, "alarms": []},
    ],
)
async def test_malformed_alarm_answers(
    device: Device, session: aiohttp.ClientSession, ack: dict[str, Any]
) -> None:
    async with make_client(device, session) as client:
        assert client._sio is not None
        with (
            device_answers(client, ack),
            pytest.raises(DaybreakProtocolError, match=r"invalid answer to alarms\.list"),
        ):
            await client.list_alarms()


def test_alarm_model() -> None:
    alarm = Alarm.from_dict(ALARM)
    assert alarm.next_sunrise == AlarmSunrise(
        starts_at=datetime.fromisoformat("2026-12-02T06:00:00+01:00"),
        wake_at=datetime.fromisoformat("2026-12-02T06:30:00+01:00"),
    )
    assert Alarm.from_dict(ALARM | {"next_sunrise": None}).next_sunrise is None


@pytest.mark.parametrize(
    "changes",
    [
        {"weekdays": "0,1"},
        {"weekdays": [True]},
        {"enabled": 1},
        {"duration": "1800"},
        {"next_sunrise": {"starts_at": "soon", "wake_at": "later"}},
    ],
)
def test_malformed_alarm(changes: dict[str, Any]) -> None:
    with pytest.raises(DaybreakError, match="malformed alarm from the device"):
        Alarm.from_dict(ALARM | changes)
    with pytest.raises(DaybreakError, match="malformed alarm from the device"):
        Alarm.from_dict("alarm")


async def test_malformed_info_on_connect_drops_the_connection(
    device: Device, session: aiohttp.ClientSession
) -> None:
    client = make_client(device, session)
    with (
        patch.object(device.server, "info", return_value={"device_id": "x"}),
        pytest.raises(DaybreakProtocolError, match=r"invalid answer to device\.get"),
    ):
        await client.connect()
    assert not client.connected
    assert client._sio is None
    assert client.info is None


async def test_another_protocol_version_is_logged(
    device: Device, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    info = {**device.server.info(), "protocol_version": PROTOCOL_VERSION + 1}
    with patch.object(device.server, "info", return_value=info):
        async with make_client(device, session) as client:
            assert client.info is not None
            assert client.info.protocol_version == PROTOCOL_VERSION + 1
    assert f"speaks protocol {PROTOCOL_VERSION + 1}, this client {PROTOCOL_VERSION}" in caplog.text


# -- run(): reconnecting -------------------------------------------------------------

#: Quick retries, and a short request timeout: a reconnect that reaches the device in
#: the middle of its stop gets no answer, and python-socketio's connect and call keep
#: waiting for one until the request timeout even when the connection has dropped.
RECONNECT_FAST: dict[str, float] = {"reconnect_min": 0.05, "request_timeout": 1.0}


async def test_run_reconnects_after_the_device_restarts(
    device: Device, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.daybreak.client")
    events: list[bool] = []
    client = make_client(device, session, **RECONNECT_FAST, reconnect_max=0.4)
    await client.connect()
    client.on_connection(events.append)
    states: list[DaybreakState] = []
    client.on_state(states.append)
    runner = asyncio.create_task(client.run())
    try:
        await client.set_light(brightness=90)
        await device.stop()
        await wait_lost(client, events)
        # Let a few attempts fail: the delay doubles up to reconnect_max. (It went on
        # growing from the short connection before: 0.05 s was the wait after the loss.)
        await wait_for(lambda: "next try in" in caplog.text and len(retry_delays(caplog)) >= 5)
        delays = retry_delays(caplog)
        assert delays == sorted(delays)
        assert delays[0] >= 0.1
        assert delays[-2:] == [0.4, 0.4]

        await device.restart()
        await wait_for(lambda: events[-1] is True)
        assert client.connected
        assert client.state is not None
        assert client.state.brightness == 90  # read again on reconnect
        # Commands and pushes work on the new connection.
        await device.server.controller.set_light({"brightness": 20})
        await wait_for(lambda: client.state is not None and client.state.brightness == 20)
        assert (await client.set_light(brightness=30)).brightness == 30
    finally:
        await client.close()
        async with asyncio.timeout(2):
            await runner
    assert_alternating(events)
    assert events[-1] is True  # close() is not reported as a lost connection


async def wait_lost(client: DaybreakClient, events: list[bool]) -> None:
    """Wait until ``run()`` has reported the stopped device as lost.

    While the device stops, the client may reconnect once more to the server that is
    shutting down (it still accepts until its last client is gone), so the events
    can be ``[False, True, False]`` as well as ``[False]``.
    """
    await wait_for(lambda: bool(events) and events[-1] is False and not client.connected)
    assert_alternating(events)


def assert_alternating(events: list[bool]) -> None:
    """Connection events alternate, starting with a loss."""
    assert events
    assert events == [i % 2 == 1 for i in range(len(events))]


def retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [
        float(r.args[2])  # type: ignore[index]
        for r in caplog.records
        if r.name == "custom_components.daybreak.client" and "next try in" in r.msg
    ]


async def test_run_raises_when_the_token_changes(
    device: Device, session: aiohttp.ClientSession
) -> None:
    events: list[bool] = []
    client = make_client(device, session, **RECONNECT_FAST)
    await client.connect()
    client.on_connection(events.append)
    runner = asyncio.create_task(client.run())
    await device.stop()
    await wait_lost(client, events)
    await device.restart(token="a-new-token-0123456789")  # noqa: S106
    async with asyncio.timeout(5):
        with pytest.raises(DaybreakAuthenticationError, match="refused the token"):
            await runner
    assert events[-1] is False
    assert not client.connected
    await client.close()


async def test_run_connects_when_not_connected(
    device: Device, session: aiohttp.ClientSession
) -> None:
    events: list[bool] = []
    client = make_client(device, session)
    client.on_connection(events.append)
    runner = asyncio.create_task(client.run())
    await wait_for(lambda: events == [True])
    assert client.info is not None
    await client.close()
    async with asyncio.timeout(2):
        await runner
    assert events == [True]


async def test_close_makes_run_return_and_leaves_no_task(
    device: Device, session: aiohttp.ClientSession
) -> None:
    tasks_before = asyncio.all_tasks()
    client = make_client(device, session)
    await client.connect()
    runner = asyncio.create_task(client.run())
    await asyncio.sleep(0.05)
    assert not runner.done()
    await client.close()
    async with asyncio.timeout(2):
        assert await runner is None
    assert not client.connected
    # Every task the client (and python-socketio under it) started has ended. (The
    # device's Engine.IO service and ping tasks are the server's, ended by its stop().)
    server_tasks = device.server.sio.eio.tasks | device.server._tasks

    def client_tasks() -> set[asyncio.Task[Any]]:
        return asyncio.all_tasks() - tasks_before - server_tasks - {asyncio.current_task()}

    await wait_for(lambda: not client_tasks())


async def test_close_during_backoff_makes_run_return(
    device: Device, session: aiohttp.ClientSession
) -> None:
    client = make_client(device, session, reconnect_min=30, reconnect_max=60)
    await client.connect()
    runner = asyncio.create_task(client.run())
    await device.stop()
    await wait_for(lambda: not client.connected)
    await asyncio.sleep(0.1)  # run() is now waiting 30 s before the next try
    await client.close()
    async with asyncio.timeout(2):
        await runner


async def test_run_retries_when_the_device_refuses_to_answer_on_reconnect(
    device: Device, session: aiohttp.ClientSession
) -> None:
    """A device that answers info.get with an error is tried again, not given up on."""
    events: list[bool] = []
    client = make_client(device, session, **RECONNECT_FAST, reconnect_max=0.1)
    await client.connect()
    client.on_connection(events.append)
    runner = asyncio.create_task(client.run())
    try:
        await device.stop()
        await wait_lost(client, events)
        lost = len(events)
        with patch.object(
            client_module.DeviceInfo, "from_checked", side_effect=DaybreakError("malformed info")
        ) as from_dict:
            await device.restart()
            await wait_for(lambda: from_dict.call_count >= 3)  # several attempts, each refused
            assert not runner.done()
            assert len(events) == lost
        await wait_for(lambda: events[-1] is True)
        assert client.connected
    finally:
        await client.close()
        async with asyncio.timeout(2):
            await runner


# -- protocol helpers the client relies on --------------------------------------------


@pytest.mark.parametrize(
    ("curve", "half"),
    [("linear", 0.5), ("ease_in", 0.25), ("ease_out", 0.75), ("ease_in_out", 0.5)],
)
def test_curves(curve: Any, half: float) -> None:
    assert apply_curve(curve, 0) == 0
    assert apply_curve(curve, 0.5) == pytest.approx(half)
    assert apply_curve(curve, 1) == 1
    assert apply_curve(curve, 2) == 1  # clamped
    assert apply_curve(curve, -1) == 0


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("light.set", {"on": 1}, "invalid_payload"),
        ("light.set", {"brightness": True}, "invalid_payload"),
        ("light.set", {"brightness": 10**400}, "invalid_payload"),
        ("light.set", [1], "invalid_payload"),
        ("light.set", {"on": True, "colour": "red"}, "invalid_payload"),
        ("light.set", {"on": True, "pad": "x" * 5000}, "payload_too_large"),
        ("sunrise.start", {"curve": 1}, "invalid_payload"),
        ("sunrise.start", {"start_brightness": "low"}, "invalid_payload"),
        ("sunrise.stop", {"now": True}, "invalid_payload"),
        ("state.get", {"x": 1}, "invalid_payload"),
        ("light.set", {"on": {"a": [1, {"b": set()}]}}, "invalid_payload"),
        ("bogus.event", {}, "unknown_event"),
    ],
)
def test_validate_command_refusals(event: str, payload: Any, code: str) -> None:
    from custom_components.daybreak.protocol import ProtocolError  # noqa: PLC0415

    with pytest.raises(ProtocolError) as exc_info:
        validate_command(event, payload)
    assert exc_info.value.code == code
    assert exc_info.value.as_ack() == {
        "ok": False,
        "error": {"code": code, "message": exc_info.value.message},
    }


def test_validate_command_defaults() -> None:
    assert validate_command("sunrise.start", None) == {
        "duration": 1800.0,
        "target_brightness": 255.0,
        "start_brightness": None,
        "curve": "linear",
    }
    assert validate_command("sunrise.stop", None) == {}
    assert validate_command("light.set", {"on": True, "transition": 2}) == {
        "on": True,
        "transition": 2.0,
    }


async def test_close_while_run_is_connecting_leaves_no_connection(
    device: Device, session: aiohttp.ClientSession
) -> None:
    """close() racing a (re)connect inside run(): run() returns and nothing stays open."""
    client = make_client(device, session)
    connect = client.connect
    closing: list[asyncio.Task[None]] = []

    async def connect_racing_close() -> Any:
        closing.append(asyncio.create_task(client.close()))  # runs at connect's first await
        return await connect()

    with patch.object(client, "connect", connect_racing_close):
        runner = asyncio.create_task(client.run())
        async with asyncio.timeout(5):
            await runner
    await closing[0]
    assert not client.connected
    await wait_for(lambda: not connected_clients(device))


async def test_connect_to_a_hung_device_times_out(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    """A device that accepts TCP but never answers (e.g. SIGSTOPped) fails fast."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = DaybreakClient("127.0.0.1", port, TOKEN, session=session, request_timeout=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(DaybreakConnectionError):
            await client.connect()
        assert loop.time() - started < 3
        assert accepted  # the TCP connection was made; the handshake never answered
    finally:
        await client.close()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


# -- a misbehaving device (tests/fake_device.py) and failures that must not end run() -----


async def test_backoff_starts_over_only_after_a_connection_stayed_up(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    fake = FakeDevice()
    await fake.start()
    client = DaybreakClient(
        "127.0.0.1", fake.port, TOKEN, session=session, reconnect_min=0.1, reconnect_max=10
    )
    await client.connect()
    runner: asyncio.Task[None] | None = None
    try:
        with patch.object(client_module, "HEALTHY_AFTER", 1.0):
            runner = asyncio.create_task(client.run())
            fake.drop_after_handshake = True  # each connection completes, then drops
            start = time.monotonic()
            await fake.drop_clients()
            await wait_for(lambda: len([t for t in fake.connections if t > start]) >= 4)
            tries = [t for t in fake.connections if t > start]
            gaps = [b - a for a, b in itertools.pairwise([start, *tries])]
            # 0.1, 0.2, 0.4, 0.8 s (±20 %): doubling, although each connection succeeded.
            assert all(later > 1.3 * earlier for earlier, later in itertools.pairwise(gaps)), gaps

            # A connection that stays up HEALTHY_AFTER: the next wait is back to 0.1 s.
            fake.drop_after_handshake = False
            async with asyncio.timeout(10):
                while True:  # (the connection being made may still be dropped)
                    await wait_for(lambda: client.connected)
                    count = len(fake.connections)
                    await asyncio.sleep(1.2)
                    if client.connected and len(fake.connections) == count:
                        break
            dropped_at = time.monotonic()
            await fake.drop_clients()
            await wait_for(lambda: len(fake.connections) > count and client.connected)
            assert fake.connections[count] - dropped_at < 0.3
    finally:
        await client.close()
        if runner is not None:
            async with asyncio.timeout(2):
                await runner
        await fake.stop()


async def test_errors_in_callbacks_and_reconnects_do_not_end_run(
    device: Device, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(device, session, **RECONNECT_FAST, reconnect_max=0.1)
    await client.connect()

    def broken(_state: DaybreakState) -> None:
        raise RuntimeError("a bug in a callback")

    client.on_state(broken)
    runner = asyncio.create_task(client.run())
    try:
        for brightness in (10, 20, 30):
            await device.server.controller.set_light({"brightness": brightness})
            await wait_for(
                lambda b=brightness: client.state is not None and client.state.brightness == b
            )
        await asyncio.sleep(0.1)  # (an unhandled task error is logged when it is collected)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, [r.getMessage() for r in errors]  # the others are counted
        assert errors[0].getMessage().startswith("Error handling state from ")
        assert errors[0].exc_info is not None
        assert client.dropped["state"].count >= 3

        # An unexpected error while reconnecting: logged, and tried again.
        caplog.clear()
        with patch.object(
            client_module.DeviceInfo, "from_checked", side_effect=RuntimeError("a bug")
        ) as from_checked:
            await device.stop()
            await device.restart()
            await wait_for(lambda: from_checked.call_count >= 3)
            assert not runner.done()
        await wait_for(lambda: client.connected)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert [r.getMessage().split(" from ")[0] for r in errors] == ["Error handling reconnect"]
    finally:
        await client.close()
        async with asyncio.timeout(2):
            await runner


async def test_undecodable_messages_are_counted(
    socket_enabled: None, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """An integer of 200 digits: python-engineio's JSON decoder refuses it (over 100)."""
    fake = FakeDevice()
    await fake.start()
    try:
        async with DaybreakClient("127.0.0.1", fake.port, TOKEN, session=session) as client:
            for _ in range(3):
                await fake.push("state", {"brightness": 10**200})
            await fake.push("state", fake.state | {"on": True, "brightness": 9, "level": 9.0})
            await wait_for(lambda: client.state is not None and client.state.brightness == 9)
            await asyncio.sleep(0.1)  # (an unhandled task error is logged when it is collected)
            # One warning (at most one a minute), no "Task exception was never retrieved".
            levels = [r.levelname for r in caplog.records if r.levelno >= logging.WARNING]
            assert levels == ["WARNING"]
            assert client.dropped["message"].count == 3
            assert client.connected
    finally:
        await fake.stop()


def test_an_answer_does_not_undo_a_newer_push() -> None:
    """A command's caller resumes after pushes that came after its ack: those win.

    (As in a transition: the ack of light.set has the level at the start, the pushes
    that follow it the levels after.)
    """
    client = DaybreakClient("127.0.0.1", 8080, TOKEN)
    seen: list[int] = []
    client.on_state(lambda state: seen.append(state.brightness))
    state = {"on": True, "level": 0.0, "sunrise": None, "transition": None, "next_sunrise": None}
    ack = client._arrived()  # the ack arrived first ...
    push = client._arrived()  # ... this push after it, handled before the caller resumed
    client._set_state(state | {"brightness": 52}, push)
    assert client._set_state(state | {"brightness": 1}, ack).brightness == 1  # returned
    assert client.state is not None
    assert client.state.brightness == 52  # not applied
    assert seen == [52]
