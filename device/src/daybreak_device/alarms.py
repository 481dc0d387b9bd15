"""Alarms: stored on the device and fired as sunrises that end at the wake time.

An alarm has a name (what people see; when it was given none it is named by its wake
time, which then follows the wake time), a local wake time (``HH:MM`` in the device's
time zone), weekdays
(0 Monday to 6 Sunday), an enabled flag and the sunrise it fires (duration, target
brightness, curve). Each weekday in the list gives one *occurrence* a day: its wake
time is ``HH:MM`` on that local date and its sunrise starts ``duration`` seconds of
real (elapsed) time earlier, so it may start on the previous date. The rules, also
in ``docs/protocol.md``:

* **DST gap**: a wake time the clocks jump over (02:30 when 02:00 becomes 03:00) moves
  forward by the length of the gap (to 03:30), as PEP 495 resolves it with ``fold=0``.
* **DST overlap**: a wake time that happens twice (02:30 when 03:00 becomes 02:00)
  fires once, at its first occurrence (``fold=0``, still summer time).
* **Fired once**: each alarm remembers the wake time of the last occurrence it fired
  (``last_wake``, persisted). An occurrence fires only if its wake time is later, so
  neither a restart nor a clock set backwards fires it again. A ``last_wake`` more
  than :data:`CLOCK_STEP_BACK_LIMIT` ahead of the clock means the clock went back by
  more than a day (or was wrong when the alarm fired); the device then forgets it.
* **Late**: an occurrence is due from its sunrise start until its wake time. Noticed
  late (the device was off, the clock jumped forward into the window, the alarm was
  created or changed inside it), it fires at once with its scheduled start, so it
  joins the sunrise at the level the schedule calls for and still ends at the wake
  time. An occurrence whose whole window was missed is not made up.
* **Skip**: ``skip_next`` marks the next occurrence that would fire (``skip_wake``,
  persisted): that one occurrence does not fire. A running sunrise is not touched.
* **One-off**: an alarm with a ``date`` has one occurrence, ``HH:MM`` on that local
  date (``weekdays`` then holds that date's weekday). When it fires, or when it has
  no occurrence left (its window was missed or skipped), it disables itself, logs it
  and pushes the changed alarm. A command that would leave an enabled one-off alarm
  with its wake time past is refused.

The scheduling functions are pure (alarm, zone, now); :class:`AlarmScheduler` owns the
alarms, runs the commands and fires the occurrences, waking at each sunrise start and
at least every :data:`RECHECK_INTERVAL` seconds to re-read the wall clock (so clock
jumps are noticed). It tells its listeners whenever what clients see of the alarms
changes: a command, an alarm firing, an occurrence or a skip passing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time as time_of_day, timedelta, tzinfo
from pathlib import Path
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .protocol import (
    ALARM_DATE_AHEAD_MAX_DAYS,
    ALARM_DURATION_REPORTED_MAX,
    ALARM_ID_MAX_LENGTH,
    ALARM_NAME_REPORTED_MAX_LENGTH,
    BRIGHTNESS_MAX,
    COLOR_PATHS,
    COLOR_TEMP_KELVIN_MAX,
    COLOR_TEMP_KELVIN_MIN,
    CURVES,
    MAX_ALARMS,
    AlarmPayload,
    AlarmSunrisePayload,
    ColorPath,
    CreateAlarmCommand,
    Curve,
    NextSunrisePayload,
    ProtocolError,
    UpdateAlarmCommand,
)
from .statefile import StorageError

_LOGGER = logging.getLogger(__name__)

#: The scheduler re-reads the wall clock at least this often (seconds).
RECHECK_INTERVAL = 5.0
#: A remembered ``last_wake`` further ahead of the clock than this is forgotten.
CLOCK_STEP_BACK_LIMIT = 24 * 3600.0
#: Two wake times closer than this (seconds) are the same occurrence.
_SAME_INSTANT = 0.5
#: Occurrences are searched this many local days ahead (a week, a skip, DST).
_SEARCH_DAYS = 16

FireCallback = Callable[["Alarm", "Occurrence"], Awaitable[None]]
#: ``datetime.date``, for :class:`Alarm`, whose field ``date`` hides the name.
_Date: TypeAlias = date


# -- time zones ------------------------------------------------------------------------


def load_timezone(name: str | None) -> tzinfo:
    """The zone called ``name`` (IANA, e.g. ``Europe/Berlin``); ``None``: the system's.

    Raises ``ValueError`` for an unknown name.
    """
    if name is None:
        return local_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


def local_timezone() -> tzinfo:
    """The system's zone: ``$TZ`` if it names one, else ``/etc/localtime``, else UTC."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    localtime = Path("/etc/localtime")
    with contextlib.suppress(OSError):
        parts = localtime.resolve(strict=True).parts
        if "zoneinfo" in parts:
            candidates.append("/".join(parts[parts.index("zoneinfo") + 1 :]))
    with contextlib.suppress(OSError, UnicodeDecodeError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        if name:
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError, OSError):
                return ZoneInfo(name)
    with contextlib.suppress(OSError, ValueError), localtime.open("rb") as handle:
        return ZoneInfo.from_file(handle, key="localtime")
    return UTC


