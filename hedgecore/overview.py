"""Market overviews across venues: funding of perpetuals and basis of dated futures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from hedgecore.inverse import annualise_basis, annualise_rate, basis, rate_per_8h
from hedgecore.models import ContractKind, Frozen, FundingPoint, MarketContract

_SECONDS_PER_DAY = Decimal(86400)
_HOURS_PER_YEAR = Decimal(365 * 24)
HISTORY_WINDOWS_DAYS = (7, 30)


class FundingRow(Frozen):
    """One perpetual's funding, as a short hedge sees it (positive: the short receives)."""

    venue: str
    symbol: str
    rate: Decimal
    interval_hours: Decimal
    interval_from_venue: bool
    rate_per_8h: Decimal
    apr_pct: Decimal
    predicted_rate: Decimal | None
    next_funding_time: datetime | None
    realised: bool
    quote_time: datetime
    age_seconds: Decimal


class BasisRow(Frozen):
    """One dated future's premium over the index, and what it is worth a year."""

    venue: str
    symbol: str
    expiry: datetime
    days_to_expiry: Decimal
    futures_price: Decimal
    index_price: Decimal
    basis_pct: Decimal
    basis_apr_pct: Decimal
    quote_time: datetime
    age_seconds: Decimal


def _age(now: datetime, then: datetime) -> Decimal:
    return Decimal(str(max((now - then).total_seconds(), 0.0)))


def funding_overview(contracts: Sequence[MarketContract], now: datetime) -> tuple[FundingRow, ...]:
    """Every perpetual's funding, best for a short first."""
    rows = [
        FundingRow(
            venue=m.contract.venue,
            symbol=m.contract.symbol,
            rate=m.funding.rate,
            interval_hours=m.funding.interval_hours,
            interval_from_venue=m.funding.interval_from_venue,
            rate_per_8h=rate_per_8h(m.funding.rate, m.funding.interval_hours),
            apr_pct=annualise_rate(m.funding.rate, m.funding.interval_hours) * 100,
            predicted_rate=m.funding.predicted_rate,
            next_funding_time=m.funding.next_funding_after(now),
            realised=m.funding.realised,
            quote_time=m.funding.timestamp,
            age_seconds=_age(now, m.funding.timestamp),
        )
        for m in contracts
        if m.contract.kind is ContractKind.PERPETUAL and m.funding is not None
    ]
    return tuple(sorted(rows, key=lambda row: (-row.apr_pct, row.venue)))


def basis_overview(contracts: Sequence[MarketContract], now: datetime) -> tuple[BasisRow, ...]:
    """Every live dated future's basis, highest yearly rate (best for a short) first."""
    rows = []
    for m in contracts:
        expiry = m.contract.expiry
        if m.contract.kind is not ContractKind.DATED or expiry is None or expiry <= now:
            continue
        days = Decimal(str((expiry - now).total_seconds())) / _SECONDS_PER_DAY
        price = m.quote.short_entry_price
        fraction = basis(price, m.quote.index_price)
        rows.append(
            BasisRow(
                venue=m.contract.venue,
                symbol=m.contract.symbol,
                expiry=expiry,
                days_to_expiry=days,
                futures_price=price,
                index_price=m.quote.index_price,
                basis_pct=fraction * 100,
                basis_apr_pct=annualise_basis(fraction, days) * 100,
                quote_time=m.quote.timestamp,
                age_seconds=_age(now, m.quote.timestamp),
            )
        )
    return tuple(sorted(rows, key=lambda row: (-row.basis_apr_pct, row.venue)))


class FundingWindow(Frozen):
    """A venue's funding over its last days, as a short saw it."""

    days: Decimal  # asked for, or less where the history goes back less far
    mean_apr_pct: Decimal  # time-weighted: the rates summed over the hours they covered
    settlements: int
    short_paid: int  # settlements with a negative rate


class FundingHistoryRow(Frozen):
    """Whether today's rate on a venue is usual: its last 7 and 30 days."""

    venue: str
    windows: tuple[FundingWindow, ...]


def _window(points: Sequence[FundingPoint], now: datetime, days: int) -> FundingWindow | None:
    recent = [p for p in points if now - timedelta(days=days) < p.time <= now]
    hours = sum((p.interval_hours for p in recent), Decimal(0))
    if not recent or hours <= 0:
        return None
    start = recent[0].time - timedelta(hours=float(recent[0].interval_hours))
    covered = Decimal(str((now - start).total_seconds())) / _SECONDS_PER_DAY
    return FundingWindow(
        days=min(Decimal(days), covered),
        mean_apr_pct=sum((p.rate for p in recent), Decimal(0)) / hours * _HOURS_PER_YEAR * 100,
        settlements=len(recent),
        short_paid=sum(1 for p in recent if p.rate < 0),
    )


def funding_history_overview(
    history: Mapping[str, Sequence[FundingPoint]], now: datetime
) -> tuple[FundingHistoryRow, ...]:
    """Each venue's mean funding over the last 7 and 30 days (as far as its history goes)."""
    rows = []
    for venue, points in sorted(history.items()):
        ordered = sorted(points, key=lambda point: point.time)
        windows = [_window(ordered, now, days) for days in HISTORY_WINDOWS_DAYS]
        found = tuple(window for window in windows if window is not None)
        if found:
            rows.append(FundingHistoryRow(venue=venue, windows=found))
    return tuple(rows)
