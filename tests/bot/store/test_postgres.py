"""What is PostgreSQL's own: the bot on it end to end, a newer schema refused, no password shown."""

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal as D
from pathlib import Path

import psycopg
import pytest

from bot.defaults import DEFAULT_SETTINGS, UserSettings
from bot.store import Lead, LeadLost, SchemaTooNew, StoreUnavailable
from bot.store.postgres import LEADER_LOCKS, PostgresStore
from hedgecore.alerts import AlertState

from ..conftest import start_bot, stop_bot
from ..fake_telegram import FakeTelegram
from .test_contract import ABOVE, PLACED


async def test_the_bot_keeps_a_users_settings_in_postgresql(
    telegram: FakeTelegram, tmp_path: Path, postgres_url: str
) -> None:
    app = await start_bot(telegram, tmp_path / "unused.sqlite3", HEDGEBOT_DB=postgres_url)
    try:
        telegram.send_text("/settings leverage 3")
        await telegram.wait_for("sendMessage", 1)
        telegram.send_text("/hedge 1.2 BTC")
        (*_, plan) = await telegram.wait_for("sendMessage", 2)
        assert "at 3x" in plan.params["text"]
    finally:
        await stop_bot(app)
    assert not (tmp_path / "unused.sqlite3").exists()
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT leverage FROM user_settings").fetchall() == [("3",)]


async def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    store = await PostgresStore.open(postgres_url)
    await store.close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("INSERT INTO schema_version (version) VALUES (99)")
    with pytest.raises(SchemaTooNew, match="newer than this hedgebot"):
        await PostgresStore.open(postgres_url)


async def test_a_server_that_does_not_answer_is_said_in_one_line_without_the_password() -> None:
    url = "postgresql://hedgebot:s3cret-pw@127.0.0.1:1/hedgebot?connect_timeout=1"
    with pytest.raises(StoreUnavailable) as refused:
        await PostgresStore.open(url, timeout_s=1)
    assert "s3cret-pw" not in str(refused.value)
    assert "\n" not in str(refused.value)


async def eventually(ask: Callable[[], Awaitable[object]], wanted: object) -> object:
    """What `ask` answers once it is `wanted`, asked every 50 ms for up to 5 s; else its last."""
    for _ in range(100):
        answer = await ask()
        if answer == wanted:
            break
        await asyncio.sleep(0.05)
    return answer


async def test_a_second_poller_on_one_database_is_refused_until_the_first_stops(
    postgres_url: str,
) -> None:
    first = await PostgresStore.open(postgres_url, polling=True)
    with pytest.raises(StoreUnavailable, match="another hedgebot polls Telegram"):
        await PostgresStore.open(postgres_url, polling=True)
    worker = await PostgresStore.open(postgres_url)  # webhook workers share it
    await first.close()
    second = await PostgresStore.open(postgres_url, polling=True)
    await second.close()
    await worker.close()


async def test_one_process_leads_and_learns_what_the_others_change(postgres_url: str) -> None:
    leader = await PostgresStore.open(postgres_url)
    worker = await PostgresStore.open(postgres_url)
    try:
        assert await leader.lead() == Lead(taken=True)
        assert await worker.lead() is None  # it stands by
        with pytest.raises(LeadLost):
            await worker.commit_cycle(AlertState(), [(1, "twice?")])

        kept = await worker.add_alert(1, ABOVE, lambda existing: None)
        gone = await worker.add_alert(2, ABOVE, lambda existing: None)
        assert await leader.lead() == Lead(taken=False, added=(kept, gone))
        await worker.delete_alerts(2)
        await worker.pause_chat(1)
        assert await leader.lead() == Lead(
            taken=False, removed=(gone.id, kept.id), tracking_changed=True
        )
        await worker.resume_chat(1)
        await worker.add_tracked(1, PLACED, lambda existing: None)
        assert await leader.lead() == Lead(taken=False, added=(kept,), tracking_changed=True)
        assert await leader.lead() == Lead(taken=False)  # each change once

        await leader.commit_cycle(AlertState(), [(1, "once")])
        assert [text for _, _, text in await worker.pending_messages(10)] == ["once"]
    finally:
        await leader.close()
    # The standby takes over once the server has ended the leader's session: within moments.
    assert await eventually(worker.lead, Lead(taken=True)) == Lead(taken=True)
    await worker.close()


async def test_a_leader_whose_session_ends_commits_nothing_and_a_standby_takes_over(
    postgres_url: str,
) -> None:
    leader = await PostgresStore.open(postgres_url)
    standby = await PostgresStore.open(postgres_url)
    try:
        assert await leader.lead()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            # The leader's session ends as it would with its machine or the network gone.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND classid = %s",
                (LEADER_LOCKS,),
            )
        with pytest.raises(LeadLost):
            await leader.commit_cycle(AlertState(), [(1, "from the old leader")])
        assert await eventually(standby.lead, Lead(taken=True)) == Lead(taken=True)
        assert await leader.lead() is None
        await standby.commit_cycle(AlertState(), [(1, "from the new leader")])
        assert [text for _, _, text in await standby.pending_messages(10)] == [
            "from the new leader"
        ]
    finally:
        await leader.close()
        await standby.close()


async def test_settings_one_process_saves_are_held_by_the_others_even_across_a_lost_connection(
    postgres_url: str,
) -> None:
    saver, reader = [await PostgresStore.open(postgres_url) for _ in range(2)]
    three, five = UserSettings(leverage=D(3)), UserSettings(leverage=D(5))
    try:
        assert await eventually(lambda: reader.user_settings(99), DEFAULT_SETTINGS)
        await saver.save_user_settings(7, three)
        assert await eventually(lambda: held(reader, 7), three) == three  # no read needed
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            # The listening sessions end: what they hold could go stale unseen.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'hedgebot settings'"
            )
        assert await eventually(lambda: held(reader, 7), None) is None  # so it forgets them
        await saver.save_user_settings(7, five)
        assert await reader.user_settings(7) == five  # read from the database meanwhile
        assert await eventually(lambda: held(reader, 7), five) == five  # held again after
    finally:
        await saver.close()
        await reader.close()


async def held(store: PostgresStore, user_id: int) -> UserSettings | None:
    """What the store answers for the user from memory, without asking the database."""
    return store._settings.get(user_id)
