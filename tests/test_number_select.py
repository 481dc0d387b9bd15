"""The sunrise defaults: the Sunrise duration number and the Sunrise curve select.

Both store the entry's options (no reload) and are used by whatever starts a sunrise
without saying how: the Sunrise switch, the light's Sunrise effect and the
``daybreak.start_sunrise`` action.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.light import ATTR_EFFECT, DOMAIN as LIGHT_DOMAIN
from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.const import (
    CONF_SUNRISE_CURVE,
    CONF_SUNRISE_DURATION,
    DOMAIN,
    EFFECT_SUNRISE,
    SERVICE_START_SUNRISE,
)

from .common import ENTITY_ID, wait_for
from .conftest import Device, make_config_entry

NUMBER = "number.bedroom_sunrise_duration"
SELECT = "select.bedroom_sunrise_curve"
SWITCH = "switch.bedroom_sunrise"


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return state.state


async def set_duration(hass: HomeAssistant, minutes: float) -> None:
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: NUMBER, ATTR_VALUE: minutes},
        blocking=True,
    )


async def set_curve(hass: HomeAssistant, curve: str) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: SELECT, ATTR_OPTION: curve},
        blocking=True,
    )


def sunrise_on(device: Device) -> dict[str, Any]:
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None, "no sunrise runs on the device"
    return dict(sunrise)


async def test_they_show_the_defaults_without_options(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert state_of(hass, NUMBER) == "30"
    assert state_of(hass, SELECT) == "linear"
    number = hass.states.get(NUMBER)
    assert number is not None
    assert (number.attributes["min"], number.attributes["max"]) == (1, 180)
    assert number.attributes["step"] == 1
    assert number.attributes["unit_of_measurement"] == "min"
    select = hass.states.get(SELECT)
    assert select is not None
    assert select.attributes["options"] == ["linear", "ease_in", "ease_out", "ease_in_out"]


async def test_they_show_the_options(hass: HomeAssistant, device: Device) -> None:
    entry = make_config_entry(device, **{CONF_SUNRISE_DURATION: 45, CONF_SUNRISE_CURVE: "ease_out"})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, NUMBER) == "45"
    assert state_of(hass, SELECT) == "ease_out"


async def test_setting_them_stores_the_options_without_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    entry = init_integration
    coordinator = entry.runtime_data
    client = coordinator.client

    await set_duration(hass, 12)
    assert entry.options[CONF_SUNRISE_DURATION] == 12
    assert state_of(hass, NUMBER) == "12"
    await set_curve(hass, "ease_in")
    assert entry.options == {CONF_SUNRISE_DURATION: 12, CONF_SUNRISE_CURVE: "ease_in"}
    assert state_of(hass, SELECT) == "ease_in"
    # The number keeps its value when the curve changes.
    assert state_of(hass, NUMBER) == "12"

    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is coordinator
    assert coordinator.client is client
    assert client.connected
    assert state_of(hass, ENTITY_ID) != STATE_UNAVAILABLE


async def test_the_switch_uses_them(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await set_duration(hass, 7)
    await set_curve(hass, "ease_in_out")
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    sunrise = sunrise_on(device)
    assert (sunrise["duration"], sunrise["curve"]) == (7 * 60, "ease_in_out")


async def test_the_light_effect_and_the_action_use_them(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await set_duration(hass, 180)
    await set_curve(hass, "ease_out")
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_EFFECT: EFFECT_SUNRISE},
        blocking=True,
    )
    sunrise = sunrise_on(device)
    assert (sunrise["duration"], sunrise["curve"]) == (180 * 60, "ease_out")

    await set_duration(hass, 1)
    await set_curve(hass, "linear")
    await hass.services.async_call(
        DOMAIN, SERVICE_START_SUNRISE, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
    )
    sunrise = sunrise_on(device)
    assert (sunrise["duration"], sunrise["curve"]) == (60, "linear")


async def test_available_and_settable_while_the_device_is_stopped(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.stop()
    await wait_for(lambda: state_of(hass, ENTITY_ID) == STATE_UNAVAILABLE)
    assert state_of(hass, NUMBER) == "30"
    assert state_of(hass, SELECT) == "linear"

    await set_duration(hass, 20)
    await set_curve(hass, "ease_in")
    assert state_of(hass, NUMBER) == "20"
    assert state_of(hass, SELECT) == "ease_in"
    assert init_integration.options == {CONF_SUNRISE_DURATION: 20, CONF_SUNRISE_CURVE: "ease_in"}
    assert state_of(hass, SWITCH) == STATE_UNAVAILABLE


@pytest.mark.parametrize("minutes", [0, 0.5, 181, 1000, -5])
async def test_an_out_of_range_duration_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, minutes: float
) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        await set_duration(hass, minutes)
    assert exc.value.translation_key == "out_of_range"
    assert state_of(hass, NUMBER) == "30"
    assert CONF_SUNRISE_DURATION not in init_integration.options


async def test_an_unknown_curve_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError):
        await set_curve(hass, "sawtooth")
    assert state_of(hass, SELECT) == "linear"
    assert CONF_SUNRISE_CURVE not in init_integration.options
