"""Flood control shared by every worker through Redis (HEDGEBOT_REDIS_URL).

Its own module so that a bot without Redis never imports the client (40 ms of every start).
"""

from __future__ import annotations

import itertools
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.flood import Verdict

log = logging.getLogger(__name__)


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
        self._unreachable = False  # logged once when Redis goes, once when it is back

    async def check(self, user_id: int) -> Verdict:
        """Count one command; 'warn' the first time the user goes over, 'silent' after that."""
        keys = [f"{self._prefix}flood:{user_id}", f"{self._prefix}flood-warned:{user_id}"]
        try:
            verdict = await self._script(
                keys=keys, args=[self._window_ms, self._limit, next(self._checks)]
            )
        except RedisError as exc:
            if not self._unreachable:
                log.warning(
                    "flood guard: Redis unavailable (%s); letting commands through",
                    type(exc).__name__,
                )
            self._unreachable = True
            return "ok"
        if self._unreachable:
            log.warning("flood guard: Redis is back; counting commands again")
            self._unreachable = False
        text = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
        return "warn" if text == "warn" else "silent" if text == "silent" else "ok"

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._redis.aclose()
