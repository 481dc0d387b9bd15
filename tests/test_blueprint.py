"""The automation blueprint ``next_alarm_sunrise.yaml``: validated by HA, then end to end.

The end-to-end tests set up the integration against the real device server (in Home
Assistant's time zone, so ``HH:MM`` means the same wall time on both sides), an
automation from the blueprint, and a fake companion-app next-alarm sensor; they check
the alarm stored on the device.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint.errors import MissingInput
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import selector
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .common import ENTITY_ID, wait_for
from .conftest import Device

BLUEPRINT_FILE = (
    Path(__file__).parents[1] / "blueprints" / "automation" / "daybreak" / "next_alarm_sunrise.yaml"
)
BLUEPRINT = "daybreak/next_alarm_sunrise.yaml"
SOURCE_URL = (
    "https://github.com/daybreak-light/daybreak/blob/main/"
    "blueprints/automation/daybreak/next_alarm_sunrise.yaml"
)
PHONE = "sensor.pixel_next_alarm"
PERSON = "person.alice"
WORKDAY = "binary_sensor.workday_sensor"
AUTOMATION = "automation.phone_sunrise"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
async def device(hass: HomeAssistant, start_device: Callable[..., Awaitable[Device]]) -> Device:
    """The device server in Home Assistant's time zone (overrides conftest's)."""
    return await start_device(timezone=hass.config.time_zone)


def _install_blueprint(folder: Path) -> None:
    folder.mkdir(parents=True)
    shutil.copy(BLUEPRINT_FILE, folder)


@pytest.fixture
async def blueprint_folder(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[Path]:
    """A config dir of its own holding the blueprint, as an import would leave it.

    At teardown the automations are turned off: that detaches their triggers, whose
    per-minute timers (templates using ``now()``) would otherwise outlive ``hass``.
    """
    hass.config.config_dir = str(tmp_path / "config")
    folder = Path(hass.config.path("blueprints", "automation", "daybreak"))
    await hass.async_add_executor_job(_install_blueprint, folder)
    yield folder
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )


def automation_config(**inputs: Any) -> dict[str, Any]:
    """An automation using the blueprint; the phone sensor and the light unless given."""
    return {
        "id": "phone_sunrise",
        "alias": "Phone sunrise",
        "use_blueprint": {
            "path": BLUEPRINT,
            "input": {"next_alarm_sensor": PHONE, "daybreak_light": ENTITY_ID, **inputs},
        },
    }


async def setup_automation(hass: HomeAssistant, **inputs: Any) -> None:
    assert await async_setup_component(
        hass, "automation", {"automation": automation_config(**inputs)}
    )
    await hass.async_block_till_done()


def wake_at(days: int, hour: int = 6, minute: int = 45) -> datetime:
    """``hour:minute`` local time, ``days`` after today (Home Assistant's time zone)."""
    day = dt_util.now().date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=dt_util.get_default_time_zone())


async def set_phone(hass: HomeAssistant, value: datetime | str, **attributes: Any) -> None:
    """Set the phone's next-alarm sensor as the companion app does (UTC ISO timestamp)."""
    state = dt_util.as_utc(value).isoformat() if isinstance(value, datetime) else value
    hass.states.async_set(PHONE, state, {"device_class": "timestamp", **attributes})
    await hass.async_block_till_done()


def alarms(device: Device) -> list[dict[str, Any]]:
    """The device's alarms as its protocol reports them."""
    return [dict(alarm) for alarm in device.server.alarms.list_payload()]


async def device_alarm(device: Device, **expected: Any) -> dict[str, Any]:
    """Wait until the device's only alarm has the ``expected`` values; return it."""

    def matches() -> bool:
        found = alarms(device)
        return len(found) == 1 and all(found[0].get(k) == v for k, v in expected.items())

    try:
        await wait_for(matches)
    except TimeoutError:
        pytest.fail(f"expected one alarm with {expected}, the device has {alarms(device)}")
    return alarms(device)[0]


