"""REST: authentication, every endpoint, validation and transport errors over real HTTP."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from daybreak_device import __version__
from daybreak_device.alarms import local_timezone, zone_name
from daybreak_device.dimming import Dimmer
from daybreak_device.server import MODEL
from helpers import TOKEN, Client, Device, invalid, steady

OFF = {
    "on": False,
    "brightness": 0,
    "level": 0.0,
    "sunrise": None,
    "transition": None,
    "next_sunrise": None,
    "storage_error": None,
}
DIMMER = Dimmer()
ENDPOINTS = [
    ("GET", "/api/info"),
    ("GET", "/api/state"),
    ("POST", "/api/light"),
    ("POST", "/api/sunrise"),
    ("DELETE", "/api/sunrise"),
]
#: A body for each endpoint that would change something if it were accepted.
EFFECTIVE_BODY = {"/api/light": {"brightness": 200}, "/api/sunrise": {"duration": 60}}
UNAUTHORIZED = {
    "ok": False,
    "error": {"code": "unauthorized", "message": "missing or wrong bearer token"},
}
TOO_LARGE = {
    "ok": False,
    "error": {"code": "payload_too_large", "message": "body is over 4096 bytes"},
}
BAD_JSON = {"ok": False, "error": {"code": "invalid_payload", "message": "body is not valid JSON"}}


async def fingerprint(http: httpx.AsyncClient, device: Device) -> tuple[Any, ...]:
    """State, pin history and state file: what a refused request must leave alone."""
    response = await http.get("/api/state")
    assert response.status_code == 200
    state_file = device.server.settings.state_dir / "state.json"
    return response.json(), list(device.pin.states), state_file.read_bytes()


def assert_json(response: httpx.Response, status: int, body: Any) -> None:
    assert response.headers["content-type"] == "application/json"
    assert (response.status_code, response.json()) == (status, body)


@pytest.fixture
async def lit(http: httpx.AsyncClient, device: Device) -> httpx.AsyncClient:
    """The authorized client, with the light set to a known non-default level (77)."""
    response = await http.post("/api/light", json={"brightness": 77})
    assert_json(response, 200, {"ok": True, "state": steady(77)})
    assert device.pin.state == pytest.approx(DIMMER.duty(77))
    return http


@pytest.fixture
async def anonymous(device: Device) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client without any token."""
    async with httpx.AsyncClient(base_url=device.url, timeout=5) as client:
        yield client


# -- health and authentication ------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
async def test_health_needs_no_token(anonymous: httpx.AsyncClient, headers) -> None:
    response = await anonymous.get("/api/health", headers=headers)
    assert_json(
        response,
        200,
        {
            "status": "ok",
            "protocol_version": 4,
            "storage": {"ok": True, "error": None, "since": None},
        },
    )


BAD_AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer wrong",
    f"Bearer {TOKEN}x",
    f"Bearer {TOKEN[:-1]}",
    f"Bearer {TOKEN.upper()}",
    f"Basic {TOKEN}",
    f"Token {TOKEN}",
    TOKEN,
    f"{TOKEN} Bearer",
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_every_endpoint_refuses_missing_or_wrong_token(
    lit: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    device: Device,
    subtests: pytest.Subtests,
    *,
    method: str,
    path: str,
) -> None:
    if method == "DELETE":  # give DELETE a sunrise it could stop (it holds the level at 77)
        response = await lit.post(
            "/api/sunrise", json={"start_brightness": 77, "target_brightness": 77}
        )
        assert response.status_code == 200
    for authorization in BAD_AUTHORIZATIONS:
        with subtests.test(authorization=authorization):
            before = await fingerprint(lit, device)
            headers = {} if authorization is None else {"Authorization": authorization}
            body = EFFECTIVE_BODY.get(path) if method == "POST" else None
            response = await anonymous.request(method, path, headers=headers, json=body)
            assert_json(response, 401, UNAUTHORIZED)
            assert response.headers["www-authenticate"] == "Bearer"
            after = await fingerprint(lit, device)
            if method == "DELETE":  # the sunrise still runs (its progress moves on)
                assert after[0]["sunrise"]["active"] is True
                assert after[1:] == before[1:]
            else:
                assert after == before


