"""The device's web page in a real headless Chromium against the real device server.

Debian's ``chromium`` and ``chromedriver`` (``scripts/setup`` installs them) are driven
with Selenium, one browser for the whole module; the server runs in the test's event
loop with a mock pin, so every WebDriver call runs in a thread (``asyncio.to_thread``)
while the loop keeps serving. Each test gets its own device on its own port, so its own
origin and an empty ``localStorage``. The devices keep their alarms in New York time
while the browser runs in UTC (or Berlin, where a test says so), so the page must show
alarm times as the device has them. Screenshots go to ``test-artifacts/web/``;
``desktop-light.png`` (from ``test_layout_on_phone_and_desktop``) is ``docs/web-page.png``.
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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
from daybreak_device.protocol import (
    ALARM_NAME_MAX_LENGTH,
    MAX_ALARMS,
    SUNRISE_MINUTES_MAX,
    SUNRISE_MINUTES_MIN,
)
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


def _device_zone() -> str:
    """A zone that is neither UTC nor Berlin, where it is now 11:00 to 23:00.

    The tests' alarms wake between 05:00 and 09:15 with sunrises of up to 30 minutes;
    on a device whose local time were inside such a window, an alarm created by a test
    would fire at once (as it should) and change what the test expects. The three zones
    are 14 and 9 hours apart, so one of them is always in the afternoon or evening.
    """
    now = datetime.now(UTC)
    for name in ("America/New_York", "Asia/Tokyo", "Asia/Kolkata"):
        if 11 <= now.astimezone(ZoneInfo(name)).hour < 23:
            return name
    raise AssertionError("no zone in the afternoon")  # pragma: no cover - see above


DEVICE_ZONE = _device_zone()
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def to_wire(percent: float) -> int:
    """The page's percent to wire brightness (JavaScript's Math.round)."""
    return math.floor(percent * 255 / 100 + 0.5)


def to_percent(brightness: float) -> int:
    return max(1, math.floor(brightness * 100 / 255 + 0.5)) if brightness > 0 else 0


def sunrise_text(sunrise: dict[str, str]) -> str:
    """An alarm sunrise as the page words it, in the device's time: "Tue 06:00 → 06:30"."""
    starts, wakes = (datetime.fromisoformat(sunrise[key]) for key in ("starts_at", "wake_at"))
    assert starts - datetime.now(starts.tzinfo) < timedelta(days=6)  # else a date is added
    assert starts.date() == wakes.date()  # else the wake day is added
    return f"{DAYS[starts.weekday()]} {starts:%H:%M} → {wakes:%H:%M}"


async def eventually(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Wait (in the loop, so the server keeps running) until ``condition()`` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test devices' settings, in a time zone that is neither UTC nor Berlin."""
    return replace(settings, timezone=DEVICE_ZONE)


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

    def focused(self) -> str:
        return str(self.js("return document.activeElement.id"))

    def key(self, *keys: str) -> None:
        ActionChains(self.driver).send_keys(*keys).perform()

    # -- alarms

    def alarms(self) -> list[dict[str, Any]]:
        """The alarms the page lists, as it shows them."""
        return list(
            self.js(
                "return [...$('alarm-list').children].map((li) => {"
                " const text = (part) => li.querySelector('.alarm-' + part).textContent;"
                " const s = li.querySelector('[data-action=enabled]');"
                " return {id: li.dataset.id, time: text('time'), days: text('days'),"
                " sunrise: text('sunrise'), next: text('next'), skip: text('skip'),"
                " on: s.getAttribute('aria-checked') === 'true',"
                " switch: s.querySelector('.switch-text').textContent}})"
            )
        )

    def alarm_button(self, alarm_id: str, action: str) -> WebElement:
        """An alarm's ``enabled`` switch or its ``edit``, ``skip`` or ``delete`` button."""
        element = self.js(
            "const li = [...$('alarm-list').children].find((li) => li.dataset.id === arguments[0]);"
            "return li.querySelector(`[data-action=${arguments[1]}]`)",
            alarm_id,
            action,
        )
        assert isinstance(element, WebElement)
        return element

    def wait_alarms(self, condition: Callable[[list[dict[str, Any]]], bool], message: str) -> Any:
        """Wait until the listed alarms satisfy ``condition``; return them."""
        self.wait(lambda _: condition(self.alarms()), message)
        return self.alarms()

    def fill_alarm(
        self,
        *,
        time_keys: str | None = None,
        days: dict[int, bool] | None = None,
        minutes: str | None = None,
        percent: str | None = None,
        curve: str | None = None,
    ) -> None:
        """Fill in the alarm form; ``time_keys`` as typed into Chromium's en-US time input."""
        if time_keys is not None:
            self.js("$('alarm-time').focus()")  # the hour part
            self.find("alarm-time").send_keys(time_keys)
        for day, checked in (days or {}).items():
            box = self.find(f"day-{day}")
            if box.is_selected() != checked:
                box.click()
        for element_id, value in (("alarm-duration", minutes), ("alarm-target", percent)):
            if value is not None:
                field = self.find(element_id)
                field.clear()
                field.send_keys(value)
        if curve is not None:
            Select(self.find("alarm-curve")).select_by_visible_text(curve)


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


async def test_sunset_start_progress_and_stop(page: Page, connect: Callable[..., Any]) -> None:
    device = page.device
    await device.server.controller.set_light({"brightness": 150.0})
    await logged_in(page)

    def start_sunset() -> None:
        duration = page.find("sunset-duration")
        duration.clear()
        duration.send_keys("2")
        page.find("sunset-start").click()

    await in_thread(start_sunset)
    await in_thread(page.wait_shown, "sunset-running")
    sunset = state(device)["sunset"]
    assert sunset is not None
    assert (sunset["duration"], sunset["start_brightness"]) == (120.0, 150.0)
    assert not await in_thread(page.shown, "sunset-form")
    summary = await in_thread(page.wait_text, "sunset-summary", r"from 59%\.$")
    assert re.search(r"^Off at .+ \(2 min left\)", summary), summary
    await in_thread(lambda: page.find("sunset-stop").click())
    await in_thread(page.wait_shown, "sunset-form")
    assert state(device)["sunset"] is None
    assert state(device)["on"] is True  # it holds the level reached
    # One started elsewhere (the bedside button, Home Assistant) shows up too.
    other: Client = await connect()
    await other.call("sunset.start", {"duration": 600})
    await in_thread(page.wait_shown, "sunset-running")
    await in_thread(page.wait_text, "sunset-summary", r"\(10 min left\)")


async def test_snooze_countdown_and_dismiss(page: Page, connect: Callable[..., Any]) -> None:
    device = page.device
    await logged_in(page)
    assert not await in_thread(page.shown, "wake")  # no alarm: no snooze or dismiss
    await device.server.controller.start_sunrise(
        {"duration": 600.0, "target_brightness": 200.0, "start_brightness": 40.0,
         "curve": "linear"},
        alarm_id="wake",
    )  # fmt: skip
    await in_thread(page.wait_shown, "wake")
    await in_thread(page.wait_text, "wake-summary", r"^Your alarm is waking you: full light at ")
    await in_thread(page.screenshot, "phone-alarm-waking")
    await in_thread(lambda: page.find("snooze").click())
    await eventually(lambda: (state(device)["alarm"] or {}).get("snoozes") == 1)
    assert state(device)["level"] == 0.0
    # The countdown runs down by itself, once a second (9 minutes by default).
    first = await in_thread(
        page.wait_text, "wake-summary", r"^Snoozed: the sunrise goes on in 8:5\d"
    )
    await in_thread(page.wait, lambda _: page.text("wake-summary") != first, "countdown moved")
    later = await in_thread(page.text, "wake-summary")
    assert re.match(r"^Snoozed: the sunrise goes on in 8:[45]\d \(at .+\); full light at ", later)
    assert later < first  # 8:58 after 8:59
    await in_thread(page.screenshot, "phone-alarm-snoozed")
    await in_thread(lambda: page.find("dismiss").click())
    await in_thread(page.wait_shown, "wake", False)
    assert state(device)["alarm"] is None
    # A press that comes too late (the alarm ended elsewhere) says why.
    await in_thread(page.js, "$('snooze').click()")
    await in_thread(page.wait_text, "error", r"^No alarm is in progress any more")


async def test_wake_settings_form(page: Page, connect: Callable[..., Any]) -> None:
    device = page.device
    await logged_in(page)

    def values() -> tuple[str, str, str, str]:
        return tuple(  # type: ignore[return-value]
            str(page.find(element_id).get_attribute("value"))
            for element_id in ("snooze-length", "snooze-level", "dismiss-action", "after-wake")
        )

    assert await in_thread(values) == ("9", "0", "keep", "30")

    def fill() -> None:
        for element_id, value in (("snooze-length", "15"), ("snooze-level", "10"),
                                  ("after-wake", "60")):  # fmt: skip
            field = page.find(element_id)
            field.clear()
            field.send_keys(value)
        Select(page.find("dismiss-action")).select_by_visible_text("Turn the light off")
        page.find("wake-settings-save").click()

    await in_thread(fill)
    await eventually(lambda: state(device)["wake_settings"]["dismiss"] == "off")
    assert state(device)["wake_settings"] == {
        "snooze_length": 900.0,
        "snooze_level": float(to_wire(10)),
        "dismiss": "off",
        "after_wake": 3600.0,
    }
    await in_thread(page.wait_text, "wake-settings-status", "saved")

    # Out of range: the form says so and sends nothing.
    def too_long() -> None:
        field = page.find("snooze-length")
        field.clear()
        field.send_keys("45")
        page.find("wake-settings-save").click()

    await in_thread(too_long)
    assert await in_thread(page.js, "return $('snooze-length').validity.rangeOverflow") is True
    assert state(device)["wake_settings"]["snooze_length"] == 900.0
    # Changed elsewhere: the form follows (once it is not being edited).
    await in_thread(page.js, "document.activeElement.blur()")
    other: Client = await connect()
    await other.call("wake_settings.set", {"snooze_length": 300, "dismiss": "keep"})
    await in_thread(page.wait, lambda _: values() == ("5", "10", "keep", "60"), "form follows")


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


# -- alarms ---------------------------------------------------------------------------


async def create_alarm(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """Create an alarm over REST (as another client would); return it."""
    response = await http.post("/api/alarms", json=fields)
    assert response.status_code == 201, response.text
    return dict(response.json()["alarm"])


def device_alarm(device: Device, alarm_id: str) -> dict[str, Any]:
    """An alarm as the device reports it."""
    return dict(device.server.alarms.payload(device.server.alarms.get(alarm_id)))


def record_commands(device: Device) -> list[tuple[str, Any]]:
    """From now on, the list of the commands the device carries out (event, payload)."""
    sent: list[tuple[str, Any]] = []
    execute = device.server.execute

    async def spy(event: str, payload: Any) -> Any:
        sent.append((event, payload))
        return await execute(event, payload)

    device.server.execute = spy  # type: ignore[method-assign]
    return sent


async def test_alarms_are_listed(page: Page, http: httpx.AsyncClient) -> None:
    workdays = await create_alarm(http, time="06:30", weekdays=[0, 1, 2, 3, 4])
    weekend = await create_alarm(
        http, time="09:15", weekdays=[5, 6], duration=600, target_brightness=128, curve="ease_in"
    )
    off = await create_alarm(http, time="05:00", weekdays=[0, 2, 4], enabled=False)
    await in_thread(page.scheme, "light")
    await in_thread(
        page.driver.execute_cdp_cmd,
        "Emulation.setTimezoneOverride",
        {"timezoneId": "Europe/Berlin"},
    )
    try:
        await logged_in(page)
        assert await in_thread(page.shown, "alarms")
        listed = await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 3, "3 alarms")
        zone = await in_thread(page.text, "alarm-zone")
    finally:
        await in_thread(
            page.driver.execute_cdp_cmd, "Emulation.setTimezoneOverride", {"timezoneId": ""}
        )
    assert zone == (
        f"Alarm times are in the device's time zone, {DEVICE_ZONE} "
        "(this browser is on Europe/Berlin)."
    )
    # Oldest first, each with its time, days, sunrise and next occurrence (device time).
    assert listed == [
        {
            "id": workdays["id"],
            "time": "06:30",
            "days": "Mon\N{EN DASH}Fri",
            "sunrise": "30 min sunrise to 100%, even",
            "next": f"Next sunrise: {sunrise_text(workdays['next_sunrise'])}",
            "skip": "Skip next",
            "on": True,
            "switch": "On",
        },
        {
            "id": weekend["id"],
            "time": "09:15",
            "days": "Sat, Sun",
            "sunrise": "10 min sunrise to 50%, slow start",
            "next": f"Next sunrise: {sunrise_text(weekend['next_sunrise'])}",
            "skip": "Skip next",
            "on": True,
            "switch": "On",
        },
        {
            "id": off["id"],
            "time": "05:00",
            "days": "Mon, Wed, Fri",
            "sunrise": "30 min sunrise to 100%, even",
            "next": "Off",
            "skip": "Skip next",
            "on": False,
            "switch": "Off",
        },
    ]
    # The next alarm sunrise of all, from the state.
    upcoming = page.device.server.state()["next_sunrise"]
    assert upcoming is not None
    await in_thread(page.wait_text, "next-sunrise", "^Next sunrise")
    assert await in_thread(page.text, "next-sunrise") == (f"Next sunrise: {sunrise_text(upcoming)}")
    assert not await in_thread(page.shown, "alarm-empty")
    assert not await in_thread(page.shown, "alarm-limit")
    # Every control is named after its alarm.
    names = await in_thread(page.control_names)
    assert names["alarm-0-enabled"] == "06:30 Mon\N{EN DASH}Fri"
    assert names["alarm-1-edit"] == "Edit 09:15 Sat, Sun"
    assert names["alarm-2-skip"] == "Skip next 05:00 Mon, Wed, Fri"
    assert names["alarm-2-delete"] == "Delete 05:00 Mon, Wed, Fri"
    await in_thread(page.screenshot, "phone-alarms")
    assert await in_thread(page.console_errors) == []


async def test_alarm_create_and_edit(page: Page) -> None:
    device = page.device
    await logged_in(page)
    await in_thread(page.wait_shown, "alarm-empty")
    assert await in_thread(page.text, "next-sunrise") == "No alarm sunrise coming up."

    # Create: 06:45 on weekdays and Sunday, a 20-minute sunrise to 50%, slow end.
    await in_thread(
        lambda: page.fill_alarm(
            time_keys="0645A", days={6: True}, minutes="20", percent="50", curve="Slow end"
        )
    )
    await in_thread(lambda: page.find("alarm-save").click())
    await eventually(lambda: len(device.server.alarms.alarms) == 1)
    alarm = device.server.alarms.alarms[0]
    assert (alarm.time, alarm.weekdays, alarm.enabled) == ("06:45", (0, 1, 2, 3, 4, 6), True)
    assert (alarm.duration, alarm.target_brightness, alarm.curve) == (1200, 128, "ease_out")
    listed = await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 1, "1 alarm")
    assert listed[0]["days"] == "Mon\N{EN DASH}Fri, Sun"
    assert listed[0]["sunrise"] == "20 min sunrise to 50%, slow end"
    assert listed[0]["next"] == (
        f"Next sunrise: {sunrise_text(device_alarm(device, alarm.id)['next_sunrise'])}"
    )
    assert not await in_thread(page.shown, "alarm-empty")
    await in_thread(page.wait_text, "next-sunrise", "^Next sunrise: ")
    # The form is ready for the next one.
    assert await in_thread(lambda: page.find("alarm-time").get_attribute("value")) == "07:00"
    assert await in_thread(page.text, "alarm-status") == "Alarm 06:45 Mon\N{EN DASH}Fri, Sun added."

    # Edit: the form opens with the alarm's values; only what changes is sent, so the
    # brightness (128, shown as 50%) stays exactly as it was.
    await in_thread(lambda: page.alarm_button(alarm.id, "edit").click())
    await in_thread(page.wait_text, "alarm-form-title", "^Edit the 06:45 alarm$")
    assert await in_thread(page.focused) == "alarm-time"
    assert await in_thread(page.text, "alarm-save") == "Save alarm"
    assert await in_thread(page.shown, "alarm-cancel")
    form = await in_thread(
        page.js,
        "return {time: $('alarm-time').value, minutes: $('alarm-duration').value,"
        " percent: $('alarm-target').value, curve: $('alarm-curve').value,"
        " days: [...$('alarm-days').querySelectorAll('input')].map((box) => box.checked)}",
    )
    assert form == {
        "time": "06:45",
        "minutes": "20",
        "percent": "50",
        "curve": "ease_out",
        "days": [True, True, True, True, True, False, True],
    }
    await in_thread(page.screenshot, "phone-alarm-edit")
    sent = record_commands(device)
    await in_thread(lambda: page.fill_alarm(days={0: False}, minutes="45"))
    await in_thread(lambda: page.find("alarm-save").click())
    await eventually(lambda: device.server.alarms.alarms[0].duration == 2700)
    assert sent == [
        ("alarm.update", {"id": alarm.id, "weekdays": [1, 2, 3, 4, 6], "duration": 2700})
    ]
    alarm = device.server.alarms.alarms[0]
    assert (alarm.time, alarm.weekdays, alarm.target_brightness) == ("06:45", (1, 2, 3, 4, 6), 128)
    await in_thread(page.wait_text, "alarm-form-title", "^New alarm$")
    assert not await in_thread(page.shown, "alarm-cancel")
    assert await in_thread(page.focused) == "alarm-0-edit"  # back where editing started
    listed = await in_thread(
        page.wait_alarms, lambda alarms: alarms[0]["days"] == "Tue\N{EN DASH}Fri, Sun", "edited"
    )
    assert listed[0]["sunrise"] == "45 min sunrise to 50%, slow end"

    # Cancel leaves an alarm as it was.
    await in_thread(lambda: page.alarm_button(alarm.id, "edit").click())
    await in_thread(lambda: page.fill_alarm(minutes="90"))
    await in_thread(lambda: page.find("alarm-cancel").click())
    await in_thread(page.wait_text, "alarm-form-title", "^New alarm$")
    assert await in_thread(page.focused) == "alarm-0-edit"
    assert await in_thread(lambda: page.find("alarm-duration").get_attribute("value")) == "30"
    assert device.server.alarms.alarms[0].duration == 2700
    assert await in_thread(page.console_errors) == []


