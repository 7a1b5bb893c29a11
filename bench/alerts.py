"""Benchmark: evaluating 10k, 100k and 1M alert rules against one funding snapshot.

Prints JSON lines: seconds to build the index, to evaluate a first cycle (no state yet) and a
normal cycle after rates moved a little, and a cycle after a jump of 0.02 % per 8 hours.
Usage: .venv/bin/python bench/alerts.py
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hedgecore.alerts import (
    AlertKind,
    AlertRule,
    AlertState,
    FundingObservation,
    RuleIndex,
    evaluate,
)

VENUES = ("bybit", "binancecoinm", "okx", "deribit", "krakenfutures")
COINS = ("BTC", "ETH")
NOW = datetime(2026, 11, 29, 7, 40, tzinfo=UTC)


def rules(count: int, rng: random.Random) -> list[AlertRule]:
    kinds = list(AlertKind)
    made = []
    for rule_id in range(1, count + 1):
        kind = rng.choice(kinds)
        made.append(
            AlertRule.model_construct(
                id=rule_id,
                chat_id=rng.randrange(10**9),
                coin=rng.choice(COINS),
                kind=kind,
                threshold_8h=Decimal(rng.randrange(-50, 51)) / 100000,
                minutes_before=rng.choice((5, 15, 30, 60)) if kind is AlertKind.BEFORE else 0,
                venue=rng.choice((None, *VENUES)),
            )
        )
    return made


def snapshot(
    rng: random.Random, previous: list[FundingObservation] | None = None
) -> list[FundingObservation]:
    """Rates on every venue; with `previous`, each moved by up to 0.005 % per 8 hours."""
    observations = []
    for n, (coin, venue) in enumerate((c, v) for c in COINS for v in VENUES):
        if previous is None:
            rate = Decimal(rng.randrange(-30, 31)) / 100000
        else:
            rate = previous[n].rate + Decimal(rng.randrange(-5, 6)) / 1000000
        hours = Decimal(1 if venue == "krakenfutures" else 8)
        observations.append(
            FundingObservation(
                venue=venue,
                coin=coin,
                rate=rate,
                interval_hours=hours,
                next_funding_time=NOW + timedelta(minutes=20),
                observed_at=NOW,
            )
        )
    return observations


def main() -> None:
    rng = random.Random(7)
    for count in (10_000, 100_000, 1_000_000):
        made = rules(count, rng)
        started = time.perf_counter()
        index = RuleIndex(made)
        built = time.perf_counter() - started
        at_subscription = snapshot(rng)
        # First sight: no state, every group starts at today's value.
        started = time.perf_counter()
        cold = evaluate(index, at_subscription, AlertState(), NOW)
        cold_s = time.perf_counter() - started
        # A normal cycle: rates moved a little since the last one.
        moved = snapshot(rng, at_subscription)
        started = time.perf_counter()
        cycle = evaluate(index, moved, cold.state, NOW + timedelta(minutes=1))
        cycle_s = time.perf_counter() - started
        jumped = [o.model_copy(update={"rate": o.rate + Decimal("0.0002")}) for o in moved]
        started = time.perf_counter()
        jump = evaluate(index, jumped, cycle.state, NOW + timedelta(minutes=2))
        jump_s = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "bench": "alerts.evaluate",
                    "rules": count,
                    "index_build_s": round(built, 3),
                    "first_cycle_s": round(cold_s, 3),
                    "cycle_s": round(cycle_s, 3),
                    "cycle_events": len(cycle.events),
                    "jump_cycle_s": round(jump_s, 3),
                    "jump_cycle_events": len(jump.events),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
