"""Counted, summarised logging of what peers get wrong.

Nothing a peer sends may make the device log an amount that grows with what it sends:
on a Raspberry Pi a flooded log fills the SD card, and then the state cannot be saved.
So refused connections, malformed frames, failed logins and the like are *counted*
(:meth:`PeerLog.record`) and summarised in one line at most every
:data:`SUMMARY_INTERVAL` seconds, with the counts and the source that caused most of
them. The first line comes at once, so an attack shows up in the log when it starts.

The libraries underneath log per event too: :class:`QuietLibraryLog` turns what they
log about a peer's mistakes into counts and lets anything else through at most once a
minute; :class:`AcceptErrors` does the same for the event loop's exception handler,
where asyncio reports that ``accept()`` ran out of file descriptors (logged once per
episode).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

_LOGGER = logging.getLogger(__name__)

#: Seconds between two summary lines.
SUMMARY_INTERVAL = 60.0
#: At most this many distinct sources are counted between two summaries (an attacker
#: with many addresses, e.g. IPv6, cannot grow the table); the rest count as "others".
MAX_SOURCES = 1024


class PeerLog:
    """Counts of what peers got wrong, logged as one summary line at most a minute."""

    def __init__(
        self,
        *,
        interval: float = SUMMARY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Summarise every ``interval`` seconds at most (``clock`` is monotonic)."""
        self._interval = interval
        self._clock = clock
        self._counts: Counter[str] = Counter()
        self._sources: Counter[str] = Counter()
        self._next_summary = 0.0
        #: Every count since start, by kind (never reset; for tests and diagnostics).
        self.totals: Counter[str] = Counter()

    def record(self, kind: str, source: str | None = None) -> None:
        """Count one ``kind`` of refusal (e.g. ``"failed logins"``) from ``source``."""
        self._counts[kind] += 1
        self.totals[kind] += 1
        if source is not None:
            if source in self._sources or len(self._sources) < MAX_SOURCES:
                self._sources[source] += 1
            else:
                self._sources["others"] += 1
        self.flush()

    def flush(self) -> None:
        """Log the summary if one is due and there is something to report."""
        now = self._clock()
        if not self._counts or now < self._next_summary:
            return
        self._next_summary = now + self._interval
        counts = ", ".join(f"{count} {kind}" for kind, count in self._counts.most_common())
        if self._sources:
            source, count = self._sources.most_common(1)[0]
            worst = f"; most from {source} ({count})"
        else:
            worst = ""
        _LOGGER.warning(
            "Refused from peers since the last report: %s%s (next report in %g s at the earliest)",
            counts,
            worst,
            self._interval,
        )
        self._counts.clear()
        self._sources.clear()


class QuietLibraryLog(logging.Filter):
    """A filter for a library's logger: peer mistakes become counts, the rest is throttled.

    A record whose message starts with one of ``peer_messages`` (message prefix ->
    kind) is counted in the :class:`PeerLog` and dropped. Any other record at WARNING or
    above passes at most once per ``interval`` seconds (the ones in between are counted
    as ``"library errors"``); records below WARNING pass (the logger's level decides).
    """

    def __init__(
        self,
        peers: PeerLog,
        peer_messages: Iterable[tuple[str, str]],
        *,
        interval: float = SUMMARY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Count ``peer_messages`` in ``peers``; throttle the rest to one per ``interval``."""
        super().__init__()
        self._peers = peers
        self._peer_messages = tuple(peer_messages)
        self._interval = interval
        self._clock = clock
        self._next_pass = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is logged (see the class docstring)."""
        message = str(record.msg)
        for prefix, kind in self._peer_messages:
            if message.startswith(prefix):
                self._peers.record(kind)
                return False
        if record.levelno < logging.WARNING:
            return True
        now = self._clock()
        if now < self._next_pass:
            self._peers.record("library errors")
            return False
        self._next_pass = now + self._interval
        return True


#: What asyncio's accept loop reports to the exception handler when ``accept()`` fails
#: for lack of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM); it retries a second later.
ACCEPT_ERROR_MESSAGE = "socket.accept() out of system resource"


class AcceptErrors:
    """The event loop's exception handler, quiet about accept errors and throttled.

    asyncio reports each failed ``accept()`` (out of file descriptors) through the
    loop's exception handler, with a traceback. This logs the first of an episode once
    and counts the rest; the episode ends (and that is logged once) when a connection
    is accepted again (:meth:`accepted`). Any other report goes to the previous handler
    (asyncio's default one: "Task exception was never retrieved" and the like), at
    most once a minute.
    """

    def __init__(
        self,
        peers: PeerLog,
        *,
        interval: float = SUMMARY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Count in ``peers``; pass other reports at most once per ``interval`` seconds."""
        self._peers = peers
        self._interval = interval
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None
        self._failures = 0
        self._next_pass = 0.0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Become ``loop``'s exception handler (until :meth:`uninstall`)."""
        self._loop = loop
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self._handle)

    def uninstall(self) -> None:
        """Give the loop its previous exception handler back."""
        if self._loop is not None:
            self._loop.set_exception_handler(self._previous)
            self._loop = None

    def accepted(self) -> None:
        """A connection was accepted: an episode of accept errors is over."""
        if self._failures:
            _LOGGER.warning(
                "Accepting connections again (%d accept() failures in that episode)",
                self._failures,
            )
            self._failures = 0

    def _handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == ACCEPT_ERROR_MESSAGE:
            self._failures += 1
            self._peers.record("accept() failures")
            if self._failures == 1:
                err = context.get("exception")
                _LOGGER.error(
                    "Cannot accept connections: %s; retrying every second (logged once "
                    "until it works again)",
                    err.strerror if isinstance(err, OSError) and err.strerror else err,
                )
            return
        now = self._clock()
        if now < self._next_pass:
            self._peers.record("loop errors")
            return
        self._next_pass = now + self._interval
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)
