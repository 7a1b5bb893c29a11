"""Flood control counts each user's commands a minute and forgets users who went quiet; with
Redis, across workers."""

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.flood import FloodGuard
from bot.handlers.gate import SLOW_DOWN
from bot.shared import SharedFloodGuard

from .conftest import start_bot, stop_bot
from .fake_telegram import FakeTelegram
from .servers import REDIS


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_one_warning_then_silence_then_ok_after_the_window() -> None:
    clock = Clock()
    guard = FloodGuard(limit=2, window_s=60, clock=clock)
    assert [await guard.check(7) for _ in range(4)] == ["ok", "ok", "warn", "silent"]
    clock.now += 60
    assert await guard.check(7) == "ok"


async def test_memory_holds_only_the_users_of_the_last_window() -> None:
    clock = Clock()
    guard = FloodGuard(limit=20, window_s=60, clock=clock)
    for user in range(10_000):
        await guard.check(user)
        clock.now += 0.01  # 10,000 users over 100 seconds
    # Only those seen in the last minute are remembered: about 6,000, not 10,000.
    assert len(guard) <= 6_001
    clock.now += 61
    await guard.check(1)
    assert len(guard) == 1


async def test_a_crowd_within_one_window_is_remembered_up_to_a_bound_and_a_flooder_stays_counted() -> (
    None
):
    clock = Clock()
    guard = FloodGuard(limit=3, window_s=60, clock=clock, max_users=100)
    for user in range(1_000):  # a thousand users in one second
        await guard.check(user)
        if user % 10 == 0:
            await guard.check(-1)  # one user floods among them
        clock.now += 0.001
    assert len(guard) == 100
    assert await guard.check(-1) == "silent"  # still counted: never the least recently active


async def test_workers_sharing_redis_count_a_users_commands_together(
    redis: Redis, redis_prefix: str
) -> None:
    workers = [SharedFloodGuard(redis, limit=3, prefix=redis_prefix) for _ in range(2)]
    verdicts = [await workers[n % 2].check(7) for n in range(5)]
    assert verdicts == ["ok", "ok", "ok", "warn", "silent"]
    assert await workers[0].check(8) == "ok"  # another user counts from zero
    # Only the last window is kept: every key expires with it.
    ttls = [await redis.pttl(key) async for key in redis.scan_iter(match=f"{redis_prefix}*")]
    assert ttls
    assert all(0 < ttl <= 60_000 for ttl in ttls)


async def test_a_window_that_passes_lets_the_user_in_again(redis: Redis, redis_prefix: str) -> None:
    guard = SharedFloodGuard(redis, limit=1, window_s=0.2, prefix=redis_prefix)
    assert [await guard.check(7) for _ in range(3)] == ["ok", "warn", "silent"]
    await asyncio.sleep(0.25)
    assert await guard.check(7) == "ok"


async def test_redis_out_of_reach_lets_commands_through_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    guard = SharedFloodGuard(unreachable, limit=1)
    assert [await guard.check(7) for _ in range(3)] == ["ok", "ok", "ok"]
    assert [r.getMessage() for r in caplog.records if r.name == "bot.shared"] == [
        "flood guard: Redis unavailable (ConnectionError); letting commands through"
    ]
    await guard.close()


async def test_the_bot_counts_floods_in_redis_when_given_one(
    telegram: FakeTelegram, tmp_path: Path, redis: Redis, redis_prefix: str
) -> None:
    app = await start_bot(
        telegram,
        tmp_path / "f.sqlite3",
        HEDGEBOT_REDIS_URL=REDIS,
        HEDGEBOT_REDIS_PREFIX=redis_prefix,
        HEDGEBOT_FLOOD_LIMIT="2",
    )
    try:
        for _ in range(4):
            telegram.send_text("/help")
        await telegram.wait_for("sendMessage", 3)
        await asyncio.sleep(0.3)  # the fourth is silent
        texts = [call.params["text"] for call in telegram.sent()]
        assert len(texts) == 3
        assert texts.count(SLOW_DOWN) == 1  # replies may go out in any order
        assert await redis.exists(f"{redis_prefix}flood:77")
    finally:
        await stop_bot(app)
