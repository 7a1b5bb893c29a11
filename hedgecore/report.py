"""Plain-text and JSON renderings of hedge plans, for the CLI and the terminal chat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from hedgecore import fmt, wording
from hedgecore.answers import HedgeResult, RiskAnswer
from hedgecore.backtest import BacktestReport, StrategyResult
from hedgecore.comparison import VenueComparison
from hedgecore.models import ContractKind, HedgeLeg, HedgePlan, LeverageRow
from hedgecore.venues import venue_name


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def _funding(leg: HedgeLeg) -> str:
    if leg.kind is ContractKind.DATED:
        return "none (dated future)"
    return wording.funding(leg) or "unknown"


def _leg_lines(plan: HedgePlan, leg: HedgeLeg) -> list[str]:
    held = plan.holding.coin
    lines = [
        f"Short       {leg.contracts:,} x {fmt.usd(leg.contract_size_usd)} = {fmt.usd(leg.notional_usd)}: {wording.order(leg)}",
        f"Margin      {fmt.coin(leg.margin_coin, leg.margin_currency)} posted at {fmt.leverage(leg.leverage)}, "
        f"{fmt.coin(leg.coins_kept, held)} kept in your custody",
        f"Liquidation {wording.liquidation(leg.liquidation_price, leg.liquidation_distance_pct)}",
        f"Funding     {_funding(leg)}",
    ]
    if leg.locked_value_usd is not None and leg.expiry is not None:
        lines.append(f"Locks       {fmt.usd(leg.locked_value_usd)} at expiry {fmt.utc(leg.expiry)}")
    lines += [
        f"Fee         {fmt.usd(leg.fee_usd)} ({fmt.coin(leg.fee_coin, leg.margin_currency)}) to open",
        f"Liquidity   {wording.liquidity(leg)}",
        f"Residual    {fmt.usd(leg.residual_usd)} left unhedged by rounding",
    ]
    return lines


def _carry(leg: HedgeLeg) -> str:
    return "unknown" if leg.net_carry_usd is None else fmt.usd(leg.net_carry_usd, signed=True)


def render_hedge(result: HedgeResult) -> str:
    """A hedge answer as terminal text: each plan with its leverage table, notes and risks."""
    return "\n\n".join(
        _render_plan(
            market_plan.plan,
            market_plan.leverage_rows(),
            data_line=result.data_line,
            notes=result.notes,
        )
        for market_plan in result.plans
    )


def hedge_json(result: HedgeResult) -> dict[str, Any]:
    """A one-holding hedge answer as a JSON-ready dict (numbers as numbers, times as ISO-8601)."""
    market_plan = result.plans[0]
    return _plan_json(
        market_plan.plan,
        market_plan.leverage_rows(),
        data_label=result.data_label,
        notes=result.notes,
    )


def _render_plan(
    plan: HedgePlan,
    leverage_rows: Sequence[LeverageRow],
    *,
    data_line: str,
    notes: Sequence[str],
) -> str:
    best = plan.best
    holding = plan.holding
    lines = [
        f"Hedge {fmt.coin(holding.quantity, holding.coin)} ({fmt.usd(plan.value_usd)} at "
        f"{fmt.price(plan.spot_price)}): {fmt.pct(plan.hedge_ratio * 100, 0)} at {fmt.leverage(plan.leverage)}",
        data_line,
        "",
        f"Best: {venue_name(best.venue)} {best.symbol} ({wording.contract_kind(best)}), "
        f"{wording.quote_age(best)}",
        *("  " + line for line in _leg_lines(plan, best)),
        "",
        f"Why: {plan.ranking_reason}.",
    ]
    if len(plan.legs) > 1:
        rows = [
            [
                venue_name(leg.venue),
                leg.symbol,
                wording.short_size(leg).removesuffix(" contracts"),
                fmt.coin(leg.margin_coin, leg.margin_currency),
                wording.liquidation(leg.liquidation_price, leg.liquidation_distance_pct),
                "-" if leg.funding_apr_pct is None else fmt.pct(leg.funding_apr_pct, signed=True),
                "-" if leg.basis_apr_pct is None else fmt.pct(leg.basis_apr_pct, signed=True),
                _carry(leg),
            ]
            for leg in plan.legs
        ]
        header = [
            "venue",
            "symbol",
            "short",
            "margin",
            "liquidation",
            "funding APR",
            "basis APR",
            f"net {plan.horizon_days}d",
        ]
        lines += ["", "All contracts, best first:", *("  " + line for line in _table(header, rows))]
    if leverage_rows:
        rows = [
            [
                fmt.leverage(row.leverage),
                fmt.coin(row.margin_coin, best.margin_currency),
                fmt.coin(row.coins_kept, holding.coin),
                wording.liquidation(row.liquidation_price, row.liquidation_distance_pct),
            ]
            for row in leverage_rows
        ]
        header = ["leverage", "posted", "kept", "liquidation"]
        lines += [
            "",
            f"Leverage trade-off on {venue_name(best.venue)} {best.symbol}:",
            *("  " + line for line in _table(header, rows)),
        ]
    if notes:
        lines += ["", "Notes:", *(f"  - {note}" for note in notes)]
    lines += ["", "Risks:", *(f"  - {note.text}" for note in plan.notes)]
    return "\n".join(lines)


def json_value(value: Any) -> Any:
    """A model's dump in JSON's types: decimals as numbers, times as ISO 8601, enums by value."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


