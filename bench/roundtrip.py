"""Command round trip: a Socket.IO ``light.set`` to the pin and the ``state`` event back.

Everything on 127.0.0.1, client and servers in this process and one asyncio loop (so
each figure includes both ends' Python work, one after the other), except Mosquitto:

* ``daybreak``: the real ``DaybreakServer`` (uvicorn, python-socketio, REST app, the
  light controller writing its state file) with gpiozero ``MockFactory`` and a
  ``MockPWMPin`` subclass that timestamps each change of its duty. A
  ``socketio.AsyncClient`` calls ``light.set`` with brightness alternating between 100
  and 200 (each a real change) and measures from the call to (1) the pin change,
  (2) the ``state`` event arriving with the new brightness, (3) the ack.
* baseline ``sio-echo``: a bare python-socketio ``AsyncServer`` (ASGI under uvicorn,
  WebSocket only, as the device serves) whose handler returns its argument; ``call``
  round trip. The transport's cost that each Daybreak command pays once.
* baseline ``ws-echo``: a raw ``websockets`` echo server and client; send/recv.
* baseline ``mqtt``: the DIY alternative. A private Mosquitto broker (Debian's
  ``mosquitto``, ``set_tcp_nodelay true``) in a child process on a free loopback port,
  an ``aiomqtt`` "device" that subscribes to a command topic, sets the same kind of
  mock pin through a gpiozero ``PWMLED`` and publishes its state (JSON) to a state
  topic, and an ``aiomqtt`` client that publishes the command and waits for the state.
  QoS 0. Measured: command to pin, command to state. ``mqtt+save`` is the same device
  also saving its state as Daybreak does before answering (``atomic_write_json``, the
  device's own temp file + fsync + rename + directory fsync, in a worker thread).
* ``state file write``: that save alone (``asyncio.to_thread(atomic_write_json)``), the
  part of each Daybreak command that makes it durable.

Usage: ``bench/roundtrip.py [-n COMMANDS]`` (default 2000 after 200 warm-up commands).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import socketio
import uvicorn
import websockets
from _common import TOKEN, free_port, percentile, print_header, ratio
from gpiozero import PWMLED
from gpiozero.pins.mock import MockFactory, MockPWMPin

from daybreak_device.config import Settings
from daybreak_device.output import GpiozeroOutput
from daybreak_device.server import DaybreakServer
from daybreak_device.store import atomic_write_json

WARMUP = 200
LEVELS = (100, 200)


class TimedPWMPin(MockPWMPin):  # type: ignore[misc]
    """A mock PWM pin that records when its duty last changed (perf_counter)."""

    changed: asyncio.Event | None = None
    changed_at = 0.0

    def _change_state(self, value: Any) -> bool:
        changed = bool(super()._change_state(value))
        if changed:
            self.changed_at = time.perf_counter()
            if self.changed is not None:
                self.changed.set()
        return changed


@dataclass
class Series:
    """Latencies (ms) of one measured path."""

    name: str
    note: str
    values: list[float] = field(default_factory=list)

    def stats(self) -> tuple[float, float, float, float]:
        v = self.values
        return percentile(v, 50), percentile(v, 99), max(v), sum(v) / len(v)


# -- Daybreak ------------------------------------------------------------------------------


def device_settings(state_dir: Path) -> Settings:
    extra: dict[str, Any] = {}
    if "zeroconf" in {f.name for f in fields(Settings)}:
        extra["zeroconf"] = False
    return Settings(host="127.0.0.1", port=0, token=TOKEN, state_dir=state_dir, mock=True, **extra)


async def bench_daybreak(n: int) -> list[Series]:
    factory = MockFactory(pin_class=TimedPWMPin)
    output = GpiozeroOutput("GPIO18", 1000.0, pin_factory=factory)
    pin = output.led.pin
    pin.changed = asyncio.Event()
    pin_s = Series("daybreak cmd->pin", "light.set call until the mock pin's duty changed")
    state_s = Series("daybreak cmd->state", "until the 'state' event with it reached the client")
    ack_s = Series("daybreak cmd->ack", "until the call's ack returned")
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-") as tmp:
        server = DaybreakServer(device_settings(Path(tmp) / "state"), TOKEN, output=output)
        await server.start()
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        got_state = asyncio.Event()
        want = {"brightness": -1}

        def on_state(data: dict[str, Any]) -> None:
            if data.get("brightness") == want["brightness"]:
                got_state.set()

        sio.on("state", on_state)
        try:
            await sio.connect(
                f"http://127.0.0.1:{server.port}",
                auth={"token": TOKEN},
                transports=["websocket"],
                wait_timeout=5,
            )
            for i in range(WARMUP + n):
                level = LEVELS[i % 2]
                want["brightness"] = level
                got_state.clear()
                pin.changed.clear()
                t0 = time.perf_counter()
                ack = await sio.call("light.set", {"brightness": level}, timeout=5)
                t_ack = time.perf_counter()
                if not ack.get("ok"):
                    raise RuntimeError(f"light.set refused: {ack}")
                async with asyncio.timeout(5):
                    await got_state.wait()
                    t_state = time.perf_counter()
                    await pin.changed.wait()
                if i >= WARMUP:
                    pin_s.values.append((pin.changed_at - t0) * 1e3)
                    state_s.values.append((t_state - t0) * 1e3)
                    ack_s.values.append((t_ack - t0) * 1e3)
        finally:
            await sio.disconnect()
            await server.stop()
    return [pin_s, state_s, ack_s]


# -- baselines --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def uvicorn_app(app: Any) -> AsyncIterator[int]:
    """Serve an ASGI app with uvicorn on a free loopback port, in this loop."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def bench_sio_echo(n: int, pause: float = 0.0) -> Series:
    """The baseline: a bare python-socketio echo, ``pause`` s between calls."""
    series = Series("sio-echo ack", "bare python-socketio + uvicorn, call to an echo handler")
    sio_server = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])

    async def echo(sid: str, data: Any) -> Any:
        return data

    sio_server.on("echo", echo)
    async with uvicorn_app(socketio.ASGIApp(sio_server)) as port:
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        await sio.connect(f"http://127.0.0.1:{port}", transports=["websocket"], wait_timeout=5)
        try:
            for i in range(WARMUP + n):
                payload = {"brightness": LEVELS[i % 2]}
                t0 = time.perf_counter()
                await sio.call("echo", payload, timeout=5)
                if i >= WARMUP:
                    series.values.append((time.perf_counter() - t0) * 1e3)
                if pause:
                    await asyncio.sleep(pause)
        finally:
            await sio.disconnect()
            await sio_server.shutdown()
    return series


