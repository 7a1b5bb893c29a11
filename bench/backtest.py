"""Benchmark: seconds to backtest ten years of hourly bars (target: under 1 s), median of 5.

The history is a seeded random walk with random funding; prints one JSON line.
Usage: .venv/bin/python bench/backtest.py
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hedgecore.backtest import Bar, run_backtest

HOURS = 10 * 365 * 24


def history(rng: random.Random) -> list[Bar]:
    start, price, bars = datetime(2015, 1, 1, tzinfo=UTC), 30_000.0, []
    for hour in range(HOURS):
        price *= math.exp(rng.gauss(0, 0.007))
        perp = price * (1 + rng.gauss(0, 0.0005))
        bars.append(
            Bar(
                time=start + timedelta(hours=hour),
                spot=price,
                perp=perp,
                perp_high=perp * 1.002,
                funding_rate=rng.gauss(0.00001, 0.00002),
            )
        )
    return bars


def main(repeats: int = 5) -> None:
    bars = history(random.Random(11))
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        report = run_backtest("BTC", bars)
        seconds.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "bench": "backtest",
                "bars": len(bars),
                "strategies": len(report.strategies),
                "repeats": repeats,
                "median_seconds": round(statistics.median(seconds), 3),
                "max_seconds": round(max(seconds), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
