"""End to end: the real Application against the fake Bot API server, market data from the demo snapshot."""

import asyncio
import io
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession, web

from bot.handlers.errors import APOLOGY
from bot.logs import configure_logging
from bot.render import html_to_text
from bot.webhook import MAX_UPDATE_BYTES, SECRET_HEADER, webhook_app, webhook_secret
from hedgecore.desk import Desk

from .conftest import DEMO, OTHER_TOKEN, TOKEN, RunningBot, start_bot, stop_bot
from .fake_telegram import FakeTelegram, keyboard_of


async def ask(running: RunningBot, text: str, **kwargs: object) -> str:
    before = len(running.telegram.sent())
    running.telegram.send_text(text, **kwargs)  # type: ignore[arg-type]
    calls = await running.telegram.wait_for("sendMessage", before + 1)
    return str(calls[before].params["text"])


async def test_start_registers_the_menu_and_explains_itself(running: RunningBot) -> None:
    (menu,) = running.telegram.sent("setMyCommands")
    assert [c["command"] for c in json.loads(menu.params["commands"])] == [
        "hedge",
        "risk",
        "funding",
        "basis",
        "settings",
        "chart",
        "backtest",
        "alert",
        "alerts",
        "unalert",
        "track",
        "positions",
        "untrack",
        "edit",
        "digest",
        "tiers",
        "help",
    ]
    text = await ask(running, "/start")
    assert text.startswith("<b>HedgeBot</b> tells you how to hedge spot crypto")
    assert "<code>/hedge 1.2 BTC 3x</code>" in text


async def test_hedge_leads_with_the_answer(each_transport: RunningBot) -> None:
    text = await ask(each_transport, "/hedge 1.2 btc 3x")
    first, second, third, fourth = text.splitlines()[:4]
    assert first == "<b>1.2 BTC</b> (112,489.92 USD): short <b>Bybit</b> BTC/USD:BTC (perpetual)"
    assert second == "sell <b>112,467 contracts</b> of 1.00 USD = 112,467.00 USD"
    assert third.startswith("Margin <b>0.40000043 BTC</b> at 3x")
    assert fourth == "Liquidation <b>139,880.68 USD (+49.25%)</b>"
    assert "you <b>receive</b> 7.31 USD per 8h" in text
    assert "Data: offline snapshot taken at 2025-04-28 08:00 UTC" in text
    (call,) = each_transport.telegram.sent()
    assert call.params["parse_mode"] == "HTML"
    labels = [b["text"] for row in keyboard_of(call) for b in row]
    assert labels == [
        "Bybit",
        "1x",
        "2x",
        "✓ 3x",
        "5x",
        "50%",
        "✓ 100%",
        "Risks",
        "How to place it",
        "Leverage table",
        "Chart",
        "I placed this: track it",
    ]


async def test_the_first_screen_fits_a_phone_and_details_are_a_button_away(
    replayed_venues: RunningBot,
) -> None:
    text = await ask(replayed_venues, "/hedge 1.2 BTC")
    assert len(text.splitlines()) <= 12
    assert "Next best: " in text
    assert "Risks" not in text
    (sent,) = replayed_venues.telegram.sent()
    buttons = {b["text"]: b["callback_data"] for row in keyboard_of(sent) for b in row}
    message = {"message_id": 901, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "plan"}
    replayed_venues.telegram.press(buttons["Risks"], message)
    (risks,) = await replayed_venues.telegram.wait_for("editMessageText", 1)
    assert "<b>Alternatives</b>" in risks.params["text"]
    assert "<b>Risks</b>" in risks.params["text"]
    replayed_venues.telegram.press(buttons["How to place it"], message)
    edits = await replayed_venues.telegram.wait_for("editMessageText", 2)
    steps = html_to_text(edits[1].params["text"])
    # OKX's perpetual comes first: Deribit's quarterly pays more a year, but its wider bid-ask
    # spread costs more than the difference.
    assert steps.startswith("How to place it on OKX")
    assert "2. Open BTC-USD-SWAP, choose isolated margin and 1x leverage." in steps
    assert "assumes isolated margin" in steps


