"""The sentences both renderers say about a hedge leg, so the terminal, the CLI and Telegram
word a plan alike. `strong` marks the figure to act on (bold in Telegram, nothing in text)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hedgecore import fmt
from hedgecore.models import ContractKind, HedgeLeg

Emphasis = Callable[[str], str]


def plain(text: str) -> str:
    """No emphasis: for terminal text."""
    return text


def contract_kind(leg: HedgeLeg) -> str:
    """'perpetual', or 'future, expires 2025-06-27 08:00 UTC'."""
    if leg.kind is ContractKind.PERPETUAL or leg.expiry is None:
        return "perpetual" if leg.kind is ContractKind.PERPETUAL else "future"
    return f"future, expires {fmt.utc(leg.expiry)}"


def order(leg: HedgeLeg, strong: Emphasis = plain) -> str:
    """What to type into the venue's order form: contracts, or USD or coins where the venue
    takes those."""
    if leg.order_step_coin is not None:
        return (
            f"sell {strong(fmt.coin(leg.order_amount, leg.margin_currency))} "
            f"(in steps of {fmt.coin(leg.order_step_coin, leg.margin_currency)})"
        )
    if leg.order_amount_unit == "usd":
        return (
            f"sell {strong(fmt.number(leg.order_amount, 0) + ' USD')} "
            f"({leg.contracts:,} contracts of {fmt.usd(leg.contract_size_usd)})"
        )
    return f"sell {strong(f'{leg.contracts:,} contracts')} of {fmt.usd(leg.contract_size_usd)}"


def short_size(leg: HedgeLeg) -> str:
    """The short's size as its venue counts it: '112,399 contracts', or '1.199 BTC'."""
    if leg.order_step_coin is not None:
        return fmt.coin(leg.order_amount, leg.margin_currency)
    return f"{leg.contracts:,} contracts"


def order_unit(leg: HedgeLeg) -> str:
    """What the short is counted in: 'contracts of 100 USD', or 'steps of 0.001 BTC'."""
    if leg.order_step_coin is not None:
        return f"steps of {fmt.coin(leg.order_step_coin, leg.margin_currency)}"
    return f"contracts of {fmt.usd(leg.contract_size_usd)}"


def liquidation(price: Decimal | None, distance_pct: Decimal | None) -> str:
    """Where the short is liquidated and how far away, or that it cannot be."""
    if price is None or distance_pct is None:
        return "none (fully collateralised)"
    return fmt.price_and_move(price, distance_pct)


def interval(hours: Decimal, from_venue: bool) -> str:
    """'8h', or '8h (assumed)' where the venue did not say and its usual interval is taken."""
    return fmt.hours(hours) if from_venue else f"{fmt.hours(hours)} (assumed)"


def funding(leg: HedgeLeg, strong: Emphasis = plain) -> str | None:
    """What funding pays or costs the short per interval, a day and a year; None when unknown."""
    if (
        leg.funding_rate is None
        or leg.funding_interval_hours is None
        or leg.funding_per_interval_usd is None
        or leg.funding_per_day_usd is None
        or leg.funding_apr_pct is None
    ):
        return None
    verb = "receive" if leg.funding_rate >= 0 else "pay"
    per = fmt.hours(leg.funding_interval_hours)
    every = interval(leg.funding_interval_hours, leg.funding_interval_from_venue)
    realised = " (realised last 8h)" if leg.funding_realised else ""
    return (
        f"{fmt.rate(leg.funding_rate)} per {every}{realised}: you {strong(verb)} "
        f"{fmt.usd(abs(leg.funding_per_interval_usd))} per {per}, "
        f"{fmt.usd(abs(leg.funding_per_day_usd))} a day, {fmt.pct(leg.funding_apr_pct, signed=True)} a year"
    )


def liquidity(leg: HedgeLeg) -> str:
    """'spread 0.0021% (1.80 USD to cross), 24h volume 288M USD, open interest 1.07B USD'."""
    spread = (
        f"spread {fmt.pct(leg.spread_pct, 4)} ({fmt.usd(leg.spread_cost_usd)} to cross)"
        if leg.spread_pct is not None
        else "spread not known"
    )
    volume = f"24h volume {fmt.usd_large(leg.volume_24h_usd)}" if leg.volume_24h_usd else ""
    interest = (
        f"open interest {fmt.usd_large(leg.open_interest_usd)}" if leg.open_interest_usd else ""
    )
    return ", ".join(part for part in (spread, volume, interest) if part)


def quote_age(leg: HedgeLeg) -> str:
    """How old the leg's quote is."""
    return fmt.quote_age(leg.data_source, leg.quote_time, leg.data_age_seconds)
