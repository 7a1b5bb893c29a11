"""The market-data side of the `hedgecore` command: plans from live data or a snapshot, and recording."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from hedgecore import fmt
from hedgecore.errors import DataUnavailable
from hedgecore.market.feeds import VENUE_IDS, live_feeds
from hedgecore.market.plans import MarketPlan, plan_or_demo
from hedgecore.market.service import live_market_service
from hedgecore.market.snapshot import load_snapshot_file, record_snapshot, write_snapshot
from hedgecore.models import Holding, PlanSettings
from hedgecore.payoff import FundingLine, funding_lines
from hedgecore.venues import venue_name

RECORD_TIMEOUT_S = 20.0


def plan(
    holding: Holding, settings: PlanSettings, venues: Sequence[str] | None, snapshot: Path | None
) -> tuple[MarketPlan, tuple[str, ...]]:
    """Plan from `snapshot`, or live on `venues` (all when None), with the demo snapshot when none answers."""

    async def run() -> tuple[MarketPlan, tuple[str, ...]]:
        service = (
            load_snapshot_file(snapshot) if snapshot else live_market_service(venues or VENUE_IDS)
        )
        try:
            return await plan_or_demo(service, holding, settings, venues)
        finally:
            await service.close()

    return asyncio.run(run())


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


def funding_history(coin: str, snapshot: Path | None) -> tuple[tuple[FundingLine, ...], datetime]:
    """The last 30 days of funding of `coin` on every venue, from `snapshot` or live."""

    async def run() -> tuple[tuple[FundingLine, ...], datetime]:
        service = load_snapshot_file(snapshot) if snapshot else live_market_service(VENUE_IDS)
        try:
            history = await service.funding_history(coin)
        finally:
            await service.close()
        if not history:
            raise DataUnavailable(f"no funding history for {coin} from any venue")
        points = {
            venue: [(p.time, p.rate, p.interval_hours) for p in rows]
            for venue, rows in history.items()
        }
        return funding_lines(points), service.now()

    return asyncio.run(run())
