"""Does the hedge work? Replay price and funding history through hedging strategies.

Pure: bars in, results out. It works in floats: it measures variances and drawdowns over
thousands of bars, not amounts owed, and ten years of hourly bars must take under a second.

A strategy holds `quantity` coins and shorts an inverse perpetual against them (coins as
collateral, as in hedgecore.planning): coin balance moves by the short's PnL N(1/P - 1/P0),
receives N*r/P coins at each funding (positive r: longs pay shorts) and pays taker fees on what
it trades. With leverage above 1 only Q/L coins back the short: if the perpetual's high reaches
the liquidation price the posted coins are lost and the rest stays unhedged from then on.

Funding is paid in coin, so a static 1x short leaves the coins it earns unhedged: the strategy
that re-hedges its funding resizes the short to all the coins after each settlement.
"""

from __future__ import annotations

import itertools
import math
import operator
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import Field

from hedgecore.models import Frozen

DEFAULT_FEE = 0.00055
DEFAULT_MMR = 0.005
_HOURS_PER_YEAR = 365 * 24


@dataclass(frozen=True, slots=True)
class Bar:
    """One period of history: closes, the perpetual's high, and the funding charged at its end."""

    time: datetime
    spot: float
    perp: float
    perp_high: float
    funding_rate: float = 0.0  # per funding interval; positive: longs pay shorts
    dated: float | None = None  # the front quarterly future's close, where the history has it
    dated_expiry: datetime | None = None  # which quarterly that is: a new expiry means a roll


class StrategyResult(Frozen):
    """How one strategy did over the history."""

    key: str  # stable: unhedged, short_1x, short_2x, ..., funding_rehedged, quarterly, min_variance
    name: str
    hedge_ratio: float  # the ratio used (average for a rolling one)
    start_value_usd: float
    final_value_usd: float
    effectiveness: float  # 1 - Var(hedged USD changes) / Var(unhedged USD changes), per bar
    effectiveness_returns: float  # the same on per-bar returns
    funding_received_coin: float  # by the short, in the coin, at each settlement's price
    funding_paid_coin: float
    funding_received_usd: float
    funding_paid_usd: float
    net_funding_per_coin: float  # (received - paid) coins per coin hedged
    funding_apr_pct: float  # the rates the short was exposed to, summed and made yearly
    settlements: int  # funding settlements while the short was open
    settlements_paid: int  # of those, how many the short paid
    fees_usd: float
    worst_drawdown_usd: float
    liquidations: int
    liquidated_at: datetime | None
    values_usd: tuple[float, ...] = Field(
        default=(), exclude=True, repr=False
    )  # one per bar, for plots


class BacktestReport(Frozen):
    """Every strategy on the same history."""

    coin: str
    quantity: float
    start: datetime
    end: datetime
    bars: int
    min_variance_ratio: float | None  # full-sample h*: spot returns on perpetual returns
    r_squared: float | None  # how much of the spot's variance the perpetual explains
    times: tuple[datetime, ...] = Field(default=(), exclude=True, repr=False)
    strategies: tuple[StrategyResult, ...]
    notes: tuple[str, ...]


