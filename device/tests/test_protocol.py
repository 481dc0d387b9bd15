"""The wire protocol module: validation, limits, curves, messages, and its single source."""

from __future__ import annotations

import json
import math
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import daybreak_device
from daybreak_device import protocol, router
from daybreak_device.protocol import (
    COMMANDS,
    CURVES,
    MAX_PAYLOAD_BYTES,
    PROTOCOL_VERSION,
    ProtocolError,
    apply_curve,
    error_ack,
    validate_command,
)

REPO = Path(__file__).resolve().parents[2]
SUNRISE_DEFAULTS = {
    "duration": 1800.0,
    "target_brightness": 255.0,
    "start_brightness": None,
    "curve": "linear",
}


def refusal(event: str, payload: Any) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        validate_command(event, payload)
    return info.value


# -- the module itself ------------------------------------------------------------------


def test_installed_protocol_is_the_shared_file() -> None:
    """The device runs the installed copy, built byte for byte from custom_components."""
    source = REPO / "custom_components" / "daybreak" / "protocol.py"
    installed = Path(protocol.__file__).resolve()
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert installed.is_relative_to(site_packages), installed
    assert installed.parent == Path(daybreak_device.__file__).resolve().parent
    assert not installed.is_relative_to(REPO / "device" / "src")
    assert installed.read_bytes() == source.read_bytes(), (
        "the installed daybreak_device/protocol.py differs from "
        "custom_components/daybreak/protocol.py: reinstall with scripts/setup device"
    )
    # There is one home for the protocol: no second copy in the device sources.
    assert not (REPO / "device" / "src" / "daybreak_device" / "protocol.py").exists()
    # and the server validates with this very module
    assert router.validate_command is validate_command


def test_constants() -> None:
    assert PROTOCOL_VERSION == 4
    assert MAX_PAYLOAD_BYTES == 4096
    assert set(COMMANDS) == {
        "light.set",
        "sunrise.start",
        "sunrise.stop",
        "state.get",
        "info.get",
        "device.get",
        "alarms.list",
        "alarm.get",
        "alarm.create",
        "alarm.update",
        "alarm.delete",
        "alarm.skip_next",
        "sunset.start",
        "sunset.stop",
        "alarm.snooze",
        "alarm.dismiss",
        "wake_settings.set",
    }
    assert protocol.SUNSET_DURATION_MIN == 60.0
    assert protocol.SUNSET_DURATION_MAX == 3 * 3600.0
    assert (protocol.SNOOZE_LENGTH_MIN, protocol.SNOOZE_LENGTH_MAX) == (60.0, 1800.0)
    assert protocol.WAKE_SETTINGS_DEFAULTS == {
        "snooze_length": 540.0,
        "snooze_level": 0.0,
        "dismiss": "keep",
        "after_wake": 1800.0,
    }
    assert CURVES == ("linear", "ease_in", "ease_out", "ease_in_out")
    assert protocol.SUNRISE_DURATION_MIN == 1.0
    assert protocol.SUNRISE_DURATION_MAX == 3 * 3600.0
    assert protocol.DEFAULT_SUNRISE_DURATION == 1800.0
    assert (protocol.BRIGHTNESS_MIN, protocol.BRIGHTNESS_MAX) == (0, 255)
    assert protocol.TRANSITION_MAX == 3600.0


def test_error_ack_and_protocol_error() -> None:
    assert error_ack("not_found", "gone") == {
        "ok": False,
        "error": {"code": "not_found", "message": "gone"},
    }
    err = ProtocolError("invalid_payload", "bad")
    assert (err.code, err.message, str(err)) == ("invalid_payload", "bad", "bad")
    assert err.as_ack() == error_ack("invalid_payload", "bad")


# -- validate_command: defaults and accepted values -----------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, SUNRISE_DEFAULTS),
        ({"duration": 60}, {**SUNRISE_DEFAULTS, "duration": 60.0}),
        ({"start_brightness": None}, SUNRISE_DEFAULTS),
        ({"start_brightness": 0}, {**SUNRISE_DEFAULTS, "start_brightness": 0.0}),
        (
            {"duration": 1, "target_brightness": 1, "start_brightness": 255, "curve": "ease_in"},
            {
                "duration": 1.0,
                "target_brightness": 1.0,
                "start_brightness": 255.0,
                "curve": "ease_in",
            },
        ),
        (
            {"duration": 10800, "target_brightness": 255, "curve": "ease_in_out"},
            {**SUNRISE_DEFAULTS, "duration": 10800.0, "curve": "ease_in_out"},
        ),
    ],
)
def test_sunrise_defaults_are_filled_in(payload: dict[str, Any], expected: dict[str, Any]) -> None:
    result = validate_command("sunrise.start", payload)
    assert result == expected
    for key in ("duration", "target_brightness"):
        assert type(result[key]) is float
    assert payload.keys() <= result.keys()