async def test_token_in_query_string_is_refused(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/state", params={"token": TOKEN})
    assert_json(response, 401, UNAUTHORIZED)
    response = await anonymous.get("/api/state", params={"access_token": TOKEN})
    assert_json(response, 401, UNAUTHORIZED)


@pytest.mark.parametrize(
    "authorization", [f"bearer {TOKEN}", f"BEARER {TOKEN}", f"Bearer  {TOKEN}"]
)
async def test_bearer_scheme_is_case_insensitive(
    anonymous: httpx.AsyncClient, authorization: str
) -> None:
    response = await anonymous.get("/api/state", headers={"Authorization": authorization})
    assert_json(response, 200, OFF)


# -- endpoints ------------------------------------------------------------------------


async def test_get_info(http: httpx.AsyncClient, device: Device, connect) -> None:
    response = await http.get("/api/info")
    device_id = (device.server.settings.state_dir / "device_id").read_text().strip()
    info = {
        "device_id": device_id,
        "name": "Daybreak",
        "model": MODEL,
        "sw_version": __version__,
        "protocol_version": 4,
        "output": device.output.description,
        "timezone": zone_name(local_timezone()),
        "storage_error": None,
    }
    assert response.status_code == 200
    answered = response.json()
    uptime = answered.pop("uptime")
    assert answered == info
    client: Client = await connect()
    ack = await client.call("info.get")
    # Seconds since the server started, counting up, to the millisecond.
    assert uptime <= ack["info"].pop("uptime") < 30
    assert ack == {"ok": True, "info": info}
    assert round(uptime, 3) == uptime


async def test_get_state(http: httpx.AsyncClient) -> None:
    assert_json(await http.get("/api/state"), 200, OFF)


async def test_post_light(http: httpx.AsyncClient, device: Device) -> None:
    response = await http.post("/api/light", json={"brightness": 128})
    assert_json(response, 200, {"ok": True, "state": steady(128)})
    assert device.pin.state == pytest.approx(DIMMER.duty(128))
    assert_json(await http.post("/api/light", json={"on": False}), 200, {"ok": True, "state": OFF})
    assert device.pin.state == 0
    response = await http.post("/api/light", json={"on": True})
    assert_json(response, 200, {"ok": True, "state": steady(128)})
    response = await http.post("/api/light", json={"brightness": 0, "transition": 0})
    assert_json(response, 200, {"ok": True, "state": OFF})
    assert_json(await http.get("/api/state"), 200, OFF)


async def test_post_light_with_transition(http: httpx.AsyncClient, connect) -> None:
    client: Client = await connect()
    response = await http.post("/api/light", json={"brightness": 50, "transition": 0.3})
    assert response.status_code == 200
    assert response.json()["state"]["transition"]["target_brightness"] == 50.0
    await client.wait_for_state(lambda s: s == steady(50))
    assert_json(await http.get("/api/state"), 200, steady(50))


@pytest.mark.parametrize("body", [b"{}", b"", b"null"], ids=["empty-object", "no-body", "null"])
async def test_post_sunrise_with_defaults(http: httpx.AsyncClient, body: bytes) -> None:
    response = await http.post("/api/sunrise", content=body)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    sunrise = body["state"]["sunrise"]
    assert {k: sunrise[k] for k in ("active", "duration", "start_brightness", "curve")} == {
        "active": True,
        "duration": 1800.0,
        "start_brightness": 0.0,
        "curve": "linear",
    }
    assert sunrise["target_brightness"] == 255.0
    assert body["state"]["on"] is True


async def test_post_sunrise_runs_and_delete_stops_it(
    http: httpx.AsyncClient, device: Device, connect
) -> None:
    client: Client = await connect()
    response = await http.post(
        "/api/sunrise",
        json={"duration": 1, "target_brightness": 120, "start_brightness": 0, "curve": "ease_out"},
    )
    assert response.status_code == 200
    assert response.json()["state"]["sunrise"]["curve"] == "ease_out"
    assert await client.wait_for_state(lambda s: s == steady(120)) == steady(120)
    assert device.pin.state == pytest.approx(DIMMER.duty(120))

    client.states.clear()
    response = await http.post("/api/sunrise", json={"duration": 600, "target_brightness": 200})
    assert response.json()["state"]["sunrise"]["start_brightness"] == 120.0
    await client.wait_for_state(lambda s: s["sunrise"] is not None and s["sunrise"]["progress"] > 0)
    response = await http.delete("/api/sunrise")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["state"]["sunrise"] is None
    assert 120 < body["state"]["level"] < 125
    assert_json(await http.get("/api/state"), 200, body["state"])


async def test_delete_sunrise_without_sunrise_changes_nothing(
    lit: httpx.AsyncClient, device: Device
) -> None:
    before = await fingerprint(lit, device)
    assert_json(await lit.delete("/api/sunrise"), 200, {"ok": True, "state": steady(77)})
    assert await fingerprint(lit, device) == before


async def test_rest_and_socketio_return_the_same_state_shape(
    http: httpx.AsyncClient, connect
) -> None:
    client: Client = await connect()
    assert (await http.get("/api/state")).json() == (await client.call("state.get"))["state"]

    rest = (await http.post("/api/light", json={"brightness": 42})).json()
    assert rest == await client.call("light.set", {"brightness": 42})
    assert rest == {"ok": True, "state": steady(42)}

    rest = (await http.post("/api/sunrise", json={"duration": 600})).json()
    sio = await client.call("state.get")
    assert rest.keys() == sio.keys() == {"ok", "state"}
    assert rest["state"].keys() == sio["state"].keys()
    assert rest["state"]["sunrise"].keys() == sio["state"]["sunrise"].keys()
    for key in ("started_at", "ends_at", "duration", "start_brightness", "target_brightness"):
        assert rest["state"]["sunrise"][key] == sio["state"]["sunrise"][key]
    assert (await http.get("/api/state")).json().keys() == sio["state"].keys()

    rest = (await http.delete("/api/sunrise")).json()
    assert rest == {"ok": True, "state": (await client.call("state.get"))["state"]}


async def test_rest_change_is_pushed_to_socketio_clients(http: httpx.AsyncClient, connect) -> None:
    first, second = await connect(), await connect()
    response = await http.post("/api/light", json={"brightness": 99})
    assert response.status_code == 200
    for client in (first, second):
        assert await client.wait_for_state(lambda s: s == steady(99)) == steady(99)
    await http.post("/api/sunrise", json={"duration": 600, "target_brightness": 150})
    for client in (first, second):
        state = await client.wait_for_state(lambda s: s["sunrise"] is not None)
        assert state["sunrise"]["target_brightness"] == 150.0
    await http.delete("/api/sunrise")
    for client in (first, second):
        await client.wait_for_state(lambda s: s["sunrise"] is None and s["level"] >= 99)


# -- refused bodies -----------------------------------------------------------------

VALIDATION_ERRORS = [
    (
        "/api/light",
        {"brightness": "1"},
        "expected a number between 0 and 255 for dictionary value @ data['brightness']. Got '1'",
    ),
    (
        "/api/light",
        {"brightness": True},
        "expected a number between 0 and 255 for dictionary value @ data['brightness']. Got True",
    ),
    (
        "/api/light",
        {"brightness": 256},
        "must be between 0 and 255 for dictionary value @ data['brightness']. Got 256",
    ),
    ("/api/light", {"on": 1}, "expected true or false for dictionary value @ data['on']. Got 1"),
    ("/api/light", {"on": True, "x": 1}, "extra keys not allowed @ data['x']. Got 1"),
    ("/api/light", {}, "give 'on', 'brightness' or both. Got {}"),
    ("/api/light", {"transition": 2}, "give 'on', 'brightness' or both. Got {'transition': 2}"),
    ("/api/light", [{"on": True}], "payload must be a JSON object"),
    ("/api/light", "on", "payload must be a JSON object"),
    ("/api/light", 1, "payload must be a JSON object"),
    ("/api/light", None, "give 'on', 'brightness' or both. Got {}"),  # the JSON text "null"
    (
        "/api/sunrise",
        {"duration": 0.5},
        "must be between 1 and 10800 for dictionary value @ data['duration']. Got 0.5",
    ),
    (
        "/api/sunrise",
        {"duration": 10801},
        "must be between 1 and 10800 for dictionary value @ data['duration']. Got 10801",
    ),
    (
        "/api/sunrise",
        {"target_brightness": 0},
        "must be between 1 and 255 for dictionary value @ data['target_brightness']. Got 0",
    ),
    (
        "/api/sunrise",
        {"curve": "cubic"},
        (
            "must be one of linear, ease_in, ease_out, ease_in_out "
            "for dictionary value @ data['curve']. Got 'cubic'"
        ),
    ),
    ("/api/sunrise", {"on": True}, "extra keys not allowed @ data['on']. Got True"),
    ("/api/sunrise", [], "payload must be a JSON object"),
]


@pytest.mark.parametrize(("path", "body", "message"), VALIDATION_ERRORS)
async def test_validation_error_is_422_and_changes_nothing(
    lit: httpx.AsyncClient, device: Device, path: str, body: Any, message: str
) -> None:
    before = await fingerprint(lit, device)
    response = await lit.post(path, content=json.dumps(body))
    assert_json(response, 422, invalid(message))
    assert await fingerprint(lit, device) == before


@pytest.mark.parametrize("body", [b"", b"  \n\t "])
async def test_empty_light_body_is_422(lit: httpx.AsyncClient, device: Device, body: bytes) -> None:
    before = await fingerprint(lit, device)
    response = await lit.post("/api/light", content=body)
    assert_json(response, 422, invalid("give 'on', 'brightness' or both. Got {}"))
    assert await fingerprint(lit, device) == before


@pytest.mark.parametrize(
    "body",
    [
        b"1" * 200,  # a huge integer, beyond the float range
        b'{"brightness": 1' + b"0" * 400 + b"}",
        b'{"brightness": -1' + b"0" * 400 + b"}",
    ],
    ids=["bare", "brightness", "negative"],
)
async def test_huge_integer_is_422_not_a_crash(
    lit: httpx.AsyncClient, device: Device, body: bytes
) -> None:
    before = await fingerprint(lit, device)
    response = await lit.post("/api/light", content=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_payload"
    assert await fingerprint(lit, device) == before


@pytest.mark.parametrize(
    "body",
    [b"NaN", b'{"brightness": NaN}', b'{"brightness": Infinity}', b'{"brightness": 1e999}'],
)
async def test_non_finite_numbers_are_422(
    lit: httpx.AsyncClient, device: Device, body: bytes
) -> None:
    before = await fingerprint(lit, device)
    response = await lit.post("/api/light", content=body)
    assert_json(response, 422, invalid("payload is not plain JSON"))
    assert await fingerprint(lit, device) == before


MALFORMED_BODIES = [
    b"{",
    b"{'on': true}",
    b'{"on": True}',
    b"on=true",
    b'{"on": true}}',
    b'{"on": true,}',
    b"\xff\xfe\x00",
    b'{"on": "\xff"}',
]


@pytest.mark.parametrize("path", ["/api/light", "/api/sunrise"])
async def test_malformed_json_is_400_and_changes_nothing(
    lit: httpx.AsyncClient, device: Device, subtests: pytest.Subtests, path: str
) -> None:
    for body in MALFORMED_BODIES:
        with subtests.test(body=body[:20]):
            before = await fingerprint(lit, device)
            response = await lit.post(path, content=body)
            assert_json(response, 400, BAD_JSON)
            assert await fingerprint(lit, device) == before


def padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` as JSON, padded with trailing spaces to exactly ``size`` bytes."""
    text = json.dumps(body).encode()
    return text + b" " * (size - len(text))


@pytest.mark.parametrize("path", ["/api/light", "/api/sunrise"])
@pytest.mark.parametrize("size", [4097, 5000, 100_000])
async def test_body_over_4096_bytes_is_413(
    lit: httpx.AsyncClient, device: Device, path: str, size: int
) -> None:
    body = padded(EFFECTIVE_BODY[path], size)
    before = await fingerprint(lit, device)
    response = await lit.post(path, content=body)
    assert int(response.request.headers["content-length"]) == size
    assert_json(response, 413, TOO_LARGE)
    assert await fingerprint(lit, device) == before


async def test_body_of_exactly_4096_bytes_is_accepted(lit: httpx.AsyncClient) -> None:
    response = await lit.post("/api/light", content=padded({"brightness": 200}, 4096))
    assert_json(response, 200, {"ok": True, "state": steady(200)})


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("path", ["/api/light", "/api/sunrise"])
@pytest.mark.parametrize("size", [4097, 50_000])
async def test_chunked_body_over_4096_bytes_is_413(
    lit: httpx.AsyncClient, device: Device, path: str, size: int
) -> None:
    before = await fingerprint(lit, device)
    response = await lit.post(path, content=chunks(padded(EFFECTIVE_BODY[path], size)))
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert_json(response, 413, TOO_LARGE)
    assert await fingerprint(lit, device) == before


async def test_chunked_body_within_limit_is_accepted(lit: httpx.AsyncClient) -> None:
    response = await lit.post("/api/light", content=chunks(padded({"brightness": 33}, 4096), 7))
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_json(response, 200, {"ok": True, "state": steady(33)})


async def test_body_of_bodyless_endpoints_is_ignored(lit: httpx.AsyncClient) -> None:
    response = await lit.request("DELETE", "/api/sunrise", content=b"not json")
    assert_json(response, 200, {"ok": True, "state": steady(77)})


# -- unknown paths and wrong methods ----------------------------------------------------


UNKNOWN_PATHS = [
    ("GET", "/nope"),  # "/" is the device's web page (test_web.py)
    ("GET", "/static/nope.js"),
    ("GET", "/api"),
    ("GET", "/api/"),
    ("GET", "/api/nope"),
    ("GET", "/api/state/extra"),
    ("POST", "/api/lights"),
    ("DELETE", "/api/light/1"),
    ("GET", "/API/STATE"),
]


@pytest.mark.parametrize("with_token", [True, False])
async def test_unknown_path_is_404_json(
    lit: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    device: Device,
    subtests: pytest.Subtests,
    *,
    with_token: bool,
) -> None:
    for method, path in UNKNOWN_PATHS:
        with subtests.test(method=method, path=path):
            before = await fingerprint(lit, device)
            client = lit if with_token else anonymous
            response = await client.request(method, path, json={"on": False})
            message = f"no such resource: {path}"
            assert_json(
                response, 404, {"ok": False, "error": {"code": "not_found", "message": message}}
            )
            assert await fingerprint(lit, device) == before


WRONG_METHODS = [
    ("PUT", "/api/light", {"POST"}),
    ("GET", "/api/light", {"POST"}),
    ("DELETE", "/api/light", {"POST"}),
    ("PATCH", "/api/light", {"POST"}),
    ("OPTIONS", "/api/light", {"POST"}),
    ("POST", "/api/state", {"GET", "HEAD"}),
    ("DELETE", "/api/state", {"GET", "HEAD"}),
    ("POST", "/api/info", {"GET", "HEAD"}),
    ("POST", "/api/health", {"GET", "HEAD"}),
    ("GET", "/api/sunrise", {"POST", "DELETE"}),
    ("PUT", "/api/sunrise", {"POST", "DELETE"}),
]


async def test_wrong_method_is_405_with_allow(
    lit: httpx.AsyncClient, device: Device, subtests: pytest.Subtests
) -> None:
    for method, path, allowed in WRONG_METHODS:
        with subtests.test(method=method, path=path):
            before = await fingerprint(lit, device)
            response = await lit.request(method, path, json={"on": False, "brightness": 0})
            message = f"{method} not allowed here"
            assert_json(
                response,
                405,
                {"ok": False, "error": {"code": "method_not_allowed", "message": message}},
            )
            assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
            assert await fingerprint(lit, device) == before


async def test_keep_alive_responses_are_not_delayed(http: httpx.AsyncClient) -> None:
    """Responses leave at once (TCP_NODELAY), not ~40 ms late (Nagle + delayed ACK)."""
    durations = []
    for path in ["/api/health", "/api/state"] * 10:
        start = time.perf_counter()
        response = await http.get(path)
        durations.append(time.perf_counter() - start)
        assert response.status_code == 200
    assert statistics.median(durations) < 0.02, durations


async def test_server_keeps_serving_after_errors(lit: httpx.AsyncClient, connect) -> None:
    for _ in range(3):
        await lit.post("/api/light", content=b"{")
        await lit.post("/api/light", content=b" " * 10_000)
        await lit.get("/api/nope")
        await lit.put("/api/light")
    assert_json(
        await lit.get("/api/health"),
        200,
        {
            "status": "ok",
            "protocol_version": 4,
            "storage": {"ok": True, "error": None, "since": None},
        },
    )
    assert_json(await lit.get("/api/state"), 200, steady(77))
    client: Client = await connect()
    assert await client.call("state.get") == {"ok": True, "state": steady(77)}


@pytest.mark.parametrize("path", ["/api/light", "/api/sunrise"])
async def test_deeply_nested_json_is_422_and_changes_nothing(
    lit: httpx.AsyncClient, device: Device, path: str
) -> None:
    # Valid JSON, too deep for Python 3.11's parser (3.12+ parse it, then validation
    # refuses a list): a 422 either way, never a 500.
    before = await fingerprint(lit, device)
    response = await lit.post(path, content=b"[" * 2000 + b"]" * 2000)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_payload"
    assert await fingerprint(lit, device) == before
