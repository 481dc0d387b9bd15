"""LLM tools: the Daybreak API as HA's LLM API lists it, each tool called with arguments.

No model: the tools are called as a conversation agent calls them
(``llm.async_get_api`` then ``async_call_tool``), and the real device is checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak.llm_api import API_ID, TOOLS

from .common import wait_for
from .conftest import Device, make_config_entry

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]]) -> Device:
    """A device in Berlin on the real clock."""
    return await start_device(timezone="Europe/Berlin")


@pytest.fixture
def mock_config_entry(device: Device) -> MockConfigEntry:
    return make_config_entry(device, sunrise_duration=20)


@pytest.fixture
async def api(hass: HomeAssistant, init_integration: MockConfigEntry) -> llm.APIInstance:
    context = llm.LLMContext(
        platform="test",
        context=Context(),
        language="en",
        assistant="conversation",
        device_id=None,
    )
    return await llm.async_get_api(hass, API_ID, context)


async def call(api: llm.APIInstance, name: str, **args: Any) -> tuple[bool, dict[str, Any]]:
    """Call a tool; return whether it failed and its data (either HA version's shape)."""
    result: Any = await api.async_call_tool(llm.ToolInput(tool_name=name, tool_args=args))
    if isinstance(result, dict):  # Home Assistant before ToolResult
        return bool(result.get("error")), result
    return result.error, dict(result.data)


def alarms(device: Device) -> list[dict[str, Any]]:
    return [dict(alarm) for alarm in device.server.alarms.list_payload()]


async def test_the_api_is_listed_with_described_tools(
    hass: HomeAssistant, api: llm.APIInstance
) -> None:
    assert API_ID in {listed.id for listed in llm.async_get_apis(hass)}
    assert [tool.name for tool in api.tools] == [spec.name for spec in TOOLS]
    assert "wake-up" in api.api_prompt
    for tool in api.tools:
        assert tool.description
        # Every parameter is described, for the LLM (the light's name on every tool).
        keys = {str(key): key for key in tool.parameters.schema}
        assert "light" in keys
        assert all(getattr(key, "description", None) for key in keys.values())
    set_alarm = next(tool for tool in api.tools if tool.name == "daybreak__set_alarm")
    with pytest.raises(Exception):  # noqa: B017 - vol.Invalid or probatio's
        set_alarm.parameters({"date": "tomorrow"})  # no time


async def test_set_alarm_tool_two_weeks_ahead_and_weekly(
    api: llm.APIInstance, device: Device
) -> None:
    day = datetime.now(BERLIN).date() + timedelta(days=14)
    failed, data = await call(
        api, "daybreak__set_alarm", time="06:30", date=day.isoformat(), sunrise_minutes=25
    )
    assert not failed, data
    [alarm] = alarms(device)
    assert (alarm["time"], alarm["date"], alarm["duration"]) == ("06:30", day.isoformat(), 1500.0)
    assert data["alarm"]["date"] == day.isoformat()
    assert data["alarm"]["next_wake_up"].startswith(f"{day.isoformat()}T06:30:00")
    assert data["said"].startswith("Bedroom will wake you at 06:30 on ")

    failed, data = await call(api, "daybreak__set_alarm", time="7:00", date="tomorrow")
    assert not failed
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    assert data["alarm"]["date"] == tomorrow.isoformat()

    failed, data = await call(api, "daybreak__set_alarm", time="07:15", weekdays=["mon", "fri"])
    assert not failed
    weekly = next(a for a in alarms(device) if a["time"] == "07:15")
    assert (weekly["date"], weekly["weekdays"], weekly["duration"]) == (None, [0, 4], 1200.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"time": "25:00"}, "25:00 is not a time of day."),
        ({"time": "soon"}, "soon is not a time as HH:MM."),
        ({"time": "06:30", "date": "2020-01-01"}, "06:30 on 2020-01-01 has passed already."),
        ({"time": "06:30", "date": "someday"}, "someday is not a date as YYYY-MM-DD."),
        (
            {"time": "06:30", "date": "tomorrow", "weekdays": ["mon"]},
            "Give a date or weekdays for the alarm, not both.",
        ),
        (
            {"time": "06:30", "light": "Kitchen"},
            "There is no Daybreak light called Kitchen. The lights are: Bedroom.",
        ),
    ],
)
async def test_set_alarm_tool_refusals(
    api: llm.APIInstance, device: Device, args: dict[str, Any], message: str
) -> None:
    failed, data = await call(api, "daybreak__set_alarm", **args)
    assert (failed, data["message"]) == (True, message)
    assert alarms(device) == []


async def test_skip_cancel_next_and_sunrise_tools(
    hass: HomeAssistant, api: llm.APIInstance, device: Device, init_integration: MockConfigEntry
) -> None:
    failed, data = await call(api, "daybreak__next_wake_up")
    assert (failed, data["said"]) == (False, "No wake-up alarm is set.")
    failed, data = await call(api, "daybreak__skip_next_alarm")
    assert (failed, data["message"]) == (True, "There is no alarm coming up on Bedroom.")

    await call(
        api,
        "daybreak__set_alarm",
        time="06:30",
        weekdays=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    )
    coordinator = init_integration.runtime_data
    await wait_for(lambda: coordinator.data.state.next_sunrise is not None)
    failed, data = await call(api, "daybreak__next_wake_up", light="bedroom")
    assert not failed
    assert data["lights"][0]["alarm"]["time"] == "06:30"
    assert data["lights"][0]["next_wake_up"][11:19] == "06:30:00"

    failed, data = await call(api, "daybreak__skip_next_alarm", light="Bedroom")
    assert not failed
    assert alarms(device)[0]["skip_next"] is True

    failed, data = await call(api, "daybreak__cancel_alarm", time="06:30")
    assert (failed, data["deleted"]) == (False, False)
    assert alarms(device)[0]["enabled"] is False

    failed, data = await call(api, "daybreak__start_sunrise", minutes=5)
    assert (failed, data["sunrise_minutes"]) == (False, 5)
    assert device.server.controller.snapshot()["sunrise"]["duration"] == 300


async def test_sunset_snooze_and_dismiss_tools(api: llm.APIInstance, device: Device) -> None:
    failed, data = await call(api, "daybreak__snooze")
    assert (failed, data["message"]) == (True, "No alarm is ringing on Bedroom: nothing to snooze.")
    failed, data = await call(api, "daybreak__dismiss", light="Bedroom")
    assert (failed, data["message"]) == (
        True,
        "No alarm is ringing on Bedroom: nothing to dismiss.",
    )

    await device.server.controller.start_sunrise(
        {
            "duration": 600.0,
            "target_brightness": 200.0,
            "start_brightness": 50.0,
            "curve": "linear",
        },
        alarm_id="wake",
    )
    failed, data = await call(api, "daybreak__snooze")
    assert not failed
    assert data["snooze_minutes"] == 9
    assert datetime.fromisoformat(data["wake_at"]) == datetime.fromisoformat(
        device.server.state()["alarm"]["wake_at"]
    )
    failed, data = await call(api, "daybreak__dismiss")
    assert (failed, data["on"]) == (False, False)
    assert device.server.state()["alarm"] is None

    await device.server.execute("light.set", {"brightness": 120})
    failed, data = await call(api, "daybreak__start_sunset", minutes=15)
    assert (failed, data["sunset_minutes"]) == (False, 15)
    assert device.server.controller.snapshot()["sunset"]["duration"] == 900
