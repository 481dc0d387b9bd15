"""The router: one command path for every transport.

Socket.IO events and REST calls both end in :meth:`Router.answer`: it validates the
payload against the protocol, runs the command's handler from one typed table and
turns every outcome into an ack, with one error policy:

* a refused command (:class:`~daybreak_device.protocol.ProtocolError`) answers its
  code and message and changed nothing;
* a command that was carried out but could not be saved
  (:class:`~daybreak_device.statefile.StorageError`) answers ``storage_error`` with
  the state it left (the change stays; the device saves it when the disk lets it);
* anything unexpected answers ``internal_error``; its traceback is logged at most
  once a minute (later ones are counted), so no peer can fill the log with them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .alarms import Alarm, AlarmScheduler
from .light import LightController
from .protocol import (
    EVENT_CREATE_ALARM,
    EVENT_DELETE_ALARM,
    EVENT_DISMISS_ALARM,
    EVENT_GET_ALARM,
    EVENT_GET_DEVICE,
    EVENT_GET_INFO,
    EVENT_GET_STATE,
    EVENT_LIST_ALARMS,
    EVENT_SET_LIGHT,
    EVENT_SET_WAKE_SETTINGS,
    EVENT_SKIP_ALARM,
    EVENT_SNOOZE_ALARM,
    EVENT_START_SUNRISE,
    EVENT_START_SUNSET,
    EVENT_STOP_SUNRISE,
    EVENT_STOP_SUNSET,
    EVENT_UPDATE_ALARM,
    Ack,
    CreateAlarmCommand,
    InfoPayload,
    ProtocolError,
    SetLightCommand,
    SetWakeSettingsCommand,
    StartSunriseCommand,
    StartSunsetCommand,
    StatePayload,
    UpdateAlarmCommand,
    error_ack,
    validate_command,
)
from .statefile import StorageError

_LOGGER = logging.getLogger(__name__)

#: Seconds between two logged tracebacks of unexpected errors.
UNEXPECTED_LOG_INTERVAL = 60.0

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Command(Generic[C]):
    """One command: how its validated payload becomes typed, and what runs it."""

    parse: Callable[[dict[str, Any]], C]
    run: Callable[[C], Awaitable[Ack]]

    async def __call__(self, data: dict[str, Any]) -> Ack:
        """Run the command with a payload the protocol's schema has validated."""
        return await self.run(self.parse(data))


# -- typed payloads from validated ones (the schema has checked every value) ----------


def _no_payload(data: dict[str, Any]) -> None:
    return None


def _set_light(data: dict[str, Any]) -> SetLightCommand:
    command: SetLightCommand = {}
    if "on" in data:
        command["on"] = data["on"]
    if "brightness" in data:
        command["brightness"] = data["brightness"]
    if "transition" in data:
        command["transition"] = data["transition"]
    if "color_temp_kelvin" in data:
        command["color_temp_kelvin"] = data["color_temp_kelvin"]
    if "rgb_color" in data:
        command["rgb_color"] = data["rgb_color"]
    return command


def _start_sunrise(data: dict[str, Any]) -> StartSunriseCommand:
    return {
        "duration": data["duration"],
        "target_brightness": data["target_brightness"],
        "start_brightness": data["start_brightness"],
        "curve": data["curve"],
        "color_path": data.get("color_path", "sunrise"),
        "start_kelvin": data.get("start_kelvin"),
        "target_kelvin": data.get("target_kelvin"),
    }


def _start_sunset(data: dict[str, Any]) -> StartSunsetCommand:
    return {
        "duration": data["duration"],
        "start_brightness": data["start_brightness"],
        "curve": data["curve"],
    }


def _wake_settings(data: dict[str, Any]) -> SetWakeSettingsCommand:
    command: SetWakeSettingsCommand = {}
    if "snooze_length" in data:
        command["snooze_length"] = data["snooze_length"]
    if "snooze_level" in data:
        command["snooze_level"] = data["snooze_level"]
    if "dismiss" in data:
        command["dismiss"] = data["dismiss"]
    if "after_wake" in data:
        command["after_wake"] = data["after_wake"]
    return command


