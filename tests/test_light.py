"""The light entity end to end: Home Assistant → real device server → mock pin → HA state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_COLOR_MODE,
    ATTR_EFFECT,
    ATTR_EFFECT_LIST,
    ATTR_SUPPORTED_COLOR_MODES,
    ATTR_TRANSITION,
    DOMAIN as LIGHT_DOMAIN,
    ColorMode,
    LightEntityFeature,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    EVENT_STATE_CHANGED,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

import daybreak_device
from custom_components.daybreak.client import DaybreakState
from custom_components.daybreak.const import (
    CONF_SUNRISE_CURVE,
    CONF_SUNRISE_DURATION,
    DOMAIN,
    EFFECT_SUNRISE,
    EFFECT_SUNSET,
)
from daybreak_device.dimming import Dimmer
from daybreak_device.server import MODEL

from .common import ENTITY_ID, wait_for, wait_for_state
from .conftest import Device, make_config_entry

DUTY = Dimmer().duty


async def turn_on(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: ENTITY_ID, **data}, blocking=True
    )


async def turn_off(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: ENTITY_ID, **data}, blocking=True
    )


def record_ha_states(hass: HomeAssistant) -> tuple[list[State], Callable[[], None]]:
    """Record every new state HA writes for the light."""
    states: list[State] = []

    @callback  # run in the loop, at once (a plain function would go to the executor)
    def listener(event: Event[Any]) -> None:
        if event.data["entity_id"] == ENTITY_ID and event.data["new_state"] is not None:
            states.append(event.data["new_state"])

    return states, hass.bus.async_listen(EVENT_STATE_CHANGED, listener)


def record_device_states(entry: MockConfigEntry) -> tuple[list[DaybreakState], Callable[[], None]]:
    """Record every state the device sends the integration (pushes and command acks)."""
    states: list[DaybreakState] = []
    return states, entry.runtime_data.client.on_state(states.append)


async def test_turn_on_with_brightness_reaches_the_pin_and_comes_back(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    assert hass.states.get(ENTITY_ID).state == STATE_OFF
    await turn_on(hass, **{ATTR_BRIGHTNESS: 128})
    assert device.pin.state == pytest.approx(DUTY(128))  # CIE L* 50.2
    state = await wait_for_state(hass, lambda s: s.state == STATE_ON)
    assert state.attributes[ATTR_BRIGHTNESS] == 128
    assert device.server.controller.snapshot()["brightness"] == 128


async def test_turn_on_without_brightness_restores_the_last_level(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_BRIGHTNESS: 100})
    await turn_off(hass)
    assert device.pin.state == 0
    await wait_for_state(hass, lambda s: s.state == STATE_OFF)
    assert hass.states.get(ENTITY_ID).attributes[ATTR_BRIGHTNESS] is None

    await turn_on(hass)
    assert device.pin.state == pytest.approx(DUTY(100))
    state = await wait_for_state(hass, lambda s: s.state == STATE_ON)
    assert state.attributes[ATTR_BRIGHTNESS] == 100


async def test_turn_off(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_BRIGHTNESS: 255})
    assert device.pin.state == pytest.approx(1.0)
    await turn_off(hass)
    assert device.pin.state == 0
    snapshot = device.server.controller.snapshot()
    assert (snapshot["on"], snapshot["brightness"]) == (False, 0)
    state = await wait_for_state(hass, lambda s: s.state == STATE_OFF)
    assert state.attributes[ATTR_BRIGHTNESS] is None
    assert state.attributes[ATTR_EFFECT] is None


async def test_brightness_with_transition_fades_on_the_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """The device fades; HA shows the fade's target from the start (what the user asked).

    The device pushes a fade's progress at most once a second: showing its level would
    start at 1 and trail the light by up to a second.
    """
    ha_states, stop_ha = record_ha_states(hass)
    device_states, stop_device = record_device_states(init_integration)
    pin_history_start = len(device.pin.states)

    await turn_on(hass, **{ATTR_BRIGHTNESS: 200, ATTR_TRANSITION: 1.0})
    # The call returns at once with the fade started on the device, not finished...
    snapshot = device.server.controller.snapshot()
    assert snapshot["transition"] is not None
    assert snapshot["transition"]["target_brightness"] == 200
    assert device.pin.state < DUTY(100)
    # ... and HA already shows the target, not the level the fade started at.
    state = hass.states.get(ENTITY_ID)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_BRIGHTNESS] == 200

    await wait_for(lambda: device.server.controller.snapshot()["transition"] is None)
    await wait_for(lambda: device_states[-1].transition is None)
    await hass.async_block_till_done()
    stop_ha()
    stop_device()

    assert device.pin.state == pytest.approx(DUTY(200))
    # The pin rose step by step (50 Hz ticks), never down.
    duties = [s.state for s in device.pin.states[pin_history_start:]]
    assert len(duties) > 10  # ~50 at 50 Hz; fewer if the loop is busy (ticks are skipped)
    assert duties == sorted(duties)
    assert duties[-1] == pytest.approx(DUTY(200))

    # The device reported levels on the way (from 0, the light was off) ...
    assert any(s.transition is not None and s.brightness < 200 for s in device_states)
    # ... but HA showed nothing but the target, on, all the time.
    assert ha_states
    assert {s.attributes[ATTR_BRIGHTNESS] for s in ha_states} == {200}
    assert all(s.state == STATE_ON for s in ha_states)


async def test_a_fade_started_elsewhere_shows_its_target(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_BRIGHTNESS: 40})
    await wait_for_state(hass, lambda s: s.attributes.get(ATTR_BRIGHTNESS) == 40)
    # A 10-second fade down from the device's web page (another client).
    await device.server.execute("light.set", {"brightness": 10, "transition": 10})
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_BRIGHTNESS) != 40)
    assert state.attributes[ATTR_BRIGHTNESS] == 10
    assert device.server.controller.snapshot()["brightness"] > 10  # still fading


async def test_a_sunrise_shows_its_live_level(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """A sunrise is no fade: HA shows the level reached (``brightness_step`` starts there)."""
    await turn_on(hass, **{ATTR_EFFECT: EFFECT_SUNRISE, ATTR_TRANSITION: 3, ATTR_BRIGHTNESS: 255})
    await wait_for_state(
        hass,
        lambda s: (
            s.attributes.get(ATTR_EFFECT) == EFFECT_SUNRISE
            and 1 < s.attributes[ATTR_BRIGHTNESS] < 255
        ),
    )
    assert device.server.controller.snapshot()["sunrise"] is not None  # still rising
    await wait_for_state(hass, lambda s: s.attributes.get(ATTR_BRIGHTNESS) == 255, timeout=8)


async def test_the_effect_is_a_translation_key(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """Effects are translation keys (lowercase; the names "Sunrise" and "Sunset" are translated)."""
    assert hass.states.get(ENTITY_ID).attributes[ATTR_EFFECT_LIST] == ["sunrise", "sunset"]
    await turn_on(hass, **{ATTR_EFFECT: "sunrise", ATTR_TRANSITION: 60})
    assert device.server.controller.snapshot()["sunrise"] is not None
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_EFFECT) == "sunrise")
    assert state.state == STATE_ON
    # The name it had before still starts one (automations written for it keep working).
    await turn_off(hass)
    await turn_on(hass, **{ATTR_EFFECT: "Sunrise", ATTR_TRANSITION: 60})
    assert device.server.controller.snapshot()["sunrise"] is not None


async def test_turn_off_with_transition_fades_out(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_BRIGHTNESS: 255})
    await wait_for_state(hass, lambda s: s.attributes.get(ATTR_BRIGHTNESS) == 255)
    start = len(device.pin.states)
    await turn_off(hass, **{ATTR_TRANSITION: 0.5})
    assert device.server.controller.snapshot()["transition"] is not None
    await wait_for(lambda: device.pin.state == 0)
    duties = [s.state for s in device.pin.states[start:]]
    assert len(duties) > 5
    assert duties == sorted(duties, reverse=True)
    await wait_for_state(hass, lambda s: s.state == STATE_OFF)


async def test_sunrise_effect_uses_the_transition_as_duration(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_EFFECT: EFFECT_SUNRISE, ATTR_TRANSITION: 120})
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None
    assert sunrise["duration"] == 120
    assert sunrise["target_brightness"] == 255
    assert sunrise["curve"] == "linear"
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_EFFECT) == EFFECT_SUNRISE)
    assert state.state == STATE_ON


async def test_sunrise_effect_with_brightness_sets_the_target(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_EFFECT: EFFECT_SUNRISE, ATTR_TRANSITION: 1, ATTR_BRIGHTNESS: 180})
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None
    assert (sunrise["duration"], sunrise["target_brightness"]) == (1, 180)
    # The sunrise runs on the device and ends at its target; HA shows its end.
    state = await wait_for_state(
        hass,
        lambda s: s.attributes.get(ATTR_BRIGHTNESS) == 180 and s.attributes[ATTR_EFFECT] is None,
    )
    assert state.state == STATE_ON
    assert device.pin.state == pytest.approx(DUTY(180))


async def test_sunrise_effect_duration_is_clamped_to_the_device_range(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_EFFECT: EFFECT_SUNRISE, ATTR_TRANSITION: 0})
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None
    assert sunrise["duration"] == 1.0  # the protocol's minimum


async def test_sunrise_effect_defaults_come_from_the_options(
    hass: HomeAssistant, device: Device
) -> None:
    entry = make_config_entry(
        device, **{CONF_SUNRISE_DURATION: 45, CONF_SUNRISE_CURVE: "ease_in_out"}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    await turn_on(hass, **{ATTR_EFFECT: EFFECT_SUNRISE})
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None
    assert (sunrise["duration"], sunrise["curve"]) == (45 * 60, "ease_in_out")


async def test_sunrise_effect_without_options_uses_30_minutes_linear(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_EFFECT: EFFECT_SUNRISE})
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None
    assert (sunrise["duration"], sunrise["curve"]) == (1800, "linear")
    assert sunrise["start_brightness"] == 0


async def test_turn_off_cancels_a_running_sunrise(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await turn_on(hass, **{ATTR_EFFECT: EFFECT_SUNRISE, ATTR_TRANSITION: 60})
    await wait_for(lambda: device.pin.state > 0)
    await wait_for_state(hass, lambda s: s.attributes.get(ATTR_EFFECT) == EFFECT_SUNRISE)

    await turn_off(hass)
    snapshot = device.server.controller.snapshot()
    assert snapshot["sunrise"] is None
    assert snapshot["on"] is False
    assert device.pin.state == 0
    state = await wait_for_state(hass, lambda s: s.state == STATE_OFF)
    assert state.attributes[ATTR_EFFECT] is None
    # No tick of the cancelled sunrise writes the pin afterwards.
    history = len(device.pin.states)
    await asyncio.sleep(0.3)
    assert len(device.pin.states) == history


async def test_entity_attributes(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.attributes[ATTR_EFFECT_LIST] == [EFFECT_SUNRISE, EFFECT_SUNSET]
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == (
        LightEntityFeature.TRANSITION | LightEntityFeature.EFFECT
    )
    assert state.attributes[ATTR_SUPPORTED_COLOR_MODES] == [ColorMode.BRIGHTNESS]
    assert state.attributes[ATTR_COLOR_MODE] is None  # off

    await turn_on(hass, **{ATTR_BRIGHTNESS: 10})
    state = await wait_for_state(hass, lambda s: s.state == STATE_ON)
    assert state.attributes[ATTR_COLOR_MODE] == ColorMode.BRIGHTNESS
    assert state.attributes[ATTR_EFFECT] is None


async def test_entity_and_device_registry(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    entity = entity_registry.async_get(ENTITY_ID)
    assert entity is not None
    assert entity.unique_id == device.device_id
    assert entity.translation_key == "light"
    assert entity.has_entity_name
    assert entity.original_name is None  # the device's name

    device_entry = device_registry.async_get(entity.device_id)
    assert device_entry is not None
    assert device_entry.identifiers == {(DOMAIN, device.device_id)}
    assert device_entry.name == "Bedroom"
    assert device_entry.manufacturer == "Daybreak"
    assert device_entry.model == MODEL
    assert device_entry.sw_version == daybreak_device.__version__
    assert device_entry.configuration_url == f"http://127.0.0.1:{device.port}"
