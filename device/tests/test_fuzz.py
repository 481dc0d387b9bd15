"""Fuzzing: random JSON-like payloads over a real Socket.IO connection and real HTTP.

Every answer must be a success or a well-formed error, exactly the one the protocol's
``validate_command`` predicts; never an exception, a timeout or a broken connection.

Hypothesis runs in a worker thread and hands each example to the test's event loop
(where the server and clients live), so the loop keeps running between examples.
``DAYBREAK_FUZZ_EXAMPLES`` sets the examples per test (default 150), e.g.
``DAYBREAK_FUZZ_EXAMPLES=5000 scripts/test device -k fuzz`` for a long run. The
``slow``-marked long run, 10,000 examples for every handler on one connection:
``DAYBREAK_FUZZ_EXAMPLES=10000 scripts/test device -m slow -k fuzz``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from daybreak_device.protocol import COMMANDS, CURVES, ProtocolError, validate_command
from helpers import Client, Device

EXAMPLES = int(os.environ.get("DAYBREAK_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example database in the tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLE_TIMEOUT = 10.0  # seconds for one example (a few round trips)
# The default run takes about a second per test; a long run gets time in proportion.
pytestmark = pytest.mark.timeout(max(120, EXAMPLES // 5))

COMMAND_EVENTS = ["light.set", "sunrise.start", "sunrise.stop", "state.get", "info.get"]
FIELDS = ["on", "brightness", "transition", "duration", "target_brightness", "start_brightness"]
STATE_KEYS = {
    "on",
    "brightness",
    "level",
    "sunrise",
    "transition",
    "next_sunrise",
    "sunset",
    "alarm",
    "wake_settings",
    "storage_error",
}
SUNRISE_KEYS = {
    "active",
    "started_at",
    "ends_at",
    "duration",
    "start_brightness",
    "target_brightness",
    "progress",
    "curve",
    "alarm_id",
}
INFO_KEYS = {
    "device_id",
    "name",
    "model",
    "sw_version",
    "protocol_version",
    "output",
    "timezone",
    "storage_error",
    "uptime",
    "started_at",
    "button",
}
ERROR_CODES = {
    "invalid_payload",
    "payload_too_large",
    "unknown_event",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "internal_error",
    "limit_reached",
    "conflict",
}


def json_values(integers: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """Any JSON value: nested lists and objects of null, bools, numbers and strings."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        integers,
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(st.text(max_size=10), children, max_size=5),
        ),
        max_leaves=30,
    )


def around(low: float, high: float) -> st.SearchStrategy[Any]:
    """Numbers in ``[low, high]`` and just outside it, as ints and floats."""
    return st.one_of(
        st.floats(min_value=low, max_value=high),
        st.integers(min_value=math.ceil(low), max_value=math.floor(high)),
        st.sampled_from(
            [low, high, math.nextafter(low, -math.inf), math.nextafter(high, math.inf)]
        ),
    )