def _plan_json(
    plan: HedgePlan,
    leverage_rows: Sequence[LeverageRow],
    *,
    data_label: str,
    notes: Sequence[str],
) -> dict[str, Any]:
    return {
        "data": data_label,
        "coin": plan.holding.coin,
        "quantity": json_value(plan.holding.quantity),
        "price": json_value(plan.spot_price),
        "value_usd": json_value(plan.value_usd),
        "hedge_ratio": json_value(plan.hedge_ratio),
        "leverage": json_value(plan.leverage),
        "horizon_days": plan.horizon_days,
        "as_of": json_value(plan.as_of),
        "cross_hedge": None
        if plan.cross_hedge is None
        else json_value(plan.cross_hedge.model_dump()),
        "legs": [json_value(leg.model_dump()) for leg in plan.legs],
        "ranking_reason": plan.ranking_reason,
        "leverage_table": [json_value(row.model_dump()) for row in leverage_rows],
        "notes": [*notes, *(note.text for note in plan.notes)],
    }


def _paid_share(s: StrategyResult) -> str:
    if not s.settlements:
        return "-"
    return f"{s.settlements_paid:,}/{s.settlements:,} ({s.settlements_paid / s.settlements:.0%})"


def render_backtest(report: BacktestReport, notes: Sequence[str] = ()) -> str:
    """A backtest as two tables: how well each strategy hedged, then what funding and fees did."""
    coin = report.coin
    hedging = [
        [
            s.name,
            f"{s.hedge_ratio:.2f}",
            f"{s.effectiveness * 100:.2f}%",
            f"{s.effectiveness_returns * 100:.2f}%",
            f"{s.start_value_usd:,.0f}",
            f"{s.final_value_usd:,.0f}",
            f"{s.worst_drawdown_usd:,.0f}",
            "-" if s.liquidated_at is None else f"{s.liquidated_at:%Y-%m-%d %H:%M}",
        ]
        for s in report.strategies
    ]
    funding = [
        [
            s.name,
            f"{s.funding_received_coin:,.6f} ({s.funding_received_usd:,.0f} USD)",
            f"{s.funding_paid_coin:,.6f} ({s.funding_paid_usd:,.0f} USD)",
            f"{s.net_funding_per_coin:+.6f}",
            f"{s.funding_apr_pct:+.2f}%",
            _paid_share(s),
            f"{s.fees_usd:,.2f}",
        ]
        for s in report.strategies
        if s.settlements or s.fees_usd
    ]
    fit = (
        f"Full-sample minimum-variance ratio h* {report.min_variance_ratio:.4f}, "
        f"R² {report.r_squared:.4f} (spot returns on the perpetual's)."
        if report.min_variance_ratio is not None and report.r_squared is not None
        else "The perpetual did not move: no minimum-variance ratio to fit."
    )
    lines = [
        f"Backtest: {report.quantity:g} {coin}, {report.bars:,} bars from {report.start:%Y-%m-%d} "
        f"to {report.end:%Y-%m-%d}",
        "Effectiveness = 1 - Var(hedged) / Var(unhedged) of the USD value's changes per bar, and "
        "of its returns.",
        fit,
        "",
        *_table(
            [
                "strategy",
                "ratio",
                "effectiveness",
                "on returns",
                "start USD",
                "final USD",
                "worst drawdown",
                "liquidated",
            ],
            hedging,
        ),
        "",
        f"Funding to the short, in {coin} at each settlement (USD at the time), and fees in USD:",
        *_table(
            [
                "strategy",
                "received",
                "paid",
                f"net per {coin}",
                "a year",
                "short paid",
                "fees",
            ],
            funding,
        ),
    ]
    if notes:
        lines += ["", "Notes:", *(f"  - {note}" for note in notes)]
    return "\n".join(lines)


