"""The one factory that builds the PTB Application from settings; nothing happens at import."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Bot, BotCommand, MenuButtonWebApp, WebAppInfo
from telegram.ext import AIORateLimiter, Application, JobQueue
from telegram.request import BaseRequest

from bot.alerting import AlertService
from bot.context import CONTEXT_TYPES, HedgeApp, HedgeContext, UnmarkedApplication
from bot.flood import Flood, FloodGuard
from bot.handlers import command_names, menu, register_all
from bot.handlers.alerts import TURN_EVERY_S, check_alerts
from bot.intake import Intake, UpdateQueue
from bot.metrics import BotMetrics
from bot.miniapp import CALCULATOR_PATH
from bot.ops import ops_app, serve
from bot.services import Services
from bot.settings import BotSettings
from bot.store import open_store
from bot.transport import AiohttpRequest
from bot.typing_action import TypingUpdateProcessor
from hedgecore.desk import Desk
from hedgecore.market.cache import SharedCache

if TYPE_CHECKING:  # the client is imported only with HEDGEBOT_REDIS_URL set
    from redis.asyncio import Redis

CONSOLE_TOKEN = "1:console-chat-without-telegram"  # the terminal chat never sends it anywhere
CONCURRENT_UPDATES = 256  # handlers running at once, as PTB's concurrent_updates(True) has it


class Role(StrEnum):
    """What a hedgebot process does."""

    BOTH = "both"  # serves updates and, while it leads them, runs the alert cycles
    WORKER = "worker"  # serves updates only
    SCHEDULER = "scheduler"  # runs the alert cycles only (while it leads them)


async def check_token(token: str, base_url: str) -> None:
    """Ask Telegram who the bot is; raises `InvalidToken` when it refuses the token.

    Done before PTB starts, whose own start-up logs the refusal with a traceback first.
    """
    request = AiohttpRequest(connection_pool_size=1)
    await request.initialize()
    try:
        await Bot(token, base_url, request=request).get_me()
    finally:
        await request.shutdown()


# Connections to Redis per use (flood guard, market cache, send window). Past them a command
# waits its turn, up to 5 s, rather than fail as it would past redis-py's default pool (100,
# which 256 handlers at once outrun); a Redis that is down fails each call within its 1 s
# socket timeouts, not there.
REDIS_CONNECTIONS = 64


def _redis(settings: BotSettings) -> Redis:
    from redis.asyncio import BlockingConnectionPool, Redis

    assert settings.redis_url is not None  # only called with one
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=REDIS_CONNECTIONS,
        timeout=5,
        socket_timeout=1,
        socket_connect_timeout=1,
    )
    return Redis.from_pool(pool)


def shared_flood_guard(settings: BotSettings) -> Flood:
    """Flood control counted in Redis (HEDGEBOT_REDIS_URL), across every worker."""
    from bot.shared import SharedFloodGuard

    return SharedFloodGuard(_redis(settings), settings.flood_limit, prefix=settings.redis_prefix)


def shared_market_cache(settings: BotSettings) -> SharedCache:
    """The market cache's loads shared through Redis (HEDGEBOT_REDIS_URL) by every worker."""
    from bot.shared import SharedMarketCache

    return SharedMarketCache(_redis(settings), prefix=settings.redis_prefix)


def rate_limiter(settings: BotSettings) -> AIORateLimiter:
    """PTB's rate limiter, which retries after a 429; with Redis, Telegram's overall limit is
    kept by every worker together."""
    if settings.redis_url is None:
        return AIORateLimiter(overall_max_rate=settings.messages_per_s, max_retries=3)
    from bot.shared import SharedRateLimiter, SharedSendWindow

    window = SharedSendWindow(
        _redis(settings), prefix=settings.redis_prefix, per_s=settings.messages_per_s
    )
    return SharedRateLimiter(window, per_s=settings.messages_per_s, max_retries=3)


def build_application(
    settings: BotSettings,
    request: BaseRequest | None = None,
    rate_limited: bool = True,
    serve_http: bool = True,
    flood_guard: bool = True,
    role: Role = Role.BOTH,
    polling: bool = False,
) -> HedgeApp:
    """The bot, ready to run: handlers registered, services started in post_init.

    `request` replaces the HTTP transport for both sending and getUpdates (the terminal chat);
    `rate_limited=False` is for benchmarks, where Telegram's 30 messages a second would be all
    that is measured; `serve_http=False` keeps the /healthz and /metrics server off;
    `flood_guard=False` lets one user send as fast as they like (the terminal chat);
    `polling`: updates are fetched with getUpdates, which one process per database may do.
    """
    ops: list[web.AppRunner] = []
    intake = Intake(UpdateQueue(), settings.max_waiting_updates)

    async def post_init(app: HedgeApp) -> None:
        store = await open_store(settings.db, polling=polling)
        live_and_shared = settings.redis_url is not None and settings.snapshot is None
        desk = Desk.open(
            settings.venues,
            settings.snapshot,
            settings.reply_deadline_s,
            shared=shared_market_cache(settings) if live_and_shared else None,
        )
        alerts = AlertService(store, desk.market)
        services = Services(
            settings=settings,
            desk=desk,
            store=store,
            alerts=alerts,
            flood=shared_flood_guard(settings)
            if settings.redis_url and flood_guard
            else FloodGuard(settings.flood_limit if flood_guard else None),
            metrics=BotMetrics(desk.market, alerts, intake, command_names()),
            menu=menu(calculator_set_up=settings.public_url is not None),
        )
        app.bot_data.start(services)
        await app.bot.set_my_commands([BotCommand(name, what) for name, what, _ in services.menu])
        if settings.public_url is not None:  # the chat's menu button opens the calculator
            await app.bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp(
                    "Calculator", WebAppInfo(settings.public_url + CALCULATOR_PATH)
                )
            )
        if serve_http and settings.http_port:
            ops.append(await serve(ops_app(app), "0.0.0.0", settings.http_port))

    async def post_shutdown(app: HedgeApp) -> None:
        while ops:
            await ops.pop().cleanup()
        await intake.close()
        services = app.bot_data.stop()
        if services is not None:
            await services.close()

    token = (
        settings.telegram_bot_token.get_secret_value()
        if settings.telegram_bot_token
        else CONSOLE_TOKEN
    )
    builder = (
        Application.builder()
        .application_class(UnmarkedApplication)
        .token(token)
        .base_url(settings.telegram_base_url)
        .context_types(CONTEXT_TYPES)
        .job_queue(JobQueue[HedgeContext]())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(TypingUpdateProcessor(CONCURRENT_UPDATES))
        .update_queue(intake.queue)
        .updater(None)  # bot.polling fetches updates: PTB's Updater stops for good on a 401
    )
    if rate_limited:
        # PTB types the builder by its rate limiter's argument type; the app does not depend on it.
        builder = builder.rate_limiter(rate_limiter(settings))  # type: ignore[arg-type]
    transports: list[BaseRequest] = []
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    elif settings.transport == "aiohttp":
        # getUpdates long-polls on a connection of its own, as with PTB's default transport.
        transports = [AiohttpRequest(), AiohttpRequest(connection_pool_size=1)]
        builder = builder.request(transports[0]).get_updates_request(transports[1])
    app = builder.build()
    app.bot_data.transports = transports
    app.bot_data.intake = intake
    register_all(app)
    if role is not Role.WORKER and app.job_queue is not None:  # a worker leaves them to others
        app.job_queue.run_repeating(
            check_alerts, interval=TURN_EVERY_S, first=TURN_EVERY_S, name="alerts"
        )
    return app
