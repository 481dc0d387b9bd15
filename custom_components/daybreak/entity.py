"""Base entities for Daybreak."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, EntityCategory
from homeassistant.core import State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.restore_state import ExtraStoredData, RestoreEntity
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .client import Alarm
from .const import DOMAIN, MANUFACTURER
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator


class DaybreakEntity(CoordinatorEntity[DaybreakCoordinator]):
    """An entity of one Daybreak device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DaybreakCoordinator, key: str | None = None) -> None:
        """Attach the entity to the device; ``key`` makes its unique id (none: the light)."""
        super().__init__(coordinator)
        info = coordinator.data.info
        self._attr_unique_id = info.device_id if key is None else f"{info.device_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, info.device_id)},
            manufacturer=MANUFACTURER,
            model=info.model,
            name=info.name,
            sw_version=info.sw_version,
            configuration_url=coordinator.client.url,
        )


@dataclass
class LastStateData(ExtraStoredData):
    """Extra restore data: the entity's own state (see :class:`DaybreakRestoreEntity`)."""

    daybreak_last_state: str | None

    def as_dict(self) -> dict[str, Any]:
        """The data as a dict."""
        return asdict(self)


class DaybreakRestoreEntity(RestoreEntity):
    """A restore entity (event, button) that keeps its state over an unavailable spell.

    Home Assistant stores the state an entity shows when it is removed (unload, reload,
    reauth) or Home Assistant stops. While the device is away that is "unavailable",
    which HA's event and button entities do not restore: after a reload while the
    device is away they would be "unknown" once it is back. So the entity's own state
    (the time of the last event or press, kept while unavailable) also goes into its
    extra restore data (a ``daybreak_last_state`` key, see :class:`LastStateData`), and
    :meth:`async_get_last_state` gives it back in place of a stored "unavailable".
    """

    def _state_to_keep(self) -> str | None:
        """The entity's own state, whether it is available or not."""
        state = self.state
        return None if state is None else str(state)

    async def async_get_last_state(self) -> State | None:
        """The stored state; for a stored "unavailable", the state the entity had then."""
        last = await super().async_get_last_state()
        if last is None or last.state != STATE_UNAVAILABLE:
            return last
        extra = await self.async_get_last_extra_data()
        kept = None if extra is None else extra.as_dict().get("daybreak_last_state")
        if not isinstance(kept, str):
            return last
        return State(last.entity_id, kept, last.attributes)


class DaybreakSettingEntity(DaybreakEntity):
    """A Home Assistant setting of the device (an entry option), shown as an entity.

    Always available: it is stored in Home Assistant, not on the device.
    """

    _attr_entity_category = EntityCategory.CONFIG

    @property
    def available(self) -> bool:
        """Always: the setting does not need the device."""
        return True


class DaybreakAlarmEntity(DaybreakEntity):
    """An entity of one alarm stored on the device; it goes away with the alarm."""

    def __init__(self, coordinator: DaybreakCoordinator, alarm_id: str, key: str) -> None:
        """Attach the entity to the alarm ``alarm_id``."""
        super().__init__(coordinator, f"alarm_{alarm_id}_{key}")
        self.alarm_id = alarm_id
        self._attr_translation_placeholders = {"name": self._alarm_name()}

    def _alarm_name(self) -> str:
        """The alarm's name ("Alarm <name>"); the id while the device does not have it."""
        alarm = self.coordinator.data.alarms.get(self.alarm_id)
        return self.alarm_id if alarm is None else alarm.name

    @property
    def alarm(self) -> Alarm:
        """The alarm (only while :attr:`available`)."""
        return self.coordinator.data.alarms[self.alarm_id]

    @property
    def available(self) -> bool:
        """Available while the device is connected and has the alarm."""
        return super().available and self.alarm_id in self.coordinator.data.alarms

    @callback
    def _handle_coordinator_update(self) -> None:
        """Remove the entity once the device no longer has the alarm."""
        if (
            self.coordinator.last_update_success
            and self.alarm_id not in self.coordinator.data.alarms
        ):
            if self.registry_entry is not None:
                er.async_get(self.hass).async_remove(self.entity_id)
            else:  # pragma: no cover - entities with a unique id are registered
                self.hass.async_create_task(self.async_remove())
            return
        if (name := self._alarm_name()) != self._attr_translation_placeholders["name"]:
            self._async_rename(name)
        super()._handle_coordinator_update()

    @callback
    def _async_rename(self, name: str) -> None:
        """The alarm was renamed: the entity's name follows; its ids stay."""
        self._attr_translation_placeholders = {"name": name}
        # Home Assistant caches the name it made from the translation and placeholders.
        self.__dict__.pop("name", None)
        if self.registry_entry is not None and isinstance(new := self.name, str):
            er.async_get(self.hass).async_update_entity(self.entity_id, original_name=new)


@callback
def async_add_alarm_entities(
    entry: DaybreakConfigEntry, add: Callable[[DaybreakCoordinator, str], None]
) -> None:
    """Call ``add(coordinator, alarm_id)`` for each alarm, now and as alarms appear."""
    coordinator = entry.runtime_data
    known: set[str] = set()

    @callback
    def check() -> None:
        current = coordinator.data.alarms
        known.intersection_update(current)  # deleted ones may come back with the same id
        for alarm_id in current:
            if alarm_id not in known:
                known.add(alarm_id)
                add(coordinator, alarm_id)

    check()
    entry.async_on_unload(coordinator.async_add_listener(check))
