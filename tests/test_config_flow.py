"""Config flow end to end: user, reauth, reconfigure and options against real device servers."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_USER,
    SOURCE_ZEROCONF,
    ConfigEntryState,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.daybreak import config_flow
from custom_components.daybreak.const import CONF_SUNRISE_CURVE, CONF_SUNRISE_DURATION, DOMAIN
from custom_components.daybreak.protocol import (
    SUNRISE_DURATION_MAX,
    SUNRISE_MINUTES_MAX,
    SUNRISE_MINUTES_MIN,
)

from .common import ENTITY_ID, connected_clients, free_port, wait_for
from .conftest import TOKEN, Device

NEW_TOKEN = "rotated-token-9876543210"  # noqa: S105 - a test token
StartDevice = Callable[..., Awaitable[Device]]


def _input(device: Device, **changes: Any) -> dict[str, Any]:
    return {CONF_HOST: "127.0.0.1", CONF_PORT: device.port, CONF_TOKEN: TOKEN} | changes


def _defaults(result: Any) -> dict[str, Any]:
    """The default of each field of a shown form (``None``: no default)."""
    return {
        str(key): key.default() if callable(key.default) else None
        for key in result["data_schema"].schema
    }


def _suggested(result: Any, field: str) -> Any:
    """The suggested value of one field of a shown form."""
    for key in result["data_schema"].schema:
        if key == field:
            return (key.description or {}).get("suggested_value")
    raise KeyError(field)


def _reauth_flow(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    flows = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
        and flow["context"]["entry_id"] == entry.entry_id
    ]
    assert len(flows) == 1
    return flows[0]


# -- user step -------------------------------------------------------------------------


async def test_user_creates_the_entry(hass: HomeAssistant, start_device: StartDevice) -> None:
    device = await start_device(name="Kitchen light")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], _input(device))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kitchen light"  # the device's name
    assert result["data"] == _input(device)
    entry = result["result"]
    assert entry.unique_id == device.device_id
    assert entry.state is ConfigEntryState.LOADED
    # The flow's probe connection is closed: only the entry's own client stays.
    await wait_for(lambda: len(connected_clients(device)) == 1)


@pytest.mark.parametrize("error", ["cannot_connect", "invalid_auth", "unknown"])
async def test_user_error_then_retry(
    hass: HomeAssistant, device: Device, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    if error == "cannot_connect":
        bad = _input(device, **{CONF_PORT: free_port()})  # nothing listens there
    else:
        bad = _input(device, **{CONF_TOKEN: "wrong-token"})
    with (
        patch(
            "custom_components.daybreak.config_flow.DaybreakClient.connect",
            side_effect=RuntimeError("boom"),
        )
        if error == "unknown"
        else nullcontext()
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], bad)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}
    # What the user typed is offered again.
    assert _suggested(result, CONF_PORT) == bad[CONF_PORT]
    assert ("Unexpected error talking to" in caplog.text) is (error == "unknown")
    assert connected_clients(device) == []  # nothing left connected by the failed try

    result = await hass.config_entries.flow.async_configure(result["flow_id"], _input(device))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == _input(device)
    assert result["result"].unique_id == device.device_id


async def test_user_already_configured_updates_the_entry(
    hass: HomeAssistant, device: Device
) -> None:
    # The entry knew the device at an old port with an old token: it cannot set up.
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        unique_id=device.device_id,
        data=_input(device, **{CONF_PORT: free_port(), CONF_TOKEN: "old-token"}),
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _input(device))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == _input(device)  # host, port and token updated
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert entry.state is ConfigEntryState.LOADED  # reloaded with the new data
    await wait_for(lambda: len(connected_clients(device)) == 1)


# -- what users type or paste ----------------------------------------------------------

#: Host field inputs for the device on 127.0.0.1 at ``{port}``; the port field says
#: ``{other}`` (nothing there): a port in the host wins over it.
TYPED_HOSTS = [
    "127.0.0.1:{port}",
    "http://127.0.0.1:{port}",
    "http://127.0.0.1:{port}/",
    "  127.0.0.1:{port} ",
    "\thttp://127.0.0.1:{port}/\n",
]


@pytest.mark.parametrize("typed", TYPED_HOSTS)
async def test_user_host_with_a_port_or_scheme(
    hass: HomeAssistant, device: Device, typed: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    host = typed.format(port=device.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(device, **{CONF_HOST: host, CONF_PORT: free_port()})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    assert result["data"] == _input(device)  # host and port stored apart, cleaned up


@pytest.mark.parametrize(
    "typed", ["http://127.0.0.1", " 127.0.0.1", "127.0.0.1  ", "http://127.0.0.1/"]
)
async def test_user_host_with_spaces_or_scheme_takes_the_port_field(
    hass: HomeAssistant, device: Device, typed: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(device, **{CONF_HOST: typed})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    assert result["data"] == _input(device)


@pytest.mark.parametrize(
    "pasted", [f"{TOKEN}\n", f"  {TOKEN}  ", f"\n{TOKEN}\r\n", f"{TOKEN[:9]}\n{TOKEN[9:]}"]
)
async def test_user_pasted_token(hass: HomeAssistant, device: Device, pasted: str) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(device, **{CONF_TOKEN: pasted})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    assert result["data"][CONF_TOKEN] == TOKEN


INVALID_HOSTS = [
    "",
    "   ",
    "my device",
    "http://",
    "https://127.0.0.1",
    "ftp://127.0.0.1",
    "127.0.0.1:99999",
    "127.0.0.1:0",
    "127.0.0.1:port",
    "1.2.3.4.5",
    "-daybreak",
    "fe80::1%eth0",
    "[::1",
]


@pytest.mark.parametrize("typed", INVALID_HOSTS)
async def test_user_invalid_host_is_a_form_error(
    hass: HomeAssistant, device: Device, caplog: pytest.LogCaptureFixture, typed: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch(
        "custom_components.daybreak.config_flow.DaybreakClient.connect",
        side_effect=AssertionError("nothing is tried"),
    ) as connect:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _input(device, **{CONF_HOST: typed})
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    assert _suggested(result, CONF_HOST) == typed  # offered again to be corrected
    connect.assert_not_called()  # nothing is tried
    assert "Traceback" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]

    result = await hass.config_entries.flow.async_configure(result["flow_id"], _input(device))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


def test_invalid_host_is_translated() -> None:
    strings = json.loads(
        (Path(config_flow.__file__).parent / "translations" / "en.json").read_text("utf-8")
    )
    assert "host name or IP address" in strings["config"]["error"]["invalid_host"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("daybreak.local", ("daybreak.local", 8080)),
        ("Daybreak.LOCAL.", ("daybreak.local.", 8080)),
        ("daybreak.local:8081", ("daybreak.local", 8081)),
        ("http://daybreak-bedroom.local:9000/", ("daybreak-bedroom.local", 9000)),
        ("192.168.1.20", ("192.168.1.20", 8080)),
        ("::1", ("::1", 8080)),
        ("fd00::20", ("fd00::20", 8080)),
        ("[fd00::20]:8081", ("fd00::20", 8081)),
        ("http://[FD00::20]/", ("fd00::20", 8080)),
    ],
)
def test_parse_host(typed: str, expected: tuple[str, int]) -> None:
    assert config_flow.parse_host(typed, 8080) == expected


async def test_reconfigure_accepts_what_users_paste(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, device: Device
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(device, **{CONF_HOST: "http://", CONF_PORT: free_port()})
    )
    assert result["errors"] == {CONF_HOST: "invalid_host"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _input(
            device,
            **{
                CONF_HOST: f" http://127.0.0.1:{device.port}/ ",
                CONF_PORT: free_port(),
                CONF_TOKEN: f"{TOKEN}\n",
            },
        ),
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data == _input(device)


async def test_zeroconf_and_reauth_accept_a_pasted_token(
    hass: HomeAssistant, device: Device
) -> None:
    result = await _discover(hass, _zeroconf(device))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: f"  {TOKEN}\n"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    created = result["result"]
    assert created.data[CONF_TOKEN] == TOKEN
    # Reauth of an entry for the device (a MockConfigEntry has the test's flow starter).
    await hass.config_entries.async_remove(created.entry_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        unique_id=device.device_id,
        data=_input(device, **{CONF_TOKEN: "old-token"}),
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: f"\n{TOKEN} "}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == TOKEN


# -- zeroconf --------------------------------------------------------------------------

SERVICE_TYPE = "_daybreak._tcp.local."


def _zeroconf(device: Device, name: str = "Bedroom", **properties: Any) -> ZeroconfServiceInfo:
    """What zeroconf reports for ``device`` (``properties`` override the TXT records)."""
    address = ip_address("127.0.0.1")
    txt = {"id": device.device_id, "protocol": "1", "api": "/api", "version": "0.1.0"}
    return ZeroconfServiceInfo(
        ip_address=address,
        ip_addresses=[address],
        port=device.port,
        hostname=f"daybreak-{device.device_id}.local.",
        type=SERVICE_TYPE,
        name=f"{name}.{SERVICE_TYPE}",
        properties={key: value for key, value in (txt | properties).items() if value is not None},
    )


async def _discover(hass: HomeAssistant, info: ZeroconfServiceInfo) -> Any:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )


async def test_zeroconf_discovers_a_new_device(
    hass: HomeAssistant, start_device: StartDevice
) -> None:
    device = await start_device(name="Kitchen light")
    result = await _discover(hass, _zeroconf(device, name="Kitchen light"))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {
        "name": "Kitchen light",
        "host": "127.0.0.1",
        "port": str(device.port),
    }
    assert list(_defaults(result)) == [CONF_TOKEN]
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["title_placeholders"] == {"name": "Kitchen light"}
    assert flow["context"]["unique_id"] == device.device_id

    # A wrong token: the form again, with the error.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "wrong-token"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["errors"] == {"base": "invalid_auth"}
    assert connected_clients(device) == []

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: TOKEN})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kitchen light"
    assert result["data"] == _input(device)
    entry = result["result"]
    assert entry.unique_id == device.device_id
    assert entry.state is ConfigEntryState.LOADED
    await wait_for(lambda: len(connected_clients(device)) == 1)


@pytest.mark.parametrize("error", ["cannot_connect", "unknown"])
async def test_zeroconf_confirm_errors(hass: HomeAssistant, device: Device, error: str) -> None:
    await device.stop()  # advertised, but gone by the time the user confirms
    result = await _discover(hass, _zeroconf(device))
    with (
        patch(
            "custom_components.daybreak.config_flow.DaybreakClient.connect",
            side_effect=RuntimeError("boom"),
        )
        if error == "unknown"
        else nullcontext()
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TOKEN: TOKEN}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["errors"] == {"base": error}


async def test_zeroconf_already_configured(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    entry = init_integration
    coordinator = entry.runtime_data
    result = await _discover(hass, _zeroconf(device))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == _input(device)
    assert entry.runtime_data is coordinator  # nothing changed: not reloaded
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_zeroconf_rediscovered_at_a_new_port_updates_the_entry(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    start_device: StartDevice,
) -> None:
    entry = init_integration
    coordinator = entry.runtime_data
    await device.stop()
    # Same device (same state dir, so same id) now on another port.
    moved = await start_device(state_dir=device.settings.state_dir)
    assert moved.device_id == device.device_id
    assert moved.port != device.port

    result = await _discover(hass, _zeroconf(moved))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == _input(moved)  # the token is kept
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not coordinator  # reloaded with the new address
    await wait_for(lambda: len(connected_clients(moved)) == 1)
    await wait_for(lambda: hass.states.get(ENTITY_ID).state != STATE_UNAVAILABLE)


async def test_zeroconf_without_an_id_is_not_a_daybreak_device(
    hass: HomeAssistant, device: Device
) -> None:
    result = await _discover(hass, _zeroconf(device, id=None))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_daybreak_device"


async def test_zeroconf_address_answers_with_another_device(
    hass: HomeAssistant, device: Device
) -> None:
    # The record says one id, the address answers with another device.
    result = await _discover(hass, _zeroconf(device, id="0123456789ab"))
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_zeroconf_without_a_port_uses_the_default(
    hass: HomeAssistant, device: Device
) -> None:
    info = _zeroconf(device)
    info.port = None
    result = await _discover(hass, info)
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"]["port"] == "8080"


# -- reauth ----------------------------------------------------------------------------


async def test_reauth_after_the_token_changed(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    entry = init_integration
    coordinator = entry.runtime_data
    await device.stop()
    await device.restart(token=NEW_TOKEN)
    # The coordinator notices the refused token on reconnect and asks for a new one.
    await wait_for(lambda: list(entry.async_get_active_flows(hass, {SOURCE_REAUTH})))
    flow = _reauth_flow(hass, entry)
    assert flow["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "invalid_auth"}
    assert result["description_placeholders"] == {"name": "Bedroom", "host": "127.0.0.1"}
    assert entry.data[CONF_TOKEN] == TOKEN

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: NEW_TOKEN}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data == _input(device, **{CONF_TOKEN: NEW_TOKEN})
    # Reloaded: a new coordinator, connected with the new token.
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not coordinator
    assert entry.runtime_data.client.connected
    await wait_for(lambda: len(connected_clients(device)) == 1)
    assert hass.states.get(ENTITY_ID).state != STATE_UNAVAILABLE


async def test_reauth_wrong_device(
    hass: HomeAssistant, device: Device, start_device: StartDevice
) -> None:
    other = await start_device(name="Other")
    # The entry is for ``device`` but its address now answers with ``other``.
    entry = MockConfigEntry(
        domain=DOMAIN, title="Bedroom", unique_id=device.device_id, data=_input(other)
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data == _input(other)
    assert entry.unique_id == device.device_id


# -- reconfigure -----------------------------------------------------------------------


async def test_reconfigure_device_moved(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device: Device,
    start_device: StartDevice,
) -> None:
    entry = init_integration
    await device.stop()
    # Same device (same state dir, so same id) now on another port.
    moved = await start_device(state_dir=device.settings.state_dir)
    assert moved.device_id == device.device_id
    assert moved.port != device.port

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert _defaults(result)[CONF_PORT] == device.port  # the entry's current address
    assert _defaults(result)[CONF_TOKEN] is None  # the stored token is never shown

    result = await hass.config_entries.flow.async_configure(result["flow_id"], _input(moved))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == _input(moved)
    assert entry.state is ConfigEntryState.LOADED
    await wait_for(lambda: len(connected_clients(moved)) == 1)
    await wait_for(lambda: hass.states.get(ENTITY_ID).state != STATE_UNAVAILABLE)


async def test_reconfigure_errors_then_success(hass: HomeAssistant, device: Device) -> None:
    # The entry has a stale port and token (never set up).
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        unique_id=device.device_id,
        data=_input(device, **{CONF_PORT: free_port(), CONF_TOKEN: "old-token"}),
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    port = free_port()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(device, **{CONF_PORT: port})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "cannot_connect"}
    assert _defaults(result)[CONF_PORT] == port  # the form keeps what was typed

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(device, **{CONF_TOKEN: "wrong-token"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    with patch(
        "custom_components.daybreak.config_flow.DaybreakClient.connect",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], _input(device))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert connected_clients(device) == []

    result = await hass.config_entries.flow.async_configure(result["flow_id"], _input(device))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == _input(device)
    assert entry.state is ConfigEntryState.LOADED  # (re)loaded with the new data


async def test_reconfigure_wrong_device(
    hass: HomeAssistant,
    device: Device,
    mock_config_entry: MockConfigEntry,
    start_device: StartDevice,
) -> None:
    other = await start_device(name="Other")
    mock_config_entry.add_to_hass(hass)
    before = dict(mock_config_entry.data)
    result = await mock_config_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(result["flow_id"], _input(other))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert dict(mock_config_entry.data) == before


# -- options ---------------------------------------------------------------------------


async def test_options_are_stored_without_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, device: Device
) -> None:
    entry = init_integration
    coordinator = entry.runtime_data
    client = coordinator.client
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert _defaults(result) == {CONF_SUNRISE_DURATION: 30, CONF_SUNRISE_CURVE: "linear"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SUNRISE_DURATION: 20, CONF_SUNRISE_CURVE: "ease_in"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SUNRISE_DURATION: 20, CONF_SUNRISE_CURVE: "ease_in"}
    assert entry.state is ConfigEntryState.LOADED
    # Not reloaded: the same coordinator and connection, the entities show the change.
    assert entry.runtime_data is coordinator
    assert coordinator.client is client
    assert client.connected
    assert len(connected_clients(device)) == 1
    assert hass.states.get("number.bedroom_sunrise_duration").state == "20"
    assert hass.states.get("select.bedroom_sunrise_curve").state == "ease_in"

    # The form now shows the stored values.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert _defaults(result) == {CONF_SUNRISE_DURATION: 20, CONF_SUNRISE_CURVE: "ease_in"}


async def test_options_of_an_entry_that_is_not_loaded(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SUNRISE_DURATION: 180, CONF_SUNRISE_CURVE: "ease_out"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {CONF_SUNRISE_DURATION: 180, CONF_SUNRISE_CURVE: "ease_out"}
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED


def _duration_selector_bounds(result: Any) -> tuple[float, float]:
    for key, validator in result["data_schema"].schema.items():
        if key == CONF_SUNRISE_DURATION:
            config = validator.validators[0].config
            return config["min"], config["max"]
    raise AssertionError("no duration field")


async def test_the_options_form_has_the_protocols_limits(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    number = hass.states.get("number.bedroom_sunrise_duration")
    assert (
        _duration_selector_bounds(result)
        == (
            SUNRISE_MINUTES_MIN,
            SUNRISE_MINUTES_MAX,
        )
        == (number.attributes["min"], number.attributes["max"])
    )
    assert SUNRISE_MINUTES_MAX * 60 == SUNRISE_DURATION_MAX
