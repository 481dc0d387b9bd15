"""The device's own web page: static files from the package, served with strict headers.

The page (``web/``: ``index.html``, ``app.js``, ``style.css`` and the vendored Socket.IO
client, see ``web/VENDOR.md``) holds no secret, so it is served without the token; it
asks for the token itself and every Socket.IO call it makes needs it. ``/`` is
``index.html``; everything else is under ``/static/``. Each response carries a
``Content-Security-Policy`` that lets the page load code only from the device and talk
only to the device, and ``Cache-Control: no-cache``: the files are not fingerprinted, so
browsers revalidate them (a cheap 304 thanks to the ETag) and never run a stale
``app.js`` after an upgrade.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB_DIR = Path(__file__).parent / "web"

#: A ``Host`` header that can go into a CSP source expression as it is (CSP has no
#: syntax for IPv6 literals; those get ``'self'`` alone, which CSP 3 browsers extend
#: to ``ws:``/``wss:`` on the same host).
_CSP_HOST = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{1,5})?")


def content_security_policy(host: str | None) -> str:
    """The page's CSP: scripts, styles and images from the device; sockets to it only."""
    connect = "'self'"
    if host and _CSP_HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def web_headers(host: str | None) -> dict[str, str]:
    """Headers for every file of the page."""
    return {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": content_security_policy(host),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class WebFiles(StaticFiles):
    """Starlette's static files (ETag, 304, HEAD, no path escapes) with our headers."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """Answer with the file (or 304) and the page's headers."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(web_headers(Headers(scope=scope).get("host")))
        return response

    async def index(self, request: Request) -> Response:
        """``GET /``: the page itself."""
        return await self.get_response("index.html", request.scope)


def web_routes() -> list[BaseRoute]:
    """Routes for the page: ``/`` and ``/static/...``, no token needed."""
    files = WebFiles(directory=WEB_DIR)
    return [Route("/", files.index, methods=["GET"]), Mount("/static", app=files)]