@pytest.mark.parametrize("curve", CURVES)
def test_every_curve_is_accepted(curve: str) -> None:
    assert validate_command("sunrise.start", {"curve": curve})["curve"] == curve


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"on": True}, {"on": True}),
        ({"on": False}, {"on": False}),
        ({"brightness": 0}, {"brightness": 0.0}),
        ({"brightness": 255}, {"brightness": 255.0}),
        ({"brightness": 127.5, "on": True}, {"brightness": 127.5, "on": True}),
        ({"on": True, "transition": 0}, {"on": True, "transition": 0.0}),
        ({"on": False, "transition": 3600}, {"on": False, "transition": 3600.0}),
    ],
)
def test_set_light_accepts_and_adds_no_defaults(
    payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = validate_command("light.set", payload)
    assert result == expected
    assert all(type(v) is float for k, v in result.items() if k != "on")


@pytest.mark.parametrize("event", ["sunrise.stop", "state.get", "info.get"])
@pytest.mark.parametrize("payload", [None, {}])
def test_commands_without_payload(event: str, payload: Any) -> None:
    assert validate_command(event, payload) == {}


# -- validate_command: limits ---------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "key", "low", "high", "base"),
    [
        ("sunrise.start", "duration", 1, 10800, {}),
        ("sunrise.start", "target_brightness", 1, 255, {}),
        ("sunrise.start", "start_brightness", 0, 255, {}),
        ("light.set", "brightness", 0, 255, {}),
        ("light.set", "transition", 0, 3600, {"on": True}),
    ],
)
def test_number_limits_are_inclusive(
    event: str, key: str, low: int, high: int, base: dict[str, Any]
) -> None:
    for value in (low, float(low), (low + high) / 2, high, float(high)):
        assert validate_command(event, {**base, key: value})[key] == float(value)
    for value in (
        math.nextafter(low, -math.inf),
        low - 1,
        math.nextafter(high, math.inf),
        high + 1,
        -1e308,
        1e308,
        10**400,  # JSON allows integers beyond the float range
        -(10**400),
    ):
        err = refusal(event, {**base, key: value})
        assert err.code == "invalid_payload"
        assert f"data[{key!r}]" in err.message
    for value in (True, False, "1", str(high), None, [low], {"value": low}):
        if key == "start_brightness" and value is None:
            continue  # null means "from the current level"
        err = refusal(event, {**base, key: value})
        assert err.code == "invalid_payload"
        assert f"data[{key!r}]" in err.message


def test_sunrise_duration_is_one_second_to_three_hours() -> None:
    assert validate_command("sunrise.start", {"duration": 1})["duration"] == 1.0
    assert validate_command("sunrise.start", {"duration": 3 * 3600})["duration"] == 10800.0
    assert refusal("sunrise.start", {"duration": 0.999}).message == (
        "must be between 1 and 10800 for dictionary value @ data['duration']. Got 0.999"
    )
    assert refusal("sunrise.start", {"duration": 10800.001}).message == (
        "must be between 1 and 10800 for dictionary value @ data['duration']. Got 10800.001"
    )


def test_sunrise_target_is_1_to_255() -> None:
    assert refusal("sunrise.start", {"target_brightness": 0}).message == (
        "must be between 1 and 255 for dictionary value @ data['target_brightness']. Got 0"
    )
    assert refusal("sunrise.start", {"target_brightness": 256}).message == (
        "must be between 1 and 255 for dictionary value @ data['target_brightness']. Got 256"
    )


def test_huge_integer_is_refused_not_crashing() -> None:
    huge = 10**400
    err = refusal("light.set", {"brightness": huge})
    assert err.code == "invalid_payload"
    assert err.message.startswith("must be between 0 and 255")


