"""Per-user flood control: past a number of commands a minute, one "slow down", then silence."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Literal, Protocol

Verdict = Literal["ok", "warn", "silent"]


class Flood(Protocol):
    """Counts each user's commands: in this process (`FloodGuard`), or shared through Redis
    (`bot.shared.SharedFloodGuard`)."""

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
