"""A hostile peer for a minute: the good client's round trip beside the same without attack.

The real ``daybreak-device --mock`` runs as a child process under ``ulimit -n 1024``
(the default of a systemd service without ``LimitNOFILE``). A Socket.IO client does
what Home Assistant's client does — one authenticated ``socketio.AsyncClient`` over
WebSocket, here calling ``state.get`` every 100 ms — and its round trip is measured
twice: for ``--baseline`` seconds with no attack, then for ``--seconds`` (default 60)
while an attacker in another process (its own CPU time, not this loop's) runs the mix
of issue 11 at once, from 127.0.0.2 (127.0.0.3 for the attacker's logged-in sockets;
the good client is 127.0.0.1):

* half-open sockets: ``--half-open`` (default 200) new sockets a second that connect and
  never send a byte (each is cut off after ~5 s; one address may hold 64);
* slow headers: 20 sockets sending a request a byte a second;
* bad frames: 4 WebSockets (2 logged in, 2 not) sending ``--frames`` (default 1000) bad
  Engine.IO/Socket.IO frames a second between them;
* token guessing: a REST client and a Socket.IO ``CONNECT`` loop with wrong tokens, as
  fast as the device answers them;
* DNS rebinding: 20 requests a second with ``Host: evil.example``;
* malformed commands: 50 a second from a logged-in socket, each asking for an ack.

The good client also makes a new connection and login every second (Home Assistant
reconnecting). Printed: the good client's p50/p99/max and the ratio attack/baseline; the
attacker's counts (what it sent, what it got back); the device's CPU time, RSS, open
sockets and log growth.

Home Assistant's own client (custom_components/daybreak/client.py) needs the HA venv;
the python-socketio ``AsyncClient`` here makes the same calls over the same transport.

Usage: ``bench/hostile_soak.py [--seconds 60] [--baseline 20] [--half-open 200]
[--frames 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import multiprocessing
import os
import struct
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import socketio
from _common import TOKEN, Child, percentile, print_header, ratio, start_device

ATTACKER = "127.0.0.2"
#: The attacker's logged-in sockets (it has the token there): another address, which the
#: guesses from ATTACKER do not throttle.
INSIDER = "127.0.0.3"
PERIOD = 0.1
#: Python run before the device's CLI in the child: ``ulimit -n 1024`` (soft and hard).
NOFILE_1024 = "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))"
BAD_FRAMES = (
    b"42[]",
    b"9",
    b"x",
    b"",
    b'421[{"a":1}]',
    b'42["light.set",{"brightness":' + b"9" * 200 + b"}]",
    b"42[" * 50,
    b"451-[]",
)
MALFORMED = (
    b'42%d["light.set",{"brightness":' + b"1" * 5000 + b"}]",
    b'42%d[{"a":1}]',
    b"42%d[]",
)


# -- the good client ---------------------------------------------------------------------------


async def new_logins(url: str, seconds: float) -> list[float]:
    """A new connection and login every second (Home Assistant reconnecting)."""
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        started = time.perf_counter()
        await sio.connect(url, auth={"token": TOKEN}, transports=["websocket"], wait_timeout=5)
        times.append(time.perf_counter() - started)
        await sio.disconnect()
        await asyncio.sleep(1.0)
    return times


async def round_trips(url: str, seconds: float) -> list[float]:
    """``state.get`` every :data:`PERIOD` over one authenticated connection."""
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await sio.connect(url, auth={"token": TOKEN}, transports=["websocket"], wait_timeout=5)
    times: list[float] = []
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            ack = await sio.call("state.get", timeout=5)
            times.append(time.perf_counter() - started)
            if not ack.get("ok"):
                raise RuntimeError(f"state.get failed: {ack}")
            await asyncio.sleep(PERIOD)
    finally:
        await sio.disconnect()
    return times


# -- the attacker (in a child process) ---------------------------------------------------------


def ws_frame(payload: bytes) -> bytes:
    """One masked client text frame."""
    mask = os.urandom(4)
    size = len(payload)
    head = b"\x81" + (
        bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + struct.pack(">H", size)
    )
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def websocket(port: int, local: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(local, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return reader, writer


async def drain_reader(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counts: Counter[str], what: str
) -> None:
    """Count the error acks that come back; answer Engine.IO's pings (frame ``2``)."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            counts[what] += data.count(b'"ok":false')
            for _ in range(data.count(b"\x81\x012")):
                writer.write(ws_frame(b"3"))


