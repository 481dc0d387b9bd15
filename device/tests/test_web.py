"""The device's web page in a real headless Chromium against the real device server.

Debian's ``chromium`` and ``chromedriver`` (``scripts/setup`` installs them) are driven
with Selenium, one browser for the whole module; the server runs in the test's event
loop with a mock pin, so every WebDriver call runs in a thread (``asyncio.to_thread``)
while the loop keeps serving. Each test gets its own device on its own port, so its own
origin and an empty ``localStorage``. Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from daybreak_device.config import Settings
from daybreak_device.light import STATE_FILE_VERSION
from daybreak_device.webpage import WEB_DIR, content_security_policy
from helpers import TOKEN, Client, Device

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=412,915",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
PHONE = (412, 915)
DESKTOP = (1280, 800)
WAIT = 10.0  # seconds for anything the page should show


def to_wire(percent: float) -> int:
    """The page's percent to wire brightness (JavaScript's Math.round)."""
    return math.floor(percent * 255 / 100 + 0.5)


def to_percent(brightness: float) -> int:
    return max(1, math.floor(brightness * 100 / 255 + 0.5)) if brightness > 0 else 0


async def eventually(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Wait (in the loop, so the server keeps running) until ``condition()`` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


# -- the browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """One headless Chromium for the module, with a fresh profile."""
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.fail("chromium and chromedriver are missing: run scripts/setup device")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # only this run's screenshots
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver path is given, so Selenium Manager never runs (nothing is downloaded).
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


class Page:
    """The device page in the browser; every method blocks (run it with ``in_thread``)."""

    def __init__(self, driver: WebDriver, device: Device) -> None:
        self.driver = driver
        self.device = device

    # -- basics

    def open(self) -> None:
        self.driver.get(self.device.url + "/")
        self.driver.get_log("browser")  # start each test with an empty console log

    def wait(self, condition: Callable[[WebDriver], Any], message: str = "") -> Any:
        return WebDriverWait(self.driver, WAIT, poll_frequency=0.05).until(condition, message)

    def find(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def js(self, script: str, *args: Any) -> Any:
        """Run ``script`` in the page, with ``$(id)`` for ``document.getElementById``."""
        return self.driver.execute_script(
            "const $ = (id) => document.getElementById(id);\n" + script, *args
        )

    def text(self, element_id: str) -> str:
        return str(self.js("return $(arguments[0]).textContent", element_id))

    def shown(self, element_id: str) -> bool:
        return self.find(element_id).is_displayed()

    def wait_shown(self, element_id: str, shown: bool = True) -> None:
        self.wait(lambda _: self.shown(element_id) == shown, f"#{element_id} shown={shown}")

    def wait_text(self, element_id: str, pattern: str) -> str:
        self.wait(
            lambda _: re.search(pattern, self.text(element_id)),
            f"#{element_id} text matching {pattern!r}",
        )
        return self.text(element_id)

    def status(self) -> str:
        return self.text("connection-text")

    def stored_token(self) -> str | None:
        token = self.js("return localStorage.getItem('daybreak.token')")
        return None if token is None else str(token)

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    # -- screens

    def size(self, width: int, height: int, scale: float = 1) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": height,
                "deviceScaleFactor": scale,
                "mobile": width < 600,
            },
        )

    def scheme(self, scheme: str) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {
                "features": [
                    {"name": "prefers-color-scheme", "value": scheme},
                    # No transitions: screenshots never catch the switch half-way.
                    {"name": "prefers-reduced-motion", "value": "reduce"},
                ]
            },
        )

    def screenshot(self, name: str) -> Path:
        """Save the viewport as ``test-artifacts/web/NAME.png``."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.execute_script("window.scrollTo(0, 0)")
        self.driver.save_screenshot(str(path))
        return path

    def content_height(self) -> int:
        """How tall the page's content is."""
        return int(self.js("return Math.ceil(document.body.getBoundingClientRect().bottom)"))

    # -- steps

    def login(self, token: str) -> None:
        self.wait_shown("login")
        field = self.find("token")
        field.clear()
        field.send_keys(token)
        field.send_keys(Keys.ENTER)

    def wait_connected(self) -> None:
        self.wait(lambda _: self.status() == "Connected", "connected")
        self.wait_shown("controls")

    def slider_percent(self) -> int:
        return int(self.find("brightness").get_attribute("value") or "-1")

    def control_names(self) -> dict[str, str]:
        """The accessible name (as the browser computes it) of each control on show."""
        return {
            str(element.get_attribute("id")): element.accessible_name
            for element in self.driver.find_elements(By.CSS_SELECTOR, "input, select, button")
            if element.is_displayed()
        }

    def power_checked(self) -> bool:
        return self.find("power").get_attribute("aria-checked") == "true"


