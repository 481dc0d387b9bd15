"""Home Assistant round trip: ``light.turn_on`` → device → mock pin → HA state.

Runs with the Home Assistant venv (``scripts/lib/ha-python ha bench/ha_roundtrip.py``;
``bench/run`` does that), all in one asyncio loop:

* a real ``hass`` (``pytest_homeassistant_custom_component``'s
  ``async_test_home_assistant``) with the Daybreak integration set up from a config entry;
* the real device server (``DaybreakServer``, gpiozero ``MockFactory``/``MockPWMPin``) on
  127.0.0.1, the integration connected to it over Socket.IO as in production.

It makes ``N`` (default 600) ``light.turn_on`` calls with ``blocking=True`` and brightness
alternating between two levels, one after the other, and measures from the call:

* ``pin``: until the mock PWM pin takes the new duty (the device carried the command out);
* ``HA state``: until Home Assistant's state machine shows the new brightness. The
  integration is not optimistic: that state is the one the device reported (the
  command's ack; the ``state`` push that follows carries the same values);
* ``push``: until the integration receives the device's ``state`` push for the change;
* ``call``: until ``async_call`` returns.

Baseline, same loop and same run: a bare python-socketio ``AsyncServer`` (ASGI under
uvicorn, WebSocket only, as the device serves) and ``AsyncClient`` doing ``call`` round
trips to an echo handler: the transport's own cost, which every Daybreak command pays
once. Ratios are Daybreak figures over the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import logging
import os
import platform
import shlex
import socket
import sys
import tempfile
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

from _meta import git_revision

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # custom_components.daybreak, as Home Assistant loads it

import socketio  # noqa: E402
import uvicorn  # noqa: E402
from aiohttp import ThreadedResolver  # noqa: E402
from gpiozero.pins.mock import MockFactory, MockPWMPin  # noqa: E402
from homeassistant import loader  # noqa: E402
from homeassistant.const import __version__ as HA_VERSION  # noqa: E402, N812
from homeassistant.core import Event, HomeAssistant, callback  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.daybreak.client import DaybreakClient  # noqa: E402
from custom_components.daybreak.const import DOMAIN  # noqa: E402
from daybreak_device import light as light_module  # noqa: E402
from daybreak_device.config import Settings  # noqa: E402
from daybreak_device.output import GpiozeroOutput  # noqa: E402
from daybreak_device.server import DaybreakServer  # noqa: E402

TOKEN = "bench-token-0123456789"  # noqa: S105 - a local bench token
ENTITY_ID = "light.bench"
LEVELS = (96, 192)
WARMUP = 30


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def summary(values: Sequence[float]) -> tuple[float, float, float]:
    """p50, p99 and max, in milliseconds."""
    ms = [v * 1000 for v in values]
    return percentile(ms, 50), percentile(ms, 99), max(ms)


# -- the Daybreak round trip -----------------------------------------------------------


async def start_device(state_dir: Path) -> tuple[DaybreakServer, MockPWMPin, MockFactory]:
    settings = Settings(
        host="127.0.0.1",
        port=0,
        token=TOKEN,
        state_dir=state_dir,
        name="Bench",
        mock=True,
    )
    factory = MockFactory(pin_class=MockPWMPin)
    output = GpiozeroOutput(settings.pin, 1000, pin_factory=factory)
    server = DaybreakServer(settings, TOKEN, output=output)
    await server.start()
    pin = output.led.pin
    assert isinstance(pin, MockPWMPin)
    return server, pin, factory


@dataclass
class Timelines:
    """When each thing happened (``time.perf_counter()``), with the value it showed."""

    pin: list[tuple[float, float]] = field(default_factory=list)  # duty
    ha: list[tuple[float, Any]] = field(default_factory=list)  # HA brightness attribute
    push: list[tuple[float, int]] = field(default_factory=list)  # pushed brightness
    pushed: asyncio.Event = field(default_factory=asyncio.Event)

    def watch_pin(self, pin: MockPWMPin) -> None:
        """Time-stamp the mock pin's own state changes."""
        change_state = pin._change_state  # noqa: SLF001

        def record(value: float) -> bool:
            changed: bool = change_state(value)
            if changed:
                self.pin.append((time.perf_counter(), value))
            return changed

        pin._change_state = record  # type: ignore[method-assign] # noqa: SLF001

    def watch_hass(self, hass: HomeAssistant) -> None:
        """Time-stamp every new state of the light in HA's state machine."""

        @callback
        def record(event: Event[Any]) -> None:
            new = event.data["new_state"]
            if event.data["entity_id"] == ENTITY_ID and new is not None:
                self.ha.append((time.perf_counter(), new.attributes.get("brightness")))

        hass.bus.async_listen("state_changed", record)

    def watch_pushes(self, client: DaybreakClient) -> None:
        """Time-stamp the ``state`` pushes the integration's client receives.

        Wraps the client's push handler (command acks take another path).
        """
        handler = client._on_state  # noqa: SLF001

        async def record(data: Any) -> None:
            if isinstance(data, dict) and isinstance(data.get("brightness"), int):
                self.push.append((time.perf_counter(), data["brightness"]))
                self.pushed.set()
            await handler(data)

        assert client._sio is not None  # noqa: SLF001
        client._sio.on("state", record)  # noqa: SLF001


