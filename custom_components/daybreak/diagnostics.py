"""Diagnostics for Daybreak (the token is redacted)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant

from .coordinator import DaybreakConfigEntry

TO_REDACT = {CONF_TOKEN}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: DaybreakConfigEntry
) -> dict[str, Any]:
    """Return the entry (token redacted), device info, state, alarms and dropped messages."""
    coordinator = entry.runtime_data
    client = coordinator.client
    device = coordinator.data
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "device": asdict(device.info),
        "connected": client.connected,
        "uptime": client.uptime,
        "state": asdict(device.state),
        "alarms": [asdict(alarm) for alarm in device.alarms.values()],
        # Messages from the device that failed the protocol's schemas, by kind.
        "dropped_messages": {kind: asdict(dropped) for kind, dropped in client.dropped.items()},
    }
