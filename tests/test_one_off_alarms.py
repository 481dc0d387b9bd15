"""One-off alarms from Home Assistant: ``daybreak.set_alarm`` with a ``date``, end to end."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import voluptuous as vol
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .common import BERLIN, ShiftedClock, wait_for
from .conftest import Device
from .test_alarms import (  # the fixtures: a device in Berlin on Monday 2026-11-23 05:00
    alarm_entities,
    clock,  # noqa: F401
    device,  # noqa: F401
    device_alarms,
    mock_config_entry,  # noqa: F401
    set_alarm,
)


async def test_set_alarm_with_a_date_two_weeks_ahead(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,  # noqa: F811
) -> None:
    result = await set_alarm(hass, alarm_id="trip", time="05:15", date="2026-12-07")
    assert result["next_sunrise"] == {
        "starts_at": "2026-12-07T04:55:00+01:00",  # the options' 20 minutes
        "wake_at": "2026-12-07T05:15:00+01:00",
    }
    alarm = device_alarms(device)["trip"]
    assert (alarm["date"], alarm["weekdays"], alarm["enabled"]) == ("2026-12-07", [0], True)
    switch_id, _ = alarm_entities(hass, "trip")
    assert switch_id is not None
    await wait_for(lambda: hass.states.get(switch_id) is not None)
    attributes = hass.states.get(switch_id).attributes
    assert attributes["date"] == "2026-12-07"
    assert attributes["next_wake_up"] == "2026-12-07T05:15:00+01:00"
    # The coordinator's model has it as a date.
    assert init_integration.runtime_data.data.alarms["trip"].date == date(2026, 12, 7)

    # New weekdays make it weekly; a date makes it one-off again.
    await set_alarm(hass, alarm_id="trip", weekdays=["sat", "sun"])
    assert (device_alarms(device)["trip"]["date"], device_alarms(device)["trip"]["weekdays"]) == (
        None,
        [5, 6],
    )
    await wait_for(lambda: hass.states.get(switch_id).attributes["date"] is None)
    again = await set_alarm(hass, alarm_id="trip", date="2027-03-01")
    assert again["next_sunrise"]["wake_at"] == "2027-03-01T05:15:00+01:00"
    await wait_for(lambda: hass.states.get(switch_id).attributes["date"] == "2027-03-01")


async def test_set_alarm_date_refusals(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,  # noqa: F811
) -> None:
    with pytest.raises(ServiceValidationError) as caught:
        await set_alarm(hass, time="06:30", date="2026-12-01", weekdays=["tue"])
    assert caught.value.translation_key == "date_and_weekdays"
    assert "not both" in str(caught.value)
    # The device knows its zone: today 04:00 in Berlin has passed; it says so.
    with pytest.raises(HomeAssistantError) as refused:
        await set_alarm(hass, time="04:00", date="2026-11-23")
    assert refused.value.translation_key == "command_refused"
    assert "the wake time 2026-11-23 04:00 (Europe/Berlin) has passed" in str(refused.value)
    with pytest.raises(vol.Invalid):
        await set_alarm(hass, time="06:30", date="2026-13-01")
    assert device_alarms(device) == {}


async def test_a_one_off_alarm_fires_and_its_switch_turns_off(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,  # noqa: F811
    clock: ShiftedClock,  # noqa: F811
) -> None:
    await set_alarm(hass, alarm_id="once", time="06:30", date="2026-11-23", duration=60)
    switch_id, _ = alarm_entities(hass, "once")
    assert switch_id is not None
    await wait_for(lambda: hass.states.get(switch_id) is not None)
    assert hass.states.get(switch_id).state == STATE_ON
    clock.set(datetime(2026, 11, 23, 6, 30, tzinfo=BERLIN).timestamp() - 2.0)
    await device.server.alarms.check()
    await wait_for(lambda: hass.states.get(switch_id).state == STATE_OFF)
    attributes = hass.states.get(switch_id).attributes
    assert (attributes["date"], attributes["next_wake_up"]) == ("2026-11-23", None)
    assert device.server.controller.snapshot()["sunrise"] is not None
