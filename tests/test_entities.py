"""Snapshot of the light platform: entity registry entries and states."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.daybreak.const import DOMAIN
from daybreak_device import __version__ as device_version

from .common import FIXED_DEVICE_ID, fixed_id_state_dir
from .conftest import Device


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]], tmp_path: Path) -> Device:
    """A device with a fixed id, so the unique id in the snapshot is stable."""
    return await start_device(state_dir=fixed_id_state_dir(tmp_path / "fixed-device"))


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
) -> None:
    """``snapshot_platform``, with one snapshot for every supported HA version.

    The plugin's helper snapshots the registry entry and state objects as they are, and
    their serialization differs between HA 2026.2 and 2026.10 (alias lists, enum keys).
    """
    entity_entries = er.async_entries_for_config_entry(entity_registry, config_entry_id)
    assert entity_entries
    assert len({entity_entry.domain for entity_entry in entity_entries}) == 1
    for entity_entry in entity_entries:
        entry = {field: _plain(getattr(entity_entry, field)) for field in ENTRY_FIELDS}
        assert entry == snapshot(name=f"{entity_entry.entity_id}-entry")
        assert entity_entry.disabled_by is None, "Please enable all entities."
        state = hass.states.get(entity_entry.entity_id)
        assert state, f"State not found for {entity_entry.entity_id}"
        assert {"state": state.state, "attributes": _plain(state.attributes)} == snapshot(
            name=f"{entity_entry.entity_id}-state"
        )


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

    await snapshot_platform_stable(hass, entity_registry, snapshot, mock_config_entry.entry_id)

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
