"""Each store backend behind one fixture: a new SQLite file, or a new PostgreSQL schema.

PostgreSQL runs on 127.0.0.1:5432 (trust auth, database `test`) on this project's machines.
Without it the PostgreSQL cases are skipped with a reason, unless HEDGEBOT_REQUIRE_SERVICES is
set (CI sets it), which turns the skip into a failure.
"""

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from bot.store import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore

POSTGRES = os.environ.get("HEDGEBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
Opener = Callable[[], Awaitable[Store]]


def _postgres_or_skip() -> None:
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("HEDGEBOT_REQUIRE_SERVICES"):
            pytest.fail(f"PostgreSQL at {POSTGRES} is required here and cannot be reached: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES} (set HEDGEBOT_TEST_POSTGRES to point at one)")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL schema of this test's own, as a URL that makes it the search path."""
    _postgres_or_skip()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the store of this test; again closes it first and opens it afresh, as a restart
    does; the last one opened is closed after the test."""
    opened: list[Store] = []

    async def reopened(store: Awaitable[Store]) -> Store:
        while opened:
            await opened.pop().close()
        opened.append(await store)
        return opened[-1]

    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        yield lambda: reopened(SqliteStore.open(path))
        while opened:
            await opened.pop().close()
        return
    url = request.getfixturevalue("postgres_url")
    yield lambda: reopened(PostgresStore.open(url))
    while opened:
        await opened.pop().close()
