"""Socket.IO: authentication, state push, commands and their errors over real sockets."""

from __future__ import annotations

import asyncio

import pytest
import socketio
from helpers import TOKEN, Client, Device


async def test_client_gets_full_state_on_connect(connect) -> None:
    client: Client = await connect()
    state = await client.wait_for_state(lambda s: True)
    assert state == {
        "on": False,
        "brightness": 0,
        "level": 0.0,
        "sunrise": None,
        "transition": None,
    }


@pytest.mark.parametrize("auth", [None, "wrong", "", 12345, {"nested": TOKEN}])
async def test_bad_token_is_refused_and_gets_no_state(device: Device, auth) -> None:
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    received: list[object] = []
    errors: list[object] = []
    sio.on("state", received.append)
    sio.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            device.url,
            auth=None if auth is None else {"token": auth},
            transports=["websocket"],
            wait_timeout=5,
        )
    assert errors == [{"message": "missing or wrong token", "data": {"code": "unauthorized"}}]
    await asyncio.sleep(0.3)
    assert received == []
    assert not sio.connected


async def test_set_light_reaches_pin_and_pushes_to_two_clients(connect, device: Device) -> None:
    first, second = await connect(), await connect()
    ack = await first.call("light.set", {"brightness": 255})
    assert ack["ok"] is True
    assert ack["state"]["on"] is True
    assert ack["state"]["brightness"] == 255
    assert device.pin.state == pytest.approx(1.0)
    for client in (first, second):
        await client.wait_for_state(lambda s: s["brightness"] == 255 and s["on"])
