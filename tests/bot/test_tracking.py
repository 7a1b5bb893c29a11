"""Tracked hedges end to end: /track, the plan's button, /positions, and liquidation warnings
from the minute job through the outbox, on the real Application, the fake Bot API and SQLite."""

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from bot.alerting import AlertService
from bot.render import render_watch_event
from bot.store.sqlite import SqliteStore
from hedgecore.errors import NoMarketData
from hedgecore.tracking import (
    MAX_TRACKED_PER_CHAT,
    ExpiryReminder,
    PlacedShort,
    RollChoice,
    TrackedHedge,
    TrackingRefused,
    UnhedgedFunding,
    WatchState,
    admit_tracked,
)

from .conftest import RunningBot, start_bot, stop_bot
from .fake_telegram import FakeTelegram, keyboard_of
from .test_alerts import CHAT, NOW, ScriptedMarket, install, say
from .test_e2e import ask

HAND = "/track bybit BTCUSD 112467 @ 93722.4 3x for 1.2 BTC"


class MovingMarket(ScriptedMarket):
    """The scripted Bybit market, whose BTC perpetual's mark the test moves."""

    async def set_mark(self, price: int) -> None:
        for structure in ("tickers", "funding_rates"):
            self.recorded[structure]["BTC/USD:BTC"]["markPrice"] = float(price)
        await self.service.coin_markets("BTC")
        await self.service.cache.settled()


@pytest.fixture
async def tracking(
    telegram: FakeTelegram, tmp_path: Path
) -> AsyncIterator[tuple[RunningBot, MovingMarket, AlertService]]:
    db = tmp_path / "tracking.sqlite3"
    bot = RunningBot(telegram, await start_bot(telegram, db), db, "aiohttp")
    market = MovingMarket()
    alerts = install(bot.app, market)
    await market.set_mark(93722)
    yield bot, market, alerts
    await stop_bot(bot.app)


def comparable(hedge: TrackedHedge) -> dict[str, object]:
    return hedge.model_dump(exclude={"id", "chat_id", "opened_at"})


async def test_track_by_hand_records_the_short_with_its_liquidation_price(
    tracking: tuple[RunningBot, MovingMarket, AlertService],
) -> None:
    bot, _, _ = tracking
    answer = await say(bot, HAND)
    # 3x: margin a third of N/E; liquidated at E x (1 - 0.5 %) x 1.5 = 139,880.68 (Bybit's first
    # risk limit, 0.5 %).
    assert answer.startswith(
        "<b>Tracking</b> #1 <b>Bybit</b> BTCUSD (perpetual): short 112,467 contracts at "
        "93,722.40 USD, 3x, for 1.2 BTC"
    )
    assert "liquidation at 139,880.68 USD (+49.25%) from the entry" in answer
    assert "I will warn you when the mark comes within 30%, 15%, 5% of it." in answer
    assert await say(bot, HAND) == "you already track that short; see /positions."


async def test_a_rising_mark_warns_at_30_15_and_5_percent_once_each_with_the_margin_to_add(
    tracking: tuple[RunningBot, MovingMarket, AlertService],
) -> None:
    bot, market, alerts = tracking
    await say(bot, HAND)  # liquidated at 139,880.68
    fired: list[int] = []
    sent_before = len(bot.telegram.sent())
    for price in (100_000, 108_000, 110_000, 118_000, 122_000, 125_000, 134_000, 134_500):
        await market.set_mark(price)
        fired.append(await alerts.track_cycle(NOW))
        await alerts.deliver(bot.app.bot)  # as the minute job does after each cycle
    # 139,880.68 / 108,000 = +29.5 %, / 122,000 = +14.7 %, / 134,000 = +4.4 %.
    assert fired == [0, 1, 0, 0, 1, 0, 1, 0]
    warnings = [str(m.params["text"]) for m in bot.telegram.sent()[sent_before:]]
    assert [w.split(" from liquidation")[0] for w in warnings] == [
        "⚠️ <b>Bybit BTCUSD</b> short #1 is +29.52%",
        "⚠️ <b>Bybit BTCUSD</b> short #1 is +14.66%",
        "⚠️ <b>Bybit BTCUSD</b> short #1 is +4.39%",
    ]
    # At 134,000: back to 30 % away means liquidation at 174,200; the margin that puts it there
    # is N/E - N(1 - 0.005)/174,200 = 1.2000013 - 0.6423919 = 0.5576094 BTC, of which 0.4000004
    # is posted: 0.1576090 BTC more, and the short then stands at 1.2000013 / 0.5576094 = 2.15x.
    assert (
        "Adding <b>0.15760898 BTC</b> of margin moves liquidation back to 30% away" in warnings[2]
    )
    assert "(the short then stands at 2.15x instead of 3x)" in warnings[2]
    assert "A stop-loss would close the hedge and leave your coins unhedged" in warnings[2]


