"""Alarms from Home Assistant: the set/delete actions, the per-alarm entities, and an
alarm set from HA firing on the device while HA is stopped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
import voluptuous as vol
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.components.time import DOMAIN as TIME_DOMAIN, SERVICE_SET_VALUE
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_TIME,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.const import (
    CONF_SUNRISE_CURVE,
    CONF_SUNRISE_DURATION,
    DOMAIN,
    SERVICE_DELETE_ALARM,
    SERVICE_SET_ALARM,
)
from custom_components.daybreak.protocol import MAX_ALARMS

from .common import BERLIN, ENTITY_ID, MONDAY_5AM, ShiftedClock, connected_clients, wait_for
from .conftest import TOKEN, Device, make_config_entry


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(MONDAY_5AM)


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]], clock: ShiftedClock) -> Device:
    """A device in Berlin whose clock says Monday 05:00 (it can be moved)."""
    return await start_device(timezone="Europe/Berlin", clock=clock)


@pytest.fixture
def mock_config_entry(device: Device) -> MockConfigEntry:
    """An entry for ``device`` with sunrise defaults of 20 min, ease in."""
    return make_config_entry(device, **{CONF_SUNRISE_DURATION: 20, CONF_SUNRISE_CURVE: "ease_in"})


async def set_alarm(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        SERVICE_SET_ALARM,
        {ATTR_ENTITY_ID: ENTITY_ID, **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    result = response[ENTITY_ID]
    assert isinstance(result, dict)
    return result


async def delete_alarm(hass: HomeAssistant, alarm_id: str) -> None:
    await hass.services.async_call(
        DOMAIN,
        SERVICE_DELETE_ALARM,
        {ATTR_ENTITY_ID: ENTITY_ID, "alarm_id": alarm_id},
        blocking=True,
    )


def device_alarms(device: Device) -> dict[str, dict[str, Any]]:
    return {alarm["id"]: dict(alarm) for alarm in device.server.alarms.list_payload()}


def alarm_entities(hass: HomeAssistant, alarm_id: str) -> tuple[str | None, str | None]:
    """The entity ids of the alarm's switch and time entity (None when not registered)."""
    registry = er.async_get(hass)
    device_id = next(iter(hass.config_entries.async_entries(DOMAIN))).unique_id
    return (
        registry.async_get_entity_id(
            SWITCH_DOMAIN, DOMAIN, f"{device_id}_alarm_{alarm_id}_enabled"
        ),
        registry.async_get_entity_id(TIME_DOMAIN, DOMAIN, f"{device_id}_alarm_{alarm_id}_time"),
    )


# -- daybreak.set_alarm / daybreak.delete_alarm ------------------------------------------


