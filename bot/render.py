"""Replies as Telegram HTML: the answer first, details after, every figure with unit, venue and age.

Pure functions of hedgecore results; `html_to_text` turns a reply into terminal text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from bot.defaults import UserSettings
from bot.parsing import TRACK_EXAMPLE
from hedgecore import fmt, wording
from hedgecore.alerts import AlertEvent, AlertKind, AlertRule
from hedgecore.answers import (
    BacktestAnswer,
    FundingHistoryAnswer,
    HedgeResult,
    MarketPlan,
    Overview,
    PayoffAnswer,
    RiskAnswer,
)
from hedgecore.backtest import StrategyResult
from hedgecore.comparison import VenueComparison
from hedgecore.inverse import annualise_rate, intervals_per_day, price_move_pct
from hedgecore.models import ContractKind, DataSource, HedgeLeg, LeverageRow, RiskKind
from hedgecore.overview import FundingHistoryRow
from hedgecore.report import risk_lines
from hedgecore.tracking import (
    DigestEntry,
    ExpiryReminder,
    FundingAgainst,
    LiquidationWarning,
    PositionStatus,
    Tiers,
    TrackedHedge,
    WatchEvent,
)
from hedgecore.venues import venue_name

MAX_MESSAGE_CHARS = 4096
MAX_CAPTION_CHARS = 1024
MAX_ALTERNATIVES = 4
# The risks a portfolio screen repeats per holding: what can take a hedge away.
PORTFOLIO_RISKS = (RiskKind.LIQUIDATION, RiskKind.MARGIN, RiskKind.CROSS_HEDGE)


def e(text: object) -> str:
    """Escape for Telegram HTML."""
    return html.escape(str(text), quote=False)


def render_help(commands: Sequence[tuple[str, str, str]]) -> str:
    """What the bot does in three lines, then each (name, what it does, example) command."""
    lines = [
        "<b>HedgeBot</b> tells you how to hedge spot crypto with inverse (coin-margined) futures.",
        "It compares Bybit, Binance COIN-M, OKX, Deribit and Kraken Futures from live data:",
        "contracts to short, margin, liquidation, funding, dated futures, and the risks.",
        "",
    ]
    lines += [f"/{name}: {what}. <code>{e(example)}</code>" for name, what, example in commands]
    lines.append("")
    lines.append("Positive funding: longs pay shorts, so a hedge (a short) <b>receives</b> it.")
    return "\n".join(lines)


def _bold(text: str) -> str:
    return f"<b>{e(text)}</b>"


def _labelled(lines: list[str], source: DataSource, data_line: str) -> list[str]:
    """The reply with where its data came from: the demo says so first, other data last."""
    if source is DataSource.DEMO:
        return [_bold(data_line), "", *lines]
    return [*lines, f"<i>{e(data_line)}</i>"]


def _plan_block(market_plan: MarketPlan, single: bool) -> list[str]:
    """A plan's first screen: the order, margin, liquidation, funding, the next best, the age."""
    plan = market_plan.plan
    best = plan.best
    holding = plan.holding
    lines = [
        f"<b>{e(fmt.coin(holding.quantity, holding.coin))}</b> ({fmt.usd(plan.value_usd)}): short "
        f"<b>{e(venue_name(best.venue))}</b> {e(best.symbol)} ({wording.contract_kind(best)})",
        f"{wording.order(best, _bold)} = {fmt.usd(best.notional_usd)}",
        f"Margin <b>{e(fmt.coin(best.margin_coin, best.margin_currency))}</b> at {fmt.leverage(best.leverage)}; "
        f"you keep {e(fmt.coin(best.coins_kept, holding.coin))}",
        f"Liquidation {_bold(wording.liquidation(best.liquidation_price, best.liquidation_distance_pct))}",
    ]
    funding = wording.funding(best, _bold)
    if funding:
        lines.append(f"Funding {funding}")
    if best.locked_value_usd is not None:
        lines.append(f"Locks {fmt.usd(best.locked_value_usd)} at expiry")
    if single and len(plan.legs) > 1:
        lines.append(f"Next best: {e(_leg_summary(plan.legs[1], plan.horizon_days))}")
    lines.append(f"<i>{e(venue_name(best.venue))} data {e(wording.quote_age(best))}</i>")
    return lines


def _leg_summary(leg: HedgeLeg, horizon_days: int) -> str:
    """One leg in a line: where, what it earns a year and over the horizon."""
    carry = (
        "carry unknown"
        if leg.net_carry_usd is None
        else f"{fmt.usd(leg.net_carry_usd, signed=True)} over {horizon_days} d"
    )
    yearly = leg.funding_apr_pct if leg.kind is ContractKind.PERPETUAL else leg.basis_apr_pct
    rate = "" if yearly is None else f", {fmt.pct(yearly, signed=True)} a year"
    return f"{venue_name(leg.venue)} {leg.symbol}: {wording.short_size(leg)}{rate}, {carry}"


