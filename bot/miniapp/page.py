"""The calculator's page and API as one aiohttp application, mounted under /app/ on the bot's
public server (the webhook's, or one of its own when polling).

Only the page's own files are served, from memory, compressed when the browser accepts it,
under a strict Content-Security-Policy: scripts from here and Telegram's Mini App script only,
requests back to here only, framed only by Telegram.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bot.context import HedgeApp
from bot.miniapp.api import api_routes

STATIC = Path(__file__).with_name("static")
# The page's files; vendor/ is copied from the npm package at install (make).
FILES = {
    "": ("index.html", "text/html"),
    "app.js": ("app.js", "text/javascript"),
    "app.css": ("app.css", "text/css"),
    "vendor/uPlot.iife.min.js": ("vendor/uPlot.iife.min.js", "text/javascript"),
    "vendor/uPlot.min.css": ("vendor/uPlot.min.css", "text/css"),
}
POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self' https://telegram.org",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors https://web.telegram.org https://*.telegram.org",
        "base-uri 'none'",
        "form-action 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@web.middleware
async def _guarded(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(HEADERS)
    return response


def miniapp(app: HedgeApp, token: str, clock: Callable[[], float] = time.time) -> web.Application:
    """The page and its API for `app`; initData is checked against `token`."""
    server = web.Application(middlewares=[_guarded])
    server.add_routes(api_routes(app, token, clock))
    for path, (name, content_type) in FILES.items():
        file = STATIC / name
        if not file.is_file():
            continue  # the chart library is not installed: the page says so
        body = file.read_bytes()

        async def serve(
            request: web.Request, body: bytes = body, content_type: str = content_type
        ) -> web.Response:
            response = web.Response(body=body, content_type=content_type)
            response.enable_compression()
            return response

        server.router.add_get(f"/{path}", serve)
    return server
