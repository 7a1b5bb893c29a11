"""Benchmark: how long /hedge takes when a venue hangs, with the reply deadline and without.

The exchange replay server on loopback, real ccxt classes, production timeouts (8 s a
request); the desk plans `/hedge 1.2 BTC` a few times in a row, as users asking one after
another would, for each fault of issue 12, finding 9: one venue that never answers, one that
answers every request after 7 s, and only OKX's position-tier endpoint hanging. Each fault runs
with the default reply deadline (4 s) and with none (a deadline longer than any wait), side by
side in one run; the users ask back to back, or GAP seconds after the last answer (past a
request's timeout, a late venue is waited for again). Prints JSON lines: each reply's seconds,
and the slowest.
Usage: .venv/bin/python bench/slow_venues.py [REPLIES] [GAP]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hedgecore.answers import HedgeQuestion
from hedgecore.desk import Desk
from hedgecore.market.deadline import REPLY_DEADLINE_S
from hedgecore.market.service import MarketService
from hedgecore.models import Holding
from tests.hedgecore.market.conftest import replay_feeds
from tests.hedgecore.market.exchange_replay import ExchangeReplay, Fault

REQUEST_TIMEOUT_S = 8.0  # production's
NO_DEADLINE_S = 3600.0
FAULTS = {
    "venue never answers": ("bybit", Fault(delay=3600)),
    "venue answers after 7 s": ("bybit", Fault(delay=7)),
    "only OKX position tiers hang": (
        "okx",
        Fault(delay=3600, path="/api/v5/public/position-tiers"),
    ),
}
QUESTION = HedgeQuestion(holdings=(Holding(coin="BTC", quantity=Decimal("1.2")),))


async def replies(fault: str, deadline_s: float, count: int, gap_s: float) -> dict[str, object]:
    """Seconds each of `count` plans, `gap_s` apart, took on a fresh server and desk."""
    replay = ExchangeReplay()
    await replay.start()
    venue, what = FAULTS[fault]
    replay.faults[venue] = what
    market = MarketService(replay_feeds(replay, REQUEST_TIMEOUT_S), timeout_s=REQUEST_TIMEOUT_S)
    desk = Desk(market, reply_deadline_s=deadline_s)
    seconds = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            await desk.hedge(QUESTION)
            seconds.append(round(time.perf_counter() - started, 2))
            await asyncio.sleep(gap_s)
    finally:
        await desk.close()
        await replay.stop()
    return {
        "bench": "slow_venues",
        "fault": fault,
        "reply_deadline_s": "none" if deadline_s == NO_DEADLINE_S else deadline_s,
        "gap_s": gap_s,
        "reply_seconds": seconds,
        "slowest_s": max(seconds),
    }


async def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    gap_s = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    for fault in FAULTS:
        for deadline_s in (REPLY_DEADLINE_S, NO_DEADLINE_S):
            print(json.dumps(await replies(fault, deadline_s, count, gap_s)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
