"""The bedside button: a push button on a GPIO, wired to ground, read with gpiozero.

:class:`BedsideButton` turns the pin's edges into presses, in Home Assistant's button
event types (:data:`~daybreak_device.protocol.BUTTON_PRESSES`):

* ``press_start`` on every press;
* ``press_end`` when it is let go within :data:`LONG_PRESS` seconds;
* ``long_press_start`` once it has been held :data:`LONG_PRESS` seconds, and
  ``long_press_end`` when it is then let go;
* for a press that begins within :data:`DOUBLE_PRESS_WINDOW` seconds of a short press's
  release, also ``multi_press_ongoing`` (when pressed) and ``multi_press_end`` (when let
  go), with ``multi_press_count`` 2: a double press.

Nothing waits for a possible second press: a short press is reported (and acted on) at
its release, a long one at the second mark. :class:`ButtonActions` is what the presses
do to the light, with or without Home Assistant: a short press snoozes the alarm in
progress or toggles the light; a long press dismisses the alarm or turns the light off;
a double press starts a sunset from the level the light had before its first press.

gpiozero calls back from its own thread (lgpio's, or the caller's for mock pins); each
edge is stamped there and handed to the event loop with ``call_soon_threadsafe``, so a
press is handled at the loop's next turn, between two ramp ticks. Bounces are filtered
here, the same on every pin factory: an edge within :data:`DEBOUNCE` seconds of the
last one accepted is dropped, and the pin is read again once that time is over, so a
bounce that ends the other way is not missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from .light import LightController, iso_utc
from .protocol import (
    DEFAULT_SUNSET_DURATION,
    EVENT_BUTTON_PRESS,
    Ack,
    ButtonPress,
    ButtonPressPayload,
)

if TYPE_CHECKING:
    from gpiozero import Button
    from gpiozero.pins import Factory

_LOGGER = logging.getLogger(__name__)

__all__ = ["DEBOUNCE", "DOUBLE_PRESS_WINDOW", "LONG_PRESS", "BedsideButton", "ButtonActions"]

#: A press held this long (seconds) is a long press.
LONG_PRESS: Final = 1.0
#: A press beginning this soon (seconds) after a short press's release makes it double.
DOUBLE_PRESS_WINDOW: Final = 0.4
#: Edges this soon (seconds) after the last accepted one are contact bounce.
DEBOUNCE: Final = 0.02

#: Called on the event loop with each press and the monotonic time of its edge.
PressListener = Callable[[ButtonPress, float], None]


class BedsideButton:
    """Reads the button on ``pin`` (pulled up, pressed when low) and reports presses."""

    def __init__(
        self,
        pin: int | str,
        on_press: PressListener,
        *,
        pin_factory: Factory | None = None,
    ) -> None:
        """Report presses to ``on_press``; the pin is opened by :meth:`open`."""
        self._pin = pin
        self._on_press = on_press
        self._factory = pin_factory
        self._button: Button | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pressed = False
        #: Monotonic time of the last accepted edge, and of the current press.
        self._last_edge = -DEBOUNCE
        self._pressed_at = 0.0
        #: Release time of the last short press (a double press's first half), or None.
        self._short_released_at: float | None = None
        self._second = False
        self._long = False
        self._long_timer: asyncio.TimerHandle | None = None
        self._recheck: asyncio.TimerHandle | None = None

    @property
    def description(self) -> str:
        """The pin, for the log."""
        return f"bedside button on {self._pin}"

    def open(self) -> None:
        """Open the pin (on the running loop); raise ``OSError``/gpiozero errors if it fails."""
        from gpiozero import Button  # noqa: PLC0415 - only a device with a button needs it

        self._loop = asyncio.get_running_loop()
        button = Button(self._pin, pull_up=True, bounce_time=None, pin_factory=self._factory)
        self._button = button
        self._pressed = bool(button.is_pressed)
        button.when_pressed = lambda: self._edge(pressed=True)
        button.when_released = lambda: self._edge(pressed=False)

    def close(self) -> None:
        """Release the pin and forget a press in progress."""
        for timer in (self._long_timer, self._recheck):
            if timer is not None:
                timer.cancel()
        if self._button is not None:
            self._button.when_pressed = None
            self._button.when_released = None
            self._button.close()
            self._button = None

    # -- edges (gpiozero's thread) ---------------------------------------------------

    def _edge(self, *, pressed: bool) -> None:
        at = time.monotonic()
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed while we ran
                loop.call_soon_threadsafe(self._accept, pressed, at)

    # -- gestures (the event loop) ---------------------------------------------------

    def _accept(self, pressed: bool, at: float) -> None:
        if self._button is None or pressed == self._pressed:
            return
        if at - self._last_edge < DEBOUNCE:
            self._schedule_recheck()
            return
        self._last_edge = at
        self._pressed = pressed
        if pressed:
            self._down(at)
        else:
            self._up(at)

    def _schedule_recheck(self) -> None:
        """Read the pin again once the bounce is over (the last edge may have been dropped)."""
        if self._recheck is not None or self._loop is None:
            return

        def recheck() -> None:
            self._recheck = None
            if self._button is not None:
                self._accept(bool(self._button.is_pressed), time.monotonic())

        self._recheck = self._loop.call_later(DEBOUNCE, recheck)

    def _down(self, at: float) -> None:
        released = self._short_released_at
        self._second = released is not None and at - released <= DOUBLE_PRESS_WINDOW
        self._short_released_at = None
        self._long = False
        self._pressed_at = at
        assert self._loop is not None  # noqa: S101 - opened
        delay = max(0.0, at + LONG_PRESS - time.monotonic())
        self._long_timer = self._loop.call_later(delay, self._held)
        self._on_press("press_start", at)
        if self._second:
            self._on_press("multi_press_ongoing", at)

    def _held(self) -> None:
        self._long_timer = None
        if self._pressed:
            self._long = True
            self._on_press("long_press_start", self._pressed_at + LONG_PRESS)

    def _up(self, at: float) -> None:
        if self._long_timer is not None:
            self._long_timer.cancel()
            self._long_timer = None
        if self._long:
            self._on_press("long_press_end", at)
        elif self._second:
            self._on_press("press_end", at)
            self._on_press("multi_press_end", at)
        else:
            self._short_released_at = at
            self._on_press("press_end", at)
        self._second = self._long = False


class ButtonActions:
    """What the presses do on the device (see the module docstring); each one is pushed.

    Presses are handled one after another by :meth:`run` (a task), each through
    ``guard`` (the router's error policy), so a refused or failed one is logged and the
    next still runs.
    """

    def __init__(
        self,
        controller: LightController,
        *,
        event: Callable[[str, ButtonPressPayload], None],
        guard: Callable[[str, Awaitable[Ack]], Awaitable[Ack]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Act on ``controller``; ``event`` pushes ``button.press``."""
        self._controller = controller
        self._event = event
        self._guard = guard
        self._clock = clock
        self._queue: asyncio.Queue[ButtonPress] = asyncio.Queue()
        #: (on, level) when the current press began, and when the last short one did.
        self._before: tuple[bool, float] = (False, 0.0)
        self._before_short: tuple[bool, float] = (False, 0.0)
        #: Whether the press in progress is the second of a double press.
        self._second = False

    def press(self, press: ButtonPress, at: float) -> None:
        """A press (from :class:`BedsideButton`): push it at once, act on it in order.

        The ``press_end`` of a double press's second half does nothing: its
        ``multi_press_end`` acts.
        """
        payload: ButtonPressPayload = {"time": iso_utc(self._clock()), "press": press}
        if press.startswith("multi_press"):
            payload["multi_press_count"] = 2
        self._event(EVENT_BUTTON_PRESS, payload)
        if press == "press_start":
            self._second = False
            snapshot = self._controller.snapshot()
            self._before = (snapshot["on"], self._controller.current_level())
        elif press == "multi_press_ongoing":
            self._second = True
        elif press == "press_end" and not self._second:
            self._before_short = self._before
            self._queue.put_nowait(press)
        elif press in ("long_press_start", "multi_press_end"):
            self._queue.put_nowait(press)

    async def run(self) -> None:
        """Carry out the queued presses until cancelled."""
        while True:
            press = await self._queue.get()
            ack = await self._guard(f"button {press}", self._act(press))
            if not ack["ok"]:
                _LOGGER.warning("Button %s: %s", press, ack.get("error", {}).get("message"))

    async def _act(self, press: ButtonPress) -> Ack:
        controller = self._controller
        if press == "press_end":
            if controller.alarm_in_progress:
                state = await controller.snooze()
            else:
                state = await controller.set_light({"on": not controller.snapshot()["on"]})
        elif press == "long_press_start":
            if controller.alarm_in_progress:
                state = await controller.dismiss()
            else:
                state = await controller.set_light({"on": False})
        else:  # multi_press_end: a sunset from where the light was before the first press
            was_on, level = self._before_short
            start: float | None = level if was_on and level >= 1 else None
            state = await controller.start_sunset(
                {"duration": DEFAULT_SUNSET_DURATION, "start_brightness": start, "curve": "linear"}
            )
        return {"ok": True, "state": state}
