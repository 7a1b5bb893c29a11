"""Several holdings and cross hedges through the bot, on a snapshot recorded from the every-venue replay."""

from .conftest import RunningBot
from .fake_telegram import keyboard_of


async def test_portfolio_with_a_cross_hedge(replayed_venues: RunningBot) -> None:
    replayed_venues.telegram.send_text("/hedge 1.2 BTC 10 ETH 500 SOL")
    (call,) = await replayed_venues.telegram.wait_for("sendMessage", 1)
    text = call.params["text"]
    # Hedged: BTC's 112,400 + ETH's 17,890 + SOL's 215,300 short less the 107,650 USD of BTC margin.
    assert text.startswith("<b>Portfolio</b> 205,672.22 USD: 237,940.00 USD hedged, ")
    assert (
        "<b>1.2 BTC</b> (112,490.42 USD): sell <b>1,124 contracts</b> of 100.00 USD of <b>OKX</b> "
        "BTC/USD:BTC at 1x" in text
    )
    assert "<b>10 ETH</b>" in text
    assert (
        "<b>500 SOL</b> (75,280.00 USD): sell <b>2,153 contracts</b> of 100.00 USD of <b>OKX</b>"
        in text
    )
    assert "More than the SOL is worth: SOL moves 1.42986 times as much as BTC (beta)" in text
    assert "SOL has no inverse contract: cross-hedged with BTC, fitted on 89 daily returns" in text
    assert "To move to the venues (margin and opening fees): 2.34970465 BTC, 9.99773502 ETH" in text
    assert "Of which to buy first: <b>1.14978532 BTC</b>" in text
    assert "• SOL: At 2x the short on OKX is liquidated if BTC rises 98.80%" in text
    assert "cannot be liquidated" not in text  # not a risk worth repeating per holding
    assert keyboard_of(call) == []  # buttons are for single-holding plans


async def test_a_venue_choice_and_its_buttons(replayed_venues: RunningBot) -> None:
    replayed_venues.telegram.send_text("/hedge 0.5 eth okx")
    (call,) = await replayed_venues.telegram.wait_for("sendMessage", 1)
    # 0.5 x OKX's ETH index 1,790.21, to the cent (half to even).
    assert (
        "<b>0.5 ETH</b> (895.10 USD): short <b>OKX</b> ETH/USD:ETH (perpetual)"
        in call.params["text"]
    )
    venue_row = [b["text"] for b in keyboard_of(call)[0]]
    assert venue_row == ["✓ OKX"]
