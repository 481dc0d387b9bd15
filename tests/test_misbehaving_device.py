"""Home Assistant against a device that lies, floods, stalls and storms (tests/fake_device.py).

Whatever the device sends, the integration keeps the last good state, stays connected
while the link is healthy, keeps its log bounded and keeps trying when it is not.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS, DOMAIN as LIGHT_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_STATE_CHANGED,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak import client as client_module
from custom_components.daybreak.const import DOMAIN, SERVICE_SET_ALARM
from custom_components.daybreak.protocol import MAX_ALARMS

from .common import ENTITY_ID, NO_ANSWER, skip_backoff, wait_for
from .conftest import make_config_entry
from .fake_device import ALARM, ALARM_FIRED, INFO, STATE, SUNRISE, SUNRISE_STARTED, FakeDevice

EVENT_ENTITY = "event.bedroom_sunrise_events"
LOGGER_PREFIX = "custom_components.daybreak"


@pytest.fixture
async def fake(socket_enabled: None) -> AsyncIterator[FakeDevice]:
    device = FakeDevice()
    await device.start()
    yield device
    await device.stop()


async def set_up(hass: HomeAssistant, fake: FakeDevice) -> MockConfigEntry:
    entry = make_config_entry(fake)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


def light(hass: HomeAssistant) -> State:
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    return state


class StateLog:
    """Every state HA writes from now on, each checked to serialise (as the frontend does)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.states: list[State] = []

        @callback
        def listener(event: Event[Any]) -> None:
            new = event.data["new_state"]
            if new is not None:
                assert new.as_dict_json  # raises for values JSON cannot carry
                self.states.append(new)

        self._remove = hass.bus.async_listen(EVENT_STATE_CHANGED, listener)

    def of(self, entity_id: str) -> list[State]:
        return [state for state in self.states if state.entity_id == entity_id]


def records_from(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    """Records of every logger at ``level`` or above."""
    return [record for record in caplog.records if record.levelno >= level]


# -- 1. bad info at a reconnect ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("uptime", 1e11), ("uptime", math.nan), ("protocol_version", math.inf)],
    ids=["uptime-1e11", "uptime-nan", "protocol-version-1e400"],
)
async def test_bad_info_at_a_reconnect_does_not_end_the_listener(
    hass: HomeAssistant,
    fake: FakeDevice,
    caplog: pytest.LogCaptureFixture,
    field: str,
    value: float,
) -> None:
    entry = await set_up(hass, fake)
    client = entry.runtime_data.client
    assert light(hass).state == STATE_OFF
    fake.info[field] = value  # JSON: 1e11, NaN, Infinity (what 1e400 parses to)
    before = len(fake.connections)
    await fake.drop_clients()
    await wait_for(lambda: light(hass).state == STATE_UNAVAILABLE)

    # Each reconnect reads the bad info, refuses it and tries again later.
    await skip_backoff(hass, lambda: len(fake.connections) >= before + 3)
    assert entry.state is ConfigEntryState.LOADED
    assert entry._background_tasks  # the listener
    assert not any(task.done() for task in entry._background_tasks)
    assert light(hass).state == STATE_UNAVAILABLE
    assert client.dropped["device.get answer"].count >= 3
    assert client.started_at is None or client.started_at.year > 1900

    # The device is fixed: the next try connects.
    fake.info[field] = INFO[field]
    fake.state |= {"on": True, "brightness": 99, "level": 99.0}
    await skip_backoff(hass, lambda: light(hass).state == STATE_ON)
    assert light(hass).attributes[ATTR_BRIGHTNESS] == 99
    # One warning about the bad info however often it came (at most one a minute), and
    # no error, from the integration or from a library.
    warnings = [r.getMessage() for r in records_from(caplog, logging.WARNING)]
    assert len([w for w in warnings if "invalid device.get answer" in w]) == 1, warnings
    assert records_from(caplog, logging.ERROR) == []


# -- 2. a stalled ack --------------------------------------------------------------------


