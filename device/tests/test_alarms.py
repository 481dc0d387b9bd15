"""Alarms: scheduling (DST, clock jumps, skip), firing, persistence, protocol and REST.

Time is always under the test's control:

* the pure scheduling functions get ``now`` as an argument;
* :class:`AlarmScheduler` runs on a :class:`FakeClock` whose ``sleep`` moves the clock
  instead of waiting, so days pass in milliseconds and every sleep is recorded;
* a real :class:`DaybreakServer` runs on a :class:`ShiftedClock` (real time moved to a
  chosen moment), so it serves normally at, say, 05:00 on a Monday in Berlin;
* the end-to-end test runs the server in a :class:`TimeTravelLoop`, an event loop whose
  clock jumps to its next timer whenever it is idle: a whole sunrise, driven by the
  real scheduler and ramp engine at 50 Hz, passes in about a second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import socketio
from gpiozero.pins.mock import MockFactory

from daybreak_device import (
    alarms as alarms_module,
    light as light_module,
    statefile as statefile_module,
)
from daybreak_device.alarms import (
    CLOCK_STEP_BACK_LIMIT,
    STORED_ALARMS_MAX,
    Alarm,
    AlarmScheduler,
    Occurrence,
    load_timezone,
    local_timezone,
    next_occurrence,
    next_sunrise,
    wake_time,
    zone_name,
)
from daybreak_device.config import ConfigError, Settings, load_settings
from daybreak_device.dimming import Dimmer
from daybreak_device.output import GpiozeroOutput
from daybreak_device.protocol import MAX_ALARMS, ProtocolError, validate_command
from daybreak_device.server import DaybreakServer
from daybreak_device.statefile import StateFile, StorageError
from helpers import TOKEN, Client, Device, ShiftedClock

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CIE = Dimmer()
HOUR = 3600.0
DAY = 24 * HOUR
#: Monday 2026-11-23 05:00 in Berlin (CET, UTC+1): the servers' clocks start here.
MONDAY_5AM = datetime(2026, 11, 23, 5, 0, tzinfo=BERLIN).timestamp()


def at(tz: ZoneInfo, *fields: int, fold: int = 0) -> float:
    """Epoch seconds of a local time in ``tz``."""
    return datetime(*fields, tzinfo=tz, fold=fold).timestamp()  # type: ignore[misc]


def local(timestamp: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(timestamp, tz).isoformat(timespec="seconds")


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def alarm(time_: str = "06:30", weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6), **kw) -> Alarm:
    return Alarm("a1", time_, weekdays, **kw)


def create_command(**fields: Any) -> Any:
    return validate_command("alarm.create", fields)


# -- pure scheduling -------------------------------------------------------------------


def test_next_occurrence_follows_the_weekdays() -> None:
    workdays = alarm("06:30", (0, 1, 2, 3, 4), duration=1800)
    friday_7am = at(BERLIN, 2026, 11, 20, 7, 0)
    occurrence = next_occurrence(workdays, BERLIN, friday_7am)
    assert occurrence == Occurrence(
        "a1", at(BERLIN, 2026, 11, 23, 6, 0), at(BERLIN, 2026, 11, 23, 6, 30)
    )
    # An aware datetime in any zone is the same instant.
    as_datetime = datetime.fromtimestamp(friday_7am, NEW_YORK)
    assert next_occurrence(workdays, BERLIN, as_datetime) == occurrence
    # Friday before the sunrise starts: today's; inside the window: still today's (due).
    friday_550 = at(BERLIN, 2026, 11, 20, 5, 50)
    assert next_occurrence(workdays, BERLIN, friday_550).wake_at == at(BERLIN, 2026, 11, 20, 6, 30)
    friday_610 = at(BERLIN, 2026, 11, 20, 6, 10)
    due = next_occurrence(workdays, BERLIN, friday_610)
    assert due.starts_at < friday_610 < due.wake_at
    # At the wake time it is over.
    friday_630 = at(BERLIN, 2026, 11, 20, 6, 30)
    assert next_occurrence(workdays, BERLIN, friday_630).wake_at == at(BERLIN, 2026, 11, 23, 6, 30)


def test_the_weekday_is_the_wake_times_and_the_sunrise_may_start_the_day_before() -> None:
    monday_0010 = alarm("00:10", (0,), duration=1800)
    occurrence = next_occurrence(monday_0010, BERLIN, at(BERLIN, 2026, 11, 22, 12, 0))
    assert local(occurrence.starts_at, BERLIN) == "2026-11-22T23:40:00+01:00"  # Sunday
    assert local(occurrence.wake_at, BERLIN) == "2026-11-23T00:10:00+01:00"  # Monday


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_occurrence(alarm(), BERLIN, datetime(2026, 11, 23, 5, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("tz", "day", "time_", "expected"),
    [
        # Spring forward: 02:00 → 03:00; 02:30 does not exist and moves on by the gap.
        (BERLIN, date(2026, 3, 29), "02:30", "2026-03-29T03:30:00+02:00"),
        (BERLIN, date(2026, 3, 29), "02:00", "2026-03-29T03:00:00+02:00"),
        (BERLIN, date(2026, 3, 29), "03:00", "2026-03-29T03:00:00+02:00"),
        (BERLIN, date(2026, 3, 29), "01:59", "2026-03-29T01:59:00+01:00"),
        (NEW_YORK, date(2026, 3, 8), "02:30", "2026-03-08T03:30:00-04:00"),
        # Fall back: 03:00 → 02:00 (Berlin), 02:00 → 01:00 (New York); the first one.
        (BERLIN, date(2026, 10, 25), "02:30", "2026-10-25T02:30:00+02:00"),
        (BERLIN, date(2026, 10, 25), "03:00", "2026-10-25T03:00:00+01:00"),
        (NEW_YORK, date(2026, 11, 1), "01:30", "2026-11-01T01:30:00-04:00"),
        (NEW_YORK, date(2026, 11, 1), "02:00", "2026-11-01T02:00:00-05:00"),
    ],
)
def test_dst_rules(tz: ZoneInfo, day: date, time_: str, expected: str) -> None:
    hour, minute = map(int, time_.split(":"))
    assert local(wake_time(day, hour, minute, tz), tz) == expected


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK], ids=["berlin", "new-york"])
@pytest.mark.parametrize("time_", ["00:00", "01:30", "02:00", "02:30", "03:00", "23:59"])
def test_a_year_of_daily_occurrences_one_per_day(tz: ZoneInfo, time_: str) -> None:
    """Through 2026 (both DST changes): one wake a day, at its time or moved by the gap."""
    daily = alarm(time_, duration=1800)
    hour, minute = map(int, time_.split(":"))
    now, end = at(tz, 2025, 12, 31, 23, 59, 30), at(tz, 2027, 1, 1, 0, 0)
    wakes: list[datetime] = []
    while (occurrence := next_occurrence(daily, tz, now)).wake_at < end:
        assert occurrence.wake_at - occurrence.starts_at == 1800.0  # real seconds
        wakes.append(datetime.fromtimestamp(occurrence.wake_at, tz))
        now = occurrence.wake_at
    assert [w.date() for w in wakes] == [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    moved = [w for w in wakes if (w.hour, w.minute) != (hour, minute)]
    if time_ in ("02:00", "02:30"):  # in the spring-forward gap: that day an hour later
        assert [(w.month, w.hour, w.minute) for w in moved] == [(3, hour + 1, minute)]
    else:
        assert moved == []
    assert all(w.fold == 0 for w in wakes)  # an ambiguous time: always its first


def test_sunrise_duration_is_real_time_across_the_dst_changes() -> None:
    # Spring forward inside the sunrise: 01:10 CET to 03:10 CEST is one real hour.
    spring = next_occurrence(alarm("03:10", duration=HOUR), BERLIN, at(BERLIN, 2026, 3, 29, 0, 0))
    assert local(spring.starts_at, BERLIN) == "2026-03-29T01:10:00+01:00"
    assert local(spring.wake_at, BERLIN) == "2026-03-29T03:10:00+02:00"
    # Fall back inside the sunrise: it starts in the first 02:00 and ends two real hours
    # later, at 03:00 CET, while the wall clock shows 02:xx twice.
    autumn = next_occurrence(alarm("03:00", duration=2 * HOUR), BERLIN, at(BERLIN, 2026, 10, 25, 0))
    assert local(autumn.starts_at, BERLIN) == "2026-10-25T02:00:00+02:00"
    assert local(autumn.wake_at, BERLIN) == "2026-10-25T03:00:00+01:00"
    assert autumn.wake_at - autumn.starts_at == 2 * HOUR


def test_an_ambiguous_wake_time_fires_once() -> None:
    daily = alarm("02:30", duration=1800)
    first = at(BERLIN, 2026, 10, 25, 2, 30, fold=0)
    second = at(BERLIN, 2026, 10, 25, 2, 30, fold=1)
    assert second - first == HOUR
    assert next_occurrence(daily, BERLIN, at(BERLIN, 2026, 10, 25, 0, 0)).wake_at == first
    # Once the first 02:30 has passed, even during the second 02:xx, the next is tomorrow.
    for now in (first + 1, second - 1, second, second + 60):
        assert local(next_occurrence(daily, BERLIN, now).wake_at, BERLIN) == (
            "2026-10-26T02:30:00+01:00"
        )


def test_last_wake_and_skip_bookkeeping() -> None:
    daily = alarm("06:30", duration=1800)
    today = at(BERLIN, 2026, 11, 23, 6, 30)
    tomorrow = today + DAY
    in_window = today - 600
    assert next_occurrence(daily, BERLIN, in_window).wake_at == today
    fired = replace(daily, last_wake=today)
    assert next_occurrence(fired, BERLIN, in_window).wake_at == tomorrow
    # A clock set back by hours: still fired. By more than the limit: forgotten.
    assert next_occurrence(fired, BERLIN, today - 20 * HOUR).wake_at == tomorrow
    far_back = today - CLOCK_STEP_BACK_LIMIT - 2 * HOUR
    assert next_occurrence(fired, BERLIN, far_back).wake_at == today - DAY
    # Skip: exactly that occurrence.
    skipped = replace(daily, skip_wake=today)
    assert next_occurrence(skipped, BERLIN, in_window).wake_at == tomorrow
    assert next_occurrence(skipped, BERLIN, today - 2 * DAY).wake_at == today - DAY


def test_next_sunrise_is_the_earliest_start_of_the_enabled_alarms() -> None:
    now = MONDAY_5AM
    early_long = Alarm("long", "07:00", (0,), duration=3 * HOUR)  # starts 04:00: due
    late_short = Alarm("short", "06:00", (0,), duration=60)  # starts 05:59
    off = Alarm("off", "05:30", (0,), enabled=False)
    assert next_sunrise([late_short, off], BERLIN, now).alarm_id == "short"
    assert next_sunrise([late_short, early_long, off], BERLIN, now).alarm_id == "long"
    assert next_sunrise([off], BERLIN, now) is None
    assert next_sunrise([], BERLIN, now) is None


def test_a_disabled_alarm_listed_first_hides_no_other() -> None:
    now = MONDAY_5AM
    off = Alarm("off", "05:30", (0,), enabled=False)
    on = Alarm("on", "06:00", (0,), duration=60)
    later = Alarm("later", "08:00", (0,), duration=60)
    assert next_sunrise([off, on], BERLIN, now).alarm_id == "on"
    assert next_sunrise([off, off, later, on], BERLIN, now).alarm_id == "on"


def test_alarms_with_the_same_sunrise_show_the_oldest() -> None:
    """Ties (same start and wake) go to the alarm listed first, the oldest."""
    first = Alarm("first", "06:30", (0,), duration=1800)
    second = Alarm("second", "06:30", (0,), duration=1800)
    assert next_sunrise([first, second], BERLIN, MONDAY_5AM).alarm_id == "first"
    assert next_sunrise([second, first], BERLIN, MONDAY_5AM).alarm_id == "second"
    # Same start, different wake: the earlier wake comes first, whatever the order.
    short_early = Alarm("short", "06:01", (0,), duration=60)  # 06:00 to 06:01
    long_late = Alarm("long", "06:30", (0,), duration=1800)  # 06:00 to 06:30
    assert next_sunrise([long_late, short_early], BERLIN, MONDAY_5AM).alarm_id == "short"


# -- time zones and the setting ----------------------------------------------------------


def test_timezone_setting(tmp_path: Path) -> None:
    assert load_settings({"timezone": "Europe/Berlin"}, environ={}).timezone == "Europe/Berlin"
    assert load_settings({}, environ={"DAYBREAK_TIMEZONE": "America/New_York"}).timezone == (
        "America/New_York"
    )
    assert load_settings({}, environ={}).timezone is None
    for bad in ("Mars/Olympus_Mons", "../etc/passwd", "Europe", ""):
        with pytest.raises(ConfigError, match="timezone"):
            load_settings({"timezone": bad}, environ={})
    assert load_timezone("Europe/Berlin") == BERLIN


def test_local_timezone_comes_from_tz_or_etc_localtime(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    assert local_timezone() == NEW_YORK
    monkeypatch.setenv("TZ", ":Europe/Berlin")
    assert local_timezone() == BERLIN
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")  # POSIX rule: not a zone name
    monkeypatch.setattr(alarms_module, "Path", lambda p: Path("/nonexistent") / p.lstrip("/"))
    assert local_timezone() == UTC  # nothing found: UTC
    monkeypatch.undo()
    assert load_timezone(None) == local_timezone()


# -- the scheduler on a fake clock ----------------------------------------------------------


class FakeClock:
    """A wall clock the test sets; ``sleep`` moves it on instead of waiting."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self.until = math.inf
        self.done = asyncio.Event()
        self.on_sleep: Callable[[FakeClock], None] | None = None

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        if self.on_sleep is not None:
            self.on_sleep(self)
        if self.now >= self.until:
            self.done.set()
            await asyncio.Future()  # parked until the scheduler stops
        await asyncio.sleep(0)