def render_hedge(result: HedgeResult) -> str:
    """A /hedge reply's first screen: one plan, or a portfolio with each holding's and totals.

    The reasons, alternatives and risks are a button away (`render_risks`), as is how to place
    the order (`render_how_to_place`), so that the first screen fits a phone.
    """
    single = len(result.plans) == 1
    lines: list[str] = []
    if result.portfolio is not None:
        lines += _portfolio_summary(result)
    else:
        for market_plan in result.plans:
            lines += [*_plan_block(market_plan, single), ""]
    for failure in result.failures:
        lines.append(f"⚠️ {e(failure)}")
    lines += [f"<i>{e(note)}</i>" for note in result.notes]
    lines = _labelled(lines, result.source, result.data_line)
    return fit("\n".join(lines).replace("\n\n\n", "\n\n"))


def _portfolio_summary(result: HedgeResult) -> list[str]:
    """Several holdings on one screen: each order, the margin to post and to buy, the risks."""
    p = result.portfolio
    assert p is not None  # only called for portfolios
    lines = [
        f"<b>Portfolio</b> {fmt.usd(p.value_usd)}: {fmt.usd(p.hedged_exposure_usd)} hedged, "
        f"funding {fmt.usd(p.funding_per_year_usd, signed=True)} a year, fees {fmt.usd(p.fee_usd)}",
        "",
    ]
    posted: dict[str, Decimal] = {}
    to_buy: dict[str, Decimal] = {}
    for market_plan in result.plans:
        plan = market_plan.plan
        leg, holding = plan.best, plan.holding
        posted[leg.margin_currency] = (
            posted.get(leg.margin_currency, Decimal(0)) + leg.coins_to_move
        )
        if leg.coins_missing > 0:
            to_buy[leg.margin_currency] = (
                to_buy.get(leg.margin_currency, Decimal(0)) + leg.coins_missing
            )
        liquidation = wording.liquidation(leg.liquidation_price, leg.liquidation_distance_pct)
        lines.append(
            f"<b>{e(fmt.coin(holding.quantity, holding.coin))}</b> ({fmt.usd(plan.value_usd)}): "
            f"{wording.order(leg, _bold)} of <b>{e(venue_name(leg.venue))}</b> {e(leg.symbol)} "
            f"at {fmt.leverage(leg.leverage)}; margin {e(fmt.coin(leg.margin_coin, leg.margin_currency))}; "
            f"liquidation {e(liquidation)}"
        )
        cross = plan.cross_hedge
        if cross is not None and leg.notional_usd > plan.value_usd:
            lines.append(
                f"<i>More than the {e(holding.coin)} is worth: {e(holding.coin)} moves "
                f"{cross.beta} times as much as {e(cross.proxy_coin)} (beta), and at "
                f"{fmt.leverage(leg.leverage)} part of the short is the {e(cross.proxy_coin)} "
                "margin's own hedge.</i>"
            )
    margin = ", ".join(fmt.coin(amount, coin) for coin, amount in posted.items())
    lines += ["", f"To move to the venues (margin and opening fees): {e(margin)}"]
    if to_buy:
        bought = ", ".join(fmt.coin(amount, coin) for coin, amount in to_buy.items())
        lines.append(f"Of which to buy first: <b>{e(bought)}</b> (a cross hedge posts the proxy)")
    for market_plan in result.plans:
        plan = market_plan.plan
        notes = [
            n
            for n in plan.notes
            if n.kind in PORTFOLIO_RISKS
            # "cannot be liquidated" is no risk to repeat
            and not (n.kind is RiskKind.LIQUIDATION and plan.best.liquidation_price is None)
        ]
        lines += [f"• {e(plan.holding.coin)}: {e(n.text)}" for n in notes]
    lines.append("")
    return lines


def render_risks(market_plan: MarketPlan) -> str:
    """Why this leg comes first, the alternatives, and the risks in numbers."""
    plan = market_plan.plan
    lines = [
        f"<b>{e(fmt.coin(plan.holding.quantity, plan.holding.coin))}</b>: why "
        f"{e(venue_name(plan.best.venue))} {e(plan.best.symbol)}",
        "",
        f"{e(plan.ranking_reason)}.",
        f"Liquidity: {e(wording.liquidity(plan.best))}.",
    ]
    others = plan.legs[1 : 1 + MAX_ALTERNATIVES]
    if others:
        lines += ["", "<b>Alternatives</b>"]
        lines += [
            f"• {e(_leg_summary(leg, plan.horizon_days))}; {e(wording.liquidity(leg))} "
            f"({e(wording.quote_age(leg))})"
            for leg in others
        ]
    lines += ["", "<b>Risks</b>", *(f"• {e(note.text)}" for note in plan.notes), ""]
    return fit("\n".join(_labelled(lines, market_plan.source, market_plan.data_line)))