async def test_alarm_names_are_shown_and_edited(page: Page, http: httpx.AsyncClient) -> None:
    device = page.device
    work = await create_alarm(http, time="06:30", weekdays=[0, 1, 2, 3, 4], name="Work")
    plain = await create_alarm(http, time="07:00", weekdays=[5, 6])
    await logged_in(page)
    await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 2, "2 alarms")
    shown = "return [...$('alarm-list').querySelectorAll('.alarm-name')].map((e) => e.textContent)"
    # Its own name beside the time; one named by its wake time shows the time once.
    assert await in_thread(page.js, shown) == ["Work", ""]
    names = await in_thread(page.control_names)
    assert names["alarm-0-enabled"] == "Work 06:30 Mon\N{EN DASH}Fri"
    assert names["alarm-1-edit"] == "Edit 07:00 Sat, Sun"

    sent = record_commands(device)
    # Name the unnamed one.
    await in_thread(lambda: page.alarm_button(plain["id"], "edit").click())
    await in_thread(page.wait_text, "alarm-form-title", "^Edit the 07:00 alarm$")
    assert await in_thread(lambda: page.find("alarm-name").get_attribute("value")) == ""
    await in_thread(lambda: page.find("alarm-name").send_keys("Weekend"))
    await in_thread(lambda: page.find("alarm-save").click())
    await eventually(lambda: device.server.alarms.get(plain["id"]).name == "Weekend")
    assert sent == [("alarm.update", {"id": plain["id"], "name": "Weekend"})]
    await in_thread(page.wait_alarms, lambda _: True, "listed")
    await in_thread(page.wait, lambda _: page.js(shown) == ["Work", "Weekend"], "renamed")

    # Clearing the name takes it away: named by the wake time again.
    await in_thread(lambda: page.alarm_button(work["id"], "edit").click())
    await in_thread(page.wait_text, "alarm-form-title", "^Edit the alarm Work \\(06:30\\)$")
    assert await in_thread(lambda: page.find("alarm-name").get_attribute("value")) == "Work"
    await in_thread(lambda: page.find("alarm-name").clear())
    await in_thread(lambda: page.find("alarm-save").click())
    await eventually(lambda: device.server.alarms.get(work["id"]).name is None)
    assert sent[-1] == ("alarm.update", {"id": work["id"], "name": None})
    await in_thread(page.wait, lambda _: page.js(shown) == ["", "Weekend"], "name taken away")

    # A new alarm takes the name typed, trimmed; without one it has none.
    await in_thread(lambda: page.find("alarm-name").send_keys("  Nap "))
    await in_thread(lambda: page.find("alarm-save").click())
    await eventually(lambda: len(device.server.alarms.alarms) == 3)
    assert device.server.alarms.alarms[2].name == "Nap"
    assert sent[-1][1]["name"] == "Nap"
    await in_thread(page.wait_text, "alarm-status", "^Alarm Nap 07:00 ")
    assert await in_thread(lambda: page.find("alarm-name").get_attribute("value")) == ""
    assert await in_thread(page.console_errors) == []


