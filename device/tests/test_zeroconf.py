"""Zeroconf: the device advertises ``_daybreak._tcp.local.``; found by a real browser.

Everything stays on loopback: the devices bind 127.0.0.1, so they advertise on that
interface only, and the browsing side is a second python-zeroconf instance that
listens and queries on 127.0.0.1 too (multicast on ``lo`` works on Linux). No mDNS
packet goes to any other interface. Other programs on the machine may advertise on
loopback as well, so the tests look only at the names they chose.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from daybreak_device import __version__, discovery
from daybreak_device.cli import build_parser
from daybreak_device.config import load_settings
from daybreak_device.discovery import SERVICE_TYPE, advertising_plan, machine_addresses
from daybreak_device.protocol import PROTOCOL_VERSION
from helpers import Device

pytestmark = pytest.mark.timeout(60)


class Browser:
    """A python-zeroconf browser for ``_daybreak._tcp`` on loopback, recording changes."""

    def __init__(self, zeroconf: AsyncZeroconf) -> None:
        self.zeroconf = zeroconf
        self.changes: list[tuple[str, ServiceStateChange]] = []
        self.changed = asyncio.Event()
        self.browser = AsyncServiceBrowser(
            zeroconf.zeroconf, SERVICE_TYPE, handlers=[self._on_change]
        )

    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        self.changes.append((name, state_change))
        self.changed.set()

    async def wait_for(self, name: str, change: ServiceStateChange, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while (name, change) not in self.changes:
                self.changed.clear()
                await self.changed.wait()

    async def lookup(self, name: str, timeout_ms: int = 3000) -> AsyncServiceInfo | None:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        return info if await info.async_request(self.zeroconf.zeroconf, timeout_ms) else None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    zeroconf = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    browser = Browser(zeroconf)
    yield browser
    await browser.browser.async_cancel()
    await zeroconf.async_close()


async def test_device_is_advertised_with_its_id_protocol_and_api(
    start_device: Callable[..., Awaitable[Device]], browser: Browser
) -> None:
    device = await start_device(zeroconf=True, name="Bedroom")
    name = f"Bedroom.{SERVICE_TYPE}"
    await browser.wait_for(name, ServiceStateChange.Added)
    info = await browser.lookup(name)
    assert info is not None
    device_id = (device.server.settings.state_dir / "device_id").read_text().strip()
    assert info.decoded_properties == {
        "id": device_id,
        "protocol": str(PROTOCOL_VERSION),
        "api": "/api",
        "version": __version__,
    }
    assert info.port == device.server.port
    assert info.parsed_addresses() == ["127.0.0.1"]
    assert info.server == f"daybreak-{device_id}.local."
    advertiser = device.server.advertiser
    assert advertiser is not None
    async with asyncio.timeout(5):  # announced: the registration task is done
        await advertiser.registered.wait()

    # What the records say is enough to reach the device.
    url = f"http://{info.parsed_addresses()[0]}:{info.port}{info.decoded_properties['api']}"
    async with httpx.AsyncClient(timeout=5) as http:
        health = (await http.get(f"{url}/health")).json()
    assert health == {
        "status": "ok",
        "protocol_version": 4,
        "storage": {"ok": True, "error": None, "since": None},
    }

    # Stopping withdraws the service (goodbye packets): browsers see it go at once.
    await device.server.stop()
    assert device.server.advertiser is None
    await browser.wait_for(name, ServiceStateChange.Removed, timeout=5)


async def test_no_zeroconf_advertises_nothing(
    start_device: Callable[..., Awaitable[Device]], browser: Browser
) -> None:
    quiet = await start_device(name="Quiet")  # the test settings: zeroconf=False
    assert quiet.server.advertiser is None
    await quiet.server.stop()
    loud = await start_device(zeroconf=True, name="Loud")
    await browser.wait_for(f"Loud.{SERVICE_TYPE}", ServiceStateChange.Added)
    assert await browser.lookup(f"Quiet.{SERVICE_TYPE}", timeout_ms=1000) is None
    # (Other programs on this machine may advertise on loopback too: look at ours only.)
    assert f"Quiet.{SERVICE_TYPE}" not in {name for name, _change in browser.changes}
    await loud.server.stop()


async def test_stopping_while_registering_leaves_nothing_behind(
    start_device: Callable[..., Awaitable[Device]],
) -> None:
    before = asyncio.all_tasks()
    device = await start_device(zeroconf=True, name="Brief")
    advertiser = device.server.advertiser
    assert advertiser is not None
    await asyncio.sleep(0.05)  # probing the name takes over a second
    assert not advertiser.registered.is_set()
    await device.server.stop()
    assert device.server.advertiser is None
    left = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert left == set()


async def test_zeroconf_failure_leaves_the_device_serving(
    start_device: Callable[..., Awaitable[Device]], monkeypatch, caplog
) -> None:
    def unavailable(**kwargs: Any) -> AsyncZeroconf:
        raise OSError(19, "No such device")

    monkeypatch.setattr(discovery, "AsyncZeroconf", unavailable)
    device = await start_device(zeroconf=True)
    assert "Zeroconf unavailable, not advertising the device" in caplog.text
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(f"{device.url}/api/health")).status_code == 200
    await device.server.stop()


async def test_registration_failure_is_logged(
    start_device: Callable[..., Awaitable[Device]], monkeypatch, caplog
) -> None:
    caplog.set_level(logging.ERROR, logger="daybreak_device")

    async def refuse(self: AsyncZeroconf, info: Any, **kwargs: Any) -> Any:
        raise RuntimeError("name conflict")

    monkeypatch.setattr(AsyncZeroconf, "async_register_service", refuse)
    device = await start_device(zeroconf=True)
    advertiser = device.server.advertiser
    assert advertiser is not None
    async with asyncio.timeout(5):
        while "Zeroconf registration of Daybreak" not in caplog.text:
            await asyncio.sleep(0.01)
    assert not advertiser.registered.is_set()
    await device.server.stop()


# -- settings and addresses -------------------------------------------------------------


def test_zeroconf_setting_and_flag() -> None:
    assert load_settings({}, environ={}).zeroconf is True
    assert load_settings({}, environ={"DAYBREAK_ZEROCONF": "off"}).zeroconf is False
    parsed = vars(build_parser().parse_args(["--no-zeroconf"]))
    parsed.pop("config")
    assert load_settings(parsed, environ={}).zeroconf is False
    parsed = vars(build_parser().parse_args(["--zeroconf"]))
    parsed.pop("config")
    assert load_settings(parsed, environ={"DAYBREAK_ZEROCONF": "0"}).zeroconf is True


def test_advertising_plan_follows_the_bound_address() -> None:
    assert advertising_plan("127.0.0.1") == (["127.0.0.1"], IPVersion.V4Only, ["127.0.0.1"])
    assert advertising_plan("::1") == (["::1"], IPVersion.V6Only, ["::1"])
    assert advertising_plan("localhost")[2][0] in ("127.0.0.1", "::1")
    interfaces, version, addresses = advertising_plan("0.0.0.0")  # noqa: S104
    assert (interfaces, version) == (InterfaceChoice.All, IPVersion.V4Only)
    assert addresses == machine_addresses(ipv6=False)
    assert addresses
    assert all(":" not in a for a in addresses)
    # The LAN is not told about 127.0.0.1 when the machine has another address.
    assert "127.0.0.1" not in addresses or addresses == ["127.0.0.1"]
    interfaces, version, addresses = advertising_plan("::")
    assert (interfaces, version) == (InterfaceChoice.All, IPVersion.All)
    assert not any(a.startswith("fe80:") for a in addresses)  # no scope-less link-locals