class Fired:
    """What the scheduler asked for: fires (alarm id, start, wake, clock) and saves."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.fires: list[tuple[str, float, float, float]] = []
        self.saves = 0

    async def fire(self, alarm: Alarm, occurrence: Occurrence) -> None:
        self.fires.append((alarm.id, occurrence.starts_at, occurrence.wake_at, self.clock()))

    async def save(self) -> None:
        self.saves += 1


def scheduler_on(
    clock: FakeClock, tz: ZoneInfo = BERLIN, **kw: Any
) -> tuple[AlarmScheduler, Fired]:
    fired = Fired(clock)
    ids = iter(f"id{n}" for n in range(100))
    scheduler = AlarmScheduler(
        tz, fire=fired.fire, save=fired.save, clock=clock, sleep=clock.sleep,
        new_id=lambda: next(ids), **kw,
    )  # fmt: skip
    return scheduler, fired


async def run_until(scheduler: AlarmScheduler, clock: FakeClock, until: float) -> None:
    """Run the scheduler's own task until the fake clock reaches ``until``."""
    clock.until = until
    scheduler.start()
    async with asyncio.timeout(20):
        await clock.done.wait()
    await scheduler.stop()


async def test_fires_once_at_the_sunrise_start() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock)
    created = await scheduler.create(create_command(time="06:30", duration=1800))
    start, wake = at(BERLIN, 2026, 11, 23, 6, 0), at(BERLIN, 2026, 11, 23, 6, 30)
    assert fired.saves == 1

    assert await scheduler.check() == 5.0  # an hour to go: re-check within 5 s
    clock.now = start - 3
    assert await scheduler.check() == 3.0  # sleep exactly to the start
    assert fired.fires == []
    clock.now = start
    assert await scheduler.check() == 5.0
    assert fired.fires == [(created.id, start, wake, start)]
    assert scheduler.get(created.id).last_wake == wake
    assert fired.saves == 2  # the bookkeeping is saved
    for now in (start + 1, wake - 1, wake, wake + 1):
        clock.now = now
        await scheduler.check()
    assert len(fired.fires) == 1
    assert scheduler.next_sunrise() == Occurrence(created.id, start + DAY, wake + DAY)


async def test_task_sleeps_to_the_start_rechecking_every_few_seconds() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock)
    await scheduler.create(create_command(time="06:30", duration=1800))
    await run_until(scheduler, clock, at(BERLIN, 2026, 11, 23, 7, 0))
    start = at(BERLIN, 2026, 11, 23, 6, 0)
    assert [f[3] for f in fired.fires] == [start]  # fired exactly at the start
    assert max(clock.sleeps) <= 5.0
    assert len(clock.sleeps) == pytest.approx(2 * HOUR / 5, abs=2)


async def test_a_clock_set_back_never_fires_the_same_occurrence_again() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock)
    await scheduler.create(create_command(time="06:30", duration=1800))
    start = at(BERLIN, 2026, 11, 23, 6, 0)
    jumped: list[float] = []

    def set_back(clock: FakeClock) -> None:
        if fired.fires and not jumped and clock.now > start + 300:
            jumped.append(clock.now)
            clock.now -= 900  # back before the sunrise start

    clock.on_sleep = set_back
    await run_until(scheduler, clock, at(BERLIN, 2026, 11, 23, 8, 0))
    assert jumped
    assert [f[1] for f in fired.fires] == [start]


async def test_a_clock_set_back_by_more_than_a_day_starts_afresh(caplog) -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 0))
    scheduler, fired = scheduler_on(clock)
    await scheduler.create(create_command(time="06:30", duration=1800))
    await scheduler.check()
    assert len(fired.fires) == 1
    saves = fired.saves
    clock.now -= 3 * DAY + 600  # Friday 05:50: the clock had been three days ahead
    await scheduler.check()
    assert "the clock went back" in caplog.text
    assert scheduler.alarms[0].last_wake is None
    assert fired.saves == saves + 1
    clock.now += 600
    await scheduler.check()
    assert [local(f[2], BERLIN) for f in fired.fires] == [
        "2026-11-23T06:30:00+01:00",
        "2026-11-20T06:30:00+01:00",
    ]


async def test_a_clock_jump_over_a_window_misses_it_and_into_one_joins_it() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock)
    a = await scheduler.create(create_command(time="06:30", duration=1800))
    await scheduler.check()
    clock.now = at(BERLIN, 2026, 11, 23, 7, 0)  # over the whole window
    await scheduler.check()
    assert fired.fires == []
    assert local(scheduler.next_sunrise().wake_at, BERLIN) == "2026-11-24T06:30:00+01:00"
    clock.now = at(BERLIN, 2026, 11, 24, 6, 20)  # into tomorrow's, 20 min in
    await scheduler.check()
    start = at(BERLIN, 2026, 11, 24, 6, 0)
    assert fired.fires == [(a.id, start, start + 1800, clock.now)]  # scheduled start


@pytest.mark.parametrize(
    ("tz", "start", "time_", "expected"),
    [
        pytest.param(
            BERLIN, (2026, 10, 24, 12), "02:30",
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"],
            id="berlin-fall-back",
        ),
        pytest.param(
            BERLIN, (2026, 3, 28, 12), "02:30",
            ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"],
            id="berlin-spring-forward",
        ),
        pytest.param(
            NEW_YORK, (2026, 10, 31, 12), "01:30",
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00"],
            id="new-york-fall-back",
        ),
        pytest.param(
            NEW_YORK, (2026, 3, 7, 12), "02:30",
            ["2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"],
            id="new-york-spring-forward",
        ),
    ],
)  # fmt: skip
async def test_dst_nights_fire_exactly_once_each(
    tz: ZoneInfo, start: tuple[int, ...], time_: str, expected: list[str]
) -> None:
    clock = FakeClock(at(tz, *start))
    scheduler, fired = scheduler_on(clock, tz, recheck=60.0)
    await scheduler.create(create_command(time=time_, duration=1800))
    await run_until(scheduler, clock, clock.now + 3 * DAY)
    assert [local(f[2], tz) for f in fired.fires] == expected
    for _id, starts_at, wake_at, fired_at in fired.fires:
        assert wake_at - starts_at == 1800.0
        assert fired_at == starts_at


async def test_skip_next() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock, recheck=60.0)
    a = await scheduler.create(create_command(time="06:30", duration=1800))
    today = at(BERLIN, 2026, 11, 23, 6, 30)
    assert scheduler.payload(a)["skip_next"] is False

    skipped = await scheduler.skip_next(a.id)
    assert skipped.skip_wake == today
    payload = scheduler.payload(skipped)
    assert payload["skip_next"] is True
    assert payload["next_sunrise"] == {
        "starts_at": "2026-11-24T06:00:00+01:00",
        "wake_at": "2026-11-24T06:30:00+01:00",
    }
    saves = fired.saves
    assert await scheduler.skip_next(a.id) == skipped  # idempotent, nothing written
    assert fired.saves == saves

    await run_until(scheduler, clock, today + 2 * DAY)
    assert [local(f[2], BERLIN) for f in fired.fires] == [
        "2026-11-24T06:30:00+01:00",
        "2026-11-25T06:30:00+01:00",
    ]
    assert scheduler.payload(scheduler.get(a.id))["skip_next"] is False  # it has passed


async def test_skip_can_be_cancelled_and_a_new_time_cancels_it() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, _fired = scheduler_on(clock)
    a = await scheduler.create(create_command(time="06:30", duration=1800))
    await scheduler.skip_next(a.id)
    assert (await scheduler.skip_next(a.id, skip=False)).skip_wake is None
    await scheduler.skip_next(a.id)
    # Brightness, duration, curve or enabled keep the skip; time or weekdays drop it.
    kept = await scheduler.update({"id": a.id, "duration": 600.0, "enabled": False})
    assert kept.skip_wake is not None
    kept = await scheduler.update({"id": a.id, "enabled": True})
    assert scheduler.payload(kept)["skip_next"] is True
    dropped = await scheduler.update({"id": a.id, "time": "07:00"})
    assert dropped.skip_wake is None
    await scheduler.skip_next(a.id)
    assert (await scheduler.update({"id": a.id, "weekdays": [1]})).skip_wake is None


async def test_several_due_at_once_the_latest_start_wins() -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 20))
    scheduler, fired = scheduler_on(clock)
    long = await scheduler.create(create_command(time="06:40", duration=3600))  # 05:40
    short = await scheduler.create(create_command(time="06:30", duration=1800))  # 06:00
    await scheduler.check()
    assert [f[0] for f in fired.fires] == [short.id]
    assert {a.id: a.last_wake for a in scheduler.alarms} == {
        long.id: at(BERLIN, 2026, 11, 23, 6, 40),
        short.id: at(BERLIN, 2026, 11, 23, 6, 30),
    }


async def test_a_disabled_alarm_created_first_does_not_stop_the_others_firing() -> None:
    """The alarm the user set fires even when an older, switched-off alarm is listed first."""
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock)
    await scheduler.create(create_command(time="05:40", duration=600, enabled=False))
    await scheduler.create(create_command(time="06:10", duration=600, enabled=False))
    on = await scheduler.create(create_command(time="06:30", duration=1800))
    start, wake = at(BERLIN, 2026, 11, 23, 6, 0), at(BERLIN, 2026, 11, 23, 6, 30)
    assert scheduler.next_sunrise_payload() == {
        "alarm_id": on.id,
        "starts_at": "2026-11-23T06:00:00+01:00",
        "wake_at": "2026-11-23T06:30:00+01:00",
    }
    clock.now = start
    await scheduler.check()
    assert fired.fires == [(on.id, start, wake, start)]
    assert [a.last_wake for a in scheduler.alarms] == [None, None, wake]


async def test_two_alarms_with_the_same_sunrise_fire_one_sunrise() -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 0))
    scheduler, fired = scheduler_on(clock)
    first = await scheduler.create(create_command(time="06:30", duration=1800))
    second = await scheduler.create(create_command(time="06:30", duration=1800))
    await scheduler.check()
    assert [f[0] for f in fired.fires] == [first.id]  # the oldest, as next_sunrise showed
    wake = at(BERLIN, 2026, 11, 23, 6, 30)
    assert {a.id: a.last_wake for a in scheduler.alarms} == {first.id: wake, second.id: wake}
    assert scheduler.next_sunrise().alarm_id == first.id


