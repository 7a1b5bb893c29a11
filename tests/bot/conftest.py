"""The real PTB Application, built as in production, polling a fake Bot API server on loopback."""

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_application
from bot.context import HedgeApp
from bot.polling import Poller
from bot.settings import BotSettings
from hedgecore.market.snapshot import record_snapshot, write_snapshot

from ..hedgecore.market.conftest import REPLAY_TIME, replay_feeds
from ..hedgecore.market.exchange_replay import ExchangeReplay
from .fake_telegram import FakeTelegram
from .servers import postgres_url, redis, redis_prefix  # noqa: F401 - fixtures for every test here

TOKEN = "123456789:AAH-test-token-that-must-never-be-logged-xyz"
OTHER_TOKEN = "987654321:AAH-the-token-telegram-knows-not-this-one"
FAST_BACKOFF_S = 0.05  # the first pause after a failed getUpdates: a second in production
# One Bybit quote of 2025-04-28 (scripts/build_bybit_2025_snapshot.py): the figures the tests check.
DEMO = Path(__file__).resolve().parents[1] / "data" / "bybit_2025-04-28_snapshot.json"


def bot_settings(base_url: str, db: Path, snapshot: Path = DEMO, **extra: str) -> BotSettings:
    return BotSettings.model_validate(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "HEDGEBOT_TELEGRAM_BASE_URL": base_url,
            "HEDGEBOT_DB": str(db),
            "HEDGEBOT_SNAPSHOT": str(snapshot),
            "HEDGEBOT_HTTP_PORT": "0",
            "HEDGEBOT_FLOOD_LIMIT": "1000",  # tests talk fast; the flood test sets its own
            **extra,
        }
    )


@dataclass
class RunningBot:
    telegram: FakeTelegram
    app: HedgeApp
    db: Path
    transport: str


async def start_bot(
    telegram: FakeTelegram,
    db: Path,
    transport: str = "aiohttp",
    snapshot: Path = DEMO,
    **extra: str,
) -> HedgeApp:
    app = build_application(
        bot_settings(telegram.base_url, db, snapshot, HEDGEBOT_TRANSPORT=transport, **extra)
    )
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    app.bot_data.poller = Poller(
        app.bot, app.bot_data.intake.take, poll_timeout_s=0, first_backoff_s=FAST_BACKOFF_S
    )
    app.bot_data.poller.start()
    return app


async def stop_bot(app: HedgeApp) -> None:
    assert app.bot_data.poller is not None
    await app.bot_data.poller.stop()
    await app.stop()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)
    await app.shutdown()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(token=TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def with_ops(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[tuple[RunningBot, str]]:
    """The bot polling, with its /healthz and /metrics server at the URL given; user 77 is an admin."""
    port = free_port()
    db = tmp_path / "ops.sqlite3"
    bot = RunningBot(
        telegram,
        await start_bot(telegram, db, HEDGEBOT_HTTP_PORT=str(port), HEDGEBOT_ADMIN_IDS="77"),
        db,
        "aiohttp",
    )
    await telegram.wait_for_polls(2)  # healthy: the first poll has been answered and taken in
    yield bot, f"http://127.0.0.1:{port}"
    if bot.app.running:
        await stop_bot(bot.app)


async def _running(telegram: FakeTelegram, db: Path, transport: str) -> AsyncIterator[RunningBot]:
    bot = RunningBot(telegram, await start_bot(telegram, db, transport), db, transport)
    yield bot
    await stop_bot(bot.app)  # the test may have restarted it


@pytest.fixture
async def running(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The bot on its default HTTP transport (aiohttp)."""
    async for bot in _running(telegram, tmp_path / "bot.sqlite3", "aiohttp"):
        yield bot


@pytest.fixture(params=["aiohttp", "httpx"])
async def each_transport(
    telegram: FakeTelegram, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[RunningBot]:
    """The bot on each HTTP transport, for the tests of what a transport carries: HTML replies,
    edits with keyboards, multipart photos and 429s (the features above them do not differ)."""
    async for bot in _running(telegram, tmp_path / "bot.sqlite3", request.param):
        yield bot


async def record_every_venue(path: Path) -> None:
    """Record the every-venue replay server's BTC, ETH and SOL into a snapshot file at `path`."""
    replay = ExchangeReplay()
    await replay.start()
    feeds = replay_feeds(replay)
    try:
        snapshot = await record_snapshot(
            feeds, datetime.fromtimestamp(REPLAY_TIME, tz=UTC), {"BTC", "ETH", "SOL"}
        )
    finally:
        for feed in feeds:
            await feed.close()
        await replay.stop()
    write_snapshot(snapshot, path)


@pytest.fixture(scope="session")
def replay_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The every-venue recording, made once for the session (the bot only reads it)."""
    path = tmp_path_factory.mktemp("snapshots") / "replay.json"
    asyncio.run(record_every_venue(path))
    return path


@pytest.fixture
async def replayed_venues(
    telegram: FakeTelegram, tmp_path: Path, replay_snapshot: Path
) -> AsyncIterator[RunningBot]:
    """The bot on a snapshot recorded from the every-venue replay server (BTC, ETH and SOL)."""
    db = tmp_path / "bot.sqlite3"
    app = await start_bot(telegram, db, snapshot=replay_snapshot)
    bot = RunningBot(telegram, app, db, "aiohttp")
    yield bot
    await stop_bot(bot.app)


@pytest.fixture
def telegram_elsewhere() -> Iterator[FakeTelegram]:
    """A fake Bot API on its own loop in a thread, for a bot run as a subprocess."""
    server = FakeTelegram(token=OTHER_TOKEN)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bot_process(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """`python -m bot ARGS` with these settings over the environment (started, not awaited)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )


def start_bot_process(
    telegram: FakeTelegram, tmp_path: Path, args: tuple[str, ...] = (), **env: str
) -> subprocess.Popen[str]:
    """The bot polling (or serving a webhook for) the fake Bot API, with the token it knows."""
    settings = {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "HEDGEBOT_TELEGRAM_BASE_URL": telegram.base_url,
        "HEDGEBOT_SNAPSHOT": str(DEMO),
        "HEDGEBOT_DB": str(tmp_path / "bot.sqlite3"),
        "HEDGEBOT_HTTP_PORT": "0",
        "HEDGEBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "HEDGEBOT_WEBHOOK_PORT": str(free_port()),
    }
    return bot_process(list(args), {**settings, **env})
