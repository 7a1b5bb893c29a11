"""Minimum-variance cross hedges for coins with no inverse contract of their own.

The hedge ratio is the OLS slope of the held coin's returns on the proxy's returns,
h* = rho * sigma_coin / sigma_proxy, a USD-per-USD ratio because it is fitted on returns;
R^2 = rho^2 is the share of the holding's variance the hedge removes (Hull, ch. 3;
shared/reference/inverse-futures.md, section 4.6).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from hedgecore.errors import PlanningError
from hedgecore.models import CrossHedgeFit

MIN_PRICES = 10


def simple_returns(prices: Sequence[Decimal]) -> list[float]:
    """Period-on-period returns P[t]/P[t-1] - 1 of a price series."""
    return [float(now / before - 1) for before, now in itertools.pairwise(prices)]


def _stat(value: float) -> Decimal:
    return Decimal(f"{value:.6g}")


def fit_min_variance(
    coin: str, proxy_coin: str, coin_prices: Sequence[Decimal], proxy_prices: Sequence[Decimal]
) -> CrossHedgeFit:
    """Fit the minimum-variance hedge of `coin` with `proxy_coin` from aligned price series."""
    if len(coin_prices) != len(proxy_prices):
        raise PlanningError(
            f"{coin} and {proxy_coin} price histories must cover the same times "
            f"({len(coin_prices)} vs {len(proxy_prices)} prices)"
        )
    if len(coin_prices) < MIN_PRICES:
        raise PlanningError(
            f"need at least {MIN_PRICES} prices of {coin} and {proxy_coin} to fit a cross hedge, "
            f"got {len(coin_prices)}"
        )
    if min(coin_prices) <= 0 or min(proxy_prices) <= 0:
        raise PlanningError(f"price histories of {coin} and {proxy_coin} must be positive")
    coin_returns = simple_returns(coin_prices)
    proxy_returns = simple_returns(proxy_prices)
    if statistics.pvariance(proxy_returns) == 0 or statistics.pvariance(coin_returns) == 0:
        raise PlanningError(f"{coin} or {proxy_coin} price did not move: no hedge ratio to fit")
    beta, _ = statistics.linear_regression(proxy_returns, coin_returns)
    correlation = statistics.correlation(proxy_returns, coin_returns)
    return CrossHedgeFit(
        coin=coin,
        proxy_coin=proxy_coin,
        beta=_stat(beta),
        correlation=_stat(correlation),
        r_squared=_stat(correlation**2),
        observations=len(coin_returns),
    )


def best_proxy(
    coin: str, coin_prices: Sequence[Decimal], proxies: Mapping[str, Sequence[Decimal]]
) -> CrossHedgeFit:
    """The proxy whose returns explain most of `coin`'s variance (highest R^2)."""
    fits = [
        fit_min_variance(coin, proxy, coin_prices, prices)
        for proxy, prices in sorted(proxies.items())
    ]
    if not fits:
        raise PlanningError(f"no proxy coin to cross-hedge {coin} with")
    return max(fits, key=lambda fit: fit.r_squared)


def best_proxy_from_closes(
    coin: str, closes: Mapping[str, Sequence[tuple[datetime, Decimal]]]
) -> CrossHedgeFit:
    """The best proxy for `coin` from the daily closes of it and of each proxy in `closes`,
    on the days they all have."""
    aligned = align_closes(closes)
    return best_proxy(coin, aligned.pop(coin), aligned)


def align_closes(
    series: Mapping[str, Sequence[tuple[datetime, Decimal]]],
) -> dict[str, list[Decimal]]:
    """Closes of several coins on the days they all have, oldest first (by UTC date)."""
    by_day = {
        name: {moment.astimezone(UTC).date(): close for moment, close in rows}
        for name, rows in series.items()
    }
    common = sorted(set.intersection(*(set(days) for days in by_day.values()))) if by_day else []
    return {name: [days[day] for day in common] for name, days in by_day.items()}
