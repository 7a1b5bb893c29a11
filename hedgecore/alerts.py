"""Funding-rate alert rules and their evaluation: pure, and indexed for a million rules.

Rules speak from the side of a hedger who is short a perpetual: positive funding is income,
negative funding is a cost. Rates are compared per 8 hours whatever the venue's interval.
A rule without a venue watches the venue best for a short (the highest rate).

A crossing rule (above, below, negative, spread) fires when its condition starts to hold and
then stays quiet until the condition has cleared by a margin (hysteresis), so a rate hovering at
the threshold does not fire every cycle. A reminder (before) fires once per funding time.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from pydantic import AwareDatetime, Field

from hedgecore.errors import Refused
from hedgecore.inverse import annualise_rate, rate_per_8h
from hedgecore.models import Frozen

# Hysteresis: a crossing re-arms once the value is this far back across the threshold.
HYSTERESIS_SHARE = Decimal("0.1")
MIN_HYSTERESIS_8H = Decimal("0.00001")  # 0.001 % per 8 hours
MAX_ALERTS_PER_CHAT = 20
MAX_ALERT_ID = 2**63 - 1  # the largest id a database row can have (SQLite's, PostgreSQL's bigint)


class AlertKind(StrEnum):
    """What an alert watches."""

    ABOVE = "above"  # funding per 8h rises above the threshold
    BELOW = "below"  # funding per 8h falls below the threshold
    NEGATIVE = "negative"  # funding turns against the short (below zero)
    BEFORE = "before"  # a reminder minutes before each funding time
    SPREAD = "spread"  # the gap between the dearest and cheapest venue exceeds the threshold


class AlertSpec(Frozen):
    """What an alert watches on which coin (and venue), before it is anyone's rule."""

    coin: str
    kind: AlertKind
    threshold_8h: Decimal = Decimal(0)  # rate per 8 hours, as a fraction
    minutes_before: int = Field(default=0, ge=0, le=24 * 60)
    venue: str | None = None

    @property
    def limit_8h(self) -> Decimal:
        """The rate per 8 hours the rule compares with: zero for `negative`."""
        return Decimal(0) if self.kind is AlertKind.NEGATIVE else self.threshold_8h

    @property
    def group(self) -> tuple[str, AlertKind, str | None]:
        """Rules sharing coin, kind and venue watch the same value."""
        return (self.coin, self.kind, None if self.kind is AlertKind.SPREAD else self.venue)

    def watches_as(self, other: AlertSpec) -> bool:
        """Whether `other` watches the very same thing (a threshold `negative` ignores aside)."""
        return (self.coin, self.kind, self.limit_8h, self.minutes_before, self.venue) == (
            other.coin,
            other.kind,
            other.limit_8h,
            other.minutes_before,
            other.venue,
        )


class AlertRule(AlertSpec):
    """One chat's alert, as stored."""

    id: int = Field(gt=0, le=MAX_ALERT_ID)
    chat_id: int


class AlertRefused(Refused):
    """An alert cannot be added; the message says why in words a user can act on."""


def admit_alert(existing: Sequence[AlertRule], wanted: AlertSpec) -> None:
    """Refuse an alert the chat already has, or one past the per-chat limit."""
    if any(wanted.watches_as(rule) for rule in existing):
        raise AlertRefused("you already have that alert; see /alerts.")
    if len(existing) >= MAX_ALERTS_PER_CHAT:
        raise AlertRefused(
            f"you have {MAX_ALERTS_PER_CHAT} alerts, the most allowed: remove one with /unalert N."
        )


class FundingObservation(Frozen):
    """A venue's funding on a coin at one refresh."""

    venue: str
    coin: str
    rate: Decimal
    interval_hours: Decimal = Field(gt=0)
    next_funding_time: AwareDatetime | None = None
    observed_at: AwareDatetime

    @property
    def rate_8h(self) -> Decimal:
        """The rate restated per 8 hours."""
        return rate_per_8h(self.rate, self.interval_hours)


