"""Venues side by side on one history: how well each hedged, what its funding paid a short,
how alike their funding moved, and how often a spread alert would have fired.

Pure: histories in, figures out. The spread alert is replayed through the very evaluator the
bot runs (hedgecore.alerts), one cycle per funding time on the settled rates.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from hedgecore.alerts import (
    AlertKind,
    AlertRule,
    AlertState,
    FundingObservation,
    RuleIndex,
    evaluate,
)
from hedgecore.backtest import run_backtest
from hedgecore.history import VenueHistory
from hedgecore.models import Frozen

# The venues' published interval for the perpetuals in the shared 2023-2024 table.
SETTLEMENT_HOURS = Decimal(8)
# The spread rule replayed unless another is asked for: /alert COIN spread 0.02%.
DEFAULT_SPREAD_8H = Decimal("0.0002")


class VenueRow(Frozen):
    """One venue's perpetual against its own spot over the history."""

    venue: str
    coin: str
    start: datetime
    end: datetime
    bars: int
    effectiveness: float  # the held 1x short's
    rehedged_effectiveness: float  # the 1x short with its funding re-hedged
    net_funding_per_coin: float  # coins the held short's funding earned per coin hedged
    funding_apr_pct: float
    settlements: int
    settlements_paid: int


class FundingCorrelation(Frozen):
    """How alike two venues' funding rates moved, over the funding times both settled."""

    coin: str
    venues: tuple[str, str]
    correlation: float
    settlements: int


class SpreadReplay(Frozen):
    """A `/alert COIN spread X%` rule replayed over every funding time of the history."""

    coin: str
    threshold_8h: Decimal
    cycles: int
    fired_at: tuple[datetime, ...]


class VenueComparison(Frozen):
    """Every venue and coin of a history, their funding correlations and the spread alerts."""

    rows: tuple[VenueRow, ...]
    correlations: tuple[FundingCorrelation, ...]
    spreads: tuple[SpreadReplay, ...]


def _row(history: VenueHistory) -> VenueRow:
    report = run_backtest(history.coin, history.bars, leverages=(1.0,))
    by_key = {s.key: s for s in report.strategies}
    held, rehedged = by_key["short_1x"], by_key["funding_rehedged"]
    return VenueRow(
        venue=history.venue,
        coin=history.coin,
        start=report.start,
        end=report.end,
        bars=report.bars,
        effectiveness=held.effectiveness,
        rehedged_effectiveness=rehedged.effectiveness,
        net_funding_per_coin=held.net_funding_per_coin,
        funding_apr_pct=held.funding_apr_pct,
        settlements=held.settlements,
        settlements_paid=held.settlements_paid,
    )


def _correlation(coin: str, a: VenueHistory, b: VenueHistory) -> FundingCorrelation | None:
    rates_b = dict(b.settlements)
    pairs = [(rate, rates_b[time]) for time, rate in a.settlements if time in rates_b]
    if len(pairs) < 3:
        return None
    xs, ys = zip(*pairs, strict=True)
    try:
        correlation = statistics.correlation(xs, ys)
    except statistics.StatisticsError:  # one venue's rate never moved
        return None
    return FundingCorrelation(
        coin=coin, venues=(a.venue, b.venue), correlation=correlation, settlements=len(pairs)
    )


def replay_spread_alert(
    coin: str, histories: list[VenueHistory], threshold_8h: Decimal
) -> SpreadReplay:
    """Each time the bot's spread rule would have fired, seeing each funding time's rates."""
    index = RuleIndex(
        [AlertRule(id=1, chat_id=1, coin=coin, kind=AlertKind.SPREAD, threshold_8h=threshold_8h)]
    )
    by_time: dict[datetime, list[FundingObservation]] = {}
    for history in histories:
        for time, rate in history.settlements:
            by_time.setdefault(time, []).append(
                FundingObservation(
                    venue=history.venue,
                    coin=coin,
                    rate=Decimal(str(rate)),
                    interval_hours=SETTLEMENT_HOURS,
                    observed_at=time,
                )
            )
    state, fired = AlertState(), []
    for time in sorted(by_time):
        evaluation = evaluate(index, by_time[time], state, time)
        state = evaluation.state
        fired += [time for _ in evaluation.events]
    return SpreadReplay(
        coin=coin, threshold_8h=threshold_8h, cycles=len(by_time), fired_at=tuple(fired)
    )


def compare_venues(
    histories: Mapping[tuple[str, str], VenueHistory], spread_threshold_8h: Decimal
) -> VenueComparison:
    """Every (venue, coin) history backtested, correlated per coin, and its spread replayed."""
    by_coin: dict[str, list[VenueHistory]] = {}
    for (_, coin), history in sorted(histories.items()):
        by_coin.setdefault(coin, []).append(history)
    correlations = [
        found
        for coin, venues in by_coin.items()
        for a, b in itertools.combinations(venues, 2)
        if (found := _correlation(coin, a, b)) is not None
    ]
    return VenueComparison(
        rows=tuple(_row(history) for _, history in sorted(histories.items())),
        correlations=tuple(correlations),
        spreads=tuple(
            replay_spread_alert(coin, venues, spread_threshold_8h)
            for coin, venues in by_coin.items()
            if len(venues) > 1
        ),
    )
