"""Home Assistant at scale: 50 Daybreak devices, 50 config entries in one ``hass``.

Runs with the Home Assistant venv (``bench/run ha_scale``). Each scenario runs in a
fresh python process (this script with ``--worker N``), so its memory figures start
from the same interpreter state; in it, all in one asyncio loop:

* a real ``hass`` (``async_test_home_assistant``, as ``bench/ha_roundtrip.py``) with the
  Daybreak integration itself set up (no entries yet);
* ``N`` real device servers (``DaybreakServer``, each with its own gpiozero
  ``MockFactory``, state dir, name and an ephemeral port on 127.0.0.1);
* ``N`` config entries, set up all at once: one ``hass.config_entries.async_setup`` per
  entry, gathered.

It measures:

* setup: wall time from the gather until every entry is set up (and until
  ``async_block_till_done``), and each entry's own ``async_setup`` time (they overlap);
* memory: the process RSS (``VmRSS``) before the device servers, after them and after the
  entries: the servers' share, and HA's share per device (which also holds what each
  server keeps per connection, estimated separately with tracemalloc, below);
* fan-out: one ``light.turn_on`` call for all ``N`` lights (brightness alternating
  between two levels), then the time until each HA state shows it: per light, and until
  all ``N`` show it (p50/max over the calls).

The baseline is the same with one device, in the same run. A third worker (``N``
devices under tracemalloc, not timed) splits the Python allocations made while the
entries were set up between the device-server side (daybreak_device, uvicorn,
websockets, python-engineio/-socketio's server) and HA's side (homeassistant,
custom_components/daybreak, aiohttp, python-engineio/-socketio's client).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import importlib.metadata
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

from _meta import git_revision

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # custom_components.daybreak, as Home Assistant loads it

from aiohttp import ThreadedResolver  # noqa: E402
from gpiozero.pins.mock import MockFactory, MockPWMPin  # noqa: E402
from homeassistant import loader  # noqa: E402
from homeassistant.const import __version__ as HA_VERSION  # noqa: E402, N812
from homeassistant.core import Event, HomeAssistant, callback  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.daybreak.const import DOMAIN  # noqa: E402
from daybreak_device.config import Settings  # noqa: E402
from daybreak_device.output import GpiozeroOutput  # noqa: E402
from daybreak_device.server import DaybreakServer  # noqa: E402

TOKEN = "bench-token-0123456789"  # noqa: S105 - a local bench token
LEVELS = (96, 192)
WARMUP = 3  # fan-out calls not counted
MIB = 1024 * 1024

# tracemalloc attribution: the first frame (innermost first) in one of these wins.
DEVICE_SIDE = (
    "/daybreak_device/",
    "/uvicorn/",
    "/starlette/",
    "/websockets/",
    "/wsproto/",
    "/h11/",
    "/engineio/async_server.py",
    "/engineio/async_socket.py",
    "/engineio/base_server.py",
    "/engineio/base_socket.py",
    "/engineio/async_drivers/",
    "/socketio/async_server.py",
    "/socketio/base_server.py",
    "/socketio/async_manager.py",
    "/socketio/base_manager.py",
    "/socketio/async_namespace.py",
    "/gpiozero/",
)
HA_SIDE = (
    "/homeassistant/",
    "/custom_components/daybreak/",
    "/aiohttp/",
    "/engineio/async_client.py",
    "/engineio/base_client.py",
    "/socketio/async_client.py",
    "/socketio/base_client.py",
    "/pytest_homeassistant_custom_component/",
)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def rss_bytes() -> int:
    """This process's resident set size (VmRSS), after a full garbage collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


# -- one scenario (a worker process) ---------------------------------------------------