@dataclass
class _Book:
    """A strategy's running account."""

    coins: float
    short_usd: float = 0.0  # notional of the short
    entry: float = 0.0  # price the current notional was entered at
    received: float = 0.0
    paid: float = 0.0
    received_coin: float = 0.0
    paid_coin: float = 0.0
    rates: float = 0.0  # sum of the funding rates the short was exposed to
    settlements: int = 0
    settlements_paid: int = 0
    fees: float = 0.0
    liquidated_at: datetime | None = None
    values: list[float] = field(default_factory=list)

    def settle(self, price: float) -> None:
        """Book the short's PnL so far into coins, as if closed and reopened at `price`."""
        if self.short_usd:
            self.coins += self.short_usd * (1 / price - 1 / self.entry)
        self.entry = price

    def trade(self, new_short_usd: float, price: float, fee: float) -> None:
        """Move the short to a new notional at `price`, settling its PnL into coins."""
        self.settle(price)
        traded = abs(new_short_usd - self.short_usd)
        self.coins -= traded * fee / price
        self.fees += traded * fee
        self.short_usd = new_short_usd

    def hedge_coins(self, ratio: float, price: float, fee: float) -> None:
        """Short `ratio` of every coin held, sized after the PnL so far is booked."""
        self.settle(price)
        self.trade(ratio * self.coins * price, price, fee)

    def fund(self, bar: Bar) -> None:
        if not self.short_usd or not bar.funding_rate:
            return
        usd = self.short_usd * bar.funding_rate  # the short's side: positive is income
        coins = usd / bar.perp
        self.coins += coins
        self.rates += bar.funding_rate
        self.settlements += 1
        if usd > 0:
            self.received += usd
            self.received_coin += coins
        else:
            self.paid -= usd
            self.paid_coin -= coins
            self.settlements_paid += 1

    def value(self, bar: Bar) -> float:
        open_pnl = self.short_usd * (1 / bar.perp - 1 / self.entry) if self.short_usd else 0.0
        return (self.coins + open_pnl) * bar.spot


def _deviations(values: Sequence[float]) -> list[float]:
    mean = math.fsum(values) / len(values)
    return [v - mean for v in values]


def _variance(values: Sequence[float]) -> float:
    """Population variance in plain floats (statistics.pvariance is exact, and slow at 10^5)."""
    if len(values) < 2:
        return 0.0
    deviations = _deviations(values)
    # Squares are never negative, so plain summation loses nothing that matters and is
    # twice as fast as fsum at 10^5 values.
    squares: float = sum(map(operator.mul, deviations, deviations))
    return squares / len(values)


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """OLS slope of ys on xs, or None when xs do not vary."""
    dx, dy = _deviations(xs), _deviations(ys)
    spread = math.fsum(map(operator.mul, dx, dx))
    if spread == 0:
        return None
    return math.fsum(map(operator.mul, dx, dy)) / spread


def _changes(values: Sequence[float]) -> list[float]:
    return list(map(operator.sub, values[1:], values[:-1]))


def _growth(values: Sequence[float]) -> list[float]:
    """V_t / V_t-1 for each bar: its return plus one, which variances and slopes ignore; a bar
    starting from nothing has no return and is left out."""
    if min(values) > 0:
        return list(map(operator.truediv, values[1:], values[:-1]))
    return [b / a for a, b in itertools.pairwise(values) if a > 0]


def _effectiveness(hedged: Sequence[float], unhedged_variance: float) -> float:
    return 1 - _variance(hedged) / unhedged_variance if unhedged_variance else 0.0


