"""The light entity end to end: Home Assistant → real device server → mock pin → HA state."""

from __future__ import annotations

import asyncio

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS, DOMAIN as LIGHT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from daybreak_device.dimming import Dimmer

from .conftest import Device

ENTITY_ID = "light.bedroom"


async def wait_for_state(hass: HomeAssistant, predicate, timeout: float = 5.0):
    async with asyncio.timeout(timeout):
        while True:
            state = hass.states.get(ENTITY_ID)
            if state is not None and predicate(state):
                return state
            await asyncio.sleep(0.02)


async def test_turn_on_with_brightness_reaches_the_pin_and_comes_back(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    assert hass.states.get(ENTITY_ID).state == STATE_OFF
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_BRIGHTNESS: 128},
        blocking=True,
    )
    assert device.pin.state == pytest.approx(Dimmer().duty(128))  # CIE L* 50.2
    state = await wait_for_state(hass, lambda s: s.state == STATE_ON)
    assert state.attributes[ATTR_BRIGHTNESS] == 128