async def start_device(index: int, state_dir: Path) -> tuple[DaybreakServer, MockFactory]:
    settings = Settings(
        host="127.0.0.1",
        port=0,
        token=TOKEN,
        state_dir=state_dir,
        name=f"Bench {index:02d}",
        mock=True,
    )
    if "zeroconf" in {f.name for f in dataclasses.fields(Settings)}:
        settings = dataclasses.replace(settings, zeroconf=False)  # not on the LAN
    factory = MockFactory(pin_class=MockPWMPin)
    output = GpiozeroOutput(settings.pin, 1000, pin_factory=factory)
    server = DaybreakServer(settings, TOKEN, output=output)
    await server.start()
    return server, factory


def entity_id(index: int) -> str:
    return f"light.bench_{index:02d}"


async def fan_out(hass: HomeAssistant, entity_ids: list[str], calls: int) -> dict[str, Any]:
    """``calls`` (+ warm-up) ``light.turn_on`` calls to every light at once."""
    seen: list[tuple[float, str, Any]] = []
    changed = asyncio.Event()
    wanted = set(entity_ids)

    @callback
    def record(event: Event[Any]) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] in wanted and new is not None:
            seen.append((time.perf_counter(), new.entity_id, new.attributes.get("brightness")))
            changed.set()

    unsub = hass.bus.async_listen("state_changed", record)
    per_light: list[float] = []
    all_shown: list[float] = []
    returned: list[float] = []
    try:
        for i in range(WARMUP + calls):
            level = LEVELS[i % 2]
            mark = len(seen)
            t0 = time.perf_counter()
            await hass.services.async_call(
                "light", "turn_on", {"entity_id": entity_ids, "brightness": level}, blocking=True
            )
            t_call = time.perf_counter()
            first: dict[str, float] = {}
            async with asyncio.timeout(30):
                while True:
                    for t, eid, brightness in seen[mark:]:
                        if brightness == level and eid not in first:
                            first[eid] = t
                    if len(first) == len(entity_ids):
                        break
                    changed.clear()
                    await changed.wait()
            if i < WARMUP:
                continue
            per_light.extend(t - t0 for t in first.values())
            all_shown.append(max(first.values()) - t0)
            returned.append(t_call - t0)
    finally:
        unsub()
    return {"per_light": per_light, "all_shown": all_shown, "returned": returned}


def attribute(traceback: tracemalloc.Traceback) -> str:
    """``device``, ``ha`` or ``other``: who made this allocation (innermost known frame)."""
    for frame in reversed(traceback):  # (sorted from the oldest frame)
        name = frame.filename.replace(os.sep, "/")
        if any(part in name for part in DEVICE_SIDE):
            return "device"
        if any(part in name for part in HA_SIDE):
            return "ha"
    return "other"


async def scenario(devices: int, calls: int, trace: bool, tmp: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"devices": devices, "rss": {}}
    servers: list[tuple[DaybreakServer, MockFactory]] = []
    # As the test plugin does: no network scan or zeroconf for HA's aiohttp session.
    resolver = ThreadedResolver()
    resolver.real_close = resolver.close  # type: ignore[attr-defined] # HA closes it so
    try:
        with patch(
            "homeassistant.helpers.aiohttp_client._async_make_resolver", return_value=resolver
        ):
            async with async_test_home_assistant() as hass:
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load custom_components/ from ROOT
                t0 = time.perf_counter()
                assert await async_setup_component(hass, DOMAIN, {})
                await hass.async_block_till_done()
                result["integration_setup"] = time.perf_counter() - t0
                result["rss"]["before servers"] = rss_bytes()

                t0 = time.perf_counter()
                for i in range(1, devices + 1):
                    # (one by one: those started are stopped if one fails)
                    servers.append(await start_device(i, tmp / f"device-{i:02d}"))  # noqa: PERF401
                result["servers_start"] = time.perf_counter() - t0
                result["rss"]["after servers"] = rss_bytes()

                entries = []
                for i, (server, _) in enumerate(servers, start=1):
                    entry = MockConfigEntry(
                        domain=DOMAIN,
                        title=f"Bench {i:02d}",
                        unique_id=server.info()["device_id"],
                        data={"host": "127.0.0.1", "port": server.port, "token": TOKEN},
                    )
                    entry.add_to_hass(hass)
                    entries.append(entry)

                if trace:
                    tracemalloc.start(40)
                t0 = time.perf_counter()

                async def set_up(entry: MockConfigEntry) -> float:
                    assert await hass.config_entries.async_setup(entry.entry_id)
                    return time.perf_counter() - t0

                result["entry_setup"] = await asyncio.gather(*(set_up(e) for e in entries))
                result["setup_all"] = time.perf_counter() - t0
                await hass.async_block_till_done()
                result["setup_done"] = time.perf_counter() - t0
                if trace:
                    gc.collect()
                    snapshot = tracemalloc.take_snapshot()
                    tracemalloc.stop()
                    split = {"device": 0, "ha": 0, "other": 0}
                    for stat in snapshot.statistics("traceback"):
                        split[attribute(stat.traceback)] += stat.size
                    result["traced"] = split
                result["rss"]["after entries"] = rss_bytes()

                ids = [entity_id(i) for i in range(1, devices + 1)]
                missing = [eid for eid in ids if hass.states.get(eid) is None]
                assert not missing, f"lights not set up: {missing[:5]}"
                assert all(e.runtime_data.client.connected for e in entries)
                if not trace:
                    result["fan_out"] = await fan_out(hass, ids, calls)
                await hass.async_stop(force=True)
    finally:
        for server, factory in servers:
            await server.stop()
            factory.reset()
    return result


