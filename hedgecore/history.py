"""Price and funding history from CSV text, with every malformed row reported, never averaged in."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import UTC, datetime

from hedgecore.backtest import Bar
from hedgecore.models import Frozen


class Columns(Frozen):
    """Which CSV columns hold what; the defaults read the shared Bybit BTCUSD recording."""

    time: str = "Timestamp"
    spot: str = "Close_spot"
    perp: str | None = "Close_futures"  # None: the perpetual is taken to trade at spot
    perp_high: str | None = "High_futures"  # None: the perpetual's close
    funding: str | None = "Funding Rate"  # None: no funding
    dated: str | None = None  # the front quarterly future's close, if the history has it
    dated_expiry: str | None = None  # that future's expiry: a change means a roll


def _time(text: str) -> datetime:
    raw = text.strip()
    if raw.isdigit():  # epoch milliseconds
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(row: dict[str, str], column: str, positive: bool) -> float:
    value = float(row[column])
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{column} is {row[column]!r}")
    return value


def parse_history(lines: Iterable[str], columns: Columns) -> tuple[list[Bar], list[str]]:
    """Bars in time order, and one problem per skipped row, naming its line number."""
    reader = csv.DictReader(lines)
    wanted = [
        c
        for c in (
            columns.time,
            columns.spot,
            columns.perp,
            columns.perp_high,
            columns.funding,
            columns.dated,
            columns.dated_expiry,
        )
        if c
    ]
    missing = [c for c in wanted if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(
            f"no column {', '.join(missing)} (columns are: {', '.join(reader.fieldnames or [])})"
        )
    bars: list[Bar] = []
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        try:
            spot = _number(row, columns.spot, positive=True)
            perp = _number(row, columns.perp, positive=True) if columns.perp else spot
            high = _number(row, columns.perp_high, positive=True) if columns.perp_high else perp
            funding = (
                _number(row, columns.funding, positive=False)
                if columns.funding and row[columns.funding] != ""
                else 0.0
            )
            bar = Bar(
                time=_time(row[columns.time]),
                spot=spot,
                perp=perp,
                perp_high=max(high, perp),
                funding_rate=funding,
                dated=_number(row, columns.dated, positive=True) if columns.dated else None,
                dated_expiry=_time(row[columns.dated_expiry]) if columns.dated_expiry else None,
            )
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(f"line {line}: skipped ({exc})")
            continue
        if bars and bar.time <= bars[-1].time:
            problems.append(
                f"line {line}: skipped (time {bar.time.isoformat()} is not after the row before)"
            )
            continue
        bars.append(bar)
    return bars, problems
