"""Hedge planning: size a short on every candidate contract, rank them, and say why.

Same-coin hedge (shared/reference/inverse-futures.md, 4.1-4.3): hold Q coins, short N = ratio*Q*E
of the coin's inverse contract at its price E and keep the coins as collateral; the hedged part's
USD value then stays N whatever the price does.

Cross hedge (4.6): to be short X = ratio*beta*Q*S USD of a proxy while posting the proxy coin as
margin, which is itself long the proxy, short N = X*L/(L-1) with margin N/(E*L): at 1x the margin
cancels the short and nothing is hedged, so a cross hedge needs leverage above 1.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_DOWN, Decimal

from hedgecore import fmt
from hedgecore.errors import PlanningError
from hedgecore.inverse import (
    DAYS_PER_YEAR,
    annualise_basis,
    annualise_rate,
    bankruptcy_price,
    basis,
    funding_received_coin,
    initial_margin_coin,
    intervals_per_day,
    liquidation_price,
    price_move_pct,
)
from hedgecore.models import (
    Contract,
    ContractKind,
    CrossHedgeFit,
    HedgeLeg,
    HedgePlan,
    Holding,
    LeverageRow,
    MarginTier,
    MarketContract,
    PlanSettings,
    PortfolioPlan,
    RiskKind,
    RiskNote,
    Side,
    TierUnit,
)
from hedgecore.risk import risk_notes
from hedgecore.venues import venue_name

CROSS_HEDGE_MIN_LEVERAGE = Decimal(2)
LEVERAGE_TABLE = (Decimal(1), Decimal(2), Decimal(3), Decimal(5), Decimal(10))
_SECONDS_PER_DAY = Decimal(86400)
_ZERO = Decimal(0)


def margin_tier(market: MarketContract, notional_usd: Decimal, price: Decimal) -> MarginTier | None:
    """The venue's margin tier for a position of `notional_usd` at `price` (None: no tiers known)."""
    tiers = market.contract.margin_tiers
    for tier in tiers:
        size = notional_usd if tier.size_unit is TierUnit.USD else notional_usd / price
        if size <= tier.max_size:
            return tier
    return tiers[-1] if tiers else None


def maintenance_terms(
    market: MarketContract, notional_usd: Decimal, entry_price: Decimal, margin: Decimal
) -> tuple[Decimal, Decimal]:
    """Maintenance rate and deduction (coin) of the tier a short liquidates in, before any
    per-coin size term."""
    mmr = market.contract.maintenance_margin_rate
    per_coin = market.contract.margin_rate_per_coin
    deduction = _ZERO
    tier = margin_tier(market, notional_usd, entry_price)
    if tier is not None:
        mmr, deduction = tier.maintenance_margin_rate, tier.maintenance_deduction_coin
    price = liquidation_price(
        Side.SHORT, notional_usd, entry_price, margin, mmr, deduction, per_coin
    )
    # A short's coin value shrinks as the price rises, so it may liquidate in a lower tier.
    lower = margin_tier(market, notional_usd, price) if price is not None else None
    if lower is not None and lower != tier:
        return lower.maintenance_margin_rate, lower.maintenance_deduction_coin
    return mmr, deduction


def _short_liquidation(
    market: MarketContract, notional_usd: Decimal, entry_price: Decimal, margin: Decimal
) -> tuple[Decimal, Decimal | None]:
    """Maintenance rate at liquidation and the short's liquidation price, in the tier it
    liquidates in and with any per-coin size term."""
    per_coin = market.contract.margin_rate_per_coin
    mmr, deduction = maintenance_terms(market, notional_usd, entry_price, margin)
    price = liquidation_price(
        Side.SHORT, notional_usd, entry_price, margin, mmr, deduction, per_coin
    )
    if price is not None:
        mmr += per_coin * notional_usd / price  # the size the short has when it liquidates
    return mmr, price


def _max_leverage(
    contract: Contract, tier: MarginTier | None, size_coin: Decimal
) -> Decimal | None:
    """The venue's cap for this position: its market's and its tier's, lowered where the
    initial margin grows with the size (Deribit: 1/50 + 0.005 % per BTC)."""
    caps = [cap for cap in (contract.max_leverage, tier.max_leverage if tier else None) if cap]
    if not caps:
        return None
    cap = min(caps)
    if contract.margin_rate_per_coin:
        cap = 1 / (1 / cap + contract.margin_rate_per_coin * size_coin)
    return cap


