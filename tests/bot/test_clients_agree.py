"""The CLI and the bot ask the same desk: every figure a /hedge reply shows is the CLI's.

`hedgecore plan ... --json` (a subprocess) and `/hedge ...` run on the same every-venue snapshot; each figure
the bot prints must be one of the JSON's numbers in some display form, and the JSON's main
figures must all appear in the bot's reply.
"""

import asyncio
import json
import re
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.defaults import UserSettings, hedge_question
from bot.parsing import parse_hedge
from bot.render import html_to_text, render_payoff_caption
from hedgecore import fmt, wording
from hedgecore.charts.draw import payoff_figure
from hedgecore.desk import Desk
from hedgecore.market.snapshot import load_snapshot_file
from hedgecore.venues import venue_name

from .conftest import RunningBot
from .fake_telegram import keyboard_of

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def shown_forms(value: Decimal) -> set[str]:
    """The ways the renderers may print a number (unsigned: the signs are checked by words)."""
    forms = {
        fmt.number(value, 0),
        fmt.number(value, 2),
        fmt.coin(value, "X").removesuffix(" X"),
        fmt.pct(value).removesuffix("%"),
        fmt.pct(value, 4).removesuffix("%"),
        fmt.rate(value).removesuffix("%"),
        fmt.usd_large(value).removesuffix(" USD").rstrip("KMB"),
        f"{value.normalize():f}",
    }
    return {form.lstrip("+-") for form in forms}


def json_figures(value: Any, numbers: set[str], moments: set[str]) -> None:
    """Collect every number (in its display forms) and every moment of a JSON document."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        numbers.update(shown_forms(Decimal(str(value))))
    elif isinstance(value, str):
        try:
            moments.add(fmt.utc(datetime.fromisoformat(value)))
        except ValueError:
            numbers.update(NUMBER.findall(MOMENT.sub("", value)))
            moments.update(MOMENT.findall(value))
    elif isinstance(value, dict):
        for item in value.values():
            json_figures(item, numbers, moments)
    elif isinstance(value, list):
        for item in value:
            json_figures(item, numbers, moments)


@pytest.mark.parametrize(
    ("command", "cli_args"),
    [
        ("/hedge 1.2 BTC 3x", ["plan", "1.2", "BTC", "--leverage", "3"]),
        ("/hedge 10 ETH okx 50%", ["plan", "10", "ETH", "--venue", "okx", "--ratio", "50%"]),
    ],
)
async def test_the_cli_and_the_bot_give_the_same_figures(
    replayed_venues: RunningBot,
    command: str,
    cli_args: list[str],
) -> None:
    snapshot = str(replayed_venues.app.bot_data.services.settings.snapshot)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hedgecore",
        *cli_args,
        "--snapshot",
        snapshot,
        "--json",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    plan = json.loads(out)
    replayed_venues.telegram.send_text(command)
    (call,) = await replayed_venues.telegram.wait_for("sendMessage", 1)
    # The first screen, and the reasons, alternatives and risks its Risks button shows.
    risks = next(b for row in keyboard_of(call) for b in row if b["text"] == "Risks")
    message = {"message_id": 903, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "."}
    replayed_venues.telegram.press(risks["callback_data"], message)
    (edit,) = await replayed_venues.telegram.wait_for("editMessageText", 1)
    reply = html_to_text(str(call.params["text"])) + "\n" + html_to_text(str(edit.params["text"]))

    best, *others = plan["legs"]
    expected = [
        f"{venue_name(best['venue'])} {best['symbol']}",
        f"{best['contracts']:,} contracts",
        fmt.usd(Decimal(str(best["notional_usd"]))),
        fmt.coin(Decimal(str(best["margin_coin"])), best["margin_currency"]),
        f"at {fmt.leverage(Decimal(str(best['leverage'])))}",
        f"you keep {fmt.coin(Decimal(str(best['coins_kept'])), plan['coin'])}",
        f"({fmt.usd(Decimal(str(plan['value_usd'])))})",
        f"{plan['ranking_reason']}.",  # the Risks screen's subject: why this leg
        f"Data: {plan['data']}",
        *plan["notes"],
    ]
    if best["liquidation_price"] is not None:
        expected.append(
            fmt.price_and_move(
                Decimal(str(best["liquidation_price"])),
                Decimal(str(best["liquidation_distance_pct"])),
            )
        )
    for leg in others[:4]:
        expected.append(
            f"{venue_name(leg['venue'])} {leg['symbol']}: {leg['contracts']:,} contracts"
        )
        carry = fmt.usd(Decimal(str(leg["net_carry_usd"])), signed=True)
        expected.append(f"{carry} over {plan['horizon_days']} d")
    missing = [phrase for phrase in expected if phrase not in reply]
    assert not missing, f"the bot's reply lacks the CLI's {missing}"

    numbers: set[str] = set()
    moments: set[str] = set()
    json_figures(plan, numbers, moments)
    symbols = sorted({leg["symbol"] for leg in plan["legs"]}, key=len, reverse=True)
    text = reply
    for symbol in symbols:
        text = text.replace(symbol, " ")
    assert set(MOMENT.findall(text)) <= moments
    strangers = [n for n in NUMBER.findall(MOMENT.sub(" ", text)) if n not in numbers]
    assert not strangers, f"figures in the bot's reply that the CLI does not have: {strangers}"


@pytest.mark.parametrize("request_text", ["1.2 BTC 3x", "1.2 BTC", "0.5 ETH 2x"])
async def test_a_charts_caption_names_the_hedge_its_picture_draws(
    replay_snapshot: Path, request_text: str
) -> None:
    desk = Desk(load_snapshot_file(replay_snapshot))
    try:
        request = parse_hedge(request_text.split(), "/chart")
        answer = await desk.payoff(hedge_question(request, UserSettings()))
    finally:
        await desk.close()
    leg = answer.curve.chosen.leg
    assert leg == answer.market_plan.plan.best
    caption = render_payoff_caption(answer).splitlines()[0]
    title = payoff_figure(answer.curve).axes[0].get_title()
    order = (
        f"{wording.short_size(leg)} {venue_name(leg.venue)} {leg.symbol} "
        f"at {fmt.leverage(leg.leverage)}"
    )
    assert f"short {order}" in caption
    assert f"{venue_name(leg.venue)} {leg.symbol}, {wording.short_size(leg)} at" in title
