"""Telegram HTML replies, rendered from hedgecore's answers with no bot running."""

from decimal import Decimal as D

from bot.render import (
    MAX_MESSAGE_CHARS,
    fit,
    html_to_text,
    render_alert_list,
    render_funding,
    render_hedge,
    render_help,
    render_how_to_place,
    render_payoff_caption,
    render_risks,
)
from hedgecore.alerts import AlertKind, AlertRule
from hedgecore.answers import HedgeResult, MarketPlan, Overview, PayoffAnswer
from hedgecore.models import DataSource, Holding, PlanSettings
from hedgecore.overview import basis_overview, funding_overview
from hedgecore.payoff import payoff_curve
from hedgecore.planning import plan_hedge

from ..hedgecore.builders import NOW, dated, perpetual


def one_plan(
    funding_rate: str = "0.0001",
    leverage: int = 1,
    source: DataSource = DataSource.LIVE,
    with_dated: bool = True,
) -> MarketPlan:
    markets = [perpetual(funding_rate=D(funding_rate), source=source)]
    markets += [dated()] if with_dated else []
    plan = plan_hedge(
        Holding(coin="BTC", quantity=D("1.2")), markets, NOW, PlanSettings(leverage=D(leverage))
    )
    return MarketPlan.of(plan, markets, (), source, NOW)


def test_a_plan_leads_with_the_answer_and_carries_its_units_venue_and_age() -> None:
    result = HedgeResult(plans=(one_plan(leverage=3),), notes=("Kraken <left out>",))
    html = render_hedge(result)
    first, order, margin, liquidation, funding, next_best, age = html.splitlines()[:7]
    assert first == "<b>1.2 BTC</b> (72,000.00 USD): short <b>Bybit</b> BTC/USD:BTC (perpetual)"
    assert order == "sell <b>72,000 contracts</b> of 1.00 USD = 72,000.00 USD"
    assert margin == "Margin <b>0.4 BTC</b> at 3x; you keep 0.7994 BTC"  # 0.0006 BTC pays the fee
    assert liquidation.startswith("Liquidation <b>89,")
    # Positive funding: longs pay shorts, so the hedge receives it.
    assert funding.startswith("Funding +0.0100% per 8h: you <b>receive</b> 7.20 USD per 8h")
    assert next_best.startswith("Next best: OKX BTC/USD:BTC-")
    assert age == "<i>Bybit data 3 s old</i>"
    assert "<i>Kraken &lt;left out&gt;</i>" in html  # notes are escaped
    assert html.endswith("<i>Data: live market data, 2026-11-29 12:00 UTC</i>")


def test_the_demo_says_so_first_and_the_first_screen_fits_a_phone() -> None:
    html = render_hedge(HedgeResult(plans=(one_plan(source=DataSource.DEMO),), notes=()))
    assert html.startswith("<b>Demo: market recorded on 2026-11-29 12:00 UTC, not live</b>\n")
    assert "Data:" not in html
    assert len(html.splitlines()) <= 12


def test_risks_and_how_to_place_it_are_their_own_screens() -> None:
    market_plan = one_plan(leverage=3)
    risks = html_to_text(render_risks(market_plan))
    assert "Why: " not in risks  # the reason is the screen's subject, said once
    assert "Alternatives" in risks
    assert "Risks" in risks
    steps = html_to_text(render_how_to_place(market_plan))
    assert (
        "1. Move 0.4006 BTC to your Bybit coin-margined (BTC) futures account: the margin and "
        "the 0.0006 BTC opening fee." in steps
    )
    assert "3. Sell 72,000 contracts of 1.00 USD: a limit order near 60,000.00 USD." in steps
    assert "/alert BTC negative bybit" in steps


def test_negative_funding_is_what_the_short_pays() -> None:
    plan = one_plan("-0.0002", leverage=3, with_dated=False)  # 72,000 contracts: fee fits at 3x
    html = render_hedge(HedgeResult(plans=(plan,), notes=()))
    assert "Funding -0.0200% per 8h: you <b>pay</b> 14.40 USD per 8h" in html


def test_a_snapshot_says_so_in_the_plan_and_on_the_data_line() -> None:
    text = html_to_text(
        render_hedge(HedgeResult(plans=(one_plan(source=DataSource.SNAPSHOT),), notes=()))
    )
    assert "Bybit data snapshot, quoted 2026-11-29 11:59 UTC" in text
    assert text.endswith("Data: offline snapshot taken at 2026-11-29 12:00 UTC")


def test_funding_overview_says_who_pays_whom() -> None:
    contracts = (
        perpetual("okx", funding_rate=D("0.0001")),
        perpetual("deribit", funding_rate=D("-0.00005")),
    )
    overview = Overview(
        coin="BTC",
        funding=funding_overview(contracts, NOW),
        basis=basis_overview(contracts, NOW),
        notes=("Bybit left out: it timed out.",),
        source=DataSource.LIVE,
        as_of=NOW,
    )
    lines = render_funding([overview]).splitlines()
    assert lines[3].startswith("• OKX: +0.0100% per 8h (+10.95% a year), longs pay shorts")
    assert lines[4].startswith("• Deribit: -0.0050% per 8h (-5.48% a year), shorts pay longs")
    assert lines[5] == "<i>Bybit left out: it timed out.</i>"
    assert lines[-1] == "<i>Data: live market data, 2026-11-29 12:00 UTC</i>"


def test_the_payoff_caption_describes_the_plan_the_curve_is_drawn_from() -> None:
    market_plan = one_plan(leverage=2)
    answer = PayoffAnswer(
        market_plan=market_plan,
        curve=payoff_curve(market_plan.plan),
        notes=("Live data unavailable.",),
    )
    assert render_payoff_caption(answer) == (
        "1.2 BTC: short 72,000 contracts Bybit BTC/USD:BTC at 2x · data live market data, 2026-11-29 12:00 UTC"
        "\nLive data unavailable."
    )


def test_a_demo_payoff_caption_says_it_is_the_demo_once_and_first() -> None:
    market_plan = one_plan(leverage=2, source=DataSource.DEMO)
    answer = PayoffAnswer(market_plan=market_plan, curve=payoff_curve(market_plan.plan), notes=())
    assert render_payoff_caption(answer) == (
        "Demo: market recorded on 2026-11-29 12:00 UTC, not live"
        "\n1.2 BTC: short 72,000 contracts Bybit BTC/USD:BTC at 2x"
    )


def test_help_lists_each_command_with_an_example() -> None:
    html = render_help([("hedge", "plan a hedge of your coins", "/hedge 1.2 BTC 3x")])
    assert "/hedge: plan a hedge of your coins. <code>/hedge 1.2 BTC 3x</code>" in html
    assert "a hedge (a short) <b>receives</b> it" in html


def test_alert_list() -> None:
    rule = AlertRule(id=4, chat_id=1, coin="BTC", kind=AlertKind.ABOVE, threshold_8h=D("0.0005"))
    assert render_alert_list([rule]) == (
        "<b>Your alerts</b>\n#4 BTC: funding above +0.0500% per 8h on the best venue for a short"
    )
    assert render_alert_list([]).startswith("You have no alerts. Example: <code>/alert BTC")


def test_replies_fit_telegram_and_convert_for_the_terminal() -> None:
    long = "\n".join(f"<b>line</b> {i} &amp; more" for i in range(1000))
    cut = fit(long)
    assert len(cut) <= MAX_MESSAGE_CHARS
    assert cut.endswith("<i>(more left out: message too long)</i>")
    assert html_to_text("<b>1 &lt; 2</b> &amp; <code>/hedge</code>") == "1 < 2 & /hedge"
