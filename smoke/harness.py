"""A real Home Assistant and a real Daybreak device, in a network namespace of their own.

Shared by the smoke test (``smoke/hass_smoke.py``, run by ``scripts/test hass``) and
``scripts/develop``. Both run with ``.venv/hass``'s Python (the ``hass`` release under test)
as root: :func:`enter_loopback_namespace` moves this process into a new network namespace
that has the loopback interface only, so ``hass`` (zeroconf on its first client session,
the cloud integrations onboarding adds) and the device, which are started from here and
inherit it, cannot send anything to any other address.

HTTP is plain :mod:`urllib` (no client library, nothing to pin); everything talks to
127.0.0.1 inside the namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
DEVICE_BIN = ROOT / ".venv/device/bin/daybreak-device"
HASS_BIN = ROOT / ".venv/hass/bin/hass"

HASS_PORT = 8123  # hass's default; the namespace has its own ports, so no clash
DEVICE_PORT = 8080
DEVICE_NAME = "Bedroom"  # gives light.bedroom and switch.bedroom_sunrise
TIME_ZONE = "Europe/Berlin"
#: The OAuth client id the frontend uses (IndieAuth: a URL on the same host).
CLIENT_ID = f"http://127.0.0.1:{HASS_PORT}/"
REDIRECT_URI = f"{CLIENT_ID}?auth_callback=1"

# No default_config: only what the smoke test and a person trying the integration need.
# hass adds its DEFAULT_INTEGRATIONS (frontend, backup, person, ...) to these by itself.
# No `http:` section: since 2026.10 a YAML http config is moved into storage as a trial
# that reverts (restarting hass) unless confirmed within 5 minutes; the defaults (port
# 8123, all interfaces, i.e. loopback only in here) need no section.
CONFIGURATION_YAML = f"""\
# Written by smoke/harness.py (scripts/develop, scripts/test hass); rewritten on each start.
homeassistant:
  name: Daybreak development
  latitude: 52.52
  longitude: 13.405
  elevation: 34
  unit_system: metric
  time_zone: {TIME_ZONE}
  country: DE
  currency: EUR
  language: en
api:
config:
conversation:
intent:
diagnostics:
logger:
  default: info
  logs:
    custom_components.daybreak: debug
"""

_PR_SET_PDEATHSIG = 1
#: Looked up here, so that the child calls it without loading anything between fork and exec.
_prctl = ctypes.CDLL(None, use_errno=True).prctl


class StepError(Exception):
    """A step of the run failed; the message says what was expected and what came."""


# --- the network namespace ------------------------------------------------------------


def enter_loopback_namespace() -> str:
    """Move this process into a new network namespace with only ``lo``; return its setup.

    Call it before any thread or child process is started. Inside, ``lo`` is up with
    multicast and a route for 224.0.0.0/4 (hass's shared client session opens zeroconf,
    which fails with "[Errno 19] No such device" without one). Raises :class:`StepError`
    unless the namespace has exactly one interface, ``lo``, and no route off it.
    """
    if os.geteuid() != 0:
        raise StepError(
            "needs root: hass and the device run in a network namespace of their own "
            "(unshare(CLONE_NEWNET)), with loopback only"
        )
    host_netns = netns()
    os.unshare(os.CLONE_NEWNET)
    if netns() == host_netns:
        raise StepError(f"still in the host's network namespace {host_netns}")
    for args in (
        ["link", "set", "lo", "up"],
        ["link", "set", "lo", "multicast", "on"],
        ["route", "add", "224.0.0.0/4", "dev", "lo"],
    ):
        subprocess.run(["ip", *args], check=True)  # noqa: S603, S607 - iproute2 from PATH
    names = [name for _, name in socket.if_nameindex()]
    if names != ["lo"]:
        raise StepError(f"the namespace should have only lo, it has {names}")
    routes = _ip("route", "show", "table", "all")
    off_lo = [line for line in routes.splitlines() if line and " dev lo" not in line]
    if off_lo:
        raise StepError(f"a route off lo in the namespace: {off_lo}")
    # A datagram socket "connected" to an outside address sends nothing but looks up the
    # route: there must be none (TEST-NET-1 and a public address, v4 and v6).
    for family, address in (
        (socket.AF_INET, "192.0.2.1"),
        (socket.AF_INET, "1.1.1.1"),
        (socket.AF_INET6, "2001:db8::1"),
    ):
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect((address, 9))
            except OSError as err:
                if err.errno != errno.ENETUNREACH:
                    raise
            else:
                raise StepError(f"{address} is reachable from the namespace")
    return f"{netns()} (host: {host_netns})\n" + _ip("-brief", "address") + routes


def netns(pid: int | str = "self") -> str:
    """A process's network namespace, e.g. ``net:[4026532285]``."""
    return str(Path(f"/proc/{pid}/ns/net").readlink())


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], check=True, capture_output=True, text=True)  # noqa: S603, S607
    return done.stdout