async def test_stalled_commands_fail_fast_and_the_entities_stay_available(
    hass: HomeAssistant, fake: FakeDevice, caplog: pytest.LogCaptureFixture
) -> None:
    await set_up(hass, fake)
    states = StateLog(hass)
    fake.stalled.add("light.set")  # the socket stays up and the heartbeats go on

    started = time.monotonic()
    async with asyncio.timeout(client_module.REQUEST_TIMEOUT + 3):
        results = await asyncio.gather(
            *(
                hass.services.async_call(
                    LIGHT_DOMAIN,
                    SERVICE_TURN_ON,
                    {ATTR_ENTITY_ID: ENTITY_ID, ATTR_BRIGHTNESS: brightness},
                    blocking=True,
                )
                for brightness in (10, 20, 30)
            ),
            return_exceptions=True,
        )
    elapsed = time.monotonic() - started
    # All three at once (not one after the other), each after the 5 s timeout.
    assert client_module.REQUEST_TIMEOUT <= elapsed < client_module.REQUEST_TIMEOUT + 2
    for result in results:
        assert isinstance(result, HomeAssistantError)
        assert result.translation_key == "timeout"
        assert str(result) == NO_ANSWER
    assert [s.state for s in states.of(ENTITY_ID)] == []  # never unavailable
    assert light(hass).state == STATE_OFF

    # The link is fine: the next command that gets an answer works.
    fake.stalled.clear()
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_BRIGHTNESS: 40},
        blocking=True,
    )
    await wait_for(lambda: light(hass).attributes.get(ATTR_BRIGHTNESS) == 40)
    assert records_from(caplog, logging.ERROR) == []


async def test_invalid_answers_are_translated_errors(hass: HomeAssistant, fake: FakeDevice) -> None:
    await set_up(hass, fake)
    fake.answers["light.set"] = lambda _payload: {
        "ok": True,
        "state": STATE | {"on": True, "brightness": 10**30},
    }
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
        )
    assert caught.value.translation_key == "invalid_answer"
    assert light(hass).state == STATE_OFF
    # An answer to alarm.create without the alarm it created (once: "coroutine raised
    # StopIteration" when the integration looked for it in the list).
    fake.answers["alarm.create"] = lambda _payload: {
        "ok": True,
        "alarms": [ALARM],
        "state": STATE,
    }
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN,
            SERVICE_SET_ALARM,
            {ATTR_ENTITY_ID: ENTITY_ID, "time": "07:00"},
            blocking=True,
            return_response=True,
        )
    assert caught.value.translation_key == "invalid_answer"
    assert light(hass).state == STATE_OFF


# -- 3. out-of-range and malformed pushes ---------------------------------------------------

INVALID_PUSHES: list[tuple[str, tuple[Any, ...]]] = [
    ("state", (STATE | {"on": True, "brightness": 10**30},)),
    ("state", (STATE | {"on": True, "brightness": 1e308},)),
    ("state", (STATE | {"on": True, "brightness": 300},)),
    ("state", (STATE | {"on": True, "sunrise": SUNRISE | {"progress": -7}},)),
    ("state", (STATE | {"on": True, "sunrise": SUNRISE | {"started_at": "2026-12-01T09:10"}},)),
    ("state", (STATE | {"on": True, "sunrise": SUNRISE | {"ends_at": "0001-01-01T00:00Z"}},)),
    ("state", (STATE | {"sunrise": []},)),
    ("state", (STATE | {"on": "yes"},)),
    ("state", (STATE | {"on": "x" * 1_000_000},)),  # a 1 MB push
    ("state", (STATE, STATE)),  # two payloads
    ("state", (STATE | {"brightness": 10**200},)),  # beyond what the JSON decoder takes
    ("alarms", ({"alarms": [ALARM | {"time": "25:99"}]},)),
    ("alarms", ({"alarms": [ALARM | {"weekdays": [7]}]},)),
    ("alarms", ({"alarms": [ALARM | {"skip_next": "no"}]},)),
    ("heartbeat", ({"uptime": 1e11, "time": "2026-12-01T09:10:34.771+00:00"},)),
    ("sunrise.started", ()),  # no payload
    ("alarm.fired", (ALARM_FIRED | {"alarm_id": None},)),
]
#: How many of them each kind drops (the too-long integer cannot even be decoded).
DROPPED = {
    "state": 10,
    "message": 1,
    "alarms": 3,
    "heartbeat": 1,
    "sunrise.started": 1,
    "alarm.fired": 1,
}
FLOOD = 500


