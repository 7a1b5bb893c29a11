"""`hedgebot db migrate-to URL`: a populated SQLite database arrives whole in PostgreSQL."""

from datetime import UTC, datetime
from decimal import Decimal as D
from functools import partial
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.defaults import UserSettings
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from hedgecore.alerts import AlertKind, AlertState, GroupState, admit_alert
from hedgecore.tracking import ChatWatch, Tiers, WatchState

from .test_contract import ABOVE, BEFORE, PLACED

NOW = datetime(2026, 12, 3, 8, tzinfo=UTC)


async def populate(path: Path) -> SqliteStore:
    store = await SqliteStore.open(path)
    await store.save_user_settings(7, UserSettings(leverage=D(3), venues=("okx",)))
    for chat, spec in ((1, ABOVE), (1, BEFORE), (2, ABOVE)):
        await store.add_alert(chat, spec, partial(admit_alert, wanted=spec))
    state = AlertState(
        groups={("BTC", AlertKind.ABOVE, "bybit"): GroupState(0.0004, frozenset({1}))},
        reminded={2: NOW},
    )
    await store.commit_cycle(state, [(1, "sent one"), (2, "waiting"), (3, "blocked")])
    sent, *_ = await store.pending_messages(10)
    await store.mark_message(sent[0], "sent")
    await store.pause_chat(3)
    hedge = await store.add_tracked(4, PLACED, lambda existing: None)
    watch = WatchState(against_since=NOW, against_told=None, expiry_told=frozenset({7}))
    await store.commit_tracking(
        {hedge.id: frozenset({D(30)})},
        {hedge.id: watch},
        {4: ChatWatch(tiers=Tiers(pct=(D(20),)), digest=True, next_digest_at=NOW)},
        [],
    )
    return store


async def snapshot(store: SqliteStore | PostgresStore) -> dict[str, object]:
    """Everything the features read back."""
    return {
        "settings": await store.user_settings(7),
        "alerts": [await store.alerts_of(chat) for chat in (1, 2, 3)],
        "active": await store.read_active_alerts(list),
        "state": await store.alert_state(),
        "pending": [(chat, text) for _, chat, text in await store.pending_messages(10)],
        "tracked": await store.tracked_of(4),
        "warned": await store.tracking_warned(),
        "watches": await store.watch_states(),
        "chats": await store.chat_watches(),
        "counts": await store.counts(),
    }


async def test_every_row_arrives_and_ids_go_on_from_the_largest(
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bot.sqlite3"
    source = await populate(path)
    before = await snapshot(source)
    await source.close()
    monkeypatch.setenv("HEDGEBOT_DB", str(path))
    assert await asyncio_main(["db", "migrate-to", postgres_url]) == 0
    assert "copied into PostgreSQL: 1 users with settings, 2 chats with alerts, 3 alerts" in (
        capsys.readouterr().out
    )
    target = await PostgresStore.open(postgres_url)
    try:
        assert await snapshot(target) == before
        added = await target.add_alert(9, ABOVE, lambda existing: None)
        assert added.id == 4  # after the three copied
    finally:
        await target.close()
    # A second copy into a database that holds data is refused.
    assert await asyncio_main(["db", "migrate-to", postgres_url]) == 1
    assert "already holds data" in capsys.readouterr().err


async def test_a_missing_file_or_a_url_that_is_not_postgresql_is_said_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEDGEBOT_DB", str(tmp_path / "none.sqlite3"))
    assert await asyncio_main(["db", "migrate-to", "mysql://x"]) == 2
    assert await asyncio_main(["db", "migrate-to", "postgresql://127.0.0.1:1/x"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("hedgebot: migrate-to takes a PostgreSQL URL, e.g. postgresql://")
    assert (
        err[1]
        == f"hedgebot: no database at {tmp_path / 'none.sqlite3'}: set HEDGEBOT_DB to the SQLite file"
    )
    assert not (tmp_path / "none.sqlite3").exists()


async def asyncio_main(argv: list[str]) -> int:
    """`main` runs its own event loop: run it in a thread, off this test's loop."""
    import asyncio

    return await asyncio.to_thread(main, argv)
