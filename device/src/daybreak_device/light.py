"""The light: state, commands, the ramp engine and persistence.

Brightness is kept as a float on Home Assistant's 0-255 scale and converted to a
duty cycle by the :class:`~daybreak_device.dimming.Dimmer` only at the output.

Transitions and sunrises are :class:`Ramp` schedules anchored to the wall clock
(so they survive a restart) and run by one task that ticks at ``tick_rate`` Hz
against absolute deadlines on the event loop's monotonic clock: tick *n* is due at
``start + n / tick_rate``, and the level is computed from the elapsed time, so
sleeps never accumulate drift. State is saved atomically on each user command and
when a ramp ends, never per tick.

A sunset is the same kind of ramp, from the current level (or a given one) to off.

An alarm's sunrise opens an :class:`AlarmSession`: until it is dismissed, replaced by
a command, or ``after_wake`` seconds past its wake time, it can be snoozed (the
sunrise pauses, the light goes to the snooze level, and the sunrise continues from
where it was when the snooze ends: it ends later by the snooze) and dismissed (see
:class:`~daybreak_device.wake_settings.WakeSettings`). A snooze is saved, so it ends
on time across a restart.

Besides state changes, the controller reports what happens to sunrises, sunsets and
alarms as one-off events (``sunrise.started``, ``sunrise.finished``,
``sunrise.cancelled``, the same for ``sunset.*``, ``alarm.snoozed`` and
``alarm.dismissed``) to the listeners registered with
:meth:`LightController.add_event_listener`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

from .colour import (
    DEFAULT_KELVIN_SHOWN,
    SUNRISE_DAWN_KELVIN,
    SUNRISE_TARGET_KELVIN,
    WARM_WHITE_KELVIN,
    Colour,
    Mixer,
    blend,
)
from .dimming import Dimmer
from .output import MultiOutput, Output, OutputError
from .protocol import (
    ALARM_ID_MAX_LENGTH,
    BRIGHTNESS_MAX,
    COLOR_PATHS,
    CURVES,
    EVENT_ALARM_DISMISSED,
    EVENT_ALARM_SNOOZED,
    EVENT_SUNRISE_CANCELLED,
    EVENT_SUNRISE_FINISHED,
    EVENT_SUNRISE_STARTED,
    EVENT_SUNSET_CANCELLED,
    EVENT_SUNSET_FINISHED,
    EVENT_SUNSET_STARTED,
    AlarmStatePayload,
    ChannelsInfo,
    ColorPath,
    Curve,
    DeviceEventPayload,
    ProtocolError,
    SetLightCommand,
    SetWakeSettingsCommand,
    StartSunriseCommand,
    StartSunsetCommand,
    StatePayload,
    SunriseStatePayload,
    SunsetStatePayload,
    TransitionStatePayload,
    apply_curve,
)
from .statefile import STATE_FILE_VERSION, StateFile, StorageError
from .wake_settings import WakeSettings

_LOGGER = logging.getLogger(__name__)

RampKind: TypeAlias = Literal["transition", "sunrise", "sunset"]
RAMP_KINDS: Final[tuple[RampKind, ...]] = ("transition", "sunrise", "sunset")
#: Listens to one-off events: called with the event's name and its payload.
EventListener: TypeAlias = Callable[[str, DeviceEventPayload], None]
#: The event names of what happens to a ramp of each kind that is reported.
_RAMP_EVENTS: Final[dict[RampKind, dict[str, str]]] = {
    "sunrise": {
        "started": EVENT_SUNRISE_STARTED,
        "finished": EVENT_SUNRISE_FINISHED,
        "cancelled": EVENT_SUNRISE_CANCELLED,
    },
    "sunset": {
        "started": EVENT_SUNSET_STARTED,
        "finished": EVENT_SUNSET_FINISHED,
        "cancelled": EVENT_SUNSET_CANCELLED,
    },
}
__all__ = [
    "LIGHT_KEYS",
    "STATE_FILE_VERSION",
    "AlarmSession",
    "LightController",
    "Ramp",
    "iso_utc",
]


def _kelvin(colour: Colour | None) -> int | None:
    """A colour's temperature as reported (whole kelvin), ``None`` for other colours."""
    if colour is None or colour.kelvin is None:
        return None
    return round(colour.kelvin)