def expect(wake: datetime, *, enabled: bool) -> dict[str, Any]:
    """The device alarm for the phone alarm ``wake``: id ``phone``, one-off on its date."""
    return {
        "id": "phone",
        "time": wake.strftime("%H:%M"),
        "date": wake.date().isoformat(),
        "weekdays": [wake.weekday()],
        "enabled": enabled,
    }


# -- the blueprint is valid ---------------------------------------------------------------


async def test_blueprint_loads_and_validates(hass: HomeAssistant, blueprint_folder: Path) -> None:
    await setup_automation(hass)
    assert hass.states.get(AUTOMATION).state == "on"

    blueprint = await async_get_blueprints(hass).async_get_blueprint(BLUEPRINT)
    assert blueprint.validate() is None  # the min_version is met
    assert blueprint.domain == "automation"
    assert blueprint.metadata["source_url"] == SOURCE_URL
    assert blueprint.metadata["homeassistant"]["min_version"] == "2026.2.0"
    inputs = blueprint.inputs
    assert set(inputs) == {
        "next_alarm_sensor",
        "daybreak_light",
        "alarm_id",
        "sunrise_minutes",
        "target_brightness",
        "workday_sensor",
        "people",
    }
    # Only the sensor and the light are required; the rest have defaults.
    assert {key for key, spec in inputs.items() if "default" not in spec} == {
        "next_alarm_sensor",
        "daybreak_light",
    }
    assert inputs["alarm_id"]["default"] == "phone"
    assert inputs["sunrise_minutes"]["default"] == 30
    assert inputs["target_brightness"]["default"] == 255
    for spec in inputs.values():
        selector.validate_selector(spec["selector"])
    # The selectors take the defaults and what a user would pick.
    for key, value in (
        ("next_alarm_sensor", PHONE),
        ("daybreak_light", ENTITY_ID),
        ("alarm_id", "phone"),
        ("sunrise_minutes", 30),
        ("target_brightness", 255),
        ("workday_sensor", WORKDAY),
        ("people", [PERSON]),
        ("people", []),
    ):
        selector.selector(inputs[key]["selector"])(value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("target_brightness", 0),
        ("target_brightness", 256),
        ("sunrise_minutes", 0),  # the device's alarms need 1 min to 3 h
        ("sunrise_minutes", 181),
        ("next_alarm_sensor", "not an entity"),
        ("people", ["person"]),
    ],
)
async def test_selectors_refuse_invalid_input(
    hass: HomeAssistant, blueprint_folder: Path, key: str, value: Any
) -> None:
    import voluptuous as vol  # noqa: PLC0415 - HA 2026.10 maps it onto probatio

    await setup_automation(hass)
    blueprint = await async_get_blueprints(hass).async_get_blueprint(BLUEPRINT)
    with pytest.raises(vol.Invalid):
        selector.selector(blueprint.inputs[key]["selector"])(value)


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        ({"daybreak_light": None}, "Missing input daybreak_light"),
        ({"next_alarm_sensor": None}, "Missing input next_alarm_sensor"),
        ({"next_alarm_sensor": "not an entity"}, "not an entity"),
        ({"daybreak_light": "bedroom"}, "entity_id"),
        ({"people": ["person.alice", "nobody"]}, "nobody"),
    ],
)
async def test_invalid_input_is_refused(
    hass: HomeAssistant, blueprint_folder: Path, inputs: dict[str, Any], error: str
) -> None:
    import voluptuous as vol  # noqa: PLC0415 - HA 2026.10 maps it onto probatio

    config = automation_config(**inputs)
    given = config["use_blueprint"]["input"]
    for key in [key for key, value in given.items() if value is None]:
        del given[key]
    # As the automation editor checks it: refused.
    with pytest.raises((MissingInput, vol.Invalid), match=error):
        await async_validate_config_item(hass, AUTOMATION, config)

    # From configuration.yaml: an unavailable automation (and an error in the log).
    assert await async_setup_component(hass, "automation", {"automation": config})
    await hass.async_block_till_done()
    assert hass.states.get(AUTOMATION).state == STATE_UNAVAILABLE


