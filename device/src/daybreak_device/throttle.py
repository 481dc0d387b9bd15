"""The token check, with failed logins throttled per source address.

One :class:`Login` serves both transports (REST's bearer token, Socket.IO's ``auth``),
so a guesser gains nothing by switching. A source may fail :data:`FREE_FAILURES` times;
after that each failure makes it wait before its next try, twice as long each time
(:data:`FIRST_DELAY`, doubling up to :data:`LOCKOUT`). A try while it must wait is
refused *without checking the token* (HTTP 429 with ``Retry-After``, a Socket.IO
refusal with code ``rate_limited``): checking it would let a guesser learn from every
try. A request without a token guesses nothing: it is refused (and counted) as ever. A
correct token is never slowed down (no delay is added to a check), and a success
forgets the source's failures. Failures are forgotten :data:`FORGET_AFTER` seconds
after the last one; at most :data:`MAX_SOURCES` sources are remembered (the least
recently failed one is dropped first).

Sources are the TCP peer's address: behind a reverse proxy on the device every client
is the proxy, so a guesser there throttles everyone who comes through it.
"""

from __future__ import annotations

import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .peerlog import PeerLog

FREE_FAILURES = 5
FIRST_DELAY = 0.5
LOCKOUT = 60.0
FORGET_AFTER = 900.0
MAX_SOURCES = 4096
#: Tokens shorter than this are refused at start (``config`` checks it).
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one login: ``ok``, or refused (and, if throttled, for how long)."""

    ok: bool
    #: Seconds the source must wait before its next try; > 0 means the token was not
    #: even checked (``rate_limited``), 0 with ``ok`` false a wrong or missing token.
    retry_after: float = 0.0

    @property
    def retry_after_header(self) -> str:
        """``retry_after`` as an HTTP ``Retry-After`` value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(self.retry_after)))


@dataclass(slots=True)
class _Source:
    failures: int = 0
    last_failure: float = 0.0
    blocked_until: float = 0.0


class Login:
    """Checks tokens in constant time, throttling the sources that keep failing."""

    def __init__(
        self,
        token: str,
        peers: PeerLog,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Accept ``token``; count failures in ``peers`` (``clock`` is monotonic)."""
        self._token = token.encode()
        self._peers = peers
        self._clock = clock
        self._sources: OrderedDict[str, _Source] = OrderedDict()

    def check(self, token: Any, source: str) -> Verdict:
        """Check ``token`` presented by ``source`` (an IP address).

        No token at all (``None``, an empty string, not a string) is no guess: refused,
        counted, never throttled.
        """
        if not isinstance(token, str) or not token:
            self._peers.record("logins without a token", source)
            return Verdict(ok=False)
        now = self._clock()
        entry = self._sources.get(source)
        if entry is not None and now - entry.last_failure > FORGET_AFTER:
            del self._sources[source]
            entry = None
        if entry is not None and now < entry.blocked_until:
            self._peers.record("throttled logins", source)
            return Verdict(ok=False, retry_after=entry.blocked_until - now)
        if hmac.compare_digest(token.encode(), self._token):
            if entry is not None:
                del self._sources[source]
            return Verdict(ok=True)
        self._peers.record("failed logins", source)
        if entry is None:
            entry = self._sources[source] = _Source()
            while len(self._sources) > MAX_SOURCES:
                self._sources.popitem(last=False)
        self._sources.move_to_end(source)
        entry.failures += 1
        entry.last_failure = now
        if entry.failures > FREE_FAILURES:
            delay = FIRST_DELAY * 2 ** min(entry.failures - FREE_FAILURES - 1, 16)
            entry.blocked_until = now + min(delay, LOCKOUT)
        return Verdict(ok=False)