def render_how_to_place(market_plan: MarketPlan) -> str:
    """The steps to place the plan's best leg on its venue, with the figures to type."""
    plan = market_plan.plan
    leg = plan.best
    coin, venue = plan.holding.coin, venue_name(leg.venue)
    liquidation = wording.liquidation(leg.liquidation_price, leg.liquidation_distance_pct)
    watch = (
        f"<code>/alert {e(coin)} negative {e(leg.venue)}</code> tells you when funding turns "
        "against the short"
        if leg.kind is ContractKind.PERPETUAL
        else f"a dated future expires {e(fmt.utc(leg.expiry))}: roll it before then"
        if leg.expiry is not None
        else "watch the contract's expiry"
    )
    lines = [
        f"<b>How to place it on {e(venue)}</b>",
        "",
        f"1. Move {_bold(fmt.coin(leg.coins_to_move, leg.margin_currency))} to your {e(venue)} "
        f"coin-margined ({e(leg.margin_currency)}) futures account: the margin and the "
        f"{e(fmt.coin(leg.fee_coin, leg.margin_currency))} opening fee.",
        f"2. Open {_bold(leg.venue_symbol or leg.symbol)}, choose <b>isolated</b> margin and "
        f"{_bold(fmt.leverage(leg.leverage))} leverage.",
        f"3. S{wording.order(leg, _bold)[1:]}: a limit order near {e(fmt.price(leg.entry_price))}.",
        f"4. Check that {e(venue)} shows a liquidation price near ours, {e(liquidation)} "
        "(venues round it their own way).",
        f"5. Keep an eye on it: {watch}.",
        "",
        "<i>Every liquidation price here assumes isolated margin. With cross margin the whole "
        "account backs the short: liquidation sits further away, but a loss elsewhere in the "
        "account can take the hedge with it.</i>",
        "",
    ]
    return fit("\n".join(_labelled(lines, market_plan.source, market_plan.data_line)))


def render_leverage_table(market_plan: MarketPlan, rows: Sequence[LeverageRow]) -> str:
    """The leverage trade-off table for the best leg of a plan."""
    plan = market_plan.plan
    best = plan.best
    lines = [
        f"<b>Leverage trade-off</b>: {e(fmt.coin(plan.holding.quantity, plan.holding.coin))} on "
        f"{e(venue_name(best.venue))} {e(best.symbol)}",
        "<pre>",
        f"{'lev':<5}{'posted':<18}{'kept':<18}liquidation",
    ]
    for row in rows:
        lines.append(
            f"{fmt.leverage(row.leverage):<5}{fmt.coin(row.margin_coin, best.margin_currency):<18}"
            f"{fmt.coin(row.coins_kept, plan.holding.coin):<18}{wording.liquidation(row.liquidation_price, row.liquidation_distance_pct)}"
        )
    lines.append("</pre>")
    return "\n".join(_labelled(lines, market_plan.source, market_plan.data_line))


def render_funding(overviews: Sequence[Overview]) -> str:
    """Funding per venue, who pays whom, next funding time and yearly rate."""
    lines = ["<b>Funding</b> (positive: longs pay shorts, so a short hedge receives it)"]
    for overview in overviews:
        lines += ["", f"<b>{e(overview.coin)}</b>"]
        if not overview.funding:
            lines.append("no perpetual answered")
        for row in overview.funding:
            who = (
                "longs pay shorts"
                if row.rate > 0
                else "shorts pay longs"
                if row.rate < 0
                else "nobody pays"
            )
            when = f", next {fmt.utc(row.next_funding_time)}" if row.next_funding_time else ""
            realised = ", realised last 8h" if row.realised else ""
            assumed = "" if row.interval_from_venue else "interval assumed, "
            lines.append(
                f"• {e(venue_name(row.venue))}: {fmt.rate(row.rate)} per "
                f"{fmt.hours(row.interval_hours)}{realised} "
                f"({assumed}{fmt.pct(row.apr_pct, signed=True)} a year), {who}{when}; "
                f"{fmt.quote_age(overview.source, row.quote_time, row.age_seconds)}"
            )
            past = next((h for h in overview.history if h.venue == row.venue), None)
            if past is not None:
                lines.append(f"  {_usual_funding(past)}")
        lines += [f"<i>{e(note)}</i>" for note in overview.notes]
    lines.append("")
    return fit("\n".join(_labelled(lines, overviews[0].source, overviews[0].data_line)))


def _usual_funding(row: FundingHistoryRow) -> str:
    """'last 7 d +9.80%, 30 d +10.20% a year; a short paid 11 of 90 settlements'."""
    means = ", ".join(
        f"{fmt.number(w.days, 0)} d {fmt.pct(w.mean_apr_pct, signed=True)}" for w in row.windows
    )
    longest = row.windows[-1]
    return (
        f"last {means} a year; a short paid {longest.short_paid} of "
        f"{fmt.count(longest.settlements, 'settlement')}"
    )