async def test_a_failing_fire_is_logged_and_not_retried(caplog) -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 0))
    scheduler, fired = scheduler_on(clock)

    async def broken(alarm: Alarm, occurrence: Occurrence) -> None:
        fired.fires.append((alarm.id, 0, 0, 0))
        raise OSError("LED on fire")

    scheduler._fire = broken
    await scheduler.create(create_command(time="06:30", duration=1800))
    await scheduler.check()
    clock.now += 10
    await scheduler.check()
    assert len(fired.fires) == 1
    assert "could not start its sunrise" in caplog.text


async def test_a_failing_check_is_logged_and_the_task_goes_on(caplog) -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 5, 59))
    scheduler, fired = scheduler_on(clock)
    await scheduler.create(create_command(time="06:30", duration=1800))
    failures = []

    async def full_disk() -> None:
        failures.append(clock.now)
        if len(failures) == 1:
            raise OSError(28, "No space left on device")

    scheduler._save = full_disk
    await run_until(scheduler, clock, at(BERLIN, 2026, 11, 23, 6, 1))
    assert "Alarm check failed" in caplog.text
    assert len(fired.fires) == 1  # fired once; the failed save did not make it fire again
    assert len(failures) == 1


async def test_a_change_wakes_the_task_at_once() -> None:
    """Real sleeps, re-check every hour: an alarm created inside its window fires now."""
    fires: list[str] = []
    done = asyncio.Event()

    async def fire(alarm: Alarm, occurrence: Occurrence) -> None:
        fires.append(alarm.id)
        done.set()

    async def save() -> None:
        pass

    clock = lambda: at(BERLIN, 2026, 11, 23, 6, 10)  # noqa: E731
    scheduler = AlarmScheduler(BERLIN, fire=fire, save=save, clock=clock, recheck=HOUR)
    scheduler.start()
    try:
        await asyncio.sleep(0.05)
        created = await scheduler.create(create_command(time="06:30", duration=1800))
        async with asyncio.timeout(2):
            await done.wait()
    finally:
        await scheduler.stop()
    assert fires == [created.id]


async def test_create_takes_the_id_given_and_refuses_one_that_is_taken() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock)
    mine = await scheduler.create(create_command(id="wake-up_1", time="06:30"))
    made = await scheduler.create(create_command(time="07:00"))
    assert (mine.id, made.id) == ("wake-up_1", "id0")
    saves = fired.saves
    for taken in ("wake-up_1", "id0"):
        with pytest.raises(ProtocolError) as refused:
            await scheduler.create(create_command(id=taken, time="08:00"))
        assert (refused.value.code, refused.value.message) == (
            "conflict",
            f"an alarm with id {taken!r} exists already",
        )
    assert fired.saves == saves
    assert [a.id for a in scheduler.alarms] == ["wake-up_1", "id0"]
    # Ids are case-sensitive; a deleted alarm's id is free again.
    assert (await scheduler.create(create_command(id="Wake-Up_1", time="08:00"))).id == "Wake-Up_1"
    await scheduler.delete("wake-up_1")
    assert (await scheduler.create(create_command(id="wake-up_1", time="09:00"))).time == "09:00"
    # At the limit, a taken id is still a conflict (the more precise answer).
    for n in range(MAX_ALARMS - len(scheduler.alarms)):
        await scheduler.create(create_command(time=f"10:{n:02d}"))
    with pytest.raises(ProtocolError, match="exists already"):
        await scheduler.create(create_command(id="id0", time="11:00"))
    with pytest.raises(ProtocolError, match="20 alarms already"):
        await scheduler.create(create_command(id="new", time="11:00"))


async def test_an_alarm_without_a_name_is_named_by_its_wake_time() -> None:
    scheduler, _ = scheduler_on(FakeClock(MONDAY_5AM))
    unnamed = await scheduler.create(create_command(time="6:30"))
    assert (unnamed.name, scheduler.payload(unnamed)["name"]) == (None, "06:30")
    # The default follows the wake time; a name given stays when the time changes.
    unnamed = await scheduler.update({"id": unnamed.id, "time": "07:15"})
    assert scheduler.payload(unnamed)["name"] == "07:15"
    named = await scheduler.update(
        validate_command("alarm.update", {"id": unnamed.id, "name": "  Weekdays "})
    )  # type: ignore[arg-type]
    assert scheduler.payload(named)["name"] == "Weekdays"  # trimmed
    named = await scheduler.update({"id": named.id, "time": "06:00"})
    assert scheduler.payload(named)["name"] == "Weekdays"
    # null takes the name away: the wake time again.
    cleared = await scheduler.update(
        validate_command("alarm.update", {"id": named.id, "name": None})
    )  # type: ignore[arg-type]
    assert (cleared.name, scheduler.payload(cleared)["name"]) == (None, "06:00")
    given = await scheduler.create(create_command(time="08:00", name="Sunday lie-in"))
    assert scheduler.payload(given)["name"] == "Sunday lie-in"
    assert [a["name"] for a in scheduler.list_payload()] == ["06:00", "Sunday lie-in"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 41, "two\nlines", "tab\there", 7, ["a"], True])
def test_an_alarm_name_must_be_1_to_40_printable_characters(name: Any) -> None:
    for event, payload in (
        ("alarm.create", {"time": "06:30", "name": name}),
        ("alarm.update", {"id": "a", "name": name}),
    ):
        with pytest.raises(ProtocolError) as refused:
            validate_command(event, payload)
        assert refused.value.code == "invalid_payload"
        assert "expected a name of 1 to 40 characters" in refused.value.message
    longest = validate_command("alarm.create", {"time": "06:30", "name": "é" * 40})
    assert longest["name"] == "é" * 40
    assert "name" not in validate_command("alarm.create", {"time": "06:30"})


def test_saved_alarm_names_are_kept_and_a_bad_one_only_loses_the_name(caplog) -> None:
    scheduler, _ = scheduler_on(FakeClock(MONDAY_5AM))
    named = Alarm("named", "06:30", (0,), name="Work").to_json()
    assert named["name"] == "Work"
    old = {k: v for k, v in named.items() if k != "name"}  # saved before alarms had names
    scheduler.load(
        [
            named,
            {**old, "id": "old"},
            {**named, "id": "null", "name": None},
            {**named, "id": "empty", "name": ""},
            {**named, "id": "number", "name": 5},
            {**named, "id": "huge", "name": "x" * 1000},
        ]
    )
    assert [(a.id, a.name) for a in scheduler.alarms] == [
        ("named", "Work"),
        ("old", None),
        ("null", None),
        ("empty", None),
        ("number", None),
        ("huge", None),
    ]
    assert [a["name"] for a in scheduler.list_payload()] == ["Work"] + ["06:30"] * 5
    assert "Dropping" not in caplog.text


async def test_listeners_hear_of_every_change_clients_would_see() -> None:
    """Commands, an alarm firing, an occurrence or a skip passing; not idle checks."""
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock)
    heard: list[float] = []
    scheduler.add_listener(lambda: heard.append(clock.now))
    daily = await scheduler.create(create_command(time="06:30", duration=1800))
    weekly = await scheduler.create(create_command(time="09:00", weekdays=[0], duration=1800))
    assert len(heard) == 2
    await scheduler.skip_next(weekly.id)  # Monday 09:00 skipped: next Monday's is next
    assert len(heard) == 3
    await scheduler.skip_next(weekly.id)  # already skipped: no change, nothing to hear
    for minutes in (0, 10, 59):  # idle checks
        clock.now = MONDAY_5AM + minutes * 60
        await scheduler.check()
    assert len(heard) == 3

    clock.now = at(BERLIN, 2026, 11, 23, 6, 0)  # the daily alarm fires
    await scheduler.check()
    assert len(fired.fires) == 1
    assert heard[3:] == [clock.now]
    clock.now += 60
    await scheduler.check()  # its sunrise runs: nothing new
    assert len(heard) == 4

    # The skipped 09:00 passes: skip_next goes back to false, though the next sunrise of
    # all (the daily alarm's, tomorrow) stays the same.
    next_of_all = scheduler.next_sunrise()
    clock.now = at(BERLIN, 2026, 11, 23, 9, 0, 1)
    await scheduler.check()
    assert scheduler.next_sunrise() == next_of_all
    assert scheduler.payload(scheduler.get(weekly.id))["skip_next"] is False
    assert heard[4:] == [clock.now]

    # A whole window passes unseen (the clock jumps over it): the alarm moves on.
    clock.now = at(BERLIN, 2026, 11, 24, 7, 0)
    await scheduler.check()
    assert fired.fires[1:] == []
    assert heard[5:] == [clock.now]
    await scheduler.check()
    assert len(heard) == 6
    assert daily.id in {a.id for a in scheduler.alarms}


def test_loading_saved_alarms_drops_what_is_invalid(caplog) -> None:
    scheduler, _ = scheduler_on(FakeClock(MONDAY_5AM))
    good = Alarm("good", "06:30", (0, 1), last_wake=1.0e9, skip_wake=None).to_json()
    scheduler.load(
        [
            good,
            {**good, "id": "dup"},
            {**good, "id": "good"},  # a duplicate id
            {**good, "id": "late", "time": "25:00"},
            {**good, "id": "nan", "last_wake": math.inf},
            {**good, "id": "flag", "skip_wake": True},
            {**good, "id": ""},
            "not an alarm",
            {"id": "minimal", "time": "07:00"},  # missing settings take their defaults
        ]
    )
    assert [a.id for a in scheduler.alarms] == ["good", "dup", "minimal"]
    assert scheduler.alarms[0] == Alarm("good", "06:30", (0, 1), last_wake=1.0e9)
    assert scheduler.alarms[2] == Alarm("minimal", "07:00", (0, 1, 2, 3, 4, 5, 6))
    assert caplog.text.count("Dropping") == 6
    scheduler.load({"alarms": "no"})
    assert scheduler.alarms == []
    scheduler.load(None)
    assert scheduler.alarms == []
    many = [Alarm(f"a{n}", "06:00", (0,)).to_json() for n in range(STORED_ALARMS_MAX + 2)]
    scheduler.load(many)
    assert len(scheduler.alarms) == STORED_ALARMS_MAX


async def test_saved_alarms_outside_todays_wire_limits_are_kept() -> None:
    """The stored schema is not the wire schema: a tighter wire limit drops no alarm.

    A device saved these under looser limits (a 30 s sunrise, more alarms than today's
    MAX_ALARMS, an id the wire no longer accepts for new alarms); they still load, fire
    and are reported. Creating one more is refused (the wire limit applies to new ones).
    """
    scheduler, _ = scheduler_on(FakeClock(MONDAY_5AM))
    saved = [
        Alarm(f"old {n}", "06:00", (0,), duration=30.0).to_json() for n in range(MAX_ALARMS + 3)
    ]
    scheduler.load(saved)
    assert len(scheduler.alarms) == MAX_ALARMS + 3
    assert scheduler.alarms[0].duration == 30.0
    assert scheduler.payload(scheduler.alarms[0])["duration"] == 30.0
    command = validate_command("alarm.create", {"time": "07:00"})
    with pytest.raises(ProtocolError) as refused:
        await scheduler.create(command)  # type: ignore[arg-type]
    assert refused.value.code == "limit_reached"


# -- the device: clocks, fixtures and clients ------------------------------------------------


@pytest.fixture
async def start_clocked(
    settings: Settings, pin_factory: MockFactory
) -> AsyncIterator[Callable[..., Awaitable[Device]]]:
    """Start a device in Berlin on a given clock (default Monday 05:00); stopped at teardown."""
    running: list[DaybreakServer] = []

    async def start(clock: Callable[[], float] | None = None, **overrides: Any) -> Device:
        conf = replace(settings, **{"timezone": "Europe/Berlin", **overrides})
        output = GpiozeroOutput(conf.pin, conf.pwm_frequency(), pin_factory=pin_factory)
        server = DaybreakServer(conf, TOKEN, output=output, clock=clock or ShiftedClock(MONDAY_5AM))
        await server.start()
        running.append(server)
        return Device(server, output)

    yield start
    for server in running:
        await server.stop()