@pytest.fixture
async def page(browser: WebDriver, device: Device) -> AsyncIterator[Page]:
    """The browser on ``device``'s page (not logged in yet)."""
    page = Page(browser, device)
    await asyncio.to_thread(page.size, *PHONE)
    await asyncio.to_thread(page.scheme, "dark")
    await asyncio.to_thread(page.open)
    yield page
    # Leave the page so its socket closes before the device stops.
    await asyncio.to_thread(browser.get, "about:blank")


async def in_thread(func: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(func, *args)


async def logged_in(page: Page) -> None:
    await in_thread(page.login, TOKEN)
    await in_thread(page.wait_connected)


def state(device: Device) -> dict[str, Any]:
    return dict(device.server.controller.snapshot())


# -- serving the page ------------------------------------------------------------------


async def test_page_is_served_without_token_with_strict_headers(device: Device) -> None:
    async with httpx.AsyncClient(base_url=device.url, timeout=5) as anonymous:
        index = await anonymous.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        csp = index.headers["content-security-policy"]
        host = f"127.0.0.1:{device.server.port}"
        assert "default-src 'none'" in csp
        assert "script-src 'self';" in csp
        assert f"connect-src 'self' ws://{host} wss://{host};" in csp
        assert "frame-ancestors 'none'" in csp
        assert index.headers["cache-control"] == "no-cache"
        assert index.headers["x-content-type-options"] == "nosniff"
        # Everything the page loads comes from the device itself.
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", index.text)
        for asset in re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", index.text):
            response = await anonymous.get(asset)
            assert response.status_code == 200, asset
            assert response.headers["cache-control"] == "no-cache"

        client = await anonymous.get("/static/socket.io.min.js")
        assert client.headers["content-type"].startswith("text/javascript")
        version = re.match(r"/\*!\n \* Socket\.IO v(\S+)", client.text)
        assert version is not None
        assert f"| {version[1]} |" in (WEB_DIR / "VENDOR.md").read_text()

        # Revalidation is cheap: an unchanged file answers 304.
        etag = (await anonymous.get("/static/app.js")).headers["etag"]
        cached = await anonymous.get("/static/app.js", headers={"If-None-Match": etag})
        assert cached.status_code == 304

        # Only the page is open: the API still wants the token, and nothing else leaks.
        assert (await anonymous.get("/api/state")).status_code == 401
        for path in ("/static/missing.js", "/static/../server.py", "/static/%2e%2e/webpage.py"):
            response = await anonymous.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"
        post = await anonymous.post("/static/app.js")
        assert post.status_code == 405
        assert (await anonymous.post("/")).status_code == 405


def test_csp_leaves_out_hosts_it_cannot_spell() -> None:
    assert "connect-src 'self' ws://light.local:80 wss://light.local:80;" in (
        content_security_policy("light.local:80")
    )
    for host in ("[::1]:8080", "evil; script-src *", "", None):
        assert "connect-src 'self';" in content_security_policy(host)


# -- the page in a browser ----------------------------------------------------------------


async def test_log_in_and_drag_the_slider(page: Page) -> None:
    device = page.device
    await in_thread(page.wait_shown, "login")
    assert not await in_thread(page.shown, "controls")
    await logged_in(page)
    assert await in_thread(page.stored_token) == TOKEN
    assert await in_thread(page.text, "device-name") == device.server.settings.name
    assert not await in_thread(page.shown, "login")
    assert not await in_thread(page.shown, "error")

    # Count the commands the device gets, to see the throttling.
    sent: list[tuple[float, dict[str, Any]]] = []
    execute = device.server.execute

    async def spy(event: str, payload: Any) -> Any:
        if event == "light.set":
            sent.append((time.monotonic(), payload))
        return await execute(event, payload)

    device.server.execute = spy  # type: ignore[method-assign]

    slider = await in_thread(page.find, "brightness")
    width = (await in_thread(lambda: slider.size))["width"]
    await in_thread(
        page.js, "window.moves = 0; $('brightness').addEventListener('input', () => moves++)"
    )

    def drag() -> None:
        # Press at 10 %, drag to about 60 % in 25 small moves (~0.5 s), hold still for
        # a while, drag back to about 40 % and let go.
        actions = ActionChains(page.driver, duration=20)
        actions.move_to_element_with_offset(slider, round(-width * 0.4), 0).click_and_hold()
        for _ in range(25):
            actions.move_by_offset(round(width * 0.02), 0)
        actions.pause(1.5)
        for _ in range(10):
            actions.move_by_offset(round(-width * 0.02), 0)
        actions.release()
        actions.perform()

    dragging = asyncio.ensure_future(in_thread(drag))
    # While the button is still held, the device follows: not only on release.
    await eventually(lambda: 40 <= to_percent(state(device)["brightness"]) <= 80)
    assert device.pin.state > 0
    assert not dragging.done()
    await dragging
    released = await in_thread(page.slider_percent)
    assert 20 <= released <= 60
    await eventually(lambda: state(device)["brightness"] == to_wire(released))
    # Throttled: far fewer commands than slider moves, spaced by the send interval
    # (150 ms, less network jitter), except the one sent right on release.
    moves = await in_thread(page.js, "return moves")
    assert moves >= 30
    assert 3 <= len(sent) <= moves // 2, sent
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(sent[:-1])]
    assert min(gaps) >= 0.1, gaps
    assert sent[-1][1] == {"brightness": to_wire(released)}
    duty = device.pin.state
    assert 0 < duty < 1
    assert await in_thread(page.text, "brightness-value") == f"{released}%"
    assert await in_thread(page.power_checked)

    # The switch turns it off and on again.
    await in_thread(lambda: page.find("power").click())
    await eventually(lambda: device.pin.state == 0)
    await in_thread(page.wait, lambda _: not page.power_checked())
    await in_thread(lambda: page.find("power").click())
    await eventually(lambda: device.pin.state == duty)
    await in_thread(page.screenshot, "phone-after-drag")
    assert await in_thread(page.console_errors) == []


