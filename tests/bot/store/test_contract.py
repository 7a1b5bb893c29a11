"""The store contract, run against every backend: what the features rely on a store to do."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from bot.defaults import UserSettings
from bot.store import Lead, Store
from hedgecore.alerts import (
    AlertKind,
    AlertRefused,
    AlertRule,
    AlertSpec,
    AlertState,
    GroupState,
    admit_alert,
)
from hedgecore.tracking import ChatWatch, PlacedShort, Tiers, WatchState

from .conftest import Opener

NOW = datetime(2026, 12, 3, 8, tzinfo=UTC)
ABOVE = AlertSpec(coin="BTC", kind=AlertKind.ABOVE, threshold_8h=D("0.0003"), venue="bybit")
BEFORE = AlertSpec(coin="ETH", kind=AlertKind.BEFORE, minutes_before=30)
PLACED = PlacedShort(
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


def admit(wanted: AlertSpec):  # type: ignore[no-untyped-def]
    return lambda existing: admit_alert(existing, wanted)


async def test_settings_are_kept_and_replaced(open_store: Opener) -> None:
    store = await open_store()
    assert await store.user_settings(7) == UserSettings()
    await store.save_user_settings(7, UserSettings(leverage=D(3), venues=("okx", "bybit")))
    await store.save_user_settings(7, UserSettings(leverage=D(2), venues=("okx",)))
    reopened = await open_store()
    assert await reopened.user_settings(7) == UserSettings(leverage=D(2), venues=("okx",))
    assert await reopened.user_settings(8) == UserSettings()


async def test_alerts_are_added_listed_deleted_and_refused_past_admit(open_store: Opener) -> None:
    store = await open_store()
    first = await store.add_alert(1, ABOVE, admit(ABOVE))
    second = await store.add_alert(1, BEFORE, admit(BEFORE))
    await store.add_alert(2, ABOVE, admit(ABOVE))
    assert second.id > first.id
    assert first == AlertRule(id=first.id, chat_id=1, **ABOVE.model_dump())
    with pytest.raises(AlertRefused):
        await store.add_alert(1, ABOVE, admit(ABOVE))  # the same alert twice
    assert [r.id for r in await store.alerts_of(1)] == [first.id, second.id]
    assert await store.delete_alerts(1, first.id) == 1
    assert await store.delete_alerts(1, first.id) == 0
    assert await store.delete_alerts(2) == 1
    assert [r.id for r in await store.alerts_of(1)] == [second.id]


async def test_a_chats_limit_holds_when_its_alerts_are_added_at_once(open_store: Opener) -> None:
    store = await open_store()

    def at_most_three(existing: object) -> None:
        if len(existing) >= 3:  # type: ignore[arg-type]
            raise AlertRefused("three at most")

    wanted = [ABOVE.model_copy(update={"threshold_8h": D(i) / 10000}) for i in range(1, 9)]
    results = await asyncio.gather(
        *(store.add_alert(5, spec, at_most_three) for spec in wanted), return_exceptions=True
    )
    assert sum(isinstance(r, AlertRule) for r in results) == 3
    assert len(await store.alerts_of(5)) == 3


async def test_active_alerts_leave_out_paused_chats_and_come_in_id_order(
    open_store: Opener,
) -> None:
    store = await open_store()
    kept = [await store.add_alert(chat, ABOVE, admit(ABOVE)) for chat in (3, 1, 2)]
    await store.pause_chat(1)
    assert await store.read_active_alerts(list) == [kept[0], kept[2]]
    assert await store.resume_chat(1) is True
    assert await store.resume_chat(1) is False
    assert [r.id for r in await store.read_active_alerts(list)] == [r.id for r in kept]


async def test_a_cycle_commits_state_and_messages_that_are_claimed_once(
    open_store: Opener,
) -> None:
    store = await open_store()
    assert await store.alert_state() == AlertState()
    assert await store.lead() == Lead(taken=True)  # the cycles' writes are the leader's
    assert await store.lead() == Lead(taken=False)
    state = AlertState(
        groups={("BTC", AlertKind.ABOVE, None): GroupState(0.0003, frozenset({4}))},
        reminded={9: NOW},
    )
    await store.commit_cycle(state, [(1, "one"), (2, "two"), (1, "three")])
    assert await store.alert_state() == state
    pending = await store.pending_messages(10)
    assert [(chat, text) for _, chat, text in pending] == [(1, "one"), (2, "two"), (1, "three")]
    ids = [message_id for message_id, _, _ in pending]
    assert await store.claim_messages(ids[:2], 60) == set(ids[:2])
    assert await store.claim_messages(ids, 60) == {ids[2]}  # the others are held
    assert await store.pending_messages(10) == []
    await store.mark_message(ids[0], "sent")
    await store.pause_chat(1)  # what is queued for a chat that blocked the bot goes
    counts = await store.counts()
    assert counts["alerts waiting to be sent"] == 1
    assert counts["paused chats"] == 1


async def test_tracked_hedges_and_their_warnings_survive_a_restart(open_store: Opener) -> None:
    store = await open_store()
    assert await store.lead()
    first = await store.add_tracked(4, PLACED, lambda existing: None)
    second = await store.add_tracked(4, PLACED, lambda existing: None)
    watch = WatchState(against_since=NOW, against_told=NOW, expiry_told=frozenset({7}))
    chat = ChatWatch(tiers=Tiers(pct=(D(20), D(5))))
    await store.commit_tracking(
        {first.id: frozenset({D(30), D(15)}), second.id: frozenset({D(5)})},
        {first.id: watch},
        {4: chat},
        [(4, "warned")],
    )
    await store.commit_tracking({second.id: frozenset()}, {}, {}, [])  # recovered
    store = await open_store()
    assert [h.id for h in await store.tracked_of(4)] == [first.id, second.id]
    assert await store.tracking_warned() == {first.id: frozenset({D(30), D(15)})}
    assert await store.watch_states() == {first.id: watch}
    assert await store.chat_watch(4) == chat
    assert await store.chat_watches() == {4: chat}
    moved = PLACED.model_copy(update={"entry_price": D(90000)})
    replaced = await store.replace_tracked(4, first.id, moved)
    assert replaced is not None
    assert replaced.entry_price == D(90000)
    assert await store.tracking_warned() == {}  # a corrected hedge is warned afresh
    assert await store.replace_tracked(5, first.id, moved) is None  # not that chat's
    assert await store.delete_tracked(4, first.id) == 1
    assert await store.watch_states() == {}
    assert [h.id for h in await store.active_tracked()] == [second.id]
    assert await store.delete_tracked(4) == 1


def test_every_backend_serves_the_whole_contract() -> None:
    from bot.store.postgres import PostgresStore
    from bot.store.sqlite import SqliteStore

    wanted = {name for name in vars(Store) if not name.startswith("_")}
    for backend in (SqliteStore, PostgresStore):
        assert wanted <= set(dir(backend)), backend