def iso_utc(timestamp: float) -> str:
    """Format an epoch timestamp as ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Ramp:
    """A brightness schedule: from ``start`` to ``target`` over ``duration`` seconds.

    ``started_at`` is wall-clock (epoch) time, so a saved ramp can be resumed after
    a restart and still end at the same moment. ``alarm_id`` is the alarm that started
    a sunrise (``None`` for one started by a command, and for transitions).

    On a device with colour channels the colour moves from ``colour_start`` to
    ``colour_target`` with the brightness (the same curve); a sunrise keeps the
    ``color_path`` it follows. ``None`` colours: brightness only.
    """

    kind: RampKind
    start: float
    target: float
    duration: float
    curve: Curve
    started_at: float
    alarm_id: str | None = None
    colour_start: Colour | None = None
    colour_target: Colour | None = None
    color_path: ColorPath | None = None

    @property
    def ends_at(self) -> float:
        """Wall-clock time at which the ramp reaches its target."""
        return self.started_at + self.duration

    def progress(self, elapsed: float) -> float:
        """Fraction of the duration done after ``elapsed`` seconds (0-1)."""
        if self.duration <= 0:
            return 1.0
        return min(1.0, max(0.0, elapsed / self.duration))

    def level_at(self, elapsed: float) -> float:
        """Brightness (0-255) the schedule calls for after ``elapsed`` seconds."""
        fraction = apply_curve(self.curve, self.progress(elapsed))
        return self.start + (self.target - self.start) * fraction

    @property
    def end_colour(self) -> Colour | None:
        """The colour the light keeps when the ramp ends: its target, but a sunset's start.

        A sunset warms as it dims to off; the next time the light is on, it is as before.
        """
        return self.colour_start if self.kind == "sunset" else self.colour_target

    def colour_at(self, elapsed: float) -> Colour | None:
        """The colour the schedule calls for after ``elapsed`` seconds (``None``: none)."""
        if self.colour_start is None or self.colour_target is None:
            return None
        fraction = apply_curve(self.curve, self.progress(elapsed))
        return blend(self.colour_start, self.colour_target, fraction)

    def to_json(self) -> dict[str, Any]:
        """Return the ramp as a JSON-ready dict (for the state file)."""
        data = asdict(self)
        for key in ("colour_start", "colour_target"):
            colour: Colour | None = getattr(self, key)
            data[key] = None if colour is None else colour.to_json()
        if self.colour_start is None and self.color_path is None:
            # Brightness only: saved as before protocol 4.
            for key in ("colour_start", "colour_target", "color_path"):
                del data[key]
        return data

    @classmethod
    def from_json(cls, data: Any) -> Ramp:
        """Rebuild a ramp saved by :meth:`to_json`; raise ``ValueError`` if malformed."""
        if not isinstance(data, dict):
            raise ValueError("ramp is not an object")
        kind, curve = data.get("kind"), data.get("curve")
        if kind not in RAMP_KINDS or curve not in CURVES:
            raise ValueError("ramp kind or curve unknown")
        numbers = [data.get(key) for key in ("start", "target", "duration", "started_at")]
        try:
            finite = all(
                isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n)
                for n in numbers
            )
        except OverflowError:  # a JSON integer too large for a float
            finite = False
        if not finite:
            raise ValueError("ramp numbers missing or not finite")
        start, target, duration, started_at = (float(n) for n in numbers)  # type: ignore[arg-type]
        if not (0 <= start <= BRIGHTNESS_MAX and 0 <= target <= BRIGHTNESS_MAX and duration >= 0):
            raise ValueError("ramp values out of range")
        alarm_id = data.get("alarm_id")  # missing in files from before protocol 2
        if alarm_id is not None and (
            not isinstance(alarm_id, str) or not 1 <= len(alarm_id) <= ALARM_ID_MAX_LENGTH
        ):
            raise ValueError("ramp alarm id is not a valid id or null")
        # Colours are missing in files from before protocol 4 (and on one channel).
        colours = [
            None if data.get(key) is None else Colour.from_json(data[key])
            for key in ("colour_start", "colour_target")
        ]
        path = data.get("color_path")
        if path is not None and path not in COLOR_PATHS:
            raise ValueError("ramp colour path unknown")
        return cls(
            kind, start, target, duration, curve, started_at, alarm_id, colours[0], colours[1], path
        )


def _finite(value: Any) -> bool:
    """Whether ``value`` is a real, finite JSON number (not a bool)."""
    try:
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    except OverflowError:  # a JSON integer too large for a float
        return False


@dataclass(frozen=True, slots=True)
class AlarmSession:
    """The alarm in progress (see the module docstring). Times are wall-clock (epoch).

    ``wake_at`` is when its sunrise ends (moved on by each snooze). While snoozed,
    ``snoozed_until`` is when the snooze ends and ``resume`` the sunrise that then
    continues (anchored so that it is at the paused level at ``snoozed_until``; a
    snooze after the wake time resumes a ramp of no duration, at the level it had).
    """

    alarm_id: str
    wake_at: float
    snoozed_until: float | None = None
    resume: Ramp | None = None
    snoozes: int = 0

    def to_json(self) -> dict[str, Any]:
        """Return the session as a JSON-ready dict (for the state file)."""
        return {
            "alarm_id": self.alarm_id,
            "wake_at": self.wake_at,
            "snoozed_until": self.snoozed_until,
            "resume": None if self.resume is None else self.resume.to_json(),
            "snoozes": self.snoozes,
        }

    @classmethod
    def from_json(cls, data: Any) -> AlarmSession:
        """Rebuild a session saved by :meth:`to_json`; raise ``ValueError`` if malformed."""
        if not isinstance(data, dict):
            raise ValueError("alarm session is not an object")
        alarm_id, wake_at, until = (
            data.get("alarm_id"),
            data.get("wake_at"),
            data.get("snoozed_until"),
        )
        snoozes = data.get("snoozes")
        if not isinstance(alarm_id, str) or not 1 <= len(alarm_id) <= ALARM_ID_MAX_LENGTH:
            raise ValueError("alarm session id is not a valid id")
        if not _finite(wake_at) or (until is not None and not _finite(until)):
            raise ValueError("alarm session times missing or not finite")
        if isinstance(snoozes, bool) or not isinstance(snoozes, int) or snoozes < 0:
            raise ValueError("alarm session snoozes is not a count")
        resume = None if data.get("resume") is None else Ramp.from_json(data["resume"])
        if (until is None) != (resume is None):
            raise ValueError("a snoozed alarm session needs both its end and its sunrise")
        wake, snoozed_until = float(wake_at), None if until is None else float(until)  # type: ignore[arg-type]
        return cls(alarm_id, wake, snoozed_until, resume, snoozes)


#: A wall clock that moved against the monotonic one by more than this (seconds)
#: during a ramp was stepped: the ramp's reported and saved times are re-anchored.
CLOCK_STEP_TOLERANCE: Final = 1.0
#: The light's own keys in the state file.
LIGHT_KEYS: Final = frozenset({"on", "level", "on_brightness", "ramp", "colour", "session"})


@dataclass(frozen=True, slots=True)
class _Saved:
    """The light's part of the state file."""

    on: bool = False
    level: float = 0.0
    on_brightness: float = float(BRIGHTNESS_MAX)
    ramp: Ramp | None = None
    colour: Colour | None = None
    session: AlarmSession | None = None


