"""The Daybreak wake-up light integration."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .client import DaybreakClient
from .const import DOMAIN
from .coordinator import (
    DaybreakConfigEntry,
    DaybreakCoordinator,
    newer_protocol_issue_id,
    outdated_protocol_issue_id,
    storage_fault_issue_id,
)
from .intents import async_setup_intents
from .llm_api import async_setup_llm_api
from .services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.BUTTON,
    Platform.EVENT,
    Platform.LIGHT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions, Assist intents and LLM tools."""
    async_setup_services(hass)
    async_setup_intents(hass)
    async_setup_llm_api(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: DaybreakConfigEntry) -> bool:
    """Connect to the device, then set up the platforms and start listening."""
    client = DaybreakClient(
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_TOKEN],
        session=async_get_clientsession(hass),
    )
    coordinator = DaybreakCoordinator(hass, entry, client)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await client.close()
        raise
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_create_background_task(
        hass, coordinator.async_listen(), f"{DOMAIN} listener {entry.title}"
    )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: DaybreakConfigEntry) -> bool:
    """Unload the platforms and close the connection."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_shutdown()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: DaybreakConfigEntry) -> None:
    """Remove what the entry left behind: its repair issues."""
    for issue_id in (
        outdated_protocol_issue_id(entry),
        newer_protocol_issue_id(entry),
        storage_fault_issue_id(entry),
    ):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