async def test_set_alarm_creates_one_with_the_defaults(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    result = await set_alarm(hass, time="06:30")

    alarm_id = result["alarm_id"]
    alarm = device_alarms(device)[alarm_id]
    assert alarm["time"] == "06:30"
    assert alarm["weekdays"] == [0, 1, 2, 3, 4, 5, 6]
    assert alarm["enabled"] is True
    assert alarm["duration"] == 20 * 60  # the options' default
    assert alarm["curve"] == "ease_in"
    assert alarm["target_brightness"] == 255
    # Monday 05:00 now: today 06:30 is next, its sunrise 20 minutes before.
    assert result["next_sunrise"] == {
        "starts_at": "2026-11-23T06:10:00+01:00",
        "wake_at": "2026-11-23T06:30:00+01:00",
    }
    # Named by its wake time, not by the id the device made up.
    assert alarm["name"] == "06:30"
    switch_id, time_id = alarm_entities(hass, alarm_id)
    assert switch_id == "switch.bedroom_alarm_06_30"
    assert time_id == "time.bedroom_alarm_06_30_wake_time"
    await wait_for(lambda: hass.states.get(time_id) is not None)
    assert hass.states.get(time_id).state == "06:30:00"
    assert hass.states.get(switch_id).state == STATE_ON
    assert hass.states.get(switch_id).name == "Bedroom Alarm 06:30"
    assert hass.states.get(time_id).name == "Bedroom Alarm 06:30 wake time"


async def test_set_alarm_names_it_and_renames_it_behind_stable_ids(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    result = await set_alarm(hass, time="06:30", name="  Work days ")
    alarm_id = result["alarm_id"]
    assert device_alarms(device)[alarm_id]["name"] == "Work days"
    switch_id, time_id = alarm_entities(hass, alarm_id)
    assert (switch_id, time_id) == (
        "switch.bedroom_alarm_work_days",
        "time.bedroom_alarm_work_days_wake_time",
    )
    await wait_for(lambda: hass.states.get(time_id) is not None)
    assert hass.states.get(switch_id).name == "Bedroom Alarm Work days"
    assert hass.states.get(time_id).name == "Bedroom Alarm Work days wake time"

    # Renamed (by an action or on the device): the names follow, the ids stay.
    await set_alarm(hass, alarm_id=alarm_id, name="Early shift")
    assert device_alarms(device)[alarm_id]["name"] == "Early shift"
    await wait_for(lambda: hass.states.get(switch_id).name == "Bedroom Alarm Early shift")
    assert hass.states.get(time_id).name == "Bedroom Alarm Early shift wake time"
    await device.server.alarms.update({"id": alarm_id, "name": "Gym"})
    await wait_for(lambda: hass.states.get(switch_id).name == "Bedroom Alarm Gym")
    assert alarm_entities(hass, alarm_id) == (switch_id, time_id)
    assert hass.states.get(switch_id).state == STATE_ON


async def test_set_alarm_with_a_new_id_and_no_name_is_named_by_the_id(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await set_alarm(hass, alarm_id="phone", time="06:30")
    assert device_alarms(device)["phone"]["name"] == "phone"
    switch_id, _ = alarm_entities(hass, "phone")
    assert switch_id == "switch.bedroom_alarm_phone"
    await wait_for(lambda: hass.states.get(switch_id) is not None)
    assert hass.states.get(switch_id).name == "Bedroom Alarm phone"


async def test_set_alarm_with_an_id_creates_then_updates_that_alarm(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    result = await set_alarm(
        hass,
        alarm_id="workdays",
        time="07:15:42",  # seconds are dropped
        weekdays=["fri", "mon", "TUE"],
        duration={"minutes": 45},
        target_brightness=180,
        curve="ease_out",
        enabled=False,
    )
    assert result == {"alarm_id": "workdays", "next_sunrise": None}  # disabled
    assert device_alarms(device)["workdays"] == {
        "id": "workdays",
        "name": "workdays",
        "time": "07:15",
        "weekdays": [0, 1, 4],
        "date": None,
        "enabled": False,
        "duration": 2700.0,
        "target_brightness": 180.0,
        "curve": "ease_out",
        "skip_next": False,
        "next_sunrise": None,
    }

    result = await set_alarm(hass, alarm_id="workdays", enabled=True, weekdays=["tue"])

    assert result == {
        "alarm_id": "workdays",
        "next_sunrise": {
            "starts_at": "2026-11-24T06:30:00+01:00",
            "wake_at": "2026-11-24T07:15:00+01:00",
        },
    }
    alarm = device_alarms(device)["workdays"]
    assert (alarm["enabled"], alarm["weekdays"], alarm["time"], alarm["duration"]) == (
        True,
        [1],
        "07:15",
        2700.0,
    )
    assert len(device_alarms(device)) == 1
    switch_id, _ = alarm_entities(hass, "workdays")
    await wait_for(lambda: hass.states.get(switch_id).state == STATE_ON)
    attributes = hass.states.get(switch_id).attributes
    assert attributes["weekdays"] == ["tue"]
    assert attributes["wake_time"] == "07:15"
    assert attributes["sunrise_duration"] == 45
    assert attributes["next_wake_up"] == "2026-11-24T07:15:00+01:00"


@pytest.mark.parametrize(
    ("data", "error", "key"),
    [
        ({}, ServiceValidationError, "time_required"),
        ({"alarm_id": "new"}, ServiceValidationError, "time_required"),
        ({"time": "06:30", "duration": 30}, ServiceValidationError, "out_of_range"),
        ({"time": "06:30", "duration": {"hours": 4}}, ServiceValidationError, "out_of_range"),
        ({"time": "06:30", "target_brightness": 0}, ServiceValidationError, "out_of_range"),
        ({"time": "06:30", "weekdays": ["someday"]}, vol.Invalid, None),
        ({"time": "06:30", "weekdays": []}, vol.Invalid, None),
        ({"time": "25:00"}, vol.Invalid, None),
        ({"time": "06:30", "curve": "zigzag"}, vol.Invalid, None),
        ({"time": "06:30", "alarm_id": "no spaces"}, vol.Invalid, None),
        ({"time": "06:30", "alarm_id": "x" * 65}, vol.Invalid, None),
        ({"time": "06:30", "name": "x" * 41}, vol.Invalid, None),
        ({"time": "06:30", "name": "   "}, vol.Invalid, None),
        ({"time": "06:30", "name": "two\nlines"}, vol.Invalid, None),
    ],
)
async def test_set_alarm_refuses_bad_input_and_changes_nothing(  # noqa: PLR0917
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    data: dict[str, Any],
    error: type[Exception],
    key: str | None,
) -> None:
    with pytest.raises(error) as caught:
        await set_alarm(hass, **data)
    if key is not None:
        assert isinstance(caught.value, HomeAssistantError)
        assert caught.value.translation_key == key
    assert device_alarms(device) == {}


@pytest.mark.parametrize(
    ("duration", "value"),
    [(30, "30 seconds"), ({"hours": 4}, "4 hours"), ("03:30:00", "3 hours 30 minutes")],
)
async def test_set_alarm_duration_out_of_range_in_words(
    hass: HomeAssistant, init_integration: MockConfigEntry, duration: Any, value: str
) -> None:
    with pytest.raises(ServiceValidationError) as caught:
        await set_alarm(hass, time="06:30", duration=duration)
    assert str(caught.value) == f"duration must be between 1 minute and 3 hours, got {value}"
    assert caught.value.translation_placeholders == {
        "field": "duration",
        "min": "1 minute",
        "max": "3 hours",
        "value": value,
    }


async def test_set_alarm_returns_its_alarm_when_another_client_creates_one_at_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """Another client (the web page, REST) creates an alarm just before ours reaches the device.

    The alarm list then has two new alarms; the one returned is ours, as the device's
    answer to our ``alarm.create`` says.
    """
    client = init_integration.runtime_data.client
    call = client._request  # the moment our command goes out
    others: list[str] = []

    async def racing_call(event: str, payload: Any = None) -> tuple[dict[str, Any], int]:
        if event == "alarm.create" and not others:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"http://127.0.0.1:{device.port}/api/alarms",
                    json={"time": "05:15", "weekdays": [5]},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                ) as response,
            ):
                assert response.status in (200, 201)
            others.extend(set(device_alarms(device)))
        return await call(event, payload)

    with patch.object(client, "_request", racing_call):
        result = await set_alarm(hass, time="06:45", weekdays=["mon"])

    alarms = device_alarms(device)
    assert len(alarms) == 2
    (other,) = others
    assert alarms[other]["time"] == "05:15"  # the other client's, created first
    assert result["alarm_id"] != other
    assert alarms[result["alarm_id"]]["time"] == "06:45"
    assert result["next_sunrise"]["wake_at"] == "2026-11-23T06:45:00+01:00"


async def test_set_alarm_without_a_change_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await set_alarm(hass, alarm_id="one", time="06:30")
    with pytest.raises(ServiceValidationError) as caught:
        await set_alarm(hass, alarm_id="one")
    assert caught.value.translation_key == "nothing_to_change"
    assert "Give at least one value to change for alarm one" in str(caught.value)


async def test_the_device_refusing_an_alarm_is_a_translated_error(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    for hour in range(MAX_ALARMS):
        await set_alarm(hass, time=f"{hour:02d}:00")
    with pytest.raises(HomeAssistantError) as caught:
        await set_alarm(hass, time="23:00")
    assert caught.value.translation_key == "command_refused"
    assert "limit_reached" in str(caught.value)
    assert len(device_alarms(device)) == MAX_ALARMS


async def test_delete_alarm_removes_it_and_its_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await set_alarm(hass, alarm_id="gone", time="06:30")
    switch_id, time_id = alarm_entities(hass, "gone")
    await wait_for(lambda: hass.states.get(time_id) is not None)

    await delete_alarm(hass, "gone")

    assert device_alarms(device) == {}
    await wait_for(lambda: alarm_entities(hass, "gone") == (None, None))
    assert hass.states.get(switch_id) is None
    assert hass.states.get(time_id) is None
    with pytest.raises(ServiceValidationError) as caught:
        await delete_alarm(hass, "gone")
    assert caught.value.translation_key == "alarm_not_found"

    # The same id again makes new entities.
    await set_alarm(hass, alarm_id="gone", time="07:00")
    await wait_for(lambda: alarm_entities(hass, "gone") == (switch_id, time_id))
    await wait_for(lambda: hass.states.get(time_id) is not None)
    assert hass.states.get(time_id).state == "07:00:00"


# -- the per-alarm entities --------------------------------------------------------------


async def test_alarm_entities_follow_changes_made_elsewhere(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """Alarms created, changed and deleted on the device (its web page, REST) show in HA."""
    alarms = device.server.alarms
    await alarms.create(
        {
            "time": "06:00",
            "weekdays": [0],
            "enabled": True,
            "duration": 600.0,
            "target_brightness": 255.0,
            "curve": "linear",
            "id": "web",
        }
    )
    await wait_for(lambda: alarm_entities(hass, "web")[1] is not None)
    switch_id, time_id = alarm_entities(hass, "web")
    await wait_for(lambda: hass.states.get(time_id) is not None)
    assert hass.states.get(time_id).state == "06:00:00"

    await alarms.update({"id": "web", "time": "06:45", "enabled": False})
    await wait_for(lambda: hass.states.get(time_id).state == "06:45:00")
    await wait_for(lambda: hass.states.get(switch_id).state == STATE_OFF)

    await alarms.delete("web")
    await wait_for(lambda: alarm_entities(hass, "web") == (None, None))
    assert hass.states.get(time_id) is None


async def test_alarm_entities_change_the_alarm_on_the_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await set_alarm(hass, alarm_id="ha", time="06:30")
    switch_id, time_id = alarm_entities(hass, "ha")
    await wait_for(lambda: hass.states.get(time_id) is not None)

    await hass.services.async_call(
        TIME_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: time_id, ATTR_TIME: "05:55:30"},
        blocking=True,
    )
    assert device_alarms(device)["ha"]["time"] == "05:55"
    await wait_for(lambda: hass.states.get(time_id).state == "05:55:00")

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch_id}, blocking=True
    )
    assert device_alarms(device)["ha"]["enabled"] is False
    await wait_for(lambda: hass.states.get(switch_id).state == STATE_OFF)

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch_id}, blocking=True
    )
    assert device_alarms(device)["ha"]["enabled"] is True
    await wait_for(lambda: hass.states.get(switch_id).state == STATE_ON)


