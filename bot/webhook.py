"""Webhook mode: an aiohttp server that takes Telegram's updates and serves /healthz.

Requests without the secret token given to setWebhook are refused before anything is parsed.
The secret is derived from the bot's token: every worker behind one URL sets the same one, and
Telegram keeps only the last set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from bot.context import HedgeApp
from bot.miniapp import CALCULATOR_PATH
from bot.miniapp.page import miniapp
from bot.ops import healthz, serve
from bot.serving import ALLOWED_UPDATES, serving

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20


async def _body_within_limit(request: web.Request) -> bytes | None:
    """The request's body, or None once it is declared or found longer than MAX_UPDATE_BYTES."""
    # Not request.read(): after the error it raises past client_max_size, the megabyte it had
    # read stayed in memory, about 1 MB more for every chunked body refused (bench/webhook_bodies).
    if (request.content_length or 0) > MAX_UPDATE_BYTES:  # refused unread
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(1 << 16):
        body += chunk
        if len(body) > MAX_UPDATE_BYTES:
            return None
    return bytes(body)


def public_app(app: HedgeApp) -> web.Application:
    """What the bot serves to the world: GET /healthz for probes and, with HEDGEBOT_PUBLIC_URL
    set, the calculator under /app/."""

    async def health_probe(request: web.Request) -> web.Response:
        return healthz(app)

    server = web.Application(client_max_size=MAX_UPDATE_BYTES)
    server.router.add_get("/healthz", health_probe)
    if app.bot_data.services.settings.public_url is not None:
        server.add_subapp(CALCULATOR_PATH, miniapp(app, app.bot.token))
    return server


def webhook_app(app: HedgeApp, secret: str, path: str) -> web.Application:
    """The public application with POST `path` taking Telegram's updates."""

    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        raw = await _body_within_limit(request)
        if raw is None:
            too_large = web.json_response({"ok": False, "error": "too large"}, status=413)
            too_large.force_close()  # the rest of the body is not worth reading
            return too_large
        try:
            body = json.loads(raw)
            if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
                raise TypeError("not an update object")
            update = Update.de_json(body, app.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        await app.bot_data.intake.take(update)
        return web.json_response({"ok": True})

    server = public_app(app)
    server.router.add_post(path, receive)
    return server


def webhook_secret(token: str) -> str:
    """The secret Telegram sends with each update: the same in every worker, known to no one
    without the token (which can set its own webhook anyway)."""
    return hmac.new(token.encode(), b"hedgebot webhook secret", hashlib.sha256).hexdigest()


async def run_webhook(app: HedgeApp, url: str, listen: str, port: int) -> None:
    """Serve the webhook until SIGINT or SIGTERM, then finish in-flight replies and close."""
    secret = webhook_secret(app.bot.token)
    path = urlsplit(url).path or "/"
    async with serving(app) as stopping:
        runner = await serve(webhook_app(app, secret, path), listen, port)
        await app.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        log.info("webhook serving on %s:%d%s", listen, port, path)
        try:
            await stopping.wait()
        finally:
            await runner.cleanup()
