"""Inverse arithmetic against the exchanges' published worked examples and the hedging identities.

Vector ids (TV-n, H-n) are those of shared/reference/inverse-futures.md, section 3.
"""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgecore.inverse import (
    annualise_basis,
    annualise_rate,
    average_entry_price,
    bankruptcy_price,
    basis,
    funding_received_coin,
    hedged_value_usd,
    initial_margin_coin,
    liquidation_price,
    maintenance_margin_coin,
    pnl_coin,
    pnl_usd,
    position_value_coin,
    rate_per_8h,
)
from hedgecore.models import Side

prices = st.decimals(min_value=D("0.01"), max_value=D(1_000_000), places=2)
quantities = st.decimals(min_value=D("0.0001"), max_value=D(100_000), places=4)
rates = st.decimals(min_value=D("-0.01"), max_value=D("0.01"), places=6)
TOLERANCE = D("1e-18")


def test_tv1_bybit_long_unrealised_pnl() -> None:
    # Bybit: long 1,000 contracts (1 USD) at 5,000, last 5,500: published 0.01819 BTC.
    assert pnl_coin(Side.LONG, D(1000), D(5000), D(5500)) == pytest.approx(
        D("0.01819"), abs=D("1e-5")
    )


def test_tv3_bybit_inverse_contract_round_trip() -> None:
    # Bybit: 10,000 contracts bought at 23,000 (~0.435 BTC in), closed at 25,000 (0.4 BTC out).
    assert position_value_coin(D(10000), D(23000)) == pytest.approx(D("0.435"), abs=D("5e-4"))
    assert position_value_coin(D(10000), D(25000)) == D("0.4")
    assert pnl_coin(Side.LONG, D(10000), D(23000), D(25000)) == pytest.approx(
        D("0.035"), abs=D("5e-4")
    )


def test_tv6_binance_coinm_maintenance_margin() -> None:
    # Binance COIN-M: 100 BTCUSD contracts of 100 USD at mark 25,000, level 1 MMR 0.4 %.
    notional = 100 * D(100)
    assert position_value_coin(notional, D(25000)) == D("0.4")
    assert maintenance_margin_coin(notional, D(25000), D("0.004")) == D("0.0016")


def test_tv8_bitmex_funding_and_pnl() -> None:
    # BitMEX: long 15,000 XBTUSD at 750, funding 0.25 % paid by the long, closed at 800.
    assert position_value_coin(D(15000), D(750)) == D(20)
    funding = funding_received_coin(Side.LONG, D(15000), D(750), D("0.0025"))
    assert funding == D("-0.05")
    profit = pnl_coin(Side.LONG, D(15000), D(750), D(800))
    assert profit == D("1.25")
    assert profit + funding == D("1.2")


@pytest.mark.parametrize(
    ("entry", "exit", "published", "tolerance"),
    [
        (D(5000), D(6000), D("0.33"), D("0.0034")),  # BTC, published to 2 decimals
        (D(800), D(900), D("1.38"), D("0.01")),  # ETH, published truncated
        (D(90), D(95), D("5.848"), D("0.0005")),  # LTC
        (D("0.25"), D("0.30"), D(6667), D("0.5")),  # XRP
        (D(75000), D(76000), D("0.00175"), D("0.000005")),  # BTC, newer page
        (D(1800), D(1900), D("0.2924"), D("0.00005")),  # ETH, newer page
    ],
)
def test_tv10_kraken_long_pnl(entry: D, exit: D, published: D, tolerance: D) -> None:
    # Crypto Facilities / Kraken: 10,000 contracts of 1 USD.
    assert pnl_coin(Side.LONG, D(10000), entry, exit) == pytest.approx(published, abs=tolerance)


def test_tv14_bybit_position_value() -> None:
    # Bybit: 20,000 contracts at 10,000 and 70,000 contracts at 35,000 are both 2 BTC.
    assert position_value_coin(D(20000), D(10000)) == D(2)
    assert position_value_coin(D(70000), D(35000)) == D(2)


@pytest.mark.parametrize(
    ("exit", "short_pnl", "coins"),
    [(D(40000), D("0.25"), D("1.25")), (D(62500), D("-0.2"), D("0.8"))],
)
def test_h1_one_x_short_locks_usd_value(exit: D, short_pnl: D, coins: D) -> None:
    assert pnl_coin(Side.SHORT, D(50000), D(50000), exit) == short_pnl
    assert D(1) + short_pnl == coins
    assert hedged_value_usd(D(1), D(50000), D(50000), exit) == D(50000)


def test_h2_dated_short_locks_futures_price() -> None:
    at_expiry = D(40000)
    assert hedged_value_usd(D(1), D(51000), D(51000), at_expiry) == D(51000)
    assert D(1) + pnl_coin(Side.SHORT, D(51000), D(51000), at_expiry) == D("1.275")
    # Sized at spot instead of at the future's price, a residual long of 1 - 50/51 BTC is left.
    undersized = hedged_value_usd(D(1), D(50000), D(51000), at_expiry)
    assert undersized == pytest.approx(D("50784.31"), abs=D("0.005"))


def test_h3_funding_received_by_short() -> None:
    per_interval = funding_received_coin(Side.SHORT, D(50000), D(50000), D("0.0001"))
    assert per_interval == D("0.0001")
    assert per_interval * D(50000) == D(5)
    assert annualise_rate(D("0.0001"), D(8)) == D("0.1095")