async def test_alarm_entities_are_unavailable_while_the_device_is_away(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await set_alarm(hass, alarm_id="kept", time="06:30")
    switch_id, time_id = alarm_entities(hass, "kept")
    await wait_for(lambda: hass.states.get(time_id) is not None)

    await device.stop()
    await wait_for(lambda: hass.states.get(time_id).state == STATE_UNAVAILABLE, timeout=15)
    assert hass.states.get(switch_id).state == STATE_UNAVAILABLE
    # Not removed: the device still has the alarm, it is just away.
    assert alarm_entities(hass, "kept") == (switch_id, time_id)

    await device.restart()
    await wait_for(lambda: hass.states.get(time_id).state == "06:30:00", timeout=15)
    assert hass.states.get(switch_id).state == STATE_ON


# -- done when: an alarm set from HA fires on the device while HA is stopped ------------------


async def test_an_alarm_set_from_ha_fires_on_the_device_while_ha_is_stopped(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, clock: ShiftedClock
) -> None:
    """Set the alarm with the action, unload the integration, then let the morning come.

    The device's clock jumps to 2 s before the wake time, inside the 1-minute sunrise
    window; the scheduler's next check (called at once here instead of within its 5 s
    re-check) joins the sunrise at the level its schedule calls for, and the LED reaches
    the target within 1 s of the wake time, with no Home Assistant connected.
    """
    result = await set_alarm(
        hass,
        alarm_id="monday",
        time="06:30",
        weekdays=["mon"],
        duration={"minutes": 1},
        target_brightness=200,
    )
    wake = datetime(2026, 11, 23, 6, 30, tzinfo=BERLIN).timestamp()
    assert result["next_sunrise"]["wake_at"] == "2026-11-23T06:30:00+01:00"

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    await wait_for(lambda: not connected_clients(device))

    controller = device.server.controller
    seen: list[tuple[float, bool, float, bool]] = []

    def record() -> None:
        state = controller.snapshot()
        seen.append((clock(), state["on"], state["level"], state["sunrise"] is not None))

    controller.add_listener(record)
    clock.set(wake - 2.0)
    await device.server.alarms.check()
    await wait_for(
        lambda: any(on and level == 200 and not running for _, on, level, running in seen)
    )

    started = next(t for t, _, _, running in seen if running)
    reached = next(t for t, on, level, running in seen if on and level == 200 and not running)
    assert started < wake
    assert abs(reached - wake) < 1.0
    assert not connected_clients(device)
    assert device.pin.state > 0

    # HA back: the light is on at the alarm's brightness, the next one is a week later.
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    light = hass.states.get(ENTITY_ID)
    assert light.state == STATE_ON
    assert light.attributes["brightness"] == 200
    assert hass.states.get("sensor.bedroom_next_wake_up").state == "2026-11-30T05:30:00+00:00"
