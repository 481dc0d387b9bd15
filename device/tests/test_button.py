"""The bedside button: mock pins driven low and high with real timing, on a real server.

The button pin is a gpiozero ``MockFactory`` pin of the same factory as the LED's; the
test drives it as a finger would (low while pressed: wired to ground, pulled up).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from daybreak_device.button import DEBOUNCE, DOUBLE_PRESS_WINDOW, LONG_PRESS
from daybreak_device.dimming import Dimmer
from daybreak_device.protocol import StartSunriseCommand
from helpers import Client, Device

BUTTON = "GPIO17"
CIE = Dimmer()
#: A short press: well above the debounce, well below a long press.
SHORT = 0.08
#: Between the two presses of a double press (well within its window).
GAP = 0.12
#: Long enough for a press to have been handled (the loop is never busy this long), and
#: past the double-press window, so the next press is a press of its own.
SETTLE = 0.5


@pytest.fixture
async def button_device(start_device: Callable[..., Awaitable[Device]]) -> Device:
    return await start_device(button_pin=BUTTON)


@pytest.fixture
def button(button_device: Device, pin_factory: MockFactory) -> MockPin:
    pin = pin_factory.pin(BUTTON)
    assert pin.state is True  # pulled up: high while not pressed
    return pin


async def press(pin: MockPin, hold: float = SHORT) -> None:
    pin.drive_low()
    await asyncio.sleep(hold)
    pin.drive_high()


async def double_press(pin: MockPin) -> None:
    await press(pin)
    await asyncio.sleep(GAP)
    await press(pin)


async def settled(device: Device) -> dict[str, Any]:
    await asyncio.sleep(SETTLE)
    return device.server.state()


def alarm_sunrise(duration: float = 600.0) -> StartSunriseCommand:
    return {"duration": duration, "target_brightness": 200.0, "start_brightness": 0.0,
            "curve": "linear"}  # fmt: skip


async def client_for(device: Device) -> Client:
    client = await Client.open(device.url)
    await client.wait_for_state(lambda s: True)
    return client


def presses(client: Client) -> list[str]:
    return [payload["press"] for name, payload in client.events if name == "button.press"]


def test_the_timing_constants() -> None:
    assert (LONG_PRESS, DOUBLE_PRESS_WINDOW, DEBOUNCE) == (1.0, 0.4, 0.02)
    assert DEBOUNCE < SHORT < LONG_PRESS
    assert GAP < DOUBLE_PRESS_WINDOW - SHORT
    assert SETTLE > DOUBLE_PRESS_WINDOW


# -- no alarm: toggle, off, sunset --------------------------------------------------------


async def test_a_short_press_toggles_the_light(button_device: Device, button: MockPin) -> None:
    client = await client_for(button_device)
    await press(button)
    state = await settled(button_device)
    assert (state["on"], state["level"]) == (True, 255.0)
    assert button_device.pin.state == pytest.approx(1.0)
    await press(button)
    state = await settled(button_device)
    assert (state["on"], state["level"]) == (False, 0.0)
    assert button_device.pin.state == 0.0
    await client.wait_for(lambda: len(presses(client)) == 4)
    assert presses(client) == ["press_start", "press_end"] * 2
    await client.sio.disconnect()


async def test_a_short_press_during_a_sunset_turns_the_light_off(
    button_device: Device, button: MockPin
) -> None:
    controller = button_device.server.controller
    await controller.set_light({"brightness": 150.0})
    await controller.start_sunset({"duration": 600.0, "start_brightness": None, "curve": "linear"})
    await press(button)
    state = await settled(button_device)
    assert (state["on"], state["level"], state["sunset"]) == (False, 0.0, None)


@pytest.mark.parametrize("on", [True, False])
async def test_a_long_press_turns_the_light_off(
    button_device: Device, button: MockPin, on: bool
) -> None:
    client = await client_for(button_device)
    await button_device.server.controller.set_light({"brightness": 120.0, "on": on})
    await press(button, hold=LONG_PRESS + 0.2)
    state = await settled(button_device)
    assert (state["on"], state["level"]) == (False, 0.0)
    assert button_device.pin.state == 0.0
    await client.wait_for(lambda: "long_press_end" in presses(client))
    assert presses(client) == ["press_start", "long_press_start", "long_press_end"]
    await client.sio.disconnect()


@pytest.mark.parametrize(("on", "start"), [(True, 100.0), (False, 100.0)])
async def test_a_double_press_starts_a_sunset_from_the_level_before_it(
    button_device: Device, button: MockPin, on: bool, start: float
) -> None:
    """On at 100: from 100 (the first press's toggle undone); off: from the last level."""
    client = await client_for(button_device)
    await button_device.server.controller.set_light({"brightness": 100.0, "on": on})
    await double_press(button)
    state = await settled(button_device)
    assert state["sunset"] is not None
    assert state["sunset"]["start_brightness"] == start
    assert state["sunset"]["duration"] == 1800.0
    assert state["on"] is True
    assert CIE.brightness(button_device.pin.state) == pytest.approx(start, abs=1)
    await client.wait_for(lambda: "multi_press_end" in presses(client))
    assert presses(client) == [
        "press_start",
        "press_end",
        "press_start",
        "multi_press_ongoing",
        "press_end",
        "multi_press_end",
    ]
    counts = [p.get("multi_press_count") for n, p in client.events if n == "button.press"]
    assert counts == [None, None, None, 2, None, 2]
    assert "sunset.started" in client.event_names()
    await client.sio.disconnect()


async def test_presses_further_apart_than_the_window_are_two_short_ones(
    button_device: Device, button: MockPin
) -> None:
    await press(button)
    await asyncio.sleep(DOUBLE_PRESS_WINDOW + 0.1)
    await press(button)
    state = await settled(button_device)
    assert (state["on"], state["sunset"]) == (False, None)  # on, then off again


async def test_contact_bounce_is_one_press(button_device: Device, button: MockPin) -> None:
    client = await client_for(button_device)
    # A bouncing contact: three closings within a few milliseconds (each edge is stamped
    # when the pin changes; the loop sees them all once this is done).
    for _ in range(3):
        button.drive_low()
        time.sleep(0.001)
        button.drive_high()
        time.sleep(0.001)
    button.drive_low()
    await asyncio.sleep(SHORT)
    button.drive_high()
    state = await settled(button_device)
    assert (state["on"], state["level"]) == (True, 255.0)
    assert presses(client) == ["press_start", "press_end"]
    await client.sio.disconnect()


# -- during an alarm: snooze, dismiss ----------------------------------------------------


async def test_a_short_press_snoozes_a_running_alarm_with_no_client_connected(
    button_device: Device, button: MockPin
) -> None:
    """No Socket.IO client (no Home Assistant) at all: the device snoozes by itself."""
    controller = button_device.server.controller
    await controller.start_sunrise(alarm_sunrise(), alarm_id="wake")
    await asyncio.sleep(0.2)
    await press(button)
    state = await settled(button_device)
    assert state["alarm"] is not None
    assert (state["alarm"]["alarm_id"], state["alarm"]["snoozes"]) == ("wake", 1)
    assert state["alarm"]["snoozed_until"] is not None
    assert state["sunrise"] is None
    assert (state["on"], state["level"]) == (False, 0.0)
    assert button_device.pin.state == 0.0
    # A second short press snoozes again.
    await press(button)
    state = await settled(button_device)
    assert state["alarm"]["snoozes"] == 2


async def test_a_long_press_dismisses_a_running_alarm(
    button_device: Device, button: MockPin
) -> None:
    client = await client_for(button_device)
    controller = button_device.server.controller
    await controller.start_sunrise({**alarm_sunrise(), "start_brightness": 90.0}, alarm_id="wake")
    await press(button, hold=LONG_PRESS + 0.1)
    state = await settled(button_device)
    # The press snoozed nothing (no short release) and the dismiss kept the level.
    assert (state["alarm"], state["sunrise"]) == (None, None)
    assert state["level"] == pytest.approx(90.0, abs=1)
    await client.wait_for(lambda: "alarm.dismissed" in client.event_names())
    assert "alarm.snoozed" not in client.event_names()
    await client.sio.disconnect()


async def test_a_double_press_during_an_alarm_starts_a_sunset(
    button_device: Device, button: MockPin
) -> None:
    controller = button_device.server.controller
    await controller.start_sunrise({**alarm_sunrise(), "start_brightness": 90.0}, alarm_id="w")
    await double_press(button)
    state = await settled(button_device)
    assert state["alarm"] is None  # the sunset took over
    assert state["sunset"]["start_brightness"] == pytest.approx(90.0, abs=1)


# -- set-up ------------------------------------------------------------------------------


async def test_a_button_pin_that_cannot_be_opened_is_logged_and_the_device_serves(
    start_device: Callable[..., Awaitable[Device]], caplog
) -> None:
    with caplog.at_level(logging.ERROR):
        device = await start_device(button_pin="GPIO18")  # the LED's pin
    assert device.server.button is None
    assert "Cannot read the bedside button on GPIO18" in caplog.text
    await device.server.controller.set_light({"brightness": 10.0})
    assert device.server.state()["level"] == 10.0


async def test_without_a_button_pin_there_is_no_button(device: Device) -> None:
    assert device.server.button is None
    assert device.server.info()["button"] is False


async def test_info_says_the_device_has_a_button(button_device: Device) -> None:
    assert button_device.server.button is not None
    assert button_device.server.info()["button"] is True
