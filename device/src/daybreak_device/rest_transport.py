"""The REST transport: a declarative route table onto the router.

Each route names its path, HTTP method, the command it runs, whether it reads a JSON
body, which path parameters join the payload, and which part of the ack it answers
with. Every response is JSON, errors included, in the same ``{"ok": false, "error":
{"code", "message"}}`` shape as the Socket.IO acks, with the HTTP status of the code;
an unexpected exception answers ``internal_error`` (500, JSON) and is logged through
the router's throttled policy, never as a traceback per request. The bearer token goes
through the throttled :class:`~daybreak_device.throttle.Login`: a source that failed too
often gets 429 ``rate_limited`` with ``Retry-After``, without its token being checked.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .protocol import (
    EVENT_CREATE_ALARM,
    EVENT_DELETE_ALARM,
    EVENT_DISMISS_ALARM,
    EVENT_GET_ALARM,
    EVENT_GET_INFO,
    EVENT_GET_STATE,
    EVENT_LIST_ALARMS,
    EVENT_SET_LIGHT,
    EVENT_SET_WAKE_SETTINGS,
    EVENT_SKIP_ALARM,
    EVENT_SNOOZE_ALARM,
    EVENT_START_SUNRISE,
    EVENT_START_SUNSET,
    EVENT_STOP_SUNRISE,
    EVENT_STOP_SUNSET,
    EVENT_UPDATE_ALARM,
    MAX_PAYLOAD_BYTES,
    Ack,
    ErrorCode,
    ProtocolError,
    error_ack,
)
from .router import Answerer
from .throttle import Verdict

HTTP_STATUS: dict[ErrorCode, int] = {
    "invalid_payload": 422,
    "payload_too_large": 413,
    "unknown_event": 404,
    "unauthorized": 401,
    "not_found": 404,
    "method_not_allowed": 405,
    "internal_error": 500,
    "limit_reached": 409,
    "conflict": 409,
    "no_alarm": 409,
    "storage_error": 507,
    "rate_limited": 429,
    "host_not_allowed": 421,
}

#: The part of a successful ack a route answers with (``None``: the whole ack).
Answer = Literal["state", "info", "alarms", "alarm"] | None


@dataclass(frozen=True, slots=True)
class RestRoute:
    """One REST endpoint: ``method path`` runs ``event``."""

    path: str
    method: str
    event: str
    #: The payload is the JSON body.
    body: bool = False
    #: Path parameters added to the payload, as ``payload key -> path parameter``.
    params: dict[str, str] = field(default_factory=dict)
    #: Fixed values added to the payload.
    fixed: dict[str, Any] = field(default_factory=dict)
    answer: Answer = None
    #: Status of a successful answer.
    status: int = 200


_ALARM = {"id": "alarm_id"}
ROUTES: tuple[RestRoute, ...] = (
    RestRoute("/api/info", "GET", EVENT_GET_INFO, answer="info"),
    RestRoute("/api/state", "GET", EVENT_GET_STATE, answer="state"),
    RestRoute("/api/light", "POST", EVENT_SET_LIGHT, body=True),
    RestRoute("/api/sunrise", "POST", EVENT_START_SUNRISE, body=True),
    RestRoute("/api/sunrise", "DELETE", EVENT_STOP_SUNRISE),
    RestRoute("/api/sunset", "POST", EVENT_START_SUNSET, body=True),
    RestRoute("/api/sunset", "DELETE", EVENT_STOP_SUNSET),
    RestRoute("/api/alarm/snooze", "POST", EVENT_SNOOZE_ALARM),
    RestRoute("/api/alarm/dismiss", "POST", EVENT_DISMISS_ALARM),
    RestRoute("/api/wake-settings", "PATCH", EVENT_SET_WAKE_SETTINGS, body=True),
    RestRoute("/api/alarms", "GET", EVENT_LIST_ALARMS, answer="alarms"),
    RestRoute("/api/alarms", "POST", EVENT_CREATE_ALARM, body=True, status=201),
    RestRoute("/api/alarms/{alarm_id}", "GET", EVENT_GET_ALARM, params=_ALARM, answer="alarm"),
    RestRoute("/api/alarms/{alarm_id}", "PUT", EVENT_UPDATE_ALARM, body=True, params=_ALARM),
    RestRoute("/api/alarms/{alarm_id}", "PATCH", EVENT_UPDATE_ALARM, body=True, params=_ALARM),
    RestRoute("/api/alarms/{alarm_id}", "DELETE", EVENT_DELETE_ALARM, params=_ALARM),
    RestRoute(
        "/api/alarms/{alarm_id}/skip", "POST", EVENT_SKIP_ALARM, params=_ALARM, fixed={"skip": True}
    ),
    RestRoute(
        "/api/alarms/{alarm_id}/skip",
        "DELETE",
        EVENT_SKIP_ALARM,
        params=_ALARM,
        fixed={"skip": False},
    ),
)


class _BadJsonError(ProtocolError):
    """A REST body that is not JSON at all (HTTP 400 rather than 422)."""

    def __init__(self) -> None:
        super().__init__("invalid_payload", "body is not valid JSON")


def error_response(
    code: ErrorCode,
    message: str,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON error in the acks' shape, with the code's HTTP status."""
    if code == "unauthorized":
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(
        error_ack(code, message), status_code=status or HTTP_STATUS[code], headers=headers
    )


