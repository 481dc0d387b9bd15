"""Config flow: add a Daybreak device by host, port and token."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING and sys.version_info >= (3, 14):
    # Home Assistant 2026.10 and later (on Python 3.14) validate with probatio, which
    # voluptuous maps onto at run time; their flows and services are typed with it.
    import probatio as vol
else:
    import voluptuous as vol

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from yarl import URL

from .client import DaybreakAuthenticationError, DaybreakClient, DaybreakError, DeviceInfo
from .const import (
    CONF_SUNRISE_CURVE,
    CONF_SUNRISE_DURATION,
    DEFAULT_PORT,
    DOMAIN,
    LOGGER,
)
from .coordinator import DaybreakConfigEntry
from .protocol import (
    CURVES,
    DEFAULT_CURVE,
    DEFAULT_SUNRISE_MINUTES,
    SUNRISE_MINUTES_MAX,
    SUNRISE_MINUTES_MIN,
    Curve,
)

TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
PORT_SELECTOR = vol.All(
    NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)),
    vol.Coerce(int),
)


_HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)", re.IGNORECASE)


class InvalidHostError(ValueError):
    """What the user typed as the host cannot be one."""


def parse_host(text: str, port: int) -> tuple[str, int]:
    """The host and port in what a user types or pastes as the host.

    Accepts a host name or IP address, with spaces around it, a ``:port`` (which wins
    over ``port``), an ``http://`` scheme and a trailing ``/`` (the device page's
    address). Raises :class:`InvalidHostError` for anything else.
    """
    text = text.strip()
    if "://" not in text:
        if text.count(":") > 1 and not text.startswith("["):
            text = f"[{text}]"  # a bare IPv6 address: its colons are no port
        text = f"http://{text}"
    try:
        url = URL(text)
        host, explicit_port = url.host, url.explicit_port
    except ValueError as err:  # e.g. a port that is no number or out of range
        raise InvalidHostError(text) from err
    if url.scheme != "http" or not host or explicit_port == 0:
        raise InvalidHostError(text)
    try:
        address = ip_address(host)
    except ValueError:
        # A name: letters, digits, "-" and "_" in dot-separated labels, the last one
        # not all digits (1.2.3.4.5 or 999.1.1.1 are malformed IPv4 addresses).
        labels = host.removesuffix(".").split(".")
        if (
            len(host) > 253
            or not all(_HOST_LABEL.fullmatch(label) for label in labels)
            or labels[-1].isdigit()
        ):
            raise InvalidHostError(text) from None
    else:
        if getattr(address, "scope_id", None):  # fe80::1%eth0 cannot be put in a URL
            raise InvalidHostError(text)
        host = str(address)
    return host, port if explicit_port is None else explicit_port


def clean_token(text: str) -> str:
    """The token as pasted: without spaces around it or line breaks inside it."""
    return text.strip().replace("\r", "").replace("\n", "")


def _connection_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): str,
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): PORT_SELECTOR,
            vol.Required(CONF_TOKEN): TOKEN_SELECTOR,
        }
    )


class DaybreakConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Daybreak device: test the connection before creating the entry."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no discovered device."""
        self._discovered: dict[str, Any] = {}

    async def _async_try(
        self, host: str, port: int, token: str, errors: dict[str, str]
    ) -> DeviceInfo | None:
        """Connect, read the device info and disconnect; fill ``errors`` on failure."""
        client = DaybreakClient(
            host, port, token, session=async_get_clientsession(self.hass), request_timeout=10
        )
        try:
            return await client.connect()
        except DaybreakAuthenticationError:
            errors["base"] = "invalid_auth"
        except DaybreakError:
            errors["base"] = "cannot_connect"
        except Exception:  # noqa: BLE001 - shown as "unknown", logged with traceback
            LOGGER.exception("Unexpected error talking to %s:%s", host, port)
            errors["base"] = "unknown"
        finally:
            await client.close()
        return None

    async def _async_try_input(
        self, user_input: dict[str, Any], errors: dict[str, str]
    ) -> tuple[DeviceInfo, dict[str, Any]] | None:
        """Check the form's host, port and token; the info and the cleaned-up data."""
        try:
            host, port = parse_host(user_input[CONF_HOST], user_input[CONF_PORT])
        except InvalidHostError:
            errors[CONF_HOST] = "invalid_host"
            return None
        token = clean_token(user_input[CONF_TOKEN])
        info = await self._async_try(host, port, token, errors)
        return (
            None if info is None else (info, {CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token})
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for host, port and token."""
        errors: dict[str, str] = {}
        if user_input is not None and (found := await self._async_try_input(user_input, errors)):
            info, data = found
            await self.async_set_unique_id(info.device_id)
            self._abort_if_unique_id_configured(updates=data)
            return self.async_create_entry(title=info.name, data=data)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _connection_schema({}), user_input or {}
            ),
            errors=errors,
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """A device advertised ``_daybreak._tcp``: TXT ``id`` is its device id."""
        device_id = discovery_info.properties.get("id")
        if not device_id:
            return self.async_abort(reason="not_daybreak_device")
        host = discovery_info.host
        port = discovery_info.port or DEFAULT_PORT
        await self.async_set_unique_id(str(device_id))
        # A known device that moved: update its address (Home Assistant reloads the entry).
        self._abort_if_unique_id_configured(updates={CONF_HOST: host, CONF_PORT: port})
        name = discovery_info.name.removesuffix(f".{discovery_info.type}")
        self._discovered = {CONF_HOST: host, CONF_PORT: port, "name": name}
        self.context["title_placeholders"] = {"name": name}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the discovered device's token and check it."""
        errors: dict[str, str] = {}
        host, port = self._discovered[CONF_HOST], self._discovered[CONF_PORT]
        if user_input is not None:
            token = clean_token(user_input[CONF_TOKEN])
            info = await self._async_try(host, port, token, errors)
            if info is not None:
                if info.device_id != self.unique_id:
                    return self.async_abort(reason="wrong_device")
                return self.async_create_entry(
                    title=info.name, data={CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token}
                )
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR}),
            description_placeholders={
                "name": self._discovered["name"],
                "host": host,
                "port": str(port),
            },
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The device refused the token: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new token and check it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            token = clean_token(user_input[CONF_TOKEN])
            info = await self._async_try(
                entry.data[CONF_HOST], entry.data[CONF_PORT], token, errors
            )
            if info is not None:
                await self.async_set_unique_id(info.device_id)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_TOKEN: token})
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR}),
            description_placeholders={"name": entry.title, "host": entry.data[CONF_HOST]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change host, port or token of the same device."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None and (found := await self._async_try_input(user_input, errors)):
            info, data = found
            await self.async_set_unique_id(info.device_id)
            self._abort_if_unique_id_mismatch(reason="wrong_device")
            return self.async_update_reload_and_abort(entry, data_updates=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_connection_schema(user_input or entry.data),
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: DaybreakConfigEntry) -> DaybreakOptionsFlow:
        """Options: default sunrise duration and curve."""
        return DaybreakOptionsFlow()


class DaybreakOptionsFlow(OptionsFlow):
    """Default sunrise duration (minutes) and curve for the light's Sunrise effect.

    Stored without a reload: the connection stays up, as when the number or the
    select entity changes them.
    """

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options."""
        entry: DaybreakConfigEntry = self.config_entry
        if user_input is not None:
            minutes = int(user_input[CONF_SUNRISE_DURATION])
            curve: Curve = user_input[CONF_SUNRISE_CURVE]  # one of CURVES (the selector)
            if entry.state is ConfigEntryState.LOADED:
                entry.runtime_data.async_set_sunrise_defaults(minutes=minutes, curve=curve)
                return self.async_create_entry(data=dict(entry.options))
            return self.async_create_entry(
                data={**entry.options, CONF_SUNRISE_DURATION: minutes, CONF_SUNRISE_CURVE: curve}
            )
        options = entry.options
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SUNRISE_DURATION,
                    default=options.get(CONF_SUNRISE_DURATION, DEFAULT_SUNRISE_MINUTES),
                ): vol.All(
                    NumberSelector(
                        NumberSelectorConfig(
                            min=SUNRISE_MINUTES_MIN,
                            max=SUNRISE_MINUTES_MAX,
                            step=1,
                            unit_of_measurement="min",
                            mode=NumberSelectorMode.BOX,
                        )
                    ),
                    vol.Coerce(int),
                ),
                vol.Required(
                    CONF_SUNRISE_CURVE, default=options.get(CONF_SUNRISE_CURVE, DEFAULT_CURVE)
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=list(CURVES),
                        translation_key="sunrise_curve",
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)
