"""Each store backend behind one fixture: a new SQLite file, or a new PostgreSQL schema.

The PostgreSQL schema comes from `tests.bot.servers`, skipped (or failed, in CI) without one.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore

Opener = Callable[[], Awaitable[Store]]


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