async def test_keyboard_round_trip_edits_the_same_message(each_transport: RunningBot) -> None:
    await ask(each_transport, "/hedge 1.2 BTC")
    (sent,) = each_transport.telegram.sent()
    buttons = {b["text"]: b["callback_data"] for row in keyboard_of(sent) for b in row}
    message = {"message_id": 900, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "plan"}
    each_transport.telegram.press(buttons["3x"], message)
    (edit,) = await each_transport.telegram.wait_for("editMessageText", 1)
    assert edit.params["message_id"] == "900"
    assert "at 3x" in edit.params["text"]
    each_transport.telegram.press(buttons["Leverage table"], message)
    edits = await each_transport.telegram.wait_for("editMessageText", 2)
    assert edits[1].params["text"].startswith("<b>Leverage trade-off</b>")
    assert "10x" in edits[1].params["text"]
    assert len(each_transport.telegram.sent("answerCallbackQuery")) == 2
    each_transport.telegram.press("h:garbage", message)
    answers = await each_transport.telegram.wait_for("answerCallbackQuery", 3)
    assert answers[2].params["text"] == "This button is out of date: send /hedge again."


async def test_funding_and_basis(running: RunningBot) -> None:
    funding = await ask(running, "/funding")
    assert (
        "• Bybit: +0.0065% per 8h (+7.12% a year), longs pay shorts, next 2025-04-28 16:00 UTC"
        in funding
    )
    basis = await ask(running, "/basis btc")
    assert "no dated future listed right now" in basis


async def test_funding_of_one_coin_says_whether_todays_rate_is_usual(running: RunningBot) -> None:
    # Worked out here from the snapshot's own settlements, every 8 hours up to its time.
    recorded = json.loads(DEMO.read_text())
    taken_at = datetime.fromisoformat(recorded["taken_at"])
    rows = recorded["venues"]["bybit"]["funding_history"]["BTC/USD:BTC"]
    rates = [
        (datetime.fromtimestamp(r["timestamp"] / 1000, UTC), float(r["fundingRate"])) for r in rows
    ]

    def yearly_pct(days: int) -> float:
        recent = [rate for time, rate in rates if taken_at - timedelta(days=days) < time]
        return sum(recent) / (8 * len(recent)) * 24 * 365 * 100

    paid = sum(1 for _, rate in rates if rate < 0)
    funding = await ask(running, "/funding BTC")
    assert (
        f"  last 7 d {yearly_pct(7):+.2f}%, 30 d {yearly_pct(30):+.2f}% a year; a short paid "
        f"{paid} of {len(rates)} settlements"
    ) in funding
    assert "last 7 d" not in await ask(running, "/funding")  # both coins: kept short


async def test_settings_are_stored_and_survive_a_restart(
    running: RunningBot, telegram: FakeTelegram
) -> None:
    assert "Leverage: 2x" in await ask(running, "/settings leverage 2x")
    await stop_bot(running.app)
    running.app = await start_bot(telegram, running.db, running.transport)
    text = await ask(running, "/hedge 1 BTC")
    assert "at 2x" in text


