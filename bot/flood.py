"""Per-user flood control: past a number of commands a minute, one "slow down", then silence."""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Literal, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Verdict = Literal["ok", "warn", "silent"]


class Flood(Protocol):
    """Counts each user's commands: in this process (`FloodGuard`), or shared through Redis."""

    async def check(self, user_id: int) -> Verdict:
        """Count one command; 'warn' the first time the user goes over, 'silent' after that."""
        ...

    async def close(self) -> None:
        """Let go of what it holds."""
        ...


# Users remembered at most. Past it the least recently active is forgotten first: a user who
# floods is always among the most recent, so the ones forgotten are those who went quiet.
MAX_USERS = 10_000


class FloodGuard:
    """Counts each user's commands over a sliding window; remembers only users of that window."""

    def __init__(
        self,
        limit: int | None,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = MAX_USERS,
    ) -> None:
        """`limit`: commands a user may send per window; None lets everything through (the
        terminal chat, whose one user is its owner)."""
        self._limit = limit
        self._window_s = window_s
        self._max_users = max_users
        self._clock = clock
        # Least recently active first, so users who went quiet are forgotten from the front.
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()

    def __len__(self) -> int:
        """How many users are remembered."""
        return len(self._seen)

    async def check(self, user_id: int) -> Verdict:
        """Count one command; 'warn' the first time the user goes over, 'silent' after that."""
        if self._limit is None:
            return "ok"
        now = self._clock()
        self._forget_quiet_users(now)
        seen = self._seen.setdefault(user_id, deque())
        self._seen.move_to_end(user_id)
        if len(self._seen) > self._max_users:
            forgotten, _ = self._seen.popitem(last=False)
            self._warned.discard(forgotten)
        while seen and now - seen[0] >= self._window_s:
            seen.popleft()
        if len(seen) < self._limit:
            self._warned.discard(user_id)
            seen.append(now)
            return "ok"
        if user_id in self._warned:
            return "silent"
        self._warned.add(user_id)
        return "warn"

    async def close(self) -> None:
        """Nothing to let go of: the counts live and die with the process."""

    def _forget_quiet_users(self, now: float) -> None:
        """Drop users whose last command left the window (they would start from zero anyway)."""
        while self._seen:
            user_id, seen = next(iter(self._seen.items()))
            if seen and now - seen[-1] < self._window_s:
                return
            del self._seen[user_id]
            self._warned.discard(user_id)


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