def _create_alarm(data: dict[str, Any]) -> CreateAlarmCommand:
    command: CreateAlarmCommand = {
        "time": data["time"],
        "weekdays": data["weekdays"],
        "date": data["date"],
        "enabled": data["enabled"],
        "duration": data["duration"],
        "target_brightness": data["target_brightness"],
        "curve": data["curve"],
        "color_path": data.get("color_path", "sunrise"),
        "start_kelvin": data.get("start_kelvin"),
        "target_kelvin": data.get("target_kelvin"),
    }
    if "id" in data:
        command["id"] = data["id"]
    if "name" in data:
        command["name"] = data["name"]
    return command


def _update_alarm(data: dict[str, Any]) -> UpdateAlarmCommand:
    command: UpdateAlarmCommand = {"id": data["id"]}
    if "name" in data:
        command["name"] = data["name"]
    if "time" in data:
        command["time"] = data["time"]
    if "weekdays" in data:
        command["weekdays"] = data["weekdays"]
    if "date" in data:
        command["date"] = data["date"]
    if "enabled" in data:
        command["enabled"] = data["enabled"]
    if "duration" in data:
        command["duration"] = data["duration"]
    if "target_brightness" in data:
        command["target_brightness"] = data["target_brightness"]
    if "curve" in data:
        command["curve"] = data["curve"]
    if "color_path" in data:
        command["color_path"] = data["color_path"]
    if "start_kelvin" in data:
        command["start_kelvin"] = data["start_kelvin"]
    if "target_kelvin" in data:
        command["target_kelvin"] = data["target_kelvin"]
    return command


def _alarm_id(data: dict[str, Any]) -> str:
    alarm_id: str = data["id"]
    return alarm_id


def _skip(data: dict[str, Any]) -> tuple[str, bool]:
    return data["id"], data["skip"]


class Answerer(Protocol):
    """What a transport needs: commands answered, unexpected errors logged."""

    async def answer(self, event: str, payload: Any) -> Ack:
        """Run one command and answer it, whatever happens."""

    def log_unexpected(self, what: str, err: BaseException) -> None:
        """Log ``err``, which ``what`` raised, throttled."""


