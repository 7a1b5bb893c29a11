"""Step 1, a portfolio's risk: by hand, as properties, and against numpy on real closes."""

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgecore.errors import PlanningError
from hedgecore.market.snapshot import bundled_venue_histories
from hedgecore.models import Holding
from hedgecore.portfolio_risk import assess_portfolio

DAY0 = datetime(2024, 1, 1, tzinfo=UTC)


def daily(prices: list[float]) -> list[tuple[datetime, D]]:
    return [(DAY0 + timedelta(days=n), D(str(p))) for n, p in enumerate(prices)]


def test_by_hand_a_coin_that_moves_ten_percent_each_day() -> None:
    # +10 %, -10 %, ... for 30 days: returns of +-0.1, sample deviation 0.1 x sqrt(30/29);
    # a day's 95 % loss is 10 % of today's value.
    prices = [100.0]
    for n in range(30):
        prices.append(prices[-1] * (1.1 if n % 2 == 0 else 0.9))
    risk = assess_portfolio([Holding(coin="BTC", quantity=D(2))], {"BTC": daily(prices)}, {})
    (btc,) = risk.holdings
    today = 2 * prices[-1]
    assert float(btc.value_usd) == pytest.approx(today)
    assert btc.volatility_30d_pct == pytest.approx(0.1 * math.sqrt(30 / 29) * math.sqrt(365) * 100)
    assert btc.var_1d_usd == pytest.approx(0.1 * today)
    assert btc.risk_share_pct == pytest.approx(100)
    assert btc.correlation_btc == 1.0
    assert risk.hedge_first == ("BTC",)
    assert risk.reasons[0].startswith("Hedge BTC first: 100% of the portfolio's risk")


def walk(seed: int, days: int, scale: float = 0.04) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(100 * np.cumprod(1 + rng.normal(0, scale, days)))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    quantities=st.lists(st.floats(0.1, 1000), min_size=2, max_size=4),
    k=st.floats(0.5, 20),
)
def test_shares_add_up_and_a_holding_scales_with_its_size(
    seed: int, quantities: list[float], k: float
) -> None:
    coins = ["BTC", "ETH", "SOL", "XRP"][: len(quantities)]
    closes = {coin: daily(walk(seed + n, 91)) for n, coin in enumerate(coins)}
    holdings = [Holding(coin=c, quantity=D(str(q))) for c, q in zip(coins, quantities, strict=True)]
    risk = assess_portfolio(holdings, closes, {})
    assert sum(h.risk_share_pct for h in risk.holdings) == pytest.approx(100)
    bigger = [holdings[0].model_copy(update={"quantity": holdings[0].quantity * D(str(k))})]
    one = assess_portfolio(holdings[:1], closes, {}).holdings[0]
    scaled = assess_portfolio(bigger, closes, {}).holdings[0]
    assert scaled.var_1d_usd == pytest.approx(one.var_1d_usd * k, rel=1e-6)
    assert scaled.volatility_90d_pct == pytest.approx(one.volatility_90d_pct)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), ratio=st.floats(0.01, 100))
def test_perfectly_correlated_holdings_add_their_volatilities(seed: int, ratio: float) -> None:
    btc = walk(seed, 61)
    closes = {"BTC": daily(btc), "WBTC": daily([p * ratio for p in btc])}
    holdings = [Holding(coin="BTC", quantity=D(1)), Holding(coin="WBTC", quantity=D(3))]
    risk = assess_portfolio(holdings, closes, {"WBTC": "BTC"})
    each = sum(h.volatility_90d_pct * float(h.value_usd) for h in risk.holdings)
    assert risk.volatility_pct * float(risk.value_usd) == pytest.approx(each, rel=1e-6)
    wbtc = next(h for h in risk.holdings if h.coin == "WBTC")
    assert wbtc.correlation_btc == pytest.approx(1)
    assert wbtc.hedged_with == "BTC"


def test_real_closes_against_an_independent_computation() -> None:
    # Binance's BTC/USDT and ETH/USDT spot at each UTC midnight, the last 91 days of the
    # shared 2023-2024 table (bars dated at their close).
    histories = bundled_venue_histories()
    closes = {
        coin: [
            (b.time, D(str(b.spot)))
            for b in histories[("binancecoinm", coin)].bars
            if b.time.hour == 0
        ][-91:]
        for coin in ("BTC", "ETH")
    }
    holdings = [Holding(coin="BTC", quantity=D("1.2")), Holding(coin="ETH", quantity=D(10))]
    risk = assess_portfolio(holdings, closes, {})
    assert (risk.returns, risk.last_day) == (90, date(2024, 7, 1))
    prices = {c: np.array([float(p) for _, p in closes[c]]) for c in closes}
    returns = {c: prices[c][1:] / prices[c][:-1] - 1 for c in prices}
    values = np.array([1.2 * prices["BTC"][-1], 10 * prices["ETH"][-1]])
    matrix = np.cov(np.vstack([returns["BTC"], returns["ETH"]]), bias=True)
    shares = values * (matrix @ values) / (values @ matrix @ values) * 100
    by_coin = {h.coin: h for h in risk.holdings}
    for n, coin in enumerate(("BTC", "ETH")):
        held = by_coin[coin]
        assert held.risk_share_pct == pytest.approx(shares[n])
        assert held.volatility_90d_pct == pytest.approx(
            np.std(returns[coin], ddof=1) * math.sqrt(365) * 100
        )
        assert held.volatility_30d_pct == pytest.approx(
            np.std(returns[coin][-30:], ddof=1) * math.sqrt(365) * 100
        )
        assert held.var_1d_usd == pytest.approx(np.percentile(-values[n] * returns[coin], 95))
        week = 1 - prices[coin][7:] / prices[coin][:-7]
        assert held.var_7d_usd == pytest.approx(np.percentile(values[n] * week, 95))
        peak = np.maximum.accumulate(prices[coin])
        assert held.worst_drawdown_pct == pytest.approx(np.max(1 - prices[coin] / peak) * 100)
    assert by_coin["ETH"].correlation_btc == pytest.approx(
        np.corrcoef(returns["BTC"], returns["ETH"])[0, 1]
    )
    daily_usd = values @ np.vstack([returns["BTC"], returns["ETH"]])
    assert risk.var_1d_usd == pytest.approx(np.percentile(-daily_usd, 95))


def test_too_few_days_or_a_coin_without_closes_is_refused() -> None:
    with pytest.raises(PlanningError, match="no daily closes of SOL to assess"):
        assess_portfolio([Holding(coin="SOL", quantity=D(1))], {"BTC": daily([1.0] * 30)}, {})
    with pytest.raises(PlanningError, match="need 21 days of closes"):
        assess_portfolio([Holding(coin="BTC", quantity=D(1))], {"BTC": daily([1.0] * 10)}, {})


def test_a_coin_that_did_not_move_carries_no_risk_and_no_correlation() -> None:
    closes = {"BTC": daily(walk(7, 40)), "USDC": daily([1.0] * 40)}
    holdings = [Holding(coin="BTC", quantity=D(1)), Holding(coin="USDC", quantity=D(5000))]
    risk = assess_portfolio(holdings, closes, {})
    usdc = next(h for h in risk.holdings if h.coin == "USDC")
    assert (usdc.correlation_btc, usdc.volatility_90d_pct, usdc.var_1d_usd) == (None, 0.0, 0.0)
    assert usdc.risk_share_pct == pytest.approx(0)
    assert risk.hedge_first == ("BTC",)