@dataclass(frozen=True, slots=True)
class AlertReading:
    """What a group of rules saw in one cycle: shared by every event it raised."""

    coin: str
    venue: str  # where the watched value came from
    rate: Decimal
    interval_hours: Decimal
    rate_8h: Decimal
    apr_pct: Decimal
    spread_8h: Decimal | None
    funding_time: datetime | None
    best_venue: str  # the venue best for a short right now
    best_rate_8h: Decimal
    at: datetime


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A rule that fired, and what it saw."""

    rule: AlertRule
    reading: AlertReading


GroupKey = tuple[str, AlertKind, str | None]


@dataclass(frozen=True)
class GroupState:
    """What a group of crossing rules remembers: the last value, and who waits to re-arm.

    Rules whose condition held at `value` are disarmed and rules cleared at it are armed, by
    their position alone; only rules in the hysteresis band between need naming.
    """

    value: float
    waiting: frozenset[int] = frozenset()  # rules in the band that fired and have not cleared


@dataclass(frozen=True)
class AlertState:
    """What evaluation remembers between cycles (and the store keeps across restarts)."""

    groups: Mapping[GroupKey, GroupState] = field(default_factory=dict)
    reminded: Mapping[int, datetime] = field(default_factory=dict)  # reminder rule -> funding time


@dataclass(frozen=True)
class Evaluation:
    """Events of one cycle and the state after it."""

    events: tuple[AlertEvent, ...]
    state: AlertState


def hysteresis(threshold_8h: Decimal) -> Decimal:
    """How far back across a threshold a value must go before the rule re-arms."""
    return max(abs(threshold_8h) * HYSTERESIS_SHARE, MIN_HYSTERESIS_8H)


def holds(kind: AlertKind, limit_8h: Decimal, value: Decimal) -> bool:
    """Whether a crossing rule's condition holds for a watched value."""
    if kind is AlertKind.ABOVE or kind is AlertKind.SPREAD:
        return value > limit_8h
    return value < limit_8h


def cleared(kind: AlertKind, limit_8h: Decimal, value: Decimal) -> bool:
    """Whether a crossing rule's condition has cleared by its hysteresis margin."""
    if kind is AlertKind.ABOVE or kind is AlertKind.SPREAD:
        return value <= limit_8h - hysteresis(limit_8h)
    return value >= limit_8h + hysteresis(limit_8h)


class _Spec(NamedTuple):
    """What a rule says beyond its group's coin and kind: few distinct ones, shared by many."""

    threshold_8h: Decimal
    minutes_before: int
    venue: str | None


