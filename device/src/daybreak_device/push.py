"""The push stream: what the device tells every connected client, in order.

One task sends, each time it is woken: the one-off events queued since (``sunrise.*``,
``alarm.fired``) in the order they happened, then ``state`` and ``alarms`` if they
changed since they were last sent (many changes, one push each), and ``heartbeat``
whenever ``heartbeat_interval`` passes without a wake-up. Marking a change is cheap
and synchronous, so the light controller and the alarm scheduler can do it the moment
something changes, before they wait for the disk: the push leaves first.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from .protocol import (
    EVENT_ALARMS,
    EVENT_HEARTBEAT,
    EVENT_STATE,
    AlarmsPayload,
    DeviceEventPayload,
    HeartbeatPayload,
    StatePayload,
)

#: Loop turns python-engineio takes from ``emit`` to the socket's ``send``.
_WRITER_HOPS = 4
#: Sends one event with its payload to every client.
Emit = Callable[[str, Any], Awaitable[None]]


class PushStream:
    """Coalesces changes into pushes; :meth:`run` is the task that sends them."""

    def __init__(
        self,
        emit: Emit,
        *,
        state: Callable[[], StatePayload],
        alarms: Callable[[], AlarmsPayload],
        heartbeat: Callable[[], HeartbeatPayload],
        heartbeat_interval: float,
    ) -> None:
        """Push through ``emit``; the other callables build the payloads when sent."""
        self._emit = emit
        self._state = state
        self._alarms = alarms
        self._heartbeat = heartbeat
        self._interval = heartbeat_interval
        self._wake = asyncio.Event()
        self._events: deque[tuple[str, DeviceEventPayload]] = deque()
        self._state_dirty = False
        self._alarms_dirty = False
        #: Set while nothing marked is left to send.
        self._sent = asyncio.Event()
        self._sent.set()

    async def sent(self) -> None:
        """Return once everything marked so far has been handed to the transport.

        Then a few more loop turns, so the transport's per-client writers (python-
        engineio hands each packet through a queue and ``wait_for``: three hops) send
        it to the sockets before whoever waited (the state file's writer, whose thread
        competes for the GIL) takes the CPU.
        """
        await self._sent.wait()
        for _ in range(_WRITER_HOPS):
            await asyncio.sleep(0)

    def state_changed(self) -> None:
        """The state changed: push ``state`` soon."""
        self._state_dirty = True
        self._sent.clear()
        self._wake.set()

    def alarms_changed(self) -> None:
        """The alarms changed: push ``alarms`` and ``state`` (its ``next_sunrise``) soon."""
        self._alarms_dirty = self._state_dirty = True
        self._sent.clear()
        self._wake.set()

    def event(self, event: str, payload: DeviceEventPayload) -> None:
        """Push the one-off ``event`` soon, after those queued before it."""
        self._events.append((event, payload))
        self._sent.clear()
        self._wake.set()

    async def run(self) -> None:
        """Push until cancelled, whether or not clients are connected."""
        next_heartbeat = time.monotonic() + self._interval
        while True:
            timeout = max(0.0, next_heartbeat - time.monotonic())
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                next_heartbeat = time.monotonic() + self._interval
                await self._emit(EVENT_HEARTBEAT, self._heartbeat())
                continue
            self._wake.clear()
            while self._events:
                event, payload = self._events.popleft()
                await self._emit(event, payload)
            if self._state_dirty:
                self._state_dirty = False
                await self._emit(EVENT_STATE, self._state())
            if self._alarms_dirty:
                self._alarms_dirty = False
                await self._emit(EVENT_ALARMS, self._alarms())
            if not (self._events or self._state_dirty or self._alarms_dirty):
                self._sent.set()
