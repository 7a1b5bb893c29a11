"""The SQLite store: per-user settings, alert rules, tracked hedges, their state and the outbox
in one file.

WAL mode, a versioned schema migrated at start-up (`PRAGMA user_version`), and every call run
in a worker thread so the event loop never waits on the disk. One process per file: a second
hedgebot on the same file is refused at start, since each keeps settings in memory and runs the
alert cycle (several processes share PostgreSQL instead).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from bot.defaults import DEFAULT_SETTINGS, UserSettings
from bot.store import Lead, SchemaTooNew, StoreUnavailable, records
from hedgecore.alerts import AlertRule, AlertSpec, AlertState
from hedgecore.tracking import ChatWatch, PlacedShort, TrackedHedge, WatchState

T = TypeVar("T")

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
    """
    CREATE TABLE alert_rules (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id        INTEGER NOT NULL,
        coin           TEXT NOT NULL,
        kind           TEXT NOT NULL,
        threshold_8h   TEXT NOT NULL,
        minutes_before INTEGER NOT NULL,
        venue          TEXT,
        created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE INDEX alert_rules_by_chat ON alert_rules (chat_id);
    CREATE TABLE alert_state (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        state TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id    INTEGER NOT NULL,
        text       TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        sent_at    TEXT,
        outcome    TEXT
    );
    CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
    CREATE TABLE paused_chats (
        chat_id INTEGER PRIMARY KEY,
        since   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    """,
    """
    ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
    """,
    # A tracked short is its declaration as JSON: read whole, never queried by its fields.
    """
    CREATE TABLE tracked_hedges (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id    INTEGER NOT NULL,
        placed     TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE INDEX tracked_hedges_by_chat ON tracked_hedges (chat_id);
    CREATE TABLE tracking_warned (
        hedge_id INTEGER PRIMARY KEY,
        tiers    TEXT NOT NULL
    );
    CREATE TABLE tracking_watch (
        hedge_id INTEGER PRIMARY KEY,
        state    TEXT NOT NULL
    );
    CREATE TABLE chat_watch (
        chat_id INTEGER PRIMARY KEY,
        watch   TEXT NOT NULL
    );
    """,
)

# A row no sender holds: never claimed, or its claim ran out.
_UNCLAIMED = "(claimed_until IS NULL OR claimed_until < strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (take the write lock first) ... COMMIT, or ROLLBACK on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        # SQLite may have rolled back already (a full disk does): a ROLLBACK then would fail
        # and hide the real cause.
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class SqliteStore:
    """The `Store` on one SQLite file; one instance for the process."""

    def __init__(self, connection: sqlite3.Connection, lock_fd: int | None) -> None:
        self._connection = connection
        self._lock_fd = lock_fd
        self._lock = asyncio.Lock()
        self._settings = records.SettingsCache()
        self._leading = False

    @classmethod
    async def open(cls, path: Path, one_process: bool = True) -> SqliteStore:
        """Open (creating if needed) and migrate the database at `path`.

        `one_process=False` lets other stores open the file at the same time: for tests of
        what several senders on one database do; hedgebot itself never does it.
        """

        def connect() -> sqlite3.Connection:
            try:
                connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                connection.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                raise _cannot_open(path, str(exc)) from None
            except sqlite3.DatabaseError:
                raise StoreUnavailable(
                    f"{path} is not a hedgebot database; point HEDGEBOT_DB at another file"
                ) from None
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA busy_timeout=5000")
            try:
                migrate(connection)
            except SchemaTooNew as exc:
                connection.close()
                raise SchemaTooNew(f"{path}: {exc}") from None
            return connection

        def lock_and_connect() -> tuple[sqlite3.Connection, int | None]:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                blocking = next(p for p in path.parents if p.exists())
                raise _cannot_open(path, f"{blocking} is a file, not a folder") from None
            except OSError as exc:
                raise _cannot_open(path, exc.strerror) from None
            # Locked before the first write (WAL, migrations): a second process changes nothing.
            lock_fd = _lock_for_this_process(path) if one_process else None
            try:
                return connect(), lock_fd
            except BaseException:
                if lock_fd is not None:
                    os.close(lock_fd)
                raise

        store = cls(*await asyncio.to_thread(lock_and_connect))
        if one_process:  # another process's writes would not reach this cache
            await store._hold_every_stored_setting()
        return store

    async def _hold_every_stored_setting(self) -> None:
        self._settings.hold(
            await self._run(lambda db: db.execute(records.EVERY_SETTING).fetchall())
        )

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:
            return await asyncio.to_thread(work, self._connection)

    async def user_settings(self, user_id: int) -> UserSettings:
        """A user's settings, or the defaults."""
        cached = self._settings.get(user_id)
        if cached is not None:
            return cached

        def read(db: sqlite3.Connection) -> UserSettings:
            row = db.execute(
                "SELECT leverage, hedge_ratio, venues FROM user_settings WHERE user_id = ?",
                (user_id,),
            ).fetchone()
            return DEFAULT_SETTINGS if row is None else records.user_settings(row)

        settings = await self._run(read)
        self._settings.remember(user_id, settings)
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
        self._settings.remember(user_id, settings)

    async def add_alert(
        self, chat_id: int, wanted: AlertSpec, admit: Callable[[Sequence[AlertRule]], None]
    ) -> AlertRule:
        """Add an alert once `admit` accepts it beside the chat's others (it raises to refuse)."""

        def write(db: sqlite3.Connection) -> AlertRule:
            with _transaction(db):
                admit(_alerts(db, "WHERE chat_id = ?", (chat_id,)))
                cursor = db.execute(
                    "INSERT INTO alert_rules (chat_id, coin, kind, threshold_8h, minutes_before, venue) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        chat_id,
                        wanted.coin,
                        wanted.kind.value,
                        str(wanted.threshold_8h),
                        wanted.minutes_before,
                        wanted.venue,
                    ),
                )
            assert cursor.lastrowid is not None  # an INSERT into a rowid table always has one
            return AlertRule(id=cursor.lastrowid, chat_id=chat_id, **wanted.model_dump())

        return await self._run(write)

    async def alerts_of(self, chat_id: int) -> list[AlertRule]:
        """A chat's alerts, oldest first."""
        return await self._run(lambda db: _alerts(db, "WHERE chat_id = ?", (chat_id,)))

    async def read_active_alerts(self, use: Callable[[Iterator[AlertRule]], T]) -> T:
        """What `use` makes of every alert of chats that have not blocked the bot, given one at a
        time as they are read (a million alerts never need to be in memory at once); `use` runs
        off the event loop."""

        def read(db: sqlite3.Connection) -> T:
            rows = db.execute(records.ACTIVE_ALERTS)
            return use(records.alert_rule(row) for row in rows)

        return await self._run(read)

    async def delete_alerts(self, chat_id: int, rule_id: int | None = None) -> int:
        """Delete one of a chat's alerts, or all of them; returns how many went."""

        def write(db: sqlite3.Connection) -> int:
            if rule_id is None:
                return db.execute("DELETE FROM alert_rules WHERE chat_id = ?", (chat_id,)).rowcount
            return db.execute(
                "DELETE FROM alert_rules WHERE chat_id = ? AND id = ?", (chat_id, rule_id)
            ).rowcount

        return await self._run(write)

    async def alert_state(self) -> AlertState:
        """The evaluator's state as last committed (empty on a new database)."""
        row = await self._run(
            lambda db: db.execute("SELECT state FROM alert_state WHERE id = 1").fetchone()
        )
        return AlertState() if row is None else records.state_from_json(row[0])

    async def lead(self) -> Lead:
        """The one process on the file always leads the alert cycles (taken at the first call)."""
        taken, self._leading = not self._leading, True
        return Lead(taken=taken)

    async def commit_cycle(self, state: AlertState, messages: list[tuple[int, str]]) -> None:
        """Record the new alert state and queue its messages in one transaction."""

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                db.execute(
                    "INSERT INTO alert_state (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
                    (records.state_to_json(state),),
                )
                db.executemany("INSERT INTO outbox (chat_id, text) VALUES (?, ?)", messages)

        await self._run(write)

    async def add_tracked(
        self,
        chat_id: int,
        placed: PlacedShort,
        admit: Callable[[Sequence[TrackedHedge]], None],
    ) -> TrackedHedge:
        """Track a placed short once `admit` accepts it beside the chat's others."""

        def write(db: sqlite3.Connection) -> TrackedHedge:
            with _transaction(db):
                admit(_tracked(db, "WHERE chat_id = ?", (chat_id,)))
                cursor = db.execute(
                    "INSERT INTO tracked_hedges (chat_id, placed) VALUES (?, ?)",
                    (chat_id, placed.model_dump_json()),
                )
            assert cursor.lastrowid is not None  # an INSERT into a rowid table always has one
            return TrackedHedge(id=cursor.lastrowid, chat_id=chat_id, **placed.model_dump())

        return await self._run(write)

    async def replace_tracked(
        self, chat_id: int, hedge_id: int, placed: PlacedShort
    ) -> TrackedHedge | None:
        """Correct one of a chat's tracked hedges (its warnings start afresh); None if no such."""

        def write(db: sqlite3.Connection) -> bool:
            with _transaction(db):
                found = db.execute(
                    "UPDATE tracked_hedges SET placed = ? WHERE chat_id = ? AND id = ?",
                    (placed.model_dump_json(), chat_id, hedge_id),
                ).rowcount
                if found:
                    db.execute("DELETE FROM tracking_warned WHERE hedge_id = ?", (hedge_id,))
            return bool(found)

        if not await self._run(write):
            return None
        return TrackedHedge(id=hedge_id, chat_id=chat_id, **placed.model_dump())

    async def tracked_of(self, chat_id: int) -> list[TrackedHedge]:
        """A chat's tracked hedges, oldest first."""
        return await self._run(lambda db: _tracked(db, "WHERE chat_id = ?", (chat_id,)))

    async def active_tracked(self) -> list[TrackedHedge]:
        """Every tracked hedge of chats that have not blocked the bot."""
        return await self._run(
            lambda db: _tracked(db, "WHERE chat_id NOT IN (SELECT chat_id FROM paused_chats)", ())
        )

    async def delete_tracked(self, chat_id: int, hedge_id: int | None = None) -> int:
        """Stop tracking one of a chat's hedges, or all of them; returns how many went."""
        which, args = "chat_id = ?", [chat_id]
        if hedge_id is not None:
            which, args = "chat_id = ? AND id = ?", [chat_id, hedge_id]

        def write(db: sqlite3.Connection) -> int:
            with _transaction(db):
                for table in ("tracking_warned", "tracking_watch"):
                    db.execute(
                        f"DELETE FROM {table} WHERE hedge_id IN (SELECT id FROM tracked_hedges WHERE {which})",
                        args,
                    )
                return int(db.execute(f"DELETE FROM tracked_hedges WHERE {which}", args).rowcount)

        return await self._run(write)

    async def tracking_warned(self) -> dict[int, frozenset[Decimal]]:
        """The liquidation tiers each tracked hedge was last warned of (and not recovered from)."""
        rows = await self._run(
            lambda db: db.execute("SELECT hedge_id, tiers FROM tracking_warned").fetchall()
        )
        return {hedge_id: records.warned_tiers(tiers) for hedge_id, tiers in rows}

    async def watch_states(self) -> dict[int, WatchState]:
        """What the slower watches remember of each tracked hedge."""
        rows = await self._run(
            lambda db: db.execute("SELECT hedge_id, state FROM tracking_watch").fetchall()
        )
        return {hedge_id: records.watch_from_json(state) for hedge_id, state in rows}

    async def chat_watch(self, chat_id: int) -> ChatWatch:
        """A chat's tiers and digest choice (the defaults if it never chose)."""
        row = await self._run(
            lambda db: db.execute(
                "SELECT watch FROM chat_watch WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        )
        return ChatWatch() if row is None else ChatWatch.model_validate_json(row[0])

    async def save_chat_watch(self, chat_id: int, watch: ChatWatch) -> None:
        """Store a chat's tiers and digest choice."""
        await self._run(
            lambda db: db.execute(
                "INSERT INTO chat_watch (chat_id, watch) VALUES (?, ?) ON CONFLICT (chat_id) DO UPDATE SET watch = excluded.watch",
                (chat_id, watch.model_dump_json()),
            )
        )

    async def chat_watches(self) -> dict[int, ChatWatch]:
        """Every chat that chose its own tiers or the digest."""
        rows = await self._run(
            lambda db: db.execute("SELECT chat_id, watch FROM chat_watch").fetchall()
        )
        return {chat_id: ChatWatch.model_validate_json(watch) for chat_id, watch in rows}

    async def commit_tracking(
        self,
        warned: Mapping[int, frozenset[Decimal]],
        watched: Mapping[int, WatchState],
        chats: Mapping[int, ChatWatch],
        messages: list[tuple[int, str]],
    ) -> None:
        """Record the warned tiers, watch states and chats' digest times that changed, and
        queue their messages, in one transaction."""
        kept, cleared, states, chat_rows = records.tracking_rows(warned, watched, chats)

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                db.executemany(
                    "INSERT INTO tracking_warned (hedge_id, tiers) VALUES (?, ?) ON CONFLICT (hedge_id) DO UPDATE SET tiers = excluded.tiers",
                    kept,
                )
                db.executemany("DELETE FROM tracking_warned WHERE hedge_id = ?", cleared)
                db.executemany(
                    "INSERT INTO tracking_watch (hedge_id, state) VALUES (?, ?) ON CONFLICT (hedge_id) DO UPDATE SET state = excluded.state",
                    states,
                )
                db.executemany(
                    "INSERT INTO chat_watch (chat_id, watch) VALUES (?, ?) ON CONFLICT (chat_id) DO UPDATE SET watch = excluded.watch",
                    chat_rows,
                )
                db.executemany("INSERT INTO outbox (chat_id, text) VALUES (?, ?)", messages)

        await self._run(write)

    async def pending_messages(self, limit: int) -> list[tuple[int, int, str]]:
        """Queued messages not yet sent: (id, chat_id, text), oldest first."""
        return await self._run(
            lambda db: db.execute(
                f"SELECT id, chat_id, text FROM outbox WHERE sent_at IS NULL AND {_UNCLAIMED} ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        )

    async def claim_messages(self, message_ids: Sequence[int], lease_s: int) -> set[int]:
        """Take those of the messages still free for `lease_s` seconds; returns the ids taken."""
        if not message_ids:
            return set()
        marks = ",".join("?" * len(message_ids))

        def write(db: sqlite3.Connection) -> set[int]:
            rows = db.execute(
                f"UPDATE outbox SET claimed_until = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) "
                f"WHERE id IN ({marks}) AND sent_at IS NULL AND {_UNCLAIMED} RETURNING id",
                (f"+{lease_s} seconds", *message_ids),
            ).fetchall()
            return {row[0] for row in rows}

        return await self._run(write)

    async def mark_message(self, message_id: int, outcome: str) -> None:
        """Close a queued message: 'sent', or why it will not be ('blocked')."""
        await self._run(
            lambda db: db.execute(
                "UPDATE outbox SET sent_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), outcome = ? WHERE id = ?",
                (outcome, message_id),
            )
        )

    async def pause_chat(self, chat_id: int) -> None:
        """The chat blocked the bot: stop its alerts and drop what is queued for it."""

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                db.execute("INSERT OR IGNORE INTO paused_chats (chat_id) VALUES (?)", (chat_id,))
                db.execute(
                    "UPDATE outbox SET sent_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), outcome = 'blocked' WHERE chat_id = ? AND sent_at IS NULL",
                    (chat_id,),
                )

        await self._run(write)

    async def resume_chat(self, chat_id: int) -> bool:
        """The chat is back (/start): resume its alerts; returns whether it was paused."""
        return bool(
            await self._run(
                lambda db: (
                    db.execute("DELETE FROM paused_chats WHERE chat_id = ?", (chat_id,)).rowcount
                )
            )
        )

    async def dump(self) -> records.Rows:
        """Every row of every table, for copying the database (`hedgebot db migrate-to`)."""

        def read(db: sqlite3.Connection) -> records.Rows:
            return {
                table: db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
                for table, columns in records.TABLES.items()
            }

        return await self._run(read)

    async def counts(self) -> dict[str, int]:
        """How many users, alerts, paused chats and waiting messages the database holds."""

        def read(db: sqlite3.Connection) -> dict[str, int]:
            queries = {
                "users with settings": "SELECT COUNT(*) FROM user_settings",
                "chats with alerts": "SELECT COUNT(DISTINCT chat_id) FROM alert_rules",
                "alerts": "SELECT COUNT(*) FROM alert_rules",
                "paused chats": "SELECT COUNT(*) FROM paused_chats",
                "alerts waiting to be sent": "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL",
                "tracked hedges": "SELECT COUNT(*) FROM tracked_hedges",
            }
            return {name: int(db.execute(sql).fetchone()[0]) for name, sql in queries.items()}

        return await self._run(read)

    async def close(self) -> None:
        """Close the database, and let another process open it."""
        await self._run(lambda db: db.close())
        if self._lock_fd is not None:
            os.close(self._lock_fd)


def _cannot_open(path: Path, reason: str | None) -> StoreUnavailable:
    return StoreUnavailable(
        f"cannot open the database {path}: {reason}; set HEDGEBOT_DB to a file in a writable folder"
    )


def _lock_for_this_process(path: Path) -> int:
    """Hold `path`'s lock file for as long as the store is open (the OS lets go if we die)."""
    try:
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _cannot_open(path, exc.strerror) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 20).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StoreUnavailable(
            f"{path} is in use by another hedgebot (pid {holder}): one process per SQLite "
            "file; stop that one, or set HEDGEBOT_DB to another file"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _alerts(db: sqlite3.Connection, where: str, args: tuple[object, ...]) -> list[AlertRule]:
    rows = db.execute(f"SELECT {records.ALERT_COLUMNS} FROM alert_rules {where} ORDER BY id", args)
    return [records.alert_rule(row) for row in rows]


def _tracked(db: sqlite3.Connection, where: str, args: tuple[object, ...]) -> list[TrackedHedge]:
    rows = db.execute(f"SELECT id, chat_id, placed FROM tracked_hedges {where} ORDER BY id", args)
    return [records.tracked_hedge(row) for row in rows]


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the schema to the latest version, one transaction per step; returns the version."""
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"database schema {version} is newer than this hedgebot ({len(MIGRATIONS)}): upgrade it"
        )
    for step, script in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.executescript(f"BEGIN; {script} PRAGMA user_version = {step}; COMMIT;")
    return len(MIGRATIONS)
