"""Push coordinator: the device's Socket.IO events feed Home Assistant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .client import (
    DaybreakAuthenticationError,
    DaybreakClient,
    DaybreakError,
    DaybreakState,
    DeviceInfo,
)
from .const import DOMAIN, LOGGER

type DaybreakConfigEntry = ConfigEntry[DaybreakCoordinator]


@contextmanager
def _translate_client_errors() -> Iterator[None]:
    """Refused token → ConfigEntryAuthFailed; other client errors → UpdateFailed."""
    try:
        yield
    except DaybreakAuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except DaybreakError as err:
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err


class DaybreakCoordinator(DataUpdateCoordinator[DaybreakState]):
    """Holds the device's state, updated by pushed events (no polling).

    The first refresh connects and reads the info and state. After that
    :meth:`async_listen` runs as the entry's background task: it keeps the
    connection up (the client reconnects with backoff), marks the entities
    unavailable while the device is gone (one info line in the log each way) and
    starts a reauth flow if the device stops accepting the token.
    """

    config_entry: DaybreakConfigEntry
    info: DeviceInfo

    def __init__(
        self, hass: HomeAssistant, entry: DaybreakConfigEntry, client: DaybreakClient
    ) -> None:
        """Create the coordinator for ``entry`` around ``client``."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None,
            always_update=False,
        )
        self.client = client

    async def _async_setup(self) -> None:
        """Connect and read the device info (first refresh only)."""
        with _translate_client_errors():
            self.info = await self.client.connect()

    async def _async_update_data(self) -> DaybreakState:
        """Read the state from the device (first refresh and explicit refreshes)."""
        with _translate_client_errors():
            return await self.client.get_state()

    async def async_listen(self) -> None:
        """Follow the device until unload: pushed states, disconnects and reconnects."""
        unsubscribe = [
            self.client.on_state(self._handle_state),
            self.client.on_connection(self._handle_connection),
        ]
        # Not async_listen_once: its remover logs an error when called (on unload)
        # after the event fired. HA stops once, so a plain listener is equivalent.
        self.config_entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_stop)
        )
        try:
            await self.client.run()
        except DaybreakAuthenticationError:
            LOGGER.info("%s refused the token; reauthentication needed", self.config_entry.title)
            self.last_update_success = False
            self.async_update_listeners()
            self.config_entry.async_start_reauth(self.hass)
        finally:
            for unsub in unsubscribe:
                unsub()

    async def async_shutdown(self) -> None:
        """Close the connection (on unload)."""
        await super().async_shutdown()
        await self.client.close()

    async def _async_stop(self, _event: Event) -> None:
        await self.client.close()

    @callback
    def _handle_state(self, state: DaybreakState) -> None:
        self.async_set_updated_data(state)

    @callback
    def _handle_connection(self, connected: bool) -> None:
        if connected:
            LOGGER.info("Connection to %s is back", self.config_entry.title)
            if self.client.state is not None:
                self.async_set_updated_data(self.client.state)
            return
        LOGGER.info("Lost the connection to %s; reconnecting", self.config_entry.title)
        self.last_update_success = False
        self.async_update_listeners()
