"""Funding alerts end to end: the real Application, the fake Bot API, a scripted market, real SQLite."""

import asyncio
import copy
import json
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.alerting import AlertService
from bot.parsing import parse_alert
from bot.services import BotData
from bot.store import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from hedgecore.alerts import MAX_ALERTS_PER_CHAT, AlertRule, admit_alert
from hedgecore.desk import Desk
from hedgecore.market.feeds import SnapshotFeed
from hedgecore.market.service import MarketService, Ttls
from hedgecore.models import DataSource

from .conftest import DEMO, RunningBot, start_bot, stop_bot
from .fake_telegram import FakeTelegram, keyboard_of

CHAT = 77
NOW = datetime(2025, 4, 28, 8, 0, 5, tzinfo=UTC)


class ScriptedMarket:
    """Bybit's BTC perpetual from the demo snapshot, with a funding rate the test sets."""

    def __init__(self) -> None:
        recorded = json.loads(DEMO.read_text())["venues"]["bybit"]
        self.recorded = copy.deepcopy(recorded)
        # Time to live 0: every ask refreshes, so a changed rate shows on the next cycle.
        self.service = MarketService(
            [SnapshotFeed("bybit", self.recorded)],
            clock=NOW.timestamp,
            ttls=Ttls(quotes=0),
            source=DataSource.SNAPSHOT,
        )

    async def set_rate(self, rate: str) -> None:
        self.recorded["funding_rates"]["BTC/USD:BTC"]["fundingRate"] = float(rate)
        # The cache serves the old value once while it refreshes: let the refresh land.
        await self.service.coin_markets("BTC")
        await self.service.cache.settled()


async def add(store: Store, chat_id: int, command: str) -> AlertRule:
    """Add the alert an /alert command's words describe, under the product's rules."""
    wanted = parse_alert(command.split())
    return await store.add_alert(chat_id, wanted, lambda existing: admit_alert(existing, wanted))


def install(app: Any, market: ScriptedMarket) -> AlertService:
    """Swap the running bot's market for the scripted one (keeping its store)."""
    bot_data: BotData = app.bot_data
    services = bot_data.services
    alerts = AlertService(services.store, market.service)
    bot_data.start(replace(services, desk=Desk(market.service), alerts=alerts))
    return alerts


@pytest.fixture
async def alerting(
    telegram: FakeTelegram, tmp_path: Path
) -> AsyncIterator[tuple[RunningBot, ScriptedMarket, AlertService]]:
    db = tmp_path / "alerts.sqlite3"
    bot = RunningBot(telegram, await start_bot(telegram, db), db, "aiohttp")
    market = ScriptedMarket()
    alerts = install(bot.app, market)
    await market.set_rate("0.00006498")
    yield bot, market, alerts
    await stop_bot(bot.app)


async def say(bot: RunningBot, text: str) -> str:
    before = len(bot.telegram.sent())
    bot.telegram.send_text(text, chat_id=CHAT)
    return str((await bot.telegram.wait_for("sendMessage", before + 1))[before].params["text"])


async def test_an_alert_fires_once_on_the_crossing(
    alerting: tuple[RunningBot, ScriptedMarket, AlertService],
) -> None:
    bot, market, alerts = alerting
    assert (await say(bot, "/alert BTC above 0.01%")).startswith(
        "Alert #1 set: BTC: funding above +0.0100% per 8h on the best venue for a short."
    )
    assert await alerts.cycle(NOW) == 0  # 0.0065 % is below 0.01 %
    await market.set_rate("0.0002")
    assert await alerts.cycle(NOW) == 1
    assert await alerts.deliver(bot.app.bot) == 1
    text = str(bot.telegram.sent()[-1].params["text"])
    assert text.startswith(
        "🔔 <b>BTC</b> funding rose above +0.0100% per 8h on Bybit: now +0.0200% per 8h (+21.90% a year)"
    )
    assert "For you: a short hedge <b>receives</b> it." in text
    # Still above: no second alert, however many cycles.
    for _ in range(3):
        assert await alerts.cycle(NOW) == 0
    assert await alerts.deliver(bot.app.bot) == 0


async def test_a_restart_between_queueing_and_sending_delivers_once(
    alerting: tuple[RunningBot, ScriptedMarket, AlertService], telegram: FakeTelegram
) -> None:
    bot, market, alerts = alerting
    await say(bot, "/alert BTC negative")
    assert await alerts.cycle(NOW) == 0
    await market.set_rate("-0.0001")
    assert await alerts.cycle(NOW) == 1  # queued in the outbox with the new state...
    sent_before = len(telegram.sent())
    await stop_bot(bot.app)  # ...and the process goes down before sending
    bot.app = await start_bot(telegram, bot.db)
    restarted = install(bot.app, market)
    assert await restarted.cycle(NOW) == 0  # the state survived: no second event
    assert await restarted.deliver(bot.app.bot) == 1
    assert await restarted.deliver(bot.app.bot) == 0
    (alert,) = telegram.sent()[sent_before:]
    assert str(alert.params["text"]).startswith("🔔 <b>BTC</b> funding turned negative on Bybit")
    assert "a short hedge <b>pays</b> it" in str(alert.params["text"])


