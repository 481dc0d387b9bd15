"""LLM tools: the voice actions of :mod:`.actions` for LLM conversation agents.

Registered with ``llm.async_register_api`` as the API ``daybreak`` ("Daybreak wake-up
light"), which a conversation agent (OpenAI, Anthropic, Ollama ...) can be given
beside or instead of Assist. Each tool is a row of :data:`TOOLS`: a name, a
description, a voluptuous parameter schema and a function; adding one (snooze,
dismiss, sunset) is a row and a function. A tool answers with what it did, or with
``error`` and a sentence saying why it could not.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING and sys.version_info >= (3, 14):
    # Home Assistant 2026.10 and later (on Python 3.14) type their tools with probatio,
    # which voluptuous maps onto at run time (see services.py).
    import probatio as vol
else:
    import voluptuous as vol

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import llm
from homeassistant.util.json import JsonObjectType

from . import actions
from .const import DOMAIN, WEEKDAY_NAMES

API_ID = DOMAIN
API_NAME = "Daybreak wake-up light"
API_PROMPT = (
    "You control Daybreak wake-up lights: an alarm is a sunrise that ends at the wake "
    "time, run by the light itself. Times are 24-hour HH:MM in the light's time zone. "
    "A one-off alarm has a date (it rings once); a weekly one has weekdays. Leave "
    "'light' out when there is one Daybreak light."
)

_LIGHT = vol.Optional("light", description="The Daybreak light's name; leave out for the only one")
_TIME_TEXT = "Wake time, 24-hour HH:MM (06:30)"

ToolFunction = Callable[[HomeAssistant, dict[str, Any]], Awaitable[JsonObjectType]]


def _time(value: Any) -> time:
    """A 24-hour ``HH:MM`` (or ``H:MM``) time of day."""
    try:
        hour, minute = (int(part) for part in str(value).split(":"))
    except ValueError:
        raise actions.ActionError(f"{value} is not a time as HH:MM.") from None
    return actions.wake_time(hour, minute)


def _date(value: str, light_name: str | None, hass: HomeAssistant, at: time) -> date:
    """A date: ``YYYY-MM-DD``, ``today``, ``tomorrow`` or a weekday (the next one)."""
    if value in ("today", "tomorrow", *WEEKDAY_NAMES):
        return actions.next_date(actions.find_light(hass, light_name), at, value)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise actions.ActionError(f"{value} is not a date as YYYY-MM-DD.") from None


def _alarm(alarm: Any) -> JsonObjectType:
    upcoming = alarm.next_sunrise
    return {
        "alarm_id": alarm.id,
        "time": alarm.time,
        "date": None if alarm.date is None else alarm.date.isoformat(),
        "weekdays": None if alarm.date is not None else [WEEKDAY_NAMES[d] for d in alarm.weekdays],
        "enabled": alarm.enabled,
        "sunrise_minutes": round(alarm.duration / 60),
        "next_wake_up": None if upcoming is None else upcoming.wake_at.isoformat(),
    }


async def _set_alarm(hass: HomeAssistant, args: dict[str, Any]) -> JsonObjectType:
    at = _time(args["time"])
    light = args.get("light")
    day = None if "date" not in args else _date(args["date"], light, hass, at)
    weekdays = args.get("weekdays")
    result = await actions.async_set_alarm(
        hass,
        light_name=light,
        at=at,
        on_date=day,
        weekdays=None if weekdays is None else [WEEKDAY_NAMES.index(d) for d in weekdays],
        sunrise_minutes=args.get("sunrise_minutes"),
    )
    return {"light": result.light.name, "alarm": _alarm(result.alarm), "said": result.speech()}


async def _skip_next_alarm(hass: HomeAssistant, args: dict[str, Any]) -> JsonObjectType:
    result = await actions.async_skip_next_alarm(hass, light_name=args.get("light"))
    return {"light": result.light.name, "alarm": _alarm(result.alarm), "said": result.speech()}


async def _cancel_alarm(hass: HomeAssistant, args: dict[str, Any]) -> JsonObjectType:
    at = None if "time" not in args else _time(args["time"])
    result = await actions.async_cancel_alarm(hass, light_name=args.get("light"), at=at)
    return {
        "light": result.light.name,
        "alarm": _alarm(result.alarm),
        "deleted": result.deleted,
        "said": result.speech(),
    }


async def _start_sunrise(hass: HomeAssistant, args: dict[str, Any]) -> JsonObjectType:
    result = await actions.async_start_sunrise(
        hass, light_name=args.get("light"), minutes=args.get("minutes")
    )
    return {
        "light": result.light.name,
        "sunrise_minutes": round(result.seconds / 60),
        "said": result.speech(),
    }


async def _start_sunset(hass: HomeAssistant, args: dict[str, Any]) -> JsonObjectType:
    result = await actions.async_start_sunset(
        hass, light_name=args.get("light"), minutes=args.get("minutes")
    )
    return {
        "light": result.light.name,
        "sunset_minutes": round(result.seconds / 60),
        "said": result.speech(),
    }


async def _snooze(hass: HomeAssistant, args: dict[str, Any]) -> JsonObjectType:
    result = await actions.async_snooze(hass, light_name=args.get("light"))
    return {
        "light": result.light.name,
        "snooze_minutes": result.minutes,
        "wake_at": None if result.wake_at is None else result.wake_at.isoformat(),
        "said": result.speech(),
    }


async def _dismiss(hass: HomeAssistant, args: dict[str, Any]) -> JsonObjectType:
    result = await actions.async_dismiss(hass, light_name=args.get("light"))
    return {"light": result.light.name, "on": result.on, "said": result.speech()}


async def _next_wake_up(hass: HomeAssistant, args: dict[str, Any]) -> JsonObjectType:
    result = await actions.async_next_wake_up(hass, light_name=args.get("light"))
    return {
        "lights": [
            {
                "light": light.name,
                "next_wake_up": None if at is None else at.isoformat(),
                "alarm": None if alarm is None else _alarm(alarm),
            }
            for light, alarm, at in result.lights
        ],
        "said": result.speech(),
    }


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool: its name, description, parameters and function."""

    name: str
    description: str
    parameters: dict[Any, Any]
    function: ToolFunction


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "daybreak__set_alarm",
        "Set a wake-up alarm on a Daybreak light: a sunrise that ends at the wake time. "
        "Give a date for one wake-up (one-off) or weekdays for a weekly alarm, not both; "
        "with neither, the next time it is that time of day.",
        {
            vol.Required("time", description=_TIME_TEXT): str,
            vol.Optional(
                "date",
                description="One-off alarm: YYYY-MM-DD, 'today', 'tomorrow' or a weekday "
                "(mon..sun, the next one)",
            ): str,
            vol.Optional("weekdays", description="Weekly alarm: the days it rings"): [
                vol.In(list(WEEKDAY_NAMES))
            ],
            vol.Optional("sunrise_minutes", description="Sunrise length, 1-180 minutes"): vol.All(
                vol.Coerce(float), vol.Range(min=1, max=180)
            ),
            _LIGHT: str,
        },
        _set_alarm,
    ),
    ToolSpec(
        "daybreak__skip_next_alarm",
        "Skip the next wake-up of a Daybreak light once (the alarm stays for later days).",
        {_LIGHT: str},
        _skip_next_alarm,
    ),
    ToolSpec(
        "daybreak__cancel_alarm",
        "Cancel the next Daybreak alarm, or the one at a time: a one-off alarm is "
        "deleted, a weekly one is turned off and kept.",
        {vol.Optional("time", description=_TIME_TEXT): str, _LIGHT: str},
        _cancel_alarm,
    ),
    ToolSpec(
        "daybreak__start_sunrise",
        "Start a sunrise on a Daybreak light now (the light fades up).",
        {
            vol.Optional("minutes", description="Sunrise length, 1-180 minutes"): vol.All(
                vol.Coerce(float), vol.Range(min=1, max=180)
            ),
            _LIGHT: str,
        },
        _start_sunrise,
    ),
    ToolSpec(
        "daybreak__start_sunset",
        "Start a sunset on a Daybreak light now: it fades to off, to fall asleep by.",
        {
            vol.Optional("minutes", description="Sunset length, 1-180 minutes"): vol.All(
                vol.Coerce(float), vol.Range(min=1, max=180)
            ),
            _LIGHT: str,
        },
        _start_sunset,
    ),
    ToolSpec(
        "daybreak__snooze",
        "Snooze the Daybreak alarm that is ringing: the light dims for the snooze length "
        "(9 minutes unless set otherwise), then the sunrise goes on and ends that much later.",
        {_LIGHT: str},
        _snooze,
    ),
    ToolSpec(
        "daybreak__dismiss",
        "Dismiss the Daybreak alarm that is ringing (the user is up).",
        {_LIGHT: str},
        _dismiss,
    ),
    ToolSpec(
        "daybreak__next_wake_up",
        "When the next Daybreak wake-up alarm rings (of every light, or the one named).",
        {_LIGHT: str},
        _next_wake_up,
    ),
)