async def setup_integration(hass: HomeAssistant, server: DaybreakServer) -> MockConfigEntry:
    """Add and set up a config entry for the device, as the config flow would."""
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load custom_components/ from ROOT
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bench",
        unique_id=server.info()["device_id"],
        data={"host": "127.0.0.1", "port": server.port, "token": TOKEN},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY_ID) is not None, "the light was not set up"
    return entry


async def measure_daybreak(calls: int, state_dir: Path) -> dict[str, list[float]]:
    """The HA → device → pin → HA figures (seconds per call)."""
    server, pin, factory = await start_device(state_dir)
    seen = Timelines()
    seen.watch_pin(pin)
    results: dict[str, list[float]] = {"pin": [], "HA state": [], "push": [], "call": []}
    # The device saves its state file (atomically, with fsync, in a thread) before it
    # answers each command: time that too.
    write_json = light_module.atomic_write_json
    saves: list[float] = []

    def timed_write(path: Path, data: Any) -> None:
        t0 = time.perf_counter()
        write_json(path, data)
        saves.append(time.perf_counter() - t0)

    try:
        # As the test plugin does: no network scan or zeroconf for HA's aiohttp session.
        resolver = ThreadedResolver()
        resolver.real_close = resolver.close  # type: ignore[attr-defined] # HA closes it so
        with (
            patch(
                "homeassistant.helpers.aiohttp_client._async_make_resolver",
                return_value=resolver,
            ),
            patch.object(light_module, "atomic_write_json", timed_write),
        ):
            async with async_test_home_assistant() as hass:
                entry = await setup_integration(hass, server)
                seen.watch_hass(hass)
                seen.watch_pushes(entry.runtime_data.client)
                for i in range(WARMUP + calls):
                    level = LEVELS[i % 2]
                    duty = server.controller._dimmer.duty(level)  # noqa: SLF001
                    marks = len(seen.pin), len(seen.ha), len(seen.push)
                    seen.pushed.clear()
                    t0 = time.perf_counter()
                    await hass.services.async_call(
                        "light",
                        "turn_on",
                        {"entity_id": ENTITY_ID, "brightness": level},
                        blocking=True,
                    )
                    t_call = time.perf_counter()
                    # The push may arrive after the call returned: wait for it.
                    async with asyncio.timeout(5):
                        while not any(b == level for _, b in seen.push[marks[2] :]):
                            await seen.pushed.wait()
                            seen.pushed.clear()
                    if i < WARMUP:
                        continue
                    t_pin = next(t for t, v in seen.pin[marks[0] :] if abs(v - duty) < 1e-12)
                    t_ha = next(t for t, b in seen.ha[marks[1] :] if b == level)
                    t_push = next(t for t, b in seen.push[marks[2] :] if b == level)
                    results["pin"].append(t_pin - t0)
                    results["HA state"].append(t_ha - t0)
                    results["push"].append(t_push - t0)
                    results["call"].append(t_call - t0)
                results["save"] = saves[-calls:]  # one write per command
                await hass.async_stop(force=True)
    finally:
        await server.stop()
        factory.reset()
    return results


# -- the baseline: a bare python-socketio echo ---------------------------------------------