# --- processes ------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the harness (the thread that started it) dies."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Process:
    """A child process with its log file."""

    name: str
    args: list[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start it; its stdout and stderr go to ``log`` (appended)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own binaries
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl+C reaches the harness, which stops us
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only a prctl call
            )
        if netns(self.pid) != netns():
            self.stop()
            raise StepError(f"{self.name} is not in this network namespace")

    @property
    def pid(self) -> int:
        """Its process id (once started)."""
        if self.popen is None:
            raise StepError(f"{self.name} was not started")
        return self.popen.pid

    def exit_code(self) -> int | None:
        """None while it runs."""
        return None if self.popen is None else self.popen.poll()

    def check_running(self) -> None:
        """Raise :class:`StepError` (with the log's tail) if it has exited."""
        code = self.exit_code()
        if code is not None:
            raise StepError(f"{self.name} exited with code {code}:\n{tail(self.log)}")

    def wait(self, timeout: float) -> int:
        """Until it exits by itself (StepError, with the log's tail, after ``timeout`` s)."""
        if self.popen is None:
            raise StepError(f"{self.name} was not started")
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise StepError(
                f"{self.name} did not finish within {timeout:.0f} s:\n{tail(self.log)}"
            ) from None

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` s; return the exit code.

        Whatever it left behind in its session (e.g. a browser a WebDriver started) is
        killed too.
        """
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        with contextlib.suppress(ProcessLookupError):  # the usual case: nothing is left
            os.killpg(self.popen.pid, signal.SIGKILL)
        return self.popen.returncode


def device_process(workdir: Path, token: str) -> Process:
    """``daybreak-device --mock`` from .venv/device, named Bedroom, on 127.0.0.1:8080."""
    return Process(
        "daybreak-device",
        [
            str(DEVICE_BIN),
            "--mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(DEVICE_PORT),
            "--token",
            token,
            "--name",
            DEVICE_NAME,
            "--state-dir",
            str(workdir / "device-state"),
            "--timezone",
            TIME_ZONE,
            "--no-zeroconf",
        ],
        workdir / "device.log",
    )


def hass_process(config_dir: Path, log: Path) -> Process:
    """``hass`` from .venv/hass on ``config_dir``, installing nothing (``--skip-pip``).

    Its own log is ``config_dir/home-assistant.log``; ``log`` gets stdout and stderr.
    """
    return Process("hass", [str(HASS_BIN), "--config", str(config_dir), "--skip-pip"], log)


def write_config(config_dir: Path) -> None:
    """configuration.yaml, and this repository's integration and blueprints linked in."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(CONFIGURATION_YAML)
    for link, target in (
        ("custom_components/daybreak", ROOT / "custom_components/daybreak"),
        ("blueprints/automation/daybreak", ROOT / "blueprints/automation/daybreak"),
    ):
        path = config_dir / link
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        path.symlink_to(target)


def tail(path: Path, lines: int = 60) -> str:
    """The last ``lines`` lines of a log file (or a note that it is missing)."""
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(f"    {line}" for line in text[-lines:])


def claim_workdir(workdir: Path) -> TextIO:
    """Empty ``workdir`` for this run; the lock held (until closed or exit) while it is used.

    One run at a time per checkout and work dir (ports are per namespace, so runs in
    other checkouts do not clash): the lock is ``.<name>.lock`` next to it.
    """
    workdir.parent.mkdir(parents=True, exist_ok=True)
    lock = (workdir.parent / f".{workdir.name}.lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    reset_dir(workdir)
    return lock


def reset_dir(path: Path) -> None:
    """Empty ``path`` (never following a link out of it)."""
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def wait_for[T](
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    interval: float = 0.2,
    show: Callable[[], object] | None = None,
) -> T:
    """Call ``probe`` until it returns something other than None (or raise StepError).

    On a timeout the message has the last error, and what ``show()`` returns then.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            result = probe()
        except StepError:
            raise
        except (OSError, ValueError, KeyError) as err:  # not up yet, unexpected answer
            last, result = err, None
        if result is not None:
            return result
        if time.monotonic() > deadline:
            seen = ""
            if show is not None:
                try:
                    seen = f"; now: {show()}"
                except OSError as err:
                    seen = f"; now: {err}"
            raise StepError(f"timed out after {timeout:.0f} s waiting for {what} ({last=}){seen}")
        time.sleep(interval)


def run_steps(
    steps: list[tuple[str, Callable[[], str]]],
    log: Callable[[str], None],
    show_logs: Callable[[], None],
    logs: Path,
) -> bool:
    """Run ``(title, step)`` in order, each logged with its time and what it returned.

    The first that raises :class:`StepError` (or OSError) stops the run: it is logged,
    ``show_logs()`` prints what helps, and False is returned; True if all passed. Stopping
    the processes is the caller's (in a ``finally``).
    """
    t0 = time.monotonic()
    number = 0
    try:
        for number, (title, step) in enumerate(steps, start=1):
            started = time.monotonic()
            log(f"{number}. {title} ...")
            detail = step()
            log(f"{number}. ok ({time.monotonic() - started:.1f} s): {detail}")
    except (StepError, OSError) as err:
        log(f"{number}. FAILED: {err}")
        show_logs()
        where = logs.relative_to(ROOT)
        log(f"FAILED at step {number} after {time.monotonic() - t0:.1f} s; logs in {where}/")
        return False
    return True


# --- HTTP -----------------------------------------------------------------------------


@dataclass
class Response:
    """An HTTP answer: status and body (JSON decoded when it is JSON)."""

    status: int
    body: Any
    text: str


def request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 15,
) -> Response:
    """One HTTP request; any status is returned (connection errors raise OSError)."""
    data = None
    headers = {"Accept": "application/json"}
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http://127.0.0.1
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    except (urllib.error.URLError, OSError) as err:  # refused, reset, timed out
        reason = getattr(err, "reason", err)
        raise ConnectionError(f"{method} {url}: {reason}") from err
    text = raw.decode(errors="replace")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    return Response(status, body, text)


def expect(response: Response, status: int, what: str) -> Any:
    """The body, if the status is ``status``; else StepError naming ``what``."""
    if response.status != status:
        raise StepError(
            f"{what}: HTTP {response.status}, expected {status}: {response.text[:2000]}"
        )
    return response.body


@dataclass
class Hass:
    """A running hass's REST API at http://127.0.0.1:8123, with an access token once known."""

    base: str = f"http://127.0.0.1:{HASS_PORT}"
    token: str | None = None
    #: The last answer of /auth/token (access and refresh token, expires_in), as the
    #: frontend gets it.
    tokens: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, path: str, what: str, body: Any = None, status: int = 200) -> Any:
        """An authenticated JSON request; the answer's body (StepError on another status)."""
        return expect(
            request(method, self.base + path, json_body=body, token=self.token), status, what
        )

    def wait_up(self, hass: Process, timeout: float) -> None:
        """Until the HTTP server answers (the frontend's /manifest.json, no token needed)."""

        def probe() -> bool | None:
            hass.check_running()
            return True if request("GET", f"{self.base}/manifest.json").status == 200 else None

        wait_for("hass's HTTP server", probe, timeout)

    def onboarding_status(self) -> dict[str, bool] | None:
        """Each onboarding step and whether it is done; None once onboarding is over."""
        response = request("GET", f"{self.base}/api/onboarding")
        if response.status == 404:  # the views are not registered on an onboarded hass
            return None
        steps = expect(response, 200, "GET /api/onboarding")
        return {step["step"]: step["done"] for step in steps}

    def onboard(self, name: str, username: str, password: str, done: Collection[str] = ()) -> None:
        """Every onboarding step not ``done``, as the frontend takes them, over REST.

        Creates the owner (POST /api/onboarding/users) and exchanges the auth code it
        returns for tokens (POST /auth/token), or logs in if the owner exists; then
        finishes core_config, analytics and integration.
        """
        if "user" in done:
            self.login(username, password)
        else:
            code = expect(
                request(
                    "POST",
                    f"{self.base}/api/onboarding/users",
                    json_body={
                        "client_id": CLIENT_ID,
                        "name": name,
                        "username": username,
                        "password": password,
                        "language": "en",
                    },
                ),
                200,
                "POST /api/onboarding/users",
            )["auth_code"]
            self._token_from_code(code)
        for step in ("core_config", "analytics"):
            if step not in done:
                self.call("POST", f"/api/onboarding/{step}", f"POST /api/onboarding/{step}", {})
        if "integration" not in done:
            code = self.call(
                "POST",
                "/api/onboarding/integration",
                "POST /api/onboarding/integration",
                {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI},
            )["auth_code"]
            self._token_from_code(code)  # what the frontend logs in with at the end

    def login(self, username: str, password: str) -> None:
        """Log in as a user would (the login flow), for an hass onboarded before."""
        flow = expect(
            request(
                "POST",
                f"{self.base}/auth/login_flow",
                json_body={
                    "client_id": CLIENT_ID,
                    "handler": ["homeassistant", None],
                    "redirect_uri": REDIRECT_URI,
                },
            ),
            200,
            "POST /auth/login_flow",
        )
        result = expect(
            request(
                "POST",
                f"{self.base}/auth/login_flow/{flow['flow_id']}",
                json_body={"client_id": CLIENT_ID, "username": username, "password": password},
            ),
            200,
            "POST /auth/login_flow/<flow_id>",
        )
        if result.get("type") != "create_entry":
            raise StepError(f"login as {username!r} refused: {result}")
        self._token_from_code(result["result"])

    def _token_from_code(self, code: str) -> None:
        tokens = expect(
            request(
                "POST",
                f"{self.base}/auth/token",
                form={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
            ),
            200,
            "POST /auth/token",
        )
        if tokens.get("token_type") != "Bearer" or not tokens.get("access_token"):
            raise StepError(f"POST /auth/token: no access token in {tokens}")
        self.token = tokens["access_token"]
        self.tokens = dict(tokens)

    def wait_running(self, hass: Process, timeout: float) -> dict[str, Any]:
        """Until GET /api/config says RUNNING (startup finished); that config."""

        def probe() -> dict[str, Any] | None:
            hass.check_running()
            config = self.call("GET", "/api/config", "GET /api/config")
            return config if config.get("state") == "RUNNING" else None

        return wait_for("hass to finish starting (state RUNNING)", probe, timeout, interval=0.5)

    def daybreak_entries(self) -> list[dict[str, Any]]:
        """The Daybreak config entries."""
        entries = self.call(
            "GET", "/api/config/config_entries/entry?domain=daybreak", "list config entries"
        )
        return [entry for entry in entries if entry["domain"] == "daybreak"]

    def add_daybreak(self, host: str, port: int, token: str) -> dict[str, Any]:
        """Add the device through the config-flow REST API; the created entry (result)."""
        form = self.call(
            "POST",
            "/api/config/config_entries/flow",
            "start the Daybreak config flow",
            {"handler": "daybreak", "show_advanced_options": False},
        )
        if form.get("type") != "form" or form.get("step_id") != "user":
            raise StepError(f"the config flow should ask for host, port and token: {form}")
        fields = {item["name"] for item in form.get("data_schema", [])}
        if not {"host", "port", "token"} <= fields:
            raise StepError(f"the config flow's form lacks host/port/token: {sorted(fields)}")
        result = self.call(
            "POST",
            f"/api/config/config_entries/flow/{form['flow_id']}",
            "submit host, port and token",
            {"host": host, "port": port, "token": token},
        )
        if result.get("type") == "form":
            raise StepError(
                f"the config flow showed its form again, errors {result.get('errors')} "
                f"(host {host!r}, port {port})"
            )
        if result.get("type") != "create_entry":
            raise StepError(f"the config flow did not create an entry: {result}")
        return dict(result["result"])

    def wait_entry_loaded(self, timeout: float) -> dict[str, Any]:
        """Until the one Daybreak entry is loaded; that entry (StepError if it fails)."""

        def loaded() -> dict[str, Any] | None:
            (found,) = self.daybreak_entries()
            if found["state"] in {"setup_error", "setup_retry", "failed_unload"}:
                raise StepError(f"the entry did not load: {found}")
            return found if found["state"] == "loaded" else None

        return wait_for("the entry to load", loaded, timeout)

    def render(self, template: str) -> str:
        """A template rendered by hass (POST /api/template), e.g. ``{{ device_id(...) }}``."""
        response = request(
            "POST", f"{self.base}/api/template", json_body={"template": template}, token=self.token
        )
        expect(response, 200, f"render {template!r}")
        return response.text

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """GET /api/states/<entity_id>; None while the entity does not exist."""
        response = request("GET", f"{self.base}/api/states/{entity_id}", token=self.token)
        if response.status == 404:
            return None
        return dict(expect(response, 200, f"GET /api/states/{entity_id}"))


@dataclass
class Device:
    """The device's REST API at http://127.0.0.1:8080."""

    token: str
    base: str = f"http://127.0.0.1:{DEVICE_PORT}"

    def wait_up(self, device: Process, timeout: float) -> dict[str, Any]:
        """Until GET /api/health answers 200; its body."""

        def probe() -> dict[str, Any] | None:
            device.check_running()
            response = request("GET", f"{self.base}/api/health")
            return dict(response.body) if response.status == 200 else None

        return wait_for("the device's /api/health", probe, timeout)

    def get(self, path: str) -> dict[str, Any]:
        """An authenticated GET (StepError unless 200)."""
        return dict(
            expect(request("GET", self.base + path, token=self.token), 200, f"device GET {path}")
        )