def _tool_result(data: JsonObjectType, *, error: bool = False) -> Any:
    """A tool's result: ``llm.ToolResult`` where Home Assistant has it (2026.10), else the data."""
    result_type = getattr(llm, "ToolResult", None)
    if result_type is None:
        return data if not error else {"error": True, **data}
    return result_type(data=data, error=error)


class DaybreakTool(llm.Tool):
    """One :class:`ToolSpec` as an LLM tool."""

    integration = DOMAIN

    def __init__(self, spec: ToolSpec) -> None:
        """Offer ``spec``."""
        self.spec = spec
        self.name = spec.name
        self.description = spec.description
        self.parameters = vol.Schema(spec.parameters)

    async def async_call(
        self, hass: HomeAssistant, tool_input: llm.ToolInput, llm_context: llm.LLMContext
    ) -> Any:
        """Do it; the answer says what was done, or (``error``) why it could not be."""
        args = self.parameters(tool_input.tool_args)
        try:
            return _tool_result(await self.spec.function(hass, args))
        except actions.ActionError as err:
            return _tool_result({"message": str(err)}, error=True)


class DaybreakAPI(llm.API):
    """The Daybreak tools for LLM agents."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Create the API."""
        super().__init__(hass=hass, id=API_ID, name=API_NAME)

    async def async_get_api_instance(self, llm_context: llm.LLMContext) -> llm.APIInstance:
        """The tools, with a prompt saying what they are for."""
        return llm.APIInstance(
            api=self,
            api_prompt=API_PROMPT,
            llm_context=llm_context,
            tools=[DaybreakTool(spec) for spec in TOOLS],
        )


@callback
def async_setup_llm_api(hass: HomeAssistant) -> None:
    """Register the Daybreak LLM API (once per Home Assistant run)."""
    if all(api.id != API_ID for api in llm.async_get_apis(hass)):
        llm.async_register_api(hass, DaybreakAPI(hass))
