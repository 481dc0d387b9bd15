"""Assist: HassTurnOn / HassTurnOff by name reach the real device.

The intents are handled as Assist does after it has recognized a sentence ("turn on
Bedroom Sunrise"): the ``intent`` integration's handlers match the entity by its name
and call ``homeassistant.turn_on``/``turn_off``. (Sentence recognition needs the
``conversation`` integration's hassil and home-assistant-intents, which the test
environments do not install.)
"""

from __future__ import annotations

import pytest
from homeassistant.components.homeassistant.exposed_entities import async_should_expose
from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .common import ENTITY_ID, wait_for
from .conftest import Device

SWITCH = "switch.bedroom_sunrise"
#: Assist's assistant id (``conversation.DOMAIN``; importing that module needs hassil).
CONVERSATION_DOMAIN = "conversation"


@pytest.fixture
async def assist(hass: HomeAssistant) -> None:
    """The intent handlers (HassTurnOn, HassTurnOff, ...), as Assist uses them."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})


async def handle(hass: HomeAssistant, intent_type: str, name: str) -> intent.IntentResponse:
    response = await intent.async_handle(
        hass, "test", intent_type, {"name": {"value": name}}, assistant=CONVERSATION_DOMAIN
    )
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    return response


@pytest.mark.usefixtures("assist")
async def test_turn_on_and_off_by_name(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    # Assist may control them: new lights and switches are exposed to it by default
    # (the intents are handled for Assist, so only exposed entities match).
    assert async_should_expose(hass, CONVERSATION_DOMAIN, SWITCH)
    assert async_should_expose(hass, CONVERSATION_DOMAIN, ENTITY_ID)

    # "Turn on Bedroom Sunrise": a sunrise starts on the device.
    response = await handle(hass, intent.INTENT_TURN_ON, "Bedroom Sunrise")
    assert [target.id for target in response.success_results] == [SWITCH]
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None
    assert sunrise["target_brightness"] == 255
    await wait_for(lambda: hass.states.get(SWITCH).state == STATE_ON)

    # "Turn off Bedroom Sunrise": it stops, the light keeps its level.
    response = await handle(hass, intent.INTENT_TURN_OFF, "Bedroom Sunrise")
    assert [target.id for target in response.success_results] == [SWITCH]
    assert device.server.controller.snapshot()["sunrise"] is None
    await wait_for(lambda: hass.states.get(SWITCH).state == STATE_OFF)

    # "Turn off Bedroom", then "Turn on Bedroom": the light, by the device's name.
    await device.server.execute("light.set", {"on": True, "brightness": 100})
    await wait_for(lambda: hass.states.get(ENTITY_ID).state == STATE_ON)
    response = await handle(hass, intent.INTENT_TURN_OFF, "Bedroom")
    assert [target.id for target in response.success_results] == [ENTITY_ID]
    assert device.server.controller.snapshot()["on"] is False
    await wait_for(lambda: hass.states.get(ENTITY_ID).state == STATE_OFF)
    response = await handle(hass, intent.INTENT_TURN_ON, "Bedroom")
    assert [target.id for target in response.success_results] == [ENTITY_ID]
    snapshot = device.server.controller.snapshot()
    assert (snapshot["on"], snapshot["brightness"]) == (True, 100)  # the last level
    await wait_for(lambda: hass.states.get(ENTITY_ID).attributes.get(ATTR_BRIGHTNESS) == 100)
