"""Payoff and funding charts as PNG bytes, readable on a phone: wide, large type, Okabe-Ito colours."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from hedgecore import fmt, wording
from hedgecore.backtest import BacktestReport
from hedgecore.payoff import FundingLine, HedgeLine, PayoffCurve
from hedgecore.venues import venue_name

WIDTH_IN, HEIGHT_IN, DPI = 12.0, 7.0, 110  # 1320 x 770 pixels
# Okabe & Ito's palette, told apart with the common colour-vision deficiencies.
BLUE, VERMILLION, GREEN, ORANGE, SKY, PURPLE, YELLOW, GREY = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#E69F00",
    "#56B4E9",
    "#CC79A7",
    "#F0E442",
    "#6E6E6E",
)
VENUE_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION)
THOUSANDS = FuncFormatter(lambda value, _: f"{value:,.0f}")


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.tick_params(labelsize=14)
    axes.grid(True, alpha=0.3)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)  # attaches the Agg canvas: no pyplot, no global state
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _floats(values: Sequence[Decimal]) -> list[float]:
    return [float(v) for v in values]


def payoff_png(curve: PayoffCurve) -> bytes:
    """The payoff chart as PNG bytes."""
    return _png(payoff_figure(curve))


def funding_png(coin: str, lines: Sequence[FundingLine], as_of: datetime) -> bytes:
    """The funding chart as PNG bytes."""
    return _png(funding_figure(coin, lines, as_of))


def hedge_label(line: HedgeLine) -> str:
    """What a hedged line is called in the legend: the order it stands for."""
    leg = line.leg
    label = (
        f"short {wording.short_size(leg)} {venue_name(leg.venue)} {leg.symbol} "
        f"at {fmt.leverage(leg.leverage)}"
    )
    return label + (", at expiry" if line.at_expiry else "")


def payoff_title(curve: PayoffCurve) -> str:
    """The chart's title: the chosen hedge, as the caption beside it names it."""
    leg = curve.chosen.leg
    return (
        f"{curve.coin}: {venue_name(leg.venue)} {leg.symbol}, {wording.short_size(leg)} at "
        f"{fmt.leverage(leg.leverage)}, data {fmt.utc(curve.as_of)}"
    )


def payoff_figure(curve: PayoffCurve) -> Figure:
    """USD value across prices: unhedged, with the chosen hedge, and with the other kind's best."""
    figure, axes = _figure()
    prices = _floats(curve.prices)
    axes.plot(prices, _floats(curve.unhedged_usd), color=VERMILLION, linewidth=3, label="unhedged")
    axes.plot(
        prices,
        _floats(curve.chosen.value_usd),
        color=BLUE,
        linewidth=3,
        label=hedge_label(curve.chosen),
    )
    if curve.alternative is not None:
        axes.plot(
            prices,
            _floats(curve.alternative.value_usd),
            color=GREEN,
            linewidth=3,
            linestyle="--",
            label=hedge_label(curve.alternative),
        )
    # Markers are named in the legend, not written across the lines.
    axes.axvline(
        float(curve.spot_price),
        color=GREY,
        linestyle=":",
        linewidth=2,
        label=f"today {fmt.price(curve.spot_price)}",
    )
    if curve.liquidation_price is not None and curve.liquidation_price <= curve.prices[-1]:
        liquidation = float(curve.liquidation_price)
        axes.axvline(
            liquidation,
            color=VERMILLION,
            linestyle="--",
            linewidth=2,
            label=f"liquidation {fmt.price(curve.liquidation_price)}: unhedged above",
        )
        axes.axvspan(liquidation, prices[-1], color=VERMILLION, alpha=0.08)
    axes.xaxis.set_major_formatter(THOUSANDS)
    axes.yaxis.set_major_formatter(THOUSANDS)
    axes.set_xlabel(f"{curve.coin} price (USD)", fontsize=16)
    axes.set_ylabel("value of your holding (USD)", fontsize=16)
    axes.set_title(payoff_title(curve), fontsize=17)
    axes.legend(fontsize=14, loc="upper left")
    return figure


def funding_figure(coin: str, lines: Sequence[FundingLine], as_of: datetime) -> Figure:
    """Each venue's funding over time, a year, with zero marked and the short's paying periods shaded."""
    figure, axes = _figure()
    for line, colour in zip(lines, VENUE_COLOURS, strict=False):
        apr = _floats(line.apr_pct)
        times = date2num(list(line.times))  # type: ignore[no-untyped-call]
        axes.plot(times, apr, color=colour, linewidth=2.5, label=venue_name(line.venue))
        axes.fill_between(
            times, apr, 0, where=[a < 0 for a in apr], color=colour, alpha=0.2, interpolate=True
        )
    axes.axhline(0, color="black", linewidth=1.5)
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]  # matplotlib.dates is unannotated
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _: f"{value:+,.0f}%" if value else "0%")
    )
    axes.set_ylabel("funding a year (% of the position)", fontsize=16)
    axes.set_xlabel("UTC", fontsize=16)
    axes.set_title(
        f"{coin} funding, last 30 days: above zero the short receives, shaded it pays · {fmt.utc(as_of)}",
        fontsize=16,
    )
    if lines:
        axes.legend(fontsize=14, loc="best")
    return figure


def backtest_png(report: BacktestReport, source: str) -> bytes:
    """Each strategy's USD value over the history, whose `source` the title names."""
    return _png(backtest_figure(report, source))


def backtest_figure(report: BacktestReport, source: str) -> Figure:
    """Each strategy's USD value over the history, unhedged first, from a marked start; a
    liquidation is a cross on its line, and paths that span a factor of ten get a log axis."""
    figure, axes = _figure()
    times = date2num(list(report.times))  # type: ignore[no-untyped-call]  # matplotlib.dates is unannotated
    colours = (VERMILLION, BLUE, SKY, ORANGE, PURPLE, GREEN, GREY, YELLOW)
    for strategy, colour in zip(report.strategies, colours, strict=False):
        liquidated = strategy.liquidated_at
        axes.plot(
            times,
            strategy.values_usd,
            color=colour,
            linewidth=2,
            linestyle="--" if liquidated else "-",
            label=f"{strategy.name}"
            + (f" (liquidated {liquidated:%Y-%m-%d})" if liquidated else ""),
        )
        if liquidated is not None:
            at = report.times.index(liquidated)
            axes.plot(
                times[at],
                strategy.values_usd[at],
                marker="X",
                markersize=15,
                color=colour,
                markeredgecolor="black",
                zorder=5,
            )
    start = report.strategies[0].start_value_usd
    axes.axhline(start, color=GREY, linewidth=1, linestyle=":")
    axes.annotate(
        f"start {start:,.0f} USD",
        (times[-1], start),
        xytext=(-4, -16),
        textcoords="offset points",
        horizontalalignment="right",
        fontsize=13,
        color=GREY,
    )
    values = [v for strategy in report.strategies for v in strategy.values_usd if v > 0]
    if values and max(values) > 10 * min(values):
        axes.set_yscale("log")
        axes.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axes.yaxis.set_minor_formatter(NullFormatter())
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.yaxis.set_major_formatter(THOUSANDS)
    axes.set_ylabel(f"value of {report.quantity:g} {report.coin} (USD)", fontsize=16)
    axes.set_xlabel("UTC", fontsize=16)
    axes.set_title(
        f"{report.coin} hedges on real history, {report.start:%Y-%m-%d} to {report.end:%Y-%m-%d}"
        f"\n{source}",
        fontsize=15,
    )
    axes.legend(fontsize=13, loc="upper left")
    return figure
