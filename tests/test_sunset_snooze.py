"""Sunset, snooze, dismiss and the bedside button, from Home Assistant to the real device.

The device server runs with mock pins; its bedside button is a ``MockFactory`` pin the
tests drive low and high with real timing (``button_pin``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from gpiozero.pins.mock import MockPin
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.event import ATTR_EVENT_TYPE, ATTR_EVENT_TYPES
from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_EFFECT,
    ATTR_EFFECT_LIST,
    ATTR_TRANSITION,
    DOMAIN as LIGHT_DOMAIN,
)
from homeassistant.components.number import ATTR_VALUE, DOMAIN as NUMBER_DOMAIN, SERVICE_SET_VALUE
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    EVENT_STATE_CHANGED,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.daybreak.const import (
    DOMAIN,
    SERVICE_DISMISS,
    SERVICE_SNOOZE,
    SERVICE_START_SUNSET,
)
from custom_components.daybreak.protocol import BUTTON_PRESSES

from .common import ENTITY_ID, connected_clients, wait_for
from .conftest import Device, make_config_entry

SUNSET_SWITCH = "switch.bedroom_sunset"
SNOOZE = "button.bedroom_snooze"
DISMISS = "button.bedroom_dismiss_alarm"
SNOOZE_LENGTH = "number.bedroom_snooze_length"
EVENTS = "event.bedroom_sunrise_events"
BEDSIDE = "event.bedroom_bedside_button"
BUTTON_PIN = "GPIO17"


async def wait_entity(
    hass: HomeAssistant, entity_id: str, predicate: Callable[[State], bool], timeout: float = 5.0
) -> State:
    """Wait until ``entity_id``'s state satisfies ``predicate``; return it."""
    async with asyncio.timeout(timeout):
        while True:
            state = hass.states.get(entity_id)
            if state is not None and predicate(state):
                return state
            await asyncio.sleep(0.02)


def device_state(device: Device) -> dict[str, Any]:
    return dict(device.server.state())


async def alarm_sunrise(device: Device, start: float = 0.0) -> None:
    """Alarm ``wake``'s sunrise, as the device's wake policy starts it."""
    await device.server.controller.start_sunrise(
        {"duration": 600.0, "target_brightness": 200.0, "start_brightness": start,
         "curve": "linear"},
        alarm_id="wake",
    )  # fmt: skip


async def press_button(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


# -- sunset -----------------------------------------------------------------------------


async def test_the_sunset_effect_starts_a_sunset_on_the_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.attributes[ATTR_EFFECT_LIST] == ["sunrise", "sunset"]
    await device.server.controller.set_light({"brightness": 180.0})
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_EFFECT: "sunset", ATTR_TRANSITION: 120},
        blocking=True,
    )
    sunset = device_state(device)["sunset"]
    assert sunset is not None
    assert (sunset["duration"], sunset["start_brightness"]) == (120.0, 180.0)
    await wait_entity(hass, ENTITY_ID, lambda s: s.attributes.get(ATTR_EFFECT) == "sunset")
    assert hass.states.get(SUNSET_SWITCH).state == STATE_ON
    # With a brightness: from there; without a transition: the device's 30 minutes.
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_EFFECT: "sunset", ATTR_BRIGHTNESS: 90},
        blocking=True,
    )
    sunset = device_state(device)["sunset"]
    assert (sunset["duration"], sunset["start_brightness"]) == (1800.0, 90.0)
    # A manual command cancels it.
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: ENTITY_ID, ATTR_BRIGHTNESS: 50},
        blocking=True,
    )  # fmt: skip
    assert device_state(device)["sunset"] is None
    await wait_entity(hass, SUNSET_SWITCH, lambda s: s.state == STATE_OFF)
    assert hass.states.get(ENTITY_ID).attributes.get(ATTR_EFFECT) is None


