"""Push coordinator: the device's Socket.IO events feed Home Assistant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.loader import async_get_loaded_integration

from .client import (
    Channels,
    DaybreakAuthenticationError,
    DaybreakClient,
    DaybreakDevice,
    DaybreakError,
    DaybreakEvent,
    DaybreakState,
)
from .const import (
    CONF_SUNRISE_COLOR,
    CONF_SUNRISE_CURVE,
    CONF_SUNRISE_DURATION,
    DOMAIN,
    LOGGER,
    REQUIRED_PROTOCOL_VERSION,
)
from .protocol import (
    ALARM_DURATION_MAX,
    ALARM_DURATION_MIN,
    DEFAULT_CURVE,
    DEFAULT_SUNRISE_MINUTES,
    PROTOCOL_VERSION,
    ColorPath,
    Curve,
    minutes_to_seconds,
)

type DaybreakConfigEntry = ConfigEntry[DaybreakCoordinator]


def outdated_protocol_issue_id(entry: ConfigEntry) -> str:
    """The id of the entry's repair issue about an outdated device."""
    return f"outdated_protocol_{entry.entry_id}"


def newer_protocol_issue_id(entry: ConfigEntry) -> str:
    """The id of the entry's repair issue about a device newer than the integration."""
    return f"newer_protocol_{entry.entry_id}"


def storage_fault_issue_id(entry: ConfigEntry) -> str:
    """The id of the entry's repair issue about a device that cannot save its state."""
    return f"storage_fault_{entry.entry_id}"


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