async def test_invalid_pushes_are_dropped_whole_and_logged_once(
    hass: HomeAssistant, fake: FakeDevice, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await set_up(hass, fake)
    client = entry.runtime_data.client
    started_at = client.started_at
    before = {state.entity_id: state.state for state in hass.states.async_all()}
    states = StateLog(hass)

    for event, payload in INVALID_PUSHES:
        await fake.push(event, *payload)
    for _ in range(FLOOD):
        await fake.push("state", {"on": True})
    # Then a good push: handled after those (in order), it shows they were handled.
    await fake.push("state", STATE | {"on": True, "brightness": 77, "level": 77.0})
    await wait_for(lambda: light(hass).attributes.get(ATTR_BRIGHTNESS) == 77)
    await hass.async_block_till_done()

    # Nothing of the rest reached Home Assistant: only the good push changed a thing.
    shown = ("light.", "sensor.", "time.", "switch.", "event.")
    changed = [s for s in states.states if s.entity_id.startswith(shown)]
    assert [(s.entity_id, s.state, s.attributes.get(ATTR_BRIGHTNESS)) for s in changed] == [
        (ENTITY_ID, STATE_ON, 77)
    ]
    after = {state.entity_id: state.state for state in hass.states.async_all()}
    assert after == before | {ENTITY_ID: STATE_ON}
    for state in hass.states.async_all():
        assert state.as_dict_json  # serialisable
    assert client.connected
    assert client.started_at is not None
    assert started_at is not None
    assert abs((client.started_at - started_at).total_seconds()) < 5

    # One warning per kind (at most one a minute), each short; no error, no traceback.
    ours = [r for r in records_from(caplog, logging.WARNING) if r.name.startswith(LOGGER_PREFIX)]
    assert len(ours) == len(DROPPED), [r.getMessage()[:120] for r in ours]
    assert max(len(r.getMessage()) for r in ours) < 500
    assert records_from(caplog, logging.ERROR) == []
    # ... and each counted (the diagnostics show them).
    counts = {kind: dropped.count for kind, dropped in client.dropped.items()}
    assert counts == DROPPED | {"state": DROPPED["state"] + FLOOD}


# -- 4. 500 alarms ---------------------------------------------------------------------


def alarm_entities(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    return [
        item.entity_id
        for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if "_alarm_" in item.unique_id
    ]


async def test_at_most_max_alarms_and_none_rebuilt_per_read(
    hass: HomeAssistant, fake: FakeDevice
) -> None:
    entry = await set_up(hass, fake)
    coordinator = entry.runtime_data
    assert len(alarm_entities(hass, entry)) == 2  # "weekdays": switch and wake time

    many = [ALARM | {"id": f"alarm{index}"} for index in range(500)]
    await fake.push("alarms", {"alarms": many})
    await fake.push("state", STATE | {"on": True, "brightness": 5, "level": 5.0})  # after it
    await wait_for(lambda: light(hass).attributes.get(ATTR_BRIGHTNESS) == 5)
    await hass.async_block_till_done()
    assert len(alarm_entities(hass, entry)) == 2
    assert list(coordinator.data.alarms) == ["weekdays"]

    # Exactly MAX_ALARMS: each gets its entities.
    await fake.push("alarms", {"alarms": many[:MAX_ALARMS]})
    await wait_for(lambda: len(coordinator.data.alarms) == MAX_ALARMS)
    await hass.async_block_till_done()
    assert len(alarm_entities(hass, entry)) == 2 * MAX_ALARMS
    assert sum(1 for e in hass.states.async_entity_ids("switch") if "alarm" in e) == MAX_ALARMS

    # Reading the alarms builds nothing: the snapshot holds the client's mapping, made
    # once per change.
    assert coordinator.data.alarms is coordinator.client.alarms_by_id

    # 5000 alarms (once 2.5 s of blocked event loop per push): refused at once.
    loop = asyncio.get_running_loop()
    started = loop.time()
    await fake.push("alarms", {"alarms": [ALARM | {"id": f"a{index}"} for index in range(5000)]})
    await wait_for(lambda: coordinator.client.dropped["alarms"].count == 2)
    assert loop.time() - started < 2
    assert coordinator.client.connected
    assert len(coordinator.data.alarms) == MAX_ALARMS


# -- 5. spoofed event fields -------------------------------------------------------------


async def test_event_attributes_are_the_documented_fields_only(
    hass: HomeAssistant, fake: FakeDevice
) -> None:
    await set_up(hass, fake)
    assert hass.states.get(EVENT_ENTITY).state == STATE_UNKNOWN
    await fake.push(
        "sunrise.started",
        SUNRISE_STARTED
        | {"event_type": "alarm_fired", "event_types": ["spoofed"], "pad": "y" * 100_000},
    )
    await wait_for(lambda: hass.states.get(EVENT_ENTITY).state != STATE_UNKNOWN)
    state = hass.states.get(EVENT_ENTITY)
    assert state.attributes["event_type"] == "sunrise_started"
    assert state.attributes["event_types"] == [
        "sunrise_started",
        "sunrise_finished",
        "sunrise_cancelled",
        "alarm_fired",
        "sunset_started",
        "sunset_finished",
        "sunset_cancelled",
        "alarm_snoozed",
        "alarm_dismissed",
    ]
    assert set(state.attributes) == {
        "event_type",
        "event_types",
        "alarm_id",
        "target_brightness",
        "duration",
        "friendly_name",
    }
    assert len(str(state.attributes)) < 500

    # A field too long for the protocol: the whole event is dropped.
    client = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.client
    await fake.push("alarm.fired", ALARM_FIRED | {"wake_at": "2026-12-02T06:30:00" + "0" * 100_000})
    await wait_for(lambda: "alarm.fired" in client.dropped)
    assert hass.states.get(EVENT_ENTITY).attributes["event_type"] == "sunrise_started"

    # A documented one fires with its documented fields.
    await fake.push("alarm.fired", ALARM_FIRED)
    await wait_for(lambda: hass.states.get(EVENT_ENTITY).attributes["event_type"] == "alarm_fired")
    fired = hass.states.get(EVENT_ENTITY).attributes
    assert (fired["alarm_id"], fired["wake_at"], fired["sunrise"]) == (
        "weekdays",
        "2026-12-02T06:30:00+01:00",
        True,
    )
    assert "target_brightness" not in fired


# -- 6. a reconnect storm, a silent device -------------------------------------------------

STORM_WINDOW = 7.0  # seconds


async def test_a_device_that_drops_every_connection_is_tried_less_and_less(
    hass: HomeAssistant, fake: FakeDevice, caplog: pytest.LogCaptureFixture
) -> None:
    await set_up(hass, fake)
    states = StateLog(hass)
    fake.drop_after_handshake = True  # accepts, completes the handshake, drops
    start = time.monotonic()
    await fake.drop_clients()
    await asyncio.sleep(STORM_WINDOW)

    tries = [moment - start for moment in fake.connections if moment > start]
    # The wait doubles from 1 s (±20 %) and does not start over after a connection that
    # lasted a moment: tries after about 1, 3 and 7 s, not one a second.
    assert 2 <= len(tries) <= 3, tries
    gaps = [b - a for a, b in itertools.pairwise([0.0, *tries])]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps
    flaps = [s.state for s in states.of(ENTITY_ID)]
    assert len(flaps) <= 2 * len(tries) + 1, flaps
    assert records_from(caplog, logging.ERROR) == []


async def test_a_silent_device_is_noticed_whatever_ping_interval_it_announced(
    hass: HomeAssistant, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    # The real bound, well within 30 s: ask after 20 s of silence, wait 5 s for the answer.
    assert client_module.SILENCE_LIMIT + client_module.REQUEST_TIMEOUT <= 25
    # Shortened here (1 s + 1 s) so the test takes seconds.
    silence, timeout = 1.0, 1.0
    fake = FakeDevice(ping_interval=3600, ping_timeout=3600, heartbeat_interval=0.2)
    await fake.start()
    try:
        with (
            patch.object(client_module, "SILENCE_LIMIT", silence),
            patch.object(client_module, "REQUEST_TIMEOUT", timeout),
        ):
            await set_up(hass, fake)
            # Heartbeats show it is there: nothing asked, nothing dropped.
            asked = len(fake.commands)
            await asyncio.sleep(3 * silence)
            assert light(hass).state == STATE_OFF
            assert len(fake.commands) == asked

            fake.silent = True  # no heartbeat, no answer; Engine.IO pings once an hour
            silenced = time.monotonic()
            await wait_for(lambda: light(hass).state == STATE_UNAVAILABLE, timeout=10)
            noticed = time.monotonic() - silenced
            assert noticed < silence + timeout + 1, noticed

            fake.silent = False
            await skip_backoff(hass, lambda: light(hass).state == STATE_OFF)
    finally:
        await fake.stop()
    assert records_from(caplog, logging.ERROR) == []


# -- libraries' log lines --------------------------------------------------------------------


async def test_library_log_lines_are_debug_lines_of_the_integration(
    hass: HomeAssistant, fake: FakeDevice, caplog: pytest.LogCaptureFixture
) -> None:
    """python-engineio logs "packet queue is empty, aborting" at ERROR on every hang."""
    entry = await set_up(hass, fake)
    sio = entry.runtime_data.client._sio
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    sio.eio.logger.error("packet queue is empty, aborting")
    sio.eio.logger.warning("Server has stopped communicating, aborting")
    sio.logger.warning("Unknown callback received, ignoring.")
    sio.eio.logger.info("Received packet %s data %s", "MESSAGE", "x" * 100_000)
    records = [r for r in caplog.records if r.name.startswith(f"{LOGGER_PREFIX}.client.")]
    assert [r.levelno for r in records] == [logging.DEBUG] * 4
    assert records[0].getMessage() == "packet queue is empty, aborting"
    assert len(records[3].getMessage()) < 300
    assert records_from(caplog, logging.WARNING) == []


# -- connecting: one request ---------------------------------------------------------------


async def test_connecting_costs_one_request(hass: HomeAssistant, fake: FakeDevice) -> None:
    """Setting the entry up reads info, state and alarms in one ``device.get``, and the
    first refresh asks for nothing more (the pushes that follow a connection are free)."""
    await set_up(hass, fake)
    assert [event for event, _ in fake.commands] == ["device.get"]


async def test_a_device_without_device_get_is_read_in_two(
    hass: HomeAssistant, fake: FakeDevice
) -> None:
    """A version-3 device from before ``device.get`` answers ``unknown_event``: the client
    reads the info, then the alarms with the state."""
    fake.answers["device.get"] = lambda _payload: {
        "ok": False,
        "error": {"code": "unknown_event", "message": "unknown event 'device.get'"},
    }
    fake.alarms = [ALARM]
    entry = await set_up(hass, fake)
    assert [event for event, _ in fake.commands] == ["device.get", "info.get", "alarms.list"]
    assert list(entry.runtime_data.data.alarms) == [ALARM["id"]]
    assert entry.runtime_data.data.info.device_id == fake.device_id


async def test_the_start_time_is_the_devices_own(hass: HomeAssistant, fake: FakeDevice) -> None:
    """A device that says when it started (``started_at``) is taken at its word: the
    client does not work it out again from the uptime (which says something else here)."""
    fake.info |= {"uptime": 5.0, "started_at": "2026-01-02T03:04:05.678+00:00"}
    entry = await set_up(hass, fake)
    assert entry.runtime_data.client.started_at == datetime(2026, 1, 2, 3, 4, 5, 678000, UTC)
