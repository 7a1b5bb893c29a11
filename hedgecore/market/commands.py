"""`hedgecore snapshot record`: what the live venues return, into a snapshot file."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from hedgecore import fmt
from hedgecore.errors import DataUnavailable
from hedgecore.market.ccxt_feed import live_feeds
from hedgecore.market.snapshot import record_snapshot, write_snapshot
from hedgecore.venues import venue_name

RECORD_TIMEOUT_S = 20.0


def record(path: Path, venues: Sequence[str], coins: set[str] | None, now: datetime) -> str:
    """Record what the live venues return into a snapshot file; returns what to print."""

    async def run() -> dict[str, object]:
        feeds = live_feeds(venues, RECORD_TIMEOUT_S)
        try:
            return await record_snapshot(feeds, now, coins)
        finally:
            await asyncio.gather(*(feed.close() for feed in feeds))

    snapshot = asyncio.run(run())
    failed: dict[str, str] = snapshot["failed"]  # type: ignore[assignment]
    recorded: dict[str, object] = snapshot["venues"]  # type: ignore[assignment]
    if not recorded:
        reasons = "; ".join(f"{venue_name(v)} {why}" for v, why in failed.items())
        raise DataUnavailable(f"no venue could be recorded: {reasons}")
    write_snapshot(snapshot, path)
    names = ", ".join(venue_name(v) for v in recorded)
    failures = "".join(f"; {venue_name(v)} failed: {why}" for v, why in failed.items())
    return f"Recorded {names} into {path} at {fmt.utc(now)}{failures}"