class _Group:
    """Rules watching one value, sorted so that a cycle finds the ones that change by bisection.

    Stored column by column in arrays (id, chat, spec, sort key, re-arm value): a million rules
    take tens of MB, not the GB that as many rule objects take. A rule is made again from its
    columns when it fires. Keys are floats of the rules' Decimal limits: equal Decimals give
    equal floats and rates never differ in the seventeenth digit, so comparisons agree with the
    Decimal ones.
    """

    def __init__(self, key: GroupKey) -> None:
        self.coin, self.kind, _ = key
        self.rising = self.kind in (AlertKind.ABOVE, AlertKind.SPREAD)  # fires as the value rises
        self._sign = -1 if self.rising else 1
        self._specs: list[_Spec] = []
        self._spec_numbers: dict[_Spec, int] = {}
        self._spec_bounds: list[tuple[float, float]] = []  # each spec's sort key and re-arm value
        self.fill([])

    def fill(self, members: Iterable[tuple[int, int, int]]) -> None:
        """Hold exactly these rules, given as (id, chat id, spec number)."""
        # Users pick from few distinct limits: bucket the rules by limit and sort the few limits,
        # not the rules (one sort of a hundred thousand rules would hold the interpreter for a
        # tenth of a second, and the index is built beside a running event loop). The store
        # reads rules in id order: each bucket and the id column are sorted as they come.
        by_key: dict[float, list[tuple[int, int, int]]] = {}
        by_id: list[tuple[int, int, int]] = []
        for member in members:
            by_key.setdefault(self._spec_bounds[member[2]][0], []).append(member)
            by_id.append(member)
        ordered = [member for key in sorted(by_key) for member in sorted(by_key[key])]
        self.ids = array("q", [rule_id for rule_id, _, _ in ordered])
        self._chat_ids = array("q", [chat_id for _, chat_id, _ in ordered])
        self._spec_of = array("I", [spec for _, _, spec in ordered])
        self.keys = array("d", [self._spec_bounds[spec][0] for _, _, spec in ordered])
        # The value at which each rule re-arms; it rises with the limit, so it is sorted too.
        self.clear_keys = array("d", [self._spec_bounds[spec][1] for _, _, spec in ordered])
        # Each rule's spec by id, and so its key: a rule is found by bisection among its key's.
        by_id.sort()
        self._known_ids = array("q", [rule_id for rule_id, _, _ in by_id])
        self._known_specs = array("I", [spec for _, _, spec in by_id])

    def spec_number(self, rule: AlertRule) -> int:
        """The number of the rule's spec, added to the group's table if it is new."""
        spec = _Spec(rule.threshold_8h, rule.minutes_before, rule.venue)
        number = self._spec_numbers.get(spec)
        if number is None:
            number = self._spec_numbers[spec] = len(self._specs)
            self._specs.append(spec)
            if self.kind is AlertKind.BEFORE:
                self._spec_bounds.append((float(rule.minutes_before), float(rule.minutes_before)))
            else:
                limit = rule.limit_8h
                self._spec_bounds.append(
                    (float(limit), float(limit + self._sign * hysteresis(limit)))
                )
        return number

    def __len__(self) -> int:
        return len(self.ids)

    def _key_range(self, key: float) -> tuple[int, int]:
        low = bisect.bisect_left(self.keys, key)
        return low, bisect.bisect_right(self.keys, key, low)

    def _known(self, rule_id: int) -> int | None:
        """Where a rule sits in the id column, or None if it is not in the group."""
        i = bisect.bisect_left(self._known_ids, rule_id)
        return i if i < len(self._known_ids) and self._known_ids[i] == rule_id else None

    def among(self, rule_ids: set[int]) -> set[int]:
        """Which of `rule_ids` are in the group: each by bisection when they are few, else by
        one pass over the id column."""
        if len(rule_ids) * 32 < len(self._known_ids):
            return {rule_id for rule_id in rule_ids if self._known(rule_id) is not None}
        return rule_ids.intersection(self._known_ids)

    def position(self, rule_id: int) -> int | None:
        """Where a rule sits in the group, or None if it is not in it."""
        i = self._known(rule_id)
        if i is None:
            return None
        low, high = self._key_range(self._spec_bounds[self._known_specs[i]][0])
        return bisect.bisect_left(self.ids, rule_id, low, high)

    def rule_at(self, n: int) -> AlertRule:
        """The rule at position `n`, made again from its columns."""
        spec = self._specs[self._spec_of[n]]
        return AlertRule.model_construct(
            id=self.ids[n],
            chat_id=self._chat_ids[n],
            coin=self.coin,
            kind=self.kind,
            threshold_8h=spec.threshold_8h,
            minutes_before=spec.minutes_before,
            venue=spec.venue,
        )

    def add(self, rule: AlertRule) -> None:
        """Put a rule not in the group in its place: found by bisection, the columns shift by one."""
        spec = self.spec_number(rule)
        key, clear = self._spec_bounds[spec]
        low, high = self._key_range(key)
        n = bisect.bisect_left(self.ids, rule.id, low, high)
        self.ids.insert(n, rule.id)
        self._chat_ids.insert(n, rule.chat_id)
        self._spec_of.insert(n, spec)
        self.keys.insert(n, key)
        self.clear_keys.insert(n, clear)
        i = bisect.bisect_left(self._known_ids, rule.id)
        self._known_ids.insert(i, rule.id)
        self._known_specs.insert(i, spec)

    def remove(self, rule_id: int) -> None:
        """Take a rule out of the group (nothing if it is not in it)."""
        n, i = self.position(rule_id), self._known(rule_id)
        if n is None or i is None:
            return
        for column in (self.ids, self._chat_ids, self._spec_of, self.keys, self.clear_keys):
            del column[n]
        del self._known_ids[i], self._known_specs[i]

    def holding(self, value: float) -> range:
        """Positions of the rules whose condition holds at `value`: a prefix or a suffix."""
        if self.rising:
            return range(bisect.bisect_left(self.keys, value))
        return range(bisect.bisect_right(self.keys, value), len(self))

    def band(self, value: float) -> range:
        """Positions of the rules neither holding nor cleared at `value` (the hysteresis band)."""
        if self.rising:
            return range(
                bisect.bisect_left(self.keys, value), bisect.bisect_left(self.clear_keys, value)
            )
        return range(
            bisect.bisect_right(self.clear_keys, value), bisect.bisect_right(self.keys, value)
        )

    def sweep(
        self, previous: GroupState | None, value: float
    ) -> tuple[list[AlertRule], GroupState]:
        """Rules that fire as the value moves from `previous` to `value`, and the group's new state.

        Only the rules between the two values and those waiting in the band are looked at.
        """
        if previous is None:
            # First sight of this group: whatever holds now counts as crossed already, not as news.
            return [], GroupState(value)
        held, holds_now, band = self.holding(previous.value), self.holding(value), self.band(value)
        waiting = {n for rule_id in previous.waiting if (n := self.position(rule_id)) is not None}
        # Newly holding rules were in the band or cleared: armed unless they were waiting.
        if self.rising:
            newly = range(held.stop, holds_now.stop)
        else:
            newly = range(holds_now.start, held.start)
        fired = [self.rule_at(n) for n in newly if n not in waiting]
        # Rules left in the band stay disarmed if they held before or were waiting already.
        still_held = range(max(band.start, held.start), min(band.stop, held.stop))
        still_waiting = {self.ids[n] for n in still_held} | {
            self.ids[n] for n in waiting if n in band
        }
        return fired, GroupState(value, frozenset(still_waiting))


