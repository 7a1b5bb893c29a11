"""Step 1 of hedging a portfolio: how much risk each holding carries, and which to hedge first.

Pure: daily closes in, figures out. Every figure is historical, from the closes given:
volatility is the sample standard deviation of daily returns made yearly with sqrt(365) (coins
trade every day); value at risk is the 95th percentile of the losses the holding would have had
over one day and over seven (overlapping) days; a holding's share of the portfolio's risk is
its Euler contribution to the variance of the portfolio's daily USD change,
w_i cov(r_i, P) / var(P), so correlated holdings are not counted twice and the shares add to 100 %.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from hedgecore.crosshedge import simple_returns
from hedgecore.errors import PlanningError
from hedgecore.models import Frozen, Holding

MIN_RETURNS = 20
VOLATILITY_DAYS = (30, 90)
VAR_DAYS = 7
# Hedge the largest shares of the risk until this much of it is covered.
HEDGE_FIRST_SHARE = 0.8


class HoldingRisk(Frozen):
    """One holding's risk over the window."""

    coin: str
    quantity: Decimal
    price_usd: Decimal  # the last close
    value_usd: Decimal
    volatility_30d_pct: float | None  # yearly; None when the window is shorter
    volatility_90d_pct: float  # yearly, over the whole window when it is shorter than 90 days
    var_1d_usd: float
    var_7d_usd: float | None
    worst_drawdown_pct: float  # the deepest fall from a high in the window, in percent
    correlation_btc: float | None  # of daily returns; None without BTC closes
    risk_share_pct: float
    hedged_with: str  # the coin whose inverse contract hedges it: itself, or a proxy


class PortfolioRisk(Frozen):
    """The whole portfolio's risk, its holdings', and what to hedge first and why."""

    holdings: tuple[HoldingRisk, ...]  # largest share of the risk first
    value_usd: Decimal
    volatility_pct: float
    var_1d_usd: float
    var_7d_usd: float | None
    returns: int  # daily returns the figures stand on
    first_day: date
    last_day: date
    hedge_first: tuple[str, ...]  # coins, largest share first
    reasons: tuple[str, ...]  # one sentence per coin to hedge first


def _yearly_volatility_pct(returns: Sequence[float]) -> float:
    return statistics.stdev(returns) * math.sqrt(365) * 100


def _var(losses: Sequence[float]) -> float | None:
    """The 95th percentile of losses (inclusive quantiles), None with too few to say."""
    if len(losses) < MIN_RETURNS:
        return None
    return max(statistics.quantiles(losses, n=20, method="inclusive")[-1], 0.0)


def _horizon_losses(values: Sequence[float], days: int) -> list[float]:
    """The share of its value a position lost over each (overlapping) run of `days` days."""
    return [1 - values[t] / values[t - days] for t in range(days, len(values))]


def _correlation(xs: Sequence[float], ys: Sequence[float] | None) -> float | None:
    """Pearson correlation, None without a second series or when either did not move."""
    if ys is None:
        return None
    try:
        return statistics.correlation(xs, ys)
    except statistics.StatisticsError:
        return None


def _covariance(xs: Sequence[float], ys: Sequence[float]) -> float:
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / len(xs)


def _worst_drawdown_pct(closes: Sequence[float]) -> float:
    peak, worst = closes[0], 0.0
    for close in closes:
        peak = max(peak, close)
        worst = max(worst, 1 - close / peak)
    return worst * 100


def _reason(risk: HoldingRisk, first: bool) -> str:
    via = (
        "with its own inverse contract"
        if risk.hedged_with == risk.coin
        else f"no inverse contract: cross-hedge it with {risk.hedged_with}"
    )
    lead = f"Hedge {risk.coin} first" if first else f"Then {risk.coin}"
    return (
        f"{lead}: {risk.risk_share_pct:.0f}% of the portfolio's risk, a 1-day 95% value at risk "
        f"of {risk.var_1d_usd:,.0f} USD at {risk.volatility_90d_pct:.0f}% yearly volatility ({via})."
    )


