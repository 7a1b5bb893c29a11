"""/risk end to end: the figures, what to hedge first, and its button planning exactly those."""

import re

from bot.render import html_to_text

from .conftest import RunningBot
from .fake_telegram import keyboard_of


async def test_risk_of_a_portfolio_and_the_button_that_hedges_what_matters(
    replayed_venues: RunningBot,
) -> None:
    telegram = replayed_venues.telegram
    telegram.send_text("/risk 1.2 BTC 10 ETH 500 SOL")
    (call,) = await telegram.wait_for("sendMessage", 1)
    text = html_to_text(str(call.params["text"]))
    lines = text.splitlines()
    assert lines[0] == "Portfolio risk: what to hedge first"
    assert lines[1].startswith("Portfolio 205,671.12 USD: volatility ")
    assert "Historical, from 89 daily returns, 2025-01-29 to 2025-04-28" in text
    shares = [int(s) for s in re.findall(r"USD\), (\d+)% of the risk", text)]
    assert len(shares) == 3
    assert abs(sum(shares) - 100) <= 2  # each rounded to a whole percent
    assert "500 SOL (75,280.00 USD)" in text
    assert "correlation with BTC 0.97; no inverse contract: hedge with BTC" in text
    assert "Hedge BTC first: 46% of the portfolio's risk" in text
    assert "Then SOL: 45% of the portfolio's risk" in text
    assert "no inverse contract: cross-hedge it with BTC" in text
    assert "SOL: daily closes of Bybit SOL/USDT spot" in text
    assert text.endswith("Data: offline snapshot taken at 2025-04-28 08:00 UTC")
    ((button,),) = keyboard_of(call)
    assert button == {"callback_data": "k:1.2:BTC:500:SOL", "text": "Hedge BTC and SOL"}
    # Pressed: the plan of exactly those two holdings, as /hedge 1.2 BTC 500 SOL gives it.
    message = {"message_id": 902, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "risk"}
    telegram.press("k:1.2:BTC:500:SOL", message)
    plans = await telegram.wait_for("sendMessage", 2)
    plan = str(plans[1].params["text"])
    assert plan.startswith("<b>Portfolio</b> ")
    assert "<b>1.2 BTC</b>" in plan
    assert "<b>500 SOL</b>" in plan
    assert "ETH" not in plan


async def test_risk_refuses_what_it_cannot_assess(replayed_venues: RunningBot) -> None:
    telegram = replayed_venues.telegram
    for command, answer in (
        ("/risk", "tell me what you hold. Example: /risk 1.2 BTC"),
        ("/risk 1.2 BTC 3x", "/risk takes holdings only. Example: /risk 1.2 BTC 10 ETH 500 SOL"),
    ):
        before = len(telegram.sent("sendMessage"))
        telegram.send_text(command)
        calls = await telegram.wait_for("sendMessage", before + 1)
        assert calls[before].params["text"] == answer
