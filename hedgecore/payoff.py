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


class HedgeLine(Frozen):
    """What the holding is worth at each price with one leg's short beside it."""

    leg: HedgeLeg
    value_usd: tuple[Decimal, ...]

    @property
    def at_expiry(self) -> bool:
        """A dated future's line is its value at expiry, when it has met spot."""
        return self.leg.kind is ContractKind.DATED


class PayoffCurve(Frozen):
    """USD value of the holding at each price: unhedged, hedged with the plan's chosen leg, and
    with the best leg of the other kind (a perpetual beside a dated future, or the reverse)."""

    coin: str
    spot_price: Decimal
    prices: tuple[Decimal, ...]
    unhedged_usd: tuple[Decimal, ...]
    chosen: HedgeLine
    alternative: HedgeLine | None
    as_of: datetime

    @property
    def liquidation_price(self) -> Decimal | None:
        """From here up the chosen hedge is gone."""
        return self.chosen.leg.liquidation_price


def _leg_value(leg: HedgeLeg, quantity: Decimal, price: Decimal) -> Decimal:
    """Coins plus the short; past liquidation the margin is lost and the rest is unhedged.

    A dated future is valued at expiry, at spot; a price at expiry above its liquidation price
    was passed on the way, so that short is gone too.
    """
    if leg.liquidation_price is not None and price >= leg.liquidation_price:
        return (quantity - leg.margin_coin) * price
    contract_price = price if leg.kind is ContractKind.DATED else None
    return hedged_value_usd(
        quantity, leg.notional_usd, leg.entry_price, price, contract_price=contract_price
    )


def payoff_curve(plan: HedgePlan, points: int = POINTS) -> PayoffCurve:
    """The payoff across prices of a same-coin plan's chosen leg, beside the other kind's best."""
    if plan.cross_hedge is not None:
        raise PlanningError(
            f"a payoff chart needs a hedge in {plan.holding.coin} itself, not a cross hedge"
        )
    chosen = plan.best
    other = next((leg for leg in plan.legs if leg.kind is not chosen.kind), None)
    spot, quantity = plan.spot_price, plan.holding.quantity
    step = (HIGH_MOVE - LOW_MOVE) / (points - 1)
    prices = tuple(spot * (1 + LOW_MOVE + step * n) for n in range(points))

    def line(leg: HedgeLeg) -> HedgeLine:
        return HedgeLine(leg=leg, value_usd=tuple(_leg_value(leg, quantity, p) for p in prices))

    return PayoffCurve(
        coin=plan.holding.coin,
        spot_price=spot,
        prices=prices,
        unhedged_usd=tuple(quantity * p for p in prices),
        chosen=line(chosen),
        alternative=None if other is None else line(other),
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
