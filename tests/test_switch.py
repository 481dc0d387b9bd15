"""The Sunrise switch against the real device: on while a sunrise runs, wherever it started."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_EFFECT,
    ATTR_TRANSITION,
    DOMAIN as LIGHT_DOMAIN,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_component import EntityComponent
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.daybreak.client import DaybreakClient
from custom_components.daybreak.const import (
    CONF_SUNRISE_CURVE,
    CONF_SUNRISE_DURATION,
    DOMAIN,
    EFFECT_SUNRISE,
    SERVICE_START_SUNRISE,
    SERVICE_STOP_SUNRISE,
)
from custom_components.daybreak.switch import DaybreakSunriseSwitch
from daybreak_device.dimming import Dimmer
from daybreak_device.protocol import EVENT_GET_DEVICE, ProtocolError
from daybreak_device.server import DaybreakServer

from .common import (
    ENTITY_ID,
    NO_ANSWER,
    NOT_CONNECTED,
    device_answers,
    start_sunrise_over_rest,
    wait_for,
    wait_for_state,
)
from .conftest import Device, make_config_entry

SWITCH = "switch.bedroom_sunrise"
DUTY = Dimmer().duty


def switch_state(hass: HomeAssistant) -> str:
    state = hass.states.get(SWITCH)
    assert state is not None
    return state.state


async def switch_service(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call(SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: SWITCH}, blocking=True)


def sunrise_on(device: Device) -> dict[str, Any]:
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None, "no sunrise runs on the device"
    return dict(sunrise)


def switch_entity(hass: HomeAssistant) -> DaybreakSunriseSwitch:
    component: EntityComponent[Any] = hass.data[SWITCH_DOMAIN]
    entity = component.get_entity(SWITCH)
    assert isinstance(entity, DaybreakSunriseSwitch)
    return entity


async def test_off_without_a_sunrise(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    assert device.server.controller.snapshot()["sunrise"] is None
    assert switch_state(hass) == STATE_OFF
    # A light that is on is not a sunrise.
    await device.server.execute("light.set", {"on": True, "brightness": 200})
    await wait_for_state(hass, lambda s: s.state == STATE_ON)
    assert switch_state(hass) == STATE_OFF


async def test_follows_a_sunrise_of_the_light_effect(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_EFFECT: EFFECT_SUNRISE, ATTR_TRANSITION: 60},
        blocking=True,
    )
    await wait_for(lambda: switch_state(hass) == STATE_ON)
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
    )
    await wait_for(lambda: switch_state(hass) == STATE_OFF)


async def test_follows_a_sunrise_of_the_actions(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await hass.services.async_call(
        DOMAIN, SERVICE_START_SUNRISE, {ATTR_ENTITY_ID: ENTITY_ID, "duration": 60}, blocking=True
    )
    await wait_for(lambda: switch_state(hass) == STATE_ON)
    await hass.services.async_call(
        DOMAIN, SERVICE_STOP_SUNRISE, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
    )
    await wait_for(lambda: switch_state(hass) == STATE_OFF)


async def test_follows_a_sunrise_started_elsewhere_until_it_finishes(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    # Another client starts a short sunrise over REST.
    await start_sunrise_over_rest(device, duration=1.5, start_brightness=0, target_brightness=200)
    await wait_for(lambda: switch_state(hass) == STATE_ON)
    # It runs to its end on the device: off, with the light at the target.
    await wait_for(lambda: switch_state(hass) == STATE_OFF, timeout=5)
    assert device.server.controller.snapshot()["sunrise"] is None
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_BRIGHTNESS) == 200)
    assert state.state == STATE_ON


async def test_turn_on_starts_a_sunrise_with_the_defaults(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await switch_service(hass, SERVICE_TURN_ON)
    sunrise = sunrise_on(device)
    assert (sunrise["duration"], sunrise["curve"]) == (1800, "linear")
    assert sunrise["target_brightness"] == 255
    assert sunrise["start_brightness"] == 0  # from where the light is (off)
    assert sunrise["alarm_id"] is None
    await wait_for(lambda: switch_state(hass) == STATE_ON)
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_EFFECT) == EFFECT_SUNRISE)
    assert state.state == STATE_ON


async def test_turn_on_uses_the_options(hass: HomeAssistant, device: Device) -> None:
    entry = make_config_entry(
        device, **{CONF_SUNRISE_DURATION: 45, CONF_SUNRISE_CURVE: "ease_in_out"}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    await switch_service(hass, SERVICE_TURN_ON)
    sunrise = sunrise_on(device)
    assert (sunrise["duration"], sunrise["curve"]) == (45 * 60, "ease_in_out")
    assert sunrise["target_brightness"] == 255


async def test_turn_on_rises_from_the_current_level(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.server.execute("light.set", {"on": True, "brightness": 80})
    await wait_for_state(hass, lambda s: s.attributes.get(ATTR_BRIGHTNESS) == 80)
    await switch_service(hass, SERVICE_TURN_ON)
    assert sunrise_on(device)["start_brightness"] == 80


async def test_turn_off_stops_the_sunrise_and_keeps_the_level(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.server.execute(
        "sunrise.start", {"duration": 3, "start_brightness": 0, "target_brightness": 255}
    )
    await wait_for(lambda: switch_state(hass) == STATE_ON)
    await wait_for(lambda: device.pin.state >= DUTY(40))

    await switch_service(hass, SERVICE_TURN_OFF)
    snapshot = device.server.controller.snapshot()
    assert snapshot["sunrise"] is None
    assert snapshot["on"] is True
    held = device.pin.state
    assert 0 < held < 1
    await wait_for(lambda: switch_state(hass) == STATE_OFF)
    # The light stays on at the level the sunrise reached.
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_EFFECT) is None)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_BRIGHTNESS] == snapshot["brightness"]
    assert snapshot["brightness"] >= 40
    history = len(device.pin.states)
    await asyncio.sleep(0.3)  # no tick of the stopped sunrise writes the pin again
    assert len(device.pin.states) == history
    assert device.pin.state == held


async def test_turn_off_without_a_sunrise_leaves_the_light(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await device.server.execute("light.set", {"on": True, "brightness": 120})
    await wait_for_state(hass, lambda s: s.attributes.get(ATTR_BRIGHTNESS) == 120)
    before = device.server.controller.snapshot()
    await switch_entity(hass).async_turn_off()  # (HA skips the call for a switch that is off)
    assert device.server.controller.snapshot() == before


async def test_unavailable_and_translated_errors_when_the_device_is_gone(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    entity = switch_entity(hass)
    await device.stop()
    await wait_for(lambda: switch_state(hass) == STATE_UNAVAILABLE)
    # A call already dispatched to the entity (the device died mid-call) fails with the
    # translated connection error.
    for call in (entity.async_turn_on, entity.async_turn_off):
        with pytest.raises(HomeAssistantError) as exc:
            await call()
        assert exc.value.translation_domain == DOMAIN
        assert exc.value.translation_key == "communication_error"
        assert str(exc.value) == NOT_CONNECTED


async def test_a_device_that_does_not_answer(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    client: DaybreakClient = init_integration.runtime_data.client
    client._timeout = 0.3
    release = asyncio.Event()
    execute = device.server.execute

    async def hang(event: str, payload: Any) -> Any:
        await release.wait()
        return await execute(event, payload)

    with patch.object(device.server, "execute", hang), pytest.raises(HomeAssistantError) as exc:
        await switch_service(hass, SERVICE_TURN_ON)
    assert exc.value.translation_key == "timeout"
    assert str(exc.value) == NO_ANSWER
    assert switch_state(hass) == STATE_OFF  # the connection is fine: still available
    # The device carries it out late; its pushed state turns the switch on.
    release.set()
    await wait_for(lambda: switch_state(hass) == STATE_ON)


async def test_a_refused_command(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    refusal = {"ok": False, "error": {"code": "internal_error", "message": "LED driver failed"}}
    with (
        device_answers(init_integration.runtime_data.client, refusal),
        pytest.raises(HomeAssistantError) as exc,
    ):
        await switch_service(hass, SERVICE_TURN_ON)
    assert exc.value.translation_key == "command_refused"
    assert str(exc.value) == (
        "The Daybreak device refused the command (internal_error): LED driver failed"
    )
    assert device.server.controller.snapshot()["sunrise"] is None
    assert switch_state(hass) == STATE_OFF


async def test_unavailable_while_reconnecting_fails_halfway(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reconnect that fails after the device accepted it leaves the entities unavailable.

    The device accepts the connection and pushes its state, then fails a request of the
    client's handshake (here it cannot read itself: ``device.get``): the client drops the connection
    and tries again later. Until a handshake completes nothing reaches HA, so the switch
    and the light must not show the state pushed on the way as if the device were back.
    """
    caplog.set_level(logging.DEBUG, logger="custom_components.daybreak.client")
    await device.stop()
    await wait_for(lambda: switch_state(hass) == STATE_UNAVAILABLE)

    execute = DaybreakServer.execute

    async def broken(self: DaybreakServer, event: str, payload: Any) -> Any:
        if event == EVENT_GET_DEVICE:
            raise ProtocolError("internal_error", "cannot read the alarms")
        return await execute(self, event, payload)

    def failed_reconnects() -> int:
        return sum(
            1
            for record in caplog.records
            if record.name == "custom_components.daybreak.client"
            and "failed (internal_error: cannot read the alarms)" in record.getMessage()
        )

    with patch.object(DaybreakServer, "execute", broken):
        await device.restart()
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=3))  # skip backoff
        await wait_for(lambda: failed_reconnects() >= 1, timeout=10)
        assert not init_integration.runtime_data.client.connected
        assert switch_state(hass) == STATE_UNAVAILABLE
        assert hass.states.get(ENTITY_ID).state == STATE_UNAVAILABLE
