"""Voice: typed sentences through Assist (``conversation``) reach the Daybreak intents.

The test configuration holds ``custom_sentences/en/daybreak.yaml`` (the file the README
tells users to copy); Home Assistant's default agent matches each sentence with hassil
and the integration's intent handlers act on the real device server (Europe/Berlin,
real clock: the dates below are computed as the device sees them).
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak import intents

from .common import wait_for
from .conftest import Device, make_config_entry

SENTENCES = Path(__file__).parents[1] / "custom_sentences" / "en" / "daybreak.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]]) -> Device:
    """A device in Berlin on the real clock."""
    return await start_device(timezone="Europe/Berlin")


@pytest.fixture
def mock_config_entry(device: Device) -> MockConfigEntry:
    """An entry with a 20-minute default sunrise."""
    return make_config_entry(device, sunrise_duration=20)


def _install(config: Path) -> None:
    folder = config / "custom_sentences" / "en"
    folder.mkdir(parents=True)
    shutil.copy(SENTENCES, folder)


@pytest.fixture
async def assist(hass: HomeAssistant, tmp_path: Path, init_integration: MockConfigEntry) -> None:
    """Assist with the Daybreak sentences in the configuration."""
    hass.config.config_dir = str(tmp_path / "config")
    await hass.async_add_executor_job(_install, Path(hass.config.config_dir))
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    await hass.async_block_till_done()


async def say(hass: HomeAssistant, text: str) -> tuple[str, str]:
    """Say ``text`` to Assist; return the response type and its spoken answer."""
    from homeassistant.components import conversation  # noqa: PLC0415 - needs hassil

    result = await conversation.async_converse(hass, text, None, Context(), language="en")
    response = result.response
    return response.response_type.value, response.speech["plain"]["speech"]


def alarms(device: Device) -> list[dict[str, Any]]:
    return [dict(alarm) for alarm in device.server.alarms.list_payload()]


def now() -> datetime:
    return datetime.now(BERLIN)


def next_day(hour: int, minute: int) -> date:
    """The date of the next ``hour:minute`` in Berlin."""
    today = now()
    return today.date() + timedelta(days=int((hour, minute) <= (today.hour, today.minute)))


def spoken(day: date) -> str:
    return f"{DAYS[day.weekday()]} {day.day} {day:%B}"


@pytest.mark.usefixtures("assist")
@pytest.mark.parametrize(
    ("text", "hour", "minute", "minutes"),
    [
        ("wake me up at 6:30", 6, 30, 20),
        ("Wake me at 7 tomorrow with a 25 minute sunrise", 7, 0, 25),
        ("set an alarm for 5:45 am", 5, 45, 20),
        ("set my wake-up alarm for 9 pm in the bedroom", 21, 0, 20),
        ("set a wake up alarm for 8:15 with a 40-minute sunrise", 8, 15, 40),
        ("wake me tomorrow at 6 o'clock", 6, 0, 20),
    ],
)
async def test_set_a_one_off_alarm_by_voice(  # noqa: PLR0917
    hass: HomeAssistant, device: Device, text: str, hour: int, minute: int, minutes: int
) -> None:
    kind, speech = await say(hass, text)
    assert kind == "action_done", speech
    [alarm] = alarms(device)
    day = now().date() + timedelta(days=1) if "tomorrow" in text else next_day(hour, minute)
    assert (alarm["time"], alarm["date"], alarm["duration"], alarm["enabled"]) == (
        f"{hour:02d}:{minute:02d}",
        day.isoformat(),
        minutes * 60.0,
        True,
    )
    assert speech.startswith(f"Bedroom will wake you at {hour:02d}:{minute:02d} ")
    assert spoken(day) in speech
    assert speech.endswith(f"with a {minutes}-minute sunrise.")


@pytest.mark.usefixtures("assist")
async def test_set_on_a_weekday_or_weekly_and_the_same_alarm_twice(
    hass: HomeAssistant, device: Device
) -> None:
    kind, _ = await say(hass, "Set an alarm for 5:45 am on Friday")
    assert kind == "action_done"
    assert date.fromisoformat(alarms(device)[0]["date"]).weekday() == 4
    await say(hass, "cancel the alarm at 5:45")
    kind, _ = await say(hass, "wake me up on friday at 6:10")
    assert kind == "action_done"
    friday = alarms(device)[0]
    assert date.fromisoformat(friday["date"]).weekday() == 4
    assert 0 <= (date.fromisoformat(friday["date"]) - now().date()).days <= 7

    kind, _ = await say(hass, "set an alarm every weekday at 6:45")
    assert kind == "action_done"
    weekly = next(a for a in alarms(device) if a["time"] == "06:45")
    assert (weekly["date"], weekly["weekdays"]) == (None, [0, 1, 2, 3, 4])
    await say(hass, "wake me at 9:00 on weekends")
    assert next(a for a in alarms(device) if a["time"] == "09:00")["weekdays"] == [5, 6]

    # The same alarm again is not a second one.
    await say(hass, "set an alarm every weekday at 6:45 with a 10 minute sunrise")
    assert [a["duration"] for a in alarms(device) if a["time"] == "06:45"] == [600.0]


@pytest.mark.usefixtures("assist")
@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("wake me up at 25:30", "25:30 is not a time of day."),
        ("set an alarm for 13 pm", "13:00 pm is not a time of day."),
        ("wake me up at 6:75", "6:75 is not a time of day."),
        ("wake me at 6:30 with a 500 minute sunrise", "A sunrise lasts 1 to 180 minutes, not 500."),
        (
            "wake me up at 6:30 in the kitchen",
            "There is no Daybreak light called kitchen. The lights are: Bedroom.",
        ),
    ],
)
async def test_wrong_times_and_unknown_lights_are_answered(
    hass: HomeAssistant, device: Device, text: str, answer: str
) -> None:
    kind, speech = await say(hass, text)
    assert (kind, speech) == ("error", answer)
    assert alarms(device) == []


@pytest.mark.usefixtures("assist")
async def test_when_is_my_next_wake_up(hass: HomeAssistant, device: Device) -> None:
    for text in ("when is my next alarm", "when will I wake up", "what time is my alarm"):
        assert await say(hass, text) == ("action_done", "No wake-up alarm is set.")
    await say(hass, "wake me at 7:20 tomorrow")
    tomorrow = now().date() + timedelta(days=1)
    expected = (
        f"Your next wake-up is at 07:20 tomorrow ({spoken(tomorrow)}) on Bedroom, "
        "with a 20-minute sunrise."
    )
    coordinator = hass.config_entries.async_entries("daybreak")[0].runtime_data
    await wait_for(lambda: coordinator.data.state.next_sunrise)
    for text in (
        "When is my next wake-up?",
        "when does my next alarm ring",
        "when is the next alarm in the bedroom",
    ):
        assert await say(hass, text) == ("action_done", expected)
    kind, speech = await say(hass, "when is the next alarm in the garage")
    assert (kind, speech) == (
        "error",
        "There is no Daybreak light called garage. The lights are: Bedroom.",
    )


@pytest.mark.usefixtures("assist")
async def test_skip_and_cancel_by_voice(hass: HomeAssistant, device: Device) -> None:
    assert await say(hass, "skip the next alarm") == (
        "error",
        "There is no alarm coming up on Bedroom.",
    )
    await say(hass, "set an alarm every day at 6:30")
    coordinator = hass.config_entries.async_entries("daybreak")[0].runtime_data
    await wait_for(lambda: coordinator.data.state.next_sunrise is not None)
    for text in ("skip my next wake-up", "no alarm tomorrow"):
        kind, speech = await say(hass, text)
        assert kind == "action_done"
        assert speech.startswith("Skipped the 06:30 alarm on Bedroom. The next one is at 06:30 ")
    assert alarms(device)[0]["skip_next"] is True

    # A weekly alarm cancelled is turned off and kept; a one-off one is deleted.
    kind, speech = await say(hass, "Turn off the alarm at 6:30")
    assert (kind, speech) == (
        "action_done",
        "Turned off the alarm at 06:30 every day on Bedroom; it stays in its list.",
    )
    assert alarms(device)[0]["enabled"] is False
    await say(hass, "wake me at 7:40 tomorrow")
    await wait_for(lambda: coordinator.data.state.next_sunrise is not None)
    kind, speech = await say(hass, "cancel my alarm")
    tomorrow = now().date() + timedelta(days=1)
    assert (kind, speech) == (
        "action_done",
        f"Cancelled the alarm at 07:40 on {spoken(tomorrow)} on Bedroom.",
    )
    assert [a["time"] for a in alarms(device)] == ["06:30"]
    assert await say(hass, "delete the alarm at 5:00") == (
        "error",
        "There is no alarm at 05:00 on Bedroom.",
    )


@pytest.mark.usefixtures("assist")
async def test_start_a_sunrise_by_voice(hass: HomeAssistant, device: Device) -> None:
    assert await say(hass, "start a sunrise") == (
        "action_done",
        "Starting a 20-minute sunrise on Bedroom.",
    )
    assert device.server.controller.snapshot()["sunrise"]["duration"] == 1200
    assert await say(hass, "Start a 10 minute sunrise") == (
        "action_done",
        "Starting a 10-minute sunrise on Bedroom.",
    )
    assert await say(hass, "start a 5 minute sunrise in the bedroom") == (
        "action_done",
        "Starting a 5-minute sunrise on Bedroom.",
    )
    assert device.server.controller.snapshot()["sunrise"]["duration"] == 300
    assert await say(hass, "start a 999 minute sunrise") == (
        "error",
        "A sunrise lasts 1 to 180 minutes, not 999.",
    )


async def test_the_intents_are_registered_and_validate_their_slots(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    registered = {handler.intent_type for handler in intent.async_get(hass)}
    assert {spec.intent_type for spec in intents.INTENTS} <= registered
    with pytest.raises(intent.InvalidSlotInfo):
        await intent.async_handle(
            hass, "test", intents.INTENT_SET_ALARM, {"hour": {"value": "six"}}
        )
    response = await intent.async_handle(
        hass, "test", intents.INTENT_SET_ALARM, {"hour": {"value": 6}, "day": {"value": "tue"}}
    )
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert date.fromisoformat(alarms(device)[0]["date"]).weekday() == 1


@pytest.mark.usefixtures("assist")
async def test_start_a_sunset_by_voice(hass: HomeAssistant, device: Device) -> None:
    await device.server.execute("light.set", {"brightness": 180})
    assert await say(hass, "start a sunset") == (
        "action_done",
        "Starting a 30-minute sunset on Bedroom.",
    )
    assert device.server.controller.snapshot()["sunset"]["duration"] == 1800
    assert await say(hass, "start a 10 minute sunset in the bedroom") == (
        "action_done",
        "Starting a 10-minute sunset on Bedroom.",
    )
    assert device.server.controller.snapshot()["sunset"]["duration"] == 600
    assert await say(hass, "start a 999 minute sunset") == (
        "error",
        "A sunset lasts 1 to 180 minutes, not 999.",
    )


@pytest.mark.usefixtures("assist")
async def test_snooze_and_dismiss_by_voice(hass: HomeAssistant, device: Device) -> None:
    """Outside an alarm both answer why and change nothing; during an alarm's sunrise
    "snooze" dims it for the snooze length and "I'm up" ends the alarm."""
    for text, verb in (("snooze", "snooze"), ("dismiss the alarm", "dismiss")):
        assert await say(hass, text) == (
            "error",
            f"No alarm is ringing on Bedroom: nothing to {verb}.",
        )
    assert device.server.state()["alarm"] is None

    await device.server.controller.start_sunrise(
        {
            "duration": 600.0,
            "target_brightness": 200.0,
            "start_brightness": 50.0,
            "curve": "linear",
        },
        alarm_id="wake",
    )
    kind, speech = await say(hass, "snooze the alarm")
    assert kind == "action_done"
    alarm = device.server.state()["alarm"]
    assert alarm["snoozes"] == 1
    wake = datetime.fromisoformat(alarm["wake_at"]).astimezone(BERLIN)
    assert speech == f"Snoozing Bedroom for 9 minutes; the sunrise now ends at {wake:%H:%M}."
    assert device.server.state()["brightness"] == 0  # the snooze level: off

    assert await say(hass, "I'm up") == (
        "action_done",
        "Good morning: the alarm on Bedroom is dismissed and the light is off.",
    )
    assert device.server.state()["alarm"] is None
