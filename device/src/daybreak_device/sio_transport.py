"""The Socket.IO transport: authentication, commands as acked events, pushes.

A python-socketio ``AsyncServer`` (ASGI, WebSocket only) whose clients authenticate
with the token in the ``auth`` object and join one room, which the push stream emits
to. Every command event goes to the :class:`~daybreak_device.router.Router`; unknown
events, binary packets and frames that cannot be decoded get an error or are dropped,
never a traceback in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import engineio
import socketio

from .protocol import COMMANDS, Ack, error_ack
from .router import Answerer

_LOGGER = logging.getLogger(__name__)

#: Hard cap on one Engine.IO message; larger frames close the connection. Commands
#: are far smaller and get a clear ``payload_too_large`` error above MAX_PAYLOAD_BYTES.
MAX_FRAME_BYTES = 64 * 1024
CLIENTS_ROOM = "clients"
#: Socket.IO packet types that carry binary attachments (BINARY_EVENT, BINARY_ACK).
_BINARY_PACKET_TYPES = (str(socketio.packet.BINARY_EVENT), str(socketio.packet.BINARY_ACK))


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

    def _engineio_server_class(self) -> type[_EngineIOServer]:
        return _EngineIOServer

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, bytes):
            return  # a binary attachment: dropped, never buffered
        if isinstance(data, str) and data[:1] in _BINARY_PACKET_TYPES:
            await self._refuse_binary_packet(eio_sid, data)
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, RecursionError) as err:
            # A frame python-socketio cannot decode (bad JSON, nesting too deep for
            # Python 3.11, a bad packet type): dropped, as the library would, but
            # without an error and a traceback in the log for each one.
            _LOGGER.debug("Dropped a malformed Socket.IO frame: %s", err)

    async def _refuse_binary_packet(self, eio_sid: str, data: str) -> None:
        """Answer a binary event that asks for an ack with an error; drop anything else."""
        try:
            pkt = self.packet_class(encoded_packet=data)
        except (ValueError, RecursionError):
            return
        namespace = pkt.namespace or "/"
        if (
            pkt.packet_type == socketio.packet.BINARY_EVENT
            and pkt.id is not None
            and self.manager.sid_from_eio_sid(eio_sid, namespace) is not None
        ):
            ack = error_ack("invalid_payload", "binary attachments are not supported")
            await self._send_packet(
                eio_sid,
                self.packet_class(socketio.packet.ACK, namespace=namespace, id=pkt.id, data=[ack]),
            )


class SocketIOTransport:
    """The Socket.IO side of the device: one ``AsyncServer`` and its handlers."""

    def __init__(
        self,
        router: Answerer,
        *,
        authorized: Callable[[Any], bool],
        initial: Callable[[], list[tuple[str, Any]]],
        ping_interval: float,
        ping_timeout: float,
    ) -> None:
        """Serve ``router``; ``initial()`` is what a new client gets (event, payload)."""
        self._router = router
        self._authorized = authorized
        self._initial = initial
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio = _SocketIOServer(
            async_mode="asgi",
            transports=["websocket"],
            max_http_buffer_size=MAX_FRAME_BYTES,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            # cors_allowed_origins stays at its default: same origin only.
        )
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
        if not self._authorized(token):
            _LOGGER.info("Refused a client from %s: bad token", environ.get("REMOTE_ADDR"))
            # Reaches the client as {"message": ..., "data": {"code": "unauthorized"}}.
            raise socketio.exceptions.ConnectionRefusedError(
                "missing or wrong token", {"code": "unauthorized"}
            )
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
