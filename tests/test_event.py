"""The Sunrise events entity, fed by the real device's one-off events.

Sunrises run for real on the device (1-3 s ramps); alarms fire on a device whose clock
is moved just before an alarm's wake time, so it joins the alarm's sunrise at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS, DOMAIN as LIGHT_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_STATE_CHANGED,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.const import DOMAIN, SERVICE_START_SUNRISE, SERVICE_STOP_SUNRISE

from .common import BERLIN, ENTITY_ID, ShiftedClock, wait_for
from .conftest import Device

EVENT_ENTITY = "event.bedroom_sunrise_events"
#: The wake time of the alarms below: Monday 2026-11-23 06:30 in Berlin.
WAKE = datetime(2026, 11, 23, 6, 30, tzinfo=BERLIN)


@pytest.fixture
def clock() -> ShiftedClock:
    """The device's wall clock: the real time until a test moves it."""
    return ShiftedClock()


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]], clock: ShiftedClock) -> Device:
    """A device in Berlin on ``clock``."""
    return await start_device(timezone="Europe/Berlin", clock=clock)


class Recorder:
    """The states HA writes for the event entity, one per event (not unavailable)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.states: list[State] = []

        @callback
        def listener(event: Event[Any]) -> None:
            new = event.data["new_state"]
            if (
                event.data["entity_id"] == EVENT_ENTITY
                and new is not None
                and new.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
            ):
                self.states.append(new)

        hass.bus.async_listen(EVENT_STATE_CHANGED, listener)

    @property
    def types(self) -> list[str]:
        return [state.attributes["event_type"] for state in self.states]

    def of(self, event_type: str) -> State:
        matching = [s for s in self.states if s.attributes["event_type"] == event_type]
        assert len(matching) == 1, f"{event_type}: {self.types}"
        return matching[0]

    async def wait_for(self, *types: str, timeout: float = 5.0) -> None:
        """Wait until exactly ``types`` were recorded, in this order."""
        try:
            await wait_for(lambda: len(self.states) >= len(types), timeout=timeout)
        except TimeoutError:
            pytest.fail(f"expected {list(types)}, got {self.types}")
        assert self.types == list(types)


def timestamp(state: State) -> datetime:
    value = dt_util.parse_datetime(state.state)
    assert value is not None, f"not a timestamp: {state.state}"
    return value


async def test_a_sunrise_runs_to_its_end(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    assert hass.states.get(EVENT_ENTITY).state == STATE_UNKNOWN
    events = Recorder(hass)
    before = dt_util.utcnow()

    await device.server.execute(
        "sunrise.start", {"duration": 1.5, "start_brightness": 0, "target_brightness": 200}
    )
    await events.wait_for("sunrise_started")
    assert device.server.controller.snapshot()["sunrise"] is not None  # still rising
    await events.wait_for("sunrise_started", "sunrise_finished")
    assert device.server.controller.snapshot()["sunrise"] is None

    started, finished = events.states
    # The state is when the event reached HA (in ms); the ramp took its 1.5 s on the device.
    assert before - timedelta(milliseconds=1) <= timestamp(started)
    assert timestamp(finished) - timestamp(started) >= timedelta(seconds=1.3)
    assert timestamp(finished) <= dt_util.utcnow()
    for state in (started, finished):
        assert state.attributes["alarm_id"] is None  # not started by an alarm
        assert state.attributes["target_brightness"] == 200
        assert state.attributes["duration"] == 1.5
        assert state.attributes["event_types"] == [
            "sunrise_started",
            "sunrise_finished",
            "sunrise_cancelled",
            "alarm_fired",
            "sunset_started",
            "sunset_finished",
            "sunset_cancelled",
            "alarm_snoozed",
            "alarm_dismissed",
        ]
    assert hass.states.get(EVENT_ENTITY).state == finished.state


async def test_a_sunrise_of_the_action_stopped(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    events = Recorder(hass)
    await hass.services.async_call(
        DOMAIN, SERVICE_START_SUNRISE, {ATTR_ENTITY_ID: ENTITY_ID, "duration": 60}, blocking=True
    )
    await events.wait_for("sunrise_started")
    await hass.services.async_call(
        DOMAIN, SERVICE_STOP_SUNRISE, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
    )
    await events.wait_for("sunrise_started", "sunrise_cancelled")
    cancelled = events.of("sunrise_cancelled")
    assert cancelled.attributes["alarm_id"] is None
    assert cancelled.attributes["duration"] == 60
    assert timestamp(cancelled) >= timestamp(events.of("sunrise_started"))


async def test_a_light_command_or_a_new_sunrise_cancels_the_running_one(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    events = Recorder(hass)
    await device.server.execute("sunrise.start", {"duration": 60, "target_brightness": 100})
    await events.wait_for("sunrise_started")
    # Another sunrise replaces it.
    await device.server.execute("sunrise.start", {"duration": 30, "target_brightness": 250})
    await events.wait_for("sunrise_started", "sunrise_cancelled", "sunrise_started")
    assert [s.attributes["target_brightness"] for s in events.states] == [100, 100, 250]
    # A brightness set from HA ends it.
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_BRIGHTNESS: 20},
        blocking=True,
    )
    await events.wait_for(
        "sunrise_started", "sunrise_cancelled", "sunrise_started", "sunrise_cancelled"
    )
    assert events.states[-1].attributes["target_brightness"] == 250


async def test_a_plain_transition_is_no_sunrise_event(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    events = Recorder(hass)
    await device.server.execute("light.set", {"on": True, "brightness": 200, "transition": 0.3})
    await wait_for(lambda: hass.states.get(ENTITY_ID).attributes.get(ATTR_BRIGHTNESS) == 200)
    # A sunrise afterwards is the first event: nothing came before it.
    await device.server.execute("sunrise.start", {"duration": 1})
    await events.wait_for("sunrise_started")
    await events.wait_for("sunrise_started", "sunrise_finished")


async def test_an_alarm_fires_and_its_sunrise_runs_to_the_wake_time(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, clock: ShiftedClock
) -> None:
    events = Recorder(hass)
    # Two seconds before the wake time, an alarm whose minute-long sunrise is under way:
    # the device joins it at once, and it ends at the wake time.
    clock.set(WAKE.timestamp() - 2)
    await device.server.execute(
        "alarm.create",
        {"id": "wake", "time": "06:30", "duration": 60, "target_brightness": 180},
    )
    await events.wait_for("alarm_fired", "sunrise_started")
    fired, started = events.states
    assert fired.attributes["alarm_id"] == "wake"
    assert fired.attributes["wake_at"] == "2026-11-23T06:30:00+01:00"
    assert fired.attributes["sunrise"] is True
    assert started.attributes["alarm_id"] == "wake"
    assert started.attributes["target_brightness"] == 180
    assert started.attributes["duration"] == 60

    await events.wait_for("alarm_fired", "sunrise_started", "sunrise_finished")
    finished = events.of("sunrise_finished")
    assert finished.attributes["alarm_id"] == "wake"
    assert timestamp(finished) - timestamp(started) >= timedelta(seconds=1.5)
    assert device.server.controller.snapshot()["brightness"] == 180


async def test_an_alarm_left_alone_by_a_bright_light(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, clock: ShiftedClock
) -> None:
    await device.server.execute("light.set", {"on": True, "brightness": 255})
    events = Recorder(hass)
    clock.set(WAKE.timestamp() - 600)
    await device.server.execute("alarm.create", {"id": "wake", "time": "06:30", "duration": 1800})
    await events.wait_for("alarm_fired")
    fired = events.of("alarm_fired")
    assert fired.attributes["alarm_id"] == "wake"
    assert fired.attributes["sunrise"] is False
    assert device.server.controller.snapshot()["sunrise"] is None
    # No sunrise event follows (a sunrise afterwards is the next event).
    await device.server.execute("sunrise.start", {"duration": 1})
    await events.wait_for("alarm_fired", "sunrise_started")


async def test_an_alarm_sunrise_cancelled(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, clock: ShiftedClock
) -> None:
    events = Recorder(hass)
    clock.set(WAKE.timestamp() - 600)  # 20 minutes into a 30-minute sunrise
    await device.server.execute("alarm.create", {"id": "wake", "time": "06:30"})
    await events.wait_for("alarm_fired", "sunrise_started")
    await device.server.execute("sunrise.stop", None)
    await events.wait_for("alarm_fired", "sunrise_started", "sunrise_cancelled")
    assert events.of("sunrise_cancelled").attributes["alarm_id"] == "wake"


async def test_unavailable_while_the_device_is_away(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    events = Recorder(hass)
    await device.server.execute("sunrise.start", {"duration": 60})
    await events.wait_for("sunrise_started")
    await device.stop()
    await wait_for(lambda: hass.states.get(EVENT_ENTITY).state == STATE_UNAVAILABLE)
    assert events.types == ["sunrise_started"]
