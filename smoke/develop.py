"""scripts/develop: a real Home Assistant with this repository's integration, to try by hand.

Starts ``daybreak-device --mock`` (named Bedroom) and ``hass`` (.venv/hass, the newest
release) in a network namespace with loopback only (see harness.py), onboards Home
Assistant through its REST API on the first start (owner ``dev``, password ``dev``), adds
the device through the config flow when there is no Daybreak entry, and forwards
127.0.0.1:8123 (Home Assistant) and 127.0.0.1:8080 (the device's page) on this machine into
the namespace, so a browser here can use both while neither process can reach anything
but loopback. A restart from Home Assistant's UI restarts ``hass`` (exit code 100, as the
Supervisor would); Ctrl+C stops everything. State lives in .venv/hass-develop/ (``--reset``
starts afresh).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
from pathlib import Path

from homeassistant.const import RESTART_EXIT_CODE, __version__ as HASS_VERSION  # noqa: N812

from harness import (
    DEVICE_NAME,
    DEVICE_PORT,
    HASS_PORT,
    ROOT,
    Device,
    Hass,
    Process,
    StepError,
    device_process,
    enter_loopback_namespace,
    hass_process,
    reset_dir,
    tail,
    write_config,
)

WORKDIR = ROOT / ".venv/hass-develop"
USERNAME = PASSWORD = "dev"  # noqa: S105 - a local development instance
DEVICE_TOKEN = "develop-token-0123456789"  # noqa: S105 - 16+ characters, loopback only


def log(message: str) -> None:
    """A progress line (stderr; the banner goes to stdout)."""
    print(f"[develop] {message}", file=sys.stderr, flush=True)


def listen(port: int, what: str, flag: str) -> socket.socket:
    """A listening socket on this machine's 127.0.0.1 (made before leaving its namespace)."""
    try:
        return socket.create_server(("127.0.0.1", port))
    except OSError as err:
        raise StepError(
            f"cannot listen on 127.0.0.1:{port} for {what} ({err}); try {flag} N"
        ) from err


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def forward(listener: socket.socket, port: int) -> asyncio.Server:
    """Accept on ``listener`` (this machine) and connect to 127.0.0.1:``port`` in here."""

    async def handle(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client.close()
            return
        try:
            await asyncio.gather(_pipe(client_reader, writer), _pipe(reader, client))
        finally:
            for stream in (writer, client):
                stream.close()

    return await asyncio.start_server(handle, sock=listener)


def start_hass(hass: Process, config_dir: Path) -> None:
    """Start hass (from the main thread: its parent-death signal follows this thread)."""
    write_config(config_dir)
    hass.start()
    log(f"starting Home Assistant {HASS_VERSION} ...")


def prepare_hass(hass: Process, api: Hass) -> None:
    """Onboard hass (or log in) and add the device if it has no Daybreak entry."""
    api.wait_up(hass, timeout=120)
    status = api.onboarding_status()
    if status is None:
        api.login(USERNAME, PASSWORD)
    else:
        api.onboard("Developer", USERNAME, PASSWORD, done=[s for s, ok in status.items() if ok])
        log("onboarded through the REST API")
    api.wait_running(hass, timeout=120)
    if not api.daybreak_entries():
        entry = api.add_daybreak("127.0.0.1", DEVICE_PORT, DEVICE_TOKEN)
        log(f"added Daybreak {entry['title']!r} through the config flow")


async def supervise(hass: Process, api: Hass, config_dir: Path) -> None:
    """Restart hass when it asks for it (UI restart); return when it exits otherwise."""
    while True:
        await asyncio.sleep(0.5)
        code = hass.exit_code()
        if code is None:
            continue
        if code != RESTART_EXIT_CODE:
            log(f"hass exited with code {code}")
            return
        log("Home Assistant asked for a restart: restarting hass")
        start_hass(hass, config_dir)
        await asyncio.to_thread(prepare_hass, hass, api)
        log("Home Assistant is back")


async def serve(
    listeners: list[tuple[socket.socket, int]], hass: Process, api: Hass, config_dir: Path
) -> None:
    """Forward the ports and look after hass until it stops."""
    servers = [await forward(listener, port) for listener, port in listeners]
    try:
        await supervise(hass, api, config_dir)
    finally:
        for server in servers:
            server.close()


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signum)


def main() -> int:
    """Start, print where to go, forward until Ctrl+C; 1 if something fails."""
    signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl+C
    parser = argparse.ArgumentParser(prog="scripts/develop", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=HASS_PORT, help="Home Assistant's port here")
    parser.add_argument(
        "--device-port", type=int, default=DEVICE_PORT, help="the device page's port here"
    )
    parser.add_argument("--reset", action="store_true", help="start from an empty config dir")
    args = parser.parse_args()

    config_dir = WORKDIR / "config"
    device = device_process(WORKDIR, DEVICE_TOKEN)
    hass = hass_process(config_dir, WORKDIR / "hass.out")
    api = Hass()
    try:
        listeners = [
            (listen(args.port, "Home Assistant", "--port"), HASS_PORT),
            (listen(args.device_port, "the device's page", "--device-port"), DEVICE_PORT),
        ]
        enter_loopback_namespace()
        if args.reset or not WORKDIR.exists():
            reset_dir(WORKDIR)
        device.start()
        Device(DEVICE_TOKEN).wait_up(device, timeout=30)
        start_hass(hass, config_dir)
        prepare_hass(hass, api)
    except (StepError, OSError) as err:
        log(f"FAILED: {err}")
        for path in (config_dir / "home-assistant.log", WORKDIR / "device.log"):
            log(f"--- tail of {path}:")
            print(tail(path, 30), file=sys.stderr)
        hass.stop()
        device.stop()
        return 1

    rel = WORKDIR.relative_to(ROOT)
    print(
        f"""
Home Assistant {HASS_VERSION} with the Daybreak integration from custom_components/daybreak:

    http://127.0.0.1:{args.port}/     login: {USERNAME} / password: {PASSWORD}

Device "{DEVICE_NAME}" (daybreak-device --mock, its page):
    http://127.0.0.1:{args.device_port}/     token: {DEVICE_TOKEN}

Logs: {rel}/config/home-assistant.log, {rel}/device.log; config dir {rel}/config/
Changed the integration? Settings > System > Restart (hass restarts here). Ctrl+C stops.
Both run in a network namespace with loopback only: nothing here reaches the network.
""",
        flush=True,
    )
    try:
        asyncio.run(serve(listeners, hass, api, config_dir))
    except KeyboardInterrupt:
        log("stopping")
    except (StepError, OSError) as err:
        log(f"FAILED: {err}")
        return 1
    finally:
        hass.stop()
        device.stop()
    return 0 if hass.exit_code() in {0, -15, None} else 1


if __name__ == "__main__":
    sys.exit(main())
