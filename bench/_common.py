"""Shared helpers of the device benches (not a bench: bench/run skips ``_*.py``).

The run header (date, command, machine, load), percentiles and ratios, free loopback
ports, ``/proc`` readings (RSS, CPU time) and the device server as a child process.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _meta import git_revision

DEVICE_EXE = Path(sys.executable).parent / "daybreak-device"
TOKEN = "bench-token-0123456789"  # noqa: S105 - a bench token on loopback


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def print_header(title: str) -> None:
    """What ran, where and when: printed first by every bench."""
    print(f"# Daybreak bench: {title}")
    print(f"date:    {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(
        f"machine: {platform.platform()} ({platform.machine()}), {cpu_model()}, "
        f"cpus={os.cpu_count()}"
    )
    print(f"python:  {platform.python_implementation()} {platform.python_version()}")
    print(f"git:     {git_revision()}")
    print(f"load:    {load_average()} (1/5/15 min averages before the run)")
    print()


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(value: float, base: float) -> str:
    if base == 0 or math.isnan(value) or math.isnan(base):
        return "n/a"
    return f"{value / base:.3g}x"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kb(pid: int) -> int:
    """VmRSS of a process from /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc/PID/stat, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def device_flags() -> list[str]:
    """Flags every bench passes: ``--no-zeroconf`` when this version has it."""
    from daybreak_device.cli import build_parser  # noqa: PLC0415

    return ["--no-zeroconf"] if "--no-zeroconf" in build_parser().format_help() else []


@dataclass
class Child:
    """A server in a child process, reachable on 127.0.0.1:``port``."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        return rss_kb(self.proc.pid) / 1024

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_child(name: str, argv: list[str], port: int, log: Path, ready_path: str) -> Child:
    """Start ``argv`` and wait (bounded) until ``GET ready_path`` answers on ``port``."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    child = Child(name, proc, port, log)
    deadline = time.monotonic() + 20
    with httpx.Client(base_url=child.url, timeout=1) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if client.get(ready_path).status_code < 500:
                    return child
            if time.monotonic() > deadline:
                child.stop()
                raise RuntimeError(f"{name} did not start:\n{log.read_text()}")
            time.sleep(0.01)


def start_device(state_dir: Path, *extra: str, python_prelude: str | None = None) -> Child:
    """``daybreak-device --mock`` with a fresh state dir (``state_dir``) on a free port.

    ``python_prelude`` runs the same CLI through ``python -c`` after that code (e.g. to
    hide a package), instead of the console script.
    """
    port = free_port()
    args = [
        "--mock",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--token", TOKEN,
        "--state-dir", str(state_dir),
        "--log-level", "warning",
        *device_flags(),
        *extra,
    ]  # fmt: skip
    if python_prelude is None:
        argv = [str(DEVICE_EXE), *args]
    else:
        code = (
            f"{python_prelude}\nimport sys\nfrom daybreak_device.cli import main\nsys.exit(main())"
        )
        argv = [sys.executable, "-c", code, *args]
    state_dir.mkdir(parents=True, exist_ok=True)
    return start_child("daybreak-device", argv, port, state_dir / "device.log", "/api/health")