async def test_a_warning_queued_before_a_restart_is_sent_once(
    tracking: tuple[RunningBot, MovingMarket, AlertService], telegram: FakeTelegram
) -> None:
    bot, market, alerts = tracking
    await say(bot, HAND)
    await market.set_mark(125_000)
    assert await alerts.track_cycle(NOW) == 1
    sent_before = len(telegram.sent())
    await stop_bot(bot.app)
    bot.app = await start_bot(telegram, bot.db)
    restarted = install(bot.app, market)
    assert await restarted.track_cycle(NOW) == 0  # the warned tier survived the restart
    assert await restarted.deliver(bot.app.bot) == 1
    assert await restarted.deliver(bot.app.bot) == 0
    (warning,) = telegram.sent()[sent_before:]
    assert "within your 15%" in str(warning.params["text"])


async def test_the_plans_button_and_track_by_hand_record_the_same_short(
    replayed_venues: RunningBot,
) -> None:
    telegram = replayed_venues.telegram
    telegram.send_text("/hedge 1.2 BTC bybit 3x", chat_id=77)
    (plan,) = await telegram.wait_for("sendMessage", 1)
    buttons = {b["text"]: b["callback_data"] for row in keyboard_of(plan) for b in row}
    message = {"message_id": 905, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "x"}
    telegram.press(buttons["I placed this: track it"], message)
    (tracked,) = (await telegram.wait_for("sendMessage", 2))[1:]
    # The plan's best leg at 3x is Bybit's quarterly, sold at its bid 95,012: 1.2 x 95,012 =
    # 114,014.4 USD, so 114,014 contracts of 1 USD.
    assert str(tracked.params["text"]).startswith(
        "<b>Tracking</b> #1 <b>Bybit</b> BTCUSDM25 (expires 2025-06-27 08:00 UTC): short "
        "114,014 contracts at 95,012.00 USD, 3x, for 1.2 BTC"
    )
    telegram.send_text("/track bybit BTCUSDM25 114014 @ 95012 3x for 1.2 BTC", chat_id=78)
    await telegram.wait_for("sendMessage", 3)
    store = replayed_venues.app.bot_data.services.store
    (by_button,), (by_hand,) = await store.tracked_of(77), await store.tracked_of(78)
    assert comparable(by_button) == comparable(by_hand)


