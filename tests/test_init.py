"""Setup, unload, reload and HA stop against the real device server."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_TOKEN,
    EVENT_HOMEASSISTANT_STOP,
    STATE_OFF,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.daybreak.const import DOMAIN
from custom_components.daybreak.coordinator import DaybreakCoordinator

from .common import connected_clients, free_port, info_records, wait_for
from .conftest import Device

ENTITY_ID = "light.bedroom"
LISTENER_TASK = f"{DOMAIN} listener Bedroom"


def _listener_tasks() -> list[asyncio.Task[object]]:
    return [task for task in asyncio.all_tasks() if task.get_name() == LISTENER_TASK]


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_setup(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert isinstance(entry.runtime_data, DaybreakCoordinator)
    assert entry.runtime_data.client.connected
    assert entry.runtime_data.data.info.device_id == device.device_id
    assert len(_listener_tasks()) == 1
    await wait_for(lambda: len(connected_clients(device)) == 1)
    assert hass.states.get(ENTITY_ID).state == STATE_OFF


async def test_device_down_at_setup_retries(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    await device.stop()
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot connect to the Daybreak device" in mock_config_entry.reason

    # The device is back: the next retry sets the entry up.
    await device.restart()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=30))
    await wait_for(lambda: mock_config_entry.state is ConfigEntryState.LOADED)
    await wait_for(lambda: len(connected_clients(device)) == 1)


async def test_nothing_listening_at_setup_retries(hass: HomeAssistant, device: Device) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        unique_id=device.device_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: free_port(), CONF_TOKEN: device.token},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_wrong_token_at_setup_starts_reauth(hass: HomeAssistant, device: Device) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        unique_id=device.device_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: device.port, CONF_TOKEN: "wrong-token"},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert len(flows) == 1
    assert flows[0]["step_id"] == "reauth_confirm"
    assert connected_clients(device) == []


async def test_unload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = init_integration
    client = entry.runtime_data.client
    await wait_for(lambda: len(connected_clients(device)) == 1)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not client.connected
    assert _listener_tasks() == []
    await wait_for(lambda: connected_clients(device) == [])
    assert hass.states.get(ENTITY_ID).state == STATE_UNAVAILABLE
    assert info_records(caplog, "Lost the connection") == []  # an unload is no lost connection
    assert _errors(caplog) == []


async def test_unload_while_the_device_is_down(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = init_integration
    await device.stop()
    await wait_for(lambda: hass.states.get(ENTITY_ID).state == STATE_UNAVAILABLE)

    # The listener is between reconnect attempts (backoff): unloading ends it too.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    await wait_for(lambda: _listener_tasks() == [])
    assert _errors(caplog) == []


async def test_reload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = init_integration
    old = entry.runtime_data

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not old
    assert not old.client.connected
    assert entry.runtime_data.client.connected
    assert len(_listener_tasks()) == 1
    await wait_for(lambda: len(connected_clients(device)) == 1)  # the old one is gone
    assert hass.states.get(ENTITY_ID).state == STATE_OFF
    assert _errors(caplog) == []


async def test_home_assistant_stop_closes_the_connection(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = init_integration
    client = entry.runtime_data.client
    await wait_for(lambda: len(connected_clients(device)) == 1)

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()

    await wait_for(lambda: connected_clients(device) == [])
    assert not client.connected
    await wait_for(lambda: _listener_tasks() == [])
    assert info_records(caplog, "Lost the connection") == []

    # Unloading afterwards (HA's test harness does, too) is clean.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert _errors(caplog) == []