class Router:
    """Validates, runs and answers commands (see the module docstring)."""

    def __init__(
        self,
        controller: LightController,
        alarms: AlarmScheduler,
        *,
        state: Callable[[], StatePayload],
        complete: Callable[[StatePayload], StatePayload],
        info: Callable[[], InfoPayload],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Route onto ``controller`` and ``alarms``.

        ``state`` and ``info`` build those payloads; ``complete`` turns the light's
        snapshot a command returned into the whole ``state`` payload.
        """
        self._controller = controller
        self._complete = complete
        self._alarms = alarms
        self._state = state
        self._info = info
        self._clock = clock
        self._stopping = False
        self._unexpected = 0
        self._next_traceback = 0.0
        self.commands: Mapping[str, Command[Any]] = {
            EVENT_SET_LIGHT: Command(_set_light, self._run_set_light),
            EVENT_START_SUNRISE: Command(_start_sunrise, self._run_start_sunrise),
            EVENT_STOP_SUNRISE: Command(_no_payload, self._run_stop_sunrise),
            EVENT_GET_STATE: Command(_no_payload, self._run_get_state),
            EVENT_GET_INFO: Command(_no_payload, self._run_get_info),
            EVENT_GET_DEVICE: Command(_no_payload, self._run_get_device),
            EVENT_LIST_ALARMS: Command(_no_payload, self._run_list_alarms),
            EVENT_GET_ALARM: Command(_alarm_id, self._run_get_alarm),
            EVENT_CREATE_ALARM: Command(_create_alarm, self._run_create_alarm),
            EVENT_UPDATE_ALARM: Command(_update_alarm, self._run_update_alarm),
            EVENT_DELETE_ALARM: Command(_alarm_id, self._run_delete_alarm),
            EVENT_SKIP_ALARM: Command(_skip, self._run_skip_alarm),
            EVENT_START_SUNSET: Command(_start_sunset, self._run_start_sunset),
            EVENT_STOP_SUNSET: Command(_no_payload, self._run_stop_sunset),
            EVENT_SNOOZE_ALARM: Command(_no_payload, self._run_snooze),
            EVENT_DISMISS_ALARM: Command(_no_payload, self._run_dismiss),
            EVENT_SET_WAKE_SETTINGS: Command(_wake_settings, self._run_set_wake_settings),
        }

    def stop(self) -> None:
        """Refuse commands from now on (the device is shutting down)."""
        self._stopping = True

    async def execute(self, event: str, payload: Any) -> Ack:
        """Validate and run one command; raise :class:`ProtocolError` if refused."""
        data = validate_command(event, payload)
        if self._stopping:
            raise ProtocolError("internal_error", "the device is shutting down")
        return await self.commands[event](data)

    async def answer(self, event: str, payload: Any) -> Ack:
        """Run one command and answer it, whatever happens (the error policy above)."""
        return await self.guard(event, self.execute(event, payload))

    async def guard(self, event: str, running: Awaitable[Ack]) -> Ack:
        """Await ``running`` (the command ``event``) and apply the error policy to it."""
        try:
            return await running
        except StorageError as err:
            return {**err.as_ack(), "state": self._state()}
        except ProtocolError as err:
            return err.as_ack()
        except Exception as err:  # noqa: BLE001 - the policy: every command is answered
            self.log_unexpected(f"Command {event}", err)
            return error_ack("internal_error", "the device could not carry out the command")

    def log_unexpected(self, what: str, err: BaseException) -> None:
        """Log ``err``, which ``what`` raised: a traceback at most once a minute."""
        self._unexpected += 1
        now = self._clock()
        if now < self._next_traceback:
            _LOGGER.debug("%s failed: %r", what, err)
            return
        self._next_traceback = now + UNEXPECTED_LOG_INTERVAL
        _LOGGER.error(
            "%s failed (%d unexpected error(s) so far; the next traceback in %g s at the earliest)",
            what,
            self._unexpected,
            UNEXPECTED_LOG_INTERVAL,
            exc_info=err,
        )

    # -- the handlers ---------------------------------------------------------------

    def _ok(self, state: StatePayload) -> Ack:
        return {"ok": True, "state": self._complete(state)}

    async def _run_set_light(self, command: SetLightCommand) -> Ack:
        return self._ok(await self._controller.set_light(command))

    async def _run_start_sunrise(self, command: StartSunriseCommand) -> Ack:
        return self._ok(await self._controller.start_sunrise(command))

    async def _run_stop_sunrise(self, _: None) -> Ack:
        return self._ok(await self._controller.stop_sunrise())

    async def _run_start_sunset(self, command: StartSunsetCommand) -> Ack:
        return self._ok(await self._controller.start_sunset(command))

    async def _run_stop_sunset(self, _: None) -> Ack:
        return self._ok(await self._controller.stop_sunset())

    async def _run_snooze(self, _: None) -> Ack:
        return self._ok(await self._controller.snooze())

    async def _run_dismiss(self, _: None) -> Ack:
        return self._ok(await self._controller.dismiss())

    async def _run_set_wake_settings(self, command: SetWakeSettingsCommand) -> Ack:
        return self._ok(await self._controller.set_wake_settings(command))

    async def _run_get_state(self, _: None) -> Ack:
        return {"ok": True, "state": self._state()}

    async def _run_get_info(self, _: None) -> Ack:
        return {"ok": True, "info": self._info()}

    async def _run_get_device(self, _: None) -> Ack:
        return {
            "ok": True,
            "info": self._info(),
            "state": self._state(),
            "alarms": self._alarms.list_payload(),
        }

    def _alarm_ack(self, alarm: Alarm | None) -> Ack:
        """An alarm command's ack: ``alarms``, ``state`` and (one alarm) ``alarm``."""
        ack: Ack = {"ok": True, "alarms": self._alarms.list_payload(), "state": self._state()}
        if alarm is not None:
            ack["alarm"] = self._alarms.payload(alarm)
        return ack

    async def _run_list_alarms(self, _: None) -> Ack:
        return self._alarm_ack(None)

    async def _run_get_alarm(self, alarm_id: str) -> Ack:
        return self._alarm_ack(self._alarms.get(alarm_id))

    async def _run_create_alarm(self, command: CreateAlarmCommand) -> Ack:
        return self._alarm_ack(await self._alarms.create(command))

    async def _run_update_alarm(self, command: UpdateAlarmCommand) -> Ack:
        return self._alarm_ack(await self._alarms.update(command))

    async def _run_delete_alarm(self, alarm_id: str) -> Ack:
        await self._alarms.delete(alarm_id)
        return self._alarm_ack(None)

    async def _run_skip_alarm(self, skip: tuple[str, bool]) -> Ack:
        alarm_id, skip_it = skip
        return self._alarm_ack(await self._alarms.skip_next(alarm_id, skip=skip_it))