async def test_positions_shows_each_hedge_and_its_buttons_refresh_and_untrack(
    replayed_venues: RunningBot,
) -> None:
    telegram = replayed_venues.telegram
    for n, command in enumerate(
        (
            "/track bybit BTCUSD 112467 @ 93722 3x",
            "/track bitget btcusd 1.199 2x",
            "/track deribit BTC-PERPETUAL 112460 5x for 1.2 BTC",
        ),
        start=1,
    ):
        telegram.send_text(command)
        await telegram.wait_for("sendMessage", n)  # one after the other: numbered in order
    telegram.send_text("/positions")
    (listing,) = (await telegram.wait_for("sendMessage", 4))[3:]
    text = str(listing.params["text"])
    assert "#2 <b>Bitget</b> BTCUSD (perpetual): short 1.199 BTC at 93,716.50 USD, 2x" in text
    assert "Mark 93,716.90 USD; liquidation 186,683.27 USD, <b>+99.20%</b> away" in text
    assert "#3 <b>Deribit</b> BTC-PERPETUAL (perpetual): short 112,460 USD" in text
    assert "Funding since entry: no settlement yet" in text
    assert text.count("<i>Bybit quoted 2025-04-28 08:00 UTC</i>") == 1
    buttons = {b["text"]: b["callback_data"] for row in keyboard_of(listing) for b in row}
    assert set(buttons) == {"Refresh"} | {
        f"{a} #{n}" for a in ("Edit", "Untrack") for n in (1, 2, 3)
    }
    message = {"message_id": 906, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "x"}
    telegram.press(buttons["Untrack #2"], message)
    (edit,) = await telegram.wait_for("editMessageText", 1)
    assert "Bitget" not in str(edit.params["text"])
    telegram.send_text("/untrack all")
    (gone,) = (await telegram.wait_for("sendMessage", 5))[4:]
    assert gone.params["text"] == "Stopped tracking 2 hedges."


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        (
            "/track bybit BTCUSDT 100",
            "Bybit lists no coin-margined contract 'BTCUSDT' (USDT- and USDC-margined contracts "
            "are linear: they hedge no coins); its own: BTCUSD, BTCUSDM25, ETHUSD. "
            "Example: /track bybit BTCUSD 112467 @ 93722 3x",
        ),
        (
            "/track binanse BTCUSD_PERP 10",
            "unknown venue 'binanse' (did you mean binance?). "
            "Example: /track bybit BTCUSD 112467 @ 93722 3x",
        ),
        (
            "/track bybit BTCUSD 0",
            "quantity must be more than zero, got '0'. "
            "Example: /track bybit BTCUSD 112467 @ 93722 3x",
        ),
        (
            "/track bybit BTCUSD 10 @ 6000",
            "an entry at 6,000.00 USD is far from Bybit BTCUSD's 93,722.40 USD now. "
            "Example: @ 93722",
        ),
        (
            "/track bitget BTCUSD 1.1995",
            "Bitget BTCUSD is traded in steps of 0.001 BTC: 1.1995 is not. "
            "Example: /track bybit BTCUSD 112467 @ 93722 3x",
        ),
        (
            "/track okx BTC-USD-SWAP 10 126x",
            "leverage must be between 1x and 125x, got '126x'. "
            "Example: /track bybit BTCUSD 112467 @ 93722 3x",
        ),
        (
            "/track okx BTC-USD-SWAP 10 110x",  # OKX lists it with 100x at most
            "OKX BTC-USD-SWAP allows at most 100x. Example: 100x",
        ),
        (
            "/track okx ETH-USD-SWAP 10 for 1 BTC",
            "ETH-USD-SWAP is a ETH contract: a short on it hedges ETH, not BTC",
        ),
        ("/track weex BTCUSD 1", None),
    ],
)
async def test_bad_tracking_input_gets_one_line_with_an_example(
    replayed_venues: RunningBot, command: str, answer: str | None
) -> None:
    replayed_venues.telegram.send_text(command)
    (reply,) = await replayed_venues.telegram.wait_for("sendMessage", 1)
    text = str(reply.params["text"])
    assert "\n" not in text
    if answer is None:
        assert text.startswith("Weex lists no coin-margined contracts")
    else:
        assert text == answer


async def test_the_store_keeps_tracked_hedges_and_warned_tiers_across_reopening(
    tmp_path: Path,
) -> None:
    placed = PlacedShort(
        venue="okx",
        symbol="BTC/USD:BTC",
        venue_symbol="BTC-USD-SWAP",
        coin="BTC",
        contracts=1124,
        contract_size_usd=D(100),
        entry_price=D("93719.8"),
        leverage=D(3),
        hedged_coins=D("1.2"),
        maintenance_margin_rate=D("0.004"),
        opened_at=NOW,
    )
    store = await SqliteStore.open(tmp_path / "t.sqlite3")
    first = await store.add_tracked(CHAT, placed, lambda existing: admit_tracked(existing, placed))
    watch = WatchState(against_since=NOW, against_told=NOW, expiry_told=frozenset({7}))
    await store.commit_tracking(
        {first.id: frozenset({D(30), D(15)})}, {first.id: watch}, {}, [(CHAT, "warned")]
    )
    await store.close()
    store = await SqliteStore.open(tmp_path / "t.sqlite3")
    assert await store.tracked_of(CHAT) == [first]
    assert await store.tracking_warned() == {first.id: frozenset({D(30), D(15)})}
    assert await store.watch_states() == {first.id: watch}
    for n in range(2, MAX_TRACKED_PER_CHAT + 2):
        other = placed.model_copy(update={"contracts": n})

        def admit(existing: Sequence[TrackedHedge], wanted: PlacedShort = other) -> None:
            admit_tracked(existing, wanted)

        if n <= MAX_TRACKED_PER_CHAT:
            await store.add_tracked(CHAT, other, admit)
        else:
            with pytest.raises(TrackingRefused, match="you track 20 hedges, the most allowed"):
                await store.add_tracked(CHAT, other, admit)
    assert await store.delete_tracked(CHAT, first.id) == 1
    assert await store.tracking_warned() == {}
    assert await store.watch_states() == {}
    await store.close()