async def test_one_off_alarms_are_shown_and_edited(page: Page, http: httpx.AsyncClient) -> None:
    device = page.device
    zone = device.server.alarms.tz
    in_two_weeks = datetime.now(zone).date() + timedelta(days=14)
    await logged_in(page)
    await in_thread(page.wait_shown, "alarm-empty")
    sent = record_commands(device)

    # A date turns the days off: the alarm rings once, on that date.
    await in_thread(lambda: page.fill_alarm(time_keys="0645A"))
    await in_thread(lambda: page.js("$('alarm-date').focus()"))  # the month part (en-US)
    await in_thread(lambda: page.find("alarm-date").send_keys(f"{in_two_weeks:%m%d%Y}"))
    assert await in_thread(page.js, "return $('alarm-days').disabled") is True
    await in_thread(lambda: page.find("alarm-save").click())
    await eventually(lambda: len(device.server.alarms.alarms) == 1)
    alarm = device.server.alarms.alarms[0]
    assert (alarm.date, alarm.weekdays) == (in_two_weeks, (in_two_weeks.weekday(),))
    assert sent[0][0] == "alarm.create"
    assert sent[0][1]["date"] == in_two_weeks.isoformat()
    assert "weekdays" not in sent[0][1]
    shown_date = await in_thread(
        page.js,
        "return new Date(Date.UTC(...arguments[0])).toLocaleDateString(undefined,"
        " {timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric'})",
        [in_two_weeks.year, in_two_weeks.month - 1, in_two_weeks.day],
    )
    listed = await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 1, "1 alarm")
    assert listed[0]["days"] == f"once, {shown_date}"
    assert listed[0]["next"].startswith("Next sunrise: ")
    assert await in_thread(page.text, "alarm-status") == f"Alarm 06:45 once, {shown_date} added."
    # The form is weekly again for the next one.
    assert await in_thread(page.js, "return [$('alarm-date').value, $('alarm-days').disabled]") == [
        "",
        False,
    ]

    # Editing shows the date; clearing it makes the alarm weekly on the boxes ticked.
    await in_thread(lambda: page.alarm_button(alarm.id, "edit").click())
    await in_thread(page.wait_text, "alarm-form-title", "^Edit the 06:45 alarm$")
    assert await in_thread(lambda: page.find("alarm-date").get_attribute("value")) == (
        in_two_weeks.isoformat()
    )
    await in_thread(
        lambda: page.js(
            "$('alarm-date').value = ''; $('alarm-date').dispatchEvent(new Event('input'))"
        )
    )
    await in_thread(lambda: page.fill_alarm(days={5: True}))
    await in_thread(lambda: page.find("alarm-save").click())
    await eventually(lambda: device.server.alarms.alarms[0].date is None)
    days = sorted({in_two_weeks.weekday(), 5})
    assert sent[-1] == ("alarm.update", {"id": alarm.id, "date": None, "weekdays": days})
    assert device.server.alarms.alarms[0].weekdays == tuple(days)

    # One that fired (off, its date gone by) says it is off, and keeps its date.
    fired = await create_alarm(
        http, time="06:30", date=(in_two_weeks - timedelta(days=20)).isoformat(), enabled=False
    )
    listed = await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 2, "2 alarms")
    assert listed[1]["days"].startswith("once, ")
    assert (listed[1]["on"], listed[1]["next"]) == (False, "Off")
    assert fired["date"] == (in_two_weeks - timedelta(days=20)).isoformat()
    assert await in_thread(page.console_errors) == []