@pytest.fixture
async def berlin(start_clocked) -> Device:
    """A device in Berlin whose clock says Monday 2026-11-23 05:00 (CET)."""
    return await start_clocked()


@asynccontextmanager
async def rest_client(device: Device) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=device.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ) as client:
        yield client


@asynccontextmanager
async def sio_client(device: Device) -> AsyncIterator[tuple[socketio.AsyncClient, list[Any]]]:
    """A connected Socket.IO client and the list of states it receives."""
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    states: list[Any] = []
    sio.on("state", states.append)
    await sio.connect(device.url, auth={"token": TOKEN}, transports=["websocket"], wait_timeout=5)
    try:
        yield sio, states
    finally:
        await sio.disconnect()


@asynccontextmanager
async def recording_client(device: Device) -> AsyncIterator[Client]:
    """A connected client that records every push (see ``helpers.Client``)."""
    client = await Client.open(device.url)
    try:
        yield client
    finally:
        await client.sio.disconnect()


async def no_more_pushes(client: Client) -> None:
    """Wait two heartbeats: what the device was going to push has arrived by then."""
    beats = len(client.heartbeats)
    await client.wait_for(lambda: len(client.heartbeats) >= beats + 2)


async def call(sio: socketio.AsyncClient, event: str, *payload: Any) -> Any:
    return await sio.call(event, *payload, timeout=5)


def state_file(device: Device) -> Path:
    return device.server.settings.state_dir / "state.json"


async def wait_for(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := condition()):
            await asyncio.sleep(0.01)
    return result


WORKDAYS_0630 = {
    "name": "06:30",  # none given: named by its wake time
    "time": "06:30",
    "weekdays": [0, 1, 2, 3, 4],
    "date": None,
    "enabled": True,
    "duration": 1800.0,
    "target_brightness": 255.0,
    "curve": "linear",
}
TODAY_0630 = {"starts_at": "2026-11-23T06:00:00+01:00", "wake_at": "2026-11-23T06:30:00+01:00"}


# -- protocol: Socket.IO ------------------------------------------------------------------------


async def test_alarm_commands_over_socketio(berlin: Device) -> None:
    async with sio_client(berlin) as (sio, states):
        assert await call(sio, "alarms.list") == {
            "ok": True,
            "alarms": [],
            "state": {**(await call(sio, "state.get"))["state"], "next_sunrise": None},
        }
        ack = await call(sio, "alarm.create", {"time": "6:30", "weekdays": [4, 0, 1, 2, 3]})
        assert ack.keys() == {"ok", "alarm", "alarms", "state"}
        created = ack["alarm"]
        alarm_id = created["id"]
        assert len(alarm_id) == 8
        assert all(c in "0123456789abcdef" for c in alarm_id)
        assert created == {
            "id": alarm_id,
            **WORKDAYS_0630,
            "skip_next": False,
            "next_sunrise": TODAY_0630,
        }
        assert ack["alarms"] == [created]
        assert ack["state"]["next_sunrise"] == {"alarm_id": alarm_id, **TODAY_0630}
        # The change is pushed to clients as a state with the next sunrise.
        await wait_for(lambda: any(s["next_sunrise"] for s in states))

        assert await call(sio, "alarm.get", {"id": alarm_id}) == {**ack, "ok": True}
        ack = await call(
            sio,
            "alarm.update",
            {"id": alarm_id, "time": "07:15", "target_brightness": 180, "curve": "ease_in"},
        )
        assert ack["alarm"]["time"] == "07:15"
        assert ack["alarm"]["target_brightness"] == 180.0
        assert ack["alarm"]["curve"] == "ease_in"
        assert ack["alarm"]["next_sunrise"]["wake_at"] == "2026-11-23T07:15:00+01:00"

        ack = await call(sio, "alarm.skip_next", {"id": alarm_id})
        assert ack["alarm"]["skip_next"] is True
        assert ack["alarm"]["next_sunrise"]["wake_at"] == "2026-11-24T07:15:00+01:00"
        assert ack["state"]["next_sunrise"]["wake_at"] == "2026-11-24T07:15:00+01:00"
        ack = await call(sio, "alarm.skip_next", {"id": alarm_id, "skip": False})
        assert ack["alarm"]["skip_next"] is False

        second = (await call(sio, "alarm.create", {"time": "05:45", "enabled": False}))["alarm"]
        assert second["next_sunrise"] is None
        listed = await call(sio, "alarms.list")
        assert [a["id"] for a in listed["alarms"]] == [alarm_id, second["id"]]

        ack = await call(sio, "alarm.delete", {"id": alarm_id})
        assert ack.keys() == {"ok", "alarms", "state"}
        assert [a["id"] for a in ack["alarms"]] == [second["id"]]
        assert ack["state"]["next_sunrise"] is None
        await wait_for(lambda: states[-1]["next_sunrise"] is None)


async def test_alarm_names_over_socketio_and_rest(berlin: Device) -> None:
    async with sio_client(berlin) as (sio, _states):
        ack = await call(sio, "alarm.create", {"time": "06:30", "name": "Work days"})
        alarm_id = ack["alarm"]["id"]
        assert ack["alarm"]["name"] == "Work days"
        ack = await call(sio, "alarm.update", {"id": alarm_id, "name": "Early"})
        assert ack["alarm"]["name"] == ack["alarms"][0]["name"] == "Early"
        ack = await call(sio, "alarm.create", {"time": "06:30", "name": "x" * 41})
        assert ack["error"]["code"] == "invalid_payload"
    async with rest_client(berlin) as http:
        response = await http.patch(f"/api/alarms/{alarm_id}", json={"name": None})
        assert response.json()["alarm"]["name"] == "06:30"
        response = await http.post("/api/alarms", json={"time": "05:00", "name": "Gym"})
        assert response.json()["alarm"]["name"] == "Gym"


async def test_unknown_alarm_id_is_not_found_and_changes_nothing(berlin: Device) -> None:
    async with sio_client(berlin) as (sio, _states):
        await call(sio, "alarm.create", {"time": "06:30"})
        before = state_file(berlin).read_bytes()
        for event, payload in [
            ("alarm.get", {"id": "nope"}),
            ("alarm.update", {"id": "nope", "enabled": False}),
            ("alarm.delete", {"id": "nope"}),
            ("alarm.skip_next", {"id": "nope"}),
        ]:
            assert await call(sio, event, payload) == {
                "ok": False,
                "error": {"code": "not_found", "message": "no alarm with id 'nope'"},
            }
        assert state_file(berlin).read_bytes() == before


async def test_alarms_are_pushed_on_connect_and_after_every_change(berlin: Device) -> None:
    """Commands from another client or REST; each change is pushed once, refusals not."""
    async with (
        recording_client(berlin) as watcher,
        sio_client(berlin) as (sio, _states),
        rest_client(berlin) as http,
    ):
        await watcher.wait_for(lambda: watcher.alarms == [[]])
        acks = []

        async def changed(ack: dict[str, Any]) -> None:
            assert ack["ok"] is True, ack
            acks.append(ack["alarms"])
            await watcher.wait_for(lambda: len(watcher.alarms) == len(acks) + 1)
            assert watcher.alarms[-1] == ack["alarms"]

        await changed(await call(sio, "alarm.create", {"time": "06:30", "weekdays": [0, 1]}))
        alarm_id = acks[-1][0]["id"]
        await changed((await http.post("/api/alarms", json={"id": "mine", "time": "22:00"})).json())
        await changed(await call(sio, "alarm.update", {"id": alarm_id, "time": "07:00"}))
        await changed((await http.patch("/api/alarms/mine", json={"enabled": False})).json())
        await changed(await call(sio, "alarm.skip_next", {"id": alarm_id}))
        assert watcher.alarms[-1][0]["skip_next"] is True
        await changed((await http.delete(f"/api/alarms/{alarm_id}/skip")).json())
        await changed(await call(sio, "alarm.delete", {"id": alarm_id}))
        # Refused, read-only and no-op commands change nothing and push nothing.
        assert (await call(sio, "alarm.create", {"id": "mine", "time": "05:00"}))["ok"] is False
        assert (await http.delete("/api/alarms/nope")).status_code == 404
        assert (await call(sio, "alarm.skip_next", {"id": "mine", "skip": False}))["ok"] is True
        await call(sio, "alarms.list")
        await http.get("/api/alarms/mine")
        await call(sio, "light.set", {"brightness": 10})
        await no_more_pushes(watcher)
        assert watcher.alarms == [[], *acks]
        assert watcher.alarms[-1] == (await call(sio, "alarms.list"))["alarms"]
        assert [a["id"] for a in watcher.alarms[-1]] == ["mine"]
        assert watcher.events == []


async def test_create_with_an_id_over_both_transports(berlin: Device) -> None:
    async with sio_client(berlin) as (sio, _states), rest_client(berlin) as http:
        ack = await call(sio, "alarm.create", {"id": "wake-up_1", "time": "06:30"})
        assert ack["alarm"]["id"] == "wake-up_1"
        response = await http.post("/api/alarms", json={"id": "B-2", "time": "07:30"})
        assert response.status_code == 201
        assert response.headers["location"] == "/api/alarms/B-2"
        assert (await http.get("/api/alarms/B-2")).json()["time"] == "07:30"
        before = state_file(berlin).read_bytes()
        for taken in ("wake-up_1", "B-2"):
            conflict = {
                "ok": False,
                "error": {
                    "code": "conflict",
                    "message": f"an alarm with id {taken!r} exists already",
                },
            }
            assert await call(sio, "alarm.create", {"id": taken, "time": "05:00"}) == conflict
            response = await http.post("/api/alarms", json={"id": taken, "time": "05:00"})
            assert (response.status_code, response.json()) == (409, conflict)
        assert state_file(berlin).read_bytes() == before
        listed = (await call(sio, "alarms.list"))["alarms"]
        assert [(a["id"], a["time"]) for a in listed] == [("wake-up_1", "06:30"), ("B-2", "07:30")]
        # Without an id, the device still makes one up.
        made = (await call(sio, "alarm.create", {"time": "08:00"}))["alarm"]["id"]
        assert len(made) == 8


INVALID_ALARMS = [
    ({}, "required key not provided @ data['time']. Got None"),
    (
        {"time": "24:00"},
        (
            "expected a time of day as HH:MM (24-hour clock) for dictionary value @ data['time']. "
            "Got '24:00'"
        ),
    ),
    (
        {"time": "06:30:00"},
        (
            "expected a time of day as HH:MM (24-hour clock) for dictionary value @ data['time']. "
            "Got '06:30:00'"
        ),
    ),
    (
        {"time": 630},
        (
            "expected a time of day as HH:MM (24-hour clock) for dictionary value @ data['time']. "
            "Got 630"
        ),
    ),
    (
        {"time": "06:30", "weekdays": []},
        (
            "expected a non-empty list of weekdays, 0 (Monday) to 6 (Sunday) "
            "for dictionary value @ data['weekdays']. Got []"
        ),
    ),
    (
        {"time": "06:30", "weekdays": [7]},
        (
            "weekdays are whole numbers from 0 (Monday) to 6 (Sunday) "
            "for dictionary value @ data['weekdays']. Got [7]"
        ),
    ),
    (
        {"time": "06:30", "weekdays": ["mon"]},
        (
            "weekdays are whole numbers from 0 (Monday) to 6 (Sunday) "
            "for dictionary value @ data['weekdays']. Got ['mon']"
        ),
    ),
    (
        {"time": "06:30", "weekdays": [1, 1]},
        "a weekday is listed twice for dictionary value @ data['weekdays']. Got [1, 1]",
    ),
    (
        {"time": "06:30", "enabled": 1},
        "expected true or false for dictionary value @ data['enabled']. Got 1",
    ),
    (
        {"time": "06:30", "duration": 59},
        "must be between 60 and 10800 for dictionary value @ data['duration']. Got 59",
    ),
    (
        {"time": "06:30", "duration": 10801},
        "must be between 60 and 10800 for dictionary value @ data['duration']. Got 10801",
    ),
    (
        {"time": "06:30", "target_brightness": 0},
        "must be between 1 and 255 for dictionary value @ data['target_brightness']. Got 0",
    ),
    (
        {"time": "06:30", "curve": "sine"},
        (
            "must be one of linear, ease_in, ease_out, ease_in_out "
            "for dictionary value @ data['curve']. Got 'sine'"
        ),
    ),
    *(
        (
            {"time": "06:30", "id": bad},
            (
                "expected an alarm id of 1 to 64 letters, digits, '_' or '-' "
                f"for dictionary value @ data['id']. Got {bad!r}"
            ),
        )
        for bad in ("", "a b", "wake/up", "é", "x" * 65, 7, None)
    ),
]