async def test_page_follows_other_clients(page: Page, connect: Callable[..., Any]) -> None:
    await logged_in(page)
    other: Client = await connect()

    await other.call("light.set", {"brightness": 64})
    await in_thread(page.wait, lambda _: page.slider_percent() == to_percent(64))
    assert await in_thread(page.text, "brightness-value") == f"{to_percent(64)}%"
    assert await in_thread(page.power_checked)

    await other.call("light.set", {"on": False})
    await in_thread(page.wait, lambda _: not page.power_checked())
    assert await in_thread(page.slider_percent) == 0
    assert await in_thread(page.text, "power-text") == "Off"

    # A fade started elsewhere is shown with where it is going.
    await other.call("light.set", {"brightness": 255, "transition": 30})
    await in_thread(page.wait_text, "transition", r"Fading to 100% by \d")
    await other.call("light.set", {"brightness": 128})
    await in_thread(page.wait_shown, "transition", False)

    # The token is remembered: a reload connects without asking.
    await in_thread(page.driver.refresh)
    await in_thread(page.wait_connected)
    assert not await in_thread(page.shown, "login")
    assert await in_thread(page.slider_percent) == to_percent(128)


async def test_sunrise_start_progress_and_stop(page: Page, connect: Callable[..., Any]) -> None:
    device = page.device
    await logged_in(page)
    other: Client = await connect()

    def start_sunrise() -> None:
        duration = page.find("sunrise-duration")
        duration.clear()
        duration.send_keys("1")
        target = page.find("sunrise-target")
        target.clear()
        target.send_keys("80")
        Select(page.find("sunrise-curve")).select_by_visible_text("Slow start")
        page.find("sunrise-start").click()

    await in_thread(start_sunrise)
    await in_thread(page.wait_shown, "sunrise-running")
    sunrise = state(device)["sunrise"]
    assert sunrise is not None
    assert sunrise["duration"] == 60.0
    assert sunrise["target_brightness"] == to_wire(80)
    assert sunrise["curve"] == "ease_in"
    assert not await in_thread(page.shown, "sunrise-form")

    # Progress appears and grows; the end time is shown in local time.
    def progress() -> float:
        return float(page.js("return $('sunrise-progress').value"))

    await in_thread(page.wait, lambda _: progress() > 0)
    first = await in_thread(progress)
    await in_thread(page.wait, lambda _: progress() > first)
    summary = await in_thread(page.text, "sunrise-summary")
    local_end = await in_thread(
        page.js,
        "return new Intl.DateTimeFormat(undefined, {hour: '2-digit', minute: '2-digit'})"
        ".format(new Date(arguments[0]))",
        sunrise["ends_at"],
    )
    assert f"Ends at {local_end}" in summary
    assert "rising to 80%" in summary
    assert re.fullmatch(r"\d+%", await in_thread(page.text, "sunrise-percent"))
    await in_thread(page.screenshot, "phone-sunrise-started")

    await in_thread(lambda: page.find("sunrise-stop").click())
    await in_thread(page.wait_shown, "sunrise-form")
    assert state(device)["sunrise"] is None
    assert not await in_thread(page.shown, "sunrise-running")
    # A sunrise started elsewhere shows up too.
    await other.call("sunrise.start", {"duration": 600})
    await in_thread(page.wait_shown, "sunrise-running")
    await in_thread(page.wait_text, "sunrise-summary", r"\(\d+ min left\)")