async def test_alarm_switch_skip_and_delete(page: Page, http: httpx.AsyncClient) -> None:
    device = page.device
    made = await create_alarm(http, time="06:45", weekdays=[1, 2, 3, 4, 6])
    alarm = device.server.alarms.get(made["id"])
    await logged_in(page)
    await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 1, "1 alarm")

    # Disable and enable again with the switch.
    await in_thread(lambda: page.alarm_button(alarm.id, "enabled").click())
    await eventually(lambda: not device.server.alarms.alarms[0].enabled)
    listed = await in_thread(page.wait_alarms, lambda alarms: not alarms[0]["on"], "off")
    assert (listed[0]["switch"], listed[0]["next"]) == ("Off", "Off")
    await in_thread(page.wait_text, "next-sunrise", "^No alarm sunrise coming up.$")
    await in_thread(lambda: page.alarm_button(alarm.id, "enabled").click())
    await eventually(lambda: device.server.alarms.alarms[0].enabled)
    await in_thread(page.wait_alarms, lambda alarms: alarms[0]["on"], "on")

    # Skip the next one, then un-skip it.
    await in_thread(lambda: page.alarm_button(alarm.id, "skip").click())
    await eventually(lambda: device_alarm(device, alarm.id)["skip_next"])
    skipped = device_alarm(device, alarm.id)
    listed = await in_thread(
        page.wait_alarms, lambda alarms: alarms[0]["skip"] == "Undo skip", "skipped"
    )
    assert listed[0]["next"] == f"Next one skipped; then {sunrise_text(skipped['next_sunrise'])}"
    await in_thread(lambda: page.alarm_button(alarm.id, "skip").click())
    await eventually(lambda: not device_alarm(device, alarm.id)["skip_next"])
    listed = await in_thread(
        page.wait_alarms, lambda alarms: alarms[0]["skip"] == "Skip next", "un-skipped"
    )
    assert listed[0]["next"].startswith("Next sunrise: ")

    # Delete asks first: "Cancel" keeps it, "OK" deletes it.
    def delete(accept: bool) -> str:
        page.alarm_button(alarm.id, "delete").click()
        dialog = page.wait(lambda driver: driver.switch_to.alert, "confirm dialog")
        question = str(dialog.text)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()
        return question

    assert await in_thread(delete, False) == "Delete the alarm 06:45 Tue\N{EN DASH}Fri, Sun?"
    await asyncio.sleep(0.3)
    assert len(device.server.alarms.alarms) == 1
    await in_thread(delete, True)
    await eventually(lambda: device.server.alarms.alarms == [])
    await in_thread(page.wait_shown, "alarm-empty")
    assert await in_thread(page.alarms) == []
    assert await in_thread(page.focused) == "alarms-title"  # not lost with the button
    assert await in_thread(page.console_errors) == []


