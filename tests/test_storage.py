"""A device that cannot save its state: the change shows, the action says so, a repair issue.

The real device server's state file write fails as a full SD card's does (ENOSPC); the
device still carries out the command and pushes it (protocol 3), answers
``storage_error``, and reports the fault in its state until a write lands again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS, DOMAIN as LIGHT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.const import DOMAIN
from daybreak_device import statefile

from .common import ENTITY_ID, wait_for
from .conftest import Device


class Disk:
    """Switches the device's state file writes between failing (a full disk) and working."""

    def __init__(self) -> None:
        self.full = False
        self._write = statefile.atomic_write_json

    def write(self, path: Path, data: Any) -> None:
        if self.full:
            raise OSError(28, "No space left on device")
        self._write(path, data)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    fake = Disk()
    monkeypatch.setattr(statefile, "atomic_write_json", fake.write)
    return fake


def the_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"storage_fault_{entry.entry_id}")


async def test_a_full_disk_on_the_device_raises_a_repair_issue_until_it_saves_again(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device, disk: Disk
) -> None:
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert the_issue(hass, mock_config_entry) is None

    disk.full = True
    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(
            LIGHT_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: ENTITY_ID, ATTR_BRIGHTNESS: 120},
            blocking=True,
        )
    assert refused.value.translation_key == "not_saved"
    assert "No space left on device" in str(refused.value)
    # Carried out all the same: the light shows it, as the device's LED does.
    await wait_for(lambda: hass.states.get(ENTITY_ID).attributes.get(ATTR_BRIGHTNESS) == 120)
    assert device.server.state()["brightness"] == 120

    await wait_for(lambda: the_issue(hass, mock_config_entry) is not None)
    issue = the_issue(hass, mock_config_entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "storage_fault"
    assert issue.translation_placeholders == {
        "name": "Bedroom",
        "error": "cannot write state.json: No space left on device",
    }
    translations = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.storage_fault"
    title = translations[f"{prefix}.title"].format(**issue.translation_placeholders)
    assert title == "The Daybreak device Bedroom cannot save its state"
    description = translations[f"{prefix}.description"].format(**issue.translation_placeholders)
    assert "No space left on device" in description

    # The device retries by itself: once a write lands, the issue goes.
    disk.full = False
    await wait_for(lambda: the_issue(hass, mock_config_entry) is None, timeout=6)
    assert device.server.store.fault is None


async def test_the_issue_is_removed_with_the_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device, disk: Disk
) -> None:
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    disk.full = True
    device.server.store.request_save()  # a write that fails, e.g. an alarm firing
    await wait_for(lambda: the_issue(hass, mock_config_entry) is not None)
    assert await hass.config_entries.async_remove(mock_config_entry.entry_id)
    assert the_issue(hass, mock_config_entry) is None
