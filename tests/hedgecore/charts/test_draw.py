"""The PNGs: the right size, not blank, and drawn from the data hedgecore computes."""

import io
import struct
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from hedgecore import fmt
from hedgecore.backtest import Bar, run_backtest
from hedgecore.charts.draw import (
    backtest_figure,
    backtest_png,
    funding_figure,
    funding_png,
    payoff_figure,
    payoff_png,
    payoff_title,
)
from hedgecore.models import FundingPoint, Holding, PlanSettings
from hedgecore.payoff import funding_lines, payoff_curve
from hedgecore.planning import plan_hedge

from ..builders import NOW, dated, perpetual


def size_of(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def drawn_lines(figure: Figure) -> dict[str, list[float]]:
    """Each line the figure draws, by its legend label."""
    return {
        str(line.get_label()): [float(y) for y in np.asarray(line.get_ydata(), dtype=float)]
        for line in figure.axes[0].get_lines()
    }


def assert_not_blank(png: bytes) -> None:
    pixels = imread(io.BytesIO(png))
    assert float(np.std(pixels)) > 0.05  # a white page has none


def test_payoff_chart() -> None:
    future = dated(expiry=NOW + timedelta(days=60))
    plan = plan_hedge(
        Holding(coin="BTC", quantity=D("1.2")),
        [perpetual(price=D(60000)), future],
        NOW,
        PlanSettings(leverage=D(3)),
    )
    curve = payoff_curve(plan)
    png = payoff_png(curve)
    assert size_of(png) == (1320, 770)
    assert_not_blank(png)
    # The lines drawn are hedgecore's numbers: unhedged, the perpetual hedge, the dated one.
    figure = payoff_figure(curve)
    drawn = drawn_lines(figure)
    assert drawn["unhedged"] == [float(v) for v in curve.unhedged_usd]
    perpetual_line = curve.chosen if not curve.chosen.at_expiry else curve.alternative
    dated_line = curve.alternative if perpetual_line is curve.chosen else curve.chosen
    assert perpetual_line is not None
    assert dated_line is not None
    assert drawn["short 72,000 contracts Bybit BTC/USD:BTC at 3x"] == [
        float(v) for v in perpetual_line.value_usd
    ]
    leg = dated_line.leg
    assert drawn[f"short {leg.contracts:,} contracts OKX {leg.symbol} at 3x, at expiry"] == [
        float(v) for v in dated_line.value_usd
    ]
    assert plan.best.liquidation_price is not None
    assert f"liquidation {fmt.price(plan.best.liquidation_price)}: unhedged above" in drawn
    assert figure.axes[0].get_title() == payoff_title(curve)


def test_funding_chart() -> None:
    t0 = datetime(2025, 4, 1, tzinfo=UTC)
    history = {
        venue: [
            FundingPoint(
                time=t0 + timedelta(hours=8 * n), rate=D(n % 5 - 2) / 10000, interval_hours=D(8)
            )
            for n in range(90)
        ]
        for venue in ("bybit", "okx")
    }
    lines = funding_lines(history)
    png = funding_png("BTC", lines, t0 + timedelta(days=30))
    assert size_of(png) == (1320, 770)
    assert_not_blank(png)
    assert drawn_lines(funding_figure("BTC", lines, t0))["Bybit"] == [
        float(v) for v in lines[0].apr_pct
    ]
    # No history: still a labelled chart of the same size.
    assert size_of(funding_png("BTC", (), t0)) == (1320, 770)


def test_backtest_chart_draws_each_strategys_values() -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    prices = [100.0, 120.0, 90.0, 110.0]
    history = [
        Bar(time=t0 + timedelta(hours=8 * n), spot=p, perp=p, perp_high=p)
        for n, p in enumerate(prices)
    ]
    report = run_backtest("BTC", history, leverages=(1.0,), fee=0.0)
    figure = backtest_figure(report, "a test history")
    drawn = drawn_lines(figure)
    assert drawn["unhedged"] == prices
    assert drawn["inverse perpetual short 1x"] == pytest.approx([100.0] * 4)
    (axes,) = figure.axes
    assert (
        axes.get_title() == "BTC hedges on real history, 2025-01-01 to 2025-01-02\na test history"
    )
    assert size_of(backtest_png(report, "a test history")) == (1320, 770)