class RuleIndex:
    """Rules grouped by the value they watch and sorted, so a cycle only touches rules that may
    change; a rule added or removed is put in or taken out of its place, without a rebuild."""

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        """Index `rules`, read one at a time: none is kept but as its group's columns."""
        self._groups: dict[GroupKey, _Group] = {}
        members: dict[GroupKey, list[tuple[int, int, int]]] = {}
        for rule in rules:
            group = self._groups.get(rule.group)
            if group is None:
                group = self._groups[rule.group] = _Group(rule.group)
            members.setdefault(rule.group, []).append(
                (rule.id, rule.chat_id, group.spec_number(rule))
            )
        # No map of every rule to its group: growing a dict of a million entries holds the
        # interpreter for a tenth of a second at a time. The few groups are asked instead.
        for key, group in self._groups.items():
            group.fill(members.pop(key))

    def __len__(self) -> int:
        return sum(len(group) for group in self._groups.values())

    def group_of(self, rule_id: int) -> GroupKey | None:
        """The group a rule belongs to, or None if it is not indexed (deleted)."""
        return next(
            (key for key, group in self._groups.items() if group.position(rule_id) is not None),
            None,
        )

    def indexed(self, rule_ids: Iterable[int]) -> set[int]:
        """Which of `rule_ids` are indexed: every group is asked for all of them at once (asking
        for each id in turn took seconds for the 100,000 reminders of a million rules)."""
        wanted = set(rule_ids)
        found: set[int] = set()
        for group in self._groups.values():
            if not wanted:
                break
            in_group = group.among(wanted)
            found |= in_group
            wanted -= in_group
        return found

    def add(self, rule: AlertRule) -> None:
        """Index a rule (one indexed already is put in its place afresh)."""
        self.remove(rule.id)
        group = self._groups.get(rule.group)
        if group is None:
            group = self._groups[rule.group] = _Group(rule.group)
        group.add(rule)

    def remove(self, rule_id: int) -> None:
        """Forget a rule (nothing if it is not indexed)."""
        key = self.group_of(rule_id)
        if key is None:
            return
        group = self._groups[key]
        group.remove(rule_id)
        if not len(group):
            del self._groups[key]

    @property
    def coins(self) -> set[str]:
        """Coins that have rules: the ones worth refreshing."""
        return {coin for coin, _, _ in self._groups}

    def groups(self) -> Iterable[tuple[GroupKey, _Group]]:
        """Every group with its key (coin, kind, venue)."""
        return self._groups.items()


