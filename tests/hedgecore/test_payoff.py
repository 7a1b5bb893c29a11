"""The data behind the charts: payoff across prices and funding over time."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from hedgecore.errors import PlanningError
from hedgecore.models import CrossHedgeFit, FundingPoint, Holding, PlanSettings
from hedgecore.payoff import funding_lines, payoff_curve
from hedgecore.planning import plan_hedge

from .builders import NOW, dated, perpetual

BTC = Holding(coin="BTC", quantity=D("1.2"))


def test_one_x_hedge_is_flat_and_unhedged_is_linear() -> None:
    curve = payoff_curve(plan_hedge(BTC, [perpetual(price=D(60000), taker_fee_rate=D(0))], NOW))
    assert curve.prices[0] == D(30000)
    assert curve.prices[-1] == D(120000)
    assert len(curve.prices) == 151
    assert curve.unhedged_usd == tuple(D("1.2") * p for p in curve.prices)
    # 72,000 contracts of 1 USD: the 1.2 BTC are worth 72,000 USD whatever the price.
    assert all(abs(v - D(72000)) < D("1e-18") for v in curve.chosen.value_usd)
    assert curve.liquidation_price is None
    assert curve.alternative is None


def test_leveraged_hedge_is_unhedged_past_liquidation() -> None:
    plan = plan_hedge(
        BTC, [perpetual(price=D(60000), mmr=D("0.005"))], NOW, PlanSettings(leverage=D(3))
    )
    curve = payoff_curve(plan)
    assert curve.liquidation_price == D(89550)
    for price, value in zip(curve.prices, curve.chosen.value_usd, strict=True):
        if price >= D(89550):
            assert value == D("0.8") * price  # the 0.4 BTC margin is lost, 0.8 BTC unhedged
        else:
            assert abs(value - D(72000)) < D("1e-18")


def test_dated_short_is_worth_what_it_locks_at_expiry() -> None:
    future = dated(
        futures_price=D(61500),
        index_price=D(60000),
        expiry=NOW + timedelta(days=60),
        taker_fee_rate=D(0),
    )
    plan = plan_hedge(BTC, [perpetual(price=D(60000)), future], NOW)
    curve = payoff_curve(plan)
    dated_line = curve.chosen if curve.chosen.at_expiry else curve.alternative
    assert dated_line is not None
    assert dated_line.leg.symbol == future.contract.symbol
    # 738 contracts of 100 USD = 73,800 USD locked; 1.2 - 73,800/61,500 = 0 BTC left over.
    assert all(abs(v - D(73800)) < D("1e-18") for v in dated_line.value_usd)


@pytest.mark.parametrize("best", ["perpetual", "dated"])
def test_the_chart_shows_the_plans_chosen_leg_first(best: str) -> None:
    # A rich basis makes the dated future the better short; a poor one, the perpetual.
    futures_price = D(66000) if best == "dated" else D(60100)
    future = dated(
        futures_price=futures_price, index_price=D(60000), expiry=NOW + timedelta(days=60)
    )
    plan = plan_hedge(BTC, [perpetual(price=D(60000)), future], NOW, PlanSettings(leverage=D(3)))
    curve = payoff_curve(plan)
    assert curve.chosen.leg == plan.best
    assert curve.chosen.at_expiry == (best == "dated")
    assert curve.alternative is not None
    assert curve.alternative.leg.kind is not plan.best.kind
    assert curve.liquidation_price == plan.best.liquidation_price


def test_cross_hedges_have_no_payoff_chart() -> None:
    fit = CrossHedgeFit(
        coin="SOL",
        proxy_coin="BTC",
        beta=D("1.4"),
        correlation=D("0.9"),
        r_squared=D("0.81"),
        observations=60,
    )
    plan = plan_hedge(
        Holding(coin="SOL", quantity=D(100)),
        [perpetual()],
        NOW,
        cross_hedge=fit,
        holding_price=D(150),
    )
    with pytest.raises(PlanningError, match="not a cross hedge"):
        payoff_curve(plan)


def point(moment: datetime, rate: str, hours: int) -> FundingPoint:
    return FundingPoint(time=moment, rate=D(rate), interval_hours=D(hours))


def test_funding_lines_are_yearly_percent_as_the_short_sees_it() -> None:
    t0 = datetime(2025, 4, 1, tzinfo=UTC)
    lines = funding_lines(
        {
            "okx": [point(t0 + timedelta(hours=8), "-0.0001", 8), point(t0, "0.0001", 8)],
            "krakenfutures": [point(t0, "0.00001", 1)],
            "bybit": [],
        }
    )
    assert [line.venue for line in lines] == ["krakenfutures", "okx"]
    assert lines[1].times == (t0, t0 + timedelta(hours=8))
    assert lines[1].apr_pct == (D("10.95"), D("-10.95"))
    assert lines[0].apr_pct == (D("8.76"),)
