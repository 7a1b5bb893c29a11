"""Bybit v5 answers built from the public 8-hour series of Bybit's BTCUSD inverse perpetual.

Both snapshot builders take funding history and daily candles from it: the demo (2021-04-17)
and the tests' one-quote snapshot (2025-04-28). The series: GitHub FrancyPengChoco/my-notebook,
`Bybit_BTC_8h_all_data_final.csv`, shared as shared/data/bybit_btcusd_inverse_perp_vs_spot_8h.csv.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Bar = dict[str, Any]


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def load_bars(path: Path, until: datetime | None = None) -> list[Bar]:
    """The series' bars, oldest first, each with its `open_time`; those opening by `until`."""
    with path.open() as handle:
        bars: list[Bar] = [
            {**row, "open_time": datetime.fromisoformat(row["Timestamp"]).replace(tzinfo=UTC)}
            for row in csv.DictReader(handle)
        ]
    return [b for b in bars if until is None or b["open_time"] <= until]


def funding_history(bars: list[Bar], taken_at: datetime) -> list[dict[str, str]]:
    """The last 30 days of settlements, newest first, as Bybit's funding/history answers."""
    month = [b for b in bars if b["open_time"] > taken_at - timedelta(days=30)]
    return [
        {
            "symbol": "BTCUSD",
            "fundingRate": b["Funding Rate"],
            "fundingRateTimestamp": str(ms(b["open_time"])),
        }
        for b in reversed(month)
    ]


def daily_klines(bars: list[Bar], taken_at: datetime) -> list[list[str]]:
    """90 days of the perpetual's bars merged into days, newest first, as Bybit's kline answers."""
    days: dict[datetime, list[Bar]] = {}
    for b in bars:
        if b["open_time"] > taken_at - timedelta(days=90):
            days.setdefault(b["open_time"].replace(hour=0), []).append(b)
    return [
        [
            str(ms(day)),
            group[0]["Open_futures"],
            str(max(float(b["High_futures"]) for b in group)),
            str(min(float(b["Low_futures"]) for b in group)),
            group[-1]["Close_futures"],
            "0",
            "0",
        ]
        for day, group in sorted(days.items(), reverse=True)
    ]


def envelope(result: Any, at: datetime) -> dict[str, Any]:
    """A Bybit v5 answer around `result`."""
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": ms(at)}