def test_non_finite_numbers_are_not_plain_json() -> None:
    for value in (math.nan, math.inf, -math.inf):
        err = refusal("light.set", {"brightness": value})
        assert (err.code, err.message) == ("invalid_payload", "payload is not plain JSON")


@pytest.mark.parametrize(
    "payload",
    [{"on": {1, 2}}, {"on": b"yes"}, {"on": object()}, {(1, 2): True}],
    ids=["set", "bytes", "object", "tuple-key"],
)
def test_payload_must_be_plain_json(payload: Any) -> None:
    err = refusal("light.set", payload)
    assert (err.code, err.message) == ("invalid_payload", "payload is not plain JSON")


def test_circular_and_too_deep_payloads_are_not_plain_json() -> None:
    circular: dict[str, Any] = {}
    circular["on"] = circular
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    for payload in (circular, {"on": deep}):
        err = refusal("light.set", payload)
        assert (err.code, err.message) == ("invalid_payload", "payload is not plain JSON")


def test_payload_size_limit_is_on_compact_json() -> None:
    payload = {"on": True, "pad": "é" * 1000}
    # "é" counts as its 6-character JSON escape (\u00e9): 6000 bytes, not 1000 characters
    assert refusal("light.set", payload).message == "payload is 6020 bytes, the limit is 4096"
    payload["pad"] = "x" * (MAX_PAYLOAD_BYTES - 20)
    size = len(json.dumps(payload, separators=(",", ":")))
    assert size == MAX_PAYLOAD_BYTES
    assert refusal("light.set", payload).code == "invalid_payload"  # size fine, key extra
    payload["pad"] += "x"
    err = refusal("light.set", payload)
    assert (err.code, err.message) == (
        "payload_too_large",
        "payload is 4097 bytes, the limit is 4096",
    )
    # size is checked first, for every event, even for payloads that are not objects
    for event in COMMANDS:
        assert refusal(event, ["x" * 5000]).code == "payload_too_large"


def test_unknown_event() -> None:
    err = refusal("light.toggle", {"on": True})
    assert (err.code, err.message) == ("unknown_event", "unknown event 'light.toggle'")
    err = refusal("x" * 500, None)
    assert err.message == f"unknown event {'x' * 64!r}"


@pytest.mark.parametrize("payload", [[], [{"on": True}], "on", 1, 1.5, True, False])
@pytest.mark.parametrize("event", sorted(COMMANDS))
def test_payload_must_be_an_object(event: str, payload: Any) -> None:
    err = refusal(event, payload)
    assert (err.code, err.message) == ("invalid_payload", "payload must be a JSON object")


# -- humanized messages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "payload", "message"),
    [
        ("light.set", None, "give 'on', 'brightness', 'color_temp_kelvin' or 'rgb_color'. Got {}"),
        ("light.set", {}, "give 'on', 'brightness', 'color_temp_kelvin' or 'rgb_color'. Got {}"),
        (
            "light.set",
            {"brightness": "1"},
            (
                "expected a number between 0 and 255 for dictionary value @ data['brightness']. "
                "Got '1'"
            ),
        ),
        (
            "light.set",
            {"brightness": True},
            (
                "expected a number between 0 and 255 for dictionary value @ data['brightness']. "
                "Got True"
            ),
        ),
        (
            "light.set",
            {"brightness": 300},
            "must be between 0 and 255 for dictionary value @ data['brightness']. Got 300",
        ),
        (
            "light.set",
            {"on": "on"},
            "expected true or false for dictionary value @ data['on']. Got 'on'",
        ),
        ("light.set", {"on": 1}, "expected true or false for dictionary value @ data['on']. Got 1"),
        (
            "light.set",
            {"on": True, "transition": 4000},
            ("must be between 0 and 3600 for dictionary value @ data['transition']. Got 4000"),
        ),
        ("light.set", {"on": True, "colour": 1}, "extra keys not allowed @ data['colour']. Got 1"),
        (
            "sunrise.start",
            {"curve": "sine"},
            (
                "must be one of linear, ease_in, ease_out, ease_in_out "
                "for dictionary value @ data['curve']. Got 'sine'"
            ),
        ),
        (
            "sunrise.start",
            {"start_brightness": -5},
            (
                "expected null or a number between 0 and 255 "
                "for dictionary value @ data['start_brightness']. Got -5"
            ),
        ),
        ("sunrise.stop", {"now": True}, "this command takes no payload. Got {'now': True}"),
        ("state.get", {"x": 1}, "this command takes no payload. Got {'x': 1}"),
    ],
)
def test_messages_say_what_is_wrong_in_words(event: str, payload: Any, message: str) -> None:
    err = refusal(event, payload)
    assert (err.code, err.message) == ("invalid_payload", message)


