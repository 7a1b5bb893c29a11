"""Risk notes: what can go wrong with a plan, in plain words with the plan's own numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from hedgecore import fmt, wording
from hedgecore.inverse import (
    annualise_rate,
    initial_margin_coin,
    liquidation_price,
    price_move_pct,
)
from hedgecore.models import (
    ContractKind,
    CrossHedgeFit,
    DataSource,
    HedgeLeg,
    Holding,
    RiskKind,
    RiskNote,
    Side,
)
from hedgecore.venues import venue_name

ROUNDING_NOTE_MIN_PCT = Decimal("0.01")  # below this the residual is noise, still shown in the plan


def _note(kind: RiskKind, text: str) -> RiskNote:
    return RiskNote(kind=kind, text=text)


def liquidation_note(
    holding: Holding, leg: HedgeLeg, cross_hedge: CrossHedgeFit | None
) -> RiskNote:
    """Where the short is liquidated and what is left unhedged then, or why it cannot be."""
    venue = venue_name(leg.venue)
    if leg.liquidation_price is None or leg.liquidation_distance_pct is None:
        wear = (
            "only funding paid out of the margin can wear it down"
            if leg.kind is ContractKind.PERPETUAL
            else "a dated future pays no funding, so nothing wears the margin down"
        )
        return _note(
            RiskKind.LIQUIDATION,
            f"At {fmt.leverage(leg.leverage)} with your coins as collateral the short on {venue} "
            f"cannot be liquidated: {wear}.",
        )
    remainder = (
        f"your {fmt.coin(holding.quantity, holding.coin)} are unhedged from there"
        if cross_hedge is not None
        else f"the {fmt.coin(leg.coins_kept, holding.coin)} you keep are unhedged from there"
    )
    schedule = (
        ""
        if leg.maintenance_schedule_known
        else f" This uses a flat {fmt.pct(leg.maintenance_margin_rate * 100)} maintenance rate "
        f"({venue}'s margin tiers were not available): larger positions pay a higher one, so a "
        "large short liquidates sooner."
    )
    return _note(
        RiskKind.LIQUIDATION,
        f"At {fmt.leverage(leg.leverage)} the short on {venue} is liquidated "
        f"if {leg.margin_currency} rises {fmt.pct(leg.liquidation_distance_pct)} to "
        f"{fmt.price(leg.liquidation_price)} (mark price): the {fmt.coin(leg.margin_coin, leg.margin_currency)} "
        f"posted is lost and {remainder}.{schedule} {_further_away(leg, cross_hedge)} A stop-loss "
        "on the short would close the hedge exactly when the price rises and leave the coins "
        "unhedged: add margin as the price nears liquidation instead.",
    )


def _further_away(leg: HedgeLeg, cross_hedge: CrossHedgeFit | None) -> str:
    """What less leverage (more margin posted) does to the liquidation price."""
    lower = Decimal(2) if leg.leverage > 2 else Decimal(1)
    if (cross_hedge is not None and lower < 2) or lower >= leg.leverage:
        return "More margin posted moves it further away."
    if lower == 1:
        return "At 1x, with every coin posted, it could not be liquidated at all."
    margin = initial_margin_coin(leg.notional_usd, leg.entry_price, lower)
    price = liquidation_price(
        Side.SHORT, leg.notional_usd, leg.entry_price, margin, leg.maintenance_margin_rate
    )
    if price is None:
        return f"At {fmt.leverage(lower)} it could not be liquidated."
    return (
        f"At {fmt.leverage(lower)} ({fmt.coin(margin, leg.margin_currency)} posted) it would be "
        f"near {fmt.price(price)}, {fmt.pct(price_move_pct(leg.entry_price, price))} away."
    )


def margin_notes(
    holding: Holding, leg: HedgeLeg, cross_hedge: CrossHedgeFit | None
) -> list[RiskNote]:
    """Margin the holding cannot cover."""
    notes = []
    if leg.coins_missing > 0:
        if cross_hedge is None:
            text = (
                f"Posting {fmt.coin(leg.margin_coin, leg.margin_currency)} at {fmt.leverage(leg.leverage)} "
                f"and the opening fee needs {fmt.coin(leg.coins_missing, leg.margin_currency)} more than "
                "you hold: raise the leverage or lower the hedge ratio."
            )
        else:
            text = (
                f"You need {fmt.coin(leg.coins_to_move, leg.margin_currency)} "
                f"(about {fmt.usd(leg.coins_to_move * leg.entry_price)}) on {venue_name(leg.venue)} "
                "for margin and the opening fee: "
                f"buy or transfer it; your {holding.coin} stays with you."
            )
        notes.append(_note(RiskKind.MARGIN, text))
    return notes


def funding_note(
    leg: HedgeLeg, history: Sequence[Decimal], compared: bool = False
) -> RiskNote | None:
    """Who pays whom on this perpetual, how much, and how often it went against a short.

    `compared`: the plan's own leg is a dated future, which pays no funding; the note then
    names this perpetual as what the plan is compared with.
    """
    if (
        leg.funding_rate is None
        or leg.funding_interval_hours is None
        or leg.funding_per_interval_usd is None
        or leg.funding_per_year_usd is None
        or leg.funding_apr_pct is None
    ):
        return None
    venue = venue_name(leg.venue)
    every = fmt.hours(leg.funding_interval_hours)
    short = "a short there" if compared else "this hedge"
    if leg.funding_rate > 0:
        flow = (
            f"longs pay shorts, so {short} receives {fmt.usd(leg.funding_per_interval_usd)} "
            f"every {every}, {fmt.usd(leg.funding_per_year_usd)} a year "
            f"({fmt.pct(leg.funding_apr_pct, signed=True)} APR) at this rate"
        )
    elif leg.funding_rate < 0:
        flow = (
            f"shorts pay longs, so {short} pays {fmt.usd(-leg.funding_per_interval_usd)} "
            f"every {every}, {fmt.usd(-leg.funding_per_year_usd)} a year "
            f"({fmt.pct(leg.funding_apr_pct, signed=True)} APR) at this rate"
        )
    else:
        flow = "nobody pays at this rate"
    text = f"Funding on {venue} is {fmt.rate(leg.funding_rate)} per {every}: {flow}. It resets every interval."
    if compared:
        text = (
            f"A dated future pays no funding. Compared with the perpetual {venue} {leg.symbol}: "
            + text[0].lower()
            + text[1:]
        )
    if leg.funding_realised:
        text += f" {venue}'s figure is the funding realised over the last 8h, not a forecast."
    if leg.predicted_funding_rate is not None:
        text += f" Predicted next: {fmt.rate(leg.predicted_funding_rate)}."
    if history:
        against = sum(1 for rate in history if rate < 0)
        share = Decimal(against) * 100 / len(history)
        mean = sum(history, Decimal(0)) / len(history)
        mean_apr = annualise_rate(mean, leg.funding_interval_hours) * 100
        text += (
            f" Over the {len(history)} intervals of history given it paid a short "
            f"{fmt.pct(mean_apr, signed=True)} a year on average and cost it "
            f"{fmt.count(against, 'time')} ({fmt.pct(share, 0)})."
        )
    text += (
        " Positive funding is the short's income, so a hedge gains from high funding: the advice "
        "to hedge only when funding is low or negative gets it backwards."
    )
    return _note(RiskKind.FUNDING, text)


def basis_notes(legs: Sequence[HedgeLeg]) -> list[RiskNote]:
    """The perpetual's premium to the index, and what a dated short locks in instead."""
    best = legs[0]
    notes = []
    if best.kind is ContractKind.PERPETUAL and best.basis_pct:
        notes.append(
            _note(
                RiskKind.BASIS,
                f"The perpetual on {venue_name(best.venue)} trades "
                f"{fmt.pct(best.basis_pct, 3, signed=True)} against the index"
                + (
                    f" and {fmt.pct(best.spread_pct, 4)} between bid and ask"
                    if best.spread_pct is not None
                    else ""
                )
                + ": the hedge follows the perpetual, so that gap moves your USD value a little.",
            )
        )
    dated = [leg for leg in legs if leg.kind is ContractKind.DATED]
    for leg in dated[:1]:
        if leg.expiry is None or leg.days_to_expiry is None or leg.basis_apr_pct is None:
            continue
        locks = (
            f"locks {fmt.usd(leg.locked_value_usd)} at expiry "
            if leg.locked_value_usd is not None
            else ""
        )
        lead = "The dated short" if leg is best else "A dated short instead"
        notes.append(
            _note(
                RiskKind.BASIS,
                f"{lead}: {venue_name(leg.venue)} {leg.symbol} at {fmt.price(leg.entry_price)} "
                f"{locks}({fmt.utc(leg.expiry)}, {fmt.number(leg.days_to_expiry, 0)} days), "
                f"{fmt.pct(leg.basis_pct or Decimal(0), signed=True)} over the index, "
                f"{fmt.pct(leg.basis_apr_pct, signed=True)} a year. Until expiry its value moves "
                "with the basis; after it the hedge must be rolled.",
            )
        )
    return notes