async def test_wrong_token_is_shown_and_asked_again(page: Page) -> None:
    await in_thread(page.login, "not-the-token")
    await in_thread(page.wait_text, "error", r"^Wrong token")
    assert await in_thread(page.shown, "error")
    assert await in_thread(page.shown, "login")
    assert not await in_thread(page.shown, "controls")
    assert await in_thread(page.stored_token) is None
    assert await in_thread(page.status) == "Not connected"
    await in_thread(page.screenshot, "phone-wrong-token")
    # Focus is back in the token field; the right token then works.
    assert await in_thread(page.js, "return document.activeElement.id") == "token"
    await logged_in(page)
    await in_thread(page.wait_shown, "error", False)


async def test_device_refusal_is_shown(page: Page) -> None:
    await logged_in(page)

    def start_too_long() -> None:
        page.js("$('sunrise-duration').removeAttribute('max')")  # a page that let it through
        duration = page.find("sunrise-duration")
        duration.clear()
        duration.send_keys("500")
        page.find("sunrise-start").click()

    await in_thread(start_too_long)
    message = await in_thread(page.wait_text, "error", "refused")
    assert "invalid_payload" in message
    assert "duration" in message
    assert state(page.device)["sunrise"] is None
    # The next command that works clears it.
    await in_thread(lambda: page.find("power").click())
    await in_thread(page.wait_shown, "error", False)


async def test_lost_connection_reconnects_by_itself(
    page: Page, start_device: Callable[..., Any]
) -> None:
    first = page.device
    await logged_in(page)
    port = first.server.port
    await first.server.stop()
    await in_thread(page.wait, lambda _: page.status() == "Reconnecting…")
    assert "Reconnecting…" in await in_thread(page.text, "error")
    assert not await in_thread(lambda: page.find("brightness").is_enabled())
    await in_thread(page.screenshot, "phone-reconnecting")

    second: Device = await start_device(port=port)
    await second.server.controller.set_light({"brightness": 200})
    await in_thread(page.wait_connected)
    await in_thread(page.wait_shown, "error", False)
    await in_thread(page.wait, lambda _: page.slider_percent() == to_percent(200))
    assert await in_thread(lambda: page.find("brightness").is_enabled())


