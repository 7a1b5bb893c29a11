"""SQLite storage behind one interface: per-user settings (alerts will join them).

WAL mode, a versioned schema migrated at start-up (`PRAGMA user_version`), and every call run
in a worker thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
SETTINGS_CACHE_SIZE = 50_000

# Each entry moves the schema from version i to i + 1; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE user_settings (
        user_id     INTEGER PRIMARY KEY,
        leverage    TEXT NOT NULL,
        hedge_ratio TEXT NOT NULL,
        venues      TEXT NOT NULL,
        updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    """,
)


class UserSettings(BaseModel):
    """A user's defaults for /hedge."""

    model_config = ConfigDict(frozen=True)

    leverage: Decimal = Field(default=Decimal(1), ge=1, le=125)
    hedge_ratio: Decimal = Field(default=Decimal(1), gt=0, le=2)
    venues: tuple[str, ...] = ()  # preferred venues; empty means all


class Store:
    """The bot's database; one instance for the process."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        # Settings are read on every /hedge and written rarely: keep the recent ones, write through.
        self._settings: OrderedDict[int, UserSettings] = OrderedDict()

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating if needed) and migrate the database at `path`."""

        def connect() -> sqlite3.Connection:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA busy_timeout=5000")
            migrate(connection)
            return connection

        return cls(await asyncio.to_thread(connect))

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:
            return await asyncio.to_thread(work, self._connection)

    async def user_settings(self, user_id: int) -> UserSettings:
        """A user's settings, or the defaults."""
        cached = self._settings.get(user_id)
        if cached is not None:
            self._settings.move_to_end(user_id)
            return cached

        def read(db: sqlite3.Connection) -> UserSettings:
            row = db.execute(
                "SELECT leverage, hedge_ratio, venues FROM user_settings WHERE user_id = ?",
                (user_id,),
            ).fetchone()
            if row is None:
                return UserSettings()
            leverage, ratio, venues = row
            return UserSettings(
                leverage=Decimal(leverage),
                hedge_ratio=Decimal(ratio),
                venues=tuple(v for v in venues.split(",") if v),
            )

        settings = await self._run(read)
        self._remember(user_id, settings)
        return settings

    async def save_user_settings(self, user_id: int, settings: UserSettings) -> None:
        """Store a user's settings, replacing the old ones."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                """
                INSERT INTO user_settings (user_id, leverage, hedge_ratio, venues) VALUES (?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET leverage = excluded.leverage,
                    hedge_ratio = excluded.hedge_ratio, venues = excluded.venues,
                    updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                """,
                (
                    user_id,
                    str(settings.leverage),
                    str(settings.hedge_ratio),
                    ",".join(settings.venues),
                ),
            )

        await self._run(write)
        self._remember(user_id, settings)

    def _remember(self, user_id: int, settings: UserSettings) -> None:
        self._settings[user_id] = settings
        self._settings.move_to_end(user_id)
        if len(self._settings) > SETTINGS_CACHE_SIZE:
            self._settings.popitem(last=False)

    async def close(self) -> None:
        """Close the database."""
        await self._run(lambda db: db.close())


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the schema to the latest version, one transaction per step; returns the version."""
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema {version} is newer than this hedgebot ({len(MIGRATIONS)}): upgrade it"
        )
    for step, script in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.executescript(f"BEGIN; {script} PRAGMA user_version = {step}; COMMIT;")
    return len(MIGRATIONS)
