"""The real PTB Application, built as in production, polling a fake Bot API server on loopback."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

from bot.app import build_application
from bot.context import HedgeApp
from bot.settings import BotSettings
from hedgecore.market.snapshot import record_snapshot, write_snapshot

from ..hedgecore.market.conftest import REPLAY_TIME, replay_feeds
from ..hedgecore.market.exchange_replay import ExchangeReplay
from .fake_telegram import FakeTelegram

TOKEN = "123456789:AAH-test-token-that-must-never-be-logged-xyz"
DEMO = Path(str(resources.files("hedgecore.market").joinpath("demo_snapshot.json")))


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
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=0)
    return app


async def stop_bot(app: HedgeApp) -> None:
    assert app.updater is not None
    await app.updater.stop()
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


async def record_five_venues(path: Path) -> None:
    """Record the five-venue replay server's BTC, ETH and SOL into a snapshot file at `path`."""
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
def five_venue_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five-venue recording, made once for the session (the bot only reads it)."""
    path = tmp_path_factory.mktemp("snapshots") / "five.json"
    asyncio.run(record_five_venues(path))
    return path


@pytest.fixture
async def five_venues(
    telegram: FakeTelegram, tmp_path: Path, five_venue_snapshot: Path
) -> AsyncIterator[RunningBot]:
    """The bot on a snapshot recorded from the five-venue replay server (BTC, ETH and SOL)."""
    db = tmp_path / "bot.sqlite3"
    app = await start_bot(telegram, db, snapshot=five_venue_snapshot)
    bot = RunningBot(telegram, app, db, "aiohttp")
    yield bot
    await stop_bot(bot.app)