@settings(database=None)  # no example database in the tree
@given(
    st.dictionaries(
        st.sampled_from(["on", "brightness", "transition", "x"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False),
            st.text(alphabet="ab1 .", max_size=5),
        ),
        min_size=1,
    )
)
def test_every_refusal_message_names_its_keys(payload: dict[str, Any]) -> None:
    """No voluptuous internals (function names, class reprs) leak into messages."""
    try:
        validate_command("light.set", payload)
    except ProtocolError as err:
        code, message = err.code, err.message
    else:
        return
    assert code == "invalid_payload"
    assert message
    assert "<" not in message
    assert "function" not in message
    assert "validate" not in message
    for line in message.splitlines():
        assert "data[" in line or line.startswith(("payload is not plain JSON", "give"))


# -- apply_curve ----------------------------------------------------------------------


@pytest.mark.parametrize("curve", CURVES)
def test_curve_ends_and_monotonic(curve: str) -> None:
    assert apply_curve(curve, 0.0) == 0.0
    assert apply_curve(curve, 1.0) == 1.0
    points = [apply_curve(curve, i / 1000) for i in range(1001)]
    assert points == sorted(points)
    assert all(0.0 <= p <= 1.0 for p in points)
    # progress outside 0-1 is clamped
    assert apply_curve(curve, -0.5) == 0.0
    assert apply_curve(curve, 1.5) == 1.0


@settings(database=None)  # no example database in the tree
@given(
    st.sampled_from(CURVES),
    st.floats(min_value=-1, max_value=2, allow_nan=False),
    st.floats(min_value=-1, max_value=2, allow_nan=False),
)
def test_curves_are_monotonic(curve: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert apply_curve(curve, low) <= apply_curve(curve, high)
    assert 0.0 <= apply_curve(curve, a) <= 1.0


@pytest.mark.parametrize(
    ("curve", "half", "quarter"),
    [
        ("linear", 0.5, 0.25),
        ("ease_in", 0.25, 0.0625),
        ("ease_out", 0.75, 0.4375),
        ("ease_in_out", 0.5, 0.15625),
    ],
)
def test_curve_shapes(curve: str, half: float, quarter: float) -> None:
    assert apply_curve(curve, 0.5) == pytest.approx(half)
    assert apply_curve(curve, 0.25) == pytest.approx(quarter)


def test_sunrise_without_payload_takes_every_default() -> None:
    assert validate_command("sunrise.start", None) == validate_command("sunrise.start", {})


# -- alarm commands -------------------------------------------------------------------

ALARM_DEFAULTS = {
    "weekdays": [0, 1, 2, 3, 4, 5, 6],
    "date": None,
    "enabled": True,
    "duration": 1800.0,
    "target_brightness": 255.0,
    "curve": "linear",
}
DAYS_MESSAGE = "expected a non-empty list of weekdays, 0 (Monday) to 6 (Sunday)"
DAY_MESSAGE = "weekdays are whole numbers from 0 (Monday) to 6 (Sunday)"
TIME_MESSAGE = "expected a time of day as HH:MM (24-hour clock)"


def field_refusal(event: str, payload: dict[str, Any], key: str) -> str:
    """The message of a refusal of ``payload[key]``, without the "for ... Got" tail."""
    err = refusal(event, payload)
    assert err.code == "invalid_payload"
    tail = f" for dictionary value @ data[{key!r}]. Got {payload[key]!r}"
    assert err.message.endswith(tail), err.message
    return err.message.removesuffix(tail)


def test_alarm_create_fills_in_the_defaults() -> None:
    assert validate_command("alarm.create", {"time": "6:30"}) == {
        "time": "06:30",
        **ALARM_DEFAULTS,
    }
    result = validate_command(
        "alarm.create",
        {
            "id": "wake-up_1",
            "time": "23:59",
            "weekdays": [6, 0, 3],
            "enabled": False,
            "duration": 60,
            "target_brightness": 1,
            "curve": "ease_out",
        },
    )
    assert result == {
        "id": "wake-up_1",
        "time": "23:59",
        "weekdays": [0, 3, 6],
        "date": None,
        "enabled": False,
        "duration": 60.0,
        "target_brightness": 1.0,
        "curve": "ease_out",
    }
    assert type(result["duration"]) is float


def test_alarm_create_needs_a_time() -> None:
    err = refusal("alarm.create", {"weekdays": [1]})
    assert err.message == "required key not provided @ data['time']. Got None"


@pytest.mark.parametrize(
    ("given", "stored"),
    [("0:00", "00:00"), ("7:05", "07:05"), ("09:30", "09:30"), ("23:59", "23:59")],
)
def test_alarm_times_are_24_hour_hh_mm(given: str, stored: str) -> None:
    assert validate_command("alarm.create", {"time": given})["time"] == stored
    assert validate_command("alarm.update", {"id": "a", "time": given})["time"] == stored


@pytest.mark.parametrize(
    "value",
    ["24:00", "12:60", "7:5", "123:00", "06:30:00", " 6:30", "6h30", "", 630, None, ["6:30"]],
)
def test_alarm_time_refusals(value: Any) -> None:
    assert field_refusal("alarm.create", {"time": value}, "time") == TIME_MESSAGE


def test_alarm_weekdays_are_distinct_days_sorted() -> None:
    assert validate_command("alarm.create", {"time": "7:00", "weekdays": [5, 0]})["weekdays"] == [
        0,
        5,
    ]
    assert validate_command("alarm.create", {"time": "7:00", "weekdays": [6]})["weekdays"] == [6]
    everyday = {"time": "7:00", "weekdays": [6, 5, 4, 3, 2, 1, 0]}
    assert validate_command("alarm.create", everyday)["weekdays"] == [0, 1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], DAYS_MESSAGE),
        ("12", DAYS_MESSAGE),
        (3, DAYS_MESSAGE),
        ({"1": 1}, DAYS_MESSAGE),
        ([7], DAY_MESSAGE),
        ([-1], DAY_MESSAGE),
        ([True], DAY_MESSAGE),
        ([1.0], DAY_MESSAGE),
        (["1"], DAY_MESSAGE),
        ([1, 1], "a weekday is listed twice"),
        ([0, 3, 0], "a weekday is listed twice"),
    ],
)
def test_alarm_weekday_refusals(value: Any, message: str) -> None:
    assert field_refusal("alarm.create", {"time": "7:00", "weekdays": value}, "weekdays") == message