async def test_the_start_sunset_action_and_its_limits(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await hass.services.async_call(
        DOMAIN,
        SERVICE_START_SUNSET,
        {ATTR_ENTITY_ID: ENTITY_ID, "duration": {"minutes": 5}, "start_brightness": 100},
        blocking=True,
    )
    sunset = device_state(device)["sunset"]
    assert (sunset["duration"], sunset["start_brightness"]) == (300.0, 100.0)
    for fields, key in (({"duration": 30}, "duration"), ({"start_brightness": 0}, "start")):
        with pytest.raises(ServiceValidationError) as refused:
            await hass.services.async_call(
                DOMAIN, SERVICE_START_SUNSET, {ATTR_ENTITY_ID: ENTITY_ID, **fields}, blocking=True
            )
        assert refused.value.translation_key == "out_of_range"
        assert key in str(refused.value.translation_placeholders["field"])


async def test_the_sunset_switch_starts_and_stops_a_sunset(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.server.controller.set_light({"brightness": 120.0})
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: SUNSET_SWITCH}, blocking=True
    )
    assert device_state(device)["sunset"]["start_brightness"] == 120.0
    await wait_entity(hass, SUNSET_SWITCH, lambda s: s.state == STATE_ON)
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: SUNSET_SWITCH}, blocking=True
    )
    state = device_state(device)
    assert state["sunset"] is None
    assert state["on"] is True  # it holds the level it reached
    await wait_entity(hass, SUNSET_SWITCH, lambda s: s.state == STATE_OFF)


async def test_sunset_events_reach_the_events_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.server.controller.start_sunset(
        {"duration": 60.0, "start_brightness": 60.0, "curve": "linear"}
    )
    state = await wait_entity(
        hass, EVENTS, lambda s: s.attributes.get(ATTR_EVENT_TYPE) == "sunset_started"
    )
    assert (state.attributes["start_brightness"], state.attributes["duration"]) == (60.0, 60.0)
    assert "button_press" not in state.attributes[ATTR_EVENT_TYPES]
    await device.server.controller.stop_sunset()
    await wait_entity(
        hass, EVENTS, lambda s: s.attributes.get(ATTR_EVENT_TYPE) == "sunset_cancelled"
    )


# -- snooze and dismiss -------------------------------------------------------------------


@pytest.mark.parametrize("entity_id", [SNOOZE, DISMISS])
async def test_snooze_and_dismiss_outside_an_alarm_say_why(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, entity_id: str
) -> None:
    await device.server.controller.set_light({"brightness": 70.0})
    with pytest.raises(HomeAssistantError) as refused:
        await press_button(hass, entity_id)
    assert refused.value.translation_key == "no_alarm"
    assert refused.value.translation_placeholders == {"name": "Bedroom"}
    assert "No alarm is in progress on Bedroom" in str(refused.value)
    assert device_state(device)["level"] == 70.0


async def test_the_snooze_button_snoozes_and_the_dismiss_button_dismisses(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await alarm_sunrise(device, start=80.0)
    await wait_entity(hass, ENTITY_ID, lambda s: s.attributes.get("alarm_in_progress") == "wake")
    await press_button(hass, SNOOZE)
    alarm = device_state(device)["alarm"]
    assert alarm["snoozes"] == 1
    state = await wait_entity(hass, ENTITY_ID, lambda s: s.attributes.get("snoozes") == 1)
    assert state.attributes["snoozed_until"] is not None
    assert state.state == STATE_OFF  # snoozed to off (the default snooze level)
    events = await wait_entity(
        hass, EVENTS, lambda s: s.attributes.get(ATTR_EVENT_TYPE) == "alarm_snoozed"
    )
    assert (events.attributes["alarm_id"], events.attributes["snoozes"]) == ("wake", 1)
    await press_button(hass, DISMISS)
    assert device_state(device)["alarm"] is None
    await wait_entity(
        hass, EVENTS, lambda s: s.attributes.get(ATTR_EVENT_TYPE) == "alarm_dismissed"
    )
    state = await wait_entity(
        hass, ENTITY_ID, lambda s: s.attributes.get("alarm_in_progress") is None
    )
    assert state.attributes["snoozed_until"] is None


@pytest.mark.parametrize("action", [SERVICE_SNOOZE, SERVICE_DISMISS])
async def test_the_snooze_and_dismiss_actions(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, action: str
) -> None:
    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(DOMAIN, action, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True)
    assert refused.value.translation_key == "no_alarm"
    await alarm_sunrise(device)
    await hass.services.async_call(DOMAIN, action, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True)
    alarm = device_state(device)["alarm"]
    if action == SERVICE_SNOOZE:
        assert alarm["snoozes"] == 1
    else:
        assert alarm is None


async def test_the_snooze_length_number_is_the_devices_setting(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    assert float(hass.states.get(SNOOZE_LENGTH).state) == 9.0
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: SNOOZE_LENGTH, ATTR_VALUE: 15},
        blocking=True,
    )
    assert device_state(device)["wake_settings"]["snooze_length"] == 900.0
    await wait_entity(hass, SNOOZE_LENGTH, lambda s: float(s.state) == 15.0)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            NUMBER_DOMAIN,
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: SNOOZE_LENGTH, ATTR_VALUE: 31},
            blocking=True,
        )
    # Changed on the device (the web page, another client): the number follows.
    await device.server.controller.set_wake_settings({"snooze_length": 300.0})
    await wait_entity(hass, SNOOZE_LENGTH, lambda s: float(s.state) == 5.0)


