"""The one error policy, on both transports: an unexpected exception is a JSON answer.

A bug in a handler (here: the light controller raising) must not give REST's plain
``500 Internal Server Error`` with a traceback per request, nor a Socket.IO command
without an ack: both answer ``internal_error`` in the acks' JSON shape, the server
keeps serving, and the log gets one traceback a minute, not one per request.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from daybreak_device import rest_transport
from helpers import Client, Device

INTERNAL = {
    "ok": False,
    "error": {"code": "internal_error", "message": "the device could not carry out the command"},
}


def broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug in the handler")


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]


async def test_rest_answers_an_unexpected_exception_in_json(
    device: Device, http: httpx.AsyncClient, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(device.server.controller, "set_light", broken)
    for _ in range(50):
        response = await http.post("/api/light", json={"brightness": 10})
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/json"
        assert response.json() == INTERNAL
    assert len(tracebacks(caplog)) == 1
    assert "Command light.set failed (1 unexpected error(s)" in tracebacks(caplog)[0].getMessage()
    assert (await http.get("/api/state")).status_code == 200  # still serving


async def test_rest_answers_an_exception_outside_the_command_in_json(
    device: Device, http: httpx.AsyncClient, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(rest_transport, "_read_json", broken)
    response = await http.post("/api/sunrise", json={})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "internal_error"
    assert len(tracebacks(caplog)) == 1


async def test_socketio_acks_an_unexpected_exception(
    device: Device, connect, monkeypatch, caplog
) -> None:
    client: Client = await connect()
    monkeypatch.setattr(device.server.controller, "start_sunrise", broken)
    for _ in range(50):
        assert await client.call("sunrise.start", {"duration": 60}) == INTERNAL
    assert len(tracebacks(caplog)) == 1
    assert (await client.call("state.get"))["ok"] is True