def _days_between(start: datetime, end: datetime) -> Decimal:
    return Decimal(str((end - start).total_seconds())) / _SECONDS_PER_DAY


def _coins_to_open(
    notional_usd: Decimal, entry: Decimal, leverage: Decimal, fee_rate: Decimal
) -> Decimal:
    return initial_margin_coin(notional_usd, entry, leverage) + notional_usd * fee_rate / entry


def _order_amount(contract: Contract, contracts: int) -> Decimal:
    """What the venue's order form takes: USD (Deribit), coins (Bitget) or contracts."""
    if contract.order_amount_unit == "usd":
        return contracts * contract.contract_size_usd
    if contract.order_step_coin is not None:
        return contracts * contract.order_step_coin
    return Decimal(contracts)


def plan_leg(
    holding: Holding,
    market: MarketContract,
    settings: PlanSettings,
    now: datetime,
    holding_price: Decimal,
    cross_hedge: CrossHedgeFit | None = None,
) -> HedgeLeg:
    """Size the short on one contract and work out its margin, liquidation, funding and carry."""
    contract, quote, funding = market.contract, market.quote, market.funding
    entry = quote.short_entry_price
    leverage = settings.leverage
    if cross_hedge is None:
        exposure_usd = settings.hedge_ratio * holding.quantity * entry
        target_usd = exposure_usd
    else:
        exposure_usd = settings.hedge_ratio * cross_hedge.beta * holding.quantity * holding_price
        target_usd = exposure_usd * leverage / (leverage - 1)
    # Nearest whole contract, ties down: never over-hedged by more than half a contract.
    contracts = int((target_usd / contract.contract_size_usd).to_integral_value(ROUND_HALF_DOWN))
    fee_rate = contract.taker_fee_rate
    if cross_hedge is None and initial_margin_coin(target_usd, entry, leverage) <= holding.quantity:
        # The coins held cover the margin asked for: neither rounding up nor the opening fee
        # (both taken from the venue account) may ask for more, or the order is refused. Size
        # down to what the coins pay for; the residual is shown.
        fitting_usd = holding.quantity * entry * leverage / (1 + fee_rate * leverage)
        fitting = int(fitting_usd / contract.contract_size_usd)
        # A holding worth about one contract keeps it: a note asking for the fee beats no plan.
        contracts = min(contracts, fitting) if fitting else contracts
    notional = contracts * contract.contract_size_usd
    margin = initial_margin_coin(notional, entry, leverage)
    to_move = _coins_to_open(notional, entry, leverage, fee_rate)
    hedged_usd = notional if cross_hedge is None else notional - margin * entry
    own_coins = holding.quantity if cross_hedge is None else _ZERO
    mmr, liquidation = _short_liquidation(market, notional, entry, margin)
    tier = margin_tier(market, notional, entry)

    funding_coin = funding_usd = per_day_usd = per_year_usd = apr_pct = None
    if funding is not None:
        funding_coin = funding_received_coin(Side.SHORT, notional, quote.mark_price, funding.rate)
        funding_usd = funding_coin * quote.mark_price
        per_day_usd = funding_usd * intervals_per_day(funding.interval_hours)
        per_year_usd = per_day_usd * DAYS_PER_YEAR
        apr_pct = annualise_rate(funding.rate, funding.interval_hours) * 100

    horizon = Decimal(settings.horizon_days)
    days_to_expiry = basis_apr_pct = locked_value_usd = None
    carry_usd = None if per_day_usd is None else per_day_usd * horizon
    dated = contract.kind is ContractKind.DATED
    basis_fraction = basis(entry if dated else quote.mark_price, quote.index_price)
    if contract.expiry is not None:
        days_to_expiry = _days_between(now, contract.expiry)
        if days_to_expiry <= 0:
            raise PlanningError(
                f"{contract.symbol} on {venue_name(contract.venue)} expired {fmt.utc(contract.expiry)}"
            )
        basis_apr_pct = annualise_basis(basis_fraction, days_to_expiry) * 100
        if cross_hedge is None:
            locked_value_usd = notional
        # The short gains N(1 - S/F0) as the future converges to spot by expiry.
        earned_share = min(horizon, days_to_expiry) / days_to_expiry
        carry_usd = notional * (1 - quote.index_price / entry) * earned_share

    fee_usd = notional * fee_rate
    spread = quote.spread
    # Selling at the bid opens the short half a spread below the mid; buying it back at the ask
    # closes it half a spread above.
    spread_cost_usd = notional * spread if spread is not None else _ZERO
    return HedgeLeg(
        venue=contract.venue,
        symbol=contract.symbol,
        kind=contract.kind,
        expiry=contract.expiry,
        margin_currency=contract.coin,
        venue_symbol=contract.venue_symbol,
        entry_price=entry,
        index_price=quote.index_price,
        contracts=contracts,
        contract_size_usd=contract.contract_size_usd,
        order_amount=_order_amount(contract, contracts),
        order_amount_unit=contract.order_amount_unit,
        order_step_coin=contract.order_step_coin,
        target_notional_usd=target_usd,
        notional_usd=notional,
        hedged_exposure_usd=hedged_usd,
        residual_usd=exposure_usd - hedged_usd,
        leverage=leverage,
        margin_coin=margin,
        coins_to_move=to_move,
        coins_kept=holding.quantity - min(to_move, own_coins),
        coins_missing=max(to_move - own_coins, _ZERO),
        maintenance_margin_rate=mmr,
        maintenance_schedule_known=bool(contract.margin_tiers or contract.margin_rate_per_coin),
        liquidation_price=liquidation,
        liquidation_distance_pct=(
            price_move_pct(quote.mark_price, liquidation) if liquidation is not None else None
        ),
        bankruptcy_price=bankruptcy_price(Side.SHORT, notional, entry, margin),
        max_leverage=_max_leverage(contract, tier, notional / entry),
        funding_rate=funding.rate if funding else None,
        funding_interval_hours=funding.interval_hours if funding else None,
        funding_interval_from_venue=funding.interval_from_venue if funding else True,
        funding_realised=funding.realised if funding else False,
        next_funding_time=funding.next_funding_after(now) if funding else None,
        predicted_funding_rate=funding.predicted_rate if funding else None,
        funding_per_interval_coin=funding_coin,
        funding_per_interval_usd=funding_usd,
        funding_per_day_usd=per_day_usd,
        funding_per_year_usd=per_year_usd,
        funding_apr_pct=apr_pct,
        days_to_expiry=days_to_expiry,
        basis_pct=basis_fraction * 100,
        basis_apr_pct=basis_apr_pct,
        locked_value_usd=locked_value_usd,
        fee_rate=contract.taker_fee_rate,
        fee_coin=fee_usd / entry,
        fee_usd=fee_usd,
        spread_pct=spread * 100 if spread is not None else None,
        spread_cost_usd=spread_cost_usd,
        volume_24h_usd=quote.volume_24h_usd,
        open_interest_usd=quote.open_interest_usd,
        carry_usd=carry_usd,
        net_carry_usd=(None if carry_usd is None else carry_usd - 2 * fee_usd - spread_cost_usd),
        quote_time=quote.timestamp,
        data_age_seconds=Decimal(str(max((now - quote.timestamp).total_seconds(), 0.0))),
        data_source=quote.source,
    )


