"""A time-to-live cache with single-flight loads and stale-while-revalidate.

Many callers asking for the same key at once share one load. A value older than its time to
live is still returned at once, with its age, while one background load refreshes it; a failed
refresh keeps the old value. `recording_reads` tells an answer worked out from cached values
which values it read, and `version` whether any has changed since: what the market service needs
to keep such an answer until then (`MarketService._memoised`).

Below it may sit a cache shared by several processes (`SharedCache`, Redis in the bot): a value
one process loaded serves the others, and of processes missing one key at once only one loads
it, so several workers make the requests of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
# The reads of the answer being worked out: each value read and its time to live. A context
# variable reaches the tasks the answer gathers (they copy the context, and share the list).
_reads: ContextVar[list[tuple[Cached[Any], float]] | None] = ContextVar("cache_reads", default=None)


@dataclass(frozen=True)
class Cached(Generic[T]):
    """A cached value, when it was loaded (epoch seconds) and the error of a failed refresh."""

    value: T
    loaded_at: float
    refresh_error: BaseException | None = None

    def age(self, now: float) -> float:
        """Seconds since the value was loaded."""
        return max(now - self.loaded_at, 0.0)


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How a value of one kind travels to a cache shared by processes, and back."""

    encode: Callable[[T], bytes]
    decode: Callable[[bytes], T]


class SharedCache(Protocol):
    """A cache shared by several processes, below each one's own."""

    async def fetch(
        self, key: str, fresh_since: float, load: Callable[[], Awaitable[tuple[bytes, float]]]
    ) -> tuple[bytes, float]:
        """The value of `key` and when it was loaded (epoch seconds): the shared one if loaded
        at `fresh_since` or later, else what `load` gives, run by one process while the others
        wait for its value."""
        ...

    async def close(self) -> None:
        """Release its connections."""
        ...


@dataclass
class CacheStats:
    """Counters for the benchmark and metrics."""

    hits: int = 0
    stale_hits: int = 0
    misses: int = 0
    loads: int = 0
    shared_hits: int = 0  # loads another process had made


class TtlCache:
    """Per-key cache; `get` never runs two loads of the same key at once."""

    def __init__(
        self, clock: Callable[[], float] = time.time, shared: SharedCache | None = None
    ) -> None:
        self._clock = clock
        self._shared = shared
        self._entries: dict[Hashable, Cached[Any]] = {}
        self._inflight: dict[Hashable, asyncio.Task[Any]] = {}
        self.stats = CacheStats()
        self.version = 0  # counts the values stored: unchanged, every value read is as it was

    @contextlib.contextmanager
    def recording_reads(self) -> Iterator[list[tuple[Cached[Any], float]]]:
        """Collect each value `get` returns within the block, with the time to live it was asked at."""
        reads: list[tuple[Cached[Any], float]] = []
        token = _reads.set(reads)
        try:
            yield reads
        finally:
            _reads.reset(token)

    async def get(
        self,
        key: Hashable,
        ttl: float,
        load: Callable[[], Awaitable[T]],
        codec: Codec[T] | None = None,
    ) -> Cached[T]:
        """The value for `key`: cached if younger than `ttl`, else stale while refreshing, else
        loaded; with a `codec`, loads go through the shared cache (if there is one)."""
        entry = self._entries.get(key)
        if entry is not None:
            if entry.age(self._clock()) < ttl:
                self.stats.hits += 1
            else:
                self.stats.stale_hits += 1
                self._start_load(key, lambda: self._loaded(key, ttl, load, codec))
        else:
            self.stats.misses += 1
            await asyncio.shield(self._start_load(key, lambda: self._loaded(key, ttl, load, codec)))
            entry = self._entries[key]
        reads = _reads.get()
        if reads is not None:
            reads.append((entry, ttl))
        return entry

    async def _loaded(
        self, key: Hashable, ttl: float, load: Callable[[], Awaitable[T]], codec: Codec[T] | None
    ) -> Cached[T]:
        """A fresh value: from the shared cache when another process loaded it within `ttl`,
        else loaded here (and shared)."""
        if self._shared is None or codec is None:
            return Cached(await load(), self._clock())
        loaded_here: list[T] = []

        async def load_and_encode() -> tuple[bytes, float]:
            value = await load()
            loaded_here.append(value)
            return codec.encode(value), self._clock()

        payload, loaded_at = await self._shared.fetch(
            "|".join(map(str, key)) if isinstance(key, tuple) else str(key),
            self._clock() - ttl,
            load_and_encode,
        )
        if loaded_here:
            return Cached(loaded_here[0], loaded_at)
        self.stats.shared_hits += 1
        return Cached(codec.decode(payload), loaded_at)

    def _start_load(
        self, key: Hashable, load: Callable[[], Awaitable[Cached[T]]]
    ) -> asyncio.Task[Any]:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, load))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return task

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[Cached[T]]]) -> None:
        self.stats.loads += 1
        try:
            loaded = await load()
        except Exception as exc:
            stale = self._entries.get(key)
            if stale is None:
                raise
            # Keep serving the old value; remember why it is not fresher.
            self._entries[key] = Cached(stale.value, stale.loaded_at, exc)
            self.version += 1
            log.info("refresh of %s failed, serving stale value: %s", key, exc)
            return
        self._entries[key] = loaded
        self.version += 1

    async def settled(self) -> None:
        """Wait until the loads under way, background refreshes among them, have finished."""
        while self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def close(self) -> None:
        """Cancel background refreshes; close the shared cache."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._shared is not None:
            await self._shared.close()
