"""The Sunrise events and Skip next alarm entities keep their last state across reloads.

Both are restore entities (an event's time and type, a button's last press): a reload,
a reauth or an HA start while the device is away must not turn them into "unknown"
once the device is back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.daybreak.const import DOMAIN
from custom_components.daybreak.coordinator import DaybreakCoordinator

from .common import wait_for
from .conftest import Device

EVENT = "event.bedroom_sunrise_events"
BUTTON = "button.bedroom_skip_next_alarm"


def state(hass: HomeAssistant, entity_id: str) -> State:
    current = hass.states.get(entity_id)
    assert current is not None
    return current


async def fire_an_event(hass: HomeAssistant, device: Device) -> State:
    """Run a one-second sunrise on the device; the event entity's state after it ends."""
    await device.server.execute("sunrise.start", {"duration": 1, "target_brightness": 90})
    await wait_for(lambda: state(hass, EVENT).attributes.get("event_type") == "sunrise_finished")
    return state(hass, EVENT)


async def press_the_button(hass: HomeAssistant, device: Device) -> State:
    """Create an alarm and skip it with the button; the button's state after the press."""
    wake = (datetime.now(device.server.alarms.tz) + timedelta(hours=2)).strftime("%H:%M")
    await device.server.execute("alarm.create", {"id": "daily", "time": wake})
    await wait_for(lambda: entry_coordinator(hass).data.state.next_sunrise is not None)
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: BUTTON}, blocking=True
    )
    pressed = state(hass, BUTTON)
    assert pressed.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    return pressed


def entry_coordinator(hass: HomeAssistant) -> DaybreakCoordinator:
    """The coordinator of the test's one entry."""
    coordinator: DaybreakCoordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data
    return coordinator


async def reload_while_away_then_return(
    hass: HomeAssistant, entry: MockConfigEntry, device: Device, *, unload_first: bool
) -> None:
    """Reload the entry while the device is away, then bring the device back.

    ``unload_first``: unload while the device is still there, then stop it (the
    entities go while available); otherwise the device goes first (they go while
    unavailable, as on a reauth or a reload after the device dropped off).
    """
    if unload_first:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await device.stop()
        await hass.config_entries.async_setup(entry.entry_id)
    else:
        await device.stop()
        await wait_for(lambda: state(hass, EVENT).state == STATE_UNAVAILABLE, timeout=15)
        await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert state(hass, EVENT).state == STATE_UNAVAILABLE
    assert state(hass, BUTTON).state == STATE_UNAVAILABLE

    await device.restart()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2))  # the retry
    await wait_for(lambda: entry.state is ConfigEntryState.LOADED, timeout=15)
    await hass.async_block_till_done()


@pytest.mark.parametrize("unload_first", [True, False], ids=["unloaded-then-away", "away"])
async def test_the_last_event_is_kept(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    unload_first: bool,
) -> None:
    before = await fire_an_event(hass, device)

    await reload_while_away_then_return(hass, init_integration, device, unload_first=unload_first)

    after = state(hass, EVENT)
    assert after.state == before.state  # the time of the last event
    assert after.attributes["event_type"] == "sunrise_finished"
    assert after.attributes["target_brightness"] == 90
    assert after.attributes["alarm_id"] is None


@pytest.mark.parametrize("unload_first", [True, False], ids=["unloaded-then-away", "away"])
async def test_the_last_press_is_kept(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    unload_first: bool,
) -> None:
    before = await press_the_button(hass, device)

    await reload_while_away_then_return(hass, init_integration, device, unload_first=unload_first)

    assert state(hass, BUTTON).state == before.state  # the time of the last press


async def test_kept_over_two_reloads_while_away(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """A state restored once is stored again: a second outage keeps it too."""
    event = await fire_an_event(hass, device)
    press = await press_the_button(hass, device)
    for _ in range(2):
        await reload_while_away_then_return(hass, init_integration, device, unload_first=False)
    assert state(hass, EVENT).state == event.state
    assert state(hass, EVENT).attributes["event_type"] == "sunrise_finished"
    assert state(hass, BUTTON).state == press.state