@pytest.mark.parametrize(
    ("key", "low", "high"), [("duration", 60, 10800), ("target_brightness", 1, 255)]
)
def test_alarm_number_limits(key: str, low: int, high: int) -> None:
    for value in (low, high):
        assert validate_command("alarm.create", {"time": "7:00", key: value})[key] == value
    for value in (math.nextafter(low, 0), high + 0.001):
        message = field_refusal("alarm.create", {"time": "7:00", key: value}, key)
        assert message == f"must be between {low} and {high}"
    for value in (True, "60", None):
        message = field_refusal("alarm.create", {"time": "7:00", key: value}, key)
        assert message == f"expected a number between {low} and {high}"


def test_alarm_enabled_and_curve_are_checked() -> None:
    message = field_refusal("alarm.create", {"time": "7:00", "enabled": 1}, "enabled")
    assert message == "expected true or false"
    message = field_refusal("alarm.update", {"id": "a", "curve": "sine"}, "curve")
    assert message == "must be one of linear, ease_in, ease_out, ease_in_out"


@pytest.mark.parametrize("value", ["a", "Z-9_z", "x" * 64])
def test_new_alarm_ids(value: str) -> None:
    assert validate_command("alarm.create", {"id": value, "time": "7:00"})["id"] == value


@pytest.mark.parametrize("value", ["", "x" * 65, "a b", "é", "a/b", 5, None])
def test_new_alarm_id_refusals(value: Any) -> None:
    message = field_refusal("alarm.create", {"id": value, "time": "7:00"}, "id")
    assert message == "expected an alarm id of 1 to 64 letters, digits, '_' or '-'"


