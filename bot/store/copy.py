"""`hedgebot db migrate-to URL`: a SQLite database copied whole into an empty PostgreSQL one."""

from __future__ import annotations

from pathlib import Path

from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore


async def migrate_to(source: Path, url: str) -> dict[str, int]:
    """Copy every row of the SQLite file at `source` into the empty PostgreSQL database at
    `url`, ids kept; returns the copied database's counts.

    The file is held (as a running bot holds it) for the whole copy, so no bot writes to it
    meanwhile; the copy is one transaction, so a failure leaves the target empty.
    """
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}: set HEDGEBOT_DB to the SQLite file")
    sqlite = await SqliteStore.open(source)
    try:
        rows = await sqlite.dump()
        postgres = await PostgresStore.open(url)
        try:
            await postgres.load(rows)
            return await postgres.counts()
        finally:
            await postgres.close()
    finally:
        await sqlite.close()
