"""One-off alarms: an alarm with a ``date`` fires once, then disables itself.

Scheduling, validation, the state file and a real device firing one (the helpers and
the fake clock are those of ``test_alarms``).
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

import pytest
from test_alarms import (
    BERLIN,
    DAY,
    MONDAY_5AM,
    FakeClock,
    alarm_log,
    at,
    create_command,
    local,
    no_more_pushes,
    recording_client,
    rest_client,
    run_until,
    scheduler_on,
    start_clocked,  # noqa: F401 (the fixture)
    state_file,
)

from daybreak_device import alarms as alarms_module
from daybreak_device.alarms import Alarm, AlarmScheduler, next_occurrence, next_sunrise
from daybreak_device.protocol import ProtocolError, validate_alarm, validate_command
from helpers import Device, ShiftedClock


def one_off(day: str, time_: str = "06:30", **kw: Any) -> Alarm:
    parsed = date.fromisoformat(day)
    return Alarm("once", time_, (parsed.weekday(),), date=parsed, **kw)


# -- pure scheduling ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "wake"),
    [
        ("2026-11-24", "2026-11-24T06:30:00+01:00"),  # tomorrow
        ("2026-12-07", "2026-12-07T06:30:00+01:00"),  # two weeks ahead
        ("2027-05-03", "2027-05-03T06:30:00+02:00"),  # months ahead, in summer time
        ("2027-11-22", "2027-11-22T06:30:00+01:00"),  # a year ahead
    ],
)
def test_a_dated_alarm_has_one_occurrence_however_far_ahead(day: str, wake: str) -> None:
    alarm = one_off(day, duration=1800)
    occurrence = next_occurrence(alarm, BERLIN, MONDAY_5AM)
    assert occurrence is not None
    assert local(occurrence.wake_at, BERLIN) == wake
    assert occurrence.starts_at == occurrence.wake_at - 1800
    # It is also the next sunrise of all (a weekly alarm would be searched 16 days only).
    assert next_sunrise([alarm], BERLIN, MONDAY_5AM) == occurrence
    # After its wake time, or once fired, it has none.
    assert next_occurrence(alarm, BERLIN, occurrence.wake_at) is None
    fired = Alarm("once", "06:30", alarm.weekdays, date=alarm.date, last_wake=occurrence.wake_at)
    assert next_occurrence(fired, BERLIN, occurrence.starts_at) is None


def test_a_dated_alarm_today_is_due_inside_its_window() -> None:
    alarm = one_off("2026-11-23", duration=3600)  # 05:30 to 06:30; now is 05:00
    occurrence = next_occurrence(alarm, BERLIN, MONDAY_5AM + 45 * 60)
    assert occurrence is not None
    assert occurrence.starts_at < MONDAY_5AM + 45 * 60 < occurrence.wake_at


# -- the scheduler -----------------------------------------------------------------------


async def test_a_one_off_alarm_fires_once_then_disables_itself_and_says_so(caplog) -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock, recheck=600.0)
    heard: list[bool] = []
    scheduler.add_listener(lambda: heard.append(scheduler.get("id0").enabled))
    with caplog.at_level(logging.INFO, logger=alarms_module.__name__):
        a = await scheduler.create(create_command(time="06:30", date="2026-11-25", duration=1800))
    payload = scheduler.payload(a)
    assert (payload["date"], payload["weekdays"], payload["enabled"]) == ("2026-11-25", [2], True)
    assert payload["next_sunrise"] == {
        "starts_at": "2026-11-25T06:00:00+01:00",
        "wake_at": "2026-11-25T06:30:00+01:00",
    }
    with caplog.at_level(logging.INFO, logger=alarms_module.__name__):
        await run_until(scheduler, clock, MONDAY_5AM + 14 * DAY)
    assert [local(f[2], BERLIN) for f in fired.fires] == ["2026-11-25T06:30:00+01:00"]
    after = scheduler.get(a.id)
    assert (after.enabled, after.date, after.last_wake) == (
        False,
        date(2026, 11, 25),
        at(BERLIN, 2026, 11, 25, 6, 30),
    )
    assert scheduler.payload(after)["next_sunrise"] is None
    assert scheduler.next_sunrise() is None
    assert heard[-1] is False  # listeners (the push) heard it go off
    assert (
        logging.INFO,
        "Alarm id0 fired for its date 2026-11-25: one-off, now disabled",
    ) in alarm_log(caplog)
    assert alarm_log(caplog)[0] == (
        logging.INFO,
        "Alarm id0 created: 06:30 [once 2026-11-25] on, 1800 s to 255",
    )


async def test_a_missed_or_skipped_one_off_alarm_disables_itself(caplog) -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, fired = scheduler_on(clock)
    a = await scheduler.create(create_command(time="06:30", date="2026-11-24", duration=1800))
    skipped = await scheduler.skip_next(a.id)
    assert scheduler.payload(skipped)["skip_next"] is True
    assert scheduler.payload(skipped)["next_sunrise"] is None  # nothing left to fire
    with caplog.at_level(logging.INFO, logger=alarms_module.__name__):
        await scheduler.check()
    assert fired.fires == []
    assert scheduler.get(a.id).enabled is False
    assert alarm_log(caplog) == [
        (
            logging.WARNING,
            (
                "Alarm id0 for 2026-11-24 06:30 did not fire (skipped, or missed while the "
                "device was off): one-off, now disabled"
            ),
        )
    ]
    # A saved one whose day went by while the device was off: disabled at the first check.
    scheduler.load([one_off("2026-11-20").to_json()])
    saves = fired.saves
    await scheduler.check()
    assert scheduler.get("once").enabled is False
    assert fired.saves == saves + 1


async def test_past_and_far_dates_are_refused_and_nothing_changes() -> None:
    clock = FakeClock(MONDAY_5AM)  # Monday 2026-11-23 05:00 in Berlin
    scheduler, fired = scheduler_on(clock)

    async def refused(command: Any) -> str:
        with pytest.raises(ProtocolError) as info:
            await (scheduler.create(command) if "id" not in command else scheduler.update(command))
        assert info.value.code == "invalid_payload"
        return info.value.message

    assert await refused(create_command(time="04:59", date="2026-11-23")) == (
        "date: the wake time 2026-11-23 04:59 (Europe/Berlin) has passed"
    )
    assert await refused(create_command(time="06:30", date="2026-11-22")) == (
        "date: the wake time 2026-11-22 06:30 (Europe/Berlin) has passed"
    )
    assert await refused(create_command(time="06:30", date="2027-11-25")) == (
        "date: 2027-11-25 06:30 (Europe/Berlin) is more than 366 days ahead"
    )
    assert scheduler.alarms == []
    assert fired.saves == 0
    # Today, later: fine; a disabled one in the past: fine (it is kept, it fires nothing).
    today = await scheduler.create(create_command(time="05:01", date="2026-11-23"))
    off = await scheduler.create(create_command(time="06:30", date="2026-11-01", enabled=False))
    # Turning the past one on, or moving one into the past, is refused.
    assert await refused(validate_command("alarm.update", {"id": off.id, "enabled": True})) == (
        "date: the wake time 2026-11-01 06:30 (Europe/Berlin) has passed (or it fired); "
        "give a new date"
    )
    assert await refused(
        validate_command("alarm.update", {"id": today.id, "date": "2026-11-20"})
    ) == ("date: the wake time 2026-11-20 05:01 (Europe/Berlin) has passed")
    assert scheduler.get(today.id).date == date(2026, 11, 23)
    assert scheduler.get(off.id).enabled is False


async def test_updates_move_an_alarm_between_one_off_and_weekly() -> None:
    clock = FakeClock(MONDAY_5AM)
    scheduler, _ = scheduler_on(clock)
    weekly = await scheduler.create(create_command(time="06:30", weekdays=[0, 1]))
    await scheduler.skip_next(weekly.id)
    dated = await scheduler.update({"id": weekly.id, "date": "2026-12-24"})
    assert (dated.date, dated.weekdays, dated.skip_wake) == (date(2026, 12, 24), (3,), None)
    assert local(next_occurrence(dated, BERLIN, MONDAY_5AM).wake_at, BERLIN) == (
        "2026-12-24T06:30:00+01:00"
    )
    # A new time keeps the date.
    later = await scheduler.update({"id": weekly.id, "time": "07:00"})
    assert (later.date, later.time) == (date(2026, 12, 24), "07:00")
    # New weekdays make it weekly again; so does "date": null (on the date's weekday).
    again = await scheduler.update({"id": weekly.id, "weekdays": [5, 6]})
    assert (again.date, again.weekdays) == (None, (5, 6))
    dated = await scheduler.update({"id": weekly.id, "date": "2026-12-25"})
    undated = await scheduler.update({"id": weekly.id, "date": None})
    assert (undated.date, undated.weekdays) == (None, (4,))  # Fridays
    # A fired one-off alarm comes back with a new date.
    fired = replace_enabled(scheduler, weekly.id)
    revived = await scheduler.update({"id": fired.id, "date": "2026-11-30", "enabled": True})
    assert revived.enabled is True
    assert scheduler.payload(revived)["next_sunrise"]["wake_at"] == "2026-11-30T07:00:00+01:00"


def replace_enabled(scheduler: AlarmScheduler, alarm_id: str) -> Alarm:
    """Make ``alarm_id`` a disabled one-off alarm that fired on 2026-11-20."""
    alarm = scheduler.get(alarm_id)
    data = {
        **alarm.to_json(),
        "date": "2026-11-20",
        "enabled": False,
        "last_wake": at(BERLIN, 2026, 11, 20, 7, 0),
    }
    scheduler.load([data])
    return scheduler.get(alarm_id)


# -- the wire and the state file ------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"time": "06:30", "date": "2026-12-01", "weekdays": [1]},
            "give a date (one-off alarm) or weekdays (weekly alarm), not both",
        ),
        ({"time": "06:30", "date": "2026-13-01"}, "2026-13-01 is not a date of the calendar"),
        ({"time": "06:30", "date": "2026-02-29"}, "2026-02-29 is not a date of the calendar"),
        ({"time": "06:30", "date": "26-12-01"}, "expected a date as YYYY-MM-DD (years 2000-2199)"),
        ({"time": "06:30", "date": "2026-1-5"}, "expected a date as YYYY-MM-DD (years 2000-2199)"),
        ({"time": "06:30", "date": 20261201}, "expected a date as YYYY-MM-DD (years 2000-2199)"),
        (
            {"time": "06:30", "date": "1999-12-31"},
            "expected a date as YYYY-MM-DD (years 2000-2199)",
        ),
    ],
)
def test_the_date_on_the_wire(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError) as info:
        validate_command("alarm.create", payload)
    assert info.value.code == "invalid_payload"
    assert message in info.value.message


def test_create_defaults_with_and_without_a_date() -> None:
    assert validate_command("alarm.create", {"time": "6:30", "date": "2026-12-01"})["weekdays"] == [
        1
    ]
    weekly = validate_command("alarm.create", {"time": "6:30", "date": None, "weekdays": [2]})
    assert (weekly["date"], weekly["weekdays"]) == (None, [2])
    with pytest.raises(ProtocolError, match="not both"):
        validate_command("alarm.update", {"id": "a", "date": "2026-12-01", "weekdays": [1]})
    assert validate_command("alarm.update", {"id": "a", "date": None, "weekdays": [1]}) == {
        "id": "a",
        "date": None,
        "weekdays": [1],
    }
    # What a client accepts from a device: a date, or none (a device before protocol 4).
    reported = {
        "id": "a",
        "time": "06:30",
        "weekdays": [1],
        "enabled": True,
        "duration": 1800,
        "target_brightness": 255,
        "curve": "linear",
    }
    assert validate_alarm(reported)["date"] is None
    assert validate_alarm({**reported, "date": "2026-12-01"})["date"] == "2026-12-01"


def test_stored_dates_load_and_old_files_are_weekly(caplog) -> None:
    saved = one_off("2026-12-01", last_wake=None).to_json()
    assert saved["date"] == "2026-12-01"
    assert Alarm.from_json(saved) == one_off("2026-12-01")
    # The weekdays follow the date whatever the file says.
    assert Alarm.from_json({**saved, "weekdays": [5]}).weekdays == (1,)
    old = {k: v for k, v in saved.items() if k != "date"}
    assert Alarm.from_json(old).date is None
    for bad in ("2026-02-30", 20261201, "tomorrow"):
        with pytest.raises(ValueError, match=r"^date is not YYYY-MM-DD$"):
            Alarm.from_json({**saved, "date": bad})


# -- a real device ----------------------------------------------------------------------------


async def test_a_device_fires_a_one_off_alarm_once_and_pushes_it_disabled(
    start_clocked,  # noqa: F811 (the fixture imported above)
) -> None:
    wake = at(BERLIN, 2026, 11, 23, 6, 30)
    device: Device = await start_clocked(ShiftedClock(wake - 1.5))
    async with recording_client(device) as watcher, rest_client(device) as http:
        body = {"id": "once", "time": "06:30", "date": "2026-11-23", "duration": 60}
        created = await http.post("/api/alarms", json=body)
        assert created.status_code == 201
        assert created.json()["alarm"]["date"] == "2026-11-23"
        await watcher.wait_for(lambda: len(watcher.events) == 3)
        assert [event for event, _ in watcher.events] == [
            "alarm.fired",
            "sunrise.started",
            "sunrise.finished",
        ]
        pushed = await watcher.wait_for(
            lambda: watcher.alarms and not watcher.alarms[-1][0]["enabled"] and watcher.alarms[-1]
        )
        assert pushed[0]["date"] == "2026-11-23"
        assert pushed[0]["next_sunrise"] is None
        listed = (await http.get("/api/alarms/once")).json()
        assert (listed["enabled"], listed["date"]) == (False, "2026-11-23")
        # Refusals over REST say why.
        past = await http.post("/api/alarms", json={"time": "06:00", "date": "2026-11-23"})
        assert past.status_code == 422
        assert past.json()["error"]["message"] == (
            "date: the wake time 2026-11-23 06:00 (Europe/Berlin) has passed"
        )
        await no_more_pushes(watcher)
        assert len(watcher.events) == 3
    saved = json.loads(state_file(device).read_text())["alarms"]
    assert (saved[0]["date"], saved[0]["enabled"]) == ("2026-11-23", False)