@pytest.mark.parametrize("event", ["alarm.get", "alarm.delete", "alarm.update", "alarm.skip_next"])
def test_alarm_ids_of_existing_alarms(event: str) -> None:
    extra = {"enabled": True} if event == "alarm.update" else {}
    # Any string of 1 to 64 characters: an id is looked up, not checked for its letters.
    for value in ("a", "a b/é", "x" * 64):
        assert validate_command(event, {"id": value, **extra})["id"] == value
    for value in ("", "x" * 65, 5, None):
        message = field_refusal(event, {"id": value, **extra}, "id")
        assert message == "expected an alarm id (a string of 1 to 64 characters)"
    err = refusal(event, {**extra})
    assert err.message == "required key not provided @ data['id']. Got None"


def test_alarm_update_needs_a_change_and_adds_nothing() -> None:
    err = refusal("alarm.update", {"id": "a"})
    assert err.message == (
        "give at least one of time, weekdays, enabled, duration, target_brightness, curve, "
        "color_path, start_kelvin, target_kelvin, date, name. Got {'id': 'a'}"
    )
    assert validate_command("alarm.update", {"id": "a", "weekdays": [2, 1]}) == {
        "id": "a",
        "weekdays": [1, 2],
    }
    assert validate_command("alarm.update", {"id": "a", "duration": 60}) == {
        "id": "a",
        "duration": 60.0,
    }


def test_alarm_skip_next() -> None:
    assert validate_command("alarm.skip_next", {"id": "a"}) == {"id": "a", "skip": True}
    assert validate_command("alarm.skip_next", {"id": "a", "skip": False}) == {
        "id": "a",
        "skip": False,
    }
    assert field_refusal("alarm.skip_next", {"id": "a", "skip": 0}, "skip") == (
        "expected true or false"
    )


@pytest.mark.parametrize("event", ["alarms.list", "sunrise.stop"])
def test_no_payload_commands_refuse_one(event: str) -> None:
    assert validate_command(event, None) == {}
    assert refusal(event, {"id": "a"}).message == "this command takes no payload. Got {'id': 'a'}"


def test_durations_in_minutes_and_seconds_share_one_helper() -> None:
    assert protocol.minutes_to_seconds(30) == 1800.0
    assert protocol.minutes_to_seconds(0) == protocol.SUNRISE_DURATION_MIN
    assert protocol.minutes_to_seconds(10_000) == protocol.SUNRISE_DURATION_MAX
    # An alarm's sunrise lasts at least a minute.
    alarm = (protocol.ALARM_DURATION_MIN, protocol.ALARM_DURATION_MAX)
    assert protocol.minutes_to_seconds(0.5, *alarm) == 60.0
    assert protocol.clamp_duration(0.2) == protocol.SUNRISE_DURATION_MIN
    assert protocol.clamp_duration(90.5) == 90.5
    assert protocol.seconds_to_minutes(1800) == protocol.DEFAULT_SUNRISE_MINUTES == 30
    assert protocol.seconds_to_minutes(1) == protocol.SUNRISE_MINUTES_MIN
    assert protocol.seconds_to_minutes(24 * 3600) == protocol.SUNRISE_MINUTES_MAX == 180
    assert protocol.SUNRISE_MINUTES_MAX * 60 == protocol.SUNRISE_DURATION_MAX


def test_the_defaults_are_what_the_commands_fill_in() -> None:
    sunrise = validate_command("sunrise.start", {})
    assert sunrise["duration"] == protocol.DEFAULT_SUNRISE_DURATION
    assert sunrise["target_brightness"] == protocol.DEFAULT_TARGET_BRIGHTNESS
    assert sunrise["curve"] == protocol.DEFAULT_CURVE


def test_a_reported_alarm_without_a_name_is_named_by_its_wake_time() -> None:
    alarm = {
        "id": "a",
        "time": "06:30",
        "weekdays": [0],
        "enabled": True,
        "duration": 1800.0,
        "target_brightness": 255.0,
        "curve": "linear",
    }
    assert protocol.validate_alarm(alarm)["name"] == "06:30"  # an older device
    assert protocol.validate_alarm({**alarm, "name": "Work"})["name"] == "Work"
    with pytest.raises(ProtocolError):
        protocol.validate_alarm({**alarm, "name": ""})
    ack = {
        "ok": True,
        "alarm": alarm,
        "alarms": [alarm],
        "state": {"on": False, "brightness": 0, "level": 0.0},
    }
    assert protocol.validate_ack("alarm.create", ack)["alarm"]["name"] == "06:30"