@pytest.mark.parametrize(("payload", "message"), INVALID_ALARMS)
async def test_invalid_alarm_is_refused_over_both_transports(
    berlin: Device, payload: dict[str, Any], message: str
) -> None:
    invalid = {"ok": False, "error": {"code": "invalid_payload", "message": message}}
    async with sio_client(berlin) as (sio, _states), rest_client(berlin) as http:
        await call(sio, "alarm.create", {"time": "05:00"})
        before = state_file(berlin).read_bytes()
        assert await call(sio, "alarm.create", payload) == invalid
        response = await http.post("/api/alarms", json=payload)
        assert (response.status_code, response.json()) == (422, invalid)
        if "id" not in payload:  # the same rules for a change
            alarm_id = berlin.server.alarms.alarms[0].id
            update = {"id": alarm_id, **payload}
            ack = await call(sio, "alarm.update", update if payload else {"id": alarm_id})
            assert ack["ok"] is False
            assert ack["error"]["code"] == "invalid_payload"
        assert state_file(berlin).read_bytes() == before


@pytest.mark.parametrize(
    ("event", "payload", "message"),
    [
        (
            "alarm.update",
            {"id": "x"},
            (
                "give at least one of time, weekdays, enabled, duration, target_brightness, curve, "
                "color_path, start_kelvin, target_kelvin, date, name. "
                "Got {'id': 'x'}"
            ),
        ),
        ("alarm.update", {"enabled": True}, "required key not provided @ data['id']. Got None"),
        (
            "alarm.get",
            {"id": 5},
            (
                "expected an alarm id (a string of 1 to 64 characters) "
                "for dictionary value @ data['id']. Got 5"
            ),
        ),
        (
            "alarm.delete",
            {"id": ""},
            (
                "expected an alarm id (a string of 1 to 64 characters) "
                "for dictionary value @ data['id']. Got ''"
            ),
        ),
        (
            "alarm.skip_next",
            {"id": "x", "skip": "yes"},
            "expected true or false for dictionary value @ data['skip']. Got 'yes'",
        ),
        ("alarms.list", {"all": True}, "this command takes no payload. Got {'all': True}"),
    ],
)
async def test_other_alarm_commands_validate(
    berlin: Device, event: str, payload: Any, message: str
) -> None:
    async with sio_client(berlin) as (sio, _states):
        assert await call(sio, event, payload) == {
            "ok": False,
            "error": {"code": "invalid_payload", "message": message},
        }


async def test_at_most_twenty_alarms(berlin: Device) -> None:
    async with sio_client(berlin) as (sio, _states), rest_client(berlin) as http:
        for n in range(MAX_ALARMS):
            assert (await call(sio, "alarm.create", {"time": f"06:{n:02d}"}))["ok"] is True
        before = state_file(berlin).read_bytes()
        refusal = {
            "ok": False,
            "error": {"code": "limit_reached", "message": "there are 20 alarms already"},
        }
        assert await call(sio, "alarm.create", {"time": "07:00"}) == refusal
        response = await http.post("/api/alarms", json={"time": "07:00"})
        assert (response.status_code, response.json()) == (409, refusal)
        assert state_file(berlin).read_bytes() == before
        # Deleting one makes room again.
        first = berlin.server.alarms.alarms[0].id
        assert (await http.delete(f"/api/alarms/{first}")).status_code == 200
        assert (await http.post("/api/alarms", json={"time": "07:00"})).status_code == 201


# -- protocol: REST ---------------------------------------------------------------------------


async def test_alarm_endpoints(berlin: Device) -> None:
    async with rest_client(berlin) as http:
        response = await http.get("/api/alarms")
        assert (response.status_code, response.json()) == (200, [])

        response = await http.post(
            "/api/alarms", json={"time": "06:30", "weekdays": [0, 1, 2, 3, 4]}
        )
        assert response.status_code == 201
        ack = response.json()
        alarm_id = ack["alarm"]["id"]
        assert response.headers["location"] == f"/api/alarms/{alarm_id}"
        expected = {"id": alarm_id, **WORKDAYS_0630, "skip_next": False, "next_sunrise": TODAY_0630}
        assert ack["alarm"] == expected
        assert ack["alarms"] == [expected]
        assert ack["state"]["next_sunrise"] == {"alarm_id": alarm_id, **TODAY_0630}

        assert (await http.get("/api/alarms")).json() == [expected]
        response = await http.get(f"/api/alarms/{alarm_id}")
        assert (response.status_code, response.json()) == (200, expected)
        assert (await http.get("/api/state")).json()["next_sunrise"] == {
            "alarm_id": alarm_id,
            **TODAY_0630,
        }

        # PUT and PATCH change only what they name; an "id" in the body must match.
        response = await http.put(f"/api/alarms/{alarm_id}", json={"duration": 600})
        assert response.status_code == 200
        assert response.json()["alarm"]["duration"] == 600.0
        assert response.json()["alarm"]["time"] == "06:30"
        response = await http.patch(
            f"/api/alarms/{alarm_id}", json={"id": alarm_id, "enabled": False}
        )
        assert response.json()["alarm"]["enabled"] is False
        assert response.json()["state"]["next_sunrise"] is None
        response = await http.put(f"/api/alarms/{alarm_id}", json={"id": "other", "enabled": True})
        assert response.status_code == 422
        assert response.json()["error"]["message"] == "'id' in the body differs from the path"
        response = await http.put(f"/api/alarms/{alarm_id}")
        assert response.status_code == 422
        assert response.json()["error"]["message"].startswith("give at least one of time")
        response = await http.put(f"/api/alarms/{alarm_id}", json=["enabled"])
        assert response.json()["error"]["message"] == "payload must be a JSON object"
        response = await http.put(f"/api/alarms/{alarm_id}", content=b"{")
        assert response.status_code == 400

        await http.put(f"/api/alarms/{alarm_id}", json={"enabled": True})
        response = await http.post(f"/api/alarms/{alarm_id}/skip")
        assert response.status_code == 200
        assert response.json()["alarm"]["skip_next"] is True
        response = await http.delete(f"/api/alarms/{alarm_id}/skip")
        assert response.json()["alarm"]["skip_next"] is False

        response = await http.delete(f"/api/alarms/{alarm_id}")
        assert response.status_code == 200
        assert response.json()["alarms"] == []
        for method, path in [
            ("GET", f"/api/alarms/{alarm_id}"),
            ("PUT", f"/api/alarms/{alarm_id}"),
            ("DELETE", f"/api/alarms/{alarm_id}"),
            ("POST", f"/api/alarms/{alarm_id}/skip"),
        ]:
            body = {"enabled": True} if method == "PUT" else None
            response = await http.request(method, path, json=body)
            assert (response.status_code, response.json()) == (
                404,
                {
                    "ok": False,
                    "error": {"code": "not_found", "message": f"no alarm with id {alarm_id!r}"},
                },
            )


async def test_alarm_endpoints_need_the_token_and_the_right_method(berlin: Device) -> None:
    async with httpx.AsyncClient(base_url=berlin.url, timeout=5) as anonymous:
        for method, path in [
            ("GET", "/api/alarms"),
            ("POST", "/api/alarms"),
            ("GET", "/api/alarms/x"),
            ("PUT", "/api/alarms/x"),
            ("PATCH", "/api/alarms/x"),
            ("DELETE", "/api/alarms/x"),
            ("POST", "/api/alarms/x/skip"),
            ("DELETE", "/api/alarms/x/skip"),
        ]:
            response = await anonymous.request(method, path, json={"time": "06:00"})
            assert response.status_code == 401, (method, path)
            assert response.json()["error"]["code"] == "unauthorized"
    async with rest_client(berlin) as http:
        for method, path in [
            ("DELETE", "/api/alarms"),
            ("POST", "/api/alarms/x"),
            ("GET", "/api/alarms/x/skip"),
        ]:
            response = await http.request(method, path)
            assert response.status_code == 405, (method, path)
            assert response.json()["error"]["code"] == "method_not_allowed"
    assert berlin.server.alarms.alarms == []


# -- firing on the device --------------------------------------------------------------------


async def test_alarm_created_inside_its_window_joins_it_and_a_light_command_cancels_it(
    start_clocked,
) -> None:
    clock = ShiftedClock(at(BERLIN, 2026, 11, 23, 6, 18))  # 18 of 30 minutes in
    device: Device = await start_clocked(clock)
    async with rest_client(device) as http:
        ack = (
            await http.post("/api/alarms", json={"time": "06:30", "target_brightness": 200})
        ).json()
        sunrise = await wait_for(lambda: device.server.state()["sunrise"])
        start = at(BERLIN, 2026, 11, 23, 6, 0)
        assert sunrise["started_at"] == iso_utc(start)
        assert sunrise["ends_at"] == iso_utc(start + 1800)
        assert sunrise["target_brightness"] == 200.0
        level = device.server.state()["level"]
        assert level == pytest.approx(200 * (clock() - start) / 1800, abs=0.5)  # ~120
        assert device.pin.state == pytest.approx(CIE.duty(level), abs=0.01)
        # It fired: the next one is tomorrow's.
        assert device.server.state()["next_sunrise"]["wake_at"] == "2026-11-24T06:30:00+01:00"

        response = await http.post("/api/light", json={"brightness": 40})
        assert response.json()["state"]["sunrise"] is None
        await device.server.alarms.check()
        state = (await http.get("/api/state")).json()
        assert (state["sunrise"], state["level"]) == (None, 40.0)
        assert ack["alarm"]["id"] == device.server.alarms.alarms[0].id


def event_time(payload: dict[str, Any]) -> float:
    """The ``time`` of a pushed event (ISO 8601 UTC) as epoch seconds."""
    when = datetime.fromisoformat(payload["time"])
    assert when.utcoffset() == timedelta(0)
    return when.timestamp()


async def test_an_alarm_fires_then_its_sunrise_starts_and_finishes(start_clocked) -> None:
    """Created in the last 1.5 s of its window: it fires at once and its sunrise (joined
    at the level its schedule calls for) finishes at the wake time, all with its id."""
    wake = at(BERLIN, 2026, 11, 23, 6, 30)
    clock = ShiftedClock(wake - 1.5)
    device: Device = await start_clocked(clock)
    async with recording_client(device) as watcher, rest_client(device) as http:
        body = {"id": "late", "time": "06:30", "duration": 60, "target_brightness": 200}
        assert (await http.post("/api/alarms", json=body)).status_code == 201
        await watcher.wait_for(lambda: len(watcher.events) == 3)
        fired, started, finished = watcher.events
        assert fired == (
            "alarm.fired",
            {
                "time": fired[1]["time"],
                "alarm_id": "late",
                "wake_at": "2026-11-23T06:30:00+01:00",
                "sunrise": True,
            },
        )
        sunrise = {"alarm_id": "late", "target_brightness": 200.0, "duration": 60.0}
        assert started == ("sunrise.started", {"time": started[1]["time"], **sunrise})
        assert finished == ("sunrise.finished", {"time": finished[1]["time"], **sunrise})
        assert wake - 1.5 <= event_time(fired[1]) <= event_time(started[1]) < wake - 1.2
        assert event_time(finished[1]) == pytest.approx(wake, abs=0.1)
        # While it ran, the state said which alarm it was; then it has reached its target.
        assert {s["sunrise"]["alarm_id"] for s in watcher.states if s["sunrise"]} == {"late"}
        final = await watcher.wait_for_state(lambda s: s["sunrise"] is None and s["on"])
        assert final["level"] == 200.0
        # The alarm moved on to tomorrow, and that was pushed.
        await watcher.wait_for(
            lambda: watcher.alarms[-1][0]["next_sunrise"]["wake_at"] == "2026-11-24T06:30:00+01:00"
        )
        await no_more_pushes(watcher)
        assert len(watcher.events) == 3


