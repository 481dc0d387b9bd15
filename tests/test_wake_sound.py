"""The wake-sound blueprint ``wake_sound.yaml``: a Daybreak alarm's sunrise ends with a
sound whose volume rises, on HA's ``demo`` media player, with the real device firing."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers import selector
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .common import BERLIN, ENTITY_ID, MONDAY_5AM, ShiftedClock, wait_for
from .conftest import Device

BLUEPRINT_FILE = (
    Path(__file__).parents[1] / "blueprints" / "automation" / "daybreak" / "wake_sound.yaml"
)
BLUEPRINT = "daybreak/wake_sound.yaml"
PLAYER = "media_player.living_room"  # a demo player that plays media and sets its volume
EVENTS = "event.bedroom_sunrise_events"
AUTOMATION = "automation.wake_sound"
WAKE = datetime(2026, 11, 23, 6, 30, tzinfo=BERLIN).timestamp()


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(MONDAY_5AM)


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]], clock: ShiftedClock) -> Device:
    return await start_device(timezone="Europe/Berlin", clock=clock)


def _install(folder: Path) -> None:
    folder.mkdir(parents=True)
    shutil.copy(BLUEPRINT_FILE, folder)


@pytest.fixture
async def player(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[list[tuple[str, Any, Any]]]:
    """The demo media players and the blueprint; yields the player's changes.

    Each change is (state, volume, media content id).
    """
    hass.config.config_dir = str(tmp_path / "config")
    folder = Path(hass.config.path("blueprints", "automation", "daybreak"))
    await hass.async_add_executor_job(_install, folder)
    assert await async_setup_component(hass, "homeassistant", {})
    with patch(
        "homeassistant.components.demo.COMPONENTS_WITH_CONFIG_ENTRY_DEMO_PLATFORM",
        [Platform.MEDIA_PLAYER],
    ):
        entry = MockConfigEntry(domain="demo")
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert hass.states.get(PLAYER) is not None
    changes: list[tuple[str, Any, Any]] = []

    def record(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and state.entity_id == PLAYER:
            changes.append(
                (
                    state.state,
                    state.attributes.get("volume_level"),
                    state.attributes.get("media_content_id"),
                )
            )

    remove = hass.bus.async_listen("state_changed", record)
    yield changes
    remove()
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )


async def setup_automation(hass: HomeAssistant, **inputs: Any) -> None:
    config = {
        "id": "wake_sound",
        "alias": "Wake sound",
        "use_blueprint": {
            "path": BLUEPRINT,
            "input": {
                "daybreak_events": EVENTS,
                "media_player": PLAYER,
                "media": {"media_content_id": "wake-up-song", "media_content_type": "music"},
                **inputs,
            },
        },
    }
    assert await async_setup_component(hass, "automation", {"automation": config})
    await hass.async_block_till_done()


def volumes(changes: list[tuple[str, Any, Any]]) -> list[float]:
    seen: list[float] = []
    for _, volume, _ in changes:
        if volume is not None and (not seen or seen[-1] != volume):
            seen.append(volume)
    return seen


async def test_blueprint_validates(
    hass: HomeAssistant, init_integration: MockConfigEntry, player: list[Any]
) -> None:
    await setup_automation(hass)
    blueprint = await async_get_blueprints(hass).async_get_blueprint(BLUEPRINT)
    assert blueprint.validate() is None
    assert blueprint.metadata["source_url"].endswith(
        "blueprints/automation/daybreak/wake_sound.yaml"
    )
    inputs = blueprint.inputs
    assert {key for key, spec in inputs.items() if "default" not in spec} == {
        "daybreak_events",
        "media_player",
        "media",
    }
    assert inputs["stop_event_types"]["default"] == [
        "sunrise_cancelled",
        "alarm_dismissed",
        "alarm_snoozed",
    ]
    for spec in inputs.values():
        selector.validate_selector(spec["selector"])
    # Every default is an event type the Sunrise events entity has.
    events = hass.states.get(EVENTS)
    assert events is not None
    assert set(inputs["stop_event_types"]["default"]) <= set(events.attributes["event_types"])


async def test_an_alarm_ends_with_a_rising_sound_that_a_stop_ends(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    clock: ShiftedClock,
    player: list[tuple[str, Any, Any]],
) -> None:
    await setup_automation(
        hass,
        lead_time={"minutes": 1},  # the sunrise lasts 1 min and is joined 30 s in: at once
        start_volume=10,
        end_volume=40,
        ramp_time={"seconds": 3},
    )
    await hass.services.async_call(
        "daybreak",
        "set_alarm",
        {"entity_id": ENTITY_ID, "alarm_id": "monday", "time": "06:30", "duration": 60},
        blocking=True,
    )
    clock.set(WAKE - 30)
    await device.server.alarms.check()  # the device fires the alarm (its sunrise joined)
    # alarm.fired, then sunrise.started: the event entity has moved on to the latter.
    await wait_for(
        lambda: hass.states.get(EVENTS).attributes.get("event_type") == "sunrise_started"
    )
    await wait_for(lambda: volumes(player)[-1:] == [0.4], timeout=15)
    assert volumes(player) == [0.1, 0.2, 0.3, 0.4]
    assert hass.states.get(PLAYER).attributes["media_content_id"] == "wake-up-song"
    assert hass.states.get(PLAYER).state == "playing"

    # Dismissing the alarm (here by the Dismiss button) stops the sound.
    await hass.services.async_call("daybreak", "dismiss", {"entity_id": ENTITY_ID}, blocking=True)
    await wait_for(lambda: hass.states.get(PLAYER).state == "off")


async def test_a_sunrise_by_hand_is_ignored_unless_asked(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    player: list[tuple[str, Any, Any]],
) -> None:
    await setup_automation(hass, ramp_time={"seconds": 1}, start_volume=20, end_volume=30)
    await hass.services.async_call(
        "daybreak", "start_sunrise", {"entity_id": ENTITY_ID, "duration": 1}, blocking=True
    )
    await wait_for(
        lambda: hass.states.get(EVENTS).attributes.get("event_type") == "sunrise_finished"
    )
    await hass.async_block_till_done()
    assert volumes(player) == []
    assert hass.states.get(AUTOMATION).attributes["last_triggered"] is None


async def test_a_sunrise_by_hand_when_asked_plays_at_its_end(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    player: list[tuple[str, Any, Any]],
) -> None:
    await setup_automation(
        hass,
        include_manual=True,
        ramp_time={"seconds": 2},
        start_volume=20,
        end_volume=30,
        daybreak_light=ENTITY_ID,
    )
    await hass.services.async_call(
        "daybreak", "start_sunrise", {"entity_id": ENTITY_ID, "duration": 2}, blocking=True
    )
    await wait_for(lambda: hass.states.get(AUTOMATION).attributes["last_triggered"] is not None)
    assert volumes(player) == []  # it waits for the end of the sunrise
    await wait_for(lambda: volumes(player)[-1:] == [0.3], timeout=15)
    assert volumes(player) == [0.2, 0.25, 0.3]
    assert hass.states.get(EVENTS).attributes.get("event_type") == "sunrise_finished"
    # Turning the light off stops it.
    await hass.services.async_call("light", "turn_off", {"entity_id": ENTITY_ID}, blocking=True)
    await wait_for(lambda: hass.states.get(PLAYER).state == "off")
