"""Inverse-contract arithmetic in exact decimals.

An inverse contract is worth a fixed number of USD and is margined and settled in the coin.
`notional_usd` is contracts x contract size; prices are USD per coin; results in coin unless the
name says `_usd`. Formulas and their sources: shared/reference/inverse-futures.md, sections 1 and 4.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from hedgecore.models import Side

DAYS_PER_YEAR = Decimal(365)
HOURS_PER_DAY = Decimal(24)
_ZERO = Decimal(0)
_ONE = Decimal(1)


def pnl_coin(
    side: Side, notional_usd: Decimal, entry_price: Decimal, exit_price: Decimal
) -> Decimal:
    """Profit in coin of a position of `notional_usd` from entry to exit: long N(1/E - 1/X)."""
    # One division instead of two keeps results such as 1.25 exact.
    return side.sign * notional_usd * (exit_price - entry_price) / (entry_price * exit_price)


def pnl_usd(
    side: Side, notional_usd: Decimal, entry_price: Decimal, exit_price: Decimal
) -> Decimal:
    """Profit in USD at the exit price: long N(X/E - 1), linear in the exit price."""
    return pnl_coin(side, notional_usd, entry_price, exit_price) * exit_price


def average_entry_price(fills: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Average entry of (notional_usd, price) fills: the harmonic mean weighted by notional."""
    total_usd = _ZERO
    total_coin = _ZERO
    for notional_usd, price in fills:
        total_usd += notional_usd
        total_coin += notional_usd / price
    if total_coin == 0:
        raise ValueError("no fills to average")
    return total_usd / total_coin


def position_value_coin(notional_usd: Decimal, price: Decimal) -> Decimal:
    """Value in coin of a position of `notional_usd` at `price`."""
    return notional_usd / price


def initial_margin_coin(notional_usd: Decimal, price: Decimal, leverage: Decimal) -> Decimal:
    """Coin to post to open `notional_usd` at `leverage`."""
    return notional_usd / (price * leverage)


def maintenance_margin_coin(
    notional_usd: Decimal, mark_price: Decimal, mmr: Decimal, deduction_coin: Decimal = _ZERO
) -> Decimal:
    """Coin the position must keep as margin at `mark_price`: value x MMR - deduction."""
    return notional_usd / mark_price * mmr - deduction_coin


def liquidation_price(
    side: Side,
    notional_usd: Decimal,
    entry_price: Decimal,
    margin_coin: Decimal,
    mmr: Decimal,
    deduction_coin: Decimal = _ZERO,
    mmr_per_coin: Decimal = _ZERO,
) -> Decimal | None:
    """Isolated-margin liquidation price, or None when the position cannot be liquidated.

    Equity m + side*N(1/E - 1/P) meets maintenance N*MMR/P - d. A short whose margin covers its
    whole value (1x, coins as collateral) never reaches it: the denominator is not positive.
    Where the rate grows with the position, MMR = mmr + k*N/P (Deribit), the condition is a
    quadratic in u = 1/P: k N^2 u^2 + (side's) N(1 -/+ mmr) u ... solved for the root nearest
    the entry, in the form that stays exact as k goes to 0.
    """
    n, k = notional_usd, mmr_per_coin
    if side is Side.LONG:
        # k N^2 u^2 + N(1 + mmr) u - C = 0 with C = m + d + N/E
        c = margin_coin + deduction_coin + n / entry_price
        b = n * (_ONE + mmr)
        if not k:  # linear in u: the root is b / c (no square root to take)
            return b / c
        return (b + (b * b + 4 * k * n * n * c).sqrt()) / (2 * c)
    # k N^2 u^2 - N(1 - mmr) u + D = 0 with D = N/E - m - d
    d = n / entry_price - margin_coin - deduction_coin
    if d <= 0:
        return None
    b = n * (_ONE - mmr)
    if not k:
        return b / d
    discriminant = b * b - 4 * k * n * n * d
    if discriminant < 0:  # below maintenance at every price: liquidated as it opens
        return entry_price
    return (b + discriminant.sqrt()) / (2 * d)


def bankruptcy_price(
    side: Side, notional_usd: Decimal, entry_price: Decimal, margin_coin: Decimal
) -> Decimal | None:
    """Price at which the isolated margin is exactly used up, or None if it never is."""
    return liquidation_price(side, notional_usd, entry_price, margin_coin, _ZERO)


def price_move_pct(from_price: Decimal, to_price: Decimal) -> Decimal:
    """Percent change from one price to another."""
    return (to_price / from_price - _ONE) * 100


def funding_received_coin(
    side: Side, notional_usd: Decimal, mark_price: Decimal, rate: Decimal
) -> Decimal:
    """Coin received (negative: paid) at one funding time. Positive rates: longs pay shorts."""
    return -side.sign * notional_usd / mark_price * rate


def intervals_per_day(interval_hours: Decimal) -> Decimal:
    """Funding intervals in a day."""
    return HOURS_PER_DAY / interval_hours


def annualise_rate(rate_per_interval: Decimal, interval_hours: Decimal) -> Decimal:
    """Simple (not compounded) yearly rate of a per-interval funding rate."""
    return rate_per_interval * intervals_per_day(interval_hours) * DAYS_PER_YEAR


def rate_per_8h(rate_per_interval: Decimal, interval_hours: Decimal) -> Decimal:
    """A funding rate restated per 8 hours, the interval most venues quote."""
    return rate_per_interval * Decimal(8) / interval_hours


def basis(futures_price: Decimal, spot_price: Decimal) -> Decimal:
    """Premium of a futures price over spot, as a fraction: F/S - 1."""
    return futures_price / spot_price - _ONE


def annualise_basis(basis_fraction: Decimal, days_to_expiry: Decimal) -> Decimal:
    """Simple yearly rate of a basis earned over `days_to_expiry`."""
    return basis_fraction * DAYS_PER_YEAR / days_to_expiry


def hedged_value_usd(
    coins: Decimal,
    short_notional_usd: Decimal,
    entry_price: Decimal,
    spot_price: Decimal,
    contract_price: Decimal | None = None,
) -> Decimal:
    """USD value of `coins` plus an inverse short, when spot and the contract are at these prices.

    With `short_notional_usd = coins * entry_price` the value is flat at `coins * entry_price`
    while the contract tracks spot; a dated short converges to it at expiry.
    """
    mark = spot_price if contract_price is None else contract_price
    short_pnl = pnl_coin(Side.SHORT, short_notional_usd, entry_price, mark)
    return spot_price * (coins + short_pnl)