async def test_an_alarm_firing_on_time_moves_it_on_and_a_stop_cancels_its_sunrise(
    start_clocked,
) -> None:
    start = at(BERLIN, 2026, 11, 23, 6, 0)
    device: Device = await start_clocked(ShiftedClock(start - 1))
    async with recording_client(device) as watcher, rest_client(device) as http:
        await watcher.wait_for(lambda: watcher.alarms == [[]])
        created = (await http.post("/api/alarms", json={"time": "06:30"})).json()
        alarm_id = created["alarm"]["id"]
        assert created["alarm"]["next_sunrise"] == TODAY_0630
        await watcher.wait_for(lambda: len(watcher.events) == 2)
        fired, started = watcher.events
        assert fired[0] == "alarm.fired"
        assert (fired[1]["alarm_id"], fired[1]["wake_at"]) == (alarm_id, TODAY_0630["wake_at"])
        assert start <= event_time(fired[1]) < start + 0.5  # at its start
        assert started == (
            "sunrise.started",
            {
                "time": started[1]["time"],
                "alarm_id": alarm_id,
                "target_brightness": 255.0,
                "duration": 1800.0,
            },
        )
        # The alarms as created, then as fired: tomorrow's occurrence is next.
        after = (await http.get("/api/alarms")).json()
        assert after[0]["next_sunrise"]["wake_at"] == "2026-11-24T06:30:00+01:00"
        await watcher.wait_for(lambda: watcher.alarms == [[], created["alarms"], after])
        state = (await http.get("/api/state")).json()
        assert state["sunrise"]["alarm_id"] == alarm_id
        assert state["sunrise"]["started_at"] == iso_utc(start)

        await watcher.wait_for(lambda: len(watcher.states) >= 5)  # progress pushes
        stopped = (await http.delete("/api/sunrise")).json()
        assert stopped["state"]["sunrise"] is None
        await watcher.wait_for(lambda: len(watcher.events) == 3)
        assert watcher.events[2] == (
            "sunrise.cancelled",
            {**started[1], "time": watcher.events[2][1]["time"]},
        )
        await no_more_pushes(watcher)
        assert len(watcher.events) == 3
        # The ramp's progress pushed states, never the alarms.
        assert watcher.alarms == [[], created["alarms"], after]


async def test_an_alarm_never_dims_the_light(start_clocked, caplog) -> None:
    """The light is brighter than the alarm's target: it fires without a sunrise."""
    caplog.set_level(logging.INFO, logger="daybreak_device")
    device: Device = await start_clocked(ShiftedClock(at(BERLIN, 2026, 11, 23, 6, 10)))
    async with rest_client(device) as http, recording_client(device) as watcher:
        await http.post("/api/light", json={"brightness": 220})
        body = {"id": "gentle", "time": "06:30", "target_brightness": 200}
        await http.post("/api/alarms", json=body)
        await wait_for(lambda: device.server.alarms.alarms[0].last_wake)
        state = (await http.get("/api/state")).json()
        assert (state["sunrise"], state["level"]) == (None, 220.0)
        await watcher.wait_for(lambda: watcher.events)
        await no_more_pushes(watcher)
        (name, fired), *more = watcher.events
        assert (name, more) == ("alarm.fired", [])
        assert fired == {
            "time": fired["time"],
            "alarm_id": "gentle",
            "wake_at": "2026-11-23T06:30:00+01:00",
            "sunrise": False,
        }
        assert event_time(fired) == pytest.approx(at(BERLIN, 2026, 11, 23, 6, 10), abs=2)
    assert "already that bright; left alone" in caplog.text


async def test_restart_inside_the_window_starts_at_the_right_point(
    start_clocked, settings: Settings, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="daybreak_device")
    first: Device = await start_clocked()
    async with rest_client(first) as http:
        created = (
            await http.post(
                "/api/alarms",
                json={
                    "time": "06:30",
                    "duration": 1800,
                    "target_brightness": 200,
                    "curve": "linear",
                },
            )
        ).json()["alarm"]
    await first.server.stop()

    # The device was off when the sunrise should have started; it boots 12 minutes in.
    start, wake = at(BERLIN, 2026, 11, 23, 6, 0), at(BERLIN, 2026, 11, 23, 6, 30)
    clock = ShiftedClock(start + 720)
    second: Device = await start_clocked(clock)
    sunrise = await wait_for(lambda: second.server.state()["sunrise"])
    assert sunrise["started_at"] == iso_utc(start)
    assert sunrise["ends_at"] == iso_utc(wake)
    assert sunrise["alarm_id"] == created["id"]
    state = second.server.state()
    assert state["level"] == pytest.approx(200 * (clock() - start) / 1800, abs=0.5)  # 80
    assert second.pin.state == pytest.approx(CIE.duty(state["level"]), abs=0.01)
    saved = await wait_for(
        lambda: (data := json.loads(state_file(second).read_text()))["ramp"] and data
    )
    assert saved["alarms"][0]["id"] == created["id"]
    assert saved["alarms"][0]["last_wake"] == wake  # saved in the same write as the ramp
    assert saved["ramp"]["started_at"] == start
    assert saved["ramp"]["alarm_id"] == created["id"]
    assert "s late: joining it" in caplog.text
    await second.server.stop()

    # Restarted again inside the window: the saved sunrise resumes, still the alarm's,
    # and the alarm does not fire a second time (no events: nothing started or fired).
    caplog.clear()
    third: Device = await start_clocked(ShiftedClock(start + 1500))
    async with recording_client(third) as watcher:
        await asyncio.sleep(0.1)
        assert "Resuming sunrise" in caplog.text
        assert "joining it" not in caplog.text
        state = third.server.state()
        assert state["sunrise"]["started_at"] == iso_utc(start)
        assert state["sunrise"]["alarm_id"] == created["id"]
        assert state["level"] == pytest.approx(200 * 1500 / 1800, abs=0.5)
        assert state["next_sunrise"]["wake_at"] == "2026-11-24T06:30:00+01:00"
        await no_more_pushes(watcher)
        assert watcher.states[0]["sunrise"]["alarm_id"] == created["id"]
        assert watcher.events == []


async def test_a_clock_jump_into_the_window_is_noticed_and_the_sunrise_ends_on_time(
    start_clocked,
) -> None:
    """Real time: the clock jumps into the last seconds of a 60 s sunrise's window.

    The scheduler notices at its next re-check (within 5 s), joins the sunrise, and
    the LED reaches the target within 1 s of the wake time.
    """
    wake = at(BERLIN, 2026, 11, 23, 6, 30)
    clock = ShiftedClock(wake - 80)  # 20 s before the sunrise start
    device: Device = await start_clocked(clock)
    async with rest_client(device) as http:
        body = {"time": "06:30", "duration": 60, "target_brightness": 255}
        assert (await http.post("/api/alarms", json=body)).status_code == 201
    await asyncio.sleep(0.1)  # the scheduler now sleeps toward the start
    clock.set(wake - 6.5)
    sunrise = await wait_for(lambda: device.server.state()["sunrise"], timeout=6)
    assert sunrise["started_at"] == iso_utc(wake - 60)
    reached = await wait_for(lambda: device.pin.state == 1.0 and clock(), timeout=8)
    assert abs(reached - wake) < 1.0, reached - wake


# -- persistence ----------------------------------------------------------------------------


async def test_alarms_and_their_bookkeeping_persist(start_clocked, settings: Settings) -> None:
    first: Device = await start_clocked()
    async with rest_client(first) as http:
        a = (await http.post("/api/alarms", json={"time": "06:30", "weekdays": [0, 2]})).json()
        b = (await http.post("/api/alarms", json={"time": "22:00", "enabled": False})).json()
        await http.post(f"/api/alarms/{a['alarm']['id']}/skip")
        listed = (await http.get("/api/alarms")).json()
    saved = json.loads(state_file(first).read_text())
    assert saved["version"] == 1
    assert saved["alarms"] == [
        {
            "id": a["alarm"]["id"],
            "name": None,
            "time": "06:30",
            "weekdays": [0, 2],
            "date": None,
            "enabled": True,
            "duration": 1800.0,
            "target_brightness": 255.0,
            "curve": "linear",
            "last_wake": None,
            "skip_wake": at(BERLIN, 2026, 11, 23, 6, 30),
        },
        {
            "id": b["alarm"]["id"],
            "name": None,
            "time": "22:00",
            "weekdays": [0, 1, 2, 3, 4, 5, 6],
            "date": None,
            "enabled": False,
            "duration": 1800.0,
            "target_brightness": 255.0,
            "curve": "linear",
            "last_wake": None,
            "skip_wake": None,
        },
    ]
    await first.server.stop()
    assert sorted(p.name for p in settings.state_dir.iterdir()) == ["device_id", "state.json"]

    second: Device = await start_clocked()
    async with rest_client(second) as http:
        assert (await http.get("/api/alarms")).json() == listed
        # Light commands keep the alarms in the file.
        await http.post("/api/light", json={"brightness": 10})
    assert json.loads(state_file(second).read_text())["alarms"] == saved["alarms"]


async def test_an_old_state_file_without_alarms_has_none(start_clocked, settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True)
    old = {"version": 1, "on": True, "level": 42.0, "on_brightness": 42.0, "ramp": None}
    (settings.state_dir / "state.json").write_text(json.dumps(old))
    device: Device = await start_clocked()
    assert device.server.alarms.alarms == []
    assert device.server.state()["level"] == 42.0
    async with rest_client(device) as http:
        await http.post("/api/alarms", json={"time": "07:00"})
    saved = json.loads(state_file(device).read_text())
    assert {k: saved[k] for k in old} == old
    assert len(saved["alarms"]) == 1


async def test_a_bad_light_state_keeps_the_alarms_and_bad_alarms_keep_the_light(
    start_clocked, settings: Settings, caplog
) -> None:
    settings.state_dir.mkdir(parents=True)
    good = Alarm("abc", "06:30", (0,)).to_json()
    (settings.state_dir / "state.json").write_text(
        json.dumps({"version": 1, "on": "yes", "alarms": [good, {"id": "bad"}]})
    )
    device: Device = await start_clocked()
    assert [a.id for a in device.server.alarms.alarms] == ["abc"]
    assert device.server.state()["level"] == 0.0
    assert "Dropping an invalid saved alarm" in caplog.text
    await device.server.stop()
    (settings.state_dir / "state.json").write_text(
        json.dumps({"version": 1, "on": True, "level": 9, "on_brightness": 9, "alarms": "x"})
    )
    device = await start_clocked()
    assert device.server.alarms.alarms == []
    assert device.server.state()["level"] == 9.0


async def test_a_failed_save_leaves_the_alarms_as_they_were(berlin: Device, monkeypatch) -> None:
    async with sio_client(berlin) as (sio, _states):
        kept = (await call(sio, "alarm.create", {"time": "06:00"}))["alarm"]

        def broken(path: Path, data: Any) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(statefile_module, "atomic_write_json", broken)
        for event, payload in [
            ("alarm.create", {"time": "07:00"}),
            ("alarm.update", {"id": kept["id"], "time": "08:00"}),
            ("alarm.delete", {"id": kept["id"]}),
        ]:
            ack = await call(sio, event, payload)
            assert ack["error"]["code"] == "storage_error"
        monkeypatch.undo()
        assert (await call(sio, "alarms.list"))["alarms"] == [kept]


def test_the_state_file_refuses_a_section_under_the_lights_keys(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "s.json")
    light_module.LightController(RecordingOutput(time.time), Dimmer(), store)
    with pytest.raises(ValueError, match=r"\['ramp'\] belong to another section"):
        store.add_section(frozenset({"ramp", "alarms"}), load=lambda _: None, dump=dict)
    with pytest.raises(ValueError, match="version"):
        store.add_section(frozenset({"version"}), load=lambda _: None, dump=dict)


