"""Colour end to end: HA light colour modes → real device with a mock pin per channel → HA state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from homeassistant.components.light import (
    ATTR_COLOR_MODE,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_HS_COLOR,
    ATTR_MAX_COLOR_TEMP_KELVIN,
    ATTR_MIN_COLOR_TEMP_KELVIN,
    ATTR_RGB_COLOR,
    ATTR_SUPPORTED_COLOR_MODES,
    DOMAIN as LIGHT_DOMAIN,
    ColorMode,
)
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN, SERVICE_SELECT_OPTION
from homeassistant.const import ATTR_ENTITY_ID, ATTR_OPTION, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.daybreak.const import DOMAIN

from .common import ENTITY_ID, wait_for, wait_for_state
from .conftest import Device, make_config_entry

CCT = (("warm", "18"), ("cool", "19"))
RGB = (("red", "17"), ("green", "27"), ("blue", "22"))
RGBW = (*RGB, ("white", "23"))
SELECT_ID = "select.bedroom_sunrise_colour"


async def setup(hass: HomeAssistant, device: Device) -> MockConfigEntry:
    entry = make_config_entry(device)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def turn_on(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: ENTITY_ID, **data}, blocking=True
    )


async def test_a_cct_light_has_colour_temperature(
    hass: HomeAssistant, start_device: Callable[..., Awaitable[Device]]
) -> None:
    device = await start_device(channels=CCT)
    await setup(hass, device)
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.attributes[ATTR_SUPPORTED_COLOR_MODES] == [ColorMode.COLOR_TEMP]
    assert state.attributes[ATTR_MIN_COLOR_TEMP_KELVIN] == 2700
    assert state.attributes[ATTR_MAX_COLOR_TEMP_KELVIN] == 6500
    await turn_on(hass, color_temp_kelvin=6500, brightness=255)
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_COLOR_TEMP_KELVIN) == 6500)
    assert state.attributes[ATTR_COLOR_MODE] == ColorMode.COLOR_TEMP
    # All cool white at full: the device's channels show it.
    assert device.duties == {"warm": 0.0, "cool": pytest.approx(1.0)}
    await turn_on(hass, color_temp_kelvin=2700)
    await wait_for_state(hass, lambda s: s.attributes.get(ATTR_COLOR_TEMP_KELVIN) == 2700)
    assert device.duties == {"warm": pytest.approx(1.0), "cool": 0.0}  # brightness kept


@pytest.mark.parametrize("channels", [RGB, RGBW])
async def test_an_rgb_light_has_hs_and_colour_temperature(
    hass: HomeAssistant, start_device: Callable[..., Awaitable[Device]], channels: Any
) -> None:
    device = await start_device(channels=channels)
    await setup(hass, device)
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert set(state.attributes[ATTR_SUPPORTED_COLOR_MODES]) == {ColorMode.COLOR_TEMP, ColorMode.HS}
    assert (
        state.attributes[ATTR_MIN_COLOR_TEMP_KELVIN],
        state.attributes[ATTR_MAX_COLOR_TEMP_KELVIN],
    ) == (2000, 6500)
    await turn_on(hass, rgb_color=(255, 0, 0), brightness=128)
    state = await wait_for_state(hass, lambda s: s.attributes.get(ATTR_COLOR_MODE) == ColorMode.HS)
    assert state.attributes[ATTR_RGB_COLOR] == (255, 0, 0)
    assert state.attributes[ATTR_HS_COLOR] == pytest.approx((0.0, 100.0), abs=0.5)
    duties = device.duties
    assert duties["red"] > 5 * duties["green"]
    assert device.server.controller.snapshot()["rgb_color"] == [255, 0, 0]
    await turn_on(hass, color_temp_kelvin=3000)
    state = await wait_for_state(
        hass, lambda s: s.attributes.get(ATTR_COLOR_MODE) == ColorMode.COLOR_TEMP
    )
    assert state.attributes[ATTR_COLOR_TEMP_KELVIN] == 3000
    assert device.server.controller.snapshot()["color_temp_kelvin"] == 3000


async def test_a_single_channel_light_stays_brightness_only(
    hass: HomeAssistant,
    start_device: Callable[..., Awaitable[Device]],
    entity_registry: er.EntityRegistry,
) -> None:
    device = await start_device()
    await setup(hass, device)
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.attributes[ATTR_SUPPORTED_COLOR_MODES] == [ColorMode.BRIGHTNESS]
    assert hass.states.get(SELECT_ID) is None


async def test_a_sunrise_shows_its_colour_live_and_follows_the_select(
    hass: HomeAssistant,
    start_device: Callable[..., Awaitable[Device]],
    hass_client: ClientSessionGenerator,
) -> None:
    device = await start_device(channels=RGB)
    entry = await setup(hass, device)
    assert hass.states.get(SELECT_ID).state == "sunrise"  # type: ignore[union-attr]
    await hass.services.async_call(
        DOMAIN,
        "start_sunrise",
        {ATTR_ENTITY_ID: ENTITY_ID, "duration": 600, "target_kelvin": 5000, "start_brightness": 30},
        blocking=True,
    )
    sunrise = device.server.controller.snapshot()["sunrise"]
    assert (sunrise["color_path"], sunrise["start_kelvin"], sunrise["target_kelvin"]) == (
        "sunrise",
        1000,
        5000,
    )
    # The light shows the dawn's red-orange, as the device reports it.
    state = await wait_for_state(
        hass, lambda s: (s.attributes.get(ATTR_COLOR_TEMP_KELVIN) or 0) > 1000
    )
    assert state.attributes[ATTR_COLOR_TEMP_KELVIN] < 1100
    first = state.attributes[ATTR_COLOR_TEMP_KELVIN]
    await wait_for_state(hass, lambda s: (s.attributes.get(ATTR_COLOR_TEMP_KELVIN) or 0) > first)
    assert device.duties["blue"] == 0.0
    # The select sets the default path of the next sunrise (the Sunrise effect too).
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: SELECT_ID, ATTR_OPTION: "warm"},
        blocking=True,
    )
    assert entry.options["sunrise_color"] == "warm"
    await turn_on(hass, effect="sunrise")
    await wait_for(
        lambda: (device.server.controller.snapshot()["sunrise"] or {}).get("color_path") == "warm"
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["device"]["channels"] == {
        "layout": "rgb",
        "names": ["red", "green", "blue"],
        "min_color_temp_kelvin": 2000,
        "max_color_temp_kelvin": 6500,
    }


async def test_set_alarm_takes_the_colour_path(
    hass: HomeAssistant, start_device: Callable[..., Awaitable[Device]]
) -> None:
    device = await start_device(channels=CCT)
    await setup(hass, device)
    await hass.services.async_call(
        DOMAIN,
        "set_alarm",
        {
            ATTR_ENTITY_ID: ENTITY_ID,
            "alarm_id": "dawn",
            "time": "06:30",
            "color_path": "white",
            "target_kelvin": 5000,
        },
        blocking=True,
        return_response=True,
    )
    alarm = device.server.alarms.payload(device.server.alarms.get("dawn"))
    assert (alarm["color_path"], alarm["start_kelvin"], alarm["target_kelvin"]) == (
        "white",
        None,
        5000,
    )
    await hass.services.async_call(
        DOMAIN,
        "set_alarm",
        {ATTR_ENTITY_ID: ENTITY_ID, "alarm_id": "dawn", "start_kelvin": 2700},
        blocking=True,
        return_response=True,
    )
    alarm = device.server.alarms.payload(device.server.alarms.get("dawn"))
    assert (alarm["color_path"], alarm["start_kelvin"]) == ("white", 2700)
