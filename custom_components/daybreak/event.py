"""Event entity: sunrise started, finished or cancelled, and alarm fired."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.event import EventEntity, EventExtraStoredData
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import EVENT_TYPES, DaybreakEvent
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakEntity, DaybreakRestoreEntity

PARALLEL_UPDATES = 0  # read-only


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entity."""
    async_add_entities([DaybreakSunriseEvent(entry.runtime_data)])


@dataclass
class DaybreakEventExtraStoredData(EventExtraStoredData):
    """HA's event data plus the entity's own state (see :class:`DaybreakRestoreEntity`)."""

    daybreak_last_state: str | None = None


class DaybreakSunriseEvent(DaybreakEntity, DaybreakRestoreEntity, EventEntity):
    """Fires as the device reports sunrises and alarms (e.g. start music when one finishes).

    The attributes carry the ``alarm_id`` (``None`` for a sunrise started by a
    command) and the event's details from the device. The last event is kept over a
    reload while the device is away (:class:`DaybreakRestoreEntity`).
    """

    _attr_translation_key = "sunrise"
    _attr_event_types = list(EVENT_TYPES)

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the event entity of the coordinator's device."""
        super().__init__(coordinator, "events")

    @property
    def extra_restore_state_data(self) -> DaybreakEventExtraStoredData:
        """The last event's type and attributes, and its time."""
        data = super().extra_restore_state_data
        return DaybreakEventExtraStoredData(
            data.last_event_type, data.last_event_attributes, self._state_to_keep()
        )

    async def async_added_to_hass(self) -> None:
        """Listen to the device's events."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_event_listener(self._handle_event))

    @callback
    def _handle_event(self, event: DaybreakEvent) -> None:
        self._trigger_event(event.type, {"alarm_id": event.alarm_id, **event.data})
        self.async_write_ha_state()