def render_basis(overviews: Sequence[Overview]) -> str:
    """Dated futures per venue: premium over the index, yearly rate, days to expiry."""
    lines = ["<b>Basis of dated futures</b> (a short locks the premium by expiry)"]
    for overview in overviews:
        lines += ["", f"<b>{e(overview.coin)}</b>"]
        if not overview.basis:
            lines.append("no dated future listed right now")
        for row in overview.basis:
            lines.append(
                f"• {e(venue_name(row.venue))} {e(row.symbol)}: {fmt.price(row.futures_price)} vs index "
                f"{fmt.price(row.index_price)}, {fmt.pct(row.basis_pct, signed=True)} "
                f"({fmt.pct(row.basis_apr_pct, signed=True)} a year), {fmt.number(row.days_to_expiry, 0)} days to "
                f"{fmt.utc(row.expiry)}; {fmt.quote_age(overview.source, row.quote_time, row.age_seconds)}"
            )
        lines += [f"<i>{e(note)}</i>" for note in overview.notes]
    lines.append("")
    return fit("\n".join(_labelled(lines, overviews[0].source, overviews[0].data_line)))


def render_settings(settings: UserSettings) -> str:
    """A user's defaults and how to change them."""
    venues = ", ".join(venue_name(v) for v in settings.venues) or "all venues"
    return "\n".join(
        [
            "<b>Your defaults for /hedge</b>",
            f"Leverage: {fmt.leverage(settings.leverage)}",
            f"Hedge ratio: {fmt.pct(settings.hedge_ratio * 100, 0)}",
            f"Venues: {e(venues)}",
            "",
            "Change with <code>/settings leverage 2x</code>, <code>/settings ratio 50%</code>, "
            "<code>/settings venues okx,bybit</code> or <code>/settings reset</code>.",
        ]
    )


def fit(text: str) -> str:
    """Cut a reply to Telegram's message limit at a line break."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    cut = text.rfind("\n", 0, MAX_MESSAGE_CHARS - 40)
    return text[:cut] + "\n<i>(more left out: message too long)</i>"


_TAG = re.compile(r"</?(?:b|i|code|pre|u|s)>")


def html_to_text(text: str) -> str:
    """A reply for the terminal: tags dropped, entities unescaped."""
    return html.unescape(_TAG.sub("", text))


_KIND_WORDS = {
    "above": "rose above",
    "below": "fell below",
    "negative": "turned negative",
    "spread": "spread between venues exceeded",
}


def render_alert(event: AlertEvent) -> str:
    """An alert: what happened, the rate now and per year, where, what it means for a short."""
    rule, seen = event.rule, event.reading
    venue = venue_name(seen.venue)
    rate = f"{fmt.rate(seen.rate)} per {fmt.hours(seen.interval_hours)} ({fmt.pct(seen.apr_pct, signed=True)} a year)"
    if rule.kind is AlertKind.BEFORE and seen.funding_time is not None:
        head = f"⏰ <b>{e(rule.coin)}</b> funding on {e(venue)} at {fmt.utc(seen.funding_time)}: {rate}"
    elif rule.kind is AlertKind.SPREAD and seen.spread_8h is not None:
        head = (
            f"🔔 <b>{e(rule.coin)}</b> funding spread between venues is {fmt.rate(seen.spread_8h, signed=False)} per 8h, "
            f"over your {fmt.rate(rule.threshold_8h, signed=False)}"
        )
    else:
        what = _KIND_WORDS[rule.kind.value]
        limit = "" if rule.kind is AlertKind.NEGATIVE else f" {fmt.rate(rule.threshold_8h)} per 8h"
        head = f"🔔 <b>{e(rule.coin)}</b> funding {what}{limit} on {e(venue)}: now {rate}"
    meaning = (
        "a short hedge <b>receives</b> it"
        if seen.rate > 0
        else "a short hedge <b>pays</b> it"
        if seen.rate < 0
        else "nobody pays"
    )
    best = f"Best venue for a short now: {e(venue_name(seen.best_venue))}, {fmt.rate(seen.best_rate_8h)} per 8h."
    return "\n".join(
        [head, f"For you: {meaning}.", best, f"<i>Alert #{rule.id} · /alerts to manage</i>"]
    )


def _describe(rule: AlertRule) -> str:
    where = f" on {venue_name(rule.venue)}" if rule.venue else ""
    if rule.kind is AlertKind.BEFORE:
        return f"{rule.coin}: {rule.minutes_before} min before each funding time{where}"
    if rule.kind is AlertKind.NEGATIVE:
        return f"{rule.coin}: funding turns negative (against a short){where or ' on the best venue for a short'}"
    if rule.kind is AlertKind.SPREAD:
        return f"{rule.coin}: venues differ by more than {fmt.rate(rule.threshold_8h, signed=False)} per 8h"
    side = "above" if rule.kind is AlertKind.ABOVE else "below"
    return f"{rule.coin}: funding {side} {fmt.rate(rule.threshold_8h)} per 8h{where or ' on the best venue for a short'}"


def render_new_alert(rule: AlertRule) -> str:
    """The answer to a new alert."""
    return (
        f"Alert #{rule.id} set: {e(_describe(rule))}. Rates of other intervals are compared per 8 hours. "
        "I tell you once when it happens, and again only after it has cleared."
    )


def render_alert_list(rules: Sequence[AlertRule]) -> str:
    """A chat's alerts."""
    if not rules:
        return f"You have no alerts. Example: <code>{e('/alert BTC above 0.05%')}</code>"
    return "\n".join(
        ["<b>Your alerts</b>", *(f"#{rule.id} {e(_describe(rule))}" for rule in rules)]
    )