def assess_portfolio(
    holdings: Sequence[Holding],
    closes: Mapping[str, Sequence[tuple[datetime, Decimal]]],
    hedged_with: Mapping[str, str],
) -> PortfolioRisk:
    """Each holding's and the portfolio's historical risk from daily closes on common days.

    `closes` has every held coin (and BTC, for correlations); `hedged_with` names the proxy of a
    coin with no inverse contract of its own.
    """
    coins = [h.coin for h in holdings]
    missing = [coin for coin in coins if not closes.get(coin)]
    if missing:
        raise PlanningError(f"no daily closes of {', '.join(missing)} to assess")
    names = [*dict.fromkeys([*coins, *(["BTC"] if "BTC" in closes else [])])]
    by_day = {name: {t.astimezone(UTC).date(): c for t, c in closes[name]} for name in names}
    days = sorted(set.intersection(*(set(rows) for rows in by_day.values())))
    if len(days) < MIN_RETURNS + 1:
        raise PlanningError(
            f"need {MIN_RETURNS + 1} days of closes of {', '.join(names)} in common, got {len(days)}"
        )
    returns = {name: simple_returns([by_day[name][day] for day in days]) for name in names}
    prices = {name: [float(by_day[name][day]) for day in days] for name in names}
    values = {h.coin: float(h.quantity) * prices[h.coin][-1] for h in holdings}
    # The portfolio's daily USD change had it been held throughout at today's values.
    portfolio = [
        sum(values[coin] * returns[coin][t] for coin in coins) for t in range(len(days) - 1)
    ]
    portfolio_variance = statistics.pvariance(portfolio)
    total = sum(values.values())
    # Its value on each day with today's quantities, for the 7-day losses.
    path = [sum(float(h.quantity) * prices[h.coin][t] for h in holdings) for t in range(len(days))]

    def share_pct(coin: str) -> float:
        if portfolio_variance == 0:
            return 100 / len(coins)
        return values[coin] * _covariance(returns[coin], portfolio) / portfolio_variance * 100

    risks = []
    for holding in holdings:
        coin = holding.coin
        series = prices[coin]
        recent = returns[coin][-VOLATILITY_DAYS[0] :]
        risks.append(
            HoldingRisk(
                coin=coin,
                quantity=holding.quantity,
                price_usd=by_day[coin][days[-1]],
                value_usd=holding.quantity * by_day[coin][days[-1]],
                volatility_30d_pct=(
                    _yearly_volatility_pct(recent)
                    if len(returns[coin]) >= VOLATILITY_DAYS[0]
                    else None
                ),
                volatility_90d_pct=_yearly_volatility_pct(returns[coin][-VOLATILITY_DAYS[1] :]),
                var_1d_usd=_var([-values[coin] * r for r in returns[coin]]) or 0.0,
                var_7d_usd=_var(
                    [values[coin] * loss for loss in _horizon_losses(series, VAR_DAYS)]
                ),
                worst_drawdown_pct=_worst_drawdown_pct(series),
                correlation_btc=_correlation(returns[coin], returns.get("BTC")),
                risk_share_pct=share_pct(coin),
                hedged_with=hedged_with.get(coin, coin),
            )
        )
    risks.sort(key=lambda risk: -risk.risk_share_pct)
    first: list[HoldingRisk] = []
    for risk in risks:
        covered = sum(r.risk_share_pct for r in first)
        if risk.risk_share_pct <= 0 or covered >= HEDGE_FIRST_SHARE * 100:
            break
        first.append(risk)
    return PortfolioRisk(
        holdings=tuple(risks),
        value_usd=sum((risk.value_usd for risk in risks), Decimal(0)),
        volatility_pct=statistics.stdev(portfolio) / total * math.sqrt(365) * 100,
        var_1d_usd=_var([-change for change in portfolio]) or 0.0,
        var_7d_usd=_var([total * loss for loss in _horizon_losses(path, VAR_DAYS)]),
        returns=len(portfolio),
        first_day=days[0],
        last_day=days[-1],
        hedge_first=tuple(risk.coin for risk in first),
        reasons=tuple(_reason(risk, n == 0) for n, risk in enumerate(first)),
    )