def test_harmonic_average_entry() -> None:
    # Bybit: average entry = total quantity / total value in coin.
    assert average_entry_price([(D(10000), D(10000)), (D(10000), D(20000))]) == pytest.approx(
        D("13333.3333"), abs=D("0.0001")
    )
    with pytest.raises(ValueError, match="no fills"):
        average_entry_price([])


def test_margins_and_liquidation_closed_forms() -> None:
    entry, leverage, mmr = D(50000), D(10), D("0.005")
    notional = D(100000)
    margin = initial_margin_coin(notional, entry, leverage)
    assert margin == D("0.2")
    short = liquidation_price(Side.SHORT, notional, entry, margin, mmr)
    assert short == pytest.approx(entry * (1 - mmr) * leverage / (leverage - 1), abs=TOLERANCE)
    long = liquidation_price(Side.LONG, notional, entry, margin, mmr)
    assert long == pytest.approx(entry * (1 + mmr) * leverage / (leverage + 1), abs=TOLERANCE)
    assert bankruptcy_price(Side.SHORT, notional, entry, margin) == pytest.approx(
        entry * leverage / (leverage - 1), abs=TOLERANCE
    )
    assert bankruptcy_price(Side.LONG, notional, entry, margin) == pytest.approx(
        entry * leverage / (leverage + 1), abs=TOLERANCE
    )


def test_fully_collateralised_short_cannot_be_liquidated() -> None:
    margin = initial_margin_coin(D(60000), D(60000), D(1))
    assert liquidation_price(Side.SHORT, D(60000), D(60000), margin, D("0.005")) is None
    assert bankruptcy_price(Side.SHORT, D(60000), D(60000), margin) is None


def test_basis_and_rate_conversions() -> None:
    assert basis(D(61500), D(60000)) == D("0.025")
    assert annualise_basis(D("0.025"), D(73)) == D("0.125")
    assert rate_per_8h(D("0.00001"), D(1)) == D("0.00008")
    assert pnl_usd(Side.SHORT, D(50000), D(50000), D(40000)) == D(10000)


@given(quantity=quantities, entry=prices, price=prices)
def test_one_x_coin_collateralised_short_is_flat_in_usd(quantity: D, entry: D, price: D) -> None:
    value = hedged_value_usd(quantity, quantity * entry, entry, price)
    assert abs(value - quantity * entry) <= quantity * entry * TOLERANCE


@given(quantity=quantities, futures=prices, settlement=prices)
def test_dated_short_locks_quantity_times_futures_price(
    quantity: D, futures: D, settlement: D
) -> None:
    value = hedged_value_usd(
        quantity, quantity * futures, futures, settlement, contract_price=settlement
    )
    assert abs(value - quantity * futures) <= quantity * futures * TOLERANCE


@given(
    entry=prices,
    mmr=st.decimals(min_value=D(0), max_value=D("0.005"), places=4),
    leverages=st.lists(
        st.integers(min_value=2, max_value=100), min_size=2, max_size=2, unique=True
    ),
)
def test_short_liquidation_moves_toward_entry_as_leverage_rises(
    entry: D, mmr: D, leverages: list[int]
) -> None:
    low, high = sorted(D(x) for x in leverages)
    notional = D(10000)

    def liquidation_at(leverage: D) -> D:
        price = liquidation_price(
            Side.SHORT, notional, entry, initial_margin_coin(notional, entry, leverage), mmr
        )
        assert price is not None
        return price

    assert entry < liquidation_at(high) < liquidation_at(low)


@given(notional=st.decimals(min_value=D(1), max_value=D(10**9), places=0), mark=prices, rate=rates)
def test_funding_sign_flips_with_rate_sign(notional: D, mark: D, rate: D) -> None:
    received = funding_received_coin(Side.SHORT, notional, mark, rate)
    assert received == -funding_received_coin(Side.SHORT, notional, mark, -rate)
    assert received == -funding_received_coin(Side.LONG, notional, mark, rate)
    assert (received > 0) == (rate > 0)


@pytest.mark.parametrize("side", [Side.SHORT, Side.LONG])
def test_a_margin_rate_that_grows_with_the_position_deribit(side: Side) -> None:
    # Deribit's standard margin: MMR = 1 % + 0.005 % per BTC of position. 100 BTC short at
    # 50,000 on 5x (20 BTC margin) liquidates near 61,621 where the position is 81.1 BTC and the
    # rate 1.406 %; without the size term, 61,875.
    notional, entry, margin = D(5_000_000), D(50_000), D(20)
    k, mmr = D("0.00005"), D("0.01")
    price = liquidation_price(side, notional, entry, margin, mmr, mmr_per_coin=k)
    assert price is not None
    pnl = notional * ((1 / price - 1 / entry) if side is Side.SHORT else (1 / entry - 1 / price))
    equity = margin + pnl
    maintenance = notional / price * (mmr + k * notional / price)
    assert equity == pytest.approx(maintenance, rel=D("1e-20"))
    flat = liquidation_price(side, notional, entry, margin, mmr)
    assert flat is not None
    if side is Side.SHORT:
        assert round(price, 2) == D("61621.44")
        assert flat == D(61875)
        assert price < flat  # the size term brings liquidation closer
    else:
        assert price > flat