async def measure_echo(calls: int) -> list[float]:
    """``AsyncClient.call`` round trips to an echo handler (seconds per call)."""
    sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])

    async def echo(sid: str, data: Any) -> Any:
        return {"ok": True, "echo": data}

    sio.on("echo", echo)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    port = sock.getsockname()[1]
    server = _Uvicorn(uvicorn.Config(socketio.ASGIApp(sio), log_level="warning", lifespan="off"))
    serve = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn has no "started" event to await
        await asyncio.sleep(0.005)
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    times: list[float] = []
    try:
        await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        for i in range(WARMUP + calls):
            payload = {"brightness": LEVELS[i % 2]}
            t0 = time.perf_counter()
            ack = await client.call("echo", payload, timeout=5)
            elapsed = time.perf_counter() - t0
            assert ack == {"ok": True, "echo": payload}
            if i >= WARMUP:
                times.append(elapsed)
    finally:
        await client.disconnect()
        await client.eio.wait()
        await sio.shutdown()
        server.should_exit = True
        await serve
        sock.close()
    return times


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling (as the device server runs it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


# -- main -----------------------------------------------------------------------------


async def run(calls: int) -> None:
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-") as tmp:
        # The baseline runs half before and half after the Daybreak calls, pooled, so a
        # drift of the machine's speed during the run affects both sides alike.
        echo = await measure_echo(calls // 2)
        daybreak = await measure_daybreak(calls, Path(tmp) / "device")
        echo += await measure_echo(calls - calls // 2)

    base50, base99, basemax = summary(echo)
    head = f"{'measure (ms from the call)':<44} {'p50':>8} {'p99':>8} {'max':>8}   ratio p50 / p99"
    print(head)
    print("-" * len(head))
    labels = {
        "pin": "Daybreak: call -> mock pin changed",
        "HA state": "Daybreak: call -> HA state shows it",
        "push": "Daybreak: call -> state push received",
        "call": "Daybreak: call -> async_call returned",
    }
    for key, label in labels.items():
        p50, p99, top = summary(daybreak[key])
        print(
            f"{label:<44} {p50:8.3f} {p99:8.3f} {top:8.3f}   "
            f"{p50 / base50:5.1f}x / {p99 / base99:5.1f}x"
        )
    print(
        f"{'baseline: bare python-socketio call (echo)':<44} "
        f"{base50:8.3f} {base99:8.3f} {basemax:8.3f}   {1:5.1f}x / {1:5.1f}x"
    )
    p50, p99, top = summary(daybreak["save"])
    print(
        f"{'(device: state file write per command)':<44} {p50:8.3f} {p99:8.3f} {top:8.3f}"
        "   (in its thread, between pin and ack)"
    )
    print()
    print(
        f"{len(daybreak['pin'])} light.turn_on calls (after {WARMUP} warm-up), brightness "
        f"alternating {LEVELS[0]}/{LEVELS[1]}; {len(echo)} echo calls (half before, half after)."
    )
    pin_first = sum(p <= h for p, h in zip(daybreak["pin"], daybreak["HA state"], strict=True))
    from_ack = sum(h < p for h, p in zip(daybreak["HA state"], daybreak["push"], strict=True))
    n = len(daybreak["pin"])
    print(f"the pin changed before HA showed the new brightness in {pin_first} of {n} calls;")
    print(
        f"HA's state came from the command's ack (the device-reported state, before the push "
        f"with the same values) in {from_ack} of {n} calls, from the push in the others."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--calls", type=int, default=600, help="calls (default 600)")
    args = parser.parse_args(argv)
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    logging.basicConfig(level=logging.ERROR)

    start = time.perf_counter()
    print("# Daybreak bench: Home Assistant round trip (light.turn_on -> pin -> HA state)")
    print(f"date:    {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"machine: {platform.platform()} ({platform.machine()}), cpus={os.cpu_count()}")
    print(f"python:  {platform.python_implementation()} {platform.python_version()}")
    socketio_version = importlib.metadata.version("python-socketio")
    print(f"home assistant: {HA_VERSION}; python-socketio {socketio_version}")
    print(f"git:     {git_revision()}")
    print()
    asyncio.run(run(args.calls))
    print(f"(bench took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