def _why_it_cannot_open(leg: HedgeLeg) -> str | None:
    """Why a venue would refuse the short at the leverage asked for, or None."""
    if leg.max_leverage is not None and leg.leverage > leg.max_leverage:
        return f"allows at most {fmt.leverage(leg.max_leverage)} for this position"
    if leg.liquidation_price is not None and leg.liquidation_price <= leg.entry_price:
        return (
            f"would be liquidated at once: its maintenance margin "
            f"({fmt.pct(leg.maintenance_margin_rate * 100)}) is more than {fmt.leverage(leg.leverage)} posts"
        )
    return None


def _rank_key(leg: HedgeLeg) -> tuple[bool, Decimal, str, str]:
    """Known net carry first, highest first; unknown carry after, cheapest fees first."""
    if leg.net_carry_usd is None:
        return (True, leg.fee_usd, leg.venue, leg.symbol)
    return (False, -leg.net_carry_usd, leg.venue, leg.symbol)


def _carry_source(leg: HedgeLeg) -> str:
    if leg.kind is ContractKind.DATED and leg.basis_apr_pct is not None and leg.expiry:
        return (
            f"its {fmt.pct(leg.basis_pct or _ZERO, signed=True)} premium over the index, "
            f"{fmt.pct(leg.basis_apr_pct, signed=True)} a year, earned by {fmt.utc(leg.expiry)}"
        )
    if leg.funding_apr_pct is not None:
        direction = "paid to" if leg.funding_apr_pct >= 0 else "charged to"
        return (
            f"funding of {fmt.pct(leg.funding_apr_pct, signed=True)} a year {direction} the short"
        )
    return "no funding or basis data"


