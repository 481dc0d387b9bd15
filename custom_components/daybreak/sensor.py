"""Sensors: sunrise progress and end, next sunrise and wake-up, round-trip time, uptime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import DaybreakError, DaybreakState
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .entity import DaybreakEntity

# Only the round-trip sensor polls (it measures); it sends one request at a time.
PARALLEL_UPDATES = 1
SCAN_INTERVAL = timedelta(seconds=60)
#: The uptime sensor's start time moves only when it is off by more than this (a
#: restart), not with each measurement's jitter.
UPTIME_TOLERANCE = timedelta(seconds=30)


@dataclass(frozen=True, kw_only=True)
class DaybreakStateSensorDescription(SensorEntityDescription):
    """A sensor whose value comes from the pushed device state."""

    value_fn: Callable[[DaybreakState], datetime | int | None]


def _progress(state: DaybreakState) -> int:
    """Percent done of the running sunrise; 0 while none runs (not "unknown")."""
    return 0 if state.sunrise is None else int(state.sunrise.progress * 100)


STATE_SENSORS: tuple[DaybreakStateSensorDescription, ...] = (
    DaybreakStateSensorDescription(
        key="sunrise_progress",
        translation_key="sunrise_progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_progress,
    ),
    DaybreakStateSensorDescription(
        key="sunrise_ends_at",
        translation_key="sunrise_ends_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        # Unknown except during a sunrise, and the progress says as much: off the
        # default dashboard.
        entity_registry_enabled_default=False,
        value_fn=lambda state: None if state.sunrise is None else state.sunrise.ends_at,
    ),
    DaybreakStateSensorDescription(
        key="next_sunrise",
        translation_key="next_sunrise",
        device_class=SensorDeviceClass.TIMESTAMP,
        # The next wake-up minus its sunrise's duration: what people read is the wake-up.
        entity_registry_enabled_default=False,
        value_fn=lambda state: None if state.next_sunrise is None else state.next_sunrise.starts_at,
    ),
    DaybreakStateSensorDescription(
        key="next_wake_up",
        translation_key="next_wake_up",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda state: None if state.next_sunrise is None else state.next_sunrise.wake_at,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DaybreakConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of a Daybreak device."""
    coordinator = entry.runtime_data
    async_add_entities(
        [
            *(DaybreakStateSensor(coordinator, description) for description in STATE_SENSORS),
            DaybreakUptimeSensor(coordinator),
            DaybreakRoundTripSensor(coordinator),
        ]
    )


class DaybreakStateSensor(DaybreakEntity, SensorEntity):
    """A value of the pushed device state."""

    entity_description: DaybreakStateSensorDescription

    def __init__(
        self, coordinator: DaybreakCoordinator, description: DaybreakStateSensorDescription
    ) -> None:
        """Create the sensor described by ``description``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> datetime | int | None:
        """The value, from the last state the device pushed."""
        return self.entity_description.value_fn(self.coordinator.data.state)


class DaybreakUptimeSensor(DaybreakEntity, SensorEntity):
    """When the device server started (a timestamp, so it does not change every second)."""

    _attr_translation_key = "uptime"
    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_entity_registry_enabled_default = False

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the uptime sensor."""
        super().__init__(coordinator, "uptime")
        self._started_at: datetime | None = None

    @property
    def native_value(self) -> datetime | None:
        """The device's start time, moved only when it restarted."""
        started_at = self.coordinator.client.started_at
        if started_at is not None and (
            self._started_at is None or abs(started_at - self._started_at) > UPTIME_TOLERANCE
        ):
            self._started_at = started_at.replace(microsecond=0)
        return self._started_at


class DaybreakRoundTripSensor(DaybreakEntity, SensorEntity):
    """How long a request to the device takes to be answered (measured every minute)."""

    _attr_translation_key = "round_trip_time"
    _attr_device_class = SensorDeviceClass.DURATION
    _attr_native_unit_of_measurement = UnitOfTime.MILLISECONDS
    _attr_suggested_display_precision = 1
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_entity_registry_enabled_default = False

    def __init__(self, coordinator: DaybreakCoordinator) -> None:
        """Create the round-trip time sensor."""
        super().__init__(coordinator, "round_trip_time")
        self._attr_native_value: float | None = None

    @property
    def should_poll(self) -> bool:
        """Poll (CoordinatorEntity says no): the value is measured, not pushed."""
        return True

    async def async_added_to_hass(self) -> None:
        """Measure once right away."""
        await super().async_added_to_hass()
        await self.async_update()

    async def async_update(self) -> None:
        """Time one request to the device (unknown while it cannot be reached)."""
        try:
            self._attr_native_value = round(await self.coordinator.client.ping() * 1000, 2)
        except DaybreakError:
            self._attr_native_value = None
