"""How a store's records become models and back: one way, for every backend."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.defaults import DEFAULT_SETTINGS, UserSettings
from hedgecore.alerts import AlertKind, AlertRule, AlertState, GroupState
from hedgecore.tracking import ChatWatch, TrackedHedge, WatchState

ALERT_COLUMNS = "id, chat_id, coin, kind, threshold_8h, minutes_before, venue"
# Every alert of chats that have not blocked the bot, in id order (the index reads them so).
ACTIVE_ALERTS = (
    f"SELECT {ALERT_COLUMNS} FROM alert_rules "
    "WHERE chat_id NOT IN (SELECT chat_id FROM paused_chats) ORDER BY id"
)
# Every table of the schema (the same on each backend), and its columns, for copying a database.
TABLES: dict[str, tuple[str, ...]] = {
    "user_settings": ("user_id", "leverage", "hedge_ratio", "venues", "updated_at"),
    "alert_rules": (
        "id",
        "chat_id",
        "coin",
        "kind",
        "threshold_8h",
        "minutes_before",
        "venue",
        "created_at",
    ),
    "alert_state": ("id", "state"),
    "outbox": ("id", "chat_id", "text", "created_at", "sent_at", "outcome", "claimed_until"),
    "paused_chats": ("chat_id", "since"),
    "tracked_hedges": ("id", "chat_id", "placed", "created_at"),
    "tracking_warned": ("hedge_id", "tiers"),
    "tracking_watch": ("hedge_id", "state"),
    "chat_watch": ("chat_id", "watch"),
}
Rows = dict[str, list[tuple[Any, ...]]]  # rows of each table, columns as in TABLES


def user_settings(row: Sequence[Any]) -> UserSettings:
    """A user's settings from (leverage, hedge_ratio, venues)."""
    leverage, ratio, venues = row
    return UserSettings(
        leverage=Decimal(leverage),
        hedge_ratio=Decimal(ratio),
        venues=tuple(v for v in venues.split(",") if v),
    )


def alert_rule(row: Sequence[Any]) -> AlertRule:
    """An alert rule from a row of ALERT_COLUMNS."""
    rule_id, chat_id, coin, kind, threshold, minutes, venue = row
    return AlertRule(
        id=rule_id,
        chat_id=chat_id,
        coin=coin,
        kind=AlertKind(kind),
        threshold_8h=Decimal(threshold),
        minutes_before=minutes,
        venue=venue,
    )


def tracked_hedge(row: Sequence[Any]) -> TrackedHedge:
    """A tracked hedge from (id, chat_id, placed as JSON)."""
    hedge_id, chat_id, placed = row
    return TrackedHedge(id=hedge_id, chat_id=chat_id, **json.loads(placed))


def warned_tiers(text: str) -> frozenset[Decimal]:
    """The tiers a hedge was warned of, from their stored form ("30,15")."""
    return frozenset(Decimal(t) for t in text.split(",") if t)


def tracking_rows(
    warned: Mapping[int, frozenset[Decimal]],
    watched: Mapping[int, WatchState],
    chats: Mapping[int, ChatWatch],
) -> tuple[list[tuple[int, str]], list[tuple[int]], list[tuple[int, str]], list[tuple[int, str]]]:
    """A tracking cycle's changes as rows: warned tiers kept, warnings cleared, watch states,
    chats' choices."""
    kept = [
        (hedge_id, ",".join(str(t) for t in sorted(tiers)))
        for hedge_id, tiers in warned.items()
        if tiers
    ]
    cleared = [(hedge_id,) for hedge_id, tiers in warned.items() if not tiers]
    states = [(hedge_id, watch_to_json(state)) for hedge_id, state in watched.items()]
    chat_rows = [(chat_id, watch.model_dump_json()) for chat_id, watch in chats.items()]
    return kept, cleared, states, chat_rows


def watch_to_json(state: WatchState) -> str:
    """A hedge's watch state as stored."""
    return json.dumps(
        {
            "against_since": state.against_since and state.against_since.isoformat(),
            "against_told": state.against_told and state.against_told.isoformat(),
            "expiry_told": sorted(state.expiry_told),
            "unhedged_told": state.unhedged_told,
        }
    )


def watch_from_json(text: str) -> WatchState:
    """A hedge's watch state from its stored form."""
    raw = json.loads(text)

    def moment(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    return WatchState(
        against_since=moment(raw["against_since"]),
        against_told=moment(raw["against_told"]),
        expiry_told=frozenset(raw["expiry_told"]),
        unhedged_told=raw["unhedged_told"],
    )


def state_to_json(state: AlertState) -> str:
    """The evaluator's state as JSON, for the database."""
    return json.dumps(
        {
            "groups": [
                {
                    "coin": coin,
                    "kind": kind.value,
                    "venue": venue,
                    "value": group.value,
                    "waiting": sorted(group.waiting),
                }
                for (coin, kind, venue), group in state.groups.items()
            ],
            "reminded": {
                str(rule_id): moment.isoformat() for rule_id, moment in state.reminded.items()
            },
        }
    )


def state_from_json(text: str) -> AlertState:
    """The evaluator's state from its JSON."""
    data = json.loads(text)
    groups = {
        (g["coin"], AlertKind(g["kind"]), g["venue"]): GroupState(
            float(g["value"]), frozenset(g["waiting"])
        )
        for g in data["groups"]
    }
    reminded = {
        int(rule_id): datetime.fromisoformat(moment) for rule_id, moment in data["reminded"].items()
    }
    return AlertState(groups=groups, reminded=reminded)


SETTINGS_CACHE_SIZE = 50_000
# Every stored setting, or one more than the cache holds: then it holds none of them up front.
EVERY_SETTING = (
    "SELECT user_id, leverage, hedge_ratio, venues FROM user_settings "
    f"LIMIT {SETTINGS_CACHE_SIZE + 1}"
)


class SettingsCache:
    """Users' settings in memory: every stored one while they number up to `size`, so that a
    user with none (most) is answered without a read; past that, the most recently used.

    Settings are read on every /hedge and written rarely: the store writes through it.
    """

    def __init__(self, size: int = SETTINGS_CACHE_SIZE) -> None:
        self._size = size
        self._settings: OrderedDict[int, UserSettings] = OrderedDict()
        self._holds_every_stored = False

    def get(self, user_id: int) -> UserSettings | None:
        """The user's settings if known here (the defaults when every stored one is held)."""
        cached = self._settings.get(user_id)
        if cached is not None:
            self._settings.move_to_end(user_id)
            return cached
        return DEFAULT_SETTINGS if self._holds_every_stored else None

    def remember(self, user_id: int, settings: UserSettings) -> None:
        """A user's settings as stored now."""
        self._settings[user_id] = settings
        self._settings.move_to_end(user_id)
        if len(self._settings) > self._size:
            self._holds_every_stored = False
            self._settings.popitem(last=False)

    def hold(self, rows: Sequence[Sequence[Any]]) -> bool:
        """Hold every stored setting (the rows of `EVERY_SETTING`), unless there are more than
        fit; returns whether it does."""
        self.forget()
        if len(rows) > self._size:
            return False
        self._settings.update((int(row[0]), user_settings(row[1:])) for row in rows)
        self._holds_every_stored = True
        return True

    def forget(self) -> None:
        """Know nothing (the stored settings may have changed unseen)."""
        self._settings.clear()
        self._holds_every_stored = False