def ranking_reason(legs: Sequence[HedgeLeg], horizon_days: int) -> str:
    """Why the first leg is first, in one sentence with its numbers."""
    best = legs[0]
    name = f"{venue_name(best.venue)} {best.symbol}"
    if best.net_carry_usd is None:
        return (
            f"{name} comes first on fees alone ({fmt.usd(best.fee_usd)} to open): "
            "no funding or basis data to compare carry"
        )
    spread = (
        f" and {fmt.usd(best.spread_cost_usd)} of bid-ask spread" if best.spread_cost_usd else ""
    )
    reason = (
        f"{name} comes first: {fmt.usd(best.net_carry_usd, signed=True)} expected over "
        f"{horizon_days} days from {_carry_source(best)}, after opening and closing fees of "
        f"{fmt.usd(2 * best.fee_usd)}{spread}"
    )
    if len(legs) == 1:
        return reason + "; it is the only contract available"
    runner = legs[1]
    if runner.net_carry_usd is None:
        return reason + f"; {venue_name(runner.venue)} {runner.symbol} has no carry data"
    lead = best.net_carry_usd - runner.net_carry_usd
    reason += f"; {fmt.usd(lead)} more than {venue_name(runner.venue)} {runner.symbol}"
    if runner.spread_cost_usd - best.spread_cost_usd > lead:
        reason += ", whose wider spread decided it"
    return reason