def payloads(integers: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """Random JSON, objects of the protocol's fields, and commands that are nearly valid."""
    anything = json_values(integers)
    field_values = st.one_of(
        anything,
        st.booleans(),
        st.integers(min_value=-5, max_value=300),
        st.floats(min_value=-10, max_value=11_000, allow_nan=False),
        st.sampled_from([*CURVES, "LINEAR", "sine", ""]),
        st.none(),
    )
    command_like = st.dictionaries(
        st.one_of(st.sampled_from([*FIELDS, "curve"]), st.text(max_size=8)),
        field_values,
        max_size=5,
    )
    light_like = st.fixed_dictionaries(
        {},
        optional={
            "on": st.booleans(),
            "brightness": around(0, 255),
            "transition": around(0, 2) | st.just(3600),  # short fades, and the longest
        },
    )
    sunrise_like = st.fixed_dictionaries(
        {},
        optional={
            "duration": around(1, 3) | st.just(10_800),
            "target_brightness": around(1, 255),
            "start_brightness": st.none() | around(0, 255),
            "curve": st.sampled_from(CURVES),
        },
    )
    too_large = st.builds(
        lambda n, on: {"on": on, "pad": "x" * n},
        st.integers(min_value=4070, max_value=6000),
        st.booleans(),
    )
    return st.one_of(light_like, sunrise_like, command_like, anything | too_large)


# The Socket.IO library drops frames whose integers have over 100 digits before any
# handler sees them (no ack), so the Socket.IO fuzz stays below that; REST gets any size.
SOCKET_PAYLOADS = payloads(st.integers(min_value=-(10**40), max_value=10**40))
REST_PAYLOADS = payloads(
    st.one_of(
        st.integers(),
        st.integers(min_value=10**300, max_value=10**1000),  # beyond the float range
        st.integers(min_value=-(10**1000), max_value=-(10**300)),
    )
)


def expected_ack(event: str, payload: Any) -> dict[str, Any] | None:
    """The error ack the protocol predicts for ``payload``, or None if it is valid."""
    try:
        validate_command(event, payload)
    except ProtocolError as err:
        return dict(err.as_ack())
    return None


def roundtrip(payload: Any) -> Any:
    """``payload`` as the server sees it after JSON encoding and decoding."""
    return json.loads(json.dumps(payload))


def check_state(state: Any) -> None:
    assert isinstance(state, dict)
    assert state.keys() == STATE_KEYS
    assert isinstance(state["on"], bool)
    assert isinstance(state["brightness"], int)
    assert 0 <= state["brightness"] <= 255
    assert isinstance(state["level"], int | float)
    assert 0 <= state["level"] <= 255
    if state["sunrise"] is not None:
        assert state["sunrise"].keys() == SUNRISE_KEYS
        assert 0 <= state["sunrise"]["progress"] <= 1
        assert state["sunrise"]["curve"] in CURVES
    if state["transition"] is not None:
        assert state["transition"].keys() == {"target_brightness", "ends_at"}


def check_ok(event: str, ack: Any) -> None:
    assert isinstance(ack, dict)
    assert ack["ok"] is True
    if event == "info.get":
        assert ack.keys() == {"ok", "info"}
        assert ack["info"].keys() == INFO_KEYS
    else:
        assert ack.keys() == {"ok", "state"}
        check_state(ack["state"])


def check_error(ack: Any) -> None:
    """``{"ok": false, "error": {"code": <known code>, "message": str}}``, nothing else."""
    assert isinstance(ack, dict)
    assert ack.keys() == {"ok", "error"}
    assert ack["ok"] is False
    assert ack["error"].keys() == {"code", "message"}
    assert ack["error"]["code"] in ERROR_CODES
    assert isinstance(ack["error"]["message"], str)
    assert ack["error"]["message"]


def check_answer(event: str, payload: Any, ack: Any) -> None:
    """The answer is the one validation predicts: ok when valid, else that very error."""
    expected = expected_ack(event, roundtrip(payload))
    if expected is None:
        check_ok(event, ack)
    else:
        check_error(ack)
        assert ack == expected


async def run_examples(test: Callable[[], None]) -> None:
    """Run a Hypothesis test in a worker thread while this loop keeps serving."""
    await asyncio.to_thread(test)


def on_loop(loop: asyncio.AbstractEventLoop, coro: Awaitable[Any]) -> Any:
    """From the Hypothesis thread: run ``coro`` on the test's loop, with a time limit."""

    async def limited() -> Any:
        async with asyncio.timeout(EXAMPLE_TIMEOUT):
            return await coro

    return asyncio.run_coroutine_threadsafe(limited(), loop).result()


# -- Socket.IO ------------------------------------------------------------------------


@pytest.mark.parametrize("event", COMMAND_EVENTS)
async def test_fuzz_socketio_command(connect, device: Device, event: str) -> None:
    client: Client = await connect()
    loop = asyncio.get_running_loop()

    @FUZZ
    @given(payload=SOCKET_PAYLOADS)
    def fuzz(payload: Any) -> None:
        ack = on_loop(loop, client.call(event, payload))
        check_answer(event, payload, ack)

    await run_examples(fuzz)
    assert client.sio.connected
    check_ok("state.get", await client.call("state.get"))
    check_ok("info.get", await client.call("info.get"))


@pytest.mark.parametrize("event", COMMAND_EVENTS)
async def test_fuzz_socketio_several_payloads(connect, event: str) -> None:
    client: Client = await connect()
    loop = asyncio.get_running_loop()

    @FUZZ
    @given(args=st.lists(SOCKET_PAYLOADS, min_size=2, max_size=4))
    def fuzz(args: list[Any]) -> None:
        ack = on_loop(loop, client.call(event, tuple(args)))  # a tuple goes as several args
        assert ack == {
            "ok": False,
            "error": {"code": "invalid_payload", "message": "send one payload object, not several"},
        }

    await run_examples(fuzz)
    check_ok("state.get", await client.call("state.get"))


async def test_fuzz_socketio_unknown_events(connect) -> None:
    client: Client = await connect()
    loop = asyncio.get_running_loop()
    names = st.one_of(
        st.text(max_size=100),
        st.sampled_from(["connect", "disconnect", "connect_error", "message", "*", "state"]),
    ).filter(lambda name: name not in COMMANDS)

    @FUZZ
    @given(event=names, args=st.lists(SOCKET_PAYLOADS, max_size=3))
    def fuzz(event: str, args: list[Any]) -> None:
        ack = on_loop(loop, client.call(event, tuple(args)))
        assert ack == {
            "ok": False,
            "error": {"code": "unknown_event", "message": f"unknown event {event[:64]!r}"},
        }

    await run_examples(fuzz)
    assert client.sio.connected
    check_ok("state.get", await client.call("state.get"))


# -- REST -------------------------------------------------------------------------------


def check_response(event: str, response: httpx.Response, payload: Any) -> None:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    expected = expected_ack(event, payload)
    if expected is None:
        assert response.status_code == 200
        check_ok(event, body)
    else:
        status = {"invalid_payload": 422, "payload_too_large": 413}[expected["error"]["code"]]
        assert response.status_code == status
        check_error(body)
        assert body == expected


@pytest.mark.parametrize(
    ("path", "event"), [("/api/light", "light.set"), ("/api/sunrise", "sunrise.start")]
)
async def test_fuzz_rest_json_bodies(
    http: httpx.AsyncClient, connect, path: str, event: str
) -> None:
    loop = asyncio.get_running_loop()

    @FUZZ
    @given(payload=REST_PAYLOADS, ascii_only=st.booleans())
    def fuzz(payload: Any, ascii_only: bool) -> None:
        body = json.dumps(payload, ensure_ascii=ascii_only).encode()
        response = on_loop(loop, http.post(path, content=body))
        if len(body) > 4096:
            assert response.status_code == 413
            assert response.json() == {
                "ok": False,
                "error": {"code": "payload_too_large", "message": "body is over 4096 bytes"},
            }
        else:
            check_response(event, response, roundtrip(payload))

    await run_examples(fuzz)
    client: Client = await connect()
    check_ok("state.get", await client.call("state.get"))
    assert (await http.get("/api/state")).status_code == 200


@pytest.mark.parametrize("path", ["/api/light", "/api/sunrise"])
async def test_fuzz_rest_raw_bodies(http: httpx.AsyncClient, path: str) -> None:
    loop = asyncio.get_running_loop()
    bodies = st.one_of(
        st.binary(max_size=300),
        st.text(max_size=100).map(str.encode),
        st.sampled_from([b"{", b"[", b'{"on":', b"null", b"true", b"NaN", b"-Infinity", b"1e999"]),
    )

    @FUZZ
    @given(body=bodies)
    def fuzz(body: bytes) -> None:
        response = on_loop(loop, http.post(path, content=body))
        assert response.headers["content-type"] == "application/json"
        answer = response.json()
        if response.status_code == 200:
            check_ok("light.set" if path == "/api/light" else "sunrise.start", answer)
        else:
            assert response.status_code in {400, 422}
            check_error(answer)
            assert answer["error"]["code"] == "invalid_payload"
            if response.status_code == 400:
                assert answer["error"]["message"] == "body is not valid JSON"

    await run_examples(fuzz)
    assert (await http.get("/api/state")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "event"),
    [
        ("GET", "/api/state", "state.get"),
        ("GET", "/api/info", "info.get"),
        ("DELETE", "/api/sunrise", "sunrise.stop"),
    ],
)
async def test_fuzz_rest_bodyless_endpoints_ignore_bodies(
    http: httpx.AsyncClient, method: str, path: str, event: str
) -> None:
    loop = asyncio.get_running_loop()

    @FUZZ
    @given(body=st.binary(max_size=200) | REST_PAYLOADS.map(lambda p: json.dumps(p).encode()))
    def fuzz(body: bytes) -> None:
        response = on_loop(loop, http.request(method, path, content=body))
        assert response.status_code == 200
        answer = response.json()
        if event == "sunrise.stop":
            check_ok(event, answer)
        elif event == "info.get":
            assert answer.keys() == INFO_KEYS
        else:
            check_state(answer)

    await run_examples(fuzz)