def worker(devices: int, calls: int, trace: bool) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-scale-") as tmp:
        result = asyncio.run(scenario(devices, calls, trace, Path(tmp)))
    print(json.dumps(result))


# -- main: run the workers, print the table ---------------------------------------------------


def run_worker(devices: int, calls: int, *, trace: bool = False) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", str(devices), "--calls", str(calls)]
    if trace:
        command.append("--trace")
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"worker {shlex.join(command[1:])} failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(one: dict[str, Any], many: dict[str, Any], split: dict[str, Any] | None) -> None:
    n = many["devices"]

    def row(label: str, base: float, scaled: float, unit: str, note: str = "") -> None:
        ratio = f"{scaled / base:7.2f}x" if base else "      -"
        print(f"{label:<46} {base:10.2f} {scaled:10.2f} {unit:<4} {ratio}  {note}")

    head = f"{'measure':<46} {'1 device':>10} {f'{n} devices':>10} {'':<4} {'ratio':>8}"
    print(head)
    print("-" * (len(head) + 20))
    ms = 1000.0
    row("integration setup (no entries)", one["integration_setup"] * ms,
        many["integration_setup"] * ms, "ms")  # fmt: skip
    row("device servers: start, total", one["servers_start"] * ms, many["servers_start"] * ms, "ms")
    row("device servers: start, per device", one["servers_start"] * ms,
        many["servers_start"] * ms / n, "ms")  # fmt: skip
    row("entries: all set up (gather), total", one["setup_all"] * ms, many["setup_all"] * ms, "ms")
    row("entries: ... + async_block_till_done", one["setup_done"] * ms,
        many["setup_done"] * ms, "ms")  # fmt: skip
    row("entries: wall time per device (total / N)", one["setup_all"] * ms,
        many["setup_all"] * ms / n, "ms")  # fmt: skip
    row("entries: one entry's async_setup, p50", percentile(one["entry_setup"], 50) * ms,
        percentile(many["entry_setup"], 50) * ms, "ms", "(concurrent: they overlap)")  # fmt: skip
    row("entries: one entry's async_setup, max", max(one["entry_setup"]) * ms,
        max(many["entry_setup"]) * ms, "ms")  # fmt: skip

    def mem(result: dict[str, Any]) -> tuple[float, float, float, float]:
        rss = result["rss"]
        devices = result["devices"]
        servers = (rss["after servers"] - rss["before servers"]) / MIB
        entries = (rss["after entries"] - rss["after servers"]) / MIB
        return rss["before servers"] / MIB, servers / devices, entries / devices, entries + servers

    base_rss, one_srv, one_ha, one_total = mem(one)
    many_rss, many_srv, many_ha, many_total = mem(many)
    row("RSS before the device servers", base_rss, many_rss, "MiB")
    row("RSS after the device servers", one["rss"]["after servers"] / MIB,
        many["rss"]["after servers"] / MIB, "MiB")  # fmt: skip
    row("RSS after the entries", one["rss"]["after entries"] / MIB,
        many["rss"]["after entries"] / MIB, "MiB")  # fmt: skip
    row("RSS per device: device server (idle)", one_srv, many_srv, "MiB")
    row("RSS per device: HA side (entry set up)", one_ha, many_ha, "MiB",
        "(+ the server's per-connection state)")  # fmt: skip
    row("RSS growth, servers + entries, total", one_total, many_total, "MiB")

    f1 = one["fan_out"]
    fn = many["fan_out"]
    row("fan-out: call -> one light shows it, p50", percentile(f1["per_light"], 50) * ms,
        percentile(fn["per_light"], 50) * ms, "ms")  # fmt: skip
    row("fan-out: call -> one light shows it, max", max(f1["per_light"]) * ms,
        max(fn["per_light"]) * ms, "ms")  # fmt: skip
    row("fan-out: call -> all lights show it, p50", percentile(f1["all_shown"], 50) * ms,
        percentile(fn["all_shown"], 50) * ms, "ms")  # fmt: skip
    row("fan-out: call -> all lights show it, max", max(f1["all_shown"]) * ms,
        max(fn["all_shown"]) * ms, "ms")  # fmt: skip
    row("fan-out: call -> async_call returned, p50", percentile(f1["returned"], 50) * ms,
        percentile(fn["returned"], 50) * ms, "ms")  # fmt: skip
    print()
    calls = len(fn["all_shown"])
    print(
        f"fan-out: {calls} light.turn_on calls (after {WARMUP} warm-up) with all the lights "
        f"in entity_id, brightness alternating {LEVELS[0]}/{LEVELS[1]}, blocking=True."
    )
    print(
        "1 device and N devices each ran in a fresh python process (this script with "
        "--worker N); RSS after gc.collect()."
    )
    print(
        "The 1-device figures carry the one-time costs (lazy imports, the light platform's "
        "first setup); the device servers share HA's loop and the CPUs (fan-out included)."
    )
    if split is not None:
        traced = split["traced"]
        total = sum(traced.values())
        print()
        print(
            f"tracemalloc, {split['devices']} entries set up (a separate, untimed run): Python "
            f"allocations still held after the setup, {total / MIB:.1f} MiB in all, per device:"
        )
        for side, label in (
            ("ha", "HA side (homeassistant, the integration, aiohttp, socketio/engineio client)"),
            ("device", "device servers' per-connection state (uvicorn, websockets, sio server)"),
            ("other", "not attributed (stdlib only in the traceback)"),
        ):
            print(f"  {traced[side] / split['devices'] / 1024:8.1f} KiB  {label}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--devices", type=int, default=50, help="devices (default 50)")
    parser.add_argument("--calls", type=int, default=20, help="fan-out calls (default 20)")
    parser.add_argument("--no-split", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        worker(args.worker, args.calls, args.trace)
        return 0
    if args.devices < 2 or args.calls < 1:
        parser.error("--devices must be at least 2 and --calls at least 1")

    start = time.perf_counter()
    print(f"# Daybreak bench: Home Assistant with {args.devices} devices (setup, memory, fan-out)")
    print(f"date:    {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"machine: {platform.platform()} ({platform.machine()}), cpus={os.cpu_count()}")
    print(f"python:  {platform.python_implementation()} {platform.python_version()}")
    socketio_version = importlib.metadata.version("python-socketio")
    print(f"home assistant: {HA_VERSION}; python-socketio {socketio_version}")
    print(f"git:     {git_revision()}")
    print()
    sys.stdout.flush()
    one = run_worker(1, args.calls)
    many = run_worker(args.devices, args.calls)
    split = None if args.no_split else run_worker(args.devices, args.calls, trace=True)
    report(one, many, split)
    print(f"(bench took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
