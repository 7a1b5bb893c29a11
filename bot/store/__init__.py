"""The one store interface the features use: users' defaults, alert rules, tracked hedges,
their state, the outbox.

`Store` is what a backend provides; SQLite (`bot.store.sqlite`) is the embedded default. Product
rules (which alerts a chat may add) live above it and reach it as `admit`, which a backend runs
inside the transaction that adds the rule, so two requests at once cannot both pass a limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol, TypeVar

from bot.defaults import UserSettings
from hedgecore.alerts import AlertRule, AlertSpec, AlertState
from hedgecore.tracking import ChatWatch, PlacedShort, TrackedHedge, WatchState

T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The store cannot be opened; the message names it and says what to do."""


class SchemaTooNew(StoreUnavailable):
    """The store was written by a newer hedgebot: this one must not touch it."""


class LeadLost(StoreUnavailable):
    """This process no longer leads the alert cycles (`Store.lead`): its cycle's writes are
    refused, as another process may be leading now."""


@dataclass(frozen=True)
class Lead:
    """This process leads the alert cycles (`Store.lead`), and what other processes changed
    since it last asked."""

    taken: bool  # the lead was taken just now: what this process built before may be stale
    added: tuple[AlertRule, ...] = ()  # alerts added, or of chats that came back
    removed: tuple[int, ...] = ()  # alert ids deleted, or of chats that blocked the bot
    tracking_changed: bool = False  # a hedge was tracked, corrected or dropped, or a chat paused


class Store(Protocol):
    """What the bot keeps between restarts; every method is safe to call from the event loop."""

    async def user_settings(self, user_id: int) -> UserSettings:
        """A user's settings, or the defaults."""
        ...

    async def save_user_settings(self, user_id: int, settings: UserSettings) -> None:
        """Store a user's settings, replacing the old ones."""
        ...

    async def add_alert(
        self, chat_id: int, wanted: AlertSpec, admit: Callable[[Sequence[AlertRule]], None]
    ) -> AlertRule:
        """Add an alert once `admit` accepts it beside the chat's others (it raises to refuse)."""
        ...

    async def alerts_of(self, chat_id: int) -> list[AlertRule]:
        """A chat's alerts, oldest first."""
        ...

    async def read_active_alerts(self, use: Callable[[Iterator[AlertRule]], T]) -> T:
        """What `use` makes of every alert of chats that have not blocked the bot, given one at a
        time as they are read (a million alerts never need to be in memory at once); `use` runs
        off the event loop."""
        ...

    async def delete_alerts(self, chat_id: int, rule_id: int | None = None) -> int:
        """Delete one of a chat's alerts, or all of them; returns how many went."""
        ...

    async def alert_state(self) -> AlertState:
        """The evaluator's state as last committed (empty on a new database)."""
        ...

    async def lead(self) -> Lead | None:
        """Take or keep the lead of the alert cycles, which one process holds at a time; None
        while another process holds it or the database cannot be reached.

        The cycles' writes (`commit_cycle`, `commit_tracking`) are refused (`LeadLost`) unless
        this process holds the lead as they commit, so two processes never both queue a
        cycle's messages.
        """
        ...

    async def commit_cycle(self, state: AlertState, messages: list[tuple[int, str]]) -> None:
        """Record the new alert state and queue its messages in one transaction."""
        ...

    async def add_tracked(
        self,
        chat_id: int,
        placed: PlacedShort,
        admit: Callable[[Sequence[TrackedHedge]], None],
    ) -> TrackedHedge:
        """Track a placed short once `admit` accepts it beside the chat's others."""
        ...

    async def replace_tracked(
        self, chat_id: int, hedge_id: int, placed: PlacedShort
    ) -> TrackedHedge | None:
        """Correct one of a chat's tracked hedges (its warnings start afresh); None if no such."""
        ...

    async def tracked_of(self, chat_id: int) -> list[TrackedHedge]:
        """A chat's tracked hedges, oldest first."""
        ...

    async def active_tracked(self) -> list[TrackedHedge]:
        """Every tracked hedge of chats that have not blocked the bot."""
        ...

    async def delete_tracked(self, chat_id: int, hedge_id: int | None = None) -> int:
        """Stop tracking one of a chat's hedges, or all of them; returns how many went."""
        ...

    async def tracking_warned(self) -> dict[int, frozenset[Decimal]]:
        """The liquidation tiers each tracked hedge was last warned of (and not recovered from)."""
        ...

    async def watch_states(self) -> dict[int, WatchState]:
        """What the slower watches remember of each tracked hedge."""
        ...

    async def chat_watch(self, chat_id: int) -> ChatWatch:
        """A chat's tiers and digest choice (the defaults if it never chose)."""
        ...

    async def save_chat_watch(self, chat_id: int, watch: ChatWatch) -> None:
        """Store a chat's tiers and digest choice."""
        ...

    async def chat_watches(self) -> dict[int, ChatWatch]:
        """Every chat that chose its own tiers or the digest."""
        ...

    async def commit_tracking(
        self,
        warned: Mapping[int, frozenset[Decimal]],
        watched: Mapping[int, WatchState],
        chats: Mapping[int, ChatWatch],
        messages: list[tuple[int, str]],
    ) -> None:
        """Record the warned tiers, watch states and chats' digest times that changed, and
        queue their messages, in one transaction."""
        ...

    async def pending_messages(self, limit: int) -> list[tuple[int, int, str]]:
        """Queued messages not sent and not claimed by a sender: (id, chat_id, text), oldest first."""
        ...

    async def claim_messages(self, message_ids: Sequence[int], lease_s: int) -> set[int]:
        """Take those of the messages still free for `lease_s` seconds; returns the ids taken.

        Atomic: of two senders claiming the same rows, each row goes to one of them.
        """
        ...

    async def mark_message(self, message_id: int, outcome: str) -> None:
        """Close a queued message: 'sent', or why it will not be ('blocked')."""
        ...

    async def pause_chat(self, chat_id: int) -> None:
        """The chat blocked the bot: stop its alerts and drop what is queued for it."""
        ...

    async def resume_chat(self, chat_id: int) -> bool:
        """The chat is back (/start): resume its alerts; returns whether it was paused."""
        ...

    async def counts(self) -> dict[str, int]:
        """How many users, alerts, paused chats and waiting messages the store holds."""
        ...

    async def close(self) -> None:
        """Release the store."""
        ...


async def open_store(db: Path | str, polling: bool = False) -> Store:
    """The store at `db`: a SQLite file (a path), or a PostgreSQL database (a postgresql://
    URL); created or migrated if needed.

    A SQLite file serves one process. A PostgreSQL database serves many, but one that polls
    Telegram for updates (`polling`): a second poller is refused.
    """
    if isinstance(db, str):
        from bot.store.postgres import PostgresStore

        return await PostgresStore.open(db, polling=polling)
    from bot.store.sqlite import SqliteStore

    return await SqliteStore.open(db)
