"""The push coordinator against the real device: pushes, lost/back, token change, errors."""

from __future__ import annotations

import logging
from datetime import timedelta
from unittest.mock import patch

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS, ATTR_EFFECT
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_CALL_SERVICE, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.daybreak.client import (
    DaybreakAuthenticationError,
    DaybreakConnectionError,
)
from custom_components.daybreak.const import DOMAIN, EFFECT_SUNRISE

from .common import (
    ENTITY_ID,
    LOGGER_NAME,
    connected_clients,
    info_records,
    start_sunrise_over_rest,
    wait_for,
)
from .conftest import Device

NEW_TOKEN = "a-new-token-on-the-device"  # noqa: S105 - a test token


def _state(hass: HomeAssistant) -> str:
    return hass.states.get(ENTITY_ID).state


def _reconnect_failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        1
        for record in caplog.records
        if record.name == "custom_components.daybreak.client"
        and record.getMessage().startswith("Reconnect to ")
    )


def _info_and_above(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The integration's records (client included) at INFO and above."""
    return [
        record
        for record in caplog.records
        if record.name.startswith(LOGGER_NAME) and record.levelno >= logging.INFO
    ]


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[object]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["handler"] == DOMAIN
        and flow["context"]["source"] == SOURCE_REAUTH
        and flow["context"]["entry_id"] == entry.entry_id
    ]


async def test_connection_lost_and_back(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.daybreak")
    await device.server.controller.set_light({"on": True, "brightness": 100})
    await wait_for(lambda: hass.states.get(ENTITY_ID).attributes.get(ATTR_BRIGHTNESS) == 100)

    caplog.clear()
    await device.stop()
    await wait_for(lambda: _state(hass) == STATE_UNAVAILABLE)
    # The client keeps trying (after ~1 s of backoff, then ~2 s)...
    await wait_for(lambda: _reconnect_failures(caplog) >= 2)
    # ... while the log says it once: one info line, nothing else above debug.
    assert [record.getMessage() for record in _info_and_above(caplog)] == [
        "Lost the connection to Bedroom; reconnecting"
    ]
    assert _state(hass) == STATE_UNAVAILABLE

    # Back on the same port, with a brightness changed while HA was away.
    caplog.clear()
    await device.restart()
    await device.server.controller.set_light({"on": True, "brightness": 200})
    assert connected_clients(device) == []  # HA is still waiting out its backoff (~2 s)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=3))  # skip it
    await wait_for(lambda: info_records(caplog, "Connection to Bedroom is back"))
    assert _state(hass) == STATE_ON
    assert hass.states.get(ENTITY_ID).attributes[ATTR_BRIGHTNESS] == 200  # resynced
    assert [record.getMessage() for record in _info_and_above(caplog)] == [
        "Connection to Bedroom is back"
    ]
    assert len(connected_clients(device)) == 1
    assert init_integration.state is ConfigEntryState.LOADED

    # And it keeps following the device.
    await device.server.controller.set_light({"on": False})
    await wait_for(lambda: _state(hass) == STATE_OFF)


async def test_token_changed_while_connected(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = init_integration
    await device.stop()
    await device.restart(token=NEW_TOKEN)

    await wait_for(lambda: _reauth_flows(hass, entry))
    assert _state(hass) == STATE_UNAVAILABLE
    assert len(_reauth_flows(hass, entry)) == 1
    assert len(info_records(caplog, "Bedroom refused the token")) == 1
    assert entry.state is ConfigEntryState.LOADED  # until the reauth flow reloads it
    assert connected_clients(device) == []


async def test_pushed_states_update_home_assistant(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    service_calls: list[Event] = []
    hass.bus.async_listen(EVENT_CALL_SERVICE, service_calls.append)
    brightness_seen: list[int] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and state.attributes.get(ATTR_BRIGHTNESS) is not None:
            brightness_seen.append(state.attributes[ATTR_BRIGHTNESS])

    unsub = async_track_state_change_event(hass, ENTITY_ID, _changed)

    # Another client starts a short sunrise over REST.
    await start_sunrise_over_rest(device, duration=1.5, start_brightness=0, target_brightness=255)
    await wait_for(lambda: hass.states.get(ENTITY_ID).attributes.get(ATTR_EFFECT) == EFFECT_SUNRISE)
    assert _state(hass) == STATE_ON
    # Progress is pushed while it runs, and the end is pushed too.
    await wait_for(
        lambda: (
            hass.states.get(ENTITY_ID).attributes.get(ATTR_EFFECT) is None
            and hass.states.get(ENTITY_ID).attributes.get(ATTR_BRIGHTNESS) == 255
        )
    )
    unsub()
    assert len(set(brightness_seen)) >= 3
    assert brightness_seen == sorted(brightness_seen)
    assert service_calls == []


async def test_refresh_errors(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    entry = init_integration
    coordinator = entry.runtime_data

    with patch.object(coordinator.client, "get_state", side_effect=DaybreakConnectionError("gone")):
        await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert _state(hass) == STATE_UNAVAILABLE
    assert "Cannot connect to the Daybreak device: gone" in caplog.text

    await coordinator.async_refresh()  # the real client again
    assert coordinator.last_update_success
    assert _state(hass) == STATE_OFF

    with patch.object(
        coordinator.client, "get_state", side_effect=DaybreakAuthenticationError("no")
    ):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert len(_reauth_flows(hass, entry)) == 1