# -- end to end, in a time-travelling event loop ----------------------------------------------


class TimeTravelLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock can skip idle time.

    While ``travelling``, whenever the loop would block waiting for its next timer and
    no I/O is ready, it moves its clock to that timer instead. Everything scheduled on
    the loop (sleeps, the ramp engine's 50 Hz ticks, timeouts) happens in order and at
    its exact (virtual) time, just without the waiting.
    """

    def __init__(self) -> None:
        super().__init__()
        self.offset = 0.0
        self.travelling = False
        real_select = self._selector.select

        def select(timeout: float | None = None) -> Any:
            if self.travelling and timeout is not None and timeout > 0:
                events = real_select(0)
                if events:
                    return events
                self.offset += timeout
                return []
            return real_select(timeout)

        self._selector.select = select  # type: ignore[method-assign]

    def time(self) -> float:
        return super().time() + self.offset


class RecordingOutput:
    """An LED output that records ``(wall clock, duty)`` for every write."""

    description = "recording output"

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.writes: list[tuple[float, float]] = []

    @property
    def duty(self) -> float:
        return self.writes[-1][1] if self.writes else 0.0

    def set_duty(self, duty: float) -> None:
        self.writes.append((self.clock(), duty))

    def close(self, *, turn_off: bool) -> None:
        pass


@pytest.mark.parametrize(
    ("zone", "wake_local", "time_", "weekday"),
    [
        ("Europe/Berlin", "2026-11-23T06:30:00+01:00", "06:30", 0),
        ("Europe/Berlin", "2026-03-29T03:30:00+02:00", "02:30", 6),  # in the DST gap
        ("America/New_York", "2026-11-01T01:30:00-04:00", "01:30", 6),  # twice that night
    ],
    ids=["berlin", "berlin-dst-gap", "new-york-dst-overlap"],
)
def test_an_alarm_set_fires_a_sunrise_that_ends_at_the_wake_time(
    settings: Settings, zone: str, wake_local: str, time_: str, weekday: int
) -> None:
    """Set an alarm over REST; the device's own scheduler and engine do the rest.

    The device's wall clock is the time-travelling loop's clock, started 30 s before
    the sunrise start. The recorded LED writes show the sunrise starting at its start,
    following its curve and reaching the target within 1 s of the wake time (in fact
    within one 20 ms tick).
    """
    tz = ZoneInfo(zone)
    wake = datetime.fromisoformat(wake_local).timestamp()
    duration, target = 300.0, 200.0
    start = wake - duration
    conf = replace(settings, timezone=zone, heartbeat_interval=10.0)

    async def scenario() -> tuple[RecordingOutput, dict[str, Any], dict[str, Any]]:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, TimeTravelLoop)
        origin = loop.time()
        clock = lambda: start - 30 + (loop.time() - origin)  # noqa: E731
        output = RecordingOutput(clock)
        server = DaybreakServer(conf, TOKEN, output=output, clock=clock)
        await server.start()
        try:
            device = Device(server, output)  # type: ignore[arg-type]
            async with rest_client(device) as http:
                response = await http.post(
                    "/api/alarms",
                    json={
                        "time": time_,
                        "weekdays": [weekday],
                        "duration": duration,
                        "target_brightness": target,
                        "curve": "ease_in",
                    },
                )
            assert response.status_code == 201
            created = response.json()
            loop.travelling = True
            await asyncio.sleep(wake + 10 - clock())
            loop.travelling = False
            async with rest_client(device) as http:
                after = (await http.get("/api/state")).json()
        finally:
            await server.stop()
        return output, created, after

    with asyncio.Runner(loop_factory=TimeTravelLoop) as runner:
        output, created, after = runner.run(scenario())

    assert created["alarm"]["next_sunrise"] == {
        "starts_at": local(start, tz),
        "wake_at": wake_local,
    }
    assert created["state"]["next_sunrise"]["wake_at"] == wake_local
    writes = output.writes
    assert all(duty == 0.0 for t, duty in writes if t < start)
    ramp = [(t, duty) for t, duty in writes if start <= t < wake]
    assert ramp[0][0] == pytest.approx(start, abs=0.05)  # it starts on time
    assert len(ramp) == pytest.approx(duration * 50, rel=0.05)  # 50 Hz all the way
    for t, duty in ramp:  # on the ease_in curve, in perceived brightness
        expected = target * ((t - start) / duration) ** 2
        assert CIE.brightness(duty) == pytest.approx(expected, abs=0.5)
    reached = next(t for t, duty in writes if duty == CIE.duty(target))
    assert abs(reached - wake) < 1.0
    assert reached == pytest.approx(wake, abs=0.03)
    assert all(duty == CIE.duty(target) for t, duty in writes if t >= reached)
    # After it: full target, no sunrise, and the next one a week later (in New York not
    # the second 01:30 of the same night).
    assert (after["on"], after["level"], after["sunrise"]) == (True, target, None)
    next_wake = datetime.fromisoformat(after["next_sunrise"]["wake_at"])
    assert next_wake.date() == datetime.fromisoformat(wake_local).date() + timedelta(days=7)


# -- what the device logs and says (found untested by scripts/mutate) ------------------------


def alarm_log(caplog) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == alarms_module.__name__]


async def test_the_alarm_log_tells_each_change_and_sunrise(caplog) -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 10))  # inside the 06:00-06:30 window
    scheduler, fired = scheduler_on(clock)
    with caplog.at_level(logging.INFO, logger=alarms_module.__name__):
        a = await scheduler.create(create_command(time="06:30", duration=1800, weekdays=[0, 2]))
        await scheduler.check()
        await scheduler.update({"id": a.id, "enabled": False, "target_brightness": 127.5})
        await scheduler.update({"id": a.id, "enabled": True})
        await scheduler.skip_next(a.id)
        await scheduler.skip_next(a.id)  # already skipped: nothing to do, nothing said
        await scheduler.skip_next(a.id, skip=False)
        await scheduler.delete(a.id)
    assert alarm_log(caplog) == [
        (logging.INFO, "Alarm id0 created: 06:30 [M,W] on, 1800 s to 255"),
        (
            logging.INFO,
            (
                "Alarm id0: sunrise from 2026-11-23T06:00:00+01:00 to 2026-11-23T06:30:00+01:00"
                " (noticed 600 s late: joining it)"
            ),
        ),
        (logging.INFO, "Alarm id0 changed: 06:30 [M,W] off, 1800 s to 127.5"),
        (logging.INFO, "Alarm id0 changed: 06:30 [M,W] on, 1800 s to 127.5"),
        (logging.INFO, "Alarm id0: next occurrence skipped"),
        (logging.INFO, "Alarm id0: next occurrence un-skipped"),
        (logging.INFO, "Alarm id0 deleted"),
    ]
    assert len(fired.fires) == 1


async def test_an_alarm_on_time_is_not_called_late(caplog) -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 0) + 0.5)
    scheduler, _ = scheduler_on(clock)
    with caplog.at_level(logging.INFO, logger=alarms_module.__name__):
        await scheduler.create(create_command(time="06:30", duration=1800, weekdays=[5, 6, 0]))
        await scheduler.check()
    assert alarm_log(caplog)[-1] == (
        logging.INFO,
        "Alarm id0: sunrise from 2026-11-23T06:00:00+01:00 to 2026-11-23T06:30:00+01:00",
    )
    assert alarm_log(caplog)[0] == (
        logging.INFO,
        "Alarm id0 created: 06:30 [M,S,S] on, 1800 s to 255",  # Monday first
    )


async def test_refusals_say_what_is_wrong() -> None:
    scheduler, _ = scheduler_on(FakeClock(MONDAY_5AM))
    await scheduler.create(create_command(id="kitchen", time="06:30"))
    with pytest.raises(ProtocolError) as info:
        await scheduler.create(create_command(id="kitchen", time="07:00"))
    assert (info.value.code, info.value.message) == (
        "conflict",
        "an alarm with id 'kitchen' exists already",
    )
    with pytest.raises(ProtocolError) as info:
        scheduler.get("x" * 100)
    assert (info.value.code, info.value.message) == ("not_found", f"no alarm with id {'x' * 64!r}")
    for _ in range(MAX_ALARMS - 1):
        await scheduler.create(create_command(time="06:30"))
    with pytest.raises(ProtocolError) as info:
        await scheduler.create(create_command(time="06:30"))
    assert (info.value.code, info.value.message) == ("limit_reached", "there are 20 alarms already")


def test_loading_says_why_an_alarm_is_dropped(caplog) -> None:
    scheduler, _ = scheduler_on(FakeClock(MONDAY_5AM))
    good = Alarm("good", "06:30", (0,)).to_json()
    with caplog.at_level(logging.WARNING, logger=alarms_module.__name__):
        scheduler.load({"not": "a list"})
        scheduler.load([good, good, {**good, "id": "x", "time": "6:30"}])
    assert alarm_log(caplog) == [
        (logging.WARNING, "Saved alarms are not a list; starting without alarms"),
        (logging.WARNING, "Dropping saved alarm 'good': duplicate id or over the limit"),
        (
            logging.WARNING,
            "Dropping an invalid saved alarm (time is not HH:MM): "
            + repr({**good, "id": "x", "time": "6:30"}),
        ),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": 5}, "alarm id missing or invalid"),
        ({"id": ""}, "alarm id missing or invalid"),
        ({"id": "x" * 65}, "alarm id missing or invalid"),
        ({"time": "24:00"}, "time is not HH:MM"),
        ({"time": 630}, "time is not HH:MM"),
        ({"weekdays": []}, "weekdays are not distinct days 0-6"),
        ({"weekdays": [1, 1]}, "weekdays are not distinct days 0-6"),
        ({"weekdays": [7]}, "weekdays are not distinct days 0-6"),
        ({"weekdays": [-1]}, "weekdays are not distinct days 0-6"),
        ({"weekdays": [True]}, "weekdays are not distinct days 0-6"),
        ({"weekdays": "0"}, "weekdays are not distinct days 0-6"),
        ({"enabled": 1}, "enabled is not a boolean"),
        ({"duration": "60"}, "duration is not a number"),
        ({"duration": True}, "duration is not a number"),
        ({"duration": math.nan}, "duration is not finite"),
        ({"duration": 10**400}, "duration is not finite"),
        ({"target_brightness": math.inf}, "target_brightness is not finite"),
        ({"duration": 0}, "duration or target brightness out of range"),
        ({"target_brightness": 0}, "duration or target brightness out of range"),
        ({"target_brightness": 255.5}, "duration or target brightness out of range"),
        ({"curve": "sine"}, "curve unknown"),
        ({"last_wake": "1"}, "alarm bookkeeping is not a finite number or null"),
        ({"skip_wake": math.inf}, "alarm bookkeeping is not a finite number or null"),
        ({"last_wake": False}, "alarm bookkeeping is not a finite number or null"),
    ],
)
def test_stored_alarm_refusals(change: dict[str, Any], message: str) -> None:
    data = {**Alarm("a", "06:30", (0,)).to_json(), **change}
    with pytest.raises(ValueError) as info:
        Alarm.from_json(data)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "change",
    [
        {"time": "00:00"},
        {"time": "23:59"},
        {"time": "19:05"},
        {"weekdays": [6, 0]},
        {"weekdays": [0, 1, 2, 3, 4, 5, 6]},
        {"target_brightness": 255},
        {"target_brightness": 0.5},
        {"duration": 0.1},
        {"last_wake": 5, "skip_wake": 7.5},
        {"id": "x" * 64},
        {"id": "a b"},
    ],
)
def test_stored_alarms_at_the_limits_load(change: dict[str, Any]) -> None:
    data = {**Alarm("a", "06:30", (0,)).to_json(), **change}
    alarm = Alarm.from_json(data)
    expected = {**data, "weekdays": sorted(data["weekdays"])}
    for key in ("duration", "target_brightness", "last_wake", "skip_wake"):
        if expected[key] is not None:
            expected[key] = float(expected[key])
    assert alarm.to_json() == expected


def test_stored_alarm_defaults_for_old_files() -> None:
    assert Alarm.from_json({"id": "old", "time": "07:15"}) == Alarm(
        "old", "07:15", (0, 1, 2, 3, 4, 5, 6), True, 1800.0, 255.0, "linear", None, None
    )
    assert Alarm.from_json({"id": "a", "time": "07:15"}).hour == 7
    assert Alarm.from_json({"id": "a", "time": "07:15"}).minute == 15
    with pytest.raises(ValueError, match=r"^alarm is not an object$"):
        Alarm.from_json(["id", "a"])


# -- the system's time zone, on a fake /etc ---------------------------------------------------


@pytest.fixture
def etc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root for /etc/localtime and /etc/timezone; no TZ in the environment."""
    monkeypatch.delenv("TZ", raising=False)
    monkeypatch.setattr(alarms_module, "Path", lambda p: tmp_path / p.lstrip("/"))
    (tmp_path / "etc").mkdir()
    return tmp_path


def test_the_zone_of_an_etc_localtime_link(etc: Path) -> None:
    berlin = etc / "usr" / "share" / "zoneinfo" / "Europe" / "Berlin"
    berlin.parent.mkdir(parents=True)
    berlin.write_bytes(b"")  # only the link's name counts: ZoneInfo reads the system's data
    (etc / "etc" / "localtime").symlink_to(berlin)
    (etc / "etc" / "timezone").write_text("America/New_York\n")
    assert local_timezone() == BERLIN
    assert zone_name(local_timezone()) == "Europe/Berlin"


def test_a_dangling_localtime_link_is_not_taken(etc: Path) -> None:
    (etc / "etc" / "localtime").symlink_to(etc / "usr" / "share" / "zoneinfo" / "Asia" / "Tokyo")
    assert local_timezone() == UTC
    (etc / "etc" / "timezone").write_text("  America/New_York \n")
    assert local_timezone() == NEW_YORK


def test_etc_timezone_then_the_localtime_file_itself(etc: Path) -> None:
    localtime = etc / "etc" / "localtime"
    localtime.write_bytes(Path("/usr/share/zoneinfo/Asia/Tokyo").read_bytes())  # a copy
    (etc / "etc" / "timezone").write_bytes(b"\xff\xfe not text")
    tz = local_timezone()  # /etc/timezone unreadable: the zone in /etc/localtime's data
    assert zone_name(tz) == "localtime"
    assert datetime(2026, 7, 1, tzinfo=tz).utcoffset() == timedelta(hours=9)
    (etc / "etc" / "timezone").write_text("America/New_York\n")
    assert local_timezone() == NEW_YORK
    localtime.write_bytes(b"not a zone file")
    (etc / "etc" / "timezone").unlink()
    assert local_timezone() == UTC


@pytest.mark.parametrize("name", ["Europe", "../etc/passwd", "Mars/Olympus_Mons", "/"])
def test_a_tz_that_names_no_zone_is_passed_over(
    etc: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("TZ", name)
    (etc / "etc" / "timezone").write_text("America/New_York\n")
    assert local_timezone() == NEW_YORK


def test_unknown_zone_message_and_zone_names() -> None:
    with pytest.raises(ValueError) as info:
        load_timezone("Mars/Olympus_Mons")
    assert str(info.value) == "unknown time zone 'Mars/Olympus_Mons'"
    assert zone_name(BERLIN) == "Europe/Berlin"
    assert zone_name(UTC) == "UTC"
    assert zone_name(timezone(timedelta(hours=2))) == "UTC+02:00"

    class Nameless(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta:
            return timedelta(0)

        def tzname(self, dt: datetime | None) -> None:
            return None

    assert zone_name(Nameless()) == "UTC"


async def test_the_scheduler_task_is_named_and_stopped() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, _ = scheduler_on(clock)
    scheduler.start()
    await asyncio.sleep(0)

    def names() -> set[str]:
        return {t.get_name() for t in asyncio.all_tasks() if not t.done()}

    assert "daybreak alarms" in names()
    await scheduler.stop()
    assert "daybreak alarms" not in names()
    await scheduler.stop()  # twice is fine


async def test_loading_then_checking_unchanged_alarms_tells_nobody() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, _ = scheduler_on(clock)
    scheduler.load([Alarm("a", "06:30", (0,)).to_json()])
    heard: list[str] = []
    remove = scheduler.add_listener(lambda: heard.append("alarms"))
    await scheduler.check()
    assert heard == []  # what clients saw at load is what they see now
    await scheduler.update({"id": "a", "time": "07:00"})
    assert heard == ["alarms"]
    remove()
    await scheduler.update({"id": "a", "time": "07:30"})
    assert heard == ["alarms"]


async def test_a_made_up_id_that_is_taken_is_made_up_again() -> None:
    clock = FakeClock(MONDAY_5AM)
    ids = iter(["taken", "taken", "fresh"])
    fired = Fired(clock)
    scheduler = AlarmScheduler(
        BERLIN, fire=fired.fire, save=fired.save, clock=clock, new_id=lambda: next(ids)
    )
    await scheduler.create(create_command(time="06:30"))
    created = await scheduler.create(create_command(time="07:30"))
    assert [a.id for a in scheduler.alarms] == ["taken", "fresh"]
    assert created.id == "fresh"


class NoOffset(tzinfo):
    """A zone that does not know its offset (``utcoffset`` is None): not aware."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "?"


def test_now_must_be_aware_the_whole_message() -> None:
    for naive in (datetime(2026, 11, 23, 5, 0), datetime(2026, 11, 23, 5, 0, tzinfo=NoOffset())):  # noqa: DTZ001
        with pytest.raises(ValueError) as info:
            next_occurrence(alarm(), BERLIN, naive)
        assert str(info.value) == "now must be an aware datetime"


async def test_a_last_wake_exactly_a_day_ahead_is_still_believed(caplog) -> None:
    """Up to a day ahead of the clock, a fired mark holds (the clock went back a little)."""
    now = at(BERLIN, 2026, 11, 23, 6, 40)
    daily = alarm(last_wake=now + CLOCK_STEP_BACK_LIMIT)
    assert local(next_occurrence(daily, BERLIN, now).wake_at, BERLIN) == (
        "2026-11-25T06:30:00+01:00"
    )
    clock = FakeClock(now)
    scheduler, _ = scheduler_on(clock)
    scheduler.load([daily.to_json()])
    await scheduler.check()
    assert scheduler.alarms[0].last_wake == now + CLOCK_STEP_BACK_LIMIT
    assert "the clock went back" not in caplog.text


async def test_a_clock_gone_back_over_a_day_is_logged_whole(caplog) -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 0))
    scheduler, _ = scheduler_on(clock)
    await scheduler.create(create_command(time="06:30", duration=1800))
    await scheduler.check()
    clock.now -= 3 * DAY
    caplog.clear()
    await scheduler.check()
    assert alarm_log(caplog) == [
        (
            logging.WARNING,
            (
                "Alarm id0 last fired for 2026-11-23T06:30:00+01:00, over a day ahead of the "
                "clock: the clock went back; scheduling afresh"
            ),
        )
    ]


async def test_a_skip_has_passed_at_its_wake_time() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, _ = scheduler_on(clock)
    a = await scheduler.create(create_command(time="06:30", duration=1800))
    skipped = await scheduler.skip_next(a.id)
    assert scheduler.payload(skipped)["skip_next"] is True
    clock.now = skipped.skip_wake
    assert scheduler.payload(scheduler.get(a.id))["skip_next"] is False


def test_the_configured_zone_not_the_systems_picks_the_days(monkeypatch) -> None:
    """The system clock's zone may be far from the alarms' (--timezone): the local
    date that starts the search is the alarms' zone's, not the system's."""
    pago = ZoneInfo("Pacific/Pago_Pago")  # UTC-11
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: two dates ahead at times
    time.tzset()
    try:
        now = at(pago, 2026, 11, 22, 23, 30)  # 2026-11-24 00:30 in Kiritimati
        late = Alarm("late", "23:45", (0, 1, 2, 3, 4, 5, 6), duration=60)
        assert local(next_occurrence(late, pago, now).wake_at, pago) == (
            "2026-11-22T23:45:00-11:00"
        )
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_without_saved_alarms_a_check_tells_nobody() -> None:
    for load in (False, True):
        scheduler, _ = scheduler_on(FakeClock(MONDAY_5AM))
        if load:
            scheduler.load(None)  # a state file from before alarms
        heard: list[str] = []
        scheduler.add_listener(lambda seen=heard: seen.append("alarms"))
        await scheduler.check()
        assert heard == []


async def test_a_check_that_fails_is_logged_and_retried_after_the_recheck(caplog) -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 5, 0))
    scheduler, _ = scheduler_on(clock)
    calls = []
    real_check = scheduler.check

    async def flaky_check() -> float:
        calls.append(clock.now)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return await real_check()

    scheduler.check = flaky_check  # type: ignore[method-assign]
    await run_until(scheduler, clock, clock.now + 12)
    assert clock.sleeps[0] == 5.0  # the recheck interval after a failure
    assert len(calls) >= 2
    [record] = [r for r in caplog.records if r.name == alarms_module.__name__]
    assert (record.levelno, record.getMessage()) == (logging.ERROR, "Alarm check failed")
    assert record.exc_info is not None


async def test_a_sunrise_noticed_one_second_late_says_so(caplog) -> None:
    start = at(BERLIN, 2026, 11, 23, 6, 0)
    clock = FakeClock(start + 1.0)
    scheduler, _ = scheduler_on(clock)
    with caplog.at_level(logging.INFO, logger=alarms_module.__name__):
        await scheduler.create(create_command(time="06:30", duration=1800))
        await scheduler.check()
    assert alarm_log(caplog)[-1][1].endswith(" (noticed 1 s late: joining it)")


async def test_a_sunrise_that_cannot_start_is_logged_whole(caplog) -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 0))
    scheduler, _ = scheduler_on(clock)

    async def broken(alarm: Alarm, occurrence: Occurrence) -> None:
        raise OSError("LED on fire")

    scheduler._fire = broken
    await scheduler.create(create_command(time="06:30", duration=1800))
    await scheduler.check()
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "Alarm id0 could not start its sunrise"
    assert record.exc_info is not None