def render_comparison(comparison: VenueComparison, notes: Sequence[str] = ()) -> str:
    """Venues side by side: hedge, funding to the short, funding correlation, spread alerts."""
    rows = [
        [
            venue_name(row.venue),
            row.coin,
            f"{row.start:%Y-%m-%d} to {row.end:%Y-%m-%d}",
            f"{row.effectiveness * 100:.2f}%",
            f"{row.rehedged_effectiveness * 100:.3f}%",
            f"{row.net_funding_per_coin:+.6f}",
            f"{row.funding_apr_pct:+.2f}%",
            f"{row.settlements_paid:,}/{row.settlements:,} "
            f"({row.settlements_paid / row.settlements:.0%})"
            if row.settlements
            else "-",
        ]
        for row in sorted(comparison.rows, key=lambda r: (r.coin, -r.funding_apr_pct))
    ]
    lines = [
        "Venues side by side: a 1x inverse short on each venue's coin-margined perpetual "
        "against its own spot, best-paying first.",
        "",
        *_table(
            [
                "venue",
                "coin",
                "period",
                "effectiveness",
                "funding re-hedged",
                "funding per coin",
                "a year",
                "short paid",
            ],
            rows,
        ),
    ]
    if comparison.correlations:
        lines += ["", "Correlation of funding rates at the same funding times:"]
        lines += [
            f"  {c.coin} {venue_name(c.venues[0])} / {venue_name(c.venues[1])}: "
            f"{c.correlation:.3f} over {c.settlements:,} settlements"
            for c in comparison.correlations
        ]
    for spread in comparison.spreads:
        threshold = f"{(spread.threshold_8h * 100).normalize():f}%"
        when = (
            f"first {fmt.utc(spread.fired_at[0])}, last {fmt.utc(spread.fired_at[-1])}"
            if spread.fired_at
            else "never"
        )
        lines.append(
            f"/alert {spread.coin} spread {threshold} would have fired "
            f"{fmt.count(len(spread.fired_at), 'time')} in {spread.cycles:,} funding times "
            f"({when}), replayed through the bot's own "
            "evaluator on the settled rates."
        )
    if notes:
        lines += ["", "Notes:", *(f"  - {note}" for note in notes)]
    return "\n".join(lines)


def risk_lines(answer: RiskAnswer) -> list[str]:
    """A portfolio's risk, holding by holding, and what to hedge first: plain text lines."""
    risk = answer.risk
    week = f", {risk.var_7d_usd:,.0f} USD in 7 days" if risk.var_7d_usd is not None else ""
    lines = [
        f"Portfolio {fmt.usd(risk.value_usd)}: volatility {risk.volatility_pct:.0f}% a year; "
        f"95% value at risk {risk.var_1d_usd:,.0f} USD in a day{week}",
        f"Historical, from {risk.returns} daily returns, {risk.first_day} to {risk.last_day} "
        "(value at risk: the 95th percentile of the losses of 1 day and of every 7-day run).",
        "",
    ]
    for h in risk.holdings:
        vol_30 = f"{h.volatility_30d_pct:.0f}% (30 d), " if h.volatility_30d_pct is not None else ""
        var_7 = f", {h.var_7d_usd:,.0f} USD a week" if h.var_7d_usd is not None else ""
        btc = (
            f"; correlation with BTC {h.correlation_btc:.2f}"
            if h.correlation_btc is not None
            else ""
        )
        proxy = (
            "" if h.hedged_with == h.coin else f"; no inverse contract: hedge with {h.hedged_with}"
        )
        lines.append(
            f"{fmt.coin(h.quantity, h.coin)} ({fmt.usd(h.value_usd)}), {h.risk_share_pct:.0f}% of the "
            f"risk: volatility {vol_30}{h.volatility_90d_pct:.0f}% (90 d) a year; value at risk "
            f"{h.var_1d_usd:,.0f} USD a day{var_7}; worst drawdown {h.worst_drawdown_pct:.0f}%"
            f"{btc}{proxy}"
        )
    return [*lines, "", *risk.reasons, *answer.notes]


def render_risk(answer: RiskAnswer) -> str:
    """Step 1 for the terminal: the portfolio's risk and what to hedge first."""
    return "\n".join([answer.data_line, *risk_lines(answer)])
