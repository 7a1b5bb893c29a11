"""The operator's HTTP server: GET /healthz for probes, GET /metrics for Prometheus."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.context import HedgeApp


def health(app: HedgeApp) -> tuple[bool, str]:
    """Whether the bot is up: running, fetching updates, and with at least one venue answering."""
    if not app.running:
        return False, "not connected to Telegram"
    poller = app.bot_data.poller
    if poller is not None and (problem := poller.problem()) is not None:
        return False, problem
    venues = app.bot_data.services.desk.market.venue_health()
    if venues and not any(up for up, _ in venues.values()):
        return False, "no venue answering: " + "; ".join(
            f"{v} {why}" for v, (_, why) in venues.items()
        )
    return True, "ok"


def healthz(app: HedgeApp) -> web.Response:
    """The /healthz answer: 200 when `health` is good, 503 with the reason otherwise."""
    up, reason = health(app)
    return web.json_response(
        {"status": "ok" if up else "unhealthy", "reason": reason}, status=200 if up else 503
    )


def ops_app(app: HedgeApp) -> web.Application:
    """The aiohttp application serving /healthz and /metrics for `app`."""

    async def health_probe(request: web.Request) -> web.Response:
        return healthz(app)

    async def metrics(request: web.Request) -> web.Response:
        body = app.bot_data.services.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    server = web.Application()
    server.router.add_get("/healthz", health_probe)
    server.router.add_get("/metrics", metrics)
    return server


async def serve(server: web.Application, listen: str, port: int) -> web.AppRunner:
    """`server` listening on `listen`:`port` (the ops server, the public one); clean the
    runner up to stop it."""
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, listen, port).start()
    return runner