async def test_a_user_who_blocked_the_bot_is_paused_until_start(
    alerting: tuple[RunningBot, ScriptedMarket, AlertService], telegram: FakeTelegram
) -> None:
    bot, market, alerts = alerting
    await say(bot, "/alert BTC above 0.01%")
    await alerts.cycle(NOW)
    telegram.blocked_chats.add(CHAT)
    await market.set_rate("0.0002")
    assert await alerts.cycle(NOW) == 1
    assert await alerts.deliver(bot.app.bot) == 0
    assert [c.method for c in telegram.calls].count("403") == 1
    # Paused: it cleared and crossed again, but nothing is queued or tried.
    await market.set_rate("0.00001")
    await alerts.cycle(NOW)
    await market.set_rate("0.0003")
    assert await alerts.cycle(NOW) == 0
    await alerts.deliver(bot.app.bot)
    assert [c.method for c in telegram.calls].count("403") == 1
    telegram.blocked_chats.clear()
    assert (await say(bot, "/start")).endswith(
        "Welcome back: your alerts and tracked hedges are watched again."
    )
    await market.set_rate("0.00001")
    await alerts.cycle(NOW)
    await market.set_rate("0.0003")
    assert await alerts.cycle(NOW) == 1


async def test_listing_deleting_limits_and_duplicates(
    alerting: tuple[RunningBot, ScriptedMarket, AlertService],
) -> None:
    bot, _, _ = alerting
    assert (await say(bot, "/alerts")).startswith("You have no alerts.")
    await say(bot, "/alert BTC above 0.05%")
    assert await say(bot, "/alert btc above 0.05%") == "you already have that alert; see /alerts."
    await say(bot, "/alert BTC before 30m bybit")
    listing = await say(bot, "/alerts")
    assert (
        listing
        == "<b>Your alerts</b>\n#1 BTC: funding above +0.0500% per 8h on the best venue for a short\n#2 BTC: 30 min before each funding time on Bybit"
    )
    (call,) = bot.telegram.sent()[-1:]
    assert [b["text"] for row in keyboard_of(call) for b in row] == ["Delete #1", "Delete #2"]
    message = {
        "message_id": 901,
        "date": 0,
        "chat": {"id": CHAT, "type": "private"},
        "text": "list",
    }
    bot.telegram.press("a:del:1", message, chat_id=CHAT)
    (edit,) = await bot.telegram.wait_for("editMessageText", 1)
    assert "#1" not in edit.params["text"]
    assert "#2 BTC" in edit.params["text"]
    assert await say(bot, "/unalert 9") == "No such alert: see /alerts."
    # Ids past what SQLite stores are no alert either, typed or in a button's data.
    assert await say(bot, "/unalert 99999999999999999999") == "No such alert: see /alerts."
    bot.telegram.press("a:del:99999999999999999999999", message, chat_id=CHAT)
    answers = await bot.telegram.wait_for("answerCallbackQuery", 2)
    assert answers[-1].params["text"] == "This button is out of date: send /alerts again."
    assert await say(bot, "/unalert all") == "Deleted 1 alert."
    assert await say(bot, "/unalert") == "say which alert, or all. Example: /unalert 3"
    assert (
        await say(bot, "/alert BTC sideways 3")
        == "watch above, below, negative, before or spread, not 'sideways'. Example: /alert BTC above 0.05%"
    )
    for n in range(MAX_ALERTS_PER_CHAT):
        await say(bot, f"/alert BTC above 0.{n + 1:02d}%")
    assert (
        await say(bot, "/alert BTC above 50%")
        == "funding rate must be within +-10% per interval, got '50%'. Example: /alert BTC above 0.05%"
    )
    assert (
        await say(bot, "/alert BTC above 9.5%")
        == f"you have {MAX_ALERTS_PER_CHAT} alerts, the most allowed: remove one with /unalert N."
    )


async def test_store_keeps_rules_and_state_across_reopening(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "s.sqlite3")
    rule = await add(store, 5, "ETH below -0.01% okx")
    await store.close()
    reopened = await SqliteStore.open(tmp_path / "s.sqlite3")
    try:
        assert await reopened.alerts_of(5) == [rule]
        assert await reopened.read_active_alerts(list) == [rule]
        await reopened.pause_chat(5)
        assert await reopened.read_active_alerts(list) == []
        assert await reopened.resume_chat(5)
        assert not await reopened.resume_chat(5)
    finally:
        await reopened.close()


