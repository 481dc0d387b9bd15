"""The Socket.IO transport: authentication, commands as acked events, pushes.

A python-socketio ``AsyncServer`` (ASGI, WebSocket only) whose clients authenticate
with the token in the ``auth`` object and join one room, which the push stream emits
to. The token goes through the throttled :class:`~daybreak_device.throttle.Login`: a
source that failed too often is refused with code ``rate_limited`` without its token
being checked. Every command event goes to the :class:`~daybreak_device.router.Router`.
Every event that asks for an ack gets one: an unknown event ``unknown_event``; a binary
event, a frame python-socketio cannot decode (bad JSON, a number too large, nesting too
deep) or one without an event name (``42[]``, ``42[{"a":1}]``) ``invalid_payload``.
Frames without an ack id are dropped. None of that is logged per frame: it is counted
in the :class:`~daybreak_device.peerlog.PeerLog`, and what python-socketio and
python-engineio log about a peer's frames is counted there too.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

import engineio
import socketio

from .peerlog import PeerLog, QuietLibraryLog
from .protocol import COMMANDS, Ack, error_ack
from .router import Answerer
from .throttle import Verdict

_LOGGER = logging.getLogger(__name__)

#: Hard cap on one Engine.IO message; larger frames close the connection. Commands
#: are far smaller and get a clear ``payload_too_large`` error above MAX_PAYLOAD_BYTES.
MAX_FRAME_BYTES = 64 * 1024
CLIENTS_ROOM = "clients"
#: Socket.IO packet types that carry binary attachments (BINARY_EVENT, BINARY_ACK).
_BINARY_PACKET_TYPES = (str(socketio.packet.BINARY_EVENT), str(socketio.packet.BINARY_ACK))
#: The head of an EVENT packet: type, namespace, ack id (what is left is the JSON).
_EVENT_HEAD = re.compile(r"2(?:(/[^,]*),)?([0-9]{1,15})")
#: What python-engineio and python-socketio log about a peer's frames and requests.
_LIBRARY_PEER_MESSAGES = (
    ("Unknown receive error", "malformed frames"),
    ("message async handler error", "malformed frames"),
    ("Cannot send to sid", "refused Engine.IO requests"),
    ("Method ", "refused Engine.IO requests"),
    ("Application rejected connection", "refused Engine.IO requests"),
    ("%s is not connected to namespace", "malformed frames"),
)


class _EngineIOServer(engineio.AsyncServer):  # type: ignore[misc]
    """Engine.IO server that keeps references to its background tasks.

    python-engineio starts per-client ping tasks with ``asyncio.ensure_future`` and
    keeps no reference; keeping them lets the server cancel them when it stops, so
    stopping leaves no task behind (Home Assistant's tests check that).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks: set[asyncio.Future[Any]] = set()

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Start the task as usual and remember it until it is done."""
        task = super().start_background_task(target, *args, **kwargs)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


class _SocketIOServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's ``AsyncServer`` on top of :class:`_EngineIOServer`.

    It also refuses binary packets: the protocol is JSON only, and python-socketio
    would keep a binary packet's attachments in memory until as many as its header
    announces (up to 10 digits) have arrived; each frame is capped, their count is not.
    """

    def __init__(self, *args: Any, peers: PeerLog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.peers = peers

    def _engineio_server_class(self) -> type[_EngineIOServer]:
        return _EngineIOServer

    def _source(self, eio_sid: str) -> str | None:
        scope = (self.environ.get(eio_sid) or {}).get("asgi.scope") or {}
        client = scope.get("client")
        return str(client[0]) if client else None

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, bytes):
            self.peers.record("binary frames", self._source(eio_sid))
            return  # a binary attachment: dropped, never buffered
        if isinstance(data, str) and data[:1] in _BINARY_PACKET_TYPES:
            self.peers.record("binary frames", self._source(eio_sid))
            await self._refuse_binary_packet(eio_sid, data)
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, RecursionError) as err:
            # A frame python-socketio cannot decode (bad JSON, a number over
            # python-engineio's 100 digits, nesting too deep for Python 3.11, a bad
            # packet type): an event with an ack id is answered, anything else dropped.
            _LOGGER.debug("Dropped a malformed Socket.IO frame: %s", err)
            self.peers.record("malformed frames", self._source(eio_sid))
            if head := _EVENT_HEAD.match(data):
                await self._refuse_event(
                    eio_sid,
                    head.group(1) or "/",
                    int(head.group(2)),
                    "the payload is not valid JSON, or has a number too large",
                )

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:  # noqa: A002
        # python-socketio takes data[0] as the event name: without one (``42[]``), or
        # with one that is not a string (``42[{"a":1}]``), it fails in a task whose
        # exception is never retrieved, and no ack goes out.
        if not (isinstance(data, list) and data and isinstance(data[0], str)):
            self.peers.record("malformed frames", self._source(eio_sid))
            if id is not None:
                await self._refuse_event(
                    eio_sid, namespace or "/", id, "an event needs a name (a string) first"
                )
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _refuse_event(self, eio_sid: str, namespace: str, ack_id: int, message: str) -> None:
        """Answer event ``ack_id`` with ``invalid_payload``, if the client is connected."""
        if self.manager.sid_from_eio_sid(eio_sid, namespace) is None:
            return
        ack = error_ack("invalid_payload", message)
        await self._send_packet(
            eio_sid,
            self.packet_class(socketio.packet.ACK, namespace=namespace, id=ack_id, data=[ack]),
        )

    async def _refuse_binary_packet(self, eio_sid: str, data: str) -> None:
        """Answer a binary event that asks for an ack with an error; drop anything else."""
        try:
            pkt = self.packet_class(encoded_packet=data)
        except (ValueError, RecursionError):
            return
        if pkt.packet_type == socketio.packet.BINARY_EVENT and pkt.id is not None:
            await self._refuse_event(
                eio_sid, pkt.namespace or "/", pkt.id, "binary attachments are not supported"
            )


