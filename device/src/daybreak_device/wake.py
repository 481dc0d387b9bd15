"""The wake policy: what a fired alarm does to the light.

An alarm's occurrence starts a sunrise at its scheduled start, so the sunrise ends at
the wake time (joined at the level its schedule calls for when noticed late). A light
already at or above the alarm's brightness is left alone: a wake-up alarm never dims
the room. Either way ``alarm.fired`` is pushed first (``sunrise`` false when left
alone), then the sunrise's ``sunrise.started``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import tzinfo

from .alarms import Alarm, Occurrence, iso_local
from .light import LightController, iso_utc
from .protocol import EVENT_ALARM_FIRED, AlarmFiredPayload, StartSunriseCommand
from .statefile import StorageError

_LOGGER = logging.getLogger(__name__)


class WakePolicy:
    """Fires alarms onto the light controller (the scheduler's ``fire`` callback)."""

    def __init__(
        self,
        controller: LightController,
        *,
        event: Callable[[str, AlarmFiredPayload], None],
        timezone: Callable[[], tzinfo],
        clock: Callable[[], float],
    ) -> None:
        """Fire onto ``controller``; ``event`` pushes ``alarm.fired``."""
        self._controller = controller
        self._event = event
        self._timezone = timezone
        self._clock = clock

    async def fire(self, alarm: Alarm, occurrence: Occurrence) -> None:
        """Start ``alarm``'s sunrise for ``occurrence`` (see the module docstring)."""
        controller = self._controller
        bright = controller.snapshot()["on"] and (
            controller.current_level() >= alarm.target_brightness
        )
        fired: AlarmFiredPayload = {
            "time": iso_utc(self._clock()),
            "alarm_id": alarm.id,
            "wake_at": iso_local(occurrence.wake_at, self._timezone()),
            "sunrise": not bright,
        }
        self._event(EVENT_ALARM_FIRED, fired)
        if bright:
            _LOGGER.info("Alarm %s: the light is already that bright; left alone", alarm.id)
            return
        command: StartSunriseCommand = {
            "duration": alarm.duration,
            "target_brightness": alarm.target_brightness,
            "start_brightness": None,
            "curve": alarm.curve,
            "color_path": alarm.color_path,
            "start_kelvin": alarm.start_kelvin,
            "target_kelvin": alarm.target_kelvin,
        }
        # On a failed save the sunrise runs all the same; the state file saves it when
        # the disk lets it.
        with contextlib.suppress(StorageError):
            await controller.start_sunrise(
                command, started_at=occurrence.starts_at, alarm_id=alarm.id
            )