def render_stats(counts: Mapping[str, int], venues: Mapping[str, tuple[bool, str]]) -> str:
    """The admin's /stats."""
    lines = [
        "<b>HedgeBot stats</b>",
        *(f"{e(name)}: {value:,}" for name, value in counts.items()),
        "",
        "<b>Venues</b>",
    ]
    lines += [
        f"{e(venue_name(venue))}: {'up' if up else e(why)}" for venue, (up, why) in venues.items()
    ]
    return "\n".join(lines)


def render_payoff_caption(answer: PayoffAnswer) -> str:
    """The caption of a payoff chart: the very hedge the picture's title and blue line show."""
    market_plan = answer.market_plan
    holding = market_plan.plan.holding
    leg = answer.curve.chosen.leg
    caption = (
        f"{fmt.coin(holding.quantity, holding.coin)}: short {wording.short_size(leg)} "
        f"{venue_name(leg.venue)} {leg.symbol} at {fmt.leverage(leg.leverage)}"
    )
    if market_plan.source is not DataSource.DEMO:  # the demo's label opens the caption instead
        caption += f" · data {market_plan.data_label}"
    return _with_notes(
        caption, answer.notes, answer.market_plan.source, answer.market_plan.data_line
    )


def render_funding_caption(answer: FundingHistoryAnswer) -> str:
    """The caption of a funding chart."""
    caption = (
        f"{answer.coin} funding per venue, last 30 days, a year; shaded where a short paid · "
        f"to {fmt.utc(answer.as_of)}"
    )
    return _with_notes(caption, answer.notes, answer.source, answer.data_line)


def _with_notes(caption: str, notes: Sequence[str], source: DataSource, data_line: str) -> str:
    """A plain-text photo caption and its notes, the demo's label first; cut to 1,024."""
    first = [data_line] if source is DataSource.DEMO else []
    return "\n".join([*first, caption, *notes])[:MAX_CAPTION_CHARS]


def render_backtest_caption(answer: BacktestAnswer) -> str:
    """The headline numbers of a backtest, short enough for a photo caption."""
    report, origin = answer.report, answer.origin
    coin, by_key = e(report.coin), {s.key: s for s in report.strategies}
    unhedged, held = by_key["unhedged"], by_key["short_1x"]

    def path(s: StrategyResult) -> str:
        return f"{s.start_value_usd:,.0f} → {s.final_value_usd:,.0f} USD"

    lines = [
        f"<b>{coin} hedges on real history</b>, {report.start:%Y-%m-%d} to {report.end:%Y-%m-%d} "
        f"({e(origin)}, {report.bars:,} bars)",
        f"Unhedged {report.quantity:g} {coin}: {path(unhedged)}, worst drawdown "
        f"{unhedged.worst_drawdown_usd:,.0f} USD.",
        f"Held 1x short: <b>{held.effectiveness * 100:.2f}%</b> of the variance removed, "
        f"{path(held)}; funding {held.net_funding_per_coin:+.6f} {coin} per {coin} "
        f"({held.funding_apr_pct:+.2f}% a year), short paid {held.settlements_paid:,} of "
        f"{fmt.count(held.settlements, 'time')}.",
    ]
    rehedged = by_key.get("funding_rehedged")
    if rehedged is not None:
        lines.append(
            f"Funding re-hedged: <b>{rehedged.effectiveness * 100:.2f}%</b>, {path(rehedged)} "
            "(the held short's funding coins ride unhedged)."
        )
    rolling = by_key.get("min_variance")
    if rolling is not None:
        lines.append(
            f"Rolling minimum-variance (ratio {rolling.hedge_ratio:.2f}): "
            f"{rolling.effectiveness * 100:.2f}%."
        )
    liquidated = ", ".join(
        f"{s.key.removeprefix('short_')} {s.liquidated_at:%Y-%m-%d}"
        for s in report.strategies
        if s.liquidated_at is not None
    )
    if liquidated:
        lines.append(f"Liquidated, then unhedged: {liquidated}.")
    if answer.comparison is not None:
        lines += _venues_beside(answer.comparison)
    return "\n".join(lines)[:MAX_CAPTION_CHARS]


