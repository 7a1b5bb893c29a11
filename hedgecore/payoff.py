"""What a hedge is worth across prices, and funding over time: the data behind the charts.

Pure functions of plans and histories; drawing them is `hedgecore.charts`' business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from hedgecore.errors import PlanningError
from hedgecore.inverse import annualise_rate, hedged_value_usd
from hedgecore.models import ContractKind, Frozen, FundingPoint, HedgeLeg, HedgePlan

LOW_MOVE = Decimal("-0.5")  # prices from half of today's...
HIGH_MOVE = Decimal(1)  # ...to double
POINTS = 151


class PayoffCurve(Frozen):
    """USD value of the holding at each price: unhedged, hedged on the perpetual, on a dated future."""

    coin: str
    spot_price: Decimal
    prices: tuple[Decimal, ...]
    unhedged_usd: tuple[Decimal, ...]
    perpetual: HedgeLeg
    perpetual_usd: tuple[Decimal, ...]
    dated: HedgeLeg | None
    dated_usd: tuple[Decimal, ...] | None  # at expiry, when the future has met spot
    liquidation_price: Decimal | None  # from here up the perpetual hedge is gone
    as_of: datetime


def _perpetual_value(leg: HedgeLeg, quantity: Decimal, price: Decimal) -> Decimal:
    """Coins plus the short; past liquidation the margin is lost and the rest is unhedged."""
    if leg.liquidation_price is not None and price >= leg.liquidation_price:
        return (quantity - leg.margin_coin) * price
    return hedged_value_usd(quantity, leg.notional_usd, leg.entry_price, price)


def payoff_curve(plan: HedgePlan, points: int = POINTS) -> PayoffCurve:
    """The payoff of a same-coin plan's best perpetual (and best dated future) across prices."""
    if plan.cross_hedge is not None:
        raise PlanningError(
            f"a payoff chart needs a hedge in {plan.holding.coin} itself, not a cross hedge"
        )
    perpetual = next((leg for leg in plan.legs if leg.kind is ContractKind.PERPETUAL), None)
    if perpetual is None:
        raise PlanningError(f"no perpetual to chart for {plan.holding.coin}")
    dated = next((leg for leg in plan.legs if leg.kind is ContractKind.DATED), None)
    spot, quantity = plan.spot_price, plan.holding.quantity
    step = (HIGH_MOVE - LOW_MOVE) / (points - 1)
    prices = tuple(spot * (1 + LOW_MOVE + step * n) for n in range(points))
    return PayoffCurve(
        coin=plan.holding.coin,
        spot_price=spot,
        prices=prices,
        unhedged_usd=tuple(quantity * p for p in prices),
        perpetual=perpetual,
        perpetual_usd=tuple(_perpetual_value(perpetual, quantity, p) for p in prices),
        dated=dated,
        dated_usd=None
        if dated is None
        else tuple(
            hedged_value_usd(quantity, dated.notional_usd, dated.entry_price, p, contract_price=p)
            for p in prices
        ),
        liquidation_price=perpetual.liquidation_price,
        as_of=plan.as_of,
    )


class FundingLine(Frozen):
    """One venue's past funding, annualised, as the short sees it (positive: it received)."""

    venue: str
    times: tuple[datetime, ...]
    apr_pct: tuple[Decimal, ...]


def funding_lines(history: Mapping[str, Sequence[FundingPoint]]) -> tuple[FundingLine, ...]:
    """Each venue's funding history as a yearly rate in percent, oldest first."""
    lines = []
    for venue, points in sorted(history.items()):
        ordered = sorted(points, key=lambda point: point.time)
        if ordered:
            lines.append(
                FundingLine(
                    venue=venue,
                    times=tuple(p.time for p in ordered),
                    apr_pct=tuple(annualise_rate(p.rate, p.interval_hours) * 100 for p in ordered),
                )
            )
    return tuple(lines)