BAD_INPUTS = [
    ("/hedge", "tell me what you hold. Example: /hedge 1.2 BTC"),
    ("/hedge 1.2", "a quantity needs a coin after it. Example: /hedge 1.2 BTC"),
    ("/hedge 1.2 BTC extra words", "I don't understand 'extra'. Example: /hedge 1.2 BTC"),
    ("/hedge 0 BTC", "quantity must be more than zero, got '0'. Example: /hedge 1.2 BTC"),
    ("/hedge -1 BTC", "quantity must be more than zero, got '-1'. Example: /hedge 1.2 BTC"),
    ("/hedge NaN BTC", "quantity must be a plain number, got 'NaN'. Example: /hedge 1.2 BTC"),
    ("/hedge inf BTC", "quantity must be a plain number, got 'inf'. Example: /hedge 1.2 BTC"),
    ("/hedge 1e400 BTC", "quantity must be a plain number, got '1e400'. Example: /hedge 1.2 BTC"),
    (
        "/hedge " + "9" * 50 + " BTC",
        "quantity must be a plain number, got '999999999999999999999999...'. Example: /hedge 1.2 BTC",
    ),
    ("/hedge 1.2 B$C", "unknown coin 'B$C': use a ticker like BTC or ETH. Example: /hedge 1.2 BTC"),
    ("/hedge 1.2 BTC bitmex", "I don't understand 'bitmex'. Example: /hedge 1.2 BTC"),
    (
        "/hedge 1.2 BTC 0x",
        "leverage must be between 1x and 125x, got '0x'. Example: /hedge 1.2 BTC 3x",
    ),
    (
        "/hedge 1.2 BTC 500x",
        "leverage must be between 1x and 125x, got '500x'. Example: /hedge 1.2 BTC 3x",
    ),
    ("/hedge 1.2 🚀", "unknown coin '🚀': use a ticker like BTC or ETH. Example: /hedge 1.2 BTC"),
    (
        "/hedge 1.2 بيتكوين",
        "unknown coin 'بيتكوين': use a ticker like BTC or ETH. Example: /hedge 1.2 BTC",
    ),
    (
        "/hedge 0.000000001 BTC",
        # One holding: the same words as `hedgecore plan` (the coin is named only among several).
        "0.000000001 BTC at 100% is less than half a contract even on Bybit (1.00 USD a contract). Example: /hedge 1.2 BTC",
    ),
    (
        "/hedge 1.2 BTC binanse",
        "unknown venue 'binanse' (did you mean binance?). Example: /hedge 1.2 BTC binance",
    ),
    (
        "/hedge 1.2 BTC weex",
        "Weex lists no coin-margined contracts: its contract API and help centre describe "
        "USDT-margined futures only. Example: /hedge 1.2 BTC bybit",
    ),
    (
        "/alert BTC negative Weex",
        "Weex lists no coin-margined contracts: its contract API and help centre describe "
        "USDT-margined futures only. Example: /alert BTC negative bybit",
    ),
    (
        "/hedge 1.2 BTC 125x",
        "125x is too much leverage for BTC here: Bybit BTC/USD:BTC allows at most 100x for this position. Example: /hedge 1.2 BTC",
    ),
    (
        "/alert BTC spread 0.02% okx",
        "a spread compares every venue, so it takes none. Example: /alert BTC spread 0.02%",
    ),
    (
        "/alert BTC before 30m deribit",
        "Deribit charges funding continuously, with no funding times to be reminded of. Example: /alert BTC before 30m bybit",
    ),
    (
        "/alert ZZZZ negative",
        "no venue lists an inverse contract on ZZZZ, so it has no funding to watch; listed now: BTC",
    ),
    ("/alert BTC negative okx", "OKX lists no inverse contract on BTC; try Bybit"),
    (
        "/alert BTC negative binanse",
        "unknown venue 'binanse' (did you mean binance?). Example: /alert BTC negative binance",
    ),
    (
        "/frobnicate",
        "Unknown command /frobnicate. Send /hedge 1.2 BTC to plan a hedge, or /help for everything I do.",
    ),
    ("hello there", "Send /hedge 1.2 BTC to plan a hedge, or /help for everything I do."),
    ("x" * 4000, "Send /hedge 1.2 BTC to plan a hedge, or /help for everything I do."),
    ("/funding B$C D", "/funding takes one coin. Example: /funding BTC"),
    (
        "/settings leverage 500x",
        "leverage must be between 1x and 125x, got '500x'. Example: /settings leverage 2x",
    ),
    (
        "/settings colour red",
        "unknown setting 'colour': use leverage, ratio or venues. Example: /settings leverage 2x",
    ),
]


