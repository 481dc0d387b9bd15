"""The Skip next alarm button: it skips the next alarm sunrise on the real device, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_component import EntityComponent
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.button import DaybreakSkipNextAlarm
from custom_components.daybreak.const import DOMAIN

from .common import NOT_CONNECTED, wait_for
from .conftest import Device

BUTTON = "button.bedroom_skip_next_alarm"
NEXT_WAKE_UP = "sensor.bedroom_next_wake_up"


async def press(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: BUTTON}, blocking=True
    )


def alarm_time(device: Device, hours: float) -> str:
    """``HH:MM`` in the device's time zone, ``hours`` from now."""
    return (datetime.now(device.server.alarms.tz) + timedelta(hours=hours)).strftime("%H:%M")


def device_alarm(device: Device, alarm_id: str) -> dict[str, Any]:
    for alarm in device.server.alarms.list_payload():
        if alarm["id"] == alarm_id:
            return dict(alarm)
    raise AssertionError(f"the device has no alarm {alarm_id}")


def next_sunrise(device: Device) -> dict[str, Any]:
    upcoming = device.server.state()["next_sunrise"]
    assert upcoming is not None, "the device has no next sunrise"
    return dict(upcoming)


def wake_up_shown(hass: HomeAssistant) -> datetime | None:
    state = hass.states.get(NEXT_WAKE_UP)
    assert state is not None
    return dt_util.parse_datetime(state.state)


async def test_skips_the_next_occurrence_of_the_next_alarm(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.server.execute("alarm.create", {"id": "daily", "time": alarm_time(device, 3)})
    await device.server.execute("alarm.create", {"id": "later", "time": alarm_time(device, 5)})
    first = next_sunrise(device)
    assert first["alarm_id"] == "daily"
    await wait_for(lambda: wake_up_shown(hass) == datetime.fromisoformat(first["wake_at"]))

    await press(hass)
    # On the device: that occurrence of that alarm is skipped, the other alarm is not.
    assert device_alarm(device, "daily")["skip_next"] is True
    assert device_alarm(device, "later")["skip_next"] is False
    # The next sunrise moves on to the later alarm, and HA shows it.
    second = next_sunrise(device)
    assert second["alarm_id"] == "later"
    await wait_for(lambda: wake_up_shown(hass) == datetime.fromisoformat(second["wake_at"]))

    # Pressed again: now the later alarm's is skipped; the next is the daily one, tomorrow.
    await press(hass)
    assert device_alarm(device, "later")["skip_next"] is True
    third = next_sunrise(device)
    assert third["alarm_id"] == "daily"
    assert datetime.fromisoformat(third["wake_at"]) == datetime.fromisoformat(
        first["wake_at"]
    ) + timedelta(days=1)
    await wait_for(lambda: wake_up_shown(hass) == datetime.fromisoformat(third["wake_at"]))
    # A button has no state of its own but the time it was last pressed.
    state = hass.states.get(BUTTON)
    assert state is not None
    assert state.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)


async def test_a_single_alarm_moves_on_to_the_next_day(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.server.execute("alarm.create", {"id": "daily", "time": alarm_time(device, 2)})
    before = next_sunrise(device)
    await wait_for(lambda: wake_up_shown(hass) == datetime.fromisoformat(before["wake_at"]))
    await press(hass)
    assert device_alarm(device, "daily")["skip_next"] is True
    after = next_sunrise(device)
    assert after["alarm_id"] == "daily"
    assert datetime.fromisoformat(after["wake_at"]) == datetime.fromisoformat(
        before["wake_at"]
    ) + timedelta(days=1)
    await wait_for(lambda: wake_up_shown(hass) == datetime.fromisoformat(after["wake_at"]))


@pytest.mark.parametrize("alarms", [[], [{"time": "07:00", "enabled": False}]])
async def test_without_a_next_alarm_it_is_a_translated_error(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    alarms: list[dict[str, Any]],
) -> None:
    for alarm in alarms:
        await device.server.execute("alarm.create", alarm)
    await hass.async_block_till_done()
    assert device.server.state()["next_sunrise"] is None
    before = device.server.alarms.list_payload()

    with pytest.raises(ServiceValidationError) as exc:
        await press(hass)
    assert exc.value.translation_domain == DOMAIN
    assert exc.value.translation_key == "no_next_alarm"
    assert str(exc.value) == "No alarm is scheduled, so there is nothing to skip"
    assert device.server.alarms.list_payload() == before


async def test_a_press_while_the_device_is_gone(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.server.execute("alarm.create", {"time": alarm_time(device, 2)})
    await wait_for(lambda: wake_up_shown(hass) is not None)
    component: EntityComponent[Any] = hass.data[BUTTON_DOMAIN]
    entity = component.get_entity(BUTTON)
    assert isinstance(entity, DaybreakSkipNextAlarm)

    await device.stop()
    await wait_for(lambda: hass.states.get(BUTTON).state == STATE_UNAVAILABLE)
    with pytest.raises(HomeAssistantError) as exc:
        await entity.async_press()
    assert exc.value.translation_key == "communication_error"
    assert str(exc.value) == NOT_CONNECTED


async def test_a_second_press_on_the_only_alarm_says_it_is_skipped_already(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """The button skips the sunrise the Next sunrise sensor shows.

    After a press on the only alarm, that is the alarm's next day's sunrise: a second
    press says it cannot skip that one too (the device keeps one skip per alarm).
    """
    await device.server.execute("alarm.create", {"id": "daily", "time": alarm_time(device, 2)})
    first = next_sunrise(device)
    await wait_for(lambda: wake_up_shown(hass) == datetime.fromisoformat(first["wake_at"]))
    await press(hass)
    shown = next_sunrise(device)
    await wait_for(lambda: wake_up_shown(hass) == datetime.fromisoformat(shown["wake_at"]))

    with pytest.raises(ServiceValidationError) as caught:
        await press(hass)
    assert caught.value.translation_domain == DOMAIN
    assert caught.value.translation_key == "already_skipped"
    assert "already skips its next sunrise" in str(caught.value)
    assert next_sunrise(device) == shown