class DaybreakCoordinator(DataUpdateCoordinator[DaybreakDevice]):
    """Holds one snapshot of the device (``data``: info, state and alarms), pushed to it.

    The first refresh connects (:meth:`_async_setup`: one connection that reads the
    info, the state and the alarms, and the subscriptions to the client's pushes); no
    polling after that. :meth:`async_listen` then runs as the entry's background task:
    it keeps the connection up (the client reconnects with backoff), marks the entities
    unavailable while the device is gone (one info line in the log each way) and starts
    a reauth flow if the device stops accepting the token. Whether the device is there
    is the client's to say (:attr:`DaybreakClient.ready`); the coordinator keeps no copy.

    The device's one-off events go to the listeners added with
    :meth:`async_add_event_listener`.
    """

    config_entry: DaybreakConfigEntry

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
        self._event_listeners: list[Callable[[DaybreakEvent], None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        # The storage fault the repair issue shows (None: no issue).
        self._storage_error: str | None = None

    @property
    def sunrise_minutes(self) -> int:
        """The default sunrise duration in minutes (an option; the ``number`` entity sets it)."""
        return int(self.config_entry.options.get(CONF_SUNRISE_DURATION, DEFAULT_SUNRISE_MINUTES))

    @property
    def sunrise_seconds(self) -> float:
        """The default sunrise duration in seconds, within a sunrise's limits."""
        return minutes_to_seconds(self.sunrise_minutes)

    @property
    def alarm_seconds(self) -> float:
        """The default duration of a new alarm's sunrise in seconds, within an alarm's limits."""
        return minutes_to_seconds(self.sunrise_minutes, ALARM_DURATION_MIN, ALARM_DURATION_MAX)

    @property
    def sunrise_curve(self) -> Curve:
        """The default sunrise curve (an option; the ``select`` entity sets it)."""
        curve: Curve = self.config_entry.options.get(CONF_SUNRISE_CURVE, DEFAULT_CURVE)
        return curve

    @property
    def sunrise_color(self) -> ColorPath:
        """The default sunrise colour path (an option; the ``select`` entity sets it)."""
        path: ColorPath = self.config_entry.options.get(CONF_SUNRISE_COLOR, "sunrise")
        return path

    @property
    def channels(self) -> Channels | None:
        """The device's colour channels (``None``: a single channel)."""
        return self.data.info.channels

    @property
    def default_color_path(self) -> ColorPath | None:
        """The ``Sunrise colour`` select's path on a colour device (``None``: the device's)."""
        return self.sunrise_color if self.channels else None

    @callback
    def async_set_sunrise_defaults(
        self,
        *,
        minutes: int | None = None,
        curve: Curve | None = None,
        color: ColorPath | None = None,
    ) -> None:
        """Store new sunrise defaults in the entry options (no reload needed).

        The number, the select and the options flow all change them through here.
        """
        options = dict(self.config_entry.options)
        if minutes is not None:
            options[CONF_SUNRISE_DURATION] = minutes
        if curve is not None:
            options[CONF_SUNRISE_CURVE] = curve
        if color is not None:
            options[CONF_SUNRISE_COLOR] = color
        self.hass.config_entries.async_update_entry(self.config_entry, options=options)
        self.async_update_listeners()

    @callback
    def async_add_event_listener(
        self, listener: Callable[[DaybreakEvent], None]
    ) -> Callable[[], None]:
        """Call ``listener(event)`` for each one-off event of the device; returns a remover."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    async def _async_setup(self) -> None:
        """Connect (reading the info, state and alarms) and follow the client's pushes."""
        with _translate_client_errors():
            await self.client.connect()
        if not self._unsubscribe:
            self._unsubscribe = [
                self.client.on_state(self._handle_state),
                self.client.on_alarms(self._handle_alarms),
                self.client.on_event(self._handle_event),
                self.client.on_connection(self._handle_connection),
            ]
        self._check_protocol_version()

    async def _async_update_data(self) -> DaybreakDevice:
        """The snapshot: as connecting read it (first refresh), else with the state read anew."""
        device = self.client.device
        if device is None or self.data is not None:  # a refresh asked for after setup
            with _translate_client_errors():
                await self.client.get_state()
            device = self.client.device
        if device is None:  # cannot be: connecting read the info and the state
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": "no device info"},
            )
        self._check_storage(device.state)
        return device

    async def async_listen(self) -> None:
        """Follow the device until unload: pushed states, disconnects and reconnects."""
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

    async def async_shutdown(self) -> None:
        """Stop following the client and close the connection (on unload)."""
        await super().async_shutdown()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        await self.client.close()

    async def _async_stop(self, _event: Event) -> None:
        await self.client.close()

    @callback
    def _take_snapshot(self) -> None:
        """Publish the client's snapshot, once the connection is complete.

        While reconnecting, :meth:`_handle_connection` brings it once connected.
        """
        device = self.client.device
        if self.client.ready and device is not None:
            self.async_set_updated_data(device)
            self._check_storage(device.state)

    @callback
    def _handle_state(self, _state: DaybreakState) -> None:
        self._take_snapshot()

    @callback
    def _handle_alarms(self, _alarms: object) -> None:
        self._take_snapshot()

    @callback
    def _handle_event(self, event: DaybreakEvent) -> None:
        for listener in list(self._event_listeners):
            listener(event)

    @callback
    def _check_protocol_version(self) -> None:
        """Raise a repair issue while the device's protocol is older than needed or newer.

        Older: update the device. Newer than this integration knows: update the
        integration.
        """
        info = self.client.info
        if info is None:  # not connected yet: nothing known to check
            return
        version = info.protocol_version
        placeholders = {
            "name": self.config_entry.title,
            "version": str(version),
            "sw_version": info.sw_version,
        }
        for issue_id, raise_it, key, extra, anchor in (
            (
                outdated_protocol_issue_id(self.config_entry),
                version < REQUIRED_PROTOCOL_VERSION,
                "outdated_protocol",
                {
                    "required": str(REQUIRED_PROTOCOL_VERSION),
                    # Device and integration share one version: update to this release.
                    "update_to": str(async_get_loaded_integration(self.hass, DOMAIN).version),
                },
                "updating-the-device",
            ),
            (
                newer_protocol_issue_id(self.config_entry),
                version > PROTOCOL_VERSION,
                "newer_protocol",
                {"supported": str(PROTOCOL_VERSION)},
                "updating-the-integration",
            ),
        ):
            if not raise_it:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                continue
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=key,
                translation_placeholders=placeholders | extra,
                learn_more_url=f"https://github.com/daybreak-light/daybreak#{anchor}",
            )

    @callback
    def _check_storage(self, state: DaybreakState) -> None:
        """Raise a repair issue while the device says it cannot save its state."""
        issue_id = storage_fault_issue_id(self.config_entry)
        if state.storage_error is None:
            if self._storage_error is not None:
                LOGGER.info("%s saves its state again", self.config_entry.title)
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            self._storage_error = None
            return
        if state.storage_error == self._storage_error:
            return
        self._storage_error = state.storage_error
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="storage_fault",
            translation_placeholders={
                "name": self.config_entry.title,
                "error": state.storage_error,
            },
            learn_more_url=(
                "https://github.com/daybreak-light/daybreak/blob/main/docs/protocol.md"
                "#consistency-what-an-ack-and-a-push-mean"
            ),
        )

    @callback
    def _handle_connection(self, connected: bool) -> None:
        if connected:
            LOGGER.info("Connection to %s is back", self.config_entry.title)
            self._check_protocol_version()  # the device may have been updated meanwhile
            self._take_snapshot()
            return
        LOGGER.info("Lost the connection to %s; reconnecting", self.config_entry.title)
        self.last_update_success = False
        self.async_update_listeners()