async def test_keyboard_and_labels(page: Page) -> None:
    device = page.device
    # Every control has an accessible name (its label), collected as each is shown.
    await in_thread(page.wait_shown, "login")
    names = await in_thread(page.control_names)
    await logged_in(page)
    names.update(await in_thread(page.control_names))

    # Logging in with Enter leaves the focus on the first control: the switch.
    assert await in_thread(page.js, "return document.activeElement.id") == "power"
    await in_thread(lambda: ActionChains(page.driver).send_keys(Keys.SPACE).perform())
    await eventually(lambda: state(device)["on"])
    assert state(device)["brightness"] == 255
    await in_thread(page.wait, lambda _: page.slider_percent() == 100)

    def tab() -> str:
        ActionChains(page.driver).send_keys(Keys.TAB).perform()
        return str(page.js("return document.activeElement.id"))

    assert await in_thread(tab) == "brightness"
    await in_thread(lambda: ActionChains(page.driver).send_keys(*[Keys.LEFT] * 5).perform())
    await eventually(lambda: state(device)["brightness"] == to_wire(95))
    assert await in_thread(page.js, "return $('brightness').getAttribute('aria-valuetext')") == (
        "95%"
    )
    await in_thread(lambda: ActionChains(page.driver).send_keys(Keys.HOME).perform())
    await eventually(lambda: not state(device)["on"])

    # On to the sunrise form; Enter in a field starts it.
    assert await in_thread(tab) == "sunrise-duration"

    def type_duration_and_enter() -> None:
        field = page.driver.switch_to.active_element
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys("2", Keys.ENTER)

    await in_thread(type_duration_and_enter)
    await eventually(lambda: state(device)["sunrise"] is not None)
    assert state(device)["sunrise"]["duration"] == 120.0
    # The form made way for the running sunrise: focus moves to its Stop button, and
    # Space there stops it; focus goes back to the form.
    await in_thread(page.wait_shown, "sunrise-running")
    assert await in_thread(page.js, "return document.activeElement.id") == "sunrise-stop"
    names.update(await in_thread(page.control_names))
    assert names == {
        "token": "Device token",
        "connect": "Connect",
        "power": "Light",
        "brightness": "Brightness",
        "sunrise-stop": "Stop sunrise",
        "sunrise-duration": "Duration (minutes)",
        "sunrise-target": "Target brightness (%)",
        "sunrise-curve": "Curve",
        "sunrise-start": "Start sunrise",
        "forget": "Forget token",
    }
    await in_thread(lambda: ActionChains(page.driver).send_keys(Keys.SPACE).perform())
    await eventually(lambda: state(device)["sunrise"] is None)
    await in_thread(page.wait_shown, "sunrise-form")
    assert await in_thread(page.js, "return document.activeElement.id") == "sunrise-start"