async def test_alert_without_arguments_walks_through_with_buttons(
    alerting: tuple[RunningBot, ScriptedMarket, AlertService],
) -> None:
    bot, _, _ = alerting
    assert (await say(bot, "/alert")).startswith("Which coin should I watch?")
    (ask,) = bot.telegram.sent()[-1:]
    coins = {b["text"]: b["callback_data"] for row in keyboard_of(ask) for b in row}
    assert list(coins) == ["BTC", "ETH"]
    message = {
        "message_id": 902,
        "date": 0,
        "chat": {"id": CHAT, "type": "private"},
        "text": "which coin",
    }
    bot.telegram.press(coins["BTC"], message, chat_id=CHAT)
    (step,) = await bot.telegram.wait_for("editMessageText", 1)
    choices = {b["text"]: b["callback_data"] for row in keyboard_of(step) for b in row}
    assert list(choices) == [
        "above 0.01%",
        "above 0.03%",
        "below 0%",
        "negative",
        "before 30m",
        "spread 0.02%",
    ]
    bot.telegram.press(choices["negative"], message, chat_id=CHAT)
    edits = await bot.telegram.wait_for("editMessageText", 2)
    assert (
        edits[1]
        .params["text"]
        .startswith(
            "Alert #1 set: BTC: funding turns negative (against a short) on the best venue for a short."
        )
    )
    bot.telegram.press(choices["negative"], message, chat_id=CHAT)
    edits = await bot.telegram.wait_for("editMessageText", 3)
    assert edits[2].params["text"] == "you already have that alert; see /alerts."


CRASHING_CYCLE = """
import asyncio, os, signal, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from bot.alerting import AlertService
from bot.parsing import parse_alert
from bot.store import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.bot.test_alerts import NOW, ScriptedMarket, add

async def main():
    store = await SqliteStore.open(Path({db!r}))
    await add(store, 77, "BTC above 0.01%")
    market = ScriptedMarket()
    alerts = AlertService(store, market.service)
    await market.set_rate("0.00006498")
    await alerts.cycle(NOW)
    await market.set_rate("0.0002")
    assert await alerts.cycle(NOW) == 1
    os.kill(os.getpid(), signal.SIGKILL)  # dies after queueing, before sending

asyncio.run(main())
"""


async def test_a_killed_process_loses_no_alert_and_sends_it_once(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "killed.sqlite3"
    root = str(Path(__file__).resolve().parents[2])
    crash = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_CYCLE.format(root=root, db=str(db))
    )
    assert await crash.wait() == -signal.SIGKILL
    app = await start_bot(telegram, db)
    try:
        market = ScriptedMarket()
        alerts = install(app, market)
        await market.set_rate("0.0002")
        assert (
            await alerts.cycle(NOW) == 0
        )  # the killed process's state was committed with its alert
        assert await alerts.deliver(app.bot) == 1
        assert await alerts.deliver(app.bot) == 0
    finally:
        await stop_bot(app)
    (sent,) = telegram.sent()
    assert str(sent.params["text"]).startswith(
        "🔔 <b>BTC</b> funding rose above +0.0100% per 8h on Bybit"
    )


async def queue_for_chats(store: SqliteStore, chats: range) -> None:
    """One waiting alert for each chat, as a cycle would queue them."""
    state = await store.alert_state()
    await store.commit_cycle(state, [(chat, f"alert for {chat}") for chat in chats])


async def test_two_senders_on_one_database_send_each_message_once(
    running: RunningBot, tmp_path: Path
) -> None:
    db = tmp_path / "shared.sqlite3"
    # Two senders on one database, as several workers on PostgreSQL will be (SQLite refuses a
    # second hedgebot process).
    first = await SqliteStore.open(db, one_process=False)
    second = await SqliteStore.open(db, one_process=False)
    market = ScriptedMarket()
    try:
        await queue_for_chats(first, range(1000, 1040))
        senders = [AlertService(first, market.service), AlertService(second, market.service)]
        delivered = await asyncio.gather(*(s.deliver(running.app.bot) for s in senders))
        assert sum(delivered) == 40
        chats = [int(c.params["chat_id"]) for c in running.telegram.sent("sendMessage")]
        assert sorted(chats) == list(range(1000, 1040))  # each chat once, whoever sent it
    finally:
        await first.close()
        await second.close()
        await market.service.close()


class FullDisk(SqliteStore):
    """A store whose disk fills up once sending has begun: closing a message fails."""

    async def mark_message(self, message_id: int, outcome: str) -> None:
        raise sqlite3.OperationalError("database or disk is full")


