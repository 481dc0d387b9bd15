"""The ``daybreak.start_sunrise`` and ``daybreak.stop_sunrise`` actions, end to end."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS, ATTR_EFFECT, DOMAIN as LIGHT_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_component import EntityComponent
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.client import DaybreakClient
from custom_components.daybreak.const import (
    CONF_SUNRISE_CURVE,
    CONF_SUNRISE_DURATION,
    DOMAIN,
    EFFECT_SUNRISE,
    SERVICE_START_SUNRISE,
    SERVICE_STOP_SUNRISE,
)
from custom_components.daybreak.light import DaybreakLight
from custom_components.daybreak.services import format_duration
from daybreak_device.dimming import Dimmer

from .common import (
    ENTITY_ID,
    NO_ANSWER,
    NOT_CONNECTED,
    device_answers,
    wait_for,
    wait_for_state,
)
from .conftest import Device, make_config_entry


async def start_sunrise(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN, SERVICE_START_SUNRISE, {ATTR_ENTITY_ID: ENTITY_ID, **data}, blocking=True
    )


async def stop_sunrise(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        DOMAIN, SERVICE_STOP_SUNRISE, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
    )


def sunrise_on(device: Device) -> dict[str, Any]:
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert sunrise is not None, "no sunrise runs on the device"
    return dict(sunrise)


def light_entity(hass: HomeAssistant) -> DaybreakLight:
    component: EntityComponent[Any] = hass.data[LIGHT_DOMAIN]
    entity = component.get_entity(ENTITY_ID)
    assert isinstance(entity, DaybreakLight)
    return entity


async def test_actions_are_registered_without_an_entry(hass: HomeAssistant) -> None:
    from homeassistant.setup import async_setup_component  # noqa: PLC0415

    assert await async_setup_component(hass, DOMAIN, {})
    assert hass.services.has_service(DOMAIN, SERVICE_START_SUNRISE)
    assert hass.services.has_service(DOMAIN, SERVICE_STOP_SUNRISE)
    for name in ("start_sunset", "snooze", "dismiss"):
        assert hass.services.has_service(DOMAIN, name), name


async def test_start_sunrise_with_defaults(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await start_sunrise(hass)
    sunrise = sunrise_on(device)
    assert sunrise["duration"] == 1800  # DEFAULT_SUNRISE_MINUTES
    assert sunrise["curve"] == "linear"
    assert sunrise["target_brightness"] == 255
    assert sunrise["start_brightness"] == 0  # from the current level (off)
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_EFFECT) == EFFECT_SUNRISE)
    assert state.state == STATE_ON


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        (90, 90),
        (2.5, 2.5),
        ({"minutes": 5}, 300),
        ({"hours": 1, "minutes": 30}, 5400),
        ("00:10:00", 600),
        ("03:00:00", 10800),  # the maximum
        (1, 1),  # the minimum
    ],
)
async def test_start_sunrise_duration(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    duration: Any,
    seconds: float,
) -> None:
    await start_sunrise(hass, duration=duration)
    assert sunrise_on(device)["duration"] == seconds


async def test_start_sunrise_with_every_field(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await start_sunrise(
        hass, duration=600, target_brightness=128, start_brightness=20, curve="ease_out"
    )
    sunrise = sunrise_on(device)
    assert sunrise["duration"] == 600
    assert sunrise["target_brightness"] == 128
    assert sunrise["start_brightness"] == 20
    assert sunrise["curve"] == "ease_out"
    # The sunrise starts at start_brightness on the pin.
    assert device.pin.state == pytest.approx(Dimmer().duty(20), abs=1e-3)


@pytest.mark.parametrize("curve", ["linear", "ease_in", "ease_out", "ease_in_out"])
async def test_start_sunrise_curves(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, curve: str
) -> None:
    await start_sunrise(hass, curve=curve)
    assert sunrise_on(device)["curve"] == curve


async def test_start_sunrise_reaches_the_target(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await start_sunrise(hass, duration=1, target_brightness=90, start_brightness=10)
    state = await wait_for_state(
        hass,
        lambda s: s.attributes.get(ATTR_BRIGHTNESS) == 90 and s.attributes[ATTR_EFFECT] is None,
    )
    assert state.state == STATE_ON
    assert device.pin.state == pytest.approx(Dimmer().duty(90))


async def test_start_sunrise_defaults_come_from_the_options(
    hass: HomeAssistant, device: Device
) -> None:
    entry = make_config_entry(device, **{CONF_SUNRISE_DURATION: 20, CONF_SUNRISE_CURVE: "ease_in"})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    await start_sunrise(hass)
    sunrise = sunrise_on(device)
    assert (sunrise["duration"], sunrise["curve"]) == (20 * 60, "ease_in")
    # Given values win over the options.
    await start_sunrise(hass, duration=30, curve="linear")
    sunrise = sunrise_on(device)
    assert (sunrise["duration"], sunrise["curve"]) == (30, "linear")


async def test_stop_sunrise_holds_the_level(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await start_sunrise(hass, duration=3, start_brightness=0, target_brightness=255)
    await wait_for(lambda: device.pin.state >= Dimmer().duty(40))

    await stop_sunrise(hass)
    snapshot = device.server.controller.snapshot()
    assert snapshot["sunrise"] is None
    assert snapshot["on"] is True
    held = device.pin.state
    assert 0 < held < 1
    assert snapshot["brightness"] == round(Dimmer().brightness(held))
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_EFFECT) is None)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_BRIGHTNESS] == snapshot["brightness"]

    # The level stays: no tick of the stopped sunrise writes the pin again.
    history = len(device.pin.states)
    await asyncio.sleep(0.3)
    assert len(device.pin.states) == history
    assert device.pin.state == held


async def test_stop_sunrise_without_a_sunrise_changes_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_BRIGHTNESS: 70},
        blocking=True,
    )
    before = device.server.controller.snapshot()
    history = len(device.pin.states)
    await stop_sunrise(hass)
    assert device.server.controller.snapshot() == before
    assert len(device.pin.states) == history


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"duration": 0}, "duration"),
        ({"duration": "00:00:00"}, "duration"),
        ({"duration": 10801}, "duration"),
        ({"duration": {"hours": 3, "seconds": 1}}, "duration"),
        ({"duration": "03:00:01"}, "duration"),
        ({"target_brightness": 0}, "target_brightness"),
        ({"target_brightness": 256}, "target_brightness"),
        ({"start_brightness": 300}, "start_brightness"),
        ({"start_brightness": 255.5}, "start_brightness"),
    ],
)
async def test_start_sunrise_out_of_range(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    data: dict[str, Any],
    field: str,
) -> None:
    before = device.server.controller.snapshot()
    history = len(device.pin.states)
    with pytest.raises(ServiceValidationError) as exc_info:
        await start_sunrise(hass, **data)
    err = exc_info.value
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "out_of_range"
    assert err.translation_placeholders is not None
    assert err.translation_placeholders["field"] == field
    # The translated message names the field and the range.
    assert field in str(err)
    assert device.server.controller.snapshot() == before
    assert len(device.pin.states) == history


async def test_start_sunrise_out_of_range_message(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as exc_info:
        await start_sunrise(hass, target_brightness=256)
    # (HA drops the translation's final period.)
    assert str(exc_info.value) == "target_brightness must be between 1 and 255, got 256"
    assert exc_info.value.translation_placeholders == {
        "field": "target_brightness",
        "value": "256",
        "min": "1",
        "max": "255",
    }


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ({"hours": 4}, "duration must be between 1 second and 3 hours, got 4 hours"),
        ("03:00:01", "duration must be between 1 second and 3 hours, got 3 hours 1 second"),
        (0.5, "duration must be between 1 second and 3 hours, got 0.5 seconds"),
    ],
)
async def test_start_sunrise_duration_out_of_range_in_words(
    hass: HomeAssistant, init_integration: MockConfigEntry, duration: Any, message: str
) -> None:
    with pytest.raises(ServiceValidationError) as exc_info:
        await start_sunrise(hass, duration=duration)
    assert exc_info.value.translation_key == "out_of_range"
    assert str(exc_info.value) == message


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (90, "1 minute 30 seconds"),
        (1800, "30 minutes"),
        (3600, "1 hour"),
        (5400, "1 hour 30 minutes"),
        (10800, "3 hours"),
        (90.5, "90.5 seconds"),
    ],
)
def test_format_duration(seconds: float, words: str) -> None:
    assert format_duration(seconds) == words


async def test_start_sunrise_unknown_curve(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """The curve is checked by vol.In: HA raises its MultipleInvalid (not translated)."""
    import voluptuous as vol  # noqa: PLC0415 - HA 2026.10 maps it onto probatio

    before = device.server.controller.snapshot()
    with pytest.raises(vol.MultipleInvalid) as exc_info:
        await start_sunrise(hass, curve="sawtooth")
    err = exc_info.value
    assert len(err.errors) == 1
    assert isinstance(err.errors[0], vol.InInvalid)
    assert err.path == ["curve"]
    assert "value must be one of ['ease_in', 'ease_in_out', 'ease_out', 'linear']" in str(err)
    assert device.server.controller.snapshot() == before


@pytest.mark.parametrize(
    "data",
    [
        {"curve": "sawtooth"},
        {"curve": 3},
        {"target_brightness": "bright"},
        {"start_brightness": -1},
        {"duration": "soon"},
        {"duration": -5},
        {"colour": "red"},
    ],
)
async def test_start_sunrise_invalid_input(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, data: dict[str, Any]
) -> None:
    """Wrong types and unknown values fail in the schema (vol.Invalid), before the device."""
    import voluptuous as vol  # noqa: PLC0415 - HA 2026.10 maps it onto probatio

    before = device.server.controller.snapshot()
    history = len(device.pin.states)
    with pytest.raises(vol.MultipleInvalid) as exc_info:
        await start_sunrise(hass, **data)
    assert exc_info.value.path == [next(iter(data))]
    assert next(iter(data)) in str(exc_info.value)
    assert device.server.controller.snapshot() == before
    assert len(device.pin.states) == history


async def test_action_when_the_device_stops_answering(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """A command the device never answers: a timeout error; the entity stays available."""
    client: DaybreakClient = init_integration.runtime_data.client
    client._timeout = 0.3
    release = asyncio.Event()
    execute = device.server.execute

    async def hang(event: str, payload: Any) -> Any:
        await release.wait()
        return await execute(event, payload)

    with patch.object(device.server, "execute", hang), pytest.raises(HomeAssistantError) as exc:
        await start_sunrise(hass, duration=60)
    assert exc.value.translation_domain == DOMAIN
    assert exc.value.translation_key == "timeout"
    assert str(exc.value) == NO_ANSWER
    assert hass.states.get(ENTITY_ID).state == STATE_OFF  # the connection is fine

    # The device gets to the command late and carries it out; the state it pushes
    # shows what the device really did.
    release.set()
    await wait_for(lambda: device.server.controller.snapshot()["sunrise"] is not None)
    state = await wait_for_state(hass, lambda s: s.state == STATE_ON)
    assert state.attributes[ATTR_EFFECT] == EFFECT_SUNRISE


async def test_action_when_the_device_is_stopped(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    """A stopped device makes the light unavailable; a call that still gets through fails."""
    entity = light_entity(hass)
    await device.stop()
    await wait_for_state(hass, lambda s: s.state == STATE_UNAVAILABLE)
    # HA skips unavailable entities in entity actions: nothing is sent, nothing raised.
    await start_sunrise(hass)
    # A call already dispatched to the entity (as when the device dies mid-call)
    # fails with the translated connection error.
    with pytest.raises(HomeAssistantError) as exc:
        await entity.async_start_sunrise(duration=60)
    assert exc.value.translation_key == "communication_error"
    assert str(exc.value) == NOT_CONNECTED
    with pytest.raises(HomeAssistantError) as exc:
        await entity.async_stop_sunrise()
    assert exc.value.translation_key == "communication_error"


async def test_action_refused_by_the_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    refusal = {"ok": False, "error": {"code": "internal_error", "message": "LED driver failed"}}
    with (
        device_answers(init_integration.runtime_data.client, refusal),
        pytest.raises(HomeAssistantError) as exc,
    ):
        await start_sunrise(hass, duration=60)
    assert exc.value.translation_domain == DOMAIN
    assert exc.value.translation_key == "command_refused"
    assert exc.value.translation_placeholders == {
        "code": "internal_error",
        "message": "LED driver failed",
    }
    assert str(exc.value) == (
        "The Daybreak device refused the command (internal_error): LED driver failed"
    )
    assert device.server.controller.snapshot()["sunrise"] is None
    # A refused command does not make the light unavailable.
    assert hass.states.get(ENTITY_ID).state != STATE_UNAVAILABLE


async def test_action_with_a_refused_token_starts_reauth(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    refusal = {"ok": False, "error": {"code": "unauthorized", "message": "wrong token"}}
    with (
        device_answers(init_integration.runtime_data.client, refusal),
        pytest.raises(HomeAssistantError) as exc,
    ):
        await stop_sunrise(hass)
    assert exc.value.translation_key == "invalid_auth"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