class Attack:
    """The mix of the module docstring, for ``seconds``; counts what happened."""

    def __init__(self, port: int, seconds: float, half_open: int, frames: int) -> None:
        self.port = port
        self.end = time.monotonic() + seconds
        self.half_open = half_open
        self.frames = frames
        self.counts: Counter[str] = Counter()
        self.held: list[asyncio.StreamWriter] = []

    def running(self) -> bool:
        return time.monotonic() < self.end

    async def run(self) -> Counter[str]:
        jobs: list[Callable[[], Awaitable[None]]] = [
            self.half_open_sockets,
            *([self.slow_headers] * 20),
            self.bad_frames_logged_in,
            self.bad_frames_logged_in,
            self.bad_frames,
            self.bad_frames,
            self.rest_guesses,
            self.sio_guesses,
            self.rebinding,
            self.malformed_commands,
        ]
        await asyncio.gather(*(self.again(job) for job in jobs))
        for writer in self.held:
            writer.close()
        return self.counts

    async def again(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` until the attack ends, again whenever the device cuts it off."""
        while self.running():
            try:
                await job()
            except (OSError, TimeoutError, asyncio.IncompleteReadError, httpx.HTTPError):
                self.counts["attacker connections cut off"] += 1
                await asyncio.sleep(0.05)

    async def bad_frames_logged_in(self) -> None:
        await self.bad_frames(logged_in=True)

    async def half_open_sockets(self) -> None:
        while self.running():
            for _ in range(self.half_open // 10):
                try:
                    _reader, writer = await asyncio.open_connection(
                        "127.0.0.1", self.port, local_addr=(ATTACKER, 0)
                    )
                except OSError:
                    self.counts["half-open refused at connect"] += 1
                    continue
                self.held.append(writer)
                self.counts["half-open sockets opened"] += 1
            self.held = [w for w in self.held if not w.is_closing()]
            await asyncio.sleep(0.1)

    async def slow_headers(self) -> None:
        while self.running():
            _reader, writer = await asyncio.open_connection(
                "127.0.0.1", self.port, local_addr=(ATTACKER, 0)
            )
            self.counts["slow-header sockets"] += 1
            try:
                for byte in b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes\r\n":
                    if not self.running():
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(1)
            except ConnectionError:
                self.counts["slow-header sockets cut off"] += 1
            writer.close()

    async def bad_frames(self, *, logged_in: bool = False) -> None:
        per_socket = self.frames / 4
        while self.running():
            reader, writer = await websocket(self.port, INSIDER if logged_in else ATTACKER)
            if logged_in:
                writer.write(ws_frame(b'40{"token":"%s"}' % TOKEN.encode()))
            reading = asyncio.create_task(
                drain_reader(reader, writer, self.counts, "bad-frame answers")
            )
            with contextlib.suppress(ConnectionError):
                while self.running() and not reading.done():
                    for i in range(int(per_socket / 10)):
                        writer.write(ws_frame(BAD_FRAMES[i % len(BAD_FRAMES)]))
                    self.counts["bad frames sent"] += int(per_socket / 10)
                    await writer.drain()
                    await asyncio.sleep(0.1)
            reading.cancel()
            writer.close()

    async def rest_guesses(self) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=ATTACKER)
        base = f"http://127.0.0.1:{self.port}"
        async with httpx.AsyncClient(base_url=base, transport=transport, timeout=5) as http:
            while self.running():
                answer = await http.get("/api/state", headers={"Authorization": "Bearer guess"})
                self.counts[f"REST guesses answered {answer.status_code}"] += 1

    async def sio_guesses(self) -> None:
        reader, writer = await websocket(self.port, ATTACKER)
        buffer = b""
        while self.running():
            writer.write(ws_frame(b'40{"token":"guess-0123456789abcdef"}'))
            await writer.drain()
            while b"44{" not in buffer:
                chunk = await asyncio.wait_for(reader.read(4096), 10)
                if not chunk:  # cut off (no login in time): a new socket
                    writer.close()
                    reader, writer = await websocket(self.port, ATTACKER)
                    break
                buffer += chunk
            else:
                _, _, buffer = buffer.partition(b"44{")
                code = b"rate_limited" if b"rate_limited" in buffer[:200] else b"unauthorized"
                self.counts[f"Socket.IO guesses answered {code.decode()}"] += 1
        writer.close()

    async def rebinding(self) -> None:
        base = f"http://127.0.0.1:{self.port}"
        transport = httpx.AsyncHTTPTransport(local_address=ATTACKER)
        async with httpx.AsyncClient(base_url=base, transport=transport, timeout=5) as http:
            while self.running():
                answer = await http.get("/", headers={"Host": "evil.example"})
                self.counts[f"Host: evil.example answered {answer.status_code}"] += 1
                await asyncio.sleep(0.05)

    async def malformed_commands(self) -> None:
        reader, writer = await websocket(self.port, INSIDER)
        writer.write(ws_frame(b'40{"token":"%s"}' % TOKEN.encode()))
        reading = asyncio.create_task(drain_reader(reader, writer, self.counts, "malformed acked"))
        ack_id = 0
        while self.running():
            ack_id += 1
            writer.write(ws_frame(MALFORMED[ack_id % len(MALFORMED)] % ack_id))
            self.counts["malformed commands sent"] += 1
            await writer.drain()
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        reading.cancel()
        writer.close()


def attack_process(port: int, seconds: float, half_open: int, frames: int, out: Any) -> None:
    import logging  # noqa: PLC0415 - in the child only
    import resource  # noqa: PLC0415

    # asyncio warns about every write to a socket the device has cut off.
    logging.getLogger("asyncio").setLevel(logging.ERROR)

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    counts = asyncio.run(Attack(port, seconds, half_open, frames).run())
    out.send(dict(counts))


# -- the run ------------------------------------------------------------------------------------


def open_sockets(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            count += str(fd.readlink()).startswith("socket:")
    return count


def summary(name: str, times: list[float]) -> tuple[float, float]:
    """Print and return p50 and p99 of ``times`` in ms."""
    p50, p99 = percentile(times, 50) * 1000, percentile(times, 99) * 1000
    print(
        f"{name:<9} {len(times):5d} calls  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
        f"max {max(times) * 1000:7.2f} ms"
    )
    return p50, p99


async def run(device: Child, seconds: float, baseline: float, half_open: int, frames: int) -> None:
    await round_trips(device.url, 2.0)  # warm up
    base, base_logins = await asyncio.gather(
        round_trips(device.url, baseline), new_logins(device.url, baseline)
    )
    cpu_before, log_before = device.cpu_seconds(), device.log.stat().st_size
    rss_before = device.rss_mb()
    receiver, sender = multiprocessing.Pipe(duplex=False)
    attacker = multiprocessing.Process(
        target=attack_process, args=(device.port, seconds, half_open, frames, sender)
    )
    attacker.start()
    sockets: list[int] = []
    rss: list[float] = []

    async def sample() -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await asyncio.sleep(1.0)
            sockets.append(open_sockets(device.pid))
            rss.append(device.rss_mb())

    attacked, attacked_logins, _ = await asyncio.gather(
        round_trips(device.url, seconds), new_logins(device.url, seconds), sample()
    )
    counts = await asyncio.to_thread(receiver.recv)
    attacker.join(30)
    cpu = device.cpu_seconds() - cpu_before
    await asyncio.sleep(12)  # every attacker socket is cut off or closed by now
    print("good client: socketio.AsyncClient, state.get every 100 ms over one WebSocket")
    p50_base, p99_base = summary("baseline", base)
    p50_att, p99_att = summary("attacked", attacked)
    print(
        f"ratio attacked/baseline: p50 {ratio(p50_att, p50_base)}, p99 {ratio(p99_att, p99_base)}"
    )
    print("new connection + login (socketio.AsyncClient.connect) every second, from 127.0.0.1:")
    l50_base, l99_base = summary("baseline", base_logins)
    l50_att, l99_att = summary("attacked", attacked_logins)
    print(
        f"ratio attacked/baseline: p50 {ratio(l50_att, l50_base)}, p99 {ratio(l99_att, l99_base)}"
    )
    print()
    print(f"attacker, {seconds:g} s:")
    for what, count in sorted(counts.items()):
        print(f"  {what}: {count}")
    grown = device.log.stat().st_size - log_before
    print()
    print(
        f"device: CPU {cpu:.1f} s in {seconds:g} s ({cpu / seconds:.0%}); RSS {rss_before:.1f} MB "
        f"before, at most {max(rss):.1f} MB during, {device.rss_mb():.1f} MB 12 s after; "
        f"sockets open during the attack (sampled every second) median "
        f"{sorted(sockets)[len(sockets) // 2]}, max {max(sockets)}, 12 s after "
        f"{open_sockets(device.pid)}; log +{grown} bytes"
    )
    print("device log during the attack:")
    with device.log.open("rb") as log:
        log.seek(log_before)
        for line in log.read().decode(errors="replace").splitlines()[:20]:
            print(f"  {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the attack")
    parser.add_argument("--baseline", type=float, default=20.0, help="seconds without attack")
    parser.add_argument("--half-open", type=int, default=200, help="half-open sockets a second")
    parser.add_argument("--frames", type=int, default=1000, help="bad frames a second")
    args = parser.parse_args()
    start = time.perf_counter()
    print_header("a hostile peer for a minute (issue 11)")
    with tempfile.TemporaryDirectory() as tmp:
        device = start_device(Path(tmp) / "state", python_prelude=NOFILE_1024)
        try:
            asyncio.run(run(device, args.seconds, args.baseline, args.half_open, args.frames))
        finally:
            device.stop()
    print(f"(bench took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