def _watched(
    kind: AlertKind, venue: str | None, observations: Sequence[FundingObservation]
) -> tuple[FundingObservation, Decimal, Decimal | None] | None:
    """The observation a group watches, the value compared, and the spread for spread rules."""
    if not observations:
        return None
    best = max(observations, key=lambda o: (o.rate_8h, o.venue))
    if kind is AlertKind.SPREAD:
        if len(observations) < 2:
            return None
        spread = best.rate_8h - min(o.rate_8h for o in observations)
        return best, spread, spread
    if venue is not None:
        mine = next((o for o in observations if o.venue == venue), None)
        return None if mine is None else (mine, mine.rate_8h, None)
    return best, best.rate_8h, None


def _reading(
    seen: FundingObservation,
    best: FundingObservation,
    spread: Decimal | None,
    at: datetime,
    funding_time: datetime | None = None,
) -> AlertReading:
    return AlertReading(
        coin=seen.coin,
        venue=seen.venue,
        rate=seen.rate,
        interval_hours=seen.interval_hours,
        rate_8h=seen.rate_8h,
        apr_pct=annualise_rate(seen.rate, seen.interval_hours) * 100,
        spread_8h=spread,
        funding_time=funding_time,
        best_venue=best.venue,
        best_rate_8h=best.rate_8h,
        at=at,
    )


def _reminders(
    group: _Group, seen: FundingObservation, reminded: Mapping[int, datetime], now: datetime
) -> list[AlertRule]:
    """Reminder rules due before the watched venue's next funding time, not yet sent for it."""
    funding_time = seen.next_funding_time
    if funding_time is None or funding_time <= now:
        return []
    minutes_left = (funding_time - now) / timedelta(minutes=1)
    due = range(bisect.bisect_left(group.keys, minutes_left), len(group))  # minutes_before >= left
    return [group.rule_at(n) for n in due if reminded.get(group.ids[n]) != funding_time]


def evaluate(
    index: RuleIndex, observations: Iterable[FundingObservation], state: AlertState, now: datetime
) -> Evaluation:
    """Every event of this cycle, and the state to keep: fires on crossings, reminders once.

    A group seen for the first time (new, or state lost) starts quietly at today's value.
    """
    by_coin: dict[str, list[FundingObservation]] = {}
    for observation in observations:
        by_coin.setdefault(observation.coin, []).append(observation)
    upcoming = {rule_id: time for rule_id, time in state.reminded.items() if time > now}
    indexed = index.indexed(upcoming)
    reminded = {rule_id: time for rule_id, time in upcoming.items() if rule_id in indexed}
    groups: dict[GroupKey, GroupState] = {}
    events: list[AlertEvent] = []
    for key, group in index.groups():
        coin, kind, venue = key
        previous = state.groups.get(key)
        watched = _watched(kind, venue, by_coin.get(coin, []))
        if watched is None:
            if previous is not None:
                groups[key] = previous  # no data this cycle: remember where we were
            continue
        seen, value, spread = watched
        best = max(by_coin[coin], key=lambda o: (o.rate_8h, o.venue))
        if kind is AlertKind.BEFORE:
            fired = _reminders(group, seen, reminded, now)
            for rule in fired:
                reminded[rule.id] = seen.next_funding_time  # type: ignore[assignment]
            reading_time = seen.next_funding_time
        else:
            fired, groups[key] = group.sweep(previous, float(value))
            reading_time = None
        if fired:
            reading = _reading(seen, best, spread, now, reading_time)
            events += [AlertEvent(rule, reading) for rule in fired]
    return Evaluation(events=tuple(events), state=AlertState(groups=groups, reminded=reminded))
