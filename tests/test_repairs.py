"""The repair issues for a device whose protocol is older than needed, or newer than known."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.const import DOMAIN, REQUIRED_PROTOCOL_VERSION
from custom_components.daybreak.protocol import PROTOCOL_VERSION
from daybreak_device import __version__ as device_version
from daybreak_device.protocol import InfoPayload
from daybreak_device.server import DaybreakServer

from .common import ENTITY_ID, restart_and_reconnect, wait_for
from .conftest import Device

OLD_VERSION = REQUIRED_PROTOCOL_VERSION - 1
NEW_VERSION = PROTOCOL_VERSION + 1
#: The release the repair names: the integration's (and so the device's) version.
MANIFEST_VERSION = json.loads(
    (Path(__file__).parents[1] / "custom_components" / "daybreak" / "manifest.json").read_text()
)["version"]


def issue_id(entry: MockConfigEntry) -> str:
    return f"outdated_protocol_{entry.entry_id}"


def the_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry))


def our_issues(hass: HomeAssistant) -> list[ir.IssueEntry]:
    return [issue for (domain, _), issue in ir.async_get(hass).issues.items() if domain == DOMAIN]


@contextmanager
def protocol_version(version: int) -> Iterator[None]:
    """Device servers (running or started meanwhile) report protocol ``version``."""
    real_info = DaybreakServer.info

    def info(self: DaybreakServer) -> InfoPayload:
        return {**real_info(self), "protocol_version": version}

    with patch.object(DaybreakServer, "info", info):
        yield


def old_protocol() -> contextlib.AbstractContextManager[None]:
    """Device servers report the previous protocol version."""
    return protocol_version(OLD_VERSION)


@pytest.fixture
def old_device() -> Iterator[None]:
    with old_protocol():
        yield


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def update_device(hass: HomeAssistant, entry: MockConfigEntry, device: Device) -> None:
    """Restart the device (e.g. after an update); wait until the integration has it back."""
    await device.stop()
    await wait_for(lambda: hass.states.get(ENTITY_ID).state == STATE_UNAVAILABLE)
    await restart_and_reconnect(hass, entry, device)
    assert hass.states.get(ENTITY_ID).state != STATE_UNAVAILABLE


async def test_an_outdated_device_raises_an_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device, old_device: None
) -> None:
    assert device.server.info()["protocol_version"] == OLD_VERSION
    await setup_entry(hass, mock_config_entry)

    issue = the_issue(hass, mock_config_entry)
    assert issue is not None
    assert issue.translation_key == "outdated_protocol"
    assert issue.translation_placeholders == {
        "name": "Bedroom",
        "version": str(OLD_VERSION),
        "required": str(REQUIRED_PROTOCOL_VERSION),
        "sw_version": device_version,
        "update_to": MANIFEST_VERSION,
    }
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.is_fixable is False
    assert issue.learn_more_url is not None
    assert len(our_issues(hass)) == 1

    # The translation exists and uses exactly these placeholders.
    translations = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.outdated_protocol"
    title = translations[f"{prefix}.title"].format(**issue.translation_placeholders)
    description = translations[f"{prefix}.description"].format(**issue.translation_placeholders)
    assert title == f"Update the Daybreak device Bedroom to {MANIFEST_VERSION}"
    assert f"Update it to release {MANIFEST_VERSION} " in description
    assert "pipx upgrade daybreak-device" in description
    assert f"software {device_version}" in description
    assert f"protocol version {OLD_VERSION}" in description
    assert f"needs version {REQUIRED_PROTOCOL_VERSION}" in description

    # The light still works.
    await device.server.execute("light.set", {"on": True, "brightness": 90})
    await wait_for(lambda: hass.states.get(ENTITY_ID).attributes.get(ATTR_BRIGHTNESS) == 90)


async def test_the_issue_goes_away_after_the_update(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    with old_protocol():
        await setup_entry(hass, mock_config_entry)
        assert the_issue(hass, mock_config_entry) is not None
        # Restarted, but not updated yet: the issue stays.
        await update_device(hass, mock_config_entry, device)
        assert the_issue(hass, mock_config_entry) is not None

    # Updated: the device restarts with the current protocol and the integration reconnects.
    assert device.server.info()["protocol_version"] == REQUIRED_PROTOCOL_VERSION
    await update_device(hass, mock_config_entry, device)
    assert the_issue(hass, mock_config_entry) is None
    assert our_issues(hass) == []


async def test_a_device_downgraded_while_connected_raises_the_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    await setup_entry(hass, mock_config_entry)
    assert the_issue(hass, mock_config_entry) is None
    with old_protocol():
        await update_device(hass, mock_config_entry, device)
    issue = the_issue(hass, mock_config_entry)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["version"] == str(OLD_VERSION)


async def test_a_current_device_has_no_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    assert device.server.info()["protocol_version"] == REQUIRED_PROTOCOL_VERSION
    await setup_entry(hass, mock_config_entry)
    assert our_issues(hass) == []
    await update_device(hass, mock_config_entry, device)
    assert our_issues(hass) == []


async def test_the_issue_goes_away_with_the_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device, old_device: None
) -> None:
    """Removing the device from HA leaves no issue about it behind."""
    await setup_entry(hass, mock_config_entry)
    assert the_issue(hass, mock_config_entry) is not None
    assert await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert our_issues(hass) == []


async def test_a_device_newer_than_the_integration_raises_an_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    """A newer device works, with an issue saying to update the integration."""
    with protocol_version(NEW_VERSION):
        await setup_entry(hass, mock_config_entry)
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"newer_protocol_{mock_config_entry.entry_id}"
        )
        assert issue is not None
        assert issue.translation_key == "newer_protocol"
        assert issue.translation_placeholders == {
            "name": "Bedroom",
            "version": str(NEW_VERSION),
            "supported": str(PROTOCOL_VERSION),
            "sw_version": device_version,
        }
        assert issue.severity is ir.IssueSeverity.WARNING
        assert issue.is_fixable is False
        assert issue.learn_more_url is not None
        assert issue.learn_more_url.endswith("#updating-the-integration")
        assert len(our_issues(hass)) == 1  # not the outdated-device one

        translations = await async_get_translations(hass, "en", "issues", [DOMAIN])
        prefix = f"component.{DOMAIN}.issues.newer_protocol"
        title = translations[f"{prefix}.title"].format(**issue.translation_placeholders)
        description = translations[f"{prefix}.description"].format(**issue.translation_placeholders)
        assert title == "Update the Daybreak integration for Bedroom"
        assert f"protocol version {NEW_VERSION}, newer than version {PROTOCOL_VERSION}" in (
            description
        )
        # The light works.
        await device.server.execute("light.set", {"on": True, "brightness": 90})
        await wait_for(lambda: hass.states.get(ENTITY_ID).attributes.get(ATTR_BRIGHTNESS) == 90)

    # Back to the protocol the integration knows (e.g. the device rolled back): gone.
    await update_device(hass, mock_config_entry, device)
    assert our_issues(hass) == []

    # And removing the entry removes the issue too.
    with protocol_version(NEW_VERSION):
        await update_device(hass, mock_config_entry, device)
        assert len(our_issues(hass)) == 1
        assert await hass.config_entries.async_remove(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    assert our_issues(hass) == []