def _parse_saved(data: dict[str, Any], path: Path) -> _Saved:
    """The light's state from the state file's ``data`` (``{}``: none saved)."""
    if not data.keys() & LIGHT_KEYS:
        return _Saved()
    try:
        on, level, on_brightness = data["on"], data["level"], data["on_brightness"]
        if not isinstance(on, bool):
            raise ValueError("'on' is not a boolean")
        for value in (level, on_brightness):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError("levels are not numbers")
            if not 0 <= value <= BRIGHTNESS_MAX:
                raise ValueError("levels out of range")
        ramp = None if data.get("ramp") is None else Ramp.from_json(data["ramp"])
        colour = None if data.get("colour") is None else Colour.from_json(data["colour"])
    except (KeyError, ValueError) as err:
        _LOGGER.warning("State file %s is invalid (%s); using defaults", path, err)
        return _Saved()
    session = None
    if data.get("session") is not None:  # missing in files from before protocol 4
        try:
            session = AlarmSession.from_json(data["session"])
        except ValueError as err:
            _LOGGER.warning("State file %s: the alarm in progress is invalid (%s)", path, err)
    return _Saved(on, float(level), max(1.0, float(on_brightness)), ramp, colour, session)


class LightController:
    """Owns the light state and the ramp engine; the server maps requests onto it.

    Listeners registered with :meth:`add_listener` are called (synchronously, with
    no arguments) after every change worth telling clients about: each command,
    the start and end of a ramp, and at most every ``progress_interval`` seconds
    while one runs. Those registered with :meth:`add_event_listener` are called once
    per sunrise event, when it happens.

    **One clock, one level.** A running ramp is timed on the event loop's monotonic
    clock from the moment it starts (a scheduled or resumed one is placed on it once,
    from the wall clock), so a wall-clock step (NTP correcting a Pi that booted without
    a clock) changes neither the level nor the time left. Each tick computes the level
    once and writes it to the LED; the state reports that very level (never one worked
    out again from the wall clock), and :meth:`stop_sunrise` holds it. Only the reported
    ``started_at``/``ends_at`` follow the wall clock: they are re-anchored to it.

    **Push before persist.** A command changes the LED and the state, tells the
    listeners (the push stream sends ``state`` at once), and only then waits for the
    state file (:class:`~daybreak_device.statefile.StateFile`), outside the command
    lock: the next command does not wait for the disk, and one write carries every
    change made while the previous one ran. A failed write raises
    :class:`~daybreak_device.statefile.StorageError` *after* the change is made: the
    room is lit as asked, and the store saves it as soon as the disk takes it again.
    """

    def __init__(
        self,
        output: Output,
        dimmer: Dimmer,
        store: StateFile,
        *,
        mixer: Mixer | None = None,
        tick_rate: float = 50.0,
        progress_interval: float = 1.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the controller and register its section of ``store``; then :meth:`start`.

        With a ``mixer`` (colour channels) ``output`` is a :class:`MultiOutput` with one
        output per mixer channel.
        """
        if not 1 <= tick_rate <= 1000:
            raise ValueError("tick rate must be between 1 and 1000 Hz")
        if mixer is not None and not (
            isinstance(output, MultiOutput) and len(output.channels) == len(mixer.channels)
        ):
            raise ValueError("colour channels need one output per channel")
        self._mixer = mixer
        self._multi = output if isinstance(output, MultiOutput) else None
        #: The colour shown (colour channels only).
        self._colour = self._clamp(Colour.from_kelvin(DEFAULT_KELVIN_SHOWN))
        self._output = output
        self._dimmer = dimmer
        self._store = store
        self._period = 1.0 / tick_rate
        self._progress_interval = progress_interval
        self._wall = wall_clock
        self._on = False
        #: The level the LED was last driven to (the level reported).
        self._level = 0.0
        self._on_brightness = float(BRIGHTNESS_MAX)
        self._ramp: Ramp | None = None
        #: The loop time at which the running ramp's elapsed time is 0.
        self._anchor = 0.0
        #: The ramp's elapsed time at the level last shown.
        self._elapsed = 0.0
        self._ramp_task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._event_listeners: list[EventListener] = []
        #: The alarm in progress, and the task that ends its snooze or its time.
        self._session: AlarmSession | None = None
        self._session_task: asyncio.Task[None] | None = None
        self._output_errors = 0
        self._saved = _Saved()
        # Commands run one at a time, so each ack reports the state it produced.
        self._command_lock = asyncio.Lock()
        store.add_section(LIGHT_KEYS, load=self._load, dump=self._dump)
        #: What a snooze and a dismiss do (saved in the same file).
        self.wake_settings = WakeSettings(store)

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (if not yet), drive the output to the saved state, resume a ramp.

        A saved ramp that ended while the device was down lands at its target; that is
        saved in the background (a disk that cannot take it is reported, not fatal).
        """
        await self._store.open()
        saved = self._saved
        self._on, self._on_brightness = saved.on, saved.on_brightness
        self._level = saved.level
        if saved.colour is not None:
            self._colour = self._clamp(saved.colour)
        self._session = saved.session
        ramp = saved.ramp
        if ramp is not None:
            elapsed = self._wall() - ramp.started_at
            if elapsed < ramp.duration:
                _LOGGER.info(
                    "Resuming %s %.1f s in, %.1f s left",
                    ramp.kind,
                    elapsed,
                    ramp.duration - elapsed,
                )
                self._begin_ramp(ramp)
                self._plan_session()
                return
            # It ended while we were down: land where it was going (a sunset: off).
            self._level = ramp.target
            if ramp.end_colour is not None:
                self._colour = self._clamp(ramp.end_colour)
            if ramp.target <= 0:
                self._on = False
            self._store.request_save()
        self._show(self._level)
        self._plan_session()

    async def stop(self) -> None:
        """Stop the engine and save the state, keeping any running ramp for resumption.

        Never raises for the disk's sake, and gives up on a write after a second.
        """
        # Saved with the ramp it was running (re-anchored to now), which start() resumes,
        # and the alarm in progress (its snooze ends on time after the restart).
        self._ramp = await self._cancel_ramp_task(report=False)
        if self._session_task is not None:
            self._session_task.cancel()
            self._session_task = None
        if not self._store.is_open:
            return
        try:
            async with asyncio.timeout(1.0):
                await self._store.save()
        except (StorageError, TimeoutError) as err:
            _LOGGER.error("Stopping with the newest state not saved: %s", str(err) or "timeout")  # noqa: TRY400

    # -- queries ----------------------------------------------------------------

    @property
    def output(self) -> Output:
        """The output backend."""
        return self._output

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after each change; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener(event, payload)`` for each one-off event; returns a remover.

        ``sunrise.started`` when a sunrise begins (not when a saved one is resumed at
        :meth:`start`, nor when one continues after a snooze), ``sunrise.finished``
        when one reaches its end, and ``sunrise.cancelled`` when one is stopped or
        replaced by a command (before the replacing sunrise's ``sunrise.started``);
        ``sunset.*`` likewise; ``alarm.snoozed`` and ``alarm.dismissed``. Called
        synchronously, in order.
        """
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    @property
    def mixer(self) -> Mixer | None:
        """The colour mixer (``None`` for a single channel)."""
        return self._mixer

    def channels_info(self) -> ChannelsInfo | None:
        """The ``channels`` of ``info`` (``None`` for a single channel)."""
        if self._mixer is None:
            return None
        low, high = self._mixer.kelvin_range
        return {
            "layout": self._mixer.kind,
            "names": [channel.name for channel in self._mixer.channels],
            "min_color_temp_kelvin": math.ceil(low),
            "max_color_temp_kelvin": math.floor(high),
        }

    def current_colour(self) -> Colour:
        """The colour shown now (colour channels; a single channel keeps a default)."""
        return self._colour

    @property
    def alarm_in_progress(self) -> bool:
        """Whether an alarm can be snoozed or dismissed now."""
        return self._session is not None

    def current_level(self) -> float:
        """The brightness (0-255) the LED shows now: the level last written to it."""
        return self._level

    def _started_at(self) -> float:
        """The running ramp's start on today's wall clock (re-anchored, see the class).

        The ramp keeps its own ``started_at`` until the wall clock has moved against
        the monotonic one by over :data:`CLOCK_STEP_TOLERANCE`; then it is re-anchored
        once (and logged), so the usual sub-millisecond drift between the two clocks
        never changes a reported or saved time.
        """
        if self._ramp is None:
            raise RuntimeError("no ramp is running")
        anchored = self._wall() - (asyncio.get_running_loop().time() - self._anchor)
        if abs(anchored - self._ramp.started_at) > CLOCK_STEP_TOLERANCE:
            _LOGGER.info(
                "The wall clock moved %+.1f s during the %s; it keeps its schedule (%.1f s left)",
                anchored - self._ramp.started_at,
                self._ramp.kind,
                self._ramp.duration - self._elapsed,
            )
            self._ramp = replace(self._ramp, started_at=anchored)
        return self._ramp.started_at

    def snapshot(self) -> StatePayload:
        """The state as the protocol's ``state`` payload: what the LED shows."""
        level = self._level
        ramp = self._ramp
        sunrise: SunriseStatePayload | None = None
        sunset: SunsetStatePayload | None = None
        transition: TransitionStatePayload | None = None
        if ramp is not None:
            started_at = self._started_at()
            if ramp.kind == "sunset":
                sunset = {
                    "started_at": iso_utc(started_at),
                    "ends_at": iso_utc(started_at + ramp.duration),
                    "duration": ramp.duration,
                    "start_brightness": ramp.start,
                    "progress": round(ramp.progress(self._elapsed), 4),
                    "curve": ramp.curve,
                }
            elif ramp.kind == "sunrise":
                sunrise = {
                    "active": True,
                    "started_at": iso_utc(started_at),
                    "ends_at": iso_utc(started_at + ramp.duration),
                    "duration": ramp.duration,
                    "start_brightness": ramp.start,
                    "target_brightness": ramp.target,
                    "progress": round(ramp.progress(self._elapsed), 4),
                    "curve": ramp.curve,
                    "alarm_id": ramp.alarm_id,
                }
                if self._mixer is not None and ramp.color_path is not None:
                    sunrise["color_path"] = ramp.color_path
                    sunrise["start_kelvin"] = _kelvin(ramp.colour_start)
                    sunrise["target_kelvin"] = _kelvin(ramp.colour_target)
            else:
                transition = {
                    "target_brightness": ramp.target,
                    "ends_at": iso_utc(started_at + ramp.duration),
                }
        state: StatePayload = {
            "on": self._on,
            "brightness": min(BRIGHTNESS_MAX, max(0, round(level))),
            "level": round(level, 3),
            "sunrise": sunrise,
            "transition": transition,
            "sunset": sunset,
            "alarm": self._session_payload(),
            "wake_settings": self.wake_settings.payload(),
        }
        if self._mixer is not None:
            state["color_temp_kelvin"] = _kelvin(self._colour)
            state["rgb_color"] = list(self._colour.rgb)
        return state

    def _session_payload(self) -> AlarmStatePayload | None:
        session = self._session
        if session is None:
            return None
        until = session.snoozed_until
        return {
            "alarm_id": session.alarm_id,
            "wake_at": iso_utc(session.wake_at),
            "ends_at": iso_utc(session.wake_at + self.wake_settings.after_wake),
            "snoozed_until": None if until is None else iso_utc(until),
            "snoozes": session.snoozes,
        }

    # -- commands ---------------------------------------------------------------

    async def set_light(self, command: SetLightCommand) -> StatePayload:
        """Turn on/off and/or set brightness, optionally fading over ``transition`` s.

        Cancels any running transition or sunrise. Brightness 0 means off; ``on``
        without brightness restores the last on-brightness.
        """
        async with self._command_lock:
            await self._set_light(command)
            state, saved = self._changed()
        await saved
        return state

    async def _set_light(self, command: SetLightCommand) -> None:
        colour = self._requested_colour(command)
        current, current_colour = self._level, self._colour
        self._end_session()
        await self._cancel_ramp_task()
        brightness = command.get("brightness")
        turn_on = command.get("on", brightness is None or brightness > 0)
        if brightness is not None and brightness > 0:
            self._on_brightness = brightness
        if brightness == 0:
            turn_on = False
        self._on = turn_on
        target = self._on_brightness if turn_on else 0.0
        transition = command.get("transition", 0.0)
        colour = colour or current_colour
        if transition > 0 and (target != current or colour != current_colour):
            moves = self._mixer is not None and colour != current_colour
            self._begin_ramp(
                Ramp(
                    "transition",
                    current,
                    target,
                    transition,
                    "linear",
                    self._wall(),
                    colour_start=current_colour if moves else None,
                    colour_target=colour if moves else None,
                )
            )
        else:
            self._show(target, colour)

    def _requested_colour(self, command: SetLightCommand) -> Colour | None:
        """The colour ``command`` asks for, clamped to what the LEDs reach (else ``None``).

        Refused with ``invalid_payload`` (before anything changes) on a single channel.
        """
        if "color_temp_kelvin" in command:
            colour = Colour.from_kelvin(command["color_temp_kelvin"])
        elif "rgb_color" in command:
            colour = Colour.from_rgb(command["rgb_color"])
        else:
            return None
        if self._mixer is None:
            raise ProtocolError(
                "invalid_payload", "this device has a single channel: it shows no colour"
            )
        return self._clamp(colour)

    def _clamp(self, colour: Colour) -> Colour:
        """``colour`` as the LEDs can show it: the kelvin in range, else the nearest xy."""
        if self._mixer is None:
            return colour
        if colour.kelvin is not None:
            low, high = self._mixer.kelvin_range
            kelvin = min(high, max(low, colour.kelvin))
            if kelvin != colour.kelvin:
                colour = Colour.from_kelvin(kelvin)
            if self._mixer.kind == "cct":
                return colour  # the mix of the two whites nearest the locus (see Mixer)
        return Colour(self._mixer.reachable(colour.xy), colour.kelvin)

    async def start_sunrise(
        self,
        command: StartSunriseCommand,
        *,
        started_at: float | None = None,
        alarm_id: str | None = None,
    ) -> StatePayload:
        """Start a sunrise ramp; cancels any running ramp.

        ``started_at`` (wall clock, default now) anchors a scheduled sunrise (an alarm)
        at its planned start: it ends at ``started_at + duration`` and, started late,
        begins at the level its schedule calls for by now. ``alarm_id`` is the alarm
        that starts it, reported with the sunrise and its events.
        """
        async with self._command_lock:
            await self._start_sunrise(command, started_at, alarm_id)
            state, saved = self._changed()
        await saved
        return state

    async def _start_sunrise(
        self, command: StartSunriseCommand, started_at: float | None, alarm_id: str | None
    ) -> None:
        current = self._level if self._on else 0.0
        self._end_session()
        await self._cancel_ramp_task()
        start = command["start_brightness"]
        start = current if start is None else start
        path = command.get("color_path", "sunrise")
        colours = self._sunrise_colours(
            path, command.get("start_kelvin"), command.get("target_kelvin")
        )
        ramp = Ramp(
            "sunrise",
            start,
            command["target_brightness"],
            command["duration"],
            command["curve"],
            self._wall() if started_at is None else started_at,
            alarm_id,
            colours[0],
            colours[1],
            path if self._mixer is not None else None,
        )
        self._on = True
        self._on_brightness = ramp.target
        self._begin_ramp(ramp)
        self._ramp_event("started", ramp)
        if alarm_id is not None:
            self._session = AlarmSession(alarm_id, ramp.ends_at)

    def _sunrise_colours(
        self, path: ColorPath, start_kelvin: float | None, target_kelvin: float | None
    ) -> tuple[Colour | None, Colour | None]:
        """A sunrise's first and last colour on ``path`` (``None`` on a single channel).

        ``sunrise`` rises from ``start_kelvin`` (default: deep red-orange, or a CCT
        strip's warm white) to ``target_kelvin``; ``warm`` holds ``start_kelvin``
        (default warm white); ``white`` holds ``target_kelvin``, else today's colour.
        """
        if self._mixer is None:
            return None, None
        low = self._mixer.kelvin_range[0]
        warm = low if self._mixer.kind == "cct" else WARM_WHITE_KELVIN
        if path == "warm":
            colour = self._clamp(Colour.from_kelvin(start_kelvin or warm))
            return colour, colour
        if path == "white":
            colour = (
                self._colour
                if target_kelvin is None
                else self._clamp(Colour.from_kelvin(target_kelvin))
            )
            return colour, colour
        dawn = low if self._mixer.kind == "cct" else SUNRISE_DAWN_KELVIN
        first = Colour.from_kelvin(start_kelvin or dawn)
        last = Colour.from_kelvin(target_kelvin or SUNRISE_TARGET_KELVIN)
        # Along the locus in mired (blend); each tick clamps to what the LEDs reach.
        return self._clamp_kelvin(first), self._clamp_kelvin(last)

    def _clamp_kelvin(self, colour: Colour) -> Colour:
        """A sunrise colour: on CCT clamped to the whites' range, else kept on the locus."""
        if self._mixer is not None and self._mixer.kind == "cct":
            return self._clamp(colour)
        return colour

    async def stop_sunrise(self) -> StatePayload:
        """Stop a running sunrise and hold the level the LED shows (no-op otherwise).

        Stopping an alarm's sunrise (or its snooze) ends the alarm, as any command does.
        """
        return await self._stop_ramp("sunrise")

    async def stop_sunset(self) -> StatePayload:
        """Stop a running sunset and hold the level the LED shows (no-op otherwise)."""
        return await self._stop_ramp("sunset")

    async def start_sunset(self, command: StartSunsetCommand) -> StatePayload:
        """Start a sunset: a fade from ``start_brightness`` to off; cancels any ramp.

        Without ``start_brightness`` it starts at the level the light is at, or (the
        light off) at its last on-brightness. The on-brightness is kept, so the light
        comes back at it when next turned on. Ends the alarm in progress, if any.
        """
        async with self._command_lock:
            start = command["start_brightness"]
            if start is None:
                start = self._level if self._on and self._level > 0 else self._on_brightness
            self._end_session()
            await self._cancel_ramp_task()
            # On colour channels it also warms as it dims, toward the colour a sunrise
            # starts from (red-orange; a CCT strip's warm white); the colour comes back
            # when it ends, for the next time the light is turned on.
            warm = None if self._mixer is None else self._sunrise_colours("sunrise", None, None)[0]
            ramp = Ramp(
                "sunset",
                start,
                0.0,
                command["duration"],
                command["curve"],
                self._wall(),
                colour_start=None if warm is None else self._colour,
                colour_target=warm,
            )
            self._on = True
            self._begin_ramp(ramp)
            self._ramp_event("started", ramp)
            state, saved = self._changed()
        await saved
        return state

    async def _stop_ramp(self, kind: RampKind) -> StatePayload:
        async with self._command_lock:
            if kind == "sunrise" and self._session is not None:
                self._end_session()
            elif self._ramp is None or self._ramp.kind != kind:
                return self.snapshot()
            level = self._level
            await self._cancel_ramp_task()
            self._on = level > 0
            if level >= 1:
                self._on_brightness = level
            self._show(level)
            state, saved = self._changed()
        await saved
        return state

    # -- the alarm in progress: snooze and dismiss -------------------------------------

    def _live_session(self) -> AlarmSession:
        """The alarm in progress; ``no_alarm`` refused when there is none."""
        if self._session is None:
            raise ProtocolError(
                "no_alarm",
                "no alarm is running: snooze and dismiss work during an alarm's sunrise "
                "or a while after its wake time",
            )
        return self._session

    async def snooze(self) -> StatePayload:
        """Snooze the alarm in progress (``no_alarm`` refused when there is none).

        The light goes to the snooze level for the snooze length; then the sunrise
        continues from where it was, so it ends later by the snooze length. Snoozing
        a snoozed alarm starts the snooze again from now; snoozing after the wake
        time brings the light back to its level at the snooze's end.
        """
        async with self._command_lock:
            session = self._live_session()
            now = self._wall()
            until = now + self.wake_settings.snooze_length
            ramp = self._ramp
            if session.resume is not None and session.snoozed_until is not None:
                resume = replace(
                    session.resume,
                    started_at=session.resume.started_at + until - session.snoozed_until,
                )
            elif ramp is not None and ramp.kind == "sunrise":
                # Paused now (not at the last tick): it ends later by the snooze exactly.
                loop_now = asyncio.get_running_loop().time()
                elapsed = min(ramp.duration, loop_now - self._anchor)
                await self._cancel_ramp_task(report=False)
                resume = replace(ramp, started_at=until - elapsed)
            else:
                level = self._level if self._on else 0.0
                resume = Ramp("sunrise", level, level, 0.0, "linear", until, session.alarm_id)
            session = replace(
                session,
                wake_at=resume.ends_at,
                snoozed_until=until,
                resume=resume,
                snoozes=session.snoozes + 1,
            )
            self._session = session
            level = self.wake_settings.snooze_level
            self._on = level > 0
            self._show(level)
            self._plan_session()
            self._emit(
                EVENT_ALARM_SNOOZED,
                {
                    "time": iso_utc(now),
                    "alarm_id": session.alarm_id,
                    "until": iso_utc(until),
                    "wake_at": iso_utc(session.wake_at),
                    "snoozes": session.snoozes,
                },
            )
            state, saved = self._changed()
        await saved
        return state

    async def dismiss(self) -> StatePayload:
        """End the alarm in progress (``no_alarm`` refused when there is none).

        The light keeps the level it shows, or turns off (the ``dismiss`` setting).
        A sunrise still running (or snoozed) is reported ``sunrise.cancelled`` first.
        """
        async with self._command_lock:
            session = self._live_session()
            action = self.wake_settings.dismiss
            level = self._level if action == "keep" else 0.0
            self._end_session()
            await self._cancel_ramp_task()
            self._on = level > 0
            if level >= 1:
                self._on_brightness = level
            self._show(level)
            self._emit(
                EVENT_ALARM_DISMISSED,
                {"time": iso_utc(self._wall()), "alarm_id": session.alarm_id, "dismiss": action},
            )
            state, saved = self._changed()
        await saved
        return state

    async def set_wake_settings(self, command: SetWakeSettingsCommand) -> StatePayload:
        """Change the snooze and dismiss settings (a snooze in progress keeps its end)."""
        async with self._command_lock:
            self.wake_settings.update(command)
            self._plan_session()
            state, saved = self._changed()
        await saved
        return state

    def _end_session(self) -> None:
        """Forget the alarm in progress (a command took over); a snoozed sunrise is cancelled."""
        session, self._session = self._session, None
        if session is not None and session.resume is not None and session.resume.duration > 0:
            self._ramp_event("cancelled", session.resume)
        self._plan_session()

    def _plan_session(self) -> None:
        """(Re)start the timer of the alarm in progress: the end of its snooze or its time.

        While its sunrise runs there is none: the sunrise's end plans the next.
        """
        if self._session_task is not None:
            self._session_task.cancel()
            self._session_task = None
        session = self._session
        if session is None:
            return
        if session.snoozed_until is not None:
            deadline = session.snoozed_until
        elif self._ramp is not None and self._ramp.kind == "sunrise":
            return
        else:
            deadline = session.wake_at + self.wake_settings.after_wake
        self._session_task = asyncio.create_task(
            self._session_timer(deadline), name="daybreak alarm session"
        )

    async def _session_timer(self, deadline: float) -> None:
        """At ``deadline`` end the snooze (the sunrise continues) or the alarm's time.

        The deadline is wall-clock, timed on the monotonic clock from now.
        """
        await asyncio.sleep(max(0.0, deadline - self._wall()))
        async with self._command_lock:
            if asyncio.current_task() is not self._session_task or self._session is None:
                return  # replaced while waiting for the lock
            self._session_task = None
            session = self._session
            resume = session.resume
            if resume is None:
                _LOGGER.info("Alarm %s: no longer snoozed or dismissed", session.alarm_id)
                self._session = None
            else:
                self._session = replace(session, snoozed_until=None, resume=None)
                self._on = True
                if self._wall() >= resume.ends_at:  # after the wake time, or down till then
                    self._on_brightness = max(1.0, resume.target)
                    self._show(resume.target)
                    self._plan_session()
                else:
                    self._begin_ramp(resume)
            self._notify()
        self._store.request_save()

    def _changed(self) -> tuple[StatePayload, asyncio.Future[None]]:
        """After a command: tell the listeners, then ask for the write (awaited unlocked)."""
        self._notify()
        return self.snapshot(), self._store.request_save()

    # -- engine -------------------------------------------------------------------

    def _begin_ramp(self, ramp: Ramp) -> None:
        """Place ``ramp`` on the monotonic clock, show its level now and run it."""
        loop = asyncio.get_running_loop()
        # The one use of the wall clock: a scheduled or resumed ramp may have started
        # before now. From here on only the monotonic clock counts.
        elapsed = max(0.0, self._wall() - ramp.started_at)
        self._ramp = ramp
        self._anchor = loop.time() - elapsed
        self._elapsed = elapsed
        self._show(ramp.level_at(elapsed), ramp.colour_at(elapsed))
        self._ramp_task = asyncio.create_task(self._run_ramp(ramp), name=f"daybreak {ramp.kind}")

    async def _cancel_ramp_task(self, *, report: bool = True) -> Ramp | None:
        """Stop the running ramp, if any, and return it.

        With ``report``, a sunrise is reported ``sunrise.cancelled`` at once, before
        anything else can run (so before any state push that shows it gone).
        """
        ramp, self._ramp = self._ramp, None
        task, self._ramp_task = self._ramp_task, None
        if report and ramp is not None:
            self._ramp_event("cancelled", ramp)
        if task is not None and not task.done():
            task.cancel()
            # asyncio.wait does not re-raise the task's CancelledError, only our own.
            await asyncio.wait({task})
        return ramp

    async def _run_ramp(self, ramp: Ramp) -> None:
        """Drive the output along ``ramp`` at the tick rate until it ends."""
        loop = asyncio.get_running_loop()
        anchor = self._anchor
        next_progress = loop.time() + self._progress_interval
        tick = math.floor(self._elapsed / self._period)
        while True:
            # Next absolute deadline; if we fell behind, skip the missed ticks.
            tick = max(tick + 1, math.floor((loop.time() - anchor) / self._period) + 1)
            await asyncio.sleep(anchor + tick * self._period - loop.time())
            now = loop.time()
            elapsed = now - anchor
            if elapsed >= ramp.duration:
                break
            self._elapsed = elapsed
            self._show(ramp.level_at(elapsed), ramp.colour_at(elapsed))
            if now >= next_progress:
                next_progress = now + self._progress_interval
                self._notify()
        self._elapsed = ramp.duration
        self._show(ramp.target, ramp.end_colour)
        self._ramp = None
        self._ramp_task = None
        if ramp.target <= 0:
            self._on = False
        _LOGGER.debug("%s finished at %.2f", ramp.kind, ramp.target)
        self._ramp_event("finished", ramp)
        if ramp.kind == "sunrise":
            self._plan_session()  # the alarm's time after its wake time begins
        self._notify()
        # Saved in the background: this task is done; a failed write is the store's
        # to retry and report.
        self._store.request_save()

    # -- helpers ------------------------------------------------------------------

    def _show(self, level: float, colour: Colour | None = None) -> None:
        """Drive the LED to ``level`` (and ``colour``): from now on what is reported."""
        self._level = level
        if colour is not None:
            self._colour = colour
        self._write_output(level)

    def _write_output(self, level: float) -> None:
        """Drive the output; a failing write is logged, never fatal to the engine.

        The schedule goes on (the next tick or command writes again), so a transient
        output error cannot stop a sunrise or leave the state claiming a ramp that died.
        """
        try:
            if self._mixer is not None and self._multi is not None:
                # Brightness is the total luminance (CIE L*), the colour its mix.
                duties = self._mixer.duties(self._colour.xy, self._dimmer.luminance(level))
                self._multi.set_duties([self._dimmer.lift(duty) for duty in duties])
            else:
                self._output.set_duty(self._dimmer.duty(level))
        except (OutputError, OSError) as err:
            self._output_errors += 1
            if self._output_errors == 1 or self._output_errors % 500 == 0:
                _LOGGER.error(  # noqa: TRY400 - one line, not a traceback per tick
                    "Cannot drive the LED (%d failed writes): %s", self._output_errors, err
                )
            return
        if self._output_errors:
            _LOGGER.warning("LED output works again after %d failed writes", self._output_errors)
            self._output_errors = 0

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _ramp_event(self, what: str, ramp: Ramp) -> None:
        """Tell the event listeners that ``ramp`` ``what`` (started, ...), if reported."""
        events = _RAMP_EVENTS.get(ramp.kind)
        if events is None:
            return
        payload: DeviceEventPayload
        if ramp.kind == "sunset":
            payload = {
                "time": iso_utc(self._wall()),
                "start_brightness": ramp.start,
                "duration": ramp.duration,
            }
        else:
            payload = {
                "time": iso_utc(self._wall()),
                "alarm_id": ramp.alarm_id,
                "target_brightness": ramp.target,
                "duration": ramp.duration,
            }
        self._emit(events[what], payload)

    def _emit(self, event: str, payload: DeviceEventPayload) -> None:
        for listener in list(self._event_listeners):
            listener(event, payload)

    # -- the state file -----------------------------------------------------------

    def _load(self, data: dict[str, Any]) -> None:
        self._saved = _parse_saved(data, self._store.path)

    def _dump(self) -> dict[str, Any]:
        if self._ramp is not None:
            self._started_at()  # saved on today's wall clock: resumed where it is now
        ramp = self._ramp
        data: dict[str, Any] = {
            "on": self._on,
            "level": self._level,
            "on_brightness": self._on_brightness,
            "ramp": None if ramp is None else ramp.to_json(),
            "session": None if self._session is None else self._session.to_json(),
        }
        if self._mixer is not None:
            data["colour"] = self._colour.to_json()
        return data
