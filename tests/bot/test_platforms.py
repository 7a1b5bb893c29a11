"""The article's other platforms, Bitget and BingX, through the bot on the replay recording."""

from .conftest import RunningBot
from .fake_telegram import keyboard_of
from .test_e2e import ask

SNAPSHOT_LABEL = "<i>Data: offline snapshot taken at 2025-04-28 08:00 UTC</i>"


async def test_bitget_is_told_in_coins_and_bingx_in_its_100_usd_contracts(
    replayed_venues: RunningBot,
) -> None:
    bitget = await ask(replayed_venues, "/hedge 1.2 BTC bitget")
    # Bitget's best is its quarterly (funding there pays less than the premium locks in).
    assert "short <b>Bitget</b> BTC/USD:BTC-250627" in bitget
    assert "sell <b>1.199 BTC</b> (in steps of 0.001 BTC) = 113,424.80 USD" in bitget
    assert "Next best: Bitget BTC/USD:BTC: 1.199 BTC, +3.28% a year" in bitget
    assert bitget.endswith(SNAPSHOT_LABEL)
    bingx = await ask(replayed_venues, "/hedge 1.2 BTC bingx 2x")
    assert "short <b>BingX</b> BTC/USD:BTC (perpetual)" in bingx
    assert "sell <b>1,125 contracts</b> of 100.00 USD" in bingx
    # BingX's coin-M funding endpoint names no interval: its usual 8 hours is assumed, and said.
    assert "Funding +0.0020% per 8h (assumed): you <b>receive</b>" in bingx


async def test_bitgets_placing_steps_give_the_coins_to_type(replayed_venues: RunningBot) -> None:
    await ask(replayed_venues, "/hedge 0.5 ETH bitget")
    (sent,) = replayed_venues.telegram.sent()
    buttons = {b["text"]: b["callback_data"] for row in keyboard_of(sent) for b in row}
    message = {"message_id": 901, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "x"}
    replayed_venues.telegram.press(buttons["How to place it"], message)
    (edit,) = await replayed_venues.telegram.wait_for("editMessageText", 1)
    steps = edit.params["text"]
    assert "<b>How to place it on Bitget</b>" in steps
    # 0.5 ETH less Bitget's 0.06 % fee, in steps of 0.01 ETH.
    assert (
        "3. Sell <b>0.49 ETH</b> (in steps of 0.01 ETH): a limit order near 1,790.01 USD" in steps
    )


async def test_funding_and_basis_list_bitget_and_bingx(replayed_venues: RunningBot) -> None:
    funding = await ask(replayed_venues, "/funding BTC")
    assert "• Bitget: +0.0030% per 8h (+3.28% a year), longs pay shorts, next 2025-04-28" in funding
    # Bitget's own history (90 settlements, 30 days); BingX publishes none for coin-M.
    assert "a short paid 22 of 90 settlements" in funding
    assert "• BingX: +0.0020% per 8h (interval assumed, +2.19% a year)" in funding
    basis = await ask(replayed_venues, "/basis BTC")
    assert "• Bitget BTC/USD:BTC-250627: 94,599.50 USD vs index 93,742.10 USD, +0.91%" in basis
    assert "BingX" not in basis  # it lists perpetuals only
