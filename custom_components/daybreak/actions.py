"""What a voice asks of a wake-up light: the actions behind the Assist intents and LLM tools.

Both ``intents.py`` (sentences matched by Assist) and ``llm_api.py`` (tools an LLM agent
calls) do these; they differ only in how they take their arguments and answer. Each
action finds the Daybreak light (by name, or the only one), acts on the device, and
returns what happened as plain data; a failure is an :class:`ActionError` whose
``str()`` is a sentence to say ("There is no Daybreak light called Kitchen.").

Times are the device's: "tomorrow" is tomorrow in the device's time zone, where its
alarms ring. Each action is one function here and one row in each of the tables of
``intents.py`` and ``llm_api.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .client import Alarm, DaybreakCommandError, DaybreakError, DaybreakState
from .const import DOMAIN, WEEKDAY_NAMES
from .coordinator import DaybreakConfigEntry, DaybreakCoordinator
from .protocol import (
    ALARM_DATE_AHEAD_MAX_DAYS,
    ALARM_DURATION_MAX,
    ALARM_DURATION_MIN,
    DEFAULT_SUNSET_DURATION,
    SUNRISE_DURATION_MAX,
    SUNRISE_DURATION_MIN,
    SUNSET_DURATION_MAX,
    SUNSET_DURATION_MIN,
)

#: Words for sets of weekdays a voice may give instead of a date.
WEEKDAY_SETS: dict[str, tuple[int, ...]] = {
    "every_day": (0, 1, 2, 3, 4, 5, 6),
    "weekdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class ActionError(Exception):
    """An action that cannot be done; the message is the answer to say."""


@dataclass(frozen=True, slots=True)
class Light:
    """A Daybreak light an action acts on: its name and coordinator."""

    name: str
    coordinator: DaybreakCoordinator

    @property
    def timezone(self) -> tzinfo:
        """The device's time zone (where its alarm times are), else Home Assistant's."""
        info = self.coordinator.client.info
        zone = None if info is None or not info.timezone else dt_util.get_time_zone(info.timezone)
        return zone or dt_util.get_default_time_zone()

    def now(self) -> datetime:
        """Now in the device's time zone."""
        return dt_util.now(self.timezone)


