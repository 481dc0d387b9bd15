"""The update path of the README: the previous release, then ``pipx upgrade``, state kept.

The previous release (0.1.0, protocol 2, commit 7a5543f) is built from git history as
the sdist a GitHub release carries, and so is the working tree's. A loopback HTTP server
plays GitHub: ``/releases/latest/download/daybreak-device.tar.gz`` redirects to the
newest release's sdist, as GitHub's "latest" URL does. pipx 1.1.0 (Debian 12's and
Raspberry Pi OS bookworm's, pinned in requirements_test.txt) installs from that URL, the
device runs with a state dir (an alarm, a light level, its generated token), the "latest"
redirect moves to the new build, ``pipx upgrade daybreak-device`` runs, and the device
starts again: a new version, the same state, alarms, token and device id.

Needs the git history (skipped in a shallow clone) and PyPI (or pip's configured
mirror) for the dependencies and hatchling, which pip fetches to build the sdists.
"""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daybreak_device import __version__
from daybreak_device.protocol import PROTOCOL_VERSION

REPO = Path(__file__).parents[2]
PREVIOUS = ("0.1.0", "7a5543f", 2)  # version, commit, protocol version
PYTHON = Path(sys.executable)
HATCHLING = PYTHON.parent / "hatchling"
LATEST = "/releases/latest/download/daybreak-device.tar.gz"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "-e", f"{PREVIOUS[1]}^{{commit}}"],
            capture_output=True,
            check=False,
        ).returncode
        != 0,
        reason=f"needs the git history with the previous release {PREVIOUS[1]}",
    ),
]


