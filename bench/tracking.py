"""Benchmark: liquidation warnings for 100,000 tracked hedges on five venues in one cycle.

Prints JSON lines: seconds to build the index (each hedge's liquidation price, worked out once
per change of hedges), then to evaluate a first cycle (no state yet), a quiet cycle after the
marks moved a little, a cycle after a 10 % jump that warns many, and the slower watches when
funding turns against every short at once; each the median of five runs, measured side by side
in one process. Target: each cycle under 1 s.
Usage: .venv/bin/python bench/tracking.py
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hedgecore.models import FundingPoint
from hedgecore.tracking import (
    ContractReading,
    FundingLedger,
    TrackedHedge,
    TrackingEvaluation,
    TrackingIndex,
    WatchEvaluation,
    evaluate_liquidation,
    evaluate_watch,
)

VENUES = ("bybit", "binancecoinm", "okx", "deribit", "krakenfutures")
COINS = {"BTC": Decimal(93722), "ETH": Decimal(1790)}
OPENED = datetime(2026, 11, 29, 8, tzinfo=UTC)
RUNS = 5


def hedges(count: int, rng: random.Random) -> list[TrackedHedge]:
    made = []
    for hedge_id in range(1, count + 1):
        coin = rng.choice(list(COINS))
        entry = COINS[coin] * Decimal(rng.randint(80, 120)) / 100
        contracts = rng.randint(1, 200_000)
        made.append(
            TrackedHedge(
                id=hedge_id,
                chat_id=rng.randrange(10**9),
                venue=rng.choice(VENUES),
                symbol=f"{coin}/USD:{coin}",
                coin=coin,
                contracts=contracts,
                contract_size_usd=Decimal(1),
                entry_price=entry,
                leverage=Decimal(rng.choice((1, 2, 3, 5, 10, 20))),
                hedged_coins=contracts / entry,
                maintenance_margin_rate=Decimal("0.005"),
                opened_at=OPENED,
            )
        )
    return made


def marks(move: Decimal) -> dict[tuple[str, str], Decimal]:
    return {
        (venue, f"{coin}/USD:{coin}"): price * move
        for venue in VENUES
        for coin, price in COINS.items()
    }


def median_s(work: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    declared = hedges(100_000, random.Random(7))  # as the store hands them over
    build_start = time.perf_counter()
    tracked = TrackingIndex(declared)
    print(
        json.dumps(
            {
                "bench": "tracking",
                "hedges": len(tracked),
                "index_build_s": round(time.perf_counter() - build_start, 3),
            }
        )
    )
    warned = evaluate_liquidation(tracked, marks(Decimal(1)), {}).changed
    readings = {
        key: ContractReading(mark, Decimal("-0.0001"), Decimal(8))
        for key, mark in marks(Decimal(1)).items()
    }
    ledgers = {
        (venue, coin): FundingLedger(
            FundingPoint(
                time=OPENED + timedelta(hours=8 * i),
                rate=Decimal("0.0001"),
                interval_hours=Decimal(8),
            )
            for i in range(90)
        )
        for venue in VENUES
        for coin in COINS
    }
    paying = {
        key: ContractReading(mark, Decimal("0.00001"), Decimal(8))
        for key, mark in marks(Decimal(1)).items()
    }
    later = OPENED + timedelta(days=20)
    cycles: dict[str, Callable[[], TrackingEvaluation | WatchEvaluation]] = {
        "first": lambda: evaluate_liquidation(tracked, marks(Decimal(1)), {}),
        "quiet": lambda: evaluate_liquidation(tracked, marks(Decimal("1.001")), warned),
        "jump_10pct": lambda: evaluate_liquidation(tracked, marks(Decimal("1.1")), warned),
        # Funding pays the shorts and 20 days of it are below 1 % of each holding: the usual.
        "watch_quiet": lambda: evaluate_watch(tracked, paying, ledgers, {}, {}, later),
        # Funding turns against every short at once, and the funding received is worth hedging.
        "watch_all_against": lambda: evaluate_watch(tracked, readings, ledgers, {}, {}, later),
    }
    for name, work in cycles.items():
        result = work()
        warning_count = len(
            result.warnings if isinstance(result, TrackingEvaluation) else result.events
        )
        print(
            json.dumps(
                {
                    "bench": "tracking",
                    "hedges": len(tracked),
                    "cycle": name,
                    "warnings": warning_count,
                    "median_s": round(median_s(work), 3),
                    "target_s": 1.0,
                }
            )
        )


if __name__ == "__main__":
    main()