def render_backtest_figures(answer: BacktestAnswer) -> str:
    """Every figure of every strategy, one paragraph each: what the caption has no room for."""
    report = answer.report
    coin = e(report.coin)
    lines = [f"<b>Every figure</b>, {report.quantity:g} {coin}, {e(answer.origin)}"]
    for s in report.strategies:
        if s.key == "unhedged":
            lines.append(
                f"<b>unhedged</b>: {s.start_value_usd:,.0f} → {s.final_value_usd:,.0f} USD, "
                f"worst drawdown {s.worst_drawdown_usd:,.0f} USD."
            )
            continue
        line = (
            f"<b>{e(s.name)}</b> (ratio {s.hedge_ratio:.2f}): {s.effectiveness * 100:.2f}% of the "
            f"variance removed ({s.effectiveness_returns * 100:.2f}% on returns), "
            f"{s.start_value_usd:,.0f} → {s.final_value_usd:,.0f} USD, worst drawdown "
            f"{s.worst_drawdown_usd:,.0f} USD, fees {s.fees_usd:,.2f} USD"
        )
        if s.settlements:
            line += (
                f"; funding received {s.funding_received_coin:,.6f} {coin} "
                f"({s.funding_received_usd:,.0f} USD), paid {s.funding_paid_coin:,.6f} {coin} "
                f"({s.funding_paid_usd:,.0f} USD), net {s.net_funding_per_coin:+.6f} {coin} per "
                f"{coin}, {s.funding_apr_pct:+.2f}% a year, the short paid "
                f"{s.settlements_paid:,} of {fmt.count(s.settlements, 'settlement')}"
            )
        if s.liquidated_at is not None:
            line += f"; liquidated {s.liquidated_at:%Y-%m-%d %H:%M} UTC"
        lines.append(line + ".")
    if report.min_variance_ratio is not None and report.r_squared is not None:
        lines.append(
            f"Full-sample minimum-variance ratio h* {report.min_variance_ratio:.4f}, "
            f"R² {report.r_squared:.4f}."
        )
    lines += [f"<i>{e(note)}</i>" for note in report.notes]
    return fit("\n\n".join(lines))


def _venues_beside(comparison: VenueComparison) -> list[str]:
    """The same period on every venue, in two caption lines."""
    rows = sorted(comparison.rows, key=lambda row: -row.funding_apr_pct)
    venues = "; ".join(
        f"{e(venue_name(row.venue))} {row.effectiveness * 100:.2f}% "
        f"{row.funding_apr_pct:+.2f}% {row.settlements_paid / max(row.settlements, 1):.0%}"
        for row in rows
    )
    lines = [f"Same period per venue (held 1x, funding a year, short paid): {venues}."]
    said = []
    if comparison.correlations:
        low = min(c.correlation for c in comparison.correlations)
        high = max(c.correlation for c in comparison.correlations)
        said.append(f"Funding correlation between venues {low:.2f} to {high:.2f}")
    said += [
        f"/alert {e(spread.coin)} spread {(spread.threshold_8h * 100).normalize():f}% would have "
        f"fired {fmt.count(len(spread.fired_at), 'time')} in {spread.cycles:,} funding times"
        for spread in comparison.spreads
    ]
    if said:
        lines.append("; ".join(said) + ".")
    return lines


def render_risk(answer: RiskAnswer) -> str:
    """Step 1 on a phone: the portfolio's risk, holding by holding, and what to hedge first."""
    lines = [
        "<b>Portfolio risk</b>: what to hedge first",
        *(e(line) for line in risk_lines(answer)),
        "",
    ]
    return fit("\n".join(_labelled(lines, answer.source, answer.data_line)))


def _tracked_head(hedge: TrackedHedge) -> str:
    kind = "perpetual" if hedge.expiry is None else f"expires {fmt.utc(hedge.expiry)}"
    return (
        f"#{hedge.id} <b>{e(venue_name(hedge.venue))}</b> {e(hedge.venue_symbol or hedge.symbol)} "
        f"({e(kind)}): short {e(hedge.size_text())} at {e(fmt.price(hedge.entry_price))}, "
        f"{e(fmt.leverage(hedge.leverage))}, for {e(fmt.coin(hedge.hedged_coins, hedge.coin))}"
    )


def render_tracked(hedge: TrackedHedge, tiers: Tiers, watched: bool) -> str:
    """The answer to a newly tracked hedge: what was recorded, and what will be watched."""
    liquidation = hedge.liquidation_price()
    where = (
        "it cannot be liquidated (its margin covers the whole short)"
        if liquidation is None
        else f"liquidation at {fmt.price_and_move(liquidation, price_move_pct(hedge.entry_price, liquidation))} from the entry"
    )
    levels = ", ".join(fmt.pct(t, 0) for t in tiers.pct)
    if liquidation is None:
        watch = "There is no liquidation price to warn you of."
    elif watched:
        watch = f"I will warn you when the mark comes within {levels} of it."
    else:
        watch = "<i>Saved, but watched only while hedgebot runs on Telegram, not in this chat.</i>"
    return "\n".join(
        [
            "<b>Tracking</b> " + _tracked_head(hedge),
            f"Margin {e(fmt.coin(hedge.margin_coin, hedge.coin))} (isolated"
            + (
                f", {e(fmt.coin(hedge.added_margin_coin, hedge.coin))} of it added since"
                if hedge.added_margin_coin
                else ""
            )
            + f"): {e(where)}.",
            watch,
            "/positions shows it as it stands; /untrack removes it; /tiers changes the distances.",
        ]
    )


