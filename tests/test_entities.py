"""Snapshots of the entities: the light platform alone, and every platform at once.

Each snapshot holds the entity registry entries and the states, in a form that is the
same on every supported HA version (see :func:`snapshot_platform_stable`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.daybreak import PLATFORMS
from custom_components.daybreak.const import DOMAIN
from daybreak_device import __version__ as device_version

from .common import FIXED_DEVICE_ID, MONDAY_5AM, ShiftedClock, fixed_id_state_dir
from .conftest import Device

# The device's clock is MONDAY_5AM, so the alarm's next sunrise (07:00-07:30 that day)
# is the same in every run.
ALARM_ID = "workdays"


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]], tmp_path: Path) -> Device:
    """A device with a fixed id (stable unique ids), in Berlin, on Monday 05:00."""
    return await start_device(
        state_dir=fixed_id_state_dir(tmp_path / "fixed-device"),
        timezone="Europe/Berlin",
        clock=ShiftedClock(MONDAY_5AM),
    )


# Registry fields compared (the entry's attrs fields and their serialization change
# between HA versions; these are what the integration decides).
ENTRY_FIELDS = (
    "entity_id",
    "domain",
    "platform",
    "unique_id",
    "has_entity_name",
    "name",
    "original_name",
    "translation_key",
    "capabilities",
    "supported_features",
    "device_class",
    "original_device_class",
    "entity_category",
    "icon",
    "original_icon",
    "unit_of_measurement",
    "disabled_by",
    "hidden_by",
)


def _plain(value: Any) -> Any:
    """Plain keys and containers, so HA versions serialize alike (StrEnum keys, sets)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in sorted(value.items(), key=str)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(item) for item in value)
    return value


async def snapshot_platform_stable(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry_id: str,
    *,
    volatile: Mapping[str, str] | None = None,
) -> set[str]:
    """``snapshot_platform``, with one snapshot for every supported HA version.

    The plugin's helper snapshots the registry entry and state objects as they are, and
    their serialization differs between HA 2026.2 and 2026.10 (alias lists, enum keys).
    ``volatile`` maps entity ids to a placeholder for their state (values measured or
    depending on "now", which the caller checks). Returns the entity ids.
    """
    volatile = volatile or {}
    entity_entries = er.async_entries_for_config_entry(entity_registry, config_entry_id)
    assert entity_entries
    entity_ids = {entity_entry.entity_id for entity_entry in entity_entries}
    assert set(volatile) <= entity_ids
    for entity_entry in entity_entries:
        entry = {field: _plain(getattr(entity_entry, field)) for field in ENTRY_FIELDS}
        assert entry == snapshot(name=f"{entity_entry.entity_id}-entry")
        assert entity_entry.disabled_by is None, "Please enable all entities."
        state = hass.states.get(entity_entry.entity_id)
        assert state, f"State not found for {entity_entry.entity_id}"
        value = volatile.get(entity_entry.entity_id, state.state)
        assert {"state": value, "attributes": _plain(state.attributes)} == snapshot(
            name=f"{entity_entry.entity_id}-state"
        )
    return entity_ids


async def test_light_platform(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    device: Device,
) -> None:
    # On, so that the state shows brightness and color mode.
    await device.server.controller.set_light({"on": True, "brightness": 128})
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.daybreak.PLATFORMS", [Platform.LIGHT]):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()

    entity_ids = await snapshot_platform_stable(
        hass, entity_registry, snapshot, mock_config_entry.entry_id
    )
    assert entity_ids == {"light.bedroom"}

    devices = dr.async_entries_for_config_entry(dr.async_get(hass), mock_config_entry.entry_id)
    assert len(devices) == 1
    device = devices[0]
    assert device.identifiers == {(DOMAIN, FIXED_DEVICE_ID)}
    assert device.name == "Bedroom"
    assert device.manufacturer == "Daybreak"
    assert device.model == "Daybreak DIY wake-up light"
    assert device.sw_version == device_version
    assert device.configuration_url == f"http://127.0.0.1:{mock_config_entry.data[CONF_PORT]}"
    for entity in er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id):
        assert entity.device_id == device.id
        assert entity.config_entry_id == mock_config_entry.entry_id


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_all_platforms(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    device: Device,
) -> None:
    """Every entity, the diagnostics and an alarm's too, with their translated names."""
    await device.server.execute(
        "alarm.create",
        {
            "id": ALARM_ID,
            "name": "Workdays",
            "time": "07:30",
            "weekdays": [0, 1, 2, 3, 4],
            "duration": 1800,
            "target_brightness": 200,
            "curve": "ease_in",
        },
    )
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    # What depends on "now" or is measured is checked here, then left out.
    uptime = hass.states.get("sensor.bedroom_uptime")
    assert uptime is not None
    started_at = dt_util.parse_datetime(uptime.state)
    assert started_at is not None
    expected = dt_util.utcnow() - timedelta(seconds=device.server.uptime())
    assert abs(started_at - expected) < timedelta(seconds=2)
    round_trip = hass.states.get("sensor.bedroom_round_trip_time")
    assert round_trip is not None
    assert 0 < float(round_trip.state) < 5000

    entity_ids = await snapshot_platform_stable(
        hass,
        entity_registry,
        snapshot,
        mock_config_entry.entry_id,
        volatile={
            "sensor.bedroom_uptime": "<device start>",
            "sensor.bedroom_round_trip_time": "<measured>",
        },
    )
    assert {entity_id.split(".")[0] for entity_id in entity_ids} == set(PLATFORMS)
    assert entity_ids == {
        "button.bedroom_dismiss_alarm",
        "button.bedroom_skip_next_alarm",
        "button.bedroom_snooze",
        "event.bedroom_sunrise_events",
        "light.bedroom",
        "number.bedroom_snooze_length",
        "number.bedroom_sunrise_duration",
        "select.bedroom_sunrise_curve",
        "sensor.bedroom_next_sunrise",
        "sensor.bedroom_next_wake_up",
        "sensor.bedroom_round_trip_time",
        "sensor.bedroom_sunrise_ends",
        "sensor.bedroom_sunrise_progress",
        "sensor.bedroom_uptime",
        f"switch.bedroom_alarm_{ALARM_ID}",
        "switch.bedroom_sunrise",
        "switch.bedroom_sunset",
        f"time.bedroom_alarm_{ALARM_ID}_wake_time",
    }
    # All on the one device.
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), mock_config_entry.entry_id)
    assert len(devices) == 1
    for entity_id in entity_ids:
        entry = entity_registry.async_get(entity_id)
        assert entry is not None
        assert entry.device_id == devices[0].id