def plan_hedge(
    holding: Holding,
    candidates: Sequence[MarketContract],
    now: datetime,
    settings: PlanSettings | None = None,
    *,
    cross_hedge: CrossHedgeFit | None = None,
    holding_price: Decimal | None = None,
    funding_history: Mapping[str, Sequence[Decimal]] | None = None,
) -> HedgePlan:
    """Plan the hedge of one holding on every candidate contract, best first.

    Candidates are contracts on the held coin, or on `cross_hedge.proxy_coin` for a cross hedge,
    which also needs `holding_price`, the held coin's USD price. `funding_history` maps a venue
    id to its past funding rates, for the note on how often funding turned against a short.
    """
    settings = settings or PlanSettings()
    if not candidates:
        raise PlanningError(f"no inverse contract to hedge {holding.coin} with")
    hedge_coin = holding.coin if cross_hedge is None else cross_hedge.proxy_coin
    strays = sorted({m.contract.symbol for m in candidates if m.contract.coin != hedge_coin})
    if strays:
        raise PlanningError(f"contracts {', '.join(strays)} do not settle in {hedge_coin}")
    extra_notes: list[RiskNote] = []
    if cross_hedge is not None:
        if cross_hedge.coin != holding.coin:
            raise PlanningError(
                f"the cross hedge fitted is for {cross_hedge.coin}, not {holding.coin}"
            )
        if cross_hedge.beta <= 0:
            raise PlanningError(
                f"{holding.coin} moved against {cross_hedge.proxy_coin} in the history "
                f"(beta {cross_hedge.beta}): a short {cross_hedge.proxy_coin} would add risk"
            )
        if holding_price is None:
            raise PlanningError(f"a cross hedge needs the USD price of {holding.coin}")
        if settings.leverage < CROSS_HEDGE_MIN_LEVERAGE:
            settings = settings.model_copy(update={"leverage": CROSS_HEDGE_MIN_LEVERAGE})
            extra_notes.append(
                RiskNote(
                    kind=RiskKind.CROSS_HEDGE,
                    text=(
                        f"Planned at {CROSS_HEDGE_MIN_LEVERAGE}x, not 1x: the {cross_hedge.proxy_coin} "
                        f"posted as margin is itself long {cross_hedge.proxy_coin}, so at 1x it "
                        "cancels the short and nothing is hedged."
                    ),
                )
            )
    spot_price = holding_price or statistics.median(m.quote.index_price for m in candidates)
    legs = [plan_leg(holding, m, settings, now, spot_price, cross_hedge) for m in candidates]
    verdicts = [(leg, _why_it_cannot_open(leg)) for leg in legs]
    refused = [(leg, why) for leg, why in verdicts if why is not None]
    if legs and len(refused) == len(legs):
        raise PlanningError(
            f"{fmt.leverage(settings.leverage)} is too much leverage for {holding.coin} here: "
            + "; ".join(f"{venue_name(leg.venue)} {leg.symbol} {why}" for leg, why in refused[:3])
        )
    extra_notes += [
        RiskNote(
            kind=RiskKind.MARGIN,
            text=f"{venue_name(leg.venue)} {leg.symbol} left out: it {why}.",
        )
        for leg, why in refused
    ]
    legs = [leg for leg, why in verdicts if why is None]
    tradable = sorted((leg for leg in legs if leg.contracts > 0), key=_rank_key)
    if not tradable:
        smallest = min(legs, key=lambda leg: leg.contract_size_usd)
        raise PlanningError(
            # As typed: rounded to the display's 8 decimals a dust quantity would read "0 BTC".
            f"{holding.quantity.normalize():f} {holding.coin} at {fmt.number(settings.hedge_ratio * 100, 0)}% "
            f"is less than half a contract even on {venue_name(smallest.venue)} "
            f"({fmt.usd(smallest.contract_size_usd)} a contract)"
        )
    for leg in legs:
        if leg.contracts == 0:
            extra_notes.append(
                RiskNote(
                    kind=RiskKind.ROUNDING,
                    text=(
                        f"{venue_name(leg.venue)} {leg.symbol} left out: the hedge is less than half "
                        f"of one {fmt.usd(leg.contract_size_usd)} contract."
                    ),
                )
            )
    notes = risk_notes(holding, tradable, cross_hedge, funding_history or {}) + tuple(extra_notes)
    return HedgePlan(
        holding=holding,
        spot_price=spot_price,
        value_usd=holding.quantity * spot_price,
        hedge_ratio=settings.hedge_ratio,
        leverage=settings.leverage,
        horizon_days=settings.horizon_days,
        cross_hedge=cross_hedge,
        legs=tuple(tradable),
        ranking_reason=ranking_reason(tradable, settings.horizon_days),
        notes=notes,
        as_of=now,
    )


def leverage_table(
    plan: HedgePlan,
    market: MarketContract,
    leverages: Sequence[Decimal] = LEVERAGE_TABLE,
) -> tuple[LeverageRow, ...]:
    """Margin, custody and liquidation of the plan's hedge on `market` at several leverages."""
    rows = []
    for leverage in leverages:
        if plan.cross_hedge is not None and leverage < CROSS_HEDGE_MIN_LEVERAGE:
            continue
        settings = PlanSettings(
            hedge_ratio=plan.hedge_ratio, leverage=leverage, horizon_days=plan.horizon_days
        )
        leg = plan_leg(
            plan.holding, market, settings, plan.as_of, plan.spot_price, plan.cross_hedge
        )
        rows.append(
            LeverageRow(
                leverage=leverage,
                margin_coin=leg.margin_coin,
                coins_kept=leg.coins_kept,
                coins_missing=leg.coins_missing,
                liquidation_price=leg.liquidation_price,
                liquidation_distance_pct=leg.liquidation_distance_pct,
            )
        )
    return tuple(rows)


def summarise_portfolio(plans: Sequence[HedgePlan]) -> PortfolioPlan:
    """Totals over several holdings' plans, each hedged with its best leg."""
    if not plans:
        raise PlanningError("no holdings to hedge")
    best = [plan.best for plan in plans]
    return PortfolioPlan(
        plans=tuple(plans),
        value_usd=sum((plan.value_usd for plan in plans), _ZERO),
        hedged_exposure_usd=sum((leg.hedged_exposure_usd for leg in best), _ZERO),
        residual_usd=sum((leg.residual_usd for leg in best), _ZERO),
        funding_per_year_usd=sum((leg.funding_per_year_usd or _ZERO for leg in best), _ZERO),
        fee_usd=sum((leg.fee_usd for leg in best), _ZERO),
    )