async def test_layout_on_phone_and_desktop(
    browser: WebDriver, start_device: Callable[..., Any], settings: Settings
) -> None:
    """One column on a phone, two on a desktop, nothing wider than the screen.

    Also takes the screenshots for the README: the device resumes a sunrise that started
    11 minutes ago (from its state file, as after a restart), so it is well under way.
    """
    settings.state_dir.mkdir(parents=True)
    sunrise = {
        "kind": "sunrise",
        "start": 0.0,
        "target": 255.0,
        "duration": 1800.0,
        "curve": "linear",
        "started_at": time.time() - 660,
    }
    (settings.state_dir / "state.json").write_text(
        json.dumps(
            {
                "version": STATE_FILE_VERSION,
                "on": True,
                "level": 0.0,
                "on_brightness": 255.0,
                "ramp": sunrise,
            }
        )
    )
    device: Device = await start_device(name="Bedroom")
    page = Page(browser, device)
    await in_thread(page.size, *PHONE)
    await in_thread(page.scheme, "dark")
    await in_thread(page.open)
    await logged_in(page)
    await in_thread(page.wait_text, "sunrise-summary", r"\(19 min left\)")
    await in_thread(page.wait_text, "device-name", "Bedroom")

    def layout() -> dict[str, Any]:
        return dict(
            page.js(
                "const box = (id) => $(id).closest('.card').getBoundingClientRect();"
                "return {light: box('power').toJSON(), sunrise: box('sunrise-stop').toJSON(),"
                " width: document.documentElement.scrollWidth, view: innerWidth}"
            )
        )

    phone = await in_thread(layout)
    assert phone["width"] <= phone["view"] == PHONE[0]  # no sideways scrolling
    assert phone["sunrise"]["top"] >= phone["light"]["bottom"]  # stacked
    await in_thread(page.js, "document.activeElement.blur()")  # no focus ring in pictures
    height = await in_thread(page.content_height)
    await in_thread(page.size, PHONE[0], height, 2)
    await in_thread(page.screenshot, "phone-dark")
    await in_thread(page.scheme, "light")
    await in_thread(page.screenshot, "phone-light")

    await in_thread(page.size, *DESKTOP)
    desktop = await in_thread(layout)
    assert desktop["width"] <= desktop["view"] == DESKTOP[0]
    assert desktop["sunrise"]["top"] == desktop["light"]["top"]  # side by side
    await in_thread(page.screenshot, "desktop-light")
    await in_thread(page.scheme, "dark")
    await in_thread(page.screenshot, "desktop-dark")
    await in_thread(browser.get, "about:blank")


CONTRAST_JS = """
const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => {
  const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const ratio = (a, b) => {
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
const background = (el) => {
  for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
  }
  return rgb(getComputedStyle(document.body).backgroundColor).slice(0, 3);
};
const hex = (name) => {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16));
};
const worst = [];
for (const el of document.querySelectorAll("body *")) {
  if (!el.checkVisibility() || el.closest("[aria-hidden=true]")) continue;
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  const field = el.matches("input:not([type=range]), select");
  if (!own && !field) continue;
  const style = getComputedStyle(el);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  const r = ratio(rgb(style.color), background(el));
  if (r < (large ? 3 : 4.5)) worst.push(`${el.tagName}#${el.id}.${el.className}: ${r.toFixed(2)}`);
}
// Non-text contrast (WCAG 1.4.11): tracks, borders and the accent against the cards.
for (const name of ["--track", "--muted", "--accent", "--line"]) {
  const r = ratio(hex(name), hex("--card"));
  if (r < (name === "--line" ? 1 : 3)) worst.push(`${name} on --card: ${r.toFixed(2)}`);
}
return worst;
"""


@pytest.mark.parametrize("scheme", ["dark", "light"])
async def test_contrast(page: Page, scheme: str, connect: Callable[..., Any]) -> None:
    await in_thread(page.scheme, scheme)
    # The token form with an error, then the controls with a running sunrise.
    await in_thread(page.login, "wrong")
    await in_thread(page.wait_shown, "error")
    assert await in_thread(page.js, CONTRAST_JS) == []
    await logged_in(page)
    other: Client = await connect()
    await other.call("sunrise.start", {"duration": 600})
    await in_thread(page.wait_shown, "sunrise-running")
    await in_thread(page.js, "$('error').hidden = false; $('error').textContent = 'An error'")
    assert await in_thread(page.js, CONTRAST_JS) == []


def test_page_script_is_plain_and_has_no_inline_code() -> None:
    """CSP forbids inline code; the page must not rely on any."""
    html = (WEB_DIR / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"<style|\son[a-z]+=|style=", html)
    # The Socket.IO client connects with WebSocket only.
    app = (WEB_DIR / "app.js").read_text()
    assert 'transports: ["websocket"]' in app