def custody_note(holding: Holding, leg: HedgeLeg, cross_hedge: CrossHedgeFit | None) -> RiskNote:
    """Coins posted as margin sit with the venue: counterparty risk."""
    kept = fmt.coin(leg.coins_kept, holding.coin)
    return _note(
        RiskKind.CUSTODY,
        f"The {fmt.coin(leg.margin_coin, leg.margin_currency)} posted as margin sits with "
        f"{venue_name(leg.venue)}: if the venue fails or freezes withdrawals, the hedge and those "
        f"coins go with it. {kept} stay in your own custody. A futures hedge is not free of "
        "counterparty risk, whatever some guides say.",
    )


def rounding_note(leg: HedgeLeg) -> RiskNote | None:
    """What rounding to whole contracts leaves unhedged (or over-hedged)."""
    if leg.residual_usd == 0:
        return None
    share = abs(leg.residual_usd) * 100 / leg.target_notional_usd
    if share < ROUNDING_NOTE_MIN_PCT:
        return None
    what = "unhedged" if leg.residual_usd > 0 else "over-hedged (a small short position)"
    return _note(
        RiskKind.ROUNDING,
        f"Whole {wording.order_unit(leg)} leave {fmt.usd(abs(leg.residual_usd))} "
        f"{what}, {fmt.pct(share, 3)} of the hedge.",
    )