async def test_alarm_refusals_and_the_limit(page: Page, http: httpx.AsyncClient) -> None:
    device = page.device
    for n in range(MAX_ALARMS - 1):
        await create_alarm(http, time=f"05:{n:02d}")
    await logged_in(page)
    await in_thread(page.wait_alarms, lambda alarms: len(alarms) == MAX_ALARMS - 1, "19 alarms")

    # A value the device refuses (a page that let it through): its message is shown.
    def create_too_long() -> None:
        page.js("$('alarm-duration').removeAttribute('max')")
        page.fill_alarm(minutes="500")
        page.find("alarm-save").click()

    await in_thread(create_too_long)
    message = await in_thread(page.wait_text, "error", "refused")
    assert message.startswith("The device refused that: ")
    assert "duration" in message
    assert message.endswith("(invalid_payload)")
    # On show where the form is, far down the page.
    assert await in_thread(
        page.js,
        "const box = $('error').getBoundingClientRect();"
        "return scrollY > 500 && box.top >= 0 && box.bottom <= innerHeight",
    )
    assert len(device.server.alarms.alarms) == MAX_ALARMS - 1

    # The 20th is the last: the form makes way for a note.
    def create_last() -> None:
        page.fill_alarm(minutes="30")
        page.find("alarm-save").click()

    await in_thread(create_last)
    await in_thread(page.wait_shown, "alarm-limit")
    assert len(device.server.alarms.alarms) == MAX_ALARMS
    assert not await in_thread(page.shown, "error")  # the command that worked cleared it
    assert not await in_thread(page.shown, "alarm-form")
    limit = " ".join((await in_thread(page.text, "alarm-limit")).split())
    assert limit == "The device keeps at most 20 alarms: delete one to add another."
    assert await in_thread(page.focused) == "alarms-title"
    assert len(await in_thread(page.alarms)) == MAX_ALARMS
    # Editing still works at the limit.
    first = device.server.alarms.alarms[0].id
    await in_thread(lambda: page.alarm_button(first, "edit").click())
    await in_thread(page.wait_shown, "alarm-form")
    await in_thread(lambda: page.find("alarm-cancel").click())
    await in_thread(page.wait_shown, "alarm-form", False)

    # A page that tries anyway gets the device's refusal.
    def create_one_more() -> None:
        page.js("$('alarm-form').hidden = false")
        page.find("alarm-save").click()

    await in_thread(create_one_more)
    message = await in_thread(page.wait_text, "error", "refused")
    assert message == "The device refused that: there are 20 alarms already (limit_reached)"
    assert len(device.server.alarms.alarms) == MAX_ALARMS
    await in_thread(page.screenshot, "phone-alarm-limit")


async def test_alarms_changed_elsewhere_show_up(
    page: Page, http: httpx.AsyncClient, connect: Callable[..., Any]
) -> None:
    """Needs the device's pushed ``alarms`` (protocol 2): no reload, no command of its own."""
    await logged_in(page)
    await in_thread(page.wait_shown, "alarm-empty")
    other: Client = await connect()

    made = await create_alarm(http, time="06:30", weekdays=[0, 1, 2, 3, 4])
    listed = await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 1, "REST alarm")
    assert (listed[0]["id"], listed[0]["time"], listed[0]["days"]) == (
        made["id"],
        "06:30",
        "Mon\N{EN DASH}Fri",
    )
    await in_thread(page.wait_text, "next-sunrise", "^Next sunrise: ")

    ack = await other.call("alarm.update", {"id": made["id"], "time": "07:10"})
    assert ack["ok"], ack
    await in_thread(page.wait_alarms, lambda alarms: alarms[0]["time"] == "07:10", "updated")
    assert (await http.post(f"/api/alarms/{made['id']}/skip")).status_code == 200
    await in_thread(page.wait_alarms, lambda alarms: alarms[0]["skip"] == "Undo skip", "skipped")

    # Being edited here while deleted elsewhere: the form lets go of it and says so.
    await in_thread(lambda: page.alarm_button(made["id"], "edit").click())
    await in_thread(page.wait_text, "alarm-form-title", "^Edit the 07:10 alarm$")
    assert (await other.call("alarm.delete", {"id": made["id"]}))["ok"]
    await in_thread(page.wait_shown, "alarm-empty")
    await in_thread(page.wait_text, "alarm-form-title", "^New alarm$")
    assert await in_thread(page.text, "alarm-status") == "The alarm you were editing was deleted."
    assert await in_thread(page.text, "next-sunrise") == "No alarm sunrise coming up."


async def test_alarms_from_a_device_without_the_push(page: Page, http: httpx.AsyncClient) -> None:
    """A protocol 1 device pushes no ``alarms``: the page asks for them on connecting."""
    device = page.device
    emit = device.server.sio.emit

    async def emit_but_alarms(event: str, *args: Any, **kwargs: Any) -> Any:
        if event != "alarms":
            await emit(event, *args, **kwargs)

    device.server.sio.emit = emit_but_alarms  # type: ignore[method-assign]
    first = await create_alarm(http, time="06:30")
    await logged_in(page)
    listed = await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 1, "listed")
    assert (listed[0]["id"], listed[0]["days"]) == (first["id"], "Every day")
    # Made elsewhere meanwhile: shown with the answer to the page's next alarm command.
    second = await create_alarm(http, time="07:30")
    await in_thread(lambda: page.alarm_button(first["id"], "skip").click())
    listed = await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 2, "both")
    assert [alarm["id"] for alarm in listed] == [first["id"], second["id"]]


