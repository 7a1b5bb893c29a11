"""What every worker shares through Redis (HEDGEBOT_REDIS_URL): flood control, the market cache
and Telegram's overall sending limit.

Its own module so that a bot without Redis never imports the client (40 ms of every start).
Redis out of reach never stops the bot: each works on alone, and says so once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

from bot.flood import Verdict

log = logging.getLogger(__name__)


class _Reach:
    """Whether Redis answered last time: its loss is logged once, and so is its return."""

    def __init__(self, what: str, meanwhile: str) -> None:
        self._what = what
        self._meanwhile = meanwhile
        self._lost = False

    def lost(self, exc: RedisError) -> None:
        if not self._lost:
            log.warning(
                "%s: Redis unavailable (%s); %s", self._what, type(exc).__name__, self._meanwhile
            )
        self._lost = True

    def answered(self) -> None:
        if self._lost:
            log.warning("%s: Redis is back", self._what)
        self._lost = False


# One user's sliding window in Redis, shared by every worker: the commands of the last window
# as a sorted set scored by Redis' own clock, and a flag while the user has been warned. Both
# expire with the window, so Redis holds only the users of the last minute.
_CHECK = """
local seen, warned = KEYS[1], KEYS[2]
local window_ms, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', seen, '-inf', now_ms - window_ms)
if redis.call('ZCARD', seen) < limit then
  redis.call('ZADD', seen, now_ms, t[1] .. t[2] .. ARGV[3])
  redis.call('PEXPIRE', seen, window_ms)
  redis.call('DEL', warned)
  return 'ok'
end
if redis.call('SET', warned, '1', 'NX', 'PX', window_ms) then
  return 'warn'
