"""What is PostgreSQL's own: the bot on it end to end, a newer schema refused, no password shown."""

from pathlib import Path

import psycopg
import pytest

from bot.store import SchemaTooNew, StoreUnavailable
from bot.store.postgres import PostgresStore

from ..conftest import start_bot, stop_bot
from ..fake_telegram import FakeTelegram


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


async def test_a_second_hedgebot_on_one_database_is_refused_until_the_first_stops(
    postgres_url: str,
) -> None:
    first = await PostgresStore.open(postgres_url)
    with pytest.raises(StoreUnavailable, match="another hedgebot is running on this PostgreSQL"):
        await PostgresStore.open(postgres_url)
    await first.close()
    second = await PostgresStore.open(postgres_url)
    await second.close()