async def test_alarms_by_keyboard(page: Page, http: httpx.AsyncClient) -> None:
    device = page.device
    made = await create_alarm(http, time="06:30", weekdays=[0, 1, 2, 3, 4])
    await logged_in(page)
    await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 1, "1 alarm")

    # From the sunrise form's button, Tab reaches the alarm's switch; Space turns it off
    # and the focus stays on it although the list is drawn anew.
    await in_thread(page.js, "$('sunrise-start').focus()")
    await in_thread(page.key, Keys.TAB)
    assert await in_thread(page.focused) == "alarm-0-enabled"
    await in_thread(page.key, Keys.SPACE)
    await eventually(lambda: not device.server.alarms.alarms[0].enabled)
    await in_thread(page.wait_alarms, lambda alarms: not alarms[0]["on"], "off")
    assert await in_thread(page.focused) == "alarm-0-enabled"

    # Tab to Edit, Enter: the form takes the focus; a new time and Enter save it.
    await in_thread(page.key, Keys.TAB)
    assert await in_thread(page.focused) == "alarm-0-edit"
    await in_thread(page.key, Keys.ENTER)
    await in_thread(page.wait, lambda _: page.focused() == "alarm-time")
    await in_thread(page.key, "0715A", Keys.ENTER)
    await eventually(lambda: device.server.alarms.alarms[0].time == "07:15")
    await in_thread(page.wait_alarms, lambda alarms: alarms[0]["time"] == "07:15", "saved")
    assert await in_thread(page.focused) == "alarm-0-edit"
    assert not device.server.alarms.alarms[0].enabled  # untouched by the edit

    # Skip with Enter; a new alarm with the keyboard only: Space ticks Saturday.
    await in_thread(page.key, Keys.TAB, Keys.ENTER)
    await eventually(lambda: device_alarm(device, made["id"])["skip_next"])
    await in_thread(page.js, "$('day-5').focus()")
    await in_thread(page.key, Keys.SPACE)
    assert await in_thread(lambda: page.find("day-5").is_selected())
    await in_thread(page.key, Keys.TAB, Keys.TAB, Keys.ENTER)  # past Sunday, onto Add
    await eventually(lambda: len(device.server.alarms.alarms) == 2)
    assert device.server.alarms.alarms[1].weekdays == (0, 1, 2, 3, 4, 5)

    # No day at all is refused by the form itself, with a message on the first box.
    def untick_all() -> None:
        for day in range(7):
            if page.find(f"day-{day}").is_selected():
                page.find(f"day-{day}").click()
        page.find("alarm-save").click()

    await in_thread(untick_all)
    message = await in_thread(page.js, "return $('day-0').validationMessage")
    assert message == "Choose at least one day."
    await asyncio.sleep(0.3)
    assert len(device.server.alarms.alarms) == 2


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
    assert not await in_thread(lambda: page.find("alarm-save").is_enabled())
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
        "alarm-time": "Wake time",
        "alarm-name": "Name (optional)",
        "alarm-date": "Date (optional)",
        "alarm-duration": "Duration (minutes)",
        "alarm-target": "Target brightness (%)",
        "alarm-curve": "Curve",
        **{
            f"day-{n}": name
            for n, name in enumerate(
                ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
            )
        },
        "alarm-save": "Add alarm",
        "sunset-duration": "Duration (minutes)",
        "sunset-start": "Start sunset",
        "snooze-length": "Snooze length (minutes)",
        "snooze-level": "Light while snoozed (%)",
        "dismiss-action": "On dismiss",
        "after-wake": "After the wake time (minutes)",
        "wake-settings-save": "Save",
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

    Also takes the screenshots for the README (``desktop-light.png`` is
    ``docs/web-page.png``): the device resumes a sunrise that started 11 minutes ago (from
    its state file, as after a restart), so it is well under way, and has two alarms.
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
                "alarms": [
                    {
                        "id": "a1",
                        "time": "06:30",
                        "weekdays": [0, 1, 2, 3, 4],
                        "enabled": True,
                        "duration": 1800.0,
                        "target_brightness": 255.0,
                        "curve": "linear",
                    },
                    {
                        "id": "a2",
                        "time": "08:15",
                        "weekdays": [5, 6],
                        "enabled": False,
                        "duration": 2700.0,
                        "target_brightness": 191.0,
                        "curve": "ease_in",
                    },
                ],
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
    await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 2, "2 alarms")
    await in_thread(page.wait_text, "alarm-zone", DEVICE_ZONE)

    def layout() -> dict[str, Any]:
        return dict(
            page.js(
                "const box = (id) => $(id).closest('.card').getBoundingClientRect().toJSON();"
                "const at = (id) => $(id).getBoundingClientRect().toJSON();"
                "return {light: box('power'), sunrise: box('sunrise-stop'), alarms: box('alarms'),"
                " list: at('alarm-list'), form: at('alarm-form'),"
                " width: document.documentElement.scrollWidth, view: innerWidth}"
            )
        )

    phone = await in_thread(layout)
    assert phone["width"] <= phone["view"] == PHONE[0]  # no sideways scrolling
    assert phone["sunrise"]["top"] >= phone["light"]["bottom"]  # stacked
    assert phone["alarms"]["top"] >= phone["sunrise"]["bottom"]
    assert phone["form"]["top"] >= phone["list"]["bottom"]
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
    # The alarms below them, as wide as both, with the list and the form side by side.
    assert desktop["alarms"]["top"] >= desktop["sunrise"]["bottom"]
    assert desktop["alarms"]["left"] == desktop["light"]["left"]
    assert desktop["alarms"]["right"] == desktop["sunrise"]["right"]
    assert desktop["form"]["top"] == desktop["list"]["top"]
    assert desktop["form"]["left"] > desktop["list"]["right"]
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
    # The token form with an error, then the controls with a running sunrise and alarms:
    # one on, one off with its next one skipped, and the form editing the first.
    await in_thread(page.login, "wrong")
    await in_thread(page.wait_shown, "error")
    assert await in_thread(page.js, CONTRAST_JS) == []
    other: Client = await connect()
    first = (await other.call("alarm.create", {"time": "06:30"}))["alarm"]
    second = (await other.call("alarm.create", {"time": "08:00", "enabled": False}))["alarm"]
    await other.call("alarm.skip_next", {"id": second["id"], "skip": True})
    await logged_in(page)
    await other.call("sunrise.start", {"duration": 600})
    await in_thread(page.wait_shown, "sunrise-running")
    await in_thread(page.wait_alarms, lambda alarms: len(alarms) == 2, "2 alarms")
    await in_thread(lambda: page.alarm_button(first["id"], "edit").click())
    await in_thread(page.wait_shown, "alarm-cancel")
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