def zone_name(tz: tzinfo) -> str:
    """The zone's IANA name (``key``), else its abbreviation."""
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) else tz.tzname(None) or "UTC"


def iso_local(timestamp: float, tz: tzinfo) -> str:
    """An epoch timestamp as ISO 8601 local time in ``tz`` with its offset."""
    return datetime.fromtimestamp(timestamp, tz).isoformat(timespec="seconds")


# -- alarms and their occurrences ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm: its settings and its fire/skip bookkeeping (epoch seconds)."""

    id: str
    time: str
    weekdays: tuple[int, ...]
    enabled: bool = True
    duration: float = 1800.0
    target_brightness: float = 255.0
    curve: Curve = "linear"
    #: Wake time of the latest occurrence fired; no occurrence up to it fires again.
    last_wake: float | None = None
    #: Wake time of the one occurrence to skip.
    skip_wake: float | None = None
    #: The name a client gave it; ``None``: it is named by its wake time.
    name: str | None = None
    #: A one-off alarm's local date; ``None``: weekly on ``weekdays``.
    date: _Date | None = None

    #: The sunrise's colour path and temperatures (``None``: the path's default).
    color_path: ColorPath = "sunrise"
    start_kelvin: float | None = None
    target_kelvin: float | None = None

    @property
    def display_name(self) -> str:
        """The name clients see: the one given, else the wake time ``HH:MM``."""
        return self.time if self.name is None else self.name

    @property
    def one_off(self) -> bool:
        """Whether the alarm fires once, on its ``date``."""
        return self.date is not None

    @property
    def hour(self) -> int:
        """The wake time's hour."""
        return int(self.time[:2])

    @property
    def minute(self) -> int:
        """The wake time's minute."""
        return int(self.time[3:])

    def to_json(self) -> dict[str, Any]:
        """The alarm as saved in the state file."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "time": self.time,
            "weekdays": list(self.weekdays),
            "date": None if self.date is None else self.date.isoformat(),
            "enabled": self.enabled,
            "duration": self.duration,
            "target_brightness": self.target_brightness,
            "curve": self.curve,
            "last_wake": self.last_wake,
            "skip_wake": self.skip_wake,
        }
        # The colour settings only when set: an alarm without them saves as before.
        if (self.color_path, self.start_kelvin, self.target_kelvin) != ("sunrise", None, None):
            data["color_path"] = self.color_path
            data["start_kelvin"] = self.start_kelvin
            data["target_kelvin"] = self.target_kelvin
        return data

    @classmethod
    def from_json(cls, data: Any) -> Alarm:
        """Rebuild an alarm saved by :meth:`to_json`; raise ``ValueError`` if malformed."""
        if not isinstance(data, dict):
            raise ValueError("alarm is not an object")
        alarm_id = data.get("id")
        if not isinstance(alarm_id, str) or not 1 <= len(alarm_id) <= ALARM_ID_MAX_LENGTH:
            raise ValueError("alarm id missing or invalid")
        settings = _stored_settings(data)
        marks = [data.get("last_wake"), data.get("skip_wake")]
        for mark in marks:
            if mark is not None and (
                isinstance(mark, bool)
                or not isinstance(mark, int | float)
                or not math.isfinite(mark)
            ):
                raise ValueError("alarm bookkeeping is not a finite number or null")
        last_wake, skip_wake = (None if m is None else float(m) for m in marks)
        return _alarm_from(alarm_id, settings, last_wake, skip_wake)


#: Saved alarms kept at start (a bound on a corrupt file, not the protocol's limit).
STORED_ALARMS_MAX = 1000
_STORED_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
#: Longest saved name kept (what a device may report); a longer or malformed one is
#: dropped (the alarm is named by its wake time), never the alarm.
STORED_NAME_MAX_LENGTH = ALARM_NAME_REPORTED_MAX_LENGTH


def _stored_settings(data: dict[str, Any]) -> dict[str, Any]:
    """An alarm's settings as saved in the state file; raise ``ValueError`` if unusable.

    This is the *stored* schema, deliberately apart from the wire schema of
    ``alarm.create``: it checks only what the scheduler needs to run an alarm, so a
    limit tightened on the wire (a shorter longest sunrise, say) never drops an alarm
    already saved on a device. Fields missing in older files take their defaults.
    """
    alarm_time = data.get("time")
    if not isinstance(alarm_time, str) or not _STORED_TIME.fullmatch(alarm_time):
        raise ValueError("time is not HH:MM")
    weekdays = data.get("weekdays", list(range(7)))
    if (
        not isinstance(weekdays, list)
        or not weekdays
        or len(set(weekdays)) != len(weekdays)
        or not all(type(day) is int and 0 <= day <= 6 for day in weekdays)
    ):
        raise ValueError("weekdays are not distinct days 0-6")
    one_off = data.get("date")  # missing in files from before one-off alarms: weekly
    if one_off is not None:
        if not isinstance(one_off, str):
            raise ValueError("date is not YYYY-MM-DD")
        try:
            one_off = date.fromisoformat(one_off)
        except ValueError:
            raise ValueError("date is not YYYY-MM-DD") from None
        weekdays = [one_off.weekday()]
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError("enabled is not a boolean")
    duration = _stored_number(data.get("duration", 1800.0), "duration")
    target = _stored_number(data.get("target_brightness", 255.0), "target_brightness")
    if not (0 < duration <= ALARM_DURATION_REPORTED_MAX and 0 < target <= BRIGHTNESS_MAX):
        raise ValueError("duration or target brightness out of range")
    curve = data.get("curve", "linear")
    if curve not in CURVES:
        raise ValueError("curve unknown")
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= STORED_NAME_MAX_LENGTH:
        name = None  # missing (saved before names), null or unusable: the wake time
    color_path = data.get("color_path", "sunrise")  # missing before protocol 4
    if color_path not in COLOR_PATHS:
        raise ValueError("colour path unknown")
    kelvins = [data.get("start_kelvin"), data.get("target_kelvin")]
    for kelvin in kelvins:
        if kelvin is not None and not (
            COLOR_TEMP_KELVIN_MIN <= _stored_number(kelvin, "kelvin") <= COLOR_TEMP_KELVIN_MAX
        ):
            raise ValueError("kelvin out of range")
    return {
        "name": name,
        "color_path": color_path,
        "start_kelvin": None if kelvins[0] is None else float(kelvins[0]),
        "target_kelvin": None if kelvins[1] is None else float(kelvins[1]),
        "time": alarm_time,
        "weekdays": sorted(weekdays),
        "date": one_off,
        "enabled": enabled,
        "duration": duration,
        "target_brightness": target,
        "curve": curve,
    }


def _whole(kelvin: float | None) -> int | None:
    return None if kelvin is None else round(kelvin)


def _stored_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} is not a number")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{name} is not finite") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} is not finite")
    return number


def _alarm_from(
    alarm_id: str,
    settings: dict[str, Any],
    last_wake: float | None = None,
    skip_wake: float | None = None,
) -> Alarm:
    return Alarm(
        id=alarm_id,
        name=settings.get("name"),
        time=settings["time"],
        weekdays=tuple(settings["weekdays"]),
        date=_as_date(settings.get("date")),
        enabled=settings["enabled"],
        duration=settings["duration"],
        target_brightness=settings["target_brightness"],
        curve=settings["curve"],
        color_path=settings.get("color_path", "sunrise"),
        start_kelvin=settings.get("start_kelvin"),
        target_kelvin=settings.get("target_kelvin"),
        last_wake=last_wake,
        skip_wake=skip_wake,
    )


def _as_date(value: date | str | None) -> date | None:
    """A date from the state file (parsed already) or a command (``YYYY-MM-DD``)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One sunrise of an alarm, in epoch seconds: from ``starts_at`` to ``wake_at``."""

    alarm_id: str
    starts_at: float
    wake_at: float


def wake_time(day: date, hour: int, minute: int, tz: tzinfo) -> float:
    """The wake instant (epoch s) of ``hour:minute`` on local date ``day`` in ``tz``.

    ``fold=0`` resolves both DST cases: a time in a gap moves forward by the gap's
    length, an ambiguous time is its first (summer-time) occurrence.
    """
    return datetime.combine(day, time_of_day(hour, minute), tzinfo=tz).timestamp()


def wake_times(alarm: Alarm, tz: tzinfo, after: float) -> Iterator[float]:
    """The alarm's wake instants after ``after`` (epoch s), ascending; schedule only."""
    if alarm.date is not None:  # one-off: however far ahead its date is
        wake = wake_time(alarm.date, alarm.hour, alarm.minute, tz)
        if wake > after:
            yield wake
        return
    first_day = datetime.fromtimestamp(after, tz).date() - timedelta(days=1)
    latest = after
    for offset in range(_SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if day.weekday() in alarm.weekdays:
            wake = wake_time(day, alarm.hour, alarm.minute, tz)
            if wake > latest:  # also drops a date whose time folds onto an earlier one
                latest = wake
                yield wake


def next_occurrence(alarm: Alarm, tz: tzinfo, now: datetime | float) -> Occurrence | None:
    """The occurrence ``alarm`` fires next, as of ``now`` (aware datetime or epoch s).

    That is the first one whose wake time is after ``now`` and after the alarm's
    ``last_wake`` (unless that is implausibly far ahead: see the module notes) and that
    is not skipped. Its sunrise may have started already (``starts_at <= now``): then
    it is due. ``None`` for a one-off alarm whose occurrence is past, fired or skipped.
    ``enabled`` is not looked at.
    """
    now_ts = _epoch(now)
    floor = now_ts
    if alarm.last_wake is not None and alarm.last_wake <= now_ts + CLOCK_STEP_BACK_LIMIT:
        floor = max(floor, alarm.last_wake)
    for wake in wake_times(alarm, tz, floor):
        if alarm.skip_wake is not None and abs(wake - alarm.skip_wake) < _SAME_INSTANT:
            continue
        return Occurrence(alarm.id, wake - alarm.duration, wake)
    return None


def next_sunrise(alarms: Iterable[Alarm], tz: tzinfo, now: datetime | float) -> Occurrence | None:
    """The first occurrence to start of the enabled ``alarms`` (ties: earlier wake, list order)."""
    best: Occurrence | None = None
    for alarm in alarms:
        if not alarm.enabled:
            continue
        occurrence = next_occurrence(alarm, tz, now)
        if occurrence is not None and (
            best is None
            or (occurrence.starts_at, occurrence.wake_at) < (best.starts_at, best.wake_at)
        ):
            best = occurrence
    return best


def skip_pending(alarm: Alarm, now: datetime | float) -> bool:
    """Whether an occurrence of ``alarm`` is marked to be skipped and still to come."""
    return alarm.skip_wake is not None and alarm.skip_wake > _epoch(now)


def _epoch(now: datetime | float) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        return now.timestamp()
    return float(now)


def _new_id() -> str:
    return secrets.token_hex(4)


# -- the scheduler ---------------------------------------------------------------------

#: What clients see of the alarms: the next sunrise of all and each alarm's payload.
_View: TypeAlias = tuple[Occurrence | None, list[AlarmPayload]]


class AlarmScheduler:
    """Owns the alarms: commands, persistence hooks and the task that fires them.

    ``fire(alarm, occurrence)`` starts the sunrise (the server starts it with
    ``started_at=occurrence.starts_at``); ``save()`` writes the state file, which holds
    :meth:`dump`. ``clock`` is the wall clock (epoch s) and ``sleep`` the sleep
    function, both replaceable so tests drive time.
    """

    def __init__(
        self,
        tz: tzinfo,
        *,
        fire: FireCallback,
        save: Callable[[], Awaitable[None]],
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        recheck: float = RECHECK_INTERVAL,
        new_id: Callable[[], str] = _new_id,
        colour: bool = False,
    ) -> None:
        """Create the scheduler; :meth:`load` the saved alarms, then :meth:`start` it.

        ``colour``: the device has colour channels, so alarms report their colour path.
        """
        self.tz = tz
        self._colour = colour
        self._fire = fire
        self._save = save
        self._clock = clock
        self._sleep = sleep
        self._recheck = recheck
        self._new_id = new_id
        self._alarms: dict[str, Alarm] = {}
        self._lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._published: _View = (None, [])

    # -- persistence -----------------------------------------------------------------

    def load(self, data: Any) -> None:
        """Take the alarms saved in the state file (``None``: an old file, no alarms)."""
        self._alarms = {}
        if data is None:
            return
        if not isinstance(data, list):
            _LOGGER.warning("Saved alarms are not a list; starting without alarms")
            return
        for entry in data:
            try:
                alarm = Alarm.from_json(entry)
            except ValueError as err:
                _LOGGER.warning("Dropping an invalid saved alarm (%s): %.200r", err, entry)
                continue
            if alarm.id in self._alarms or len(self._alarms) >= STORED_ALARMS_MAX:
                _LOGGER.warning("Dropping saved alarm %r: duplicate id or over the limit", alarm.id)
                continue
            self._alarms[alarm.id] = alarm
        self._published = self._view()

    def dump(self) -> list[dict[str, Any]]:
        """The alarms as saved in the state file."""
        return [alarm.to_json() for alarm in self._alarms.values()]

    # -- queries ------------------------------------------------------------------------

    @property
    def alarms(self) -> list[Alarm]:
        """The alarms, oldest first."""
        return list(self._alarms.values())

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when the alarms or the next sunrise change; returns a remover.

        That is after each command that changes an alarm, and when the scheduler sees
        an alarm's payload or the next sunrise move on (an alarm fired, an occurrence
        or a skip passed); not otherwise.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def payload(self, alarm: Alarm) -> AlarmPayload:
        """``alarm`` as the protocol reports it."""
        now = self._clock()
        occurrence = next_occurrence(alarm, self.tz, now) if alarm.enabled else None
        payload: AlarmPayload = {
            "id": alarm.id,
            "name": alarm.display_name,
            "time": alarm.time,
            "weekdays": list(alarm.weekdays),
            "date": None if alarm.date is None else alarm.date.isoformat(),
            "enabled": alarm.enabled,
            "duration": alarm.duration,
            "target_brightness": alarm.target_brightness,
            "curve": alarm.curve,
            "skip_next": skip_pending(alarm, now),
            "next_sunrise": None if occurrence is None else self._sunrise_payload(occurrence),
        }
        if self._colour:
            payload["color_path"] = alarm.color_path
            payload["start_kelvin"] = _whole(alarm.start_kelvin)
            payload["target_kelvin"] = _whole(alarm.target_kelvin)
        return payload

    def list_payload(self) -> list[AlarmPayload]:
        """All alarms as the protocol reports them."""
        return [self.payload(alarm) for alarm in self._alarms.values()]

    def get(self, alarm_id: str) -> Alarm:
        """The alarm with ``alarm_id``; raise ``not_found`` if there is none."""
        alarm = self._alarms.get(alarm_id)
        if alarm is None:
            raise ProtocolError("not_found", f"no alarm with id {alarm_id[:64]!r}")
        return alarm

    def next_sunrise(self) -> Occurrence | None:
        """The next alarm sunrise to start (not fired and not skipped), or ``None``."""
        return next_sunrise(list(self._alarms.values()), self.tz, self._clock())

    def next_sunrise_payload(self) -> NextSunrisePayload | None:
        """:meth:`next_sunrise` as the state's ``next_sunrise``."""
        occurrence = self.next_sunrise()
        if occurrence is None:
            return None
        return {"alarm_id": occurrence.alarm_id, **self._sunrise_payload(occurrence)}

    def _view(self) -> _View:
        """What clients see of the alarms now: the next sunrise and every alarm."""
        return self.next_sunrise(), self.list_payload()

    def _sunrise_payload(self, occurrence: Occurrence) -> AlarmSunrisePayload:
        return {
            "starts_at": iso_local(occurrence.starts_at, self.tz),
            "wake_at": iso_local(occurrence.wake_at, self.tz),
        }

    # -- commands -----------------------------------------------------------------------

    async def create(self, command: CreateAlarmCommand) -> Alarm:
        """Add an alarm with the command's ``id``, or a new one if it has none.

        Raises ``conflict`` when an alarm has that id already and ``limit_reached``
        when there are :data:`MAX_ALARMS` alarms.
        """
        async with self._lock:
            alarm_id = command.get("id")
            if alarm_id is not None and alarm_id in self._alarms:
                raise ProtocolError("conflict", f"an alarm with id {alarm_id!r} exists already")
            if len(self._alarms) >= MAX_ALARMS:
                raise ProtocolError("limit_reached", f"there are {MAX_ALARMS} alarms already")
            if alarm_id is None:
                alarm_id = self._new_id()
                while alarm_id in self._alarms:  # pragma: no cover - 32 random bits
                    alarm_id = self._new_id()
            alarm = _alarm_from(alarm_id, dict(command))
            self._check_date(alarm, new_date=True)
            await self._commit({**self._alarms, alarm_id: alarm})
            _LOGGER.info("Alarm %s created: %s", alarm_id, _describe(alarm))
            return alarm

    async def update(self, command: UpdateAlarmCommand) -> Alarm:
        """Change the given fields; a new time or weekdays cancel a pending skip."""
        async with self._lock:
            alarm = self.get(command["id"])
            changes: dict[str, Any] = {k: v for k, v in command.items() if k != "id"}
            if "weekdays" in changes:  # weekly on these days (a one-off alarm too)
                changes["weekdays"] = tuple(changes["weekdays"])
                changes["date"] = None
            elif changes.get("date") is not None:  # one-off on that date
                changes["date"] = _as_date(changes["date"])
                changes["weekdays"] = (changes["date"].weekday(),)
            updated = replace(alarm, **changes)
            if (updated.time, updated.weekdays, updated.date) != (
                alarm.time,
                alarm.weekdays,
                alarm.date,
            ):
                updated = replace(updated, skip_wake=None)
            self._check_date(updated, new_date=updated.date != alarm.date)
            await self._commit({**self._alarms, alarm.id: updated})
            _LOGGER.info("Alarm %s changed: %s", alarm.id, _describe(updated))
            return updated

    def _check_date(self, alarm: Alarm, *, new_date: bool) -> None:
        """Refuse an enabled one-off alarm whose wake time has passed, or a far date.

        A wake time still to come is fine even when its sunrise should have started
        (it joins the sunrise late, as any alarm). A date given more than
        :data:`ALARM_DATE_AHEAD_MAX_DAYS` after today is refused too.
        """
        if alarm.date is None:
            return
        now = self._clock()
        when = f"{alarm.date.isoformat()} {alarm.time} ({zone_name(self.tz)})"
        if new_date:
            today = datetime.fromtimestamp(now, self.tz).date()
            if (alarm.date - today).days > ALARM_DATE_AHEAD_MAX_DAYS:
                raise ProtocolError(
                    "invalid_payload",
                    f"date: {when} is more than {ALARM_DATE_AHEAD_MAX_DAYS} days ahead",
                )
        if alarm.enabled and next_occurrence(replace(alarm, skip_wake=None), self.tz, now) is None:
            passed = "has passed" if new_date else "has passed (or it fired); give a new date"
            raise ProtocolError("invalid_payload", f"date: the wake time {when} {passed}")

    async def delete(self, alarm_id: str) -> None:
        """Remove an alarm (a sunrise it started goes on)."""
        async with self._lock:
            self.get(alarm_id)
            await self._commit({k: v for k, v in self._alarms.items() if k != alarm_id})
            _LOGGER.info("Alarm %s deleted", alarm_id)

    async def skip_next(self, alarm_id: str, *, skip: bool = True) -> Alarm:
        """Skip the alarm's next occurrence (idempotent), or with ``skip=False`` un-skip it."""
        async with self._lock:
            alarm = self.get(alarm_id)
            now = self._clock()
            if not skip:
                updated = replace(alarm, skip_wake=None)
            elif skip_pending(alarm, now):
                updated = alarm
            else:
                occurrence = next_occurrence(replace(alarm, skip_wake=None), self.tz, now)
                updated = replace(
                    alarm, skip_wake=None if occurrence is None else occurrence.wake_at
                )
            if updated != alarm:
                await self._commit({**self._alarms, alarm.id: updated})
                _LOGGER.info(
                    "Alarm %s: next occurrence %s", alarm_id, "skipped" if skip else "un-skipped"
                )
            return updated

    async def _commit(self, alarms: dict[str, Alarm]) -> None:
        """Make ``alarms`` the alarms and save them; on a failed save, keep the old ones."""
        previous, self._alarms = self._alarms, alarms
        try:
            await self._save()
        except BaseException:
            self._alarms = previous
            raise
        self._wakeup.set()
        self._published = self._view()
        self._notify()

    # -- the task ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the task that fires the alarms (it checks at once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="daybreak alarms")

    async def stop(self) -> None:
        """Stop the task."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})

    async def check(self) -> float:
        """Fire what is due now; return the seconds until the next check.

        Due occurrences (sunrise started, wake time not yet passed, not fired or
        skipped) are marked fired; the one that started last gets its sunrise (it
        would have taken over from the others anyway).
        """
        async with self._lock:
            now = self._clock()
            due: list[tuple[Alarm, Occurrence]] = []
            forgot = False
            missed: list[Alarm] = []
            for alarm in list(self._alarms.values()):
                if alarm.last_wake is not None and alarm.last_wake > now + CLOCK_STEP_BACK_LIMIT:
                    _LOGGER.warning(
                        "Alarm %s last fired for %s, over a day ahead of the clock: "
                        "the clock went back; scheduling afresh",
                        alarm.id,
                        iso_local(alarm.last_wake, self.tz),
                    )
                    alarm = replace(alarm, last_wake=None)  # noqa: PLW2901
                    self._alarms[alarm.id] = alarm
                    forgot = True
                if not alarm.enabled:
                    continue
                occurrence = next_occurrence(alarm, self.tz, now)
                if occurrence is not None and occurrence.starts_at <= now:
                    due.append((alarm, occurrence))
                elif occurrence is None and alarm.one_off:
                    missed.append(alarm)
            for alarm, occurrence in due:
                # A one-off alarm fires once: it disables itself as it fires.
                self._alarms[alarm.id] = replace(
                    alarm, last_wake=occurrence.wake_at, enabled=not alarm.one_off
                )
                if alarm.one_off:
                    _LOGGER.info(
                        "Alarm %s fired for its date %s: one-off, now disabled",
                        alarm.id,
                        alarm.date,
                    )
            for alarm in missed:
                self._alarms[alarm.id] = replace(alarm, enabled=False)
                _LOGGER.warning(
                    "Alarm %s for %s %s did not fire (skipped, or missed while the device "
                    "was off): one-off, now disabled",
                    alarm.id,
                    alarm.date,
                    alarm.time,
                )
            if due:
                alarm, occurrence = max(due, key=lambda d: (d[1].starts_at, d[1].wake_at))
                late = now - occurrence.starts_at
                _LOGGER.info(
                    "Alarm %s: sunrise from %s to %s%s",
                    alarm.id,
                    iso_local(occurrence.starts_at, self.tz),
                    iso_local(occurrence.wake_at, self.tz),
                    f" (noticed {late:.0f} s late: joining it)" if late >= 1 else "",
                )
                try:
                    await self._fire(alarm, occurrence)
                except Exception:
                    _LOGGER.exception("Alarm %s could not start its sunrise", alarm.id)
            if due or forgot or missed:
                # A disk that cannot take it now gets it later: the state file keeps
                # retrying, and until then the marks hold in memory.
                with contextlib.suppress(StorageError):
                    await self._save()
            view = self._view()
            if view != self._published:
                self._published = view
                self._notify()
            upcoming = view[0]
            if upcoming is None:
                return self._recheck
            return min(self._recheck, max(0.0, upcoming.starts_at - self._clock()))

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                delay = await self.check()
            except Exception:
                _LOGGER.exception("Alarm check failed")
                delay = self._recheck
            await self._wait(delay)

    async def _wait(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or until the alarms change."""
        if self._wakeup.is_set():
            return
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (sleeper, waker):
                future.cancel()
            await asyncio.wait({sleeper, waker})

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()


def _describe(alarm: Alarm) -> str:
    days = (
        ",".join("MTWTFSS"[d] for d in alarm.weekdays)
        if alarm.date is None
        else f"once {alarm.date.isoformat()}"
    )
    state = "on" if alarm.enabled else "off"
    name = "" if alarm.name is None else f"{alarm.name!r} "
    return (
        f"{name}{alarm.time} [{days}] {state}, {alarm.duration:g} s to {alarm.target_brightness:g}"
    )
