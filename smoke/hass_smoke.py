"""Smoke test against a real ``hass`` of the newest release and the real device process.

Run by ``scripts/test hass`` (as root, with .venv/hass's Python). No pytest: one scenario,
step by step, each printed with its time; the first failing step stops the run with what
it expected and what came, the tails of hass's and the device's logs, and exit code 1.
Everything (the config dir, home-assistant.log, device.log) stays in
test-artifacts/hass/ after the run.

1. a network namespace with loopback only (see harness.enter_loopback_namespace);
2. ``daybreak-device --mock`` (.venv/device) named Bedroom, with a token;
3. ``hass`` on a fresh config dir (minimal configuration.yaml, this repo's integration);
4. onboarding through its REST API (owner, auth code -> token, the remaining steps);
5. Daybreak added through the config-flow REST API against the device;
6. light.turn_on with a brightness: hass's state and the device's agree;
7. Assist: "turn on the bedroom sunrise" (/api/conversation/process) starts a sunrise on
   the device, and "turn off the bedroom sunrise" stops it;
8. the entry's diagnostics (token redacted);
9. no error from the integration or its libraries in home-assistant.log, and a clean stop.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from homeassistant.const import __version__ as HASS_VERSION  # noqa: N812

from harness import (
    DEVICE_NAME,
    DEVICE_PORT,
    ROOT,
    Device,
    Hass,
    StepError,
    claim_workdir,
    device_process,
    enter_loopback_namespace,
    hass_process,
    netns,
    run_steps,
    tail,
    wait_for,
    write_config,
)

ARTIFACTS = ROOT / "test-artifacts/hass"
DEVICE_TOKEN = "smoke-test-device-token"  # noqa: S105 - a test token, loopback only
LIGHT = "light.bedroom"
SWITCH = "switch.bedroom_sunrise"
#: Log lines of the integration's loggers (manifest "loggers" and its own) that fail the run.
BAD_LOG_LINE = re.compile(
    r"^\S+ \S+ (ERROR|CRITICAL) \([^)]*\) \[(custom_components\.daybreak|socketio|engineio)"
)
NOTABLE = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) ")
#: What hass logs when something in it tries to reach the internet (and cannot, in here).
OUTSIDE_ATTEMPT = re.compile(r"Cannot connect to host|Could not contact DNS|Network is unreachable")
NET_DEV = Path("/proc/self/net/dev")


def log(message: str) -> None:
    """A progress line."""
    print(f"[hass] {message}", flush=True)


class SmokeTest:
    """The steps, in order; each returns what it saw, or raises StepError."""

    def __init__(self) -> None:
        self.config_dir = ARTIFACTS / "config"
        self.hass_log = self.config_dir / "home-assistant.log"
        self.device = device_process(ARTIFACTS, DEVICE_TOKEN)
        self.hass = hass_process(self.config_dir, ARTIFACTS / "hass.out")
        self.api = Hass()
        self.rest = Device(DEVICE_TOKEN)
        self.entry: dict[str, Any] = {}
        self.lock: TextIO | None = None

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        """(title, step) in the order they run."""
        return [
            ("network namespace with loopback only", self.namespace),
            (
                f"start daybreak-device --mock ({DEVICE_NAME}, port {DEVICE_PORT})",
                self.start_device,
            ),
            (
                f"start hass {HASS_VERSION} (fresh config dir, minimal configuration)",
                self.start_hass,
            ),
            ("onboard through the REST API", self.onboard),
            ("add Daybreak through the config-flow API", self.add_entry),
            ("light.turn_on brightness 128, state comes back", self.light_on),
            ("Assist: 'turn on the bedroom sunrise'", self.assist_on),
            ("Assist: 'turn off the bedroom sunrise'", self.assist_off),
            ("diagnostics of the entry", self.diagnostics),
            ("home-assistant.log has no integration errors; stop hass", self.clean_log),
        ]

    def namespace(self) -> str:
        """Enter the loopback-only namespace (before any process starts)."""
        for line in enter_loopback_namespace().splitlines():
            log(f"   {line}")
        return "only lo; no route to 192.0.2.1, 1.1.1.1 or 2001:db8::1"

    def start_device(self) -> str:
        """The device, with a known token; it answers and is named Bedroom."""
        self.lock = claim_workdir(ARTIFACTS)  # held until this process exits
        self.device.start()
        health = self.rest.wait_up(self.device, timeout=30)
        info = self.rest.get("/api/info")
        if info.get("name") != DEVICE_NAME:
            raise StepError(f"the device should be named {DEVICE_NAME}: {info}")
        return f"{health}, device id {info.get('device_id')}, in {netns(self.device.pid)}"

    def start_hass(self) -> str:
        """Hass on a fresh config dir answers and wants onboarding."""
        write_config(self.config_dir)
        self.hass.start()
        self.api.wait_up(self.hass, timeout=90)
        status = self.api.onboarding_status()
        if status is None or any(status.values()):
            raise StepError(f"a fresh hass should want onboarding: {status}")
        return f"answers on {self.api.base}, in {netns(self.hass.pid)}"

    def onboard(self) -> str:
        """All onboarding steps; hass finishes starting; the owner can log in."""
        self.api.onboard("Smoke Test", "smoke", "smoke-test-password")
        status = self.api.onboarding_status()
        if status is not None and not all(status.values()):
            raise StepError(f"onboarding steps left: {status}")
        config = self.api.wait_running(self.hass, timeout=90)
        if config.get("version") != HASS_VERSION:
            raise StepError(f"hass says version {config.get('version')}, not {HASS_VERSION}")
        self.api.login("smoke", "smoke-test-password")  # the login flow works too
        return f"owner created, logged in again; {config['location_name']!r} RUNNING"

    def add_entry(self) -> str:
        """The config flow against the device creates a loaded entry and its entities."""
        api = self.api
        created = api.add_daybreak("127.0.0.1", DEVICE_PORT, DEVICE_TOKEN)
        self.entry = created
        if created.get("title") != DEVICE_NAME:
            raise StepError(f"the entry should be titled {DEVICE_NAME}: {created}")
        api.wait_entry_loaded(timeout=30)
        wait_for(f"{LIGHT} and {SWITCH}", lambda: api.state(LIGHT) and api.state(SWITCH), 30)
        return f"entry {created['entry_id']} loaded; {LIGHT} and {SWITCH} exist"

    def light_on(self) -> str:
        """light.turn_on with a brightness: hass's state and the device agree."""
        self.api.call(
            "POST",
            "/api/services/light/turn_on",
            "light.turn_on",
            {"entity_id": LIGHT, "brightness": 128},
        )

        def on_at_128() -> dict[str, Any] | None:
            state = self.api.state(LIGHT)
            if state and state["state"] == "on" and state["attributes"].get("brightness") == 128:
                return state
            return None

        wait_for(
            f"{LIGHT} to be on at brightness 128",
            on_at_128,
            timeout=15,
            show=lambda: self.api.state(LIGHT),
        )
        snapshot = self.rest.get("/api/state")
        if (snapshot.get("on"), snapshot.get("brightness")) != (True, 128):
            raise StepError(f"the device should be on at 128: {snapshot}")
        return f"{LIGHT} on, brightness 128 in hass and on the device"

    def assist_on(self) -> str:
        """Assist starts a sunrise on the device."""
        return self._assist("turn on the bedroom sunrise", sunrise=True)

    def assist_off(self) -> str:
        """Assist stops it."""
        return self._assist("turn off the bedroom sunrise", sunrise=False)

    def _assist(self, sentence: str, *, sunrise: bool) -> str:
        answer = self.api.call(
            "POST",
            "/api/conversation/process",
            f"Assist: {sentence!r}",
            {"text": sentence, "language": "en"},
        )
        response = answer.get("response", {})
        targets = [t.get("id") for t in response.get("data", {}).get("success", [])]
        if response.get("response_type") != "action_done" or SWITCH not in targets:
            raise StepError(f"Assist should have switched {SWITCH}: {answer}")
        speech = response.get("speech", {}).get("plain", {}).get("speech", "")

        def device_sunrise() -> dict[str, Any] | None:
            snapshot = self.rest.get("/api/state")
            return snapshot if (snapshot.get("sunrise") is not None) == sunrise else None

        snapshot = wait_for(
            f"a sunrise {'running' if sunrise else 'stopped'} on the device",
            device_sunrise,
            timeout=10,
            show=lambda: self.rest.get("/api/state"),
        )
        want = "on" if sunrise else "off"
        wait_for(
            f"{SWITCH} to be {want}",
            lambda: ((state := self.api.state(SWITCH)) and state["state"] == want) or None,
            timeout=10,
            show=lambda: self.api.state(SWITCH),
        )
        if sunrise:
            target = snapshot["sunrise"].get("target_brightness")
            return f"Assist: {speech!r}; the device runs a sunrise to {target}; {SWITCH} on"
        return f"Assist: {speech!r}; no sunrise on the device; {SWITCH} off"

    def diagnostics(self) -> str:
        """The entry's diagnostics: the device's data, the token redacted."""
        response = self.api.call(
            "GET",
            f"/api/diagnostics/config_entry/{self.entry['entry_id']}",
            "download the diagnostics",
        )
        text = str(response)
        device_id = str(self.rest.get("/api/info").get("device_id"))
        if DEVICE_TOKEN in text:
            raise StepError("the diagnostics show the device's token")
        if "**REDACTED**" not in text or device_id not in text:
            raise StepError(f"the diagnostics lack the redacted token or the device: {text[:2000]}")
        manifest = response.get("integration_manifest", {})
        if manifest.get("domain") != "daybreak" or not response.get("data"):
            raise StepError(f"unexpected diagnostics: {text[:2000]}")
        return f"{len(text)} characters, token redacted, device {device_id}"

    def clean_log(self) -> str:
        """No error from the integration; hass stops cleanly; traffic stayed on lo."""
        lines = self.hass_log.read_text(errors="replace").splitlines()
        bad = [line for line in lines if BAD_LOG_LINE.match(line)]
        if bad:
            raise StepError("errors from the integration in home-assistant.log:\n" + "\n".join(bad))
        code = self.hass.stop()
        if code != 0:
            raise StepError(f"hass exited with code {code} on SIGTERM")
        # /proc/net/dev of this namespace: the counters of every interface there is.
        interfaces = [line.split(":")[0].strip() for line in NET_DEV.read_text().splitlines()[2:]]
        if interfaces != ["lo"]:
            raise StepError(f"interfaces in the namespace: {interfaces}")
        refused = sum(1 for line in lines if OUTSIDE_ATTEMPT.search(line))
        return (
            "no ERROR from custom_components.daybreak, socketio or engineio; hass stopped (0); "
            f"only lo in /proc/net/dev; {refused} log lines of hass failing to reach outside"
        )

    def show_logs(self) -> None:
        """After a failure: hass's warnings and errors, then the tails of the logs."""
        if self.device.popen is None:  # nothing started: the logs are an earlier run's
            return
        if self.hass_log.exists():
            lines = self.hass_log.read_text(errors="replace").splitlines()
            notable = [line for line in lines if NOTABLE.match(line)]
            log(f"--- warnings and errors in {self.hass_log.relative_to(ROOT)} (last 20):")
            print("\n".join(f"    {line[:300]}" for line in notable[-20:]), flush=True)
        logs = [("home-assistant.log", self.hass_log), ("device.log", ARTIFACTS / "device.log")]
        if self.hass.exit_code() is not None or not self.hass_log.exists():  # a crash at start
            logs.append(("hass's stdout and stderr", ARTIFACTS / "hass.out"))
        for name, path in logs:
            log(f"--- tail of {name} ({path.relative_to(ROOT)}):")
            print(tail(path, 40), flush=True)


def main() -> int:
    """Run the steps; 0 if all pass, 1 at the first that fails."""
    test = SmokeTest()
    t0 = time.monotonic()
    steps = test.steps()
    try:
        if not run_steps(steps, log, test.show_logs, ARTIFACTS):
            return 1
    finally:
        test.hass.stop()
        test.device.stop()
    number = len(steps)
    log(
        f"passed: {number} steps in {time.monotonic() - t0:.1f} s (Home Assistant "
        f"{HASS_VERSION}); logs in {ARTIFACTS.relative_to(ROOT)}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