def _position_lines(status: PositionStatus) -> list[str]:
    hedge = status.hedge
    lines = [_tracked_head(hedge)]
    mark = f"Mark {fmt.price(status.mark)}"
    if status.liquidation_price is None or status.liquidation_distance_pct is None:
        lines.append(f"{mark}; cannot be liquidated")
    else:
        lines.append(
            f"{mark}; liquidation {fmt.price(status.liquidation_price)}, "
            f"<b>{fmt.pct(status.liquidation_distance_pct, signed=True)}</b> away"
        )
    funding = status.funding
    if funding is not None and not funding.settlements and not funding.estimated_hours:
        lines.append("Funding since entry: no settlement yet")
    elif funding is not None:
        verb = "received" if funding.received_usd >= 0 else "paid"
        estimated = (
            f", {fmt.number(funding.estimated_hours, 0)} h of it estimated at today's rate"
            if funding.estimated_hours
            else ""
        )
        lines.append(
            f"Funding since entry: {verb} {fmt.usd(abs(funding.received_usd))} "
            f"(about {fmt.coin(abs(funding.received_coin), hedge.coin)}), "
            f"{funding.settlements} settlement{'s' if funding.settlements != 1 else ''}{estimated}"
        )
    elif hedge.expiry is None:
        lines.append("Funding since entry: unknown (no history and no rate from the venue)")
    lines.append(
        f"Holding {fmt.usd(status.holding_value_usd)} (at entry {fmt.usd(status.holding_value_at_entry_usd)}); "
        f"with the short {fmt.usd(status.hedged_value_usd)} (at entry {fmt.usd(status.hedged_value_at_entry_usd)})"
    )
    if status.days_to_expiry is not None:
        lines.append(f"Expires in {fmt.number(status.days_to_expiry, 1)} days")
    lines.append(f"<i>{e(venue_name(hedge.venue))} quoted {fmt.utc(status.quoted_at)}</i>")
    return lines


def render_edit_hint(hedge: TrackedHedge) -> str:
    """How to correct a tracked hedge: its /edit command as it stands, to change and send."""
    command = (
        f"/edit {hedge.id} @ {hedge.entry_price.normalize():f} {fmt.leverage(hedge.leverage)} "
        f"+{hedge.added_margin_coin.normalize():f}"
    )
    return (
        f"To correct #{hedge.id}, send this with what differs (the entry price, the leverage, "
        f"and the margin you added since opening, in {e(hedge.coin)}):\n<code>{e(command)}</code>"
    )


def _position_line(status: PositionStatus) -> str:
    """A tracked hedge in one line, for a list too long to show each in full."""
    hedge = status.hedge
    distance = (
        "cannot be liquidated"
        if status.liquidation_distance_pct is None
        else f"liquidation {fmt.pct(status.liquidation_distance_pct, signed=True)} away"
    )
    funding = (
        ""
        if status.funding is None
        else f", funding {fmt.usd(status.funding.received_usd, signed=True)}"
    )
    return (
        f"#{hedge.id} {e(_short_name(hedge))}: short {e(hedge.size_text())}, {distance}{funding} "
        f"<i>(quoted {fmt.utc(status.quoted_at)})</i>"
    )


def render_positions(statuses: Sequence[PositionStatus | str]) -> str:
    """The chat's tracked hedges as they stand: one block each, or one line each when the
    blocks would not fit in a message (then /positions N shows one in full)."""
    if not statuses:
        return f"You track no hedges. Example: <code>{e(TRACK_EXAMPLE)}</code>"
    head = "<b>Your tracked hedges</b>"
    blocks = [
        e(status) if isinstance(status, str) else "\n".join(_position_lines(status))
        for status in statuses
    ]
    full = "\n\n".join([head, *blocks])
    if len(full) <= MAX_MESSAGE_CHARS:
        return full
    lines = [
        e(status) if isinstance(status, str) else _position_line(status) for status in statuses
    ]
    return fit("\n".join([head, *lines, "", "<code>/positions 3</code> shows #3 in full."]))