def build_sdist(source: Path, out: Path) -> Path:
    """Build ``source/device`` (a tree with custom_components/daybreak/protocol.py) to an sdist."""
    result = subprocess.run(
        [str(HATCHLING), "build", "-t", "sdist", "-d", str(out)],
        cwd=source / "device",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (sdist,) = out.glob("daybreak_device-*.tar.gz")
    return sdist


def previous_release_tree(dest: Path) -> Path:
    """``git archive`` of the previous release's device/ and protocol.py."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", PREVIOUS[1], "device",
         "custom_components/daybreak/protocol.py"],
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout  # fmt: skip
    dest.mkdir()
    tar = dest / "release.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as handle:
        handle.extractall(dest, filter="data")
    tar.unlink()
    return dest


class Releases(http.server.ThreadingHTTPServer):
    """GitHub's release downloads on loopback: files by tag, and the "latest" redirect."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.latest = ""
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def publish(self, tag: str, sdist: Path) -> None:
        """Attach ``sdist`` to release ``tag`` and make that release the latest."""
        folder = self.root / tag
        folder.mkdir(parents=True)
        shutil.copy(sdist, folder / sdist.name)
        self.latest = f"/releases/download/{tag}/{sdist.name}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Releases

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        if self.path == LATEST:
            self.send_response(302)
            self.send_header("Location", self.server.url + self.server.latest)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        prefix = "/releases/download/"
        path = self.server.root / self.path.removeprefix(prefix)
        if not self.path.startswith(prefix) or ".." in self.path or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def releases(tmp_path: Path) -> Iterator[Releases]:
    server = Releases(tmp_path / "releases")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Pipx:
    """The README's ``sudo PIPX_HOME=... PIPX_BIN_DIR=... pipx ...``, in a temporary home."""

    def __init__(self, home: Path) -> None:
        self.bin = home / "bin"
        self.env = {
            **os.environ,
            "PIPX_HOME": str(home / "pipx"),
            "PIPX_BIN_DIR": str(self.bin),
            "USE_EMOJI": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }

    def __call__(self, *args: str) -> str:
        result = subprocess.run(
            [str(PYTHON), "-m", "pipx", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"pipx {args}: {result.stdout}{result.stderr}"
        return result.stdout + result.stderr


class Device:
    """``daybreak-device`` from the pipx bin dir, with a state dir, on loopback."""

    def __init__(self, exe: Path, state: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(exe), "--mock", "--host", "127.0.0.1", "--port", str(self.port),
                 "--state-dir", str(state), "--no-zeroconf", "--name", "Upgrade"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if not k.startswith("DAYBREAK_")},
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        response = httpx.request(
            method,
            f"{self.url}{path}",
            headers={"Authorization": f"Bearer {token}"},
            json=body,
            timeout=10,
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(10) == 0, self.log.read_text()


def installed_version(exe: Path) -> str:
    """What ``daybreak-device --version`` says."""
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    name, version = out.stdout.split()
    assert name == "daybreak-device"
    return version


def answer(body: Any, key: str) -> Any:
    """The payload of a REST answer: 0.1.0 sends the whole ack (``{"ok": true, key: ...}``)."""
    if isinstance(body, dict) and body.get("ok") is True and key in body:
        return body[key]
    return body


def kept(state: dict[str, Any]) -> dict[str, Any]:
    """What of ``state`` a restart keeps: the light, not the clock or a transition."""
    return {key: state[key] for key in ("on", "brightness")}


def test_pipx_upgrade_moves_the_device_to_the_new_release(
    tmp_path: Path, releases: Releases
) -> None:
    version, _commit, protocol = PREVIOUS
    assert version != __version__, "bump PREVIOUS in this test on every release"
    old_sdist = build_sdist(previous_release_tree(tmp_path / "old"), tmp_path / "dist-old")
    new_sdist = build_sdist(REPO, tmp_path / "dist-new")
    assert old_sdist.name == f"daybreak_device-{version}.tar.gz"
    assert new_sdist.name == f"daybreak_device-{__version__}.tar.gz"
    releases.publish(f"v{version}", old_sdist)

    # The README's install, from the "latest" URL (then the previous release).
    pipx = Pipx(tmp_path)
    pipx("install", "--system-site-packages", releases.url + LATEST)
    exe = pipx.bin / "daybreak-device"
    assert installed_version(exe) == version

    state_dir = tmp_path / "state"
    old = Device(exe, state_dir, tmp_path / "old.log")
    token = (state_dir / "token").read_text().strip()
    info = answer(old.call("GET", "/api/info", token), "info")
    assert (info["sw_version"], info["protocol_version"]) == (version, protocol)
    alarm = old.call(
        "POST", "/api/alarms", token,
        {"time": "06:30", "weekdays": [0, 4], "duration": 900, "target_brightness": 200},
    )["alarm"]  # fmt: skip
    old.call("POST", "/api/light", token, {"on": True, "brightness": 77})
    deadline = time.monotonic() + 10
    while kept(answer(old.call("GET", "/api/state", token), "state")) != {
        "on": True,
        "brightness": 77,
    }:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    alarms_before = answer(old.call("GET", "/api/alarms", token), "alarms")
    assert [a["id"] for a in alarms_before] == [alarm["id"]]
    old.stop()

    # A new release is published; the README's update: pipx upgrade, then a restart.
    releases.publish(f"v{__version__}", new_sdist)
    output = pipx("upgrade", "daybreak-device")
    assert f"upgraded package daybreak-device from {version} to {__version__}" in output
    assert installed_version(exe) == __version__

    new = Device(exe, state_dir, tmp_path / "new.log")
    try:
        assert (state_dir / "token").read_text().strip() == token
        info_after = answer(
            new.call("GET", "/api/info", token), "info"
        )  # the old token still works
        assert (info_after["sw_version"], info_after["protocol_version"]) == (
            __version__,
            PROTOCOL_VERSION,
        )
        assert info_after["device_id"] == info["device_id"]
        assert kept(answer(new.call("GET", "/api/state", token), "state")) == {
            "on": True,
            "brightness": 77,
        }
        alarms_after = answer(new.call("GET", "/api/alarms", token), "alarms")
        # Every alarm kept as it was; one saved before alarms had names is named after its
        # wake time, as the new release names alarms created without one; one saved before
        # one-off alarms is weekly (no date).
        assert [alarm.get("date", None) for alarm in alarms_after] == [None] * len(alarms_after)
        assert [
            {key: value for key, value in alarm.items() if key not in ("name", "date")}
            for alarm in alarms_after
        ] == [
            {key: value for key, value in alarm.items() if key != "name"} for alarm in alarms_before
        ]
        assert [alarm["name"] for alarm in alarms_after] == [
            alarm.get("name", alarm["time"]) for alarm in alarms_before
        ]
    finally:
        new.stop()
    assert "Generated access token" not in (tmp_path / "new.log").read_text()
    assert releases.requests.count(LATEST) >= 2  # install and upgrade both used the URL
