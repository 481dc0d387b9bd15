"""Bounded connections: a cap below the descriptor limit and a deadline for every phase.

uvicorn closes a keep-alive connection that stays idle after a response
(``timeout_keep_alive``) and h11 caps the size of a request's headers, but nothing
bounds the *time* a peer takes: a socket that never sends a byte, headers sent a byte
at a time, a body shorter than its ``Content-Length``, a WebSocket that never logs in
would each hold a file descriptor forever, and ~1000 of them stop the device. Here:

* :class:`ConnectionGuard` knows every open TCP connection (a thin wrapper around
  uvicorn's HTTP protocol sees it opened) and refuses a new one once :attr:`limit`
  are open, which is kept below the process's descriptor limit: the newest,
  unauthenticated connection is the one refused, and those already open (Home
  Assistant's WebSocket among them) keep working. One source address may hold at most
  a quarter of the limit in connections that have not presented the token, so a single
  attacking host cannot fill the cap and lock Home Assistant's new connections out.
  Each connection has a deadline,
  enforced by one sweep a second (:meth:`ConnectionGuard.run`), that the next step must
  meet or the connection is aborted:

  - a request's headers within :data:`HEADER_TIMEOUT` of the connection opening, or
    of the previous response (plus uvicorn's keep-alive time);
  - its body within :data:`BODY_TIMEOUT` of the headers;
  - a WebSocket's Socket.IO ``CONNECT`` with a good token within :data:`AUTH_TIMEOUT`
    of the upgrade; after that, Engine.IO's pings tell a live peer from a dead one.

* :class:`PeerGuard`, the outermost ASGI app, refuses a request or WebSocket upgrade
  whose ``Host`` is not the device (421; a WebSocket gets 403) before anything else
  runs, moves the connection through those phases, and drops text frames that cannot
  be Engine.IO packets (empty, or not starting with a packet type) quietly.

Everything refused is counted in the :class:`~daybreak_device.peerlog.PeerLog`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .hosts import HostCheck
from .peerlog import PeerLog
from .rest_transport import error_response

_LOGGER = logging.getLogger(__name__)

HEADER_TIMEOUT = 5.0
BODY_TIMEOUT = 5.0
AUTH_TIMEOUT = 5.0
#: uvicorn's ``timeout_keep_alive``: an idle keep-alive connection is closed after it.
KEEP_ALIVE = 5
#: Seconds between two sweeps for connections past their deadline.
SWEEP_INTERVAL = 1.0
#: Connections aborted per event-loop iteration.
ABORT_BATCH = 32
#: Descriptors kept free for everything but client connections (the state file and its
#: directory, the listening socket, zeroconf, the event loop, threads, logs).
DESCRIPTOR_RESERVE = 64
#: Engine.IO packet types a client may send (open ... noop); other text frames cannot
#: be Engine.IO packets and python-engineio fails on them with a traceback.
_ENGINEIO_TYPES = frozenset("0123456")

Peer = tuple[str, int]


def raise_descriptor_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard not in (resource.RLIM_INFINITY, soft):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


def connection_limit(wanted: int, descriptors: int) -> int:
    """At most ``wanted`` connections, and :data:`DESCRIPTOR_RESERVE` descriptors spare."""
    return max(1, min(wanted, descriptors - DESCRIPTOR_RESERVE))


@dataclass(slots=True, eq=False)
class Connection:
    """One open TCP connection and the deadline its next step must meet."""

    transport: asyncio.Transport
    peer: Peer | None
    #: Monotonic time by which the connection must make progress (``None``: no limit).
    deadline: float | None
    authenticated: bool = False
    #: Upgraded to a WebSocket.
    websocket: bool = False

    @property
    def source(self) -> str | None:
        """The peer's address."""
        return None if self.peer is None else self.peer[0]