# -- the bedside button --------------------------------------------------------------------


@pytest.fixture
async def button_device(start_device: Callable[..., Awaitable[Device]]) -> Device:
    return await start_device(button_pin=BUTTON_PIN)


@pytest.fixture
async def button_integration(hass: HomeAssistant, button_device: Device) -> MockConfigEntry:
    entry = make_config_entry(button_device)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def button_pin(device: Device) -> MockPin:
    pin = device.factory.pin(BUTTON_PIN)
    assert isinstance(pin, MockPin)
    return pin


async def press(pin: MockPin, hold: float = 0.08) -> None:
    pin.drive_low()
    await asyncio.sleep(hold)
    pin.drive_high()


async def test_a_device_without_a_button_has_no_button_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert hass.states.get(BEDSIDE) is None


async def test_the_bedside_button_entity_fires_on_a_press(
    hass: HomeAssistant,
    button_integration: MockConfigEntry,
    button_device: Device,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    state = hass.states.get(BEDSIDE)
    assert state is not None
    entry = entity_registry.async_get(BEDSIDE)
    assert entry is not None
    assert entry.unique_id == f"{button_device.device_id}_bedside_button"
    assert (entry.translation_key, entry.original_name) == ("bedside_button", "Bedside button")
    # Plain keys: newer Home Assistants key attributes with enums (same values).
    shown = {"state": state.state, **{str(key): v for key, v in state.attributes.items()}}
    assert shown == snapshot
    assert state.state == STATE_UNKNOWN
    assert state.attributes[ATTR_DEVICE_CLASS] == "button"
    assert state.attributes[ATTR_EVENT_TYPES] == list(BUTTON_PRESSES)
    seen: list[tuple[str, Any]] = []

    @callback  # in the loop, in order (a plain function would run in the executor)
    def record(event: Event[Any]) -> None:
        if event.data["entity_id"] == BEDSIDE:
            attributes = event.data["new_state"].attributes
            seen.append((attributes.get(ATTR_EVENT_TYPE), attributes.get("multi_press_count")))

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    pin = button_pin(button_device)
    await press(pin)
    await asyncio.sleep(0.12)
    await press(pin)
    await wait_for(lambda: ("multi_press_end", 2) in seen)
    assert seen == [
        ("press_start", None),
        ("press_end", None),
        ("press_start", None),
        ("multi_press_ongoing", 2),
        ("press_end", None),
        ("multi_press_end", 2),
    ]
    # The device acted on the double press by itself: a sunset.
    assert button_device.server.state()["sunset"] is not None


async def test_the_standard_button_event_types_of_this_home_assistant() -> None:
    """Where Home Assistant has ButtonEventType (2026.8), the protocol's are its values."""
    event = pytest.importorskip("homeassistant.components.event")
    if not hasattr(event, "ButtonEventType"):
        pytest.skip("Home Assistant before 2026.8 has no ButtonEventType")
    assert set(BUTTON_PRESSES) == {member.value for member in event.ButtonEventType}


async def test_a_snooze_by_button_while_home_assistant_is_unloaded(
    hass: HomeAssistant,
    button_integration: MockConfigEntry,
    button_device: Device,
    entity_registry: er.EntityRegistry,
) -> None:
    await alarm_sunrise(button_device, start=60.0)
    assert await hass.config_entries.async_unload(button_integration.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: not connected_clients(button_device))  # Home Assistant is gone
    await press(button_pin(button_device))
    await wait_for(lambda: button_device.server.state()["alarm"]["snoozes"] == 1)
    state = button_device.server.state()
    assert (state["on"], state["level"], state["sunrise"]) == (False, 0.0, None)
    assert button_device.pin.state == 0.0
    # Back in Home Assistant: the light shows the snooze.
    assert await hass.config_entries.async_setup(button_integration.entry_id)
    await hass.async_block_till_done()
    shown = await wait_entity(hass, ENTITY_ID, lambda s: s.attributes.get("snoozes") == 1)
    assert shown.attributes["alarm_in_progress"] == "wake"
