"""Per-user flood control: past a number of commands a minute, one "slow down", then silence."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

Verdict = Literal["ok", "warn", "silent"]


class FloodGuard:
    """Counts each user's commands over a sliding window."""

    def __init__(
        self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window_s = window_s
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        """Count one command; 'warn' the first time the user goes over, 'silent' after that."""
        now = self._clock()
        seen = self._seen.setdefault(user_id, deque())
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
