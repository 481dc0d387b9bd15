"""Assist intents: what the sentences of ``custom_sentences/en/daybreak.yaml`` ask for.

Each intent is one row of :data:`INTENTS`: its type, its slots (validated by HA's
``intent`` helper before the handler runs) and a function that turns the slots into
an action of :mod:`.actions` and its answer. Adding one (snooze, dismiss, sunset) is a
row and a function. Registered from ``async_setup``, so they exist whether or not a
light is set up; with none, they say so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import voluptuous as vol
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, intent

from . import actions
from .const import WEEKDAY_NAMES

INTENT_SET_ALARM = "DaybreakSetAlarm"
INTENT_SKIP_NEXT_ALARM = "DaybreakSkipNextAlarm"
INTENT_CANCEL_ALARM = "DaybreakCancelAlarm"
INTENT_START_SUNRISE = "DaybreakStartSunrise"
INTENT_NEXT_WAKE_UP = "DaybreakNextWakeUp"
INTENT_START_SUNSET = "DaybreakStartSunset"
INTENT_SNOOZE = "DaybreakSnooze"
INTENT_DISMISS = "DaybreakDismiss"

#: Slots every intent takes: the light's name (the only light when not given).
_LIGHT: dict[Any, Any] = {vol.Optional("light"): cv.string}
#: A wake time: the hour, its minutes, and am/pm for a 12-hour clock. The ranges are
#: wider than a clock's so that "at 25:30" reaches the handler and is answered.
_TIME: dict[Any, Any] = {
    vol.Required("hour"): vol.All(vol.Coerce(int), vol.Range(0, 99)),
    vol.Optional("minute"): vol.All(vol.Coerce(int), vol.Range(0, 99)),
    vol.Optional("period"): vol.In(["am", "pm"]),
}
_DAY = vol.In(["today", "tomorrow", *WEEKDAY_NAMES])
_MINUTES = vol.All(vol.Coerce(float), vol.Range(min=0))

Answer = Callable[[HomeAssistant, dict[str, Any]], Awaitable[str]]


def _value(slots: dict[str, Any], key: str) -> Any:
    slot = slots.get(key)
    return None if slot is None else slot.get("value")


def _time(slots: dict[str, Any]) -> Any:
    return actions.wake_time(
        _value(slots, "hour"), _value(slots, "minute") or 0, _value(slots, "period")
    )


async def _set_alarm(hass: HomeAssistant, slots: dict[str, Any]) -> str:
    repeat = _value(slots, "repeat")
    result = await actions.async_set_alarm(
        hass,
        light_name=_value(slots, "light"),
        at=_time(slots),
        day=_value(slots, "day"),
        weekdays=None if repeat is None else actions.WEEKDAY_SETS[repeat],
        sunrise_minutes=_value(slots, "minutes"),
    )
    return result.speech()


async def _skip_next_alarm(hass: HomeAssistant, slots: dict[str, Any]) -> str:
    return (await actions.async_skip_next_alarm(hass, light_name=_value(slots, "light"))).speech()


async def _cancel_alarm(hass: HomeAssistant, slots: dict[str, Any]) -> str:
    at = None if "hour" not in slots else _time(slots)
    result = await actions.async_cancel_alarm(hass, light_name=_value(slots, "light"), at=at)
    return result.speech()


async def _start_sunrise(hass: HomeAssistant, slots: dict[str, Any]) -> str:
    result = await actions.async_start_sunrise(
        hass, light_name=_value(slots, "light"), minutes=_value(slots, "minutes")
    )
    return result.speech()


async def _start_sunset(hass: HomeAssistant, slots: dict[str, Any]) -> str:
    result = await actions.async_start_sunset(
        hass, light_name=_value(slots, "light"), minutes=_value(slots, "minutes")
    )
    return result.speech()


async def _snooze(hass: HomeAssistant, slots: dict[str, Any]) -> str:
    return (await actions.async_snooze(hass, light_name=_value(slots, "light"))).speech()


async def _dismiss(hass: HomeAssistant, slots: dict[str, Any]) -> str:
    return (await actions.async_dismiss(hass, light_name=_value(slots, "light"))).speech()


async def _next_wake_up(hass: HomeAssistant, slots: dict[str, Any]) -> str:
    return (await actions.async_next_wake_up(hass, light_name=_value(slots, "light"))).speech()


@dataclass(frozen=True, slots=True)
class IntentSpec:
    """One intent: its type, what it does, its slots and the function that answers."""

    intent_type: str
    description: str
    slots: dict[Any, Any]
    answer: Answer


INTENTS: tuple[IntentSpec, ...] = (
    IntentSpec(
        INTENT_SET_ALARM,
        "Sets a Daybreak wake-up alarm (a sunrise that ends at the time)",
        {
            **_LIGHT,
            **_TIME,
            vol.Optional("day"): _DAY,
            vol.Optional("repeat"): vol.In(list(actions.WEEKDAY_SETS)),
            vol.Optional("minutes"): _MINUTES,
        },
        _set_alarm,
    ),
    IntentSpec(
        INTENT_SKIP_NEXT_ALARM,
        "Skips the next Daybreak wake-up alarm (once)",
        _LIGHT,
        _skip_next_alarm,
    ),
    IntentSpec(
        INTENT_CANCEL_ALARM,
        "Cancels the next Daybreak alarm, or the one at a time",
        {
            **_LIGHT,
            vol.Optional("hour"): _TIME[vol.Required("hour")],
            **{k: v for k, v in _TIME.items() if k != "hour"},
        },
        _cancel_alarm,
    ),
    IntentSpec(
        INTENT_START_SUNRISE,
        "Starts a sunrise on a Daybreak light now",
        {**_LIGHT, vol.Optional("minutes"): _MINUTES},
        _start_sunrise,
    ),
    IntentSpec(
        INTENT_START_SUNSET,
        "Starts a sunset on a Daybreak light now (it fades to off)",
        {**_LIGHT, vol.Optional("minutes"): _MINUTES},
        _start_sunset,
    ),
    IntentSpec(
        INTENT_SNOOZE,
        "Snoozes the Daybreak alarm that is ringing (its sunrise)",
        _LIGHT,
        _snooze,
    ),
    IntentSpec(
        INTENT_DISMISS,
        "Dismisses the Daybreak alarm that is ringing (its sunrise)",
        _LIGHT,
        _dismiss,
    ),
    IntentSpec(
        INTENT_NEXT_WAKE_UP,
        "Tells when the next Daybreak wake-up alarm rings",
        _LIGHT,
        _next_wake_up,
    ),
)


class DaybreakIntentHandler(intent.IntentHandler):
    """Handles one :class:`IntentSpec`: validated slots in, a spoken answer out."""

    def __init__(self, spec: IntentSpec) -> None:
        """Handle ``spec``."""
        self.spec = spec
        self.intent_type = spec.intent_type
        self.description = spec.description

    @property
    def slot_schema(self) -> dict[Any, Any]:
        """The slots the intent takes."""
        return self.spec.slots

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Do the action; answer what was done, or why it could not be."""
        slots = self.async_validate_slots(intent_obj.slots)
        response = intent_obj.create_response()
        try:
            speech = await self.spec.answer(intent_obj.hass, slots)
        except actions.ActionError as err:
            response.async_set_error(intent.IntentResponseErrorCode.FAILED_TO_HANDLE, str(err))
            return response
        response.async_set_speech(speech)
        return response


@callback
def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the Daybreak intents."""
    for spec in INTENTS:
        intent.async_register(hass, DaybreakIntentHandler(spec))