def _regression(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """Slope and R² of ys on xs, or None when either does not vary."""
    slope = _slope(xs, ys)
    spread_y = _variance(ys)
    if slope is None or spread_y == 0:
        return None
    return slope, slope * slope * _variance(xs) / spread_y


def _worst_drawdown(values: Sequence[float]) -> float:
    peaks = itertools.accumulate(values, max)
    return max(map(operator.sub, peaks, values), default=0.0)


@dataclass(frozen=True, slots=True)
class _Unhedged:
    """What each strategy is measured against."""

    quantity: float
    change_variance: float
    return_variance: float
    start: datetime
    end: datetime


def _result(
    key: str, name: str, book: _Book, ratio: float, unhedged: _Unhedged, liquidations: int
) -> StrategyResult:
    closed = book.liquidated_at or unhedged.end
    years_open = (closed - unhedged.start).total_seconds() / 3600 / _HOURS_PER_YEAR
    return StrategyResult(
        key=key,
        name=name,
        hedge_ratio=ratio,
        start_value_usd=book.values[0],
        final_value_usd=book.values[-1],
        effectiveness=_effectiveness(_changes(book.values), unhedged.change_variance),
        effectiveness_returns=_effectiveness(_growth(book.values), unhedged.return_variance),
        funding_received_coin=book.received_coin,
        funding_paid_coin=book.paid_coin,
        funding_received_usd=book.received,
        funding_paid_usd=book.paid,
        net_funding_per_coin=(book.received_coin - book.paid_coin) / unhedged.quantity,
        funding_apr_pct=book.rates / years_open * 100 if years_open else 0.0,
        settlements=book.settlements,
        settlements_paid=book.settlements_paid,
        fees_usd=book.fees,
        worst_drawdown_usd=_worst_drawdown(book.values),
        liquidations=liquidations,
        liquidated_at=book.liquidated_at,
        values_usd=tuple(book.values),
    )


def _static_short(
    bars: Sequence[Bar], quantity: float, leverage: float, fee: float, mmr: float
) -> tuple[_Book, int]:
    """Short Q*P0 on the perpetual at the first bar and hold it; liquidation checked on highs."""
    book = _Book(coins=quantity)
    first = bars[0]
    book.trade(quantity * first.perp, first.perp, fee)
    margin = quantity / leverage
    liquidation = None
    if leverage > 1:
        # LP = E (1 - MMR) L / (L - 1) for margin N/(E L) (shared/reference, 4.5).
        liquidation = first.perp * (1 - mmr) * leverage / (leverage - 1)
    book.values.append(book.value(first))
    for n in range(1, len(bars)):
        bar = bars[n]
        if liquidation is not None and bar.perp_high >= liquidation:
            # The posted coins absorb the short's loss and are gone with it; the rest rides
            # unhedged to the end.
            book.coins -= margin
            book.short_usd, book.liquidated_at = 0.0, bar.time
            book.values += [book.coins * later.spot for later in bars[n:]]
            return book, 1
        book.fund(bar)
        book.values.append(book.value(bar))
    return book, 0


def _rolling_quarterly(
    bars: Sequence[Bar],
    futures: Sequence[float],
    expiries: Sequence[datetime],
    quantity: float,
    fee: float,
) -> tuple[_Book, int]:
    """Short Q*F0 on the front quarterly and roll into the next one when it changes (4.2)."""
    book = _Book(coins=quantity)
    book.trade(quantity * futures[0], futures[0], fee)
    book.values.append(book.coins * bars[0].spot)
    rolls = 0
    for n in range(1, len(bars)):
        if expiries[n] != expiries[n - 1]:
            # The old future settled at its last price; the whole balance goes short on the next.
            book.trade(0.0, futures[n - 1], fee)
            book.trade(book.coins * futures[n], futures[n], fee)
            rolls += 1
        open_pnl = book.short_usd * (1 / futures[n] - 1 / book.entry)
        book.values.append((book.coins + open_pnl) * bars[n].spot)
    return book, rolls


def _funding_rehedged(
    bars: Sequence[Bar], quantity: float, fee: float, gap: float
) -> tuple[_Book, int]:
    """A 1x short kept equal to every coin held: after a settlement moves the coins by more
    than `gap` of the short, it is resized to them (and pays the fee on the difference)."""
    book = _Book(coins=quantity)
    book.hedge_coins(1.0, bars[0].perp, fee)
    book.values.append(book.value(bars[0]))
    resizes = 0
    for bar in bars[1:]:
        if bar.funding_rate:
            book.fund(bar)
            book.settle(bar.perp)
            every_coin_usd = book.coins * bar.perp
            if abs(every_coin_usd - book.short_usd) > gap * book.short_usd:
                book.trade(every_coin_usd, bar.perp, fee)
                resizes += 1
        book.values.append(book.value(bar))
    return book, resizes


def _rolling_min_variance(
    bars: Sequence[Bar],
    growth: tuple[list[float], list[float]],
    quantity: float,
    window: int,
    every: int,
    fee: float,
) -> tuple[_Book, float]:
    """Re-estimate h* = cov(spot, perp returns)/var(perp returns) every `every` bars, 1x
    collateral; `growth` holds the spot's and the perpetual's V_t / V_t-1 for each bar."""
    spot_growth, perp_growth = growth
    book = _Book(coins=quantity)
    ratios = []
    ratio = 1.0
    book.hedge_coins(ratio, bars[0].perp, fee)
    book.values.append(book.value(bars[0]))
    for n in range(1, len(bars)):
        bar = bars[n]
        book.fund(bar)  # the bar's funding is on the short held through it
        if n >= window and n % every == 0:
            slope = _slope(perp_growth[n - window : n], spot_growth[n - window : n])
            if slope is not None:
                ratio = slope
            ratios.append(ratio)
            book.hedge_coins(ratio, bar.perp, fee)
        book.values.append(book.value(bar))
    return book, statistics.fmean(ratios) if ratios else 1.0


def run_backtest(
    coin: str,
    bars: Sequence[Bar],
    quantity: float = 1.0,
    leverages: Sequence[float] = (1.0, 2.0, 3.0, 5.0),
    fee: float = DEFAULT_FEE,
    mmr: float = DEFAULT_MMR,
    window: int = 90,
    rebalance_every: int = 21,
    rehedge_gap: float = 0.0,
) -> BacktestReport:
    """Unhedged, a held inverse short at each leverage, the 1x short with its funding re-hedged,
    rolling quarterlies where the history has them, and a rolling minimum-variance ratio."""
    if len(bars) < 3:
        raise ValueError("a backtest needs at least 3 bars")
    spot_values = [quantity * bar.spot for bar in bars]
    unhedged = _Unhedged(
        quantity=quantity,
        change_variance=_variance(_changes(spot_values)),
        return_variance=_variance(_growth(spot_values)),
        start=bars[0].time,
        end=bars[-1].time,
    )
    results = [
        _result("unhedged", "unhedged", _Book(coins=quantity, values=spot_values), 0.0, unhedged, 0)
    ]
    for leverage in leverages:
        book, liquidations = _static_short(bars, quantity, leverage, fee, mmr)
        results.append(
            _result(
                f"short_{leverage:g}x",
                f"inverse perpetual short {leverage:g}x",
                book,
                1.0,
                unhedged,
                liquidations,
            )
        )
    book, resizes = _funding_rehedged(bars, quantity, fee, rehedge_gap)
    rehedged = _result(
        "funding_rehedged",
        f"1x short, funding re-hedged ({resizes:,} resizes)",
        book,
        1.0,
        unhedged,
        0,
    )
    results.append(rehedged)
    notes = []
    static_one_x = next((r for r in results if r.key == "short_1x"), None)
    if static_one_x is not None and static_one_x.settlements:
        net_coin = static_one_x.net_funding_per_coin * quantity
        notes.append(
            f"Funding is paid in {coin}: the held 1x short ended with {net_coin:+,.6f} {coin} of "
            "funding that nothing hedged, which keeps it at "
            f"{static_one_x.effectiveness * 100:.2f}% rather than 100%; re-hedged after each "
            f"settlement it removes {rehedged.effectiveness * 100:.2f}%."
        )
    spot_growth = _growth([bar.spot for bar in bars])
    perp_growth = _growth([bar.perp for bar in bars])
    futures = [bar.dated for bar in bars if bar.dated is not None]
    expiries = [bar.dated_expiry for bar in bars if bar.dated_expiry is not None]
    if len(futures) == len(expiries) == len(bars):
        book, rolls = _rolling_quarterly(bars, futures, expiries, quantity, fee)
        results.append(
            _result("quarterly", f"rolling quarterly short ({rolls} rolls)", book, 1.0, unhedged, 0)
        )
    else:
        notes.append(
            "No dated futures prices in this history: rolling quarterly shorts are not compared."
        )
    if len(bars) > window:
        book, mean_ratio = _rolling_min_variance(
            bars, (spot_growth, perp_growth), quantity, window, rebalance_every, fee
        )
        results.append(
            _result(
                "min_variance",
                f"minimum-variance ratio, {window}-bar window",
                book,
                mean_ratio,
                unhedged,
                0,
            )
        )
    else:
        notes.append(f"Too few bars ({len(bars)}) for a {window}-bar rolling hedge ratio.")
    fit = _regression(perp_growth, spot_growth)
    return BacktestReport(
        coin=coin,
        quantity=quantity,
        start=bars[0].time,
        end=bars[-1].time,
        bars=len(bars),
        min_variance_ratio=fit[0] if fit else None,
        r_squared=fit[1] if fit else None,
        times=tuple(bar.time for bar in bars),
        strategies=tuple(results),
        notes=tuple(notes),
    )
