"""The sensors follow the real device: sunrise progress and end, next sunrise and wake-up,
round-trip time and uptime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers.entity_component import async_update_entity
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .common import restart_and_reconnect, wait_for
from .conftest import Device

PROGRESS = "sensor.bedroom_sunrise_progress"
ENDS = "sensor.bedroom_sunrise_ends"
NEXT_SUNRISE = "sensor.bedroom_next_sunrise"
NEXT_WAKE_UP = "sensor.bedroom_next_wake_up"
ROUND_TRIP = "sensor.bedroom_round_trip_time"
UPTIME = "sensor.bedroom_uptime"


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]]) -> Device:
    """A device that sends its heartbeat (with its uptime) five times a second."""
    return await start_device(heartbeat_interval=0.2)


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return state.state


def timestamp_of(hass: HomeAssistant, entity_id: str) -> datetime:
    value = dt_util.parse_datetime(state_of(hass, entity_id))
    assert value is not None, f"{entity_id} is not a timestamp"
    return value


def as_shown(iso: str) -> datetime:
    """A device timestamp as a timestamp sensor shows it (UTC, whole seconds)."""
    return datetime.fromisoformat(iso).astimezone(UTC).replace(microsecond=0)


def record_states(hass: HomeAssistant, entity_id: str) -> list[State]:
    """Every new state HA writes for ``entity_id`` from now on."""
    states: list[State] = []

    @callback
    def listener(event: Event[Any]) -> None:
        if event.data["entity_id"] == entity_id and event.data["new_state"] is not None:
            states.append(event.data["new_state"])

    hass.bus.async_listen(EVENT_STATE_CHANGED, listener)
    return states


# -- sunrise progress and end ---------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_progress_and_end_follow_a_sunrise_on_the_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    assert state_of(hass, PROGRESS) == "0"
    assert state_of(hass, ENDS) == STATE_UNKNOWN
    progress = record_states(hass, PROGRESS)

    # Started by another client, on the device.
    await device.server.execute("sunrise.start", {"duration": 2, "start_brightness": 0})
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None
    await wait_for(lambda: state_of(hass, ENDS) != STATE_UNKNOWN)
    assert timestamp_of(hass, ENDS) == as_shown(sunrise["ends_at"])

    # The progress rises with the device's pushes, then goes back to 0; the end to unknown.
    await wait_for(lambda: state_of(hass, ENDS) == STATE_UNKNOWN, timeout=6)
    assert state_of(hass, PROGRESS) == "0"
    assert progress[-1].state == "0"
    shown = [int(s.state) for s in progress[:-1]]
    assert len(set(shown)) >= 3
    assert shown == sorted(shown)
    assert all(0 <= value <= 100 for value in shown)
    assert any(10 <= value <= 90 for value in shown)
    assert progress[-1].attributes["unit_of_measurement"] == "%"


async def test_progress_is_the_devices(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    def shown() -> int:
        return int(state_of(hass, PROGRESS))

    await device.server.execute("sunrise.start", {"duration": 3, "start_brightness": 0})
    await wait_for(lambda: shown() >= 10)
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None
    # What HA shows is the last progress the device pushed (every 0.2 s of the 3 s).
    assert shown() <= sunrise["progress"] * 100 < shown() + 20


# -- next sunrise and next wake-up ----------------------------------------------------


def alarm_time(device: Device, hours: float) -> str:
    """``HH:MM`` in the device's time zone, ``hours`` from now."""
    wake = datetime.now(device.server.alarms.tz) + timedelta(hours=hours)
    return wake.strftime("%H:%M")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_next_sunrise_and_wake_up_follow_the_device_alarms(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    assert state_of(hass, NEXT_SUNRISE) == STATE_UNKNOWN
    assert state_of(hass, NEXT_WAKE_UP) == STATE_UNKNOWN

    # Alarms set on the device by another client: the sooner one counts.
    await device.server.execute(
        "alarm.create", {"id": "later", "time": alarm_time(device, 5), "duration": 1800}
    )
    await device.server.execute(
        "alarm.create", {"id": "sooner", "time": alarm_time(device, 3), "duration": 600}
    )
    upcoming = device.server.state()["next_sunrise"]
    assert upcoming is not None
    assert upcoming["alarm_id"] == "sooner"
    await wait_for(
        lambda: (
            state_of(hass, NEXT_WAKE_UP) != STATE_UNKNOWN
            and timestamp_of(hass, NEXT_WAKE_UP) == as_shown(upcoming["wake_at"])
        )
    )
    assert timestamp_of(hass, NEXT_SUNRISE) == as_shown(upcoming["starts_at"])
    assert timestamp_of(hass, NEXT_WAKE_UP) - timestamp_of(hass, NEXT_SUNRISE) == timedelta(
        minutes=10
    )
    now = dt_util.utcnow()
    assert now < timestamp_of(hass, NEXT_SUNRISE) < now + timedelta(hours=3)

    # The sooner one disabled: the later one is next.
    await device.server.execute("alarm.update", {"id": "sooner", "enabled": False})
    upcoming = device.server.state()["next_sunrise"]
    assert upcoming is not None
    assert upcoming["alarm_id"] == "later"
    await wait_for(lambda: timestamp_of(hass, NEXT_WAKE_UP) == as_shown(upcoming["wake_at"]))
    assert timestamp_of(hass, NEXT_SUNRISE) == as_shown(upcoming["starts_at"])

    # None enabled: unknown.
    await device.server.execute("alarm.delete", {"id": "later"})
    await wait_for(lambda: state_of(hass, NEXT_WAKE_UP) == STATE_UNKNOWN)
    assert state_of(hass, NEXT_SUNRISE) == STATE_UNKNOWN


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_next_sunrise_of_an_alarm_there_at_setup(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    await device.server.execute("alarm.create", {"time": alarm_time(device, 2)})
    upcoming = device.server.state()["next_sunrise"]
    assert upcoming is not None
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert timestamp_of(hass, NEXT_SUNRISE) == as_shown(upcoming["starts_at"])
    assert timestamp_of(hass, NEXT_WAKE_UP) == as_shown(upcoming["wake_at"])


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_state_sensors_are_unavailable_while_the_device_is_away(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.stop()
    for entity_id in (PROGRESS, ENDS, NEXT_SUNRISE, NEXT_WAKE_UP):
        await wait_for(lambda entity_id=entity_id: state_of(hass, entity_id) == STATE_UNAVAILABLE)


async def test_what_the_default_dashboard_shows(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """Without a sunrise or an alarm no sensor of the default set reads "unknown" but the
    next wake-up (there is none); the sunrise's end and the next sunrise are off by default
    (the progress and the wake-up say as much), as are the diagnostic ones."""
    shown = {state.entity_id: state.state for state in hass.states.async_all("sensor")}
    assert shown == {PROGRESS: "0", NEXT_WAKE_UP: STATE_UNKNOWN}


# -- round-trip time ------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_round_trip_time_is_measured(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    client = init_integration.runtime_data.client
    # Measured once when added.
    assert 0 < float(state_of(hass, ROUND_TRIP)) < 5000

    with patch.object(client, "ping", wraps=client.ping) as ping:
        await async_update_entity(hass, ROUND_TRIP)
    assert ping.await_count == 1
    value = float(state_of(hass, ROUND_TRIP))
    assert 0 < value < 5000
    # Milliseconds, two decimals: the client's measurement.
    assert value == round(value, 2)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_round_trip_time_while_the_device_is_stopped(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    assert float(state_of(hass, ROUND_TRIP)) > 0
    await device.stop()
    await wait_for(lambda: state_of(hass, ROUND_TRIP) == STATE_UNAVAILABLE)
    await async_update_entity(hass, ROUND_TRIP)  # a poll while away: no value, no error
    assert state_of(hass, ROUND_TRIP) == STATE_UNAVAILABLE

    # Back: unknown (the poll failed; no stale value from before), until the next poll.
    await restart_and_reconnect(hass, init_integration, device)
    assert state_of(hass, ROUND_TRIP) == STATE_UNKNOWN
    await async_update_entity(hass, ROUND_TRIP)
    assert float(state_of(hass, ROUND_TRIP)) > 0


# -- uptime ---------------------------------------------------------------------------


class ShiftedUptime:
    """The device server's uptime, ``offset`` seconds more than it really is."""

    def __init__(self, device: Device, offset: float) -> None:
        self.real = device.server.uptime
        self.offset = offset

    def __call__(self) -> float:
        return self.real() + self.offset


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_uptime_is_the_device_start_and_ignores_jitter(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    # The device says it has been running for an hour.
    uptime = ShiftedUptime(device, 3600)
    with patch.object(device.server, "uptime", uptime):
        mock_config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        client = mock_config_entry.runtime_data.client

        started = timestamp_of(hass, UPTIME)
        expected = dt_util.utcnow() - timedelta(seconds=uptime())
        assert abs(started - expected) < timedelta(seconds=2)
        assert started.microsecond == 0

        # Each heartbeat's uptime gives a slightly different start (here 20 s off):
        # the sensor keeps its value through the next state push.
        uptime.offset = 3600 + 20
        await wait_for(lambda: client.started_at < started - timedelta(seconds=15))
        await device.server.execute("light.set", {"on": True, "brightness": 50})
        # (The light and the sensor are written from the same pushed state.)
        await wait_for(lambda: state_of(hass, "light.bedroom") == "on")
        assert timestamp_of(hass, UPTIME) == started

        # Off by more than 30 s: a new start.
        uptime.offset = 3600 + 40
        await wait_for(lambda: client.started_at < started - timedelta(seconds=35))
        await device.server.execute("light.set", {"brightness": 60})
        await wait_for(lambda: timestamp_of(hass, UPTIME) != started)
        assert abs(timestamp_of(hass, UPTIME) - (started - timedelta(seconds=40))) < timedelta(
            seconds=2
        )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_uptime_moves_after_a_device_restart(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    with patch.object(device.server, "uptime", ShiftedUptime(device, 3600)):
        mock_config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        before = timestamp_of(hass, UPTIME)
        assert before < dt_util.utcnow() - timedelta(minutes=59)

        await device.stop()
    await wait_for(lambda: state_of(hass, UPTIME) == STATE_UNAVAILABLE)
    restarted = dt_util.utcnow()
    await restart_and_reconnect(hass, mock_config_entry, device)
    after = timestamp_of(hass, UPTIME)
    assert abs(after - restarted) < timedelta(seconds=3)
