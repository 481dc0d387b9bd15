"""The wake settings: what a snooze and a dismiss do, kept in the state file.

``snooze_length`` (seconds) and ``snooze_level`` (0-255 brightness, 0 off) shape a
snooze; ``dismiss`` says whether dismissing keeps the light's level or turns it off;
``after_wake`` is how long after its wake time an alarm can still be snoozed or
dismissed. The limits and defaults are the protocol's
(:data:`~daybreak_device.protocol.WAKE_SETTINGS_DEFAULTS`); a saved value that is
not valid any more falls back to its default, and says so in the log.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from .protocol import (
    EVENT_SET_WAKE_SETTINGS,
    WAKE_SETTINGS_DEFAULTS,
    DismissAction,
    ProtocolError,
    SetWakeSettingsCommand,
    WakeSettingsPayload,
    validate_command,
)
from .statefile import StateFile

_LOGGER = logging.getLogger(__name__)

#: The settings' key in the state file.
WAKE_SETTINGS_KEY: Final = "wake_settings"

__all__ = ["WAKE_SETTINGS_KEY", "WakeSettings"]


class WakeSettings:
    """The device's snooze and dismiss settings, saved with the state."""

    def __init__(self, store: StateFile) -> None:
        """Start at the defaults and register the settings' section of ``store``."""
        self._values: WakeSettingsPayload = {**WAKE_SETTINGS_DEFAULTS}
        self._store = store
        store.add_section(frozenset({WAKE_SETTINGS_KEY}), load=self._load, dump=self._dump)

    @property
    def snooze_length(self) -> float:
        """How long a snooze lasts (seconds)."""
        return self._values["snooze_length"]

    @property
    def snooze_level(self) -> float:
        """The brightness (0-255, 0 off) the light is at during a snooze."""
        return self._values["snooze_level"]

    @property
    def dismiss(self) -> DismissAction:
        """What dismissing an alarm does to the light."""
        return self._values["dismiss"]

    @property
    def after_wake(self) -> float:
        """How long after its wake time an alarm can be snoozed or dismissed (seconds)."""
        return self._values["after_wake"]

    def payload(self) -> WakeSettingsPayload:
        """The settings as the state's ``wake_settings``."""
        return {**self._values}

    def update(self, command: SetWakeSettingsCommand) -> None:
        """Change the settings a validated ``wake_settings.set`` names."""
        self._values = {**self._values, **command}

    def _load(self, data: dict[str, Any]) -> None:
        saved = data.get(WAKE_SETTINGS_KEY)
        if saved is None:
            return
        if not isinstance(saved, dict):
            _LOGGER.warning("Saved wake settings are not an object; using the defaults")
            return
        values: WakeSettingsPayload = {**WAKE_SETTINGS_DEFAULTS}
        for key in WAKE_SETTINGS_DEFAULTS:
            if key not in saved:
                continue
            try:
                checked = validate_command(EVENT_SET_WAKE_SETTINGS, {key: saved[key]})
            except ProtocolError as err:
                _LOGGER.warning("Saved wake setting %s (%s); using its default", err.message, key)
                continue
            values = {**values, **checked}  # type: ignore[typeddict-item]
        self._values = values

    def _dump(self) -> dict[str, Any]:
        return {WAKE_SETTINGS_KEY: dict(self._values)}