async def test_a_full_disk_stops_sending_and_repeats_nothing(
    running: RunningBot, tmp_path: Path
) -> None:
    store = await FullDisk.open(tmp_path / "full.sqlite3")
    market = ScriptedMarket()
    try:
        await queue_for_chats(store, range(2000, 2010))
        alerts = AlertService(store, market.service)
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            await alerts.deliver(running.app.bot)  # the real cause, for the job's error log
        for _ in range(2):  # the minute job keeps trying: what is in flight is not taken again
            assert await alerts.deliver(running.app.bot) == 0
        # Each message went out at most once: a message in flight when marking failed stays
        # claimed, so it is not sent again while its claim lasts.
        chats = [int(c.params["chat_id"]) for c in running.telegram.sent("sendMessage")]
        assert len(chats) == len(set(chats))
        assert len(chats) <= 10
    finally:
        await store.close()
        await market.service.close()


async def test_a_write_sqlite_rolled_back_itself_reports_its_own_cause(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    await (await SqliteStore.open(path)).close()
    # What a full disk does: SQLite ends the transaction itself, so ROLLBACK has none to end.
    raw = sqlite3.connect(path)
    raw.execute(
        "CREATE TRIGGER full AFTER INSERT ON outbox "
        "BEGIN SELECT RAISE(ROLLBACK, 'database or disk is full'); END"
    )
    raw.close()
    store = await SqliteStore.open(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="database or disk is full"):
            await store.commit_cycle(await store.alert_state(), [(1, "alert")])
    finally:
        await store.close()


async def test_the_per_chat_pace_remembers_only_the_chats_of_the_last_second(
    running: RunningBot, tmp_path: Path
) -> None:
    store = await SqliteStore.open(tmp_path / "pace.sqlite3")
    market = ScriptedMarket()
    loop_time = asyncio.get_running_loop().time
    skipped = {"s": 0.0}  # time the test jumps over without waiting it out
    try:
        sender = AlertService(store, market.service, clock=lambda: loop_time() + skipped["s"])
        await queue_for_chats(store, range(2000, 2020))
        assert await sender.deliver(running.app.bot) == 20
        assert sender.chats_paced == 20  # each of them must wait its second
        skipped["s"] += 1.5
        await queue_for_chats(store, range(2020, 2021))
        assert await sender.deliver(running.app.bot) == 1
        assert sender.chats_paced == 1  # the 20 served earlier no longer hold anything back
    finally:
        await store.close()
        await market.service.close()


async def test_rules_added_and_deleted_after_the_index_is_built_take_effect_at_once(
    alerting: tuple[RunningBot, ScriptedMarket, AlertService],
) -> None:
    bot, market, alerts = alerting
    await say(bot, "/alert BTC above 0.03%")
    assert await alerts.cycle(NOW) == 0  # the index is built here, with rule #1
    await say(bot, "/alert BTC above 0.01%")  # put in its place: no rebuild
    await market.set_rate("0.0002")
    assert await alerts.cycle(NOW) == 1  # #2 fires (0.02 % > 0.01 %); #1 waits for 0.03 %
    await say(bot, "/unalert 1")
    await market.set_rate("0.0004")
    assert await alerts.cycle(NOW) == 0  # #1 is gone from the index too


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 5) -> bool:
    """Whether `check` passes within `within_s`, asked every 50 ms."""
    for _ in range(int(within_s / 0.05)):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_of_two_processes_one_runs_the_cycles_learns_the_others_alerts_and_hands_over(
    postgres_url: str,
) -> None:
    market = ScriptedMarket()
    await market.set_rate("0.00006498")
    clock = Monotonic()
    stores = [await PostgresStore.open(postgres_url) for _ in range(2)]
    leader, worker = (AlertService(store, market.service, clock=clock) for store in stores)
    try:
        assert await leader.leads()
        assert leader.cycle_due()
        assert not await worker.leads()  # it stands by
        assert await leader.cycle(NOW) == 0  # its index is built, with no alert in it
        clock.now += 30
        assert await leader.leads()
        assert not leader.cycle_due()  # once a minute

        # Added through the other process, as its /alert handler does.
        rule = await add(stores[1], CHAT, "BTC above 0.01%")
        worker.rules_added([rule])
        clock.now += 30
        assert await leader.leads()
        assert leader.cycle_due()
        assert await leader.cycle(NOW) == 0  # below: the crossing is what fires
        await market.set_rate("0.0002")
        assert await leader.leads()
        assert await leader.cycle(NOW) == 1
        assert [chat for _, chat, _ in await stores[1].pending_messages(10)] == [CHAT]

        await stores[0].close()  # the leader goes
        # The server lets the lock go once the leader's session has ended: within moments.
        assert await eventually(worker.leads)
        assert worker.cycle_due()  # at once
        assert await worker.cycle(NOW) == 0  # what fired is remembered: not again
    finally:
        for store in stores:
            await store.close()
