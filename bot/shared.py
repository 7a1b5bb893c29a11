"""What every worker shares through Redis (HEDGEBOT_REDIS_URL): flood control and the market
cache.

Its own module so that a bot without Redis never imports the client (40 ms of every start).
Redis out of reach never stops the bot: each works on alone, and says so once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

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
                if shared is not None:
                    self._reach.answered()
                    return shared
                if await self._redis.set(loading_key, token, nx=True, px=LOADING_LEASE_MS):
                    break
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
