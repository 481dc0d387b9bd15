"""Dead-peer detection: a client that stops answering pings is dropped in time."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import pytest
import socketio
import websockets

from daybreak_device.output import GpiozeroOutput
from daybreak_device.protocol import ProtocolError
from daybreak_device.server import DaybreakServer
from helpers import TOKEN


async def test_hung_client_is_dropped_after_ping_interval_plus_timeout(start_device) -> None:
    # A raw Engine.IO/Socket.IO client that authenticates and then never answers a ping,
    # like a peer whose process was frozen. The device must close it within
    # ping_interval + ping_timeout (defaults 5 s + 5 s, well inside 15 s; shortened here).
    device = await start_device(ping_interval=1.0, ping_timeout=1.0)
    url = f"ws://127.0.0.1:{device.server.port}/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url) as ws:
        opened = json.loads(str(await ws.recv())[1:])
        assert opened["pingInterval"] == 1000
        assert opened["pingTimeout"] == 1000
        await ws.send("40" + json.dumps({"token": TOKEN}))
        assert str(await ws.recv()).startswith("40")  # connected
        assert str(await ws.recv()).startswith('42["state"')  # the full state
        assert str(await ws.recv()).startswith('42["alarms"')  # and all alarms
        started = time.monotonic()
        pings = 0
        async with asyncio.timeout(5):
            try:
                async for message in ws:
                    pings += message == "2"  # a ping we deliberately leave unanswered
            except websockets.ConnectionClosed:
                pass
        dropped_after = time.monotonic() - started
    assert pings >= 1
    assert dropped_after < 1.0 + 1.0 + 0.5


async def test_answering_client_stays_connected(start_device, connect) -> None:
    # (``connect`` brings the default device on GPIO18; this one uses another pin.)
    device = await start_device(pin="GPIO17", ping_interval=1.0, ping_timeout=1.0)
    client = await connect(target=device)
    await asyncio.sleep(3.0)  # three ping rounds, answered by python-socketio
    assert client.sio.connected
    ack = await client.call("state.get")
    assert ack["ok"] is True


async def test_stop_leaves_no_task_behind(settings, pin_factory, tmp_path) -> None:
    # Home Assistant's test harness fails on lingering tasks; so would a clean shutdown.
    output = GpiozeroOutput(settings.pin, 1000, pin_factory=pin_factory)
    # Engine.IO starts a ping task (sleeping ping_interval) for each client at connect.
    server = DaybreakServer(replace(settings, ping_interval=10.0), TOKEN, output=output)
    before = asyncio.all_tasks()
    await server.start()
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await sio.connect(
        f"http://127.0.0.1:{server.port}", auth={"token": TOKEN}, transports=["websocket"]
    )
    assert (await sio.call("light.set", {"brightness": 10, "transition": 5}))["ok"]
    await server.stop()
    await sio.disconnect()
    await sio.wait()
    left = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert left == set()


async def test_stopped_server_refuses_commands_and_new_connections(settings, pin_factory) -> None:
    output = GpiozeroOutput(settings.pin, 1000, pin_factory=pin_factory)
    server = DaybreakServer(settings, TOKEN, output=output)
    await server.start()
    url = f"http://127.0.0.1:{server.port}"
    await server.stop()
    with pytest.raises(ProtocolError) as err:
        await server.execute("light.set", {"brightness": 200})
    assert err.value.code == "internal_error"
    assert output.duty == 0.0
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(url, auth={"token": TOKEN}, transports=["websocket"], wait_timeout=2)
