"""Event entities: what sunrises, sunsets and alarms do; the bedside button's presses."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.event import EventDeviceClass, EventEntity, EventExtraStoredData
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import EVENT_TYPES, DaybreakEvent
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakEntity, DaybreakRestoreEntity
from .protocol import BUTTON_PRESSES, EVENT_BUTTON_PRESS

PARALLEL_UPDATES = 0  # read-only


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the events entity, and the bedside button's when the device has one."""
    coordinator = entry.runtime_data
    entities: list[EventEntity] = [DaybreakSunriseEvent(coordinator)]
    if coordinator.data.info.button:
        entities.append(DaybreakButtonEvent(coordinator))
    async_add_entities(entities)


#: The bedside button's presses have an entity of their own.
BUTTON_PRESS_TYPE = EVENT_BUTTON_PRESS.replace(".", "_")


@dataclass
class DaybreakEventExtraStoredData(EventExtraStoredData):
    """HA's event data plus the entity's own state (see :class:`DaybreakRestoreEntity`)."""

    daybreak_last_state: str | None = None


class _DaybreakEventEntity(DaybreakEntity, DaybreakRestoreEntity, EventEntity):
    """An event entity fed by the device's one-off events, its last one kept over a reload.

    Subclasses pick and map the events they show in :meth:`_handle_event`.
    """

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
        raise NotImplementedError


class DaybreakSunriseEvent(_DaybreakEventEntity):
    """Fires as the device reports sunrises and alarms (e.g. start music when one finishes).

    The attributes carry the ``alarm_id`` (``None`` for a sunrise started by a
    command) and the event's details from the device. The last event is kept over a
    reload while the device is away (:class:`DaybreakRestoreEntity`).
    """

    _attr_translation_key = "sunrise"
    _attr_event_types = [event for event in EVENT_TYPES if event != BUTTON_PRESS_TYPE]

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the event entity of the coordinator's device."""
        super().__init__(coordinator, "events")

    @callback
    def _handle_event(self, event: DaybreakEvent) -> None:
        if event.type == BUTTON_PRESS_TYPE:
            return
        self._trigger_event(event.type, {"alarm_id": event.alarm_id, **event.data})
        self.async_write_ha_state()


class DaybreakButtonEvent(_DaybreakEventEntity):
    """The bedside button's presses, in Home Assistant's standard button event types.

    ``press_start``, ``press_end``, ``long_press_start``, ``long_press_end``,
    ``multi_press_ongoing`` and ``multi_press_end`` (with ``multi_press_count``): the
    values of ``ButtonEventType`` (Home Assistant 2026.8), written out so older
    versions have them too. The device has already acted on the press (snooze,
    toggle, dismiss, sunset); automations can do more.
    """

    _attr_translation_key = "bedside_button"
    _attr_device_class = EventDeviceClass.BUTTON
    _attr_event_types = list(BUTTON_PRESSES)

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the button entity of the coordinator's device."""
        super().__init__(coordinator, "bedside_button")

    @callback
    def _handle_event(self, event: DaybreakEvent) -> None:
        if event.type != BUTTON_PRESS_TYPE:
            return
        attributes = {k: v for k, v in event.data.items() if k == "multi_press_count"}
        self._trigger_event(event.data["press"], attributes)
        self.async_write_ha_state()