end
return 'silent'
"""


class SharedFloodGuard:
    """The flood guard's counts kept in Redis, so that a user's commands are counted together
    whichever worker takes them. Redis out of reach lets commands through (logged): a flood
    guard must not stop a bot that cannot reach it."""

    def __init__(
        self, redis: Redis, limit: int, window_s: float = 60.0, prefix: str = "hedgebot:"
    ) -> None:
        self._redis = redis
        self._limit = limit
        self._window_ms = int(window_s * 1000)
        self._prefix = prefix
        self._script = redis.register_script(_CHECK)
        self._checks = itertools.count()
        self._reach = _Reach("flood guard", "letting commands through")

    async def check(self, user_id: int) -> Verdict:
        """Count one command; 'warn' the first time the user goes over, 'silent' after that."""
        keys = [f"{self._prefix}flood:{user_id}", f"{self._prefix}flood-warned:{user_id}"]
        try:
            verdict = await self._script(
                keys=keys, args=[self._window_ms, self._limit, next(self._checks)]
            )
        except RedisError as exc:
            self._reach.lost(exc)
            return "ok"
        self._reach.answered()
        text = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
        return "warn" if text == "warn" else "silent" if text == "silent" else "ok"

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._redis.aclose()


# Let go of the loading mark only if it is still this process's (its lease may have run out and
# another process taken it).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# Longer than a venue request may take (the market service gives up after 8 s): a process that
# died loading holds the others back no longer than this.
LOADING_LEASE_MS = 15_000
WAIT_STEP_S = 0.02  # how often a process waiting for another's load looks for its value
# Longer than the longest time a value counts as fresh (markets: 6 h); a stale value is never
# served from here, only kept until it is replaced.
KEEP_S = 7 * 3600
_STAMP = struct.Struct("!d")  # when the value was loaded, before its bytes


class SharedMarketCache:
    """The market cache's loads shared through Redis (`hedgecore.market.cache.SharedCache`):
    the first process to miss a key marks it loading and asks the venue; the others wait for
    its value instead of asking too. Redis out of reach: each process asks for itself."""

    def __init__(self, redis: Redis, prefix: str = "hedgebot:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._release = redis.register_script(_RELEASE)
        self._reach = _Reach("market cache", "each worker asks the venues itself")

    async def fetch(
        self, key: str, fresh_since: float, load: Callable[[], Awaitable[tuple[bytes, float]]]
    ) -> tuple[bytes, float]:
        """The value of `key` and when it was loaded: the shared one if loaded at
        `fresh_since` or later, else loaded by this process or the one already loading it."""
        value_key = f"{self._prefix}market:{key}"
        loading_key = f"{self._prefix}market-loading:{key}"
        token = uuid.uuid4().hex
        try:
            while True:
                shared = await self._fresh(value_key, fresh_since)
                if shared is None and await self._redis.set(
                    loading_key, token, nx=True, px=LOADING_LEASE_MS
                ):
                    # Marked: but the process loading before may have stored its value and let
                    # go between the look and the mark.
                    shared = await self._fresh(value_key, fresh_since)
                    if shared is None:
                        break
                    await self._release(keys=[loading_key], args=[token])
                if shared is not None:
                    self._reach.answered()
                    return shared
                # Another process is loading it: its value, or its lease ending, comes soon.
                await asyncio.sleep(WAIT_STEP_S)
        except RedisError as exc:
            self._reach.lost(exc)
            return await load()
        self._reach.answered()
        try:
            payload, loaded_at = await load()
            try:
                await self._redis.set(value_key, _STAMP.pack(loaded_at) + payload, ex=KEEP_S)
            except RedisError as exc:
                self._reach.lost(exc)
            return payload, loaded_at
        finally:
            try:
                await self._release(keys=[loading_key], args=[token])
            except RedisError as exc:  # the lease ends it anyway
                self._reach.lost(exc)

    async def _fresh(self, value_key: str, fresh_since: float) -> tuple[bytes, float] | None:
        stored = await self._redis.get(value_key)
        if not isinstance(stored, bytes):  # None: not there
            return None
        (loaded_at,) = _STAMP.unpack_from(stored)
        return (stored[_STAMP.size :], loaded_at) if loaded_at >= fresh_since else None

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._redis.aclose()


# Telegram's overall limit, about 30 messages a second for the bot, however many processes
# send: each message reserves the next free slot, spaced evenly on Redis' own clock, and waits
# for it. The key is the time the next slot is free (microseconds); it expires once past.
_RESERVE = """
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local gap_us = tonumber(ARGV[1])
local slot_us = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now_us)
redis.call('SET', KEYS[1], string.format('%d', slot_us + gap_us), 'PX', math.floor((slot_us + gap_us - now_us) / 1000) + 1000)
return {string.format('%d', slot_us), string.format('%d', slot_us - now_us)}
"""
MESSAGES_PER_S = 30


class SharedSendWindow:
    """Telegram's overall sending limit kept by every process of the bot together. Redis out of
    reach: each process keeps PTB's limit alone (said once)."""

    def __init__(
        self, redis: Redis, prefix: str = "hedgebot:", per_s: float = MESSAGES_PER_S
    ) -> None:
        self._redis = redis
        self._key = f"{prefix}send-window"
        self._gap_us = int(1_000_000 / per_s)
        self._reserve = redis.register_script(_RESERVE)
        self._reach = _Reach("send window", "each worker keeps Telegram's limit alone")

    async def reserve(self) -> tuple[int, float] | None:
        """Reserve the next free slot: (its time on Redis' clock in microseconds, seconds to
        wait for it); None when Redis cannot be reached."""
        try:
            slot_us, wait_us = await self._reserve(keys=[self._key], args=[self._gap_us])
        except RedisError as exc:
            self._reach.lost(exc)
            return None
        self._reach.answered()
        return int(slot_us), int(wait_us) / 1_000_000

    async def wait_for_slot(self) -> None:
        """Wait until this process may send its next message."""
        reserved = await self.reserve()
        if reserved is not None and reserved[1] > 0:
            await asyncio.sleep(reserved[1])

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._redis.aclose()


class SharedRateLimiter(AIORateLimiter):
    """PTB's rate limiter (per group, retries after a 429), with the overall limit on messages
    kept across every worker (`SharedSendWindow`)."""

    def __init__(
        self, window: SharedSendWindow, per_s: float = MESSAGES_PER_S, max_retries: int = 3
    ) -> None:
        super().__init__(overall_max_rate=per_s, max_retries=max_retries)
        self._window = window

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if data.get("chat_id") is not None:  # what Telegram counts: messages to chats
            await self._window.wait_for_slot()
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

    async def shutdown(self) -> None:
        await super().shutdown()
        await self._window.close()
