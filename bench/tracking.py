"""Benchmark: liquidation warnings for 100,000 tracked hedges on five venues in one cycle.

Prints JSON lines: seconds to build the index (each hedge's liquidation price, worked out once
per change of hedges), then a whole minute cycle (liquidation warnings and the slower watches)
three ways: a first one with no state yet, a quiet one after the marks moved a little, and a
storm where prices jump 10 % and funding turns against every short at once; each the median of
five runs, measured side by side in one process. Target: each cycle under 1 s.
Usage: .venv/bin/python bench/tracking.py
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping
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
    WatchState,
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
    later = OPENED + timedelta(days=20)

    def readings(move: Decimal, rate: Decimal) -> dict[tuple[str, str], ContractReading]:
        return {key: ContractReading(mark, rate, Decimal(8)) for key, mark in marks(move).items()}

    def cycle(
        move: Decimal,
        rate: Decimal,
        warned: Mapping[int, frozenset[Decimal]],
        states: Mapping[int, WatchState],
    ) -> tuple[TrackingEvaluation, WatchEvaluation]:
        """Both evaluators, as the minute job runs them."""
        seen = readings(move, rate)
        liquidation = evaluate_liquidation(
            tracked, {key: r.mark for key, r in seen.items()}, warned
        )
        return liquidation, evaluate_watch(tracked, seen, ledgers, {}, states, later)

    paying, against = Decimal("0.00001"), Decimal("-0.0001")
    first_liquidation, first_watch = cycle(Decimal(1), paying, {}, {})
    warned, states = first_liquidation.changed, first_watch.changed
    cycles: dict[str, Callable[[], tuple[TrackingEvaluation, WatchEvaluation]]] = {
        "first": lambda: cycle(Decimal(1), paying, {}, {}),
        "quiet": lambda: cycle(Decimal("1.001"), paying, warned, states),
        # Prices jump 10 % and funding turns against every short at once.
        "storm": lambda: cycle(Decimal("1.1"), against, warned, states),
    }
    for name, work in cycles.items():
        liquidation, watch = work()
        print(
            json.dumps(
                {
                    "bench": "tracking",
                    "hedges": len(tracked),
                    "cycle": name,
                    "liquidation_warnings": len(liquidation.warnings),
                    "other_events": len(watch.events),
                    "median_s": round(median_s(work), 3),
                    "target_s": 1.0,
                }
            )
        )


if __name__ == "__main__":
    main()