class ConnectionGuard:
    """Every open connection, a cap on their number and a deadline for each."""

    def __init__(
        self,
        limit: int,
        peers: PeerLog,
        *,
        accepted: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Allow ``limit`` connections; ``accepted()`` is called for every one accepted."""
        self.limit = limit
        self._peers = peers
        self._accepted = accepted
        self._clock = clock
        # Insertion order is age order: the newest connection is the last.
        self._open: dict[Peer | None, Connection] = {}
        #: Connections that have not presented the token, by source address.
        self._anonymous: Counter[str | None] = Counter()

    @property
    def per_source(self) -> int:
        """Connections without the token one source address may hold."""
        return max(8, self.limit // 4)

    def __len__(self) -> int:
        """The number of connections open."""
        return len(self._open)

    def protocol_class(self, inner: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
        """The HTTP protocol class ``inner`` (uvicorn's), wrapped to report to this guard."""
        return type("GuardedProtocol", (_GuardedProtocol,), {"guard": self, "inner": inner})

    def opened(self, transport: asyncio.Transport) -> Connection | None:
        """A connection was accepted: its record, or ``None`` if it must be refused."""
        self._accepted()
        peername = transport.get_extra_info("peername")
        peer: Peer | None = (str(peername[0]), int(peername[1])) if peername else None
        source = None if peer is None else peer[0]
        if len(self._open) >= self.limit or self._anonymous[source] >= self.per_source:
            self._forget_closed()
        if len(self._open) >= self.limit:
            self._peers.record("connections over the limit", source)
            return None
        if self._anonymous[source] >= self.per_source:
            self._peers.record("connections over the limit of one address", source)
            return None
        conn = Connection(transport, peer, self._clock() + HEADER_TIMEOUT)
        self._open[peer] = conn
        self._anonymous[source] += 1
        return conn

    def lost(self, conn: Connection) -> None:
        """The connection is closed."""
        if self._open.get(conn.peer) is conn:
            self._forget(conn)

    def _forget(self, conn: Connection) -> None:
        del self._open[conn.peer]
        if not conn.authenticated:
            self._uncount(conn)

    def _uncount(self, conn: Connection) -> None:
        """Take ``conn`` off its source's count of connections without the token."""
        self._anonymous[conn.source] -= 1
        if self._anonymous[conn.source] <= 0:
            del self._anonymous[conn.source]

    def get(self, client: Any) -> Connection | None:
        """The connection of an ASGI scope's ``client`` (``None`` if unknown)."""
        if not client:
            return None
        return self._open.get((str(client[0]), int(client[1])))

    # -- the phases of a connection ---------------------------------------------------

    def request_started(self, conn: Connection | None, *, body: bool) -> None:
        """A request's headers are in; its body (if any) must follow in time."""
        if conn is not None:
            conn.deadline = self._clock() + BODY_TIMEOUT if body else None

    def request_received(self, conn: Connection | None) -> None:
        """The whole request is in: no deadline while the device answers."""
        if conn is not None:
            conn.deadline = None

    def response_sent(self, conn: Connection | None) -> None:
        """The response is out: the next request must come in time (or none at all)."""
        if conn is not None:
            conn.deadline = self._clock() + KEEP_ALIVE + HEADER_TIMEOUT

    def websocket_started(self, conn: Connection | None) -> None:
        """A WebSocket is open: its client must log in in time."""
        if conn is not None:
            conn.websocket = True
            conn.deadline = self._clock() + AUTH_TIMEOUT

    def authenticated(self, client: Any) -> None:
        """The connection of ``client`` presented the token (a WebSocket: no deadline)."""
        conn = self.get(client)
        if conn is not None:
            if not conn.authenticated:
                conn.authenticated = True
                self._uncount(conn)
            if conn.websocket:
                conn.deadline = None

    # -- enforcement ------------------------------------------------------------------

    def sweep(self) -> list[Connection]:
        """Forget the closed connections and those past their deadline; return the latter.

        The caller aborts them (:meth:`run` does, a batch at a time).
        """
        now = self._clock()
        expired = []
        for conn in list(self._open.values()):
            if conn.transport.is_closing():
                self._forget(conn)
            elif conn.deadline is not None and now >= conn.deadline:
                self._forget(conn)
                self._peers.record("connections timed out", conn.source)
                expired.append(conn)
        return expired

    async def run(self, tick: Callable[[], None] = lambda: None) -> None:
        """Sweep every :data:`SWEEP_INTERVAL` seconds (and call ``tick``) until cancelled.

        Expired connections are aborted :data:`ABORT_BATCH` at a time, one batch per
        loop iteration: a thousand at once would hold every answer up for ~50 ms.
        """
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            expired = self.sweep()
            for start in range(0, len(expired), ABORT_BATCH):
                for conn in expired[start : start + ABORT_BATCH]:
                    conn.transport.abort()
                await asyncio.sleep(0)
            tick()

    def _forget_closed(self) -> None:
        # A connection upgraded to a WebSocket belongs to uvicorn's WebSocket protocol
        # from then on; the wrapper never hears it close, so closed ones are found here.
        for conn in list(self._open.values()):
            if conn.transport.is_closing():
                self._forget(conn)


class _GuardedProtocol(asyncio.Protocol):
    """uvicorn's HTTP protocol, started only for connections the guard admits."""

    guard: ClassVar[ConnectionGuard]
    inner: ClassVar[type[asyncio.Protocol]]

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._protocol: asyncio.Protocol = self
        self._conn: Connection | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._conn = self.guard.opened(cast("asyncio.Transport", transport))
        if self._conn is None:
            # Refused: reset at once, which frees the descriptor without a TIME_WAIT.
            cast("asyncio.Transport", transport).abort()
            return
        self._protocol = self.inner(**self._kwargs)
        self._protocol.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._conn is not None:
            self._protocol.data_received(data)

    def eof_received(self) -> bool | None:
        if self._conn is None:
            return None
        return self._protocol.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self.guard.lost(self._conn)
            self._protocol.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._conn is not None:
            self._protocol.pause_writing()

    def resume_writing(self) -> None:
        if self._conn is not None:
            self._protocol.resume_writing()


class PeerGuard:
    """The outermost ASGI app: the Host check, the connection phases, frame hygiene."""

    def __init__(
        self, app: ASGIApp, *, guard: ConnectionGuard, hosts: HostCheck, peers: PeerLog
    ) -> None:
        """Guard ``app``."""
        self._app = app
        self._guard = guard
        self._hosts = hosts
        self._peers = peers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request or WebSocket."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope.get("client")
        source = str(client[0]) if client else None
        conn = self._guard.get(client)
        host = headers.get("host")
        if not self._hosts.allows(host):
            self._peers.record("requests for another Host", source)
            await _refuse_host(kind, host, scope, receive, send)
            return
        if kind == "websocket":
            self._guard.websocket_started(conn)
            await self._app(scope, self._frames(receive, source), send)
            return
        body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        self._guard.request_started(conn, body=body)
        guard = self._guard

        async def receive_request() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                guard.request_received(conn)
            return message

        async def send_response(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                guard.response_sent(conn)

        await self._app(scope, receive_request, send_response)

    def _frames(self, receive: Receive, source: str | None) -> Receive:
        peers = self._peers

        async def receive_frame() -> Message:
            while True:
                message = await receive()
                text = message.get("text") if message["type"] == "websocket.receive" else None
                if text is not None and text[:1] not in _ENGINEIO_TYPES:
                    peers.record("malformed frames", source)
                    continue
                return message

        return receive_frame


async def _refuse_host(
    kind: str, host: str | None, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer a request for another host: 421 (JSON), or 403 for a WebSocket upgrade."""
    if kind == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    shown = (host or "")[:64]
    response = error_response(
        "host_not_allowed",
        f"this device does not answer to Host {shown!r}; "
        "to reach it by that name, start it with --allowed-host",
    )
    await response(scope, receive, send)
