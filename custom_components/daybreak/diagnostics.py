"""Diagnostics for Daybreak (the token is redacted)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant

from .coordinator import DaybreakConfigEntry

TO_REDACT = {CONF_TOKEN}
#: What only colour devices have: left out where unset, so a single-channel device's
#: diagnostics read as before.
_COLOUR_KEYS = frozenset(
    {"channels", "color_temp_kelvin", "rgb_color", "color_path", "start_kelvin", "target_kelvin"}
)


def _without_colour(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (and its sunrise) without colour fields that are ``None``."""
    result = {k: v for k, v in data.items() if not (k in _COLOUR_KEYS and v is None)}
    if isinstance(result.get("sunrise"), dict):
        result["sunrise"] = _without_colour(result["sunrise"])
    return result


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
        # With the channel setup of a colour device (a single channel has none).
        "device": _without_colour(asdict(device.info)),
        "connected": client.connected,
        "uptime": client.uptime,
        "state": _without_colour(asdict(device.state)),
        "alarms": [_without_colour(asdict(alarm)) for alarm in device.alarms.values()],
        # Messages from the device that failed the protocol's schemas, by kind.
        "dropped_messages": {kind: asdict(dropped) for kind, dropped in client.dropped.items()},
    }
