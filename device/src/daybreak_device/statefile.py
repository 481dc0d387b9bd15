"""The state file: one atomic write of everything the device must not forget.

The light (its level and any running ramp) and the alarms (their settings and their
fired/skip marks) live in one JSON file, ``state.json``, so one atomic write holds both
an alarm's note that it fired and the sunrise it started. :class:`StateFile` owns that
write; the light controller and the alarm scheduler each register a *section* (the
top-level keys they own, a ``load`` and a ``dump``) and ask for a save after a change.

Saves are *group-committed*: :meth:`StateFile.save` asks for a write that starts after
the call (so it holds the caller's change) and waits for it; every save asked for while
a write is in progress is served by the next one. A slow disk therefore delays acks, not
commands: each write carries all the changes made while the previous one ran.

A write that fails (disk full, read-only, permissions) raises :class:`StorageError` in
every waiting :meth:`save`, marks the store *faulty* (:attr:`StateFile.fault`, which
``/api/health``, ``info`` and ``state`` report) and keeps the data in memory: a writer
task retries every :data:`RETRY_INTERVAL` seconds and writes the newest state as soon
as the disk takes it again, then clears the fault. Faults and recoveries are logged once
each, never once per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .protocol import ProtocolError
from .store import atomic_write_json, read_json_object, remove_stale_temp_files

_LOGGER = logging.getLogger(__name__)

#: Version of the state file's layout (written as ``version``).
STATE_FILE_VERSION: Final = 1
#: Longest wait (seconds) for ``before_write`` (the push stream) before a write.
BEFORE_WRITE_LIMIT: Final = 0.05
#: Seconds between attempts to write a state that could not be saved.
RETRY_INTERVAL: Final = 2.0


class StorageError(ProtocolError):
    """The device did what was asked but could not save it (``storage_error``)."""

    def __init__(self, message: str) -> None:
        """Create the error with the reason the state could not be written."""
        super().__init__("storage_error", message)


@dataclass(frozen=True, slots=True)
class StorageFault:
    """Why the state cannot be saved, and since when (wall clock, epoch seconds)."""

    message: str
    since: float


@dataclass(frozen=True, slots=True)
class _Section:
    keys: frozenset[str]
    load: Callable[[dict[str, Any]], None]
    dump: Callable[[], dict[str, Any]]


class StateFile:
    """The device's state file and the task that writes it.

    Register sections with :meth:`add_section`, then :meth:`open` (reads the file and
    hands each section its part), then :meth:`save` after each change, and
    :meth:`close` at the end (a last write, bounded in time).
    """

    def __init__(
        self,
        path: Path,
        *,
        retry_interval: float = RETRY_INTERVAL,
        clock: Callable[[], float] = time.time,
        before_write: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Prepare the store for ``path``; nothing is read or written before :meth:`open`.

        ``before_write`` is awaited (at most :data:`BEFORE_WRITE_LIMIT` s) before each
        write: the server passes the push stream's "sent", so news leaves first.
        """
        self.path = path
        self._before_write = before_write
        self._retry_interval = retry_interval
        self._clock = clock
        self._sections: list[_Section] = []
        self._listeners: list[Callable[[], None]] = []
        #: Number of the newest save asked for, and of the newest write that landed.
        self._requested = 0
        self._written = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._fault: StorageFault | None = None

    # -- sections ---------------------------------------------------------------------

    def add_section(
        self,
        keys: frozenset[str],
        *,
        load: Callable[[dict[str, Any]], None],
        dump: Callable[[], dict[str, Any]],
    ) -> None:
        """Own the top-level ``keys`` of the file.

        :meth:`open` calls ``load`` with the whole file (``{}`` if there is none or it
        is unreadable); every write includes ``dump()``, which must return only ``keys``.
        """
        taken = {"version"}.union(*(section.keys for section in self._sections))
        if clash := keys & taken:
            raise ValueError(f"keys {sorted(clash)} belong to another section")
        self._sections.append(_Section(keys, load, dump))

    # -- health -----------------------------------------------------------------------

    @property
    def fault(self) -> StorageFault | None:
        """Why the newest state is not saved, or ``None`` when it is (or nothing is due)."""
        return self._fault

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when :attr:`fault` changes; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- lifecycle --------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the store is open (between :meth:`open` and :meth:`close`)."""
        return self._task is not None

    async def open(self) -> None:
        """Read the file, hand each section its part and start the writer task.

        Never raises for the disk's sake: an unreadable file gives every section ``{}``
        (as a missing one does) and a directory that cannot be cleaned or created is
        left as it is (the first write then reports the fault).
        """
        try:
            if removed := await asyncio.to_thread(remove_stale_temp_files, self.path):
                _LOGGER.info("Removed %d temporary file(s) left by an interrupted save", removed)
        except OSError as err:
            _LOGGER.warning("Cannot clean up %s: %s", self.path.parent, err)
        data = await asyncio.to_thread(read_json_object, self.path) or {}
        for section in self._sections:
            section.load(data)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="daybreak state file")

    async def close(self, limit: float = 1.0) -> None:
        """Write what is not saved yet (waiting at most ``limit`` s), then stop.

        Never raises: a state that cannot be written is logged and given up.
        """
        if self._requested > self._written and self._task is not None:
            try:
                async with asyncio.timeout(limit):
                    await self.save()
            except (StorageError, TimeoutError) as err:
                _LOGGER.error(  # noqa: TRY400 - the reason is the message
                    "Stopping without saving the newest state to %s: %s",
                    self.path,
                    str(err) or "the disk did not answer in time",
                )
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})
        for _number, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(StorageError("the device stopped before saving"))
        self._waiters.clear()

    # -- saving -----------------------------------------------------------------------

    def request_save(self) -> asyncio.Future[None]:
        """Ask for a write holding the state as it is now; return its future.

        The future is done when such a write landed, or fails with
        :class:`StorageError` when the next attempt failed (the writer keeps retrying).
        """
        self._requested += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A failure nobody awaits (the device stopping) is not worth a warning.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        if self._task is None:
            future.set_exception(StorageError("the state file is not open"))
        else:
            self._waiters.append((self._requested, future))
            self._wake.set()
        return future

    async def save(self) -> None:
        """Write the state as it is now and wait for the write; raise :class:`StorageError`."""
        await self.request_save()

    async def _run(self) -> None:
        """The writer: one write per wake-up, holding every save asked for before it."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._before_write is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(BEFORE_WRITE_LIMIT):
                        await self._before_write()
            number = self._requested
            data: dict[str, Any] = {"version": STATE_FILE_VERSION}
            try:
                for section in self._sections:
                    data.update(section.dump())
                await asyncio.to_thread(atomic_write_json, self.path, data)
            except Exception as err:  # noqa: BLE001 - any failure to write is a storage fault
                self._failed(number, err)
                # Retry after the interval, or at once for a new change (which then
                # learns of the fault from its own attempt, not from an old one).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._retry_interval):
                        await self._wake.wait()
                self._wake.set()
                continue
            self._written = number
            self._resolve(number, None)
            if self._fault is not None:
                _LOGGER.warning("The state is saved again in %s", self.path)
                self._set_fault(None)

    def _failed(self, number: int, err: Exception) -> None:
        message = f"cannot write {self.path.name}: {_describe(err)}"
        if self._fault is None:
            _LOGGER.error(
                "Cannot save the state (%s); serving from memory and retrying every %g s",
                message,
                self._retry_interval,
            )
            self._set_fault(StorageFault(message, self._clock()))
        self._resolve(number, StorageError(f"the change is made but not saved: {message}"))

    def _resolve(self, number: int, error: StorageError | None) -> None:
        """Finish the saves this write (``number``) was for; keep the later ones waiting."""
        pending = []
        for wanted, future in self._waiters:
            if wanted > number:
                pending.append((wanted, future))
            elif not future.done():
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)
        self._waiters = pending

    def _set_fault(self, fault: StorageFault | None) -> None:
        self._fault = fault
        for listener in list(self._listeners):
            listener()


def _describe(err: Exception) -> str:
    """An ``OSError`` as its reason (``No space left on device``), else the error."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__