async def bench_ws_echo(n: int) -> Series:
    series = Series("ws-echo", "raw websockets server and client, send then recv")

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async with websockets.serve(echo, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with websockets.connect(f"ws://127.0.0.1:{port}", compression=None) as ws:
            for i in range(WARMUP + n):
                message = json.dumps({"brightness": LEVELS[i % 2]})
                t0 = time.perf_counter()
                await ws.send(message)
                await ws.recv()
                if i >= WARMUP:
                    series.values.append((time.perf_counter() - t0) * 1e3)
    return series


def mosquitto_path() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


async def wait_for_port(port: int, proc: asyncio.subprocess.Process, limit: float = 10) -> None:
    deadline = time.monotonic() + limit
    while True:
        if proc.returncode is not None:
            raise RuntimeError(f"mosquitto exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)
        else:
            writer.close()
            await writer.wait_closed()
            return


async def bench_state_write(n: int) -> Series:
    series = Series("state file write", "asyncio.to_thread(atomic_write_json), 5 keys")
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-") as tmp:
        path = Path(tmp) / "state.json"
        for i in range(WARMUP + n):
            data = {"version": 1, "on": True, "level": float(LEVELS[i % 2]), "ramp": None}
            t0 = time.perf_counter()
            await asyncio.to_thread(atomic_write_json, path, data)
            if i >= WARMUP:
                series.values.append((time.perf_counter() - t0) * 1e3)
    return series


async def bench_mqtt(  # noqa: PLR0915 - broker, device and client in one place
    n: int, mosquitto: str, *, save: bool = False
) -> list[Series]:
    import aiomqtt  # noqa: PLC0415 - only this baseline needs it

    name = "mqtt+save" if save else "mqtt"
    pin_s = Series(f"{name} cmd->pin", "publish until the MQTT device's mock pin changed")
    state_s = Series(f"{name} cmd->state", "publish until its state message reached the client")
    if save:
        state_s.note = "the same, the MQTT device saving its state file before publishing"
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="daybreak-mqtt-") as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "set_tcp_nodelay true\n"
            "log_dest none\n"
        )
        broker = await asyncio.create_subprocess_exec(
            mosquitto,
            "-c",
            str(conf),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        try:
            await wait_for_port(port, broker)
            factory = MockFactory(pin_class=TimedPWMPin)
            led = PWMLED("GPIO18", frequency=1000, pin_factory=factory)
            pin = led.pin
            pin.changed = asyncio.Event()
            state_file = Path(tmp) / "state.json"

            async def device(ready: asyncio.Event) -> None:
                """The DIY MQTT light: command topic in, pin set, state topic out."""
                async with aiomqtt.Client("127.0.0.1", port, identifier="daybreak-dev") as dev:
                    await dev.subscribe("daybreak/light/set")
                    ready.set()
                    async for message in dev.messages:
                        command = json.loads(message.payload)  # type: ignore[arg-type]
                        brightness = int(command["brightness"])
                        led.value = (brightness / 255) ** 2.2
                        state = {"on": brightness > 0, "brightness": brightness}
                        if save:
                            await asyncio.to_thread(atomic_write_json, state_file, state)
                        await dev.publish("daybreak/light/state", json.dumps(state))

            ready = asyncio.Event()
            device_task = asyncio.create_task(device(ready))
            await asyncio.wait_for(ready.wait(), 10)
            async with aiomqtt.Client("127.0.0.1", port, identifier="daybreak-ha") as client:
                await client.subscribe("daybreak/light/state")
                messages = aiter(client.messages)
                for i in range(WARMUP + n):
                    level = LEVELS[i % 2]
                    pin.changed.clear()
                    t0 = time.perf_counter()
                    await client.publish("daybreak/light/set", json.dumps({"brightness": level}))
                    async with asyncio.timeout(5):
                        while True:
                            message = await anext(messages)
                            if json.loads(message.payload)["brightness"] == level:  # type: ignore[arg-type]
                                break
                        t_state = time.perf_counter()
                        await pin.changed.wait()
                    if i >= WARMUP:
                        pin_s.values.append((pin.changed_at - t0) * 1e3)
                        state_s.values.append((t_state - t0) * 1e3)
            device_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await device_task
            led.close()
        finally:
            broker.terminate()
            await asyncio.wait_for(broker.wait(), 5)
    return [pin_s, state_s]


# -- report ----------------------------------------------------------------------------------


def print_table(rows: list[Series], base: Series | None) -> None:
    head = (
        f"{'path':<22} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8}"
        f" {'p50 vs sio':>10} {'p99 vs sio':>10}"
    )
    print(head)
    print("-" * len(head))
    b50, b99 = (base.stats()[:2]) if base else (float("nan"), float("nan"))
    for series in rows:
        p50, p99, worst, mean = series.stats()
        print(
            f"{series.name:<22} {p50:>8.3f} {p99:>8.3f} {worst:>8.3f} {mean:>8.3f}"
            f" {ratio(p50, b50):>10} {ratio(p99, b99):>10}"
        )


async def run(n: int) -> None:
    rows: list[Series] = []
    timings: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("sio-echo", lambda: bench_sio_echo(n)),
        ("ws-echo", lambda: bench_ws_echo(n)),
        ("daybreak", lambda: bench_daybreak(n)),
    ]
    mosquitto = mosquitto_path()
    if mosquitto is not None:
        timings.append(("mqtt", lambda: bench_mqtt(n, mosquitto)))
        timings.append(("mqtt+save", lambda: bench_mqtt(n, mosquitto, save=True)))
    timings.append(("state file write", lambda: bench_state_write(n)))
    for name, bench in timings:
        began = time.perf_counter()
        result = await bench()
        rows.extend(result if isinstance(result, list) else [result])
        print(f"  {name}: {time.perf_counter() - began:.1f} s")
    print()
    by_name = {s.name: s for s in rows}
    base = by_name["sio-echo ack"]
    print(f"== Round trips, {n} commands each after {WARMUP} warm-up ==")
    print_table(rows, base)
    print()
    for series in rows:
        print(f"  {series.name:<22} {series.note}")
    if mosquitto is None:
        print("  mqtt: left out, no mosquitto on this machine (bench/run installs it)")
    print()
    state = by_name["daybreak cmd->state"]
    print("Daybreak cmd->state over each baseline (p50 / p99):")
    for other in ("sio-echo ack", "ws-echo", "mqtt cmd->state", "mqtt+save cmd->state"):
        if other in by_name:
            o = by_name[other]
            print(
                f"  vs {other:<20} {ratio(state.stats()[0], o.stats()[0]):>7} /"
                f" {ratio(state.stats()[1], o.stats()[1]):>7}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="commands per path (default 2000)")
    args = parser.parse_args()
    start = time.perf_counter()
    print_header("command round trip (Socket.IO vs baselines, incl. MQTT)")
    asyncio.run(run(args.n))
    print(f"(bench took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
