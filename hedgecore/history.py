"""Price and funding history from CSV text, with every malformed row reported, never averaged in.

Two layouts: one history per file with a column per series (`parse_history`), and the long
table of several venues' coin-margined perpetuals and spot (`parse_venue_histories`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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


# The long table's names for what hedgecore calls venues and coins.
_VENUES = {"binance": "binancecoinm", "bybit": "bybit", "okx": "okx"}
_COINS = {"bitcoin": "BTC", "ethereum": "ETH"}
# When a venue's 8-hour bar closes, counted from its label: Binance's candles open at the
# label; Bybit's and OKX's were merged from the two 4-hour candles either side of it.
_CLOSE_AFTER_LABEL = {
    "binancecoinm": timedelta(hours=8),
    "bybit": timedelta(hours=4),
    "okx": timedelta(hours=4),
}
_BAR = timedelta(hours=8)
# Its labels are London wall-clock time: 01:00 in British summer time is 00:00 UTC.
_LABEL_ZONE = ZoneInfo("Europe/London")
VENUE_TABLE_NOTE = (
    "Times in UTC: the table's London labels were converted, and each bar is dated at its close "
    "(Binance 8 h after its label; Bybit and OKX, merged from the 4-hour candles either side of "
    "it, 4 h after)."
)
VENUE_TABLE_COLUMNS = frozenset(
    {"time", "exchange", "crypto", "contract", "high", "close", "funding rate"}
)


@dataclass(frozen=True, slots=True)
class VenueHistory:
    """One venue's coin-margined perpetual against its own spot, and its funding settlements."""

    venue: str
    coin: str
    bars: tuple[Bar, ...]  # at each bar's close, funding settled since the bar before
    settlements: tuple[tuple[datetime, float], ...]  # funding time (UTC) and rate


def is_venue_table(columns: Sequence[str]) -> bool:
    """Whether CSV columns are those of the long table of several venues."""
    return set(columns) >= VENUE_TABLE_COLUMNS


def _label_utc(text: str) -> datetime:
    # fold=0 reads the hour that happens twice in October as the first one, summer time's.
    return datetime.fromisoformat(text.strip()).replace(tzinfo=_LABEL_ZONE).astimezone(UTC)


def _bars(
    venue: str,
    spot: dict[datetime, float],
    perp: dict[datetime, tuple[float, float]],
    settlements: Sequence[tuple[datetime, float]],
) -> list[Bar]:
    bars: list[Bar] = []
    due = iter(settlements)
    pending = next(due, None)
    for label in sorted(spot.keys() & perp.keys()):
        close = label + _CLOSE_AFTER_LABEL[venue]
        rate = 0.0
        while pending is not None and pending[0] <= close:
            if pending[0] > close - _BAR:  # settled while the bar was open
                rate += pending[1]
            pending = next(due, None)
        price, high = perp[label]
        bars.append(Bar(close, spot[label], price, max(high, price), rate))
    return bars


def parse_venue_histories(
    lines: Iterable[str],
) -> tuple[dict[tuple[str, str], VenueHistory], list[str]]:
    """Each (venue, coin) of the long table as bars in UTC, and one problem per skipped row."""
    reader = csv.DictReader(lines)
    if not is_venue_table(reader.fieldnames or []):
        missing = sorted(VENUE_TABLE_COLUMNS - set(reader.fieldnames or []))
        raise ValueError(f"no column {', '.join(missing)} for a table of several venues")
    spots: dict[tuple[str, str], dict[datetime, float]] = {}
    perps: dict[tuple[str, str], dict[datetime, tuple[float, float]]] = {}
    funding: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        venue, coin = _VENUES.get(row["exchange"]), _COINS.get(row["crypto"])
        if venue is None or coin is None:
            problems.append(f"line {line}: skipped (no venue or coin {row['exchange']!r})")
            continue
        key = (venue, coin)
        try:
            label = _label_utc(row["time"])
            close = _number(row, "close", positive=True)
            if row["contract"] == "spot":
                spots.setdefault(key, {})[label] = close
            elif row["contract"] == "perpetual":
                perps.setdefault(key, {})[label] = (close, _number(row, "high", positive=True))
                if row["funding rate"] != "":
                    rate = _number(row, "funding rate", positive=False)
                    funding.setdefault(key, []).append((label, rate))
            else:
                problems.append(f"line {line}: skipped (contract {row['contract']!r})")
        except (ValueError, TypeError) as exc:
            problems.append(f"line {line}: skipped ({exc})")
    histories = {}
    for key in sorted(spots.keys() & perps.keys()):
        settlements = sorted(funding.get(key, []))
        bars = _bars(key[0], spots[key], perps[key], settlements)
        histories[key] = VenueHistory(key[0], key[1], tuple(bars), tuple(settlements))
    return histories, problems