def cross_hedge_note(cross_hedge: CrossHedgeFit) -> RiskNote:
    """How good the proxy is, from the fit."""
    removed = cross_hedge.r_squared * 100
    return _note(
        RiskKind.CROSS_HEDGE,
        f"{cross_hedge.coin} is hedged with {cross_hedge.proxy_coin}: beta {cross_hedge.beta}, "
        f"correlation {cross_hedge.correlation}, from {cross_hedge.observations} returns. The hedge "
        f"removes about {fmt.pct(removed, 0)} of the variance and {fmt.pct(100 - removed, 0)} "
        "remains; beta drifts, so re-fit and rebalance.",
    )


def data_age_note(leg: HedgeLeg) -> RiskNote:
    """Where the prices behind the plan came from and how old they are."""
    venue = venue_name(leg.venue)
    if leg.data_source is DataSource.MANUAL:
        text = "Prices are the ones given to the calculator: no market data was fetched."
    elif leg.data_source.recorded:
        text = f"Prices from {venue} come from an offline snapshot (quoted {fmt.utc(leg.quote_time)}): not live data."
    else:
        text = f"Prices from {venue} are {fmt.age(leg.data_age_seconds)} old ({fmt.utc(leg.quote_time)})."
    return _note(RiskKind.DATA_AGE, text)


# A spread this wide (of the mid price) is worth a warning: a liquid coin-margined perpetual
# quotes a few hundredths of a percent.
WIDE_SPREAD_PCT = Decimal("0.1")
# An order this large a share of a day's volume or of the open interest moves the price.
NOTICEABLE_SHARE_PCT = Decimal(1)


def liquidity_note(leg: HedgeLeg) -> RiskNote | None:
    """A wide spread and what crossing it costs, or an order large against the contract's
    volume or open interest; None when the contract is liquid for this order."""
    name = f"{venue_name(leg.venue)} {leg.symbol}"
    said = []
    if leg.spread_pct is not None and leg.spread_pct >= WIDE_SPREAD_PCT:
        said.append(
            f"The bid-ask spread of {name} is {fmt.pct(leg.spread_pct, 3)}: crossing it to open "
            f"and again to close costs about {fmt.usd(leg.spread_cost_usd)}."
        )
    for what, total in (
        ("a day's volume", leg.volume_24h_usd),
        ("the open interest", leg.open_interest_usd),
    ):
        if total:
            share = leg.notional_usd / total * 100
            if share >= NOTICEABLE_SHARE_PCT:
                said.append(
                    f"The order is {fmt.pct(share, 1)} of {what} on {name} ({fmt.usd_large(total)}): "
                    "it will move the price; split it over time."
                )
    if not said:
        return None
    return _note(RiskKind.LIQUIDITY, " ".join([*said, "Use limit orders near the bid."]))


def risk_notes(
    holding: Holding,
    legs: Sequence[HedgeLeg],
    cross_hedge: CrossHedgeFit | None,
    funding_history: Mapping[str, Sequence[Decimal]],
) -> tuple[RiskNote, ...]:
    """Every risk note for a plan whose legs are ranked best first."""
    best = legs[0]
    notes = [
        liquidation_note(holding, best, cross_hedge),
        *margin_notes(holding, best, cross_hedge),
    ]
    perpetual = next((leg for leg in legs if leg.kind is ContractKind.PERPETUAL), None)
    if perpetual is not None:
        funding = funding_note(
            perpetual,
            funding_history.get(perpetual.venue, ()),
            compared=best.kind is ContractKind.DATED,
        )
        if funding is not None:
            notes.append(funding)
    notes += basis_notes(legs)
    liquidity = liquidity_note(best)
    if liquidity is not None:
        notes.append(liquidity)
    notes.append(custody_note(holding, best, cross_hedge))
    rounding = rounding_note(best)
    if rounding is not None:
        notes.append(rounding)
    if cross_hedge is not None:
        notes.append(cross_hedge_note(cross_hedge))
    notes.append(data_age_note(best))
    return tuple(notes)
