"""A page of a running Home Assistant in headless Chromium, logged in, saved as a PNG.

Run by ``smoke/screenshot.py`` as a child process (inside its loopback-only network
namespace, which children inherit) with .venv/device's Python, which has Selenium; the
browser is Debian's ``chromium`` with its ``chromedriver``, as in device/tests/test_web.py
(the driver path is given, so Selenium Manager never runs and nothing is downloaded).
This file runs on Python 3.11: no newer syntax.

    .venv/device/bin/python smoke/browser.py JOB.json

The job (JSON) has ``base`` (http://127.0.0.1:8123), ``path`` (the page), ``tokens`` (the
frontend's ``hassTokens``: what /auth/token answered plus hassUrl, clientId and expires),
``output`` (the PNG), ``profile`` (an empty folder for Chromium's profile), ``width``,
``min_rows`` (entity rows the page must show) and ``timeout`` (seconds). The tokens go into
the origin's localStorage, where the frontend keeps them after a login, so the page opens
logged in. The page counts as ready when no spinner shows, at least ``min_rows`` entity
rows have rendered and their number has stayed the same for a second; the viewport is then
made as tall as the content (the frontend scrolls inside its own container, so a
screenshot of the window would cut it off) and captured. Progress goes to stdout; on a
failure a screenshot of what the browser showed is saved next to ``output`` as
``*-failed.png`` and the exit code is 1.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--lang=en-GB",  # English with a 24-hour clock, as a Berlin user has it
    "--force-device-scale-factor=1",
]
MAX_HEIGHT = 8000  # px: a page taller than this is cut (it would be a broken layout)

#: What the page shows, walking into every shadow root (the frontend is web components).
PROBE = """
const all = [];
const walk = (root) => {
  for (const el of root.querySelectorAll('*')) {
    all.push(el);
    if (el.shadowRoot) walk(el.shadowRoot);
  }
};
walk(document);
const shown = (el) => {
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0;
};
const spinners = all.filter(
  (el) => /^(HA-SPINNER|HA-CIRCULAR-PROGRESS|MWC-CIRCULAR-PROGRESS)$/.test(el.tagName) && shown(el)
).length;
// A row element per entity (a toggle row, say, wraps a generic row: not counted twice).
const rows = all.filter(
  (el) => /-ENTITY-ROW$/.test(el.tagName) && el.tagName !== 'HUI-GENERIC-ENTITY-ROW' && shown(el)
).length;
let overflow = document.documentElement.scrollHeight - window.innerHeight;
for (const el of all) {
  const style = getComputedStyle(el).overflowY;
  if (style === 'auto' || style === 'scroll') {
    overflow = Math.max(overflow, el.scrollHeight - el.clientHeight);
  }
}
return {
  path: location.pathname,
  login: all.some((el) => el.tagName === 'HA-AUTHORIZE' || el.tagName === 'HA-AUTH-FLOW'),
  cards: all.filter((el) => el.tagName === 'HA-DEVICE-ENTITIES-CARD').length,
  rows: rows,
  spinners: spinners,
  overflow: overflow,
  height: window.innerHeight,
};
"""


class ShotError(Exception):
    """The page did not become what it should; the message says what it showed."""


def log(message: str) -> None:
    """A progress line (the parent keeps stdout in a log file)."""
    print(f"[browser] {message}", flush=True)


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # through the finally that quits the browser


def start_browser(profile: Path, width: int) -> WebDriver:
    """Headless Chromium with a fresh profile, ``width`` px wide."""
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        raise ShotError("chromium and chromedriver are missing: run scripts/setup device")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},900")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-GB,en"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def set_viewport(driver: WebDriver, width: int, height: int) -> None:
    """Make the page's viewport exactly ``width`` x ``height`` CSS px (scale 1)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def log_in(driver: WebDriver, base: str, tokens: dict[str, Any]) -> None:
    """Put the tokens where the frontend keeps them after a login (its origin's storage)."""
    driver.get(f"{base}/manifest.json")  # the origin, without starting the frontend
    driver.execute_script(
        "window.localStorage.setItem('hassTokens', arguments[0]);", json.dumps(tokens)
    )


def wait_ready(driver: WebDriver, min_rows: int, timeout: float) -> dict[str, Any]:
    """Until the page is rendered and settled (see the module's docstring); the last probe."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    rows_before = -1
    while True:
        seen = dict(driver.execute_script(PROBE))
        if seen != last:
            log(f"page: {seen}")
        last = seen
        if seen["login"]:
            raise ShotError(f"the login page shows: the tokens were not taken ({seen})")
        ready = seen["cards"] > 0 and seen["rows"] >= min_rows and seen["spinners"] == 0
        if ready and seen["rows"] == rows_before:
            return seen
        rows_before = seen["rows"] if ready else -1
        if time.monotonic() > deadline:
            raise ShotError(
                f"after {timeout:.0f} s the page is not ready (wanted a device entities card, "
                f">= {min_rows} entity rows, no spinner): {seen}"
            )
        time.sleep(1)


def full_height(driver: WebDriver, width: int) -> int:
    """Grow the viewport until nothing scrolls any more; its height."""
    seen = dict(driver.execute_script(PROBE))
    height = int(seen["height"])
    for _ in range(6):
        if seen["overflow"] <= 0 or height >= MAX_HEIGHT:
            break
        height = min(MAX_HEIGHT, height + int(seen["overflow"]))
        set_viewport(driver, width, height)
        time.sleep(0.5)  # layout, and the cards below the fold render
        seen = dict(driver.execute_script(PROBE))
    return height


def shoot(job: dict[str, Any]) -> None:
    """Open the page logged in, wait until it is ready, save it full height."""
    width, timeout = int(job["width"]), float(job["timeout"])
    output = Path(job["output"])
    driver = start_browser(Path(job["profile"]), width)
    try:
        driver.set_page_load_timeout(timeout)
        driver.set_script_timeout(timeout)
        set_viewport(driver, width, 900)
        log_in(driver, job["base"], job["tokens"])
        driver.get(job["base"] + job["path"])
        log(f"opened {job['path']}")
        try:
            seen = wait_ready(driver, int(job["min_rows"]), timeout)
            height = full_height(driver, width)
            # The last images (brand icon, entity pictures) and the cards' transitions.
            time.sleep(1.5)
            seen = wait_ready(driver, int(job["min_rows"]), timeout)
        except ShotError:
            failed = output.with_name(f"{output.stem}-failed.png")
            driver.save_screenshot(str(failed))
            log(f"what the browser showed: {failed}")
            raise
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(driver.get_screenshot_as_png())
        log(f"saved {output} ({width} x {height} px, {seen['rows']} entity rows)")
    finally:
        driver.quit()


def main() -> int:
    """Run the job named on the command line; 0 if the PNG was saved."""
    signal.signal(signal.SIGTERM, _terminate)
    job = json.loads(Path(sys.argv[1]).read_text())
    try:
        shoot(job)
    except (ShotError, WebDriverException, OSError) as err:
        log(f"FAILED: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