async def test_valid_input_passes(hass: HomeAssistant, blueprint_folder: Path) -> None:
    config = automation_config(
        alarm_id="pixel-7",
        sunrise_minutes=20,
        target_brightness=200,
        workday_sensor=WORKDAY,
        people=[PERSON],
    )
    assert await async_validate_config_item(hass, AUTOMATION, config) is not None


# -- end to end against the device --------------------------------------------------------


async def test_phone_alarm_sets_the_device_alarm(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    await setup_automation(hass)
    assert alarms(device) == []

    wake = wake_at(days=2)
    await set_phone(hass, wake)
    alarm = await device_alarm(device, **expect(wake, enabled=True))
    assert alarm["duration"] == 30 * 60
    assert alarm["target_brightness"] == 255
    assert alarm["curve"] == "linear"  # the integration's default (options)
    # The device itself schedules the sunrise to end at the phone's alarm.
    assert alarm["next_sunrise"] == {
        "starts_at": (wake - timedelta(minutes=30)).isoformat(timespec="seconds"),
        "wake_at": wake.isoformat(timespec="seconds"),
    }


async def test_inputs_reach_the_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    await setup_automation(hass, alarm_id="pixel-7", sunrise_minutes=20, target_brightness=200)
    wake = wake_at(days=3, hour=7, minute=5)
    await set_phone(hass, wake)
    alarm = await device_alarm(device, id="pixel-7", time="07:05", enabled=True)
    assert alarm["weekdays"] == [wake.weekday()]
    assert alarm["duration"] == 20 * 60
    assert alarm["target_brightness"] == 200


@pytest.mark.parametrize("lost", [STATE_UNAVAILABLE, "unknown", "not a time"])
async def test_no_next_alarm_disables_it(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    blueprint_folder: Path,
    lost: str,
) -> None:
    await setup_automation(hass)
    wake = wake_at(days=2)
    await set_phone(hass, wake)
    await device_alarm(device, **expect(wake, enabled=True))

    await set_phone(hass, lost)
    # Disabled, at the last time the phone had (seen as the sensor lost it).
    alarm = await device_alarm(device, **expect(wake, enabled=False))
    assert alarm["next_sunrise"] is None

    # The next alarm enables it again.
    wake = wake_at(days=4, hour=5, minute=30)
    await set_phone(hass, wake)
    await device_alarm(device, **expect(wake, enabled=True))


async def test_moved_alarm_updates_the_same_alarm(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    await setup_automation(hass)
    first = wake_at(days=1)
    await set_phone(hass, first)
    await device_alarm(device, **expect(first, enabled=True))

    for wake in (wake_at(days=3, hour=7, minute=10), wake_at(days=3, hour=6), wake_at(days=6)):
        await set_phone(hass, wake)
        await device_alarm(device, **expect(wake, enabled=True))
    assert len(alarms(device)) == 1

    # An attribute-only change of the sensor changes nothing.
    await set_phone(hass, wake, local_time="whatever")
    await device_alarm(device, **expect(wake, enabled=True))


async def test_other_alarms_are_left_alone(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    await hass.services.async_call(
        "daybreak",
        "set_alarm",
        {"entity_id": ENTITY_ID, "alarm_id": "weekend", "time": "09:00", "weekdays": ["sat"]},
        blocking=True,
    )
    await setup_automation(hass)
    wake = wake_at(days=2)
    await set_phone(hass, wake)
    await set_phone(hass, STATE_UNAVAILABLE)
    await wait_for(lambda: len(alarms(device)) == 2)
    by_id = {alarm["id"]: alarm for alarm in alarms(device)}
    assert by_id["weekend"]["time"] == "09:00"
    assert by_id["weekend"]["enabled"] is True
    assert by_id["phone"]["enabled"] is False


async def test_person_away_disables_home_enables(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    hass.states.async_set(PERSON, "home")
    await setup_automation(hass, people=[PERSON])
    wake = wake_at(days=2)
    await set_phone(hass, wake)
    await device_alarm(device, **expect(wake, enabled=True))

    hass.states.async_set(PERSON, "not_home")
    await hass.async_block_till_done()
    await device_alarm(device, **expect(wake, enabled=False))

    hass.states.async_set(PERSON, "Work")  # a zone is not home either
    await hass.async_block_till_done()
    await device_alarm(device, **expect(wake, enabled=False))

    hass.states.async_set(PERSON, "home")
    await hass.async_block_till_done()
    await device_alarm(device, **expect(wake, enabled=True))

    # Away while the phone's alarm moves: the alarm moves, disabled.
    hass.states.async_set(PERSON, "not_home")
    await hass.async_block_till_done()
    moved = wake_at(days=4, hour=8, minute=0)
    await set_phone(hass, moved)
    await device_alarm(device, **expect(moved, enabled=False))


async def test_several_people_must_all_be_home(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    hass.states.async_set(PERSON, "home")
    hass.states.async_set("person.bob", "not_home")
    await setup_automation(hass, people=[PERSON, "person.bob"])
    wake = wake_at(days=2)
    await set_phone(hass, wake)
    await device_alarm(device, **expect(wake, enabled=False))

    hass.states.async_set("person.bob", "home")
    await hass.async_block_till_done()
    await device_alarm(device, **expect(wake, enabled=True))


@pytest.fixture
async def workday_sensor(hass: HomeAssistant) -> tuple[date, date]:
    """A Workday sensor (no country): every day a workday but two holidays.

    The holidays are today (so the sensor, which is about today, is ``off``) and the
    day after tomorrow.
    """
    today = dt_util.now().date()
    holidays = (today, today + timedelta(days=2))
    entry = MockConfigEntry(
        domain="workday",
        title="Workday Sensor",
        data={},
        options={
            "name": "Workday Sensor",
            "country": None,
            "excludes": ["holiday"],
            "days_offset": 0,
            "workdays": list(WEEKDAYS),
            "add_holidays": [day.isoformat() for day in holidays],
            "remove_holidays": [],
            "province": None,
            "language": None,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(WORKDAY).state == "off"  # today is a holiday
    return holidays


async def test_workday_checks_the_alarm_date(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    blueprint_folder: Path,
    workday_sensor: tuple[date, date],
) -> None:
    await setup_automation(hass, workday_sensor=WORKDAY)

    # Tomorrow is a workday (though today is not): enabled.
    tomorrow = wake_at(days=1)
    await set_phone(hass, tomorrow)
    await device_alarm(device, **expect(tomorrow, enabled=True))

    # The day after is a holiday: the alarm moves there, disabled.
    holiday = wake_at(days=2, hour=8, minute=30)
    assert holiday.date() == workday_sensor[1]
    await set_phone(hass, holiday)
    await device_alarm(device, **expect(holiday, enabled=False))

    # And a workday again.
    later = wake_at(days=3)
    await set_phone(hass, later)
    await device_alarm(device, **expect(later, enabled=True))


async def test_workday_sensor_unavailable_keeps_the_alarm(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    """A workday sensor that cannot answer does not hold the sunrise back."""
    hass.states.async_set(WORKDAY, STATE_UNAVAILABLE)
    await setup_automation(hass, workday_sensor=WORKDAY)
    wake = wake_at(days=2)
    await set_phone(hass, wake)
    await device_alarm(device, **expect(wake, enabled=True))


@pytest.mark.parametrize("days", [9, 14, 100, 360])
async def test_alarm_weeks_or_months_ahead_is_enabled_for_its_date(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    blueprint_folder: Path,
    days: int,
) -> None:
    """A one-off alarm: no week limit, and the sunrise is scheduled for that very date."""
    await setup_automation(hass)
    wake = wake_at(days=days)
    await set_phone(hass, wake)
    alarm = await device_alarm(device, **expect(wake, enabled=True))
    assert alarm["next_sunrise"] == {
        "starts_at": (wake - timedelta(minutes=30)).isoformat(timespec="seconds"),
        "wake_at": wake.isoformat(timespec="seconds"),
    }
    # The device's next sunrise of all is that one (nothing fires a week early).
    assert device.server.alarms.next_sunrise_payload()["wake_at"] == wake.isoformat(
        timespec="seconds"
    )

    # A minute after it, with no news from the phone, the "passed" trigger disables it.
    with patch("homeassistant.util.dt.now", return_value=wake + timedelta(minutes=1)):
        await set_phone(hass, wake, touched=2)
        await device_alarm(device, **expect(wake, enabled=False))


async def test_alarm_more_than_a_year_ahead(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    """Over the device's limit for a date: kept disabled until it is within a year."""
    await setup_automation(hass)
    wake = wake_at(days=400)
    await set_phone(hass, wake)
    alarm = await device_alarm(device, id="phone", time="06:45", enabled=False)
    assert alarm["date"] is None


async def test_a_run_after_the_alarm_fired_is_no_error(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    """Inside its sunrise the one-off alarm has fired (so it is off); a person coming home
    re-runs the automation, whose "enable it" the device refuses: that is no error."""
    hass.states.async_set(PERSON, "home")
    await setup_automation(hass, people=[PERSON])
    wake = (dt_util.now() + timedelta(minutes=3)).replace(second=0, microsecond=0)
    await set_phone(hass, wake)
    # Set inside its 30-minute window: the device fires it at once, then it is off.
    await device_alarm(device, **expect(wake, enabled=False))
    assert device.server.controller.snapshot()["sunrise"]["alarm_id"] == "phone"
    hass.states.async_set(PERSON, "not_home")
    await hass.async_block_till_done()
    hass.states.async_set(PERSON, "home")
    await hass.async_block_till_done()
    await device_alarm(device, **expect(wake, enabled=False))
    assert device.server.controller.snapshot()["sunrise"]["alarm_id"] == "phone"
    assert hass.states.get(AUTOMATION).attributes["last_triggered"] is not None


async def test_past_alarm_is_disabled(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    await setup_automation(hass)
    wake = wake_at(days=-1)
    await set_phone(hass, wake)
    await device_alarm(device, **expect(wake, enabled=False))


@pytest.mark.parametrize("phone_has_alarm", [True, False])
async def test_home_assistant_start(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    blueprint_folder: Path,
    phone_has_alarm: bool,
) -> None:
    """At start the alarm is brought in step; with no phone alarm it is created disabled."""
    wake = wake_at(days=2)
    hass.set_state(CoreState.not_running)
    hass.states.async_set(
        PHONE,
        dt_util.as_utc(wake).isoformat() if phone_has_alarm else STATE_UNAVAILABLE,
        {"device_class": "timestamp"},
    )
    await setup_automation(hass)
    await hass.async_block_till_done()
    assert alarms(device) == []

    await hass.async_start()
    await hass.async_block_till_done()
    if phone_has_alarm:
        await device_alarm(device, **expect(wake, enabled=True))
    else:
        # Unknown wake time: created disabled at 07:00 (every day, the default).
        alarm = await device_alarm(device, id="phone", time="07:00", enabled=False)
        assert alarm["weekdays"] == list(range(7))


async def test_device_back_online_is_brought_up_to_date(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device, blueprint_folder: Path
) -> None:
    await setup_automation(hass)
    first = wake_at(days=2)
    await set_phone(hass, first)
    await device_alarm(device, **expect(first, enabled=True))

    await device.stop()
    await wait_for(lambda: hass.states.get(ENTITY_ID).state == STATE_UNAVAILABLE, timeout=15)
    # The phone's alarm moves while the device is away: nothing to send it to.
    moved = wake_at(days=3, hour=7, minute=15)
    await set_phone(hass, moved)

    await device.restart()
    await wait_for(lambda: hass.states.get(ENTITY_ID).state != STATE_UNAVAILABLE, timeout=15)
    await device_alarm(device, **expect(moved, enabled=True))