def render_liquidation_warning(warning: LiquidationWarning) -> str:
    """A tracked short's mark came within a tier of its liquidation price: what to do, in numbers."""
    hedge = warning.hedge
    return "\n".join(
        [
            f"⚠️ <b>{e(_short_name(hedge))}</b> short #{hedge.id} is {fmt.pct(warning.distance_pct, signed=True)} "
            f"from liquidation (within your {fmt.pct(warning.tier_pct, 0)}): mark "
            f"{fmt.price(warning.mark)}, liquidation {fmt.price(warning.liquidation_price)}.",
            f"Adding {_bold(fmt.coin(warning.extra_margin_coin, hedge.coin))} of margin moves "
            f"liquidation back to {fmt.pct(warning.restore_to_pct, 0)} away "
            f"(the short then stands at {fmt.leverage(warning.leverage_after.quantize(Decimal('0.01')))} "
            f"instead of {fmt.leverage(hedge.leverage)}).",
            "A stop-loss would close the hedge and leave your coins unhedged; margin keeps it.",
            f"<i>Tracked hedge #{hedge.id} · /positions</i>",
        ]
    )


def _short_name(hedge: TrackedHedge) -> str:
    return f"{venue_name(hedge.venue)} {hedge.venue_symbol or hedge.symbol}"


def render_watch_event(event: WatchEvent) -> str:
    """A slower watch's message: funding against a short, an expiry near, funding to hedge."""
    hedge = event.hedge
    footer = f"<i>Tracked hedge #{hedge.id} · /positions</i>"
    if isinstance(event, FundingAgainst):
        rate = (
            f"{fmt.rate(event.rate)} per {fmt.hours(event.interval_hours)} "
            f"({fmt.pct(annualise_rate(event.rate, event.interval_hours) * 100, signed=True)} a year)"
        )
        per_day = -hedge.notional_usd * event.rate * intervals_per_day(event.interval_hours)
        if event.first:
            head = (
                f"📉 Funding on <b>{e(_short_name(hedge))}</b> turned against your short #{hedge.id}: "
                f"{rate}. At this rate the short <b>pays</b> about {fmt.usd(per_day)} a day."
            )
            tail = "I will send a line a day with the cost while it stays negative."
        else:
            head = (
                f"📉 Funding on <b>{e(_short_name(hedge))}</b> is still against your short "
                f"#{hedge.id}: {rate}."
            )
            tail = (
                f"Paid since {fmt.utc(event.since)}: {fmt.usd(event.cost_usd)} "
                f"(about {fmt.usd(per_day)} a day now)."
            )
        return "\n".join([head, tail, footer])
    if isinstance(event, ExpiryReminder):
        when = "in 1 day" if event.days_before == 1 else f"within {event.days_before} days"
        lines = [
            f"⏳ Your <b>{e(_short_name(hedge))}</b> short #{hedge.id} expires {when}, at "
            f"{fmt.utc(event.expiry)}: the hedge ends then unless you roll it."
        ]
        if event.rolls:
            lines.append("Rolling into a later future locks in its premium now:")
            lines += [
                f"• {e(venue_name(r.venue))} {e(r.symbol)} (to {r.expiry:%Y-%m-%d}): "
                f"{fmt.pct(r.basis_pct, signed=True)} ({fmt.pct(r.basis_apr_pct, signed=True)} a year)"
                for r in event.rolls[:3]
            ]
        else:
            lines.append("No later dated future is quoted now: a perpetual keeps the hedge open.")
        return "\n".join([*lines, footer])
    step = hedge.order_step_coin
    more = (
        f"{fmt.coin(event.contracts_to_add * step, hedge.coin)}"
        if step is not None
        else f"{event.contracts_to_add:,} contracts"
    )
    return "\n".join(
        [
            f"💰 Your <b>{e(_short_name(hedge))}</b> short #{hedge.id} has received "
            f"{fmt.coin(event.received_coin, hedge.coin)} of funding, {fmt.pct(event.share_pct)} "
            f"of the {fmt.coin(hedge.hedged_coins, hedge.coin)} it hedges; those coins are not hedged.",
            f"Selling {_bold(more)} more would hedge them.",
            footer,
        ]
    )


def render_digest(entries: Sequence[DigestEntry], now: datetime) -> str:
    """The weekly digest of a chat's tracked hedges."""
    lines = [f"🗓 <b>Your hedges this week</b> (to {fmt.utc(now)})"]
    for entry in entries:
        hedge = entry.hedge
        funding = (
            ""
            if entry.funding_week_usd is None
            else f"; funding {fmt.usd(entry.funding_week_usd, signed=True)} this week"
        )
        distance = (
            "cannot be liquidated"
            if entry.liquidation_distance_pct is None
            else f"liquidation {fmt.pct(entry.liquidation_distance_pct, signed=True)} away"
        )
        lines.append(
            f"#{hedge.id} {e(_short_name(hedge))}: {distance}{funding}; with the short "
            f"{fmt.usd(entry.hedged_value_usd)} (at entry {fmt.usd(entry.hedged_value_at_entry_usd)}), "
            f"mark {fmt.price(entry.mark)}"
        )
    lines.append("<i>/digest off stops it · /positions</i>")
    return fit("\n".join(lines))