def test_the_page_limits_are_the_protocols() -> None:
    """The form fields' bounds are the protocol's (the page cannot import them)."""
    html = (WEB_DIR / "index.html").read_text()

    def attributes(element_id: str) -> dict[str, str]:
        tag = re.search(rf'<input id="{element_id}"[^>]*>', html)
        assert tag is not None, element_id
        return dict(re.findall(r'([a-z-]+)="([^"]*)"', tag[0]))

    for element_id in ("sunrise-duration", "alarm-duration"):
        field = attributes(element_id)
        assert (int(field["min"]), int(field["max"])) == (SUNRISE_MINUTES_MIN, SUNRISE_MINUTES_MAX)
    assert int(attributes("alarm-name")["maxlength"]) == ALARM_NAME_MAX_LENGTH
    script = (WEB_DIR / "app.js").read_text()
    assert f"const MAX_ALARMS = {MAX_ALARMS};" in script


# -- colour ----------------------------------------------------------------------------

RGB_CHANNELS = (("red", "17"), ("green", "27"), ("blue", "22"))


def set_input(page: Page, element_id: str, value: str) -> None:
    """Set an input as a user would (``input``, then ``change``)."""
    page.js(
        "const e = $(arguments[0]); e.value = arguments[1];"
        "e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change'))",
        element_id,
        value,
    )


async def test_single_channel_page_shows_no_colour(page: Page) -> None:
    await logged_in(page)
    for element_id in ("colour-fields", "sunrise-color-field", "alarm-color-field"):
        assert not await in_thread(page.shown, element_id), element_id


async def test_colour_controls_sunrise_colour_and_alarm_paths(
    browser: WebDriver, start_device: Callable[..., Any]
) -> None:
    device: Device = await start_device(channels=RGB_CHANNELS)
    page = Page(browser, device)
    await in_thread(page.size, *DESKTOP)
    await in_thread(page.open)
    try:
        await logged_in(page)
        await in_thread(page.wait_shown, "colour-fields")
        assert await in_thread(page.shown, "colour-field")  # RGB: a colour control too
        assert await in_thread(page.js, "return [$('kelvin').min, $('kelvin').max]") == [
            "2000",
            "6500",
        ]

        await in_thread(set_input, page, "kelvin", "5000")
        await eventually(lambda: state(device).get("color_temp_kelvin") == 5000)
        await in_thread(page.wait_text, "kelvin-value", r"^5000 K$")
        await in_thread(set_input, page, "colour", "#ff0000")
        await eventually(lambda: state(device).get("rgb_color") == [255, 0, 0])
        assert state(device)["color_temp_kelvin"] is None

        # A sunrise from the form with a colour path; its colour shows while it runs.
        def start_sunrise() -> None:
            Select(page.find("sunrise-color")).select_by_visible_text("Red to white")
            page.find("sunrise-start").click()

        await in_thread(start_sunrise)
        await in_thread(page.wait_shown, "sunrise-running")
        assert state(device)["sunrise"]["color_path"] == "sunrise"
        text = await in_thread(page.wait_text, "sunrise-colour-text", r"Colour now: \d+ K")
        assert "red to white" in text
        swatch = await in_thread(
            page.js, "return getComputedStyle($('sunrise-swatch')).backgroundColor"
        )
        red, green, blue = (int(c) for c in re.findall(r"\d+", swatch)[:3])
        assert red == 255
        assert blue < green < red  # the red-orange of dawn
        await in_thread(lambda: page.find("sunrise-stop").click())

        # An alarm with a colour path, listed and edited.
        def add_alarm() -> None:
            page.fill_alarm(time_keys="0715AM")
            Select(page.find("alarm-color")).select_by_visible_text("Warm white")
            page.find("alarm-save").click()

        await in_thread(add_alarm)
        alarms = await in_thread(page.wait_alarms, lambda a: len(a) == 1, "one alarm")
        assert alarms[0]["sunrise"].endswith(", warm white")
        alarm_id = alarms[0]["id"]
        assert device.server.alarms.get(alarm_id).color_path == "warm"

        def edit_alarm() -> None:
            page.alarm_button(alarm_id, "edit").click()
            assert Select(page.find("alarm-color")).first_selected_option.text == "Warm white"
            Select(page.find("alarm-color")).select_by_visible_text("One colour")
            page.find("alarm-save").click()

        await in_thread(edit_alarm)
        await in_thread(
            page.wait_alarms, lambda a: a[0]["sunrise"].endswith(", one colour"), "edited"
        )
        assert device.server.alarms.get(alarm_id).color_path == "white"
        await in_thread(page.screenshot, "desktop-colour")
        assert await in_thread(page.console_errors) == []
    finally:
        await in_thread(browser.get, "about:blank")
