"""Diagnostics: the token is redacted; the rest is snapshotted (volatile values matched by type)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.const import CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type

from custom_components.daybreak.const import CONF_SUNRISE_CURVE, CONF_SUNRISE_DURATION
from daybreak_device import __version__ as device_version

from .common import FIXED_DEVICE_ID, fixed_id_state_dir, wait_for
from .conftest import TOKEN, Device, make_config_entry


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]], tmp_path: Path) -> Device:
    """A device with a fixed id, time zone and a fast heartbeat (so the uptime is known)."""
    return await start_device(
        state_dir=fixed_id_state_dir(tmp_path / "fixed-device"),
        heartbeat_interval=0.1,
        timezone="Europe/Berlin",
    )


@pytest.fixture
def mock_config_entry(device: Device) -> MockConfigEntry:
    """An entry for ``device``, with options."""
    return make_config_entry(device, **{CONF_SUNRISE_DURATION: 20, CONF_SUNRISE_CURVE: "ease_in"})


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    device: Device,
    snapshot: SnapshotAssertion,
) -> None:
    coordinator = init_integration.runtime_data
    await device.server.controller.set_light({"on": True, "brightness": 128})
    await coordinator.client.create_alarm(
        "06:30", alarm_id="workdays", weekdays=[0, 1, 2, 3, 4], enabled=False, duration=900
    )
    await wait_for(lambda: hass.states.get("light.bedroom").attributes.get(ATTR_BRIGHTNESS) == 128)
    await wait_for(lambda: coordinator.client.uptime is not None)  # a heartbeat came
    # A push that fails the protocol's schema is dropped, and counted in the diagnostics.
    await device.server.sio.emit("state", {"on": True, "brightness": 10**30, "level": 1})
    await wait_for(lambda: "state" in coordinator.client.dropped)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)

    assert diagnostics["entry"]["data"][CONF_TOKEN] == "**REDACTED**"
    assert TOKEN not in str(diagnostics)
    assert diagnostics["entry"]["data"][CONF_PORT] == device.port
    assert diagnostics["device"]["device_id"] == FIXED_DEVICE_ID
    assert diagnostics["device"]["sw_version"] == device_version
    assert diagnostics["connected"] is True
    assert [alarm["id"] for alarm in diagnostics["alarms"]] == ["workdays"]
    assert diagnostics["dropped_messages"] == {
        "state": {"count": 1, "last_error": "brightness: expected a whole number between 0 and 255"}
    }
    assert diagnostics == snapshot(
        matcher=path_type(
            {
                "entry.data.port": (int,),
                "device.sw_version": (str,),
                "device.uptime": (float,),
                "uptime": (float,),
            }
        )
    )