class RestTransport:
    """Builds the Starlette app of :data:`ROUTES` (plus ``extra`` routes) onto a router."""

    def __init__(
        self,
        router: Answerer,
        *,
        login: Callable[[Any, str], Verdict],
        authenticated: Callable[[Any], None],
        health: Callable[[], dict[str, Any]],
        extra: list[BaseRoute],
    ) -> None:
        """Serve ``router``; ``health()`` answers ``GET /api/health`` (no token).

        ``login(token, source)`` checks a bearer token; ``authenticated(client)`` is told
        the ASGI ``client`` of every request that passed.
        """
        self._router = router
        self._login = login
        self._authenticated = authenticated
        self._health = health
        by_path: dict[str, list[RestRoute]] = {}
        for route in ROUTES:
            by_path.setdefault(route.path, []).append(route)
        routes: list[BaseRoute] = [Route("/api/health", self._get_health, methods=["GET"])]
        routes += [
            Route(path, self._endpoint(group), methods=[r.method for r in group])
            for path, group in by_path.items()
        ]
        self.app = Starlette(
            routes=[*routes, *extra],
            exception_handlers={HTTPException: self._http_error},
        )

    def _endpoint(self, group: list[RestRoute]) -> Callable[[Request], Awaitable[Response]]:
        by_method = {route.method: route for route in group}

        async def endpoint(request: Request) -> Response:
            route = by_method[request.method]
            try:
                return await self._handle(route, request)
            except ClientDisconnect:
                # Gone, or cut off for sending its body too slowly: no one to answer.
                return error_response("invalid_payload", "the request was not received", 400)
            except Exception as err:  # noqa: BLE001 - every answer is JSON, see above
                self._router.log_unexpected(f"{request.method} {route.path}", err)
                return error_response("internal_error", "the device could not answer")

        return endpoint

    async def _handle(self, route: RestRoute, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        source = request.client.host if request.client else ""
        verdict = self._login(token.strip() if scheme.lower() == "bearer" else None, source)
        if verdict.retry_after:
            return error_response(
                "rate_limited",
                "too many failed logins from this address; "
                f"try again in {verdict.retry_after_header} s",
                headers={"Retry-After": verdict.retry_after_header},
            )
        if not verdict.ok:
            return error_response("unauthorized", "missing or wrong bearer token")
        self._authenticated(request.scope.get("client"))
        try:
            payload = await _read_json(request) if route.body else None
            path = {key: request.path_params[name] for key, name in route.params.items()}
            if path or route.fixed:
                payload = _with_path_parameters(payload, {**path, **route.fixed})
        except ProtocolError as err:
            status = 400 if isinstance(err, _BadJsonError) else None
            return error_response(err.code, err.message, status)
        ack = await self._router.answer(route.event, payload)
        return self._ack_response(route, ack)

    @staticmethod
    def _ack_response(route: RestRoute, ack: Ack) -> Response:
        error = ack.get("error")
        if error is not None:
            status = HTTP_STATUS[error["code"]]
            headers = {"WWW-Authenticate": "Bearer"} if error["code"] == "unauthorized" else None
            return JSONResponse(ack, status_code=status, headers=headers)
        if route.answer is not None:
            return JSONResponse(ack.get(route.answer))
        headers = None
        if route.status == 201 and "alarm" in ack:
            headers = {"Location": f"/api/alarms/{ack['alarm']['id']}"}
        return JSONResponse(ack, status_code=route.status, headers=headers)

    async def _get_health(self, request: Request) -> Response:
        return JSONResponse(self._health())

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return error_response("not_found", f"no such resource: {request.url.path}")
        if status == 405:
            response = error_response("method_not_allowed", f"{request.method} not allowed here")
            if isinstance(exc, HTTPException) and exc.headers:
                response.headers.update(exc.headers)  # Allow: the methods that are
            return response
        return error_response("internal_error", "request failed", status)


async def _read_json(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_PAYLOAD_BYTES:
        raise ProtocolError("payload_too_large", f"body is over {MAX_PAYLOAD_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PAYLOAD_BYTES:
            raise ProtocolError("payload_too_large", f"body is over {MAX_PAYLOAD_BYTES} bytes")
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise _BadJsonError from None
    except RecursionError:
        # Valid JSON that Python 3.11 cannot parse (3.12+ can, and then refuses
        # it in validation): the same 422 on every Python.
        raise ProtocolError("invalid_payload", "JSON nested too deep") from None


def _with_path_parameters(payload: Any, path: dict[str, Any]) -> Any:
    """The REST payload: the JSON body with the parameters from the URL path added.

    A body that is not an object is passed on for validation to refuse; a body that
    names a parameter differently from the path is refused here.
    """
    if payload is None:
        return dict(path)
    if not isinstance(payload, dict):
        return payload
    for key, value in path.items():
        if key in payload and payload[key] != value:
            raise ProtocolError("invalid_payload", f"{key!r} in the body differs from the path")
    return {**payload, **path}
