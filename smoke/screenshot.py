"""scripts/screenshot: the README's screenshot of a Daybreak device's page in Home Assistant.

Runs (as root, with .venv/hass's Python) what ``scripts/test hass`` runs, in a network
namespace with loopback only (see harness.py): ``daybreak-device --mock`` named Bedroom and
``hass`` of the newest release on a fresh config dir, onboarded through the REST API, the
device added through the config flow. It then sets up what a user would have: two alarms
through the ``daybreak.set_alarm`` action ("Weekdays" 06:30 Mon-Fri, "Weekend" 08:15 Sat
and Sun) and the light on at 50 %; and has a real headless Chromium (smoke/browser.py, a
child process, so in the same namespace) open the device's page
(``/config/devices/device/<id>``, the id from hass's device registry) logged in as the
owner, wait until its entity cards have rendered and save it, 1280 px wide and as tall as
the page, to docs/ha-device-page.png (``--output`` elsewhere). Every wait is bounded; hass,
the device and the browser are stopped at the end, also on a failure. The config dir, the
logs and the browser's log are kept in test-artifacts/screenshot/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from homeassistant.const import __version__ as HASS_VERSION  # noqa: N812

from harness import (
    CLIENT_ID,
    DEVICE_NAME,
    DEVICE_PORT,
    ROOT,
    Device,
    Hass,
    Process,
    StepError,
    claim_workdir,
    device_process,
    enter_loopback_namespace,
    expect,
    hass_process,
    request,
    run_steps,
    tail,
    wait_for,
    write_config,
)

ARTIFACTS = ROOT / "test-artifacts/screenshot"
OUTPUT = ROOT / "docs/ha-device-page.png"
BROWSER_PYTHON = ROOT / ".venv/device/bin/python"  # it has Selenium; hass's venv has not
BROWSER_SCRIPT = ROOT / "smoke/browser.py"
DEVICE_TOKEN = "screenshot-device-token"  # noqa: S105 - a throwaway token, loopback only
OWNER = "Alex"
USERNAME, PASSWORD = "alex", "screenshot-password"
LIGHT = "light.bedroom"
#: The alarms on the screenshot, as daybreak.set_alarm takes them.
ALARMS = [
    {"name": "Weekdays", "time": "06:30:00", "weekdays": ["mon", "tue", "wed", "thu", "fri"]},
    {"name": "Weekend", "time": "08:15:00", "weekdays": ["sat", "sun"]},
]
BRIGHTNESS = 128  # 50 %
WIDTH = 1280
BROWSER_TIMEOUT = 90  # s for the page to be ready; the browser process gets twice that
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def log(message: str) -> None:
    """A progress line."""
    print(f"[screenshot] {message}", flush=True)


class Screenshot:
    """The steps, in order; each returns what it saw, or raises StepError."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.config_dir = ARTIFACTS / "config"
        self.device = device_process(ARTIFACTS, DEVICE_TOKEN)
        self.hass = hass_process(self.config_dir, ARTIFACTS / "hass.out")
        self.browser = Process(
            "browser",
            [str(BROWSER_PYTHON), str(BROWSER_SCRIPT), str(ARTIFACTS / "browser-job.json")],
            ARTIFACTS / "browser.log",
        )
        self.api = Hass()
        self.rest = Device(DEVICE_TOKEN)
        self.device_id = ""
        self.lock: TextIO | None = None

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        """(title, step) in the order they run."""
        return [
            ("network namespace with loopback only", self.namespace),
            (f"start daybreak-device --mock ({DEVICE_NAME})", self.start_device),
            (f"start hass {HASS_VERSION}, onboard, add Daybreak", self.start_hass),
            ("two alarms through daybreak.set_alarm", self.alarms),
            (f"light.turn_on brightness {BRIGHTNESS}", self.light_on),
            ("the device page in headless Chromium", self.shoot),
            ("stop hass and the device", self.stop),
        ]

    def namespace(self) -> str:
        """Enter the loopback-only namespace (before any process starts)."""
        enter_loopback_namespace()
        return "only lo; no route to any other address"

    def start_device(self) -> str:
        """The device, on a fresh state dir."""
        self.lock = claim_workdir(ARTIFACTS)  # held until this process exits
        self.device.start()
        self.rest.wait_up(self.device, timeout=30)
        return f"answers on 127.0.0.1:{DEVICE_PORT}"

    def start_hass(self) -> str:
        """Hass on a fresh config dir, onboarded, with the device's entry loaded."""
        write_config(self.config_dir)
        self.hass.start()
        self.api.wait_up(self.hass, timeout=120)
        self.api.onboard(OWNER, USERNAME, PASSWORD)
        self.api.wait_running(self.hass, timeout=120)
        self.api.add_daybreak("127.0.0.1", DEVICE_PORT, DEVICE_TOKEN)
        self.api.wait_entry_loaded(timeout=30)
        wait_for(LIGHT, lambda: self.api.state(LIGHT), timeout=30)
        self.device_id = self.api.render(f"{{{{ device_id('{LIGHT}') }}}}").strip()
        if len(self.device_id) < 8:
            raise StepError(f"no device id for {LIGHT}: {self.device_id!r}")
        return f"onboarded, entry loaded, device {self.device_id}"

    def entity_names(self) -> list[str]:
        """The names of the device's entities that have a state (the enabled ones)."""
        names = self.api.render(
            f"{{{{ expand(device_entities('{self.device_id}')) | map(attribute='name') "
            "| list | tojson }}"
        )
        return list(json.loads(names))

    def alarms(self) -> str:
        """The alarms on the device, and their entities in hass."""
        for alarm in ALARMS:
            self.api.call(
                "POST",
                "/api/services/daybreak/set_alarm",
                f"daybreak.set_alarm {alarm['name']}",
                {"entity_id": LIGHT, **alarm},
            )
        listed = expect(
            request("GET", f"{self.rest.base}/api/alarms", token=DEVICE_TOKEN),
            200,
            "device GET /api/alarms",
        )
        on_device = sorted(alarm.get("name") for alarm in listed)
        if on_device != sorted(a["name"] for a in ALARMS):
            raise StepError(f"the device should have the two alarms: {on_device}")

        def both_shown() -> list[str] | None:
            names = self.entity_names()
            every = all(any(a["name"] in name for name in names) for a in ALARMS)
            return names if every else None

        names = wait_for("entities for both alarms", both_shown, timeout=30, show=self.entity_names)
        return f"{len(names)} entities with a state: {', '.join(names)}"

    def light_on(self) -> str:
        """The light on at mid level, in hass's state."""
        self.api.call(
            "POST",
            "/api/services/light/turn_on",
            "light.turn_on",
            {"entity_id": LIGHT, "brightness": BRIGHTNESS},
        )

        def on() -> dict[str, Any] | None:
            state = self.api.state(LIGHT)
            if state and state["attributes"].get("brightness") == BRIGHTNESS:
                return state
            return None

        wait_for(f"{LIGHT} at {BRIGHTNESS}", on, timeout=15, show=lambda: self.api.state(LIGHT))
        return f"{LIGHT} on at {BRIGHTNESS}"

    def shoot(self) -> str:
        """smoke/browser.py takes the screenshot; it is copied to the output if it is good."""
        shot = ARTIFACTS / "ha-device-page.png"
        tokens = {
            **self.api.tokens,
            "hassUrl": self.api.base,
            "clientId": CLIENT_ID,
            "expires": int(time.time() * 1000) + int(self.api.tokens["expires_in"]) * 1000,
        }
        job = {
            "base": self.api.base,
            "path": f"/config/devices/device/{self.device_id}",
            "tokens": tokens,
            "output": str(shot),
            "profile": str(ARTIFACTS / "chromium-profile"),
            "width": WIDTH,
            # A row on the page for each enabled entity (the disabled ones are a link).
            "min_rows": len(self.entity_names()),
            "timeout": BROWSER_TIMEOUT,
        }
        job_file = ARTIFACTS / "browser-job.json"
        job_file.touch(mode=0o600)
        job_file.write_text(json.dumps(job))
        self.browser.start()
        code = self.browser.wait(timeout=2 * BROWSER_TIMEOUT)
        if code != 0:
            raise StepError(f"the browser failed (exit {code}):\n{tail(self.browser.log, 20)}")
        data = shot.read_bytes()
        if not data.startswith(PNG_SIGNATURE):
            raise StepError(f"{shot} is not a PNG")
        width = int.from_bytes(data[16:20], "big")
        height = int.from_bytes(data[20:24], "big")
        if width != WIDTH:
            raise StepError(f"{shot} is {width} px wide, not {WIDTH}")
        self.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, self.output)
        return f"{self.output} ({width} x {height} px, {len(data) // 1024} KiB)"

    def stop(self) -> str:
        """Hass and the device stop cleanly."""
        codes = {"hass": self.hass.stop(), "device": self.device.stop()}
        if any(code != 0 for code in codes.values()):
            raise StepError(f"exit codes on SIGTERM: {codes}")
        return "both exited with 0"

    def stop_all(self) -> None:
        """Whatever still runs (after a failure or Ctrl+C)."""
        for process in (self.browser, self.hass, self.device):
            process.stop()

    def show_logs(self) -> None:
        """After a failure: the tails of the logs."""
        for path in (
            self.config_dir / "home-assistant.log",
            ARTIFACTS / "device.log",
            ARTIFACTS / "browser.log",
        ):
            if path.exists():
                log(f"--- tail of {path.relative_to(ROOT)}:")
                print(tail(path, 25), flush=True)


def main() -> int:
    """Run the steps; 0 if the screenshot was saved, 1 at the first step that fails."""
    parser = argparse.ArgumentParser(prog="scripts/screenshot", description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the PNG to write")
    args = parser.parse_args()
    run = Screenshot(args.output.resolve())
    t0 = time.monotonic()
    try:
        if not run_steps(run.steps(), log, run.show_logs, ARTIFACTS):
            return 1
    finally:
        run.stop_all()
    log(f"done in {time.monotonic() - t0:.1f} s (Home Assistant {HASS_VERSION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