async def test_funding_turning_against_a_tracked_short_is_said_once_then_daily(
    tracking: tuple[RunningBot, MovingMarket, AlertService],
) -> None:
    bot, market, alerts = tracking
    await say(bot, HAND)
    assert await alerts.track_cycle(NOW) == 0
    await market.set_rate("-0.0002")
    assert await alerts.track_cycle(NOW) == 1
    assert await alerts.track_cycle(NOW + timedelta(hours=12)) == 0
    assert await alerts.deliver(bot.app.bot) == 1
    text = str(bot.telegram.sent()[-1].params["text"])
    # 112,467 USD x 0.02 % x 3 settlements a day = 67.48 USD a day.
    assert text.startswith(
        "📉 Funding on <b>Bybit BTCUSD</b> turned against your short #1: -0.0200% per 8h "
        "(-21.90% a year). At this rate the short <b>pays</b> about 67.48 USD a day."
    )
    assert await alerts.track_cycle(NOW + timedelta(hours=25)) == 1  # the daily line
    await alerts.deliver(bot.app.bot)
    assert "is still against your short #1" in str(bot.telegram.sent()[-1].params["text"])


async def test_a_tracked_quarterly_is_reminded_a_week_before_it_expires(
    replayed_venues: RunningBot,
) -> None:
    await ask(replayed_venues, "/track okx BTC-USD-250627 1124 3x")
    services = replayed_venues.app.bot_data.services
    expiry = datetime(2025, 6, 27, 8, tzinfo=UTC)
    assert await services.alerts.track_cycle(expiry - timedelta(days=8)) == 0
    assert await services.alerts.track_cycle(expiry - timedelta(days=6)) == 1
    assert await services.alerts.track_cycle(expiry - timedelta(days=5)) == 0
    assert await services.alerts.deliver(replayed_venues.app.bot) == 1
    text = str(replayed_venues.telegram.sent()[-1].params["text"])
    assert text.startswith(
        "⏳ Your <b>OKX BTC-USD-250627</b> short #1 expires within 7 days, at 2025-06-27 08:00 UTC"
    )
    # The replay quotes only June quarterlies: nothing later to roll into.
    assert "No later dated future is quoted now: a perpetual keeps the hedge open." in text


async def test_a_chats_own_tiers_decide_its_warnings(
    tracking: tuple[RunningBot, MovingMarket, AlertService],
) -> None:
    bot, market, alerts = tracking
    assert await say(bot, "/tiers 20 10% 3") == (
        "Liquidation warnings at 20%, 10%, 3% from the liquidation price."
    )
    assert await say(bot, "/tiers 120") == (
        "tiers are percentages between 0 and 100. Example: /tiers 30 15 5"
    )
    assert "comes within 20%, 10%, 3% of it" in await say(bot, HAND)
    fired = []
    for price in (108_000, 118_000, 122_000, 130_000):  # +29.5, +18.5, +14.7, +7.6 % away
        await market.set_mark(price)
        fired.append(await alerts.track_cycle(NOW))
    assert fired == [0, 1, 0, 1]