async def test_a_full_disk_when_an_alarm_fires_does_not_stop_the_check() -> None:
    clock = FakeClock(at(BERLIN, 2026, 11, 23, 6, 0))
    scheduler, fired = scheduler_on(clock)
    a = await scheduler.create(create_command(time="06:30", duration=1800))

    async def full() -> None:
        raise StorageError("cannot write state.json: No space left on device")

    scheduler._save = full
    assert await scheduler.check() == 5.0
    assert len(fired.fires) == 1
    assert scheduler.get(a.id).last_wake == at(BERLIN, 2026, 11, 23, 6, 30)  # kept in memory


async def test_the_check_sleeps_to_a_start_under_a_second_away() -> None:
    start = at(BERLIN, 2026, 11, 23, 6, 0)
    clock = FakeClock(start - 0.25)
    scheduler, _ = scheduler_on(clock)
    await scheduler.create(create_command(time="06:30", duration=1800))
    assert await scheduler.check() == pytest.approx(0.25)


async def test_updating_to_the_same_weekdays_keeps_a_skip() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, _ = scheduler_on(clock)
    a = await scheduler.create(create_command(time="06:30", weekdays=[0, 2]))
    await scheduler.skip_next(a.id)
    updated = await scheduler.update({"id": a.id, "weekdays": [0, 2], "duration": 600.0})
    assert updated.weekdays == (0, 2)
    assert updated.skip_wake is not None
    assert scheduler.payload(updated)["skip_next"] is True


def test_a_weekly_alarm_with_its_next_occurrence_skipped_is_two_weeks_away() -> None:
    now = at(BERLIN, 2026, 11, 23, 6, 40)  # Monday, just after this week's 06:30
    weekly = alarm(weekdays=(0,), skip_wake=at(BERLIN, 2026, 11, 30, 6, 30))
    assert local(next_occurrence(weekly, BERLIN, now).wake_at, BERLIN) == (
        "2026-12-07T06:30:00+01:00"
    )