def find_light(hass: HomeAssistant, name: str | None) -> Light:
    """The Daybreak light called ``name`` (its title, any case); without one, the only one."""
    entries: list[DaybreakConfigEntry] = [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if getattr(entry, "runtime_data", None) is not None
    ]
    lights = [Light(entry.title, entry.runtime_data) for entry in entries]
    if name is not None and name.strip():
        wanted = _fold(name)
        found = [light for light in lights if _fold(light.name) in (wanted, f"the {wanted}")]
        found = found or [light for light in lights if _fold(f"the {light.name}") == wanted]
        if not found:
            known = ", ".join(light.name for light in lights) or "none"
            raise ActionError(
                f"There is no Daybreak light called {name.strip()}. The lights are: {known}."
            )
        return found[0]
    if not lights:
        raise ActionError("There is no Daybreak light set up.")
    if len(lights) > 1:
        raise ActionError(
            "Which Daybreak light? Say its name: " + ", ".join(light.name for light in lights) + "."
        )
    return lights[0]


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def wake_time(hour: int, minute: int = 0, period: str | None = None) -> time:
    """A time of day from its parts; ``period`` ``am``/``pm`` for a 12-hour clock.

    Raises :class:`ActionError` naming the time when it is none ("25:30").
    """
    shown = f"{hour}:{minute:02d}" + (f" {period}" if period else "")
    if period is not None:
        if not 1 <= hour <= 12 or not 0 <= minute <= 59:
            raise ActionError(f"{shown} is not a time of day.")
        hour = hour % 12 + (12 if period == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ActionError(f"{shown} is not a time of day.")
    return time(hour, minute)


def next_date(light: Light, at: time, day: str | None = None) -> date:
    """The date of the next ``at`` on ``day`` (``today``, ``tomorrow``, ``mon`` ...).

    Without a day, the next ``at`` from now (today, or tomorrow when it has passed).
    """
    now = light.now()
    today = now.date()
    if day == "today":
        if at <= now.time():
            raise ActionError(f"{at:%H:%M} today has passed already.")
        return today
    if day == "tomorrow":
        return today + timedelta(days=1)
    if day in WEEKDAY_NAMES:
        ahead = (WEEKDAY_NAMES.index(day) - today.weekday()) % 7
        if ahead == 0 and at <= now.time():
            ahead = 7
        return today + timedelta(days=ahead)
    if day is not None:
        raise ActionError(f"I don't know the day {day}.")
    return today if at > now.time() else today + timedelta(days=1)


def describe_alarm(alarm: Alarm) -> str:
    """An alarm in words: "06:30 on Tuesday 2 December", "07:00 on weekdays"."""
    return f"{alarm.time} {describe_days(alarm.weekdays, alarm.date)}"


def describe_days(weekdays: Sequence[int], day: date | None) -> str:
    """When an alarm rings, in words."""
    if day is not None:
        return f"on {_DAY_NAMES[day.weekday()]} {day.day} {day:%B}"
    for key, days in WEEKDAY_SETS.items():
        if tuple(weekdays) == days:
            return key.replace("_", " ") if key == "every_day" else f"on {key}"
    return "on " + ", ".join(f"{_DAY_NAMES[d]}s" for d in weekdays)


def describe_moment(light: Light, moment: datetime) -> str:
    """A wake-up moment in words, in the device's zone: "06:30 tomorrow (Tuesday 2 December)"."""
    local = moment.astimezone(light.timezone)
    ahead = (local.date() - light.now().date()).days
    day = f"{_DAY_NAMES[local.weekday()]} {local.day} {local:%B}"
    when = {0: "today", 1: "tomorrow"}.get(ahead)
    return f"{local:%H:%M} {when} ({day})" if when else f"{local:%H:%M} on {day}"


def _minutes(
    minutes: float | None, low: float, high: float, default: float, what: str = "sunrise"
) -> float:
    """Seconds for a duration in minutes within ``[low, high]`` seconds."""
    if minutes is None:
        return default
    seconds = float(minutes) * 60
    if not low <= seconds <= high:
        raise ActionError(f"A {what} lasts {low / 60:g} to {high / 60:g} minutes, not {minutes:g}.")
    return seconds


async def _device(light: Light, command: Any) -> Any:
    """Await a client command; a failure becomes an answer naming the light."""
    try:
        return await command
    except DaybreakError as err:
        message = getattr(err, "message", "") or "it did not answer"
        raise ActionError(f"{light.name} could not do that: {message}.") from err


# -- the actions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlarmSet:
    """What :func:`async_set_alarm` did."""

    light: Light
    alarm: Alarm
    created: bool

    def speech(self) -> str:
        """The answer: when it rings, with how long a sunrise."""
        upcoming = self.alarm.next_sunrise
        when = (
            describe_moment(self.light, upcoming.wake_at)
            if upcoming
            else describe_alarm(self.alarm)
        )
        minutes = round(self.alarm.duration / 60)
        return f"{self.light.name} will wake you at {when} with a {minutes}-minute sunrise."


async def async_set_alarm(
    hass: HomeAssistant,
    *,
    light_name: str | None,
    at: time,
    day: str | None = None,
    on_date: date | None = None,
    weekdays: Iterable[int] | None = None,
    sunrise_minutes: float | None = None,
) -> AlarmSet:
    """Set an alarm: one-off (the next ``at``, on ``day`` or ``on_date``) or weekly.

    An alarm the device has already for that time and date (or those weekdays) is
    enabled and given the new sunrise instead of adding a second one.
    """
    light = find_light(hass, light_name)
    coordinator = light.coordinator
    days = None if weekdays is None else tuple(sorted(set(weekdays)))
    if days is not None and (day is not None or on_date is not None):
        raise ActionError("Give a date or weekdays for the alarm, not both.")
    if days is not None and not days:
        raise ActionError("Give at least one weekday for the alarm.")
    when: date | None = None
    if days is None:
        when = on_date if on_date is not None else next_date(light, at, day)
        if when < light.now().date() or (when == light.now().date() and at <= light.now().time()):
            raise ActionError(f"{at:%H:%M} on {when.isoformat()} has passed already.")
        if (when - light.now().date()).days > ALARM_DATE_AHEAD_MAX_DAYS:
            raise ActionError("An alarm can be set at most a year ahead.")
    duration = _minutes(
        sunrise_minutes, ALARM_DURATION_MIN, ALARM_DURATION_MAX, coordinator.alarm_seconds
    )
    wake = at.strftime("%H:%M")
    same = next(
        (
            alarm
            for alarm in coordinator.data.alarms.values()
            if alarm.time == wake
            and alarm.date == when
            and (days is None or (alarm.date is None and alarm.weekdays == days))
        ),
        None,
    )
    if same is not None:
        alarms = await _device(
            light,
            coordinator.client.update_alarm(same.id, enabled=True, duration=duration),
        )
        alarm = next(alarm for alarm in alarms if alarm.id == same.id)
        return AlarmSet(light, alarm, created=False)
    alarm = await _device(
        light,
        coordinator.client.create_alarm(
            wake,
            weekdays=days,
            date=when,
            duration=duration,
            curve=coordinator.sunrise_curve,
        ),
    )
    return AlarmSet(light, alarm, created=True)


def _next_alarm(light: Light) -> Alarm | None:
    """The alarm whose sunrise comes next (the device's ``next_sunrise``)."""
    upcoming = light.coordinator.data.state.next_sunrise
    return None if upcoming is None else light.coordinator.data.alarms.get(upcoming.alarm_id)


@dataclass(frozen=True, slots=True)
class AlarmSkipped:
    """What :func:`async_skip_next_alarm` did."""

    light: Light
    alarm: Alarm

    def speech(self) -> str:
        """The answer: which wake-up is skipped, and the next one after it."""
        after = self.alarm.next_sunrise
        then = (
            f" The next one is at {describe_moment(self.light, after.wake_at)}."
            if after and self.alarm.date is None
            else ""
        )
        return f"Skipped the {self.alarm.time} alarm on {self.light.name}.{then}"


async def async_skip_next_alarm(hass: HomeAssistant, *, light_name: str | None) -> AlarmSkipped:
    """Skip the next alarm's next occurrence."""
    light = find_light(hass, light_name)
    alarm = _next_alarm(light)
    if alarm is None:
        raise ActionError(f"There is no alarm coming up on {light.name}.")
    alarms = await _device(light, light.coordinator.client.skip_next_alarm(alarm.id))
    skipped = next((a for a in alarms if a.id == alarm.id), alarm)
    return AlarmSkipped(light, skipped)


@dataclass(frozen=True, slots=True)
class AlarmCancelled:
    """What :func:`async_cancel_alarm` did: a one-off alarm deleted, a weekly one off."""

    light: Light
    alarm: Alarm
    deleted: bool

    def speech(self) -> str:
        """The answer."""
        what = describe_alarm(self.alarm)
        if self.deleted:
            return f"Cancelled the alarm at {what} on {self.light.name}."
        return f"Turned off the alarm at {what} on {self.light.name}; it stays in its list."


async def async_cancel_alarm(
    hass: HomeAssistant, *, light_name: str | None, at: time | None = None
) -> AlarmCancelled:
    """Cancel the next alarm, or the one at ``at``.

    A one-off alarm is deleted (it would never ring again); a weekly one is turned off
    and kept, so its days and sunrise are there to turn it on again.
    """
    light = find_light(hass, light_name)
    coordinator = light.coordinator
    if at is None:
        alarm = _next_alarm(light)
        if alarm is None:
            raise ActionError(f"There is no alarm coming up on {light.name}.")
    else:
        wake = at.strftime("%H:%M")
        matches = [a for a in coordinator.data.alarms.values() if a.time == wake and a.enabled]
        if not matches:
            raise ActionError(f"There is no alarm at {wake} on {light.name}.")
        alarm = min(
            matches,
            key=lambda a: (
                a.next_sunrise.wake_at
                if a.next_sunrise
                else datetime.max.replace(tzinfo=light.timezone)
            ),
        )
    if alarm.date is not None:
        await _device(light, coordinator.client.delete_alarm(alarm.id))
        return AlarmCancelled(light, alarm, deleted=True)
    await _device(light, coordinator.client.update_alarm(alarm.id, enabled=False))
    return AlarmCancelled(light, alarm, deleted=False)


@dataclass(frozen=True, slots=True)
class SunriseStarted:
    """What :func:`async_start_sunrise` did."""

    light: Light
    seconds: float

    def speech(self) -> str:
        """The answer."""
        return f"Starting a {round(self.seconds / 60)}-minute sunrise on {self.light.name}."


async def async_start_sunrise(
    hass: HomeAssistant, *, light_name: str | None, minutes: float | None = None
) -> SunriseStarted:
    """Start a sunrise now (the options' duration and curve unless given)."""
    light = find_light(hass, light_name)
    coordinator = light.coordinator
    # In whole minutes, as people say them (the device takes a second or more).
    seconds = _minutes(
        minutes, max(60.0, SUNRISE_DURATION_MIN), SUNRISE_DURATION_MAX, coordinator.sunrise_seconds
    )
    await _device(
        light,
        coordinator.client.start_sunrise(duration=seconds, curve=coordinator.sunrise_curve),
    )
    return SunriseStarted(light, seconds)


@dataclass(frozen=True, slots=True)
class SunsetStarted:
    """What :func:`async_start_sunset` did."""

    light: Light
    seconds: float

    def speech(self) -> str:
        """The answer."""
        return f"Starting a {round(self.seconds / 60)}-minute sunset on {self.light.name}."


async def async_start_sunset(
    hass: HomeAssistant, *, light_name: str | None, minutes: float | None = None
) -> SunsetStarted:
    """Fade the light to off (the device's default length, 30 minutes, unless given)."""
    light = find_light(hass, light_name)
    seconds = _minutes(
        minutes, SUNSET_DURATION_MIN, SUNSET_DURATION_MAX, DEFAULT_SUNSET_DURATION, "sunset"
    )
    await _device(
        light,
        light.coordinator.client.start_sunset(
            duration=seconds, curve=light.coordinator.sunrise_curve
        ),
    )
    return SunsetStarted(light, seconds)


@dataclass(frozen=True, slots=True)
class Snoozed:
    """What :func:`async_snooze` did: the alarm's new wake time."""

    light: Light
    minutes: int
    wake_at: datetime | None

    def speech(self) -> str:
        """The answer."""
        wake = (
            ""
            if self.wake_at is None
            else f"; the sunrise now ends at {self.wake_at.astimezone(self.light.timezone):%H:%M}"
        )
        return f"Snoozing {self.light.name} for {self.minutes} minutes{wake}."


async def _alarm_command(light: Light, verb: str, snooze: bool) -> DaybreakState:
    """Snooze or dismiss; without an alarm in progress, an answer that says so."""
    client = light.coordinator.client
    try:
        return await (client.snooze() if snooze else client.dismiss())
    except DaybreakCommandError as err:
        if err.code == "no_alarm":
            raise ActionError(f"No alarm is ringing on {light.name}: nothing to {verb}.") from err
        raise ActionError(f"{light.name} could not do that: {err.message}.") from err
    except DaybreakError as err:
        raise ActionError(f"{light.name} could not do that: it did not answer.") from err


async def async_snooze(hass: HomeAssistant, *, light_name: str | None) -> Snoozed:
    """Snooze the alarm in progress."""
    light = find_light(hass, light_name)
    state = await _alarm_command(light, "snooze", snooze=True)
    alarm = state.alarm
    return Snoozed(
        light,
        round(state.wake_settings.snooze_length / 60),
        None if alarm is None else alarm.wake_at,
    )


@dataclass(frozen=True, slots=True)
class Dismissed:
    """What :func:`async_dismiss` did."""

    light: Light
    on: bool

    def speech(self) -> str:
        """The answer."""
        light = "stays on" if self.on else "is off"
        return f"Good morning: the alarm on {self.light.name} is dismissed and the light {light}."


async def async_dismiss(hass: HomeAssistant, *, light_name: str | None) -> Dismissed:
    """Dismiss the alarm in progress."""
    light = find_light(hass, light_name)
    state = await _alarm_command(light, "dismiss", snooze=False)
    return Dismissed(light, state.on)


@dataclass(frozen=True, slots=True)
class NextWakeUp:
    """What :func:`async_next_wake_up` found: the next alarm of each light asked about."""

    lights: list[tuple[Light, Alarm | None, datetime | None]]

    def speech(self) -> str:
        """The answer: the earliest wake-up, or that none is set."""
        coming = [(at, light, alarm) for light, alarm, at in self.lights if at is not None]
        if not coming:
            return "No wake-up alarm is set."
        at, light, alarm = min(coming, key=lambda item: item[0])
        minutes = "" if alarm is None else f", with a {round(alarm.duration / 60)}-minute sunrise"
        return f"Your next wake-up is at {describe_moment(light, at)} on {light.name}{minutes}."


async def async_next_wake_up(hass: HomeAssistant, *, light_name: str | None) -> NextWakeUp:
    """The next wake-up: of the light named, else of every Daybreak light."""
    if light_name is not None and light_name.strip():
        lights = [find_light(hass, light_name)]
    else:
        lights = [
            Light(entry.title, entry.runtime_data)
            for entry in hass.config_entries.async_entries(DOMAIN)
            if getattr(entry, "runtime_data", None) is not None
        ]
        if not lights:
            raise ActionError("There is no Daybreak light set up.")
    found: list[tuple[Light, Alarm | None, datetime | None]] = []
    for light in lights:
        upcoming = light.coordinator.data.state.next_sunrise
        alarm = None if upcoming is None else light.coordinator.data.alarms.get(upcoming.alarm_id)
        found.append((light, alarm, None if upcoming is None else upcoming.wake_at))
    return NextWakeUp(found)