class SocketIOTransport:
    """The Socket.IO side of the device: one ``AsyncServer`` and its handlers."""

    def __init__(
        self,
        router: Answerer,
        *,
        login: Callable[[Any, str], Verdict],
        authenticated: Callable[[Any], None],
        peers: PeerLog,
        initial: Callable[[], list[tuple[str, Any]]],
        ping_interval: float,
        ping_timeout: float,
    ) -> None:
        """Serve ``router``; ``initial()`` is what a new client gets (event, payload).

        ``login(token, source)`` checks a client's token; ``authenticated(client)`` is
        told the ASGI ``client`` of every connection that passed.
        """
        self._router = router
        self._login = login
        self._authenticated = authenticated
        self._peers = peers
        self._initial = initial
        self._tasks: set[asyncio.Task[None]] = set()
        # The libraries' own default: errors only; what they say about peers is counted.
        library_log = logging.getLogger(f"{__name__}.library")
        library_log.setLevel(logging.ERROR)
        self.library_filter = QuietLibraryLog(peers, _LIBRARY_PEER_MESSAGES)
        library_log.addFilter(self.library_filter)
        self.sio = _SocketIOServer(
            async_mode="asgi",
            transports=["websocket"],
            max_http_buffer_size=MAX_FRAME_BYTES,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            logger=library_log,
            engineio_logger=library_log,
            peers=peers,
            # cors_allowed_origins stays at its default: same origin only.
        )
        self._library_log = library_log
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        for event in COMMANDS:
            self.sio.on(event, self._command_handler(event))
        self.sio.on("*", self._on_unknown_event)

    @property
    def engine_tasks(self) -> set[asyncio.Future[Any]]:
        """Engine.IO's background tasks (ping loops), for the server to cancel at stop."""
        tasks: set[asyncio.Future[Any]] = self.sio.eio.tasks
        return tasks

    async def emit(self, event: str, payload: Any) -> None:
        """Push ``event`` to every authenticated client."""
        await self.sio.emit(event, payload, to=CLIENTS_ROOM)

    async def close(self) -> None:
        """Drop every client and stop the sessions' tasks."""
        self._library_log.removeFilter(self.library_filter)
        await self.sio.shutdown()
        for sid, _eio_sid in list(self.sio.manager.get_participants("/", CLIENTS_ROOM)):
            await self.sio.disconnect(sid)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)

    async def _on_connect(
        self, sid: str, environ: Any = None, auth: Any = None, *_: Any
    ) -> Ack | None:
        """Accept a client whose ``auth`` carries the token; then send it the state."""
        if self.sio.manager.is_connected(sid, "/"):
            # Not a connection: a connected client sent an event named "connect".
            return error_ack("unknown_event", "unknown event 'connect'")
        token = auth.get("token") if isinstance(auth, dict) else None
        # python-engineio's REMOTE_ADDR is always 127.0.0.1 under ASGI: the scope has it.
        client = (environ or {}).get("asgi.scope", {}).get("client")
        verdict = self._login(token, str(client[0]) if client else "")
        if verdict.retry_after:
            raise socketio.exceptions.ConnectionRefusedError(
                "too many failed logins from this address; "
                f"try again in {verdict.retry_after_header} s",
                {"code": "rate_limited", "retry_after": float(verdict.retry_after_header)},
            )
        if not verdict.ok:
            # Reaches the client as {"message": ..., "data": {"code": "unauthorized"}}.
            raise socketio.exceptions.ConnectionRefusedError(
                "missing or wrong token", {"code": "unauthorized"}
            )
        self._authenticated(client)
        await self.sio.enter_room(sid, CLIENTS_ROOM)
        # The CONNECT packet is sent after this handler returns; state and alarms follow.
        task = asyncio.create_task(self._send_initial(sid), name=f"daybreak initial {sid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return None

    async def _send_initial(self, sid: str) -> None:
        """Send a new client the state, then the alarms (no one-off events)."""
        await asyncio.sleep(0)
        for event, payload in self._initial():
            await self.sio.emit(event, payload, to=sid)

    async def _on_disconnect(self, sid: str, reason: Any = None, *_: Any) -> Ack | None:
        if self.sio.manager.is_connected(sid, "/"):
            # Not a disconnection: a connected client sent an event named "disconnect".
            return error_ack("unknown_event", "unknown event 'disconnect'")
        _LOGGER.debug("Client %s disconnected (%s)", sid, reason)
        return None

    def _command_handler(self, event: str) -> Any:
        async def handler(sid: str, *args: Any) -> Ack:
            if len(args) > 1:
                return error_ack("invalid_payload", "send one payload object, not several")
            return await self._router.answer(event, args[0] if args else None)

        handler.__name__ = f"on_{event.replace('.', '_')}"
        return handler

    async def _on_unknown_event(self, event: Any, *args: Any) -> Ack:
        # Called as (event, sid, *data); for an event named "*" (python-socketio's
        # catch-all key) as (sid, *data).
        sid = args[0] if args else None
        if not (isinstance(sid, str) and self.sio.manager.is_connected(sid, "/")):
            event = "*"
        return error_ack("unknown_event", f"unknown event {str(event)[:64]!r}")