async def test_the_weekly_digest_comes_on_monday_once_a_week(
    tracking: tuple[RunningBot, MovingMarket, AlertService],
) -> None:
    bot, market, alerts = tracking
    await say(bot, HAND)
    answer = await say(bot, "/digest on")
    assert answer.startswith("Weekly digest on: the first comes ")
    store = bot.app.bot_data.services.store
    watch = await store.chat_watch(CHAT)
    assert watch.next_digest_at is not None
    assert watch.next_digest_at.weekday() == 0
    assert watch.next_digest_at.hour == 8
    # Move the digest to the market's own week, then run the job past it.
    monday = datetime(2025, 4, 28, 8, tzinfo=UTC)  # the recording's moment, a Monday
    await store.save_chat_watch(CHAT, watch.model_copy(update={"next_digest_at": monday}))
    await market.set_mark(100_000)
    assert await alerts.track_cycle(monday + timedelta(minutes=1)) == 1
    assert await alerts.track_cycle(monday + timedelta(minutes=2)) == 0
    await alerts.deliver(bot.app.bot)
    text = str(bot.telegram.sent()[-1].params["text"])
    assert text.startswith("🗓 <b>Your hedges this week</b>")
    # 139,880.68 / 100,000: liquidation +39.88 % away. 1.2 BTC and the short at 100,000:
    # Q P + N (1 - P/E) = 120,000 - 7,533.13 = 112,466.87 USD: its value at entry, 1.2 x
    # 93,722.4 = 112,466.88, less the 0.12 USD the short's extra contract fraction costs.
    assert (
        "#1 Bybit BTCUSD: liquidation +39.88% away; funding 0.00 USD this week; with the short "
        "112,466.87 USD (at entry 112,466.88 USD), mark 100,000.00 USD"
    ) in text
    assert (await store.chat_watch(CHAT)).next_digest_at == monday + timedelta(days=7)
    assert await say(bot, "/digest off") == "Weekly digest off."


async def test_a_chat_that_blocked_the_bot_is_not_warned_until_start(
    tracking: tuple[RunningBot, MovingMarket, AlertService], telegram: FakeTelegram
) -> None:
    bot, market, alerts = tracking
    await say(bot, HAND)
    telegram.blocked_chats.add(CHAT)
    await market.set_mark(108_000)
    assert await alerts.track_cycle(NOW) == 1
    assert await alerts.deliver(bot.app.bot) == 0
    assert [c.method for c in telegram.calls].count("403") == 1
    # Paused: the price runs on, but nothing is queued or tried.
    await market.set_mark(122_000)
    assert await alerts.track_cycle(NOW) == 0
    telegram.blocked_chats.clear()
    assert (await say(bot, "/start")).endswith(
        "Welcome back: your alerts and tracked hedges are watched again."
    )
    await market.set_mark(134_000)
    assert await alerts.track_cycle(NOW) == 1


async def test_margin_added_after_a_warning_is_told_with_edit_and_moves_the_liquidation(
    tracking: tuple[RunningBot, MovingMarket, AlertService],
) -> None:
    bot, market, alerts = tracking
    await say(bot, HAND)
    await market.set_mark(134_000)
    assert await alerts.track_cycle(NOW) == 1  # within 5 %: add 0.15760898 BTC, it said
    answer = await say(bot, "/edit 1 +0.15760898")
    # The advice, taken: liquidation at 1.3 x 134,000 = 174,200.00 USD, +85.87 % from the entry.
    assert "Margin 0.55760941 BTC (isolated, 0.15760898 BTC of it added since)" in answer
    assert "liquidation at 174,200.00 USD (+85.87%) from the entry" in answer
    # Its warnings start afresh: just past 30 % away now (the advice rounds up), so nothing; a
    # rise to 136,000 (+28 % away) warns of the 30 % tier again.
    assert await alerts.track_cycle(NOW) == 0
    await market.set_mark(136_000)
    assert await alerts.track_cycle(NOW) == 1
    await alerts.deliver(bot.app.bot)
    assert "within your 30%" in str(bot.telegram.sent()[-1].params["text"])
    assert await say(bot, "/edit 9 3x") == "you track no hedge #9: see /positions"
    assert await say(bot, "/edit 1") == (
        "say what changed: the entry, the leverage or the margin added. "
        "Example: /edit 1 @ 93800 3x +0.15"
    )


async def test_the_edit_button_shows_the_command_to_correct(replayed_venues: RunningBot) -> None:
    telegram = replayed_venues.telegram
    await ask(replayed_venues, "/track bybit BTCUSD 112467 @ 93722 3x")
    telegram.send_text("/positions")
    (listing,) = (await telegram.wait_for("sendMessage", 2))[1:]
    buttons = {b["text"]: b["callback_data"] for row in keyboard_of(listing) for b in row}
    message = {"message_id": 907, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "x"}
    telegram.press(buttons["Edit #1"], message)
    (hint,) = (await telegram.wait_for("sendMessage", 3))[2:]
    assert str(hint.params["text"]).endswith("<code>/edit 1 @ 93722 3x +0</code>")


