"""What workers share through Redis: the market cache (several workers make the exchange
requests of one) and Telegram's overall sending limit."""

import asyncio
import itertools
import struct
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.shared import SharedMarketCache, SharedSendWindow
from hedgecore.market.cache import SharedCache
from hedgecore.market.service import MarketService

from ..hedgecore.market.conftest import Clock, replay_feeds
from ..hedgecore.market.exchange_replay import ExchangeReplay
from .conftest import start_bot, stop_bot
from .fake_telegram import FakeTelegram
from .servers import REDIS

QUESTIONS = 200  # at once; tests/bot/test_scaled.py asks 1,000 across processes


@pytest.fixture
async def replay() -> AsyncIterator[ExchangeReplay]:
    server = ExchangeReplay()
    await server.start()
    yield server
    await server.stop()


async def requests_for(
    replay: ExchangeReplay, shared: list[SharedCache | None]
) -> Counter[tuple[str, str]]:
    """The requests each venue endpoint received while QUESTIONS questions at once, spread over one
    market service per entry of `shared` (real ccxt, the replay server), were answered."""
    replay.requests.clear()
    services = [MarketService(replay_feeds(replay), clock=Clock(), shared=s) for s in shared]
    try:
        found = await asyncio.gather(
            *(services[n % len(services)].coin_markets("BTC") for n in range(QUESTIONS))
        )
        assert all(markets.contracts and not markets.failed_venues for markets in found)
        # Funding history and tiers too: every kind of request a /hedge makes.
        await asyncio.gather(*(s.funding_history("BTC") for s in services for _ in range(50)))
    finally:
        for service in services:
            await service.close()
    # By endpoint: some venues' queries carry the time.
    return Counter(
        (venue, path.split("?")[0])
        for (venue, path), n in replay.requests.items()
        for _ in range(n)
    )


async def test_two_workers_sharing_redis_make_the_requests_of_one(
    replay: ExchangeReplay, redis: Redis, redis_prefix: str
) -> None:
    one_worker = await requests_for(replay, [None])
    two_alone = await requests_for(replay, [None, None])
    two_sharing = await requests_for(
        replay,
        [SharedMarketCache(Redis.from_url(REDIS), prefix=redis_prefix) for _ in range(2)],
    )
    assert two_alone == one_worker + one_worker  # without Redis, each asks for itself
    assert two_sharing == one_worker
    assert await redis.exists(f"{redis_prefix}market:bybit|markets")


async def test_redis_out_of_reach_each_worker_asks_for_itself_said_once(
    replay: ExchangeReplay, caplog: pytest.LogCaptureFixture
) -> None:
    one_worker = await requests_for(replay, [None])
    unreachable = [
        SharedMarketCache(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5))
        for _ in range(2)
    ]
    assert await requests_for(replay, list(unreachable)) == one_worker + one_worker
    said = [r.getMessage() for r in caplog.records if r.name == "bot.shared"]
    assert (
        said
        == ["market cache: Redis unavailable (ConnectionError); each worker asks the venues itself"]
        * 2
    )  # once per worker


async def test_workers_sharing_redis_space_their_messages_as_one_sender(
    redis: Redis, redis_prefix: str
) -> None:
    windows = [
        SharedSendWindow(Redis.from_url(REDIS), prefix=redis_prefix, per_s=30) for _ in range(2)
    ]
    try:
        reserved = await asyncio.gather(*(windows[n % 2].reserve() for n in range(60)))
    finally:
        for window in windows:
            await window.close()
    slots = sorted(slot for slot, _ in filter(None, reserved))
    assert len(slots) == 60
    # Evenly spaced on Redis' clock, whichever worker reserved: 60 messages take two seconds.
    assert {b - a for a, b in itertools.pairwise(slots)} == {1_000_000 // 30}
    waits = sorted(wait for _, wait in filter(None, reserved))
    assert waits[0] < 0.05
    assert 1.9 < waits[-1] < 2.0


async def test_the_bot_with_redis_keeps_telegrams_limit_in_it(
    telegram: FakeTelegram, tmp_path: Path, redis: Redis, redis_prefix: str
) -> None:
    app = await start_bot(
        telegram,
        tmp_path / "w.sqlite3",
        HEDGEBOT_REDIS_URL=REDIS,
        HEDGEBOT_REDIS_PREFIX=redis_prefix,
    )
    try:
        telegram.send_text("/help")
        await telegram.wait_for("sendMessage", 1)
        assert await redis.exists(f"{redis_prefix}send-window")
    finally:
        await stop_bot(app)


async def test_a_value_stored_between_the_look_and_the_mark_is_used_not_loaded_again(
    redis: Redis, redis_prefix: str
) -> None:
    class Racing(Redis):
        """The real Redis; the other worker stores its value just before this one marks."""

        async def set(self, name: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("nx"):
                await redis.set(f"{redis_prefix}market:bybit|quotes", stored)
            return await super().set(name, value, *args, **kwargs)

    stored = struct.pack("!d", 1000.0) + b'["theirs"]'
    loads: list[str] = []

    async def load() -> tuple[bytes, float]:
        loads.append("mine")
        return b'["mine"]', 1000.0

    cache = SharedMarketCache(Racing.from_url(REDIS), prefix=redis_prefix)
    try:
        assert await cache.fetch("bybit|quotes", 990.0, load) == (b'["theirs"]', 1000.0)
    finally:
        await cache.close()
    assert loads == []
    assert not await redis.exists(f"{redis_prefix}market-loading:bybit|quotes")  # let go