# -- the long run -----------------------------------------------------------------------------

#: Examples per handler in the long run: ``DAYBREAK_FUZZ_EXAMPLES`` when set (10000 for
#: the documented long run, see device/tests/README.md), else a few, so that the default
#: run only shows that it works; the tests above give every handler 150 by default.
LONG_RUN_EXAMPLES = EXAMPLES if "DAYBREAK_FUZZ_EXAMPLES" in os.environ else 20
LONG_RUN_HANDLERS = [*COMMAND_EVENTS, "POST /api/light", "POST /api/sunrise"]


def long_run_fuzz(
    handler: str, client: Client, http: httpx.AsyncClient, loop: asyncio.AbstractEventLoop
) -> Callable[[], None]:
    """The Hypothesis test for one handler: a Socket.IO command or a JSON endpoint."""
    long_run = settings(FUZZ, max_examples=LONG_RUN_EXAMPLES)
    if not handler.startswith("POST "):

        @long_run
        @given(payload=SOCKET_PAYLOADS)
        def fuzz_command(payload: Any) -> None:
            check_answer(handler, payload, on_loop(loop, client.call(handler, payload)))

        return fuzz_command

    path = handler.removeprefix("POST ")
    event = {"/api/light": "light.set", "/api/sunrise": "sunrise.start"}[path]

    @long_run
    @given(payload=REST_PAYLOADS)
    def fuzz_endpoint(payload: Any) -> None:
        body = json.dumps(payload).encode()
        response = on_loop(loop, http.post(path, content=body))
        if len(body) > 4096:
            assert response.status_code == 413
        else:
            check_response(event, response, roundtrip(payload))

    return fuzz_endpoint


@pytest.mark.slow
@pytest.mark.timeout(max(120, LONG_RUN_EXAMPLES * len(LONG_RUN_HANDLERS) // 100))
# The server's loop (another thread) draws from the global ``random`` (uvicorn's
# WebSocket keepalive ping payload, every 20 s) while Hypothesis generates an example;
# Hypothesis takes that for the strategy using ``random`` and warns.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
async def test_fuzz_long_run_every_handler_on_one_connection(
    connect, http: httpx.AsyncClient
) -> None:
    """``DAYBREAK_FUZZ_EXAMPLES=10000`` examples for each command and JSON endpoint in
    turn, on one Socket.IO connection and one HTTP client that must last the whole run."""
    client: Client = await connect()
    sid = client.sio.get_sid()
    loop = asyncio.get_running_loop()
    for handler in LONG_RUN_HANDLERS:
        await run_examples(long_run_fuzz(handler, client, http, loop))
        assert client.sio.connected, handler
        assert client.sio.get_sid() == sid, handler
    check_ok("state.get", await client.call("state.get"))
    check_ok("info.get", await client.call("info.get"))
    assert (await http.get("/api/state")).status_code == 200