@pytest.mark.parametrize(("text", "answer"), BAD_INPUTS, ids=[t[:20] for t, _ in BAD_INPUTS])
async def test_bad_input_gets_one_line_with_an_example(
    running: RunningBot, text: str, answer: str
) -> None:
    assert await ask(running, text) == answer


async def test_edited_messages_groups_channels_and_empty_updates(running: RunningBot) -> None:
    assert (
        await ask(running, "/hedge 1 BTC", edited=True)
        == "I don't re-run edited messages: send the command again, e.g. /hedge 1.2 BTC."
    )
    # A command in a group works; chatter in a group or a channel post gets no reply.
    assert (await ask(running, "/help", chat_type="group", chat_id=-100)).startswith(
        "<b>HedgeBot</b>"
    )
    running.telegram.send_text("just chatting", chat_type="group", chat_id=-100)
    running.telegram.send_text("/hedge 1 BTC", chat_type="channel", chat_id=-200)
    running.telegram.queue_raw({"a_future_update_kind": {"id": 1}})  # an update with no message
    before = len(running.telegram.sent())
    assert (await ask(running, "/help")).startswith("<b>HedgeBot</b>")
    assert len(running.telegram.sent()) == before + 1


async def test_a_crashing_handler_apologises_and_the_bot_keeps_running(
    running: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(self: Desk, *args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Desk, "hedge", explode)
    assert await ask(running, "/hedge 1 BTC") == APOLOGY
    assert "handler failed" in caplog.text
    assert "RuntimeError: boom" in caplog.text
    assert (await ask(running, "/help")).startswith("<b>HedgeBot</b>")


async def test_a_429_is_waited_out_and_the_reply_delivered(each_transport: RunningBot) -> None:
    each_transport.telegram.retry_after = 1
    started = asyncio.get_running_loop().time()
    text = await ask(each_transport, "/help")
    assert text.startswith("<b>HedgeBot</b>")
    assert [
        c.method for c in each_transport.telegram.calls if c.method in ("429", "sendMessage")
    ] == [
        "429",
        "sendMessage",
    ]
    assert asyncio.get_running_loop().time() - started >= 1.0


def test_demo_snapshot_path_exists() -> None:
    assert Path(DEMO).is_file()


async def test_photo_uploads_go_as_multipart(running: RunningBot) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    await running.app.bot.send_photo(77, photo=png, caption="chart")
    (call,) = running.telegram.sent("sendPhoto")
    assert call.params["photo"] == "<file>"
    assert call.params["caption"] == "chart"


async def test_token_never_reaches_the_logs_at_debug(
    telegram: FakeTelegram, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("DEBUG", TOKEN)
    try:
        for transport in ("aiohttp", "httpx"):
            app = await start_bot(telegram, tmp_path / f"{transport}.sqlite3", transport)
            telegram.send_text("/hedge 1 BTC")
            await telegram.wait_for("sendMessage", len(telegram.sent()) + 1)
            await stop_bot(app)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    logs = capsys.readouterr().err
    assert "getUpdates" in logs  # DEBUG really logged the requests
    assert TOKEN not in logs
    assert TOKEN.split(":")[1] not in logs


async def test_webhook_checks_the_secret_and_serves_healthz(running: RunningBot) -> None:
    server = webhook_app(running.app, "s3cret", "/telegram")
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    update = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 77, "type": "private"},
            "from": {"id": 77, "is_bot": False, "first_name": "Ann"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    try:
        async with ClientSession() as http:
            await running.telegram.wait_for_polls(2)  # healthy once a poll has answered
            async with http.get(f"{base}/healthz") as response:
                assert (response.status, await response.json()) == (
                    200,
                    {"status": "ok", "reason": "ok"},
                )
            for headers in ({}, {SECRET_HEADER: "wrong"}):
                async with http.post(f"{base}/telegram", json=update, headers=headers) as response:
                    assert response.status == 403
            # JSON that is not an update, too deep to parse, or too long: refused before a handler.
            for body in ("{not json", "null", "[1, 2]", "7", '"update"', "[" * 100_000, "{}"):
                async with http.post(
                    f"{base}/telegram", data=body, headers={SECRET_HEADER: "s3cret"}
                ) as response:
                    assert response.status == 400, body[:20]
            async with http.post(
                f"{base}/telegram",
                data=io.BytesIO(b" " * (MAX_UPDATE_BYTES + 1)),
                headers={SECRET_HEADER: "s3cret"},
            ) as response:
                assert response.status == 413

            async def ten_megabytes() -> AsyncIterator[bytes]:  # no declared length: chunked
                for _ in range(160):
                    yield b" " * (1 << 16)

            async with http.post(
                f"{base}/telegram", data=ten_megabytes(), headers={SECRET_HEADER: "s3cret"}
            ) as response:
                assert response.status == 413
            before = len(running.telegram.sent())
            async with http.post(
                f"{base}/telegram", json=update, headers={SECRET_HEADER: "s3cret"}
            ) as response:
                assert response.status == 200
            calls = await running.telegram.wait_for("sendMessage", before + 1)
            assert calls[-1].params["text"].startswith("<b>HedgeBot</b>")
    finally:
        await runner.cleanup()


async def test_charts_are_sent_as_photos(each_transport: RunningBot) -> None:
    each_transport.telegram.send_text("/chart 1.2 BTC 3x")
    (photo,) = await each_transport.telegram.wait_for("sendPhoto", 1)
    assert photo.params["photo"] == "<file>"
    assert (
        photo.params["caption"]
        == "1.2 BTC: short 112,467 contracts Bybit BTC/USD:BTC at 3x · data offline snapshot taken at 2025-04-28 08:00 UTC"
    )
    # The chart button under a plan, and /funding's chart both ways.
    await ask(each_transport, "/hedge 1 BTC")
    buttons = {
        b["text"]: b["callback_data"]
        for row in keyboard_of(each_transport.telegram.sent()[-1])
        for b in row
    }
    message = {"message_id": 903, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "plan"}
    each_transport.telegram.press(buttons["Chart"], message)
    await each_transport.telegram.wait_for("sendPhoto", 2)
    funding = await ask(each_transport, "/funding")
    assert funding.startswith("<b>Funding</b>")
    (chart_button,) = [b for row in keyboard_of(each_transport.telegram.sent()[-1]) for b in row]
    assert chart_button["text"] == "BTC chart"
    each_transport.telegram.press(chart_button["callback_data"], message)
    each_transport.telegram.send_text("/funding btc chart")
    photos = await each_transport.telegram.wait_for("sendPhoto", 4)
    assert {p.params["caption"] for p in photos[2:]} == {
        "BTC funding per venue, last 30 days, a year; shaded where a short paid · to 2025-04-28 08:00 UTC"
    }
    assert (
        await ask(each_transport, "/chart 1 BTC 2 ETH")
        == "a chart shows one holding. Example: /chart 1.2 BTC"
    )
    assert (
        await ask(each_transport, "/chart 0 BTC")
        == "quantity must be more than zero, got '0'. Example: /chart 1.2 BTC"
    )


async def test_backtest_sends_the_headline_and_the_picture(running: RunningBot) -> None:
    running.telegram.send_text("/backtest")
    (photo,) = await running.telegram.wait_for("sendPhoto", 1)
    caption = str(photo.params["caption"])
    assert caption.startswith(
        "<b>BTC hedges on real history</b>, 2018-11-15 to 2025-04-28 (Bybit BTCUSD inverse "
        "perpetual and BTC spot, 8-hour bars, FrancyPengChoco/my-notebook, 7,068 bars)"
    )
    assert "Unhedged 1 BTC: 5,761 → 93,742 USD, worst drawdown 52,552 USD." in caption
    assert (
        "Held 1x short: <b>98.41%</b> of the variance removed, 5,758 → 18,979 USD; funding "
        "+0.143543 BTC per BTC (+12.56% a year), short paid 1,258 of 7,067 times."
    ) in caption
    assert "Funding re-hedged: <b>99.97%</b>, 5,758 → 12,518 USD" in caption
    assert "Liquidated, then unhedged: 2x 2019-06-22, 3x 2019-05-14, 5x 2019-05-11." in caption
    # What the caption has no room for follows as text: every figure of every strategy.
    (figures,) = await running.telegram.wait_for("sendMessage", 1)
    text = html_to_text(str(figures.params["text"]))
    assert (
        "inverse perpetual short 1x (ratio 1.00): 98.41% of the variance removed (84.92% on "
        "returns), 5,758 → 18,979 USD, worst drawdown 6,213 USD, fees 3.07 USD; funding received "
        "0.330331 BTC (5,974 USD), paid 0.186788 BTC (1,455 USD), net +0.143543 BTC per BTC, "
        "+12.56% a year, the short paid 1,258 of 7,067 settlements."
    ) in text
    assert "Full-sample minimum-variance ratio h* 0.9742, R² 0.9927." in text
    assert (
        await ask(running, "/backtest DOGE")
        == "no bundled history for DOGE; there is one for BTC, ETH. Example: /backtest ETH okx"
    )


async def test_backtest_of_one_venue_beside_the_others(running: RunningBot) -> None:
    running.telegram.send_text("/backtest ETH okx")
    (photo,) = await running.telegram.wait_for("sendPhoto", 1)
    caption = str(photo.params["caption"])
    assert caption.startswith(
        "<b>ETH hedges on real history</b>, 2023-01-01 to 2024-07-01 (OKX ETH coin-margined "
        "perpetual and spot, 8-hour bars, AHA-HH/optimising-funding-rate-arbitrage, 1,642 bars)"
    )
    assert (
        "Same period per venue (held 1x, funding a year, short paid): Binance COIN-M 99.65% "
        "+10.61% 11%; Bybit 99.68% +10.11% 10%; OKX 99.78% +9.19% 29%."
    ) in caption
    # The whole caption, not cut at Telegram's 1,024 characters.
    assert caption.endswith(
        "/alert ETH spread 0.02% would have fired 196 times in 1,642 funding times."
    )
    await running.telegram.wait_for("sendMessage", 1)  # every figure, after the picture
    assert (
        await ask(running, "/backtest BTC deribit")
        == "no bundled history for BTC on Deribit; there is BTC on Binance COIN-M, Bybit, OKX. "
        "Example: /backtest ETH okx"
    )
    assert (
        await ask(running, "/backtest ETH okx 3x")
        == "/backtest takes a coin and a venue. Example: /backtest ETH okx"
    )


async def test_the_default_plan_is_one_the_holder_can_place(running: RunningBot) -> None:
    # 1.2 BTC on the snapshot is 112,466.88 USD of 1 USD contracts: 112,467 would need more
    # margin than the 1.2 BTC held, and Bybit takes its 0.06 % opening fee from the same
    # account: 112,466.88 / 1.0006 = 112,399.4 contracts is what the coins pay for.
    reply = html_to_text(await ask(running, "/hedge 1.2 BTC"))
    assert "sell 112,399 contracts" in reply
    assert "Margin 1.19927573 BTC at 1x; you keep 0.0000047 BTC" in reply
    assert "more than you hold" not in reply


def test_every_worker_sets_the_same_webhook_secret_which_the_token_alone_gives() -> None:
    secret = webhook_secret(TOKEN)
    assert secret == webhook_secret(TOKEN)  # workers behind one URL agree
    assert secret != webhook_secret(OTHER_TOKEN)
    assert TOKEN.split(":")[1] not in secret
    # What Telegram accepts as a secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)