def test_the_slower_watches_messages_carry_their_numbers() -> None:
    hedge = TrackedHedge(
        id=4,
        chat_id=CHAT,
        venue="bitget",
        symbol="BTC/USD:BTC",
        venue_symbol="BTCUSD",
        coin="BTC",
        contracts=1199,
        contract_size_usd=D("93.7165"),
        order_step_coin=D("0.001"),
        order_amount_unit="coin",
        entry_price=D("93716.5"),
        leverage=D(1),
        hedged_coins=D("1.199"),
        maintenance_margin_rate=D("0.004"),
        opened_at=NOW,
    )
    # 0.0125 BTC of funding at 100,000 is 1,250 USD: 13 steps of 0.001 BTC (93.7165 USD each).
    unhedged = UnhedgedFunding(hedge, D("0.0125"), D("0.0125") / D("1.199") * 100, 13)
    assert render_watch_event(unhedged).splitlines()[:2] == [
        "💰 Your <b>Bitget BTCUSD</b> short #4 has received 0.0125 BTC of funding, 1.04% of the "
        "1.199 BTC it hedges; those coins are not hedged.",
        "Selling <b>0.013 BTC</b> more would hedge them.",
    ]
    expiry = datetime(2025, 6, 27, 8, tzinfo=UTC)
    roll = RollChoice(
        "okx", "BTC-USD-250926", datetime(2025, 9, 26, 8, tzinfo=UTC), D("2.1"), D("8.4")
    )
    dated = hedge.model_copy(update={"expiry": expiry, "venue_symbol": "BTCUSDM25"})
    text = render_watch_event(ExpiryReminder(dated, 1, expiry, (roll,)))
    assert text.splitlines()[:3] == [
        "⏳ Your <b>Bitget BTCUSDM25</b> short #4 expires in 1 day, at 2025-06-27 08:00 UTC: the "
        "hedge ends then unless you roll it.",
        "Rolling into a later future locks in its premium now:",
        "• OKX BTC-USD-250926 (to 2025-09-26): +2.10% (+8.40% a year)",
    ]


async def test_a_contract_is_named_in_the_venues_spelling_or_ccxts(
    replayed_venues: RunningBot,
) -> None:
    own = await ask(replayed_venues, "/track okx btc-usd-swap 1124 3x")
    unified = await ask(replayed_venues, "/track okx BTC/USD:BTC 1000 3x")
    assert own.startswith("<b>Tracking</b> #1 <b>OKX</b> BTC-USD-SWAP (perpetual): short 1,124")
    assert unified.startswith("<b>Tracking</b> #2 <b>OKX</b> BTC-USD-SWAP (perpetual): short 1,000")


async def test_twenty_hedges_fit_a_phone_one_line_each_and_one_in_full_by_number(
    replayed_venues: RunningBot,
) -> None:
    telegram = replayed_venues.telegram
    for n in range(1, MAX_TRACKED_PER_CHAT + 1):
        telegram.send_text(f"/track bybit BTCUSD {10_000 + n} @ 93722 3x")
        await telegram.wait_for("sendMessage", n)
    telegram.send_text("/positions")
    (listing,) = (await telegram.wait_for("sendMessage", 21))[20:]
    text = str(listing.params["text"])
    assert len(text) <= 4096
    lines = text.splitlines()
    assert lines[1].startswith("#1 Bybit BTCUSD: short 10,001 contracts, liquidation +49.25% away")
    assert lines[1].endswith("<i>(quoted 2025-04-28 08:00 UTC)</i>")
    assert sum(line.startswith("#") for line in lines) == 20
    assert lines[-1] == "<code>/positions 3</code> shows #3 in full."
    telegram.send_text("/positions 7")
    (one,) = (await telegram.wait_for("sendMessage", 22))[21:]
    assert "#7 <b>Bybit</b> BTCUSD (perpetual): short 10,007 contracts" in str(one.params["text"])
    assert "Mark 93,722.40 USD; liquidation" in str(one.params["text"])


async def test_liquidation_warnings_go_out_when_no_funding_history_can_be_had(
    tracking: tuple[RunningBot, MovingMarket, AlertService], monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, market, alerts = tracking
    await say(bot, HAND)

    async def nobody_answers(coin: str, days: int = 30) -> None:
        raise NoMarketData(f"no funding history for {coin}: no venue answered")

    monkeypatch.setattr(market.service, "funding_history", nobody_answers)
    await market.set_mark(125_000)
    assert await alerts.track_cycle(NOW) == 1  # the 15 % warning, without funding's figures
