"""Fixtures: Home Assistant plus the real Daybreak device server in the same event loop.

The device server runs with gpiozero's ``MockFactory``/``MockPWMPin`` on 127.0.0.1 and
an ephemeral port; the integration connects to it over real sockets.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from unittest.mock import PropertyMock, patch

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.daybreak.const import DOMAIN
from daybreak_device.config import Settings
from daybreak_device.output import GpiozeroOutput, MultiOutput, Output
from daybreak_device.server import DaybreakServer, build_output

pytest_plugins = "pytest_homeassistant_custom_component"

TOKEN = "ha-test-token-0123456789"  # noqa: S105 - a test token


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/daybreak in every test."""


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Every entity enabled, the disabled-by-default diagnostics too.

    (HA core's fixture of that name lives in its tests/components/conftest.py, which
    pytest-homeassistant-custom-component does not ship.)
    """
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, in tests/snapshots/.

    The plugin defines the same fixture, but syrupy's own may win over a plugin's.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@dataclass
class Device:
    """A running device server (restartable on the same port and state)."""

    server: DaybreakServer
    settings: Settings
    token: str
    factory: MockFactory
    clock: Callable[[], float] = time.time
    _port: int = 0  # kept by stop(): the closed socket no longer knows it

    @property
    def port(self) -> int:
        return self._port or self.server.port

    @property
    def pin(self) -> MockPWMPin:
        output = self.server.controller.output
        assert isinstance(output, GpiozeroOutput)
        pin = output.led.pin
        assert isinstance(pin, MockPWMPin)
        return pin

    @property
    def duties(self) -> dict[str, float]:
        """Each colour channel's duty as its mock pin has it."""
        output = self.server.controller.output
        assert isinstance(output, MultiOutput)
        duties: dict[str, float] = {}
        for name, channel in output.channels.items():
            assert isinstance(channel, GpiozeroOutput)
            duties[name] = float(channel.led.pin.state)
        return duties

    @property
    def device_id(self) -> str:
        return self.server.info()["device_id"]

    async def stop(self) -> None:
        self._port = self.port
        await self.server.stop()

    async def restart(self, token: str | None = None) -> None:
        """Start the server again on the same port and state dir."""
        self.factory.reset()
        self.token = token or self.token
        settings = replace(self.settings, port=self.port)
        output = _output(settings, self.factory)
        self.server = DaybreakServer(
            settings, self.token, output=output, clock=self.clock, pin_factory=self.factory
        )
        await self.server.start()


def _output(settings: Settings, factory: MockFactory) -> Output:
    """The device's output on mock pins: one pin, or one per colour channel."""
    if settings.channels:
        return build_output(settings, pin_factory=factory)
    return GpiozeroOutput(settings.pin, 1000, pin_factory=factory)


@pytest.fixture
async def start_device(
    socket_enabled: None, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Device]]]:
    """Start real device servers (mock pins); stopped at teardown."""
    devices: list[Device] = []

    async def start(
        name: str = "Bedroom", clock: Callable[[], float] = time.time, **overrides: Any
    ) -> Device:
        """Start a device named ``name`` on the wall clock ``clock`` (ramps and alarms)."""
        settings = Settings(
            host="127.0.0.1",
            port=0,
            token=TOKEN,
            state_dir=tmp_path / f"device-{len(devices)}",
            name=name,
            mock=True,
            zeroconf=False,
            progress_interval=0.2,
            heartbeat_interval=5.0,
            ping_interval=5.0,
            ping_timeout=5.0,
        )
        settings = replace(settings, **overrides)
        factory = MockFactory(pin_class=MockPWMPin)
        output = _output(settings, factory)
        server = DaybreakServer(settings, TOKEN, output=output, clock=clock, pin_factory=factory)
        await server.start()
        device = Device(server, settings, TOKEN, factory, clock)
        devices.append(device)
        return device

    yield start
    for device in devices:
        await device.server.stop()
        device.factory.reset()


@pytest.fixture
async def device(start_device: Callable[..., Awaitable[Device]]) -> Device:
    """One running device server."""
    return await start_device()


class Reachable(Protocol):
    """A device the integration can be set up for: the real one or tests/fake_device.py."""

    @property
    def port(self) -> int: ...

    @property
    def device_id(self) -> str: ...


def make_config_entry(device: Reachable, **options: Any) -> MockConfigEntry:
    """A config entry (title "Bedroom") pointing at ``device``, with ``options``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        unique_id=device.device_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: device.port, CONF_TOKEN: TOKEN},
        options=options,
    )


@pytest.fixture
def mock_config_entry(device: Device) -> MockConfigEntry:
    """A config entry pointing at ``device``."""
    return make_config_entry(device)


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration against the running device."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry
