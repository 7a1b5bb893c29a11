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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, Field

from hedgecore.inverse import annualise_rate, rate_per_8h
from hedgecore.models import Frozen

# Hysteresis: a crossing re-arms once the value is this far back across the threshold.
HYSTERESIS_SHARE = Decimal("0.1")
MIN_HYSTERESIS_8H = Decimal("0.00001")  # 0.001 % per 8 hours


class AlertKind(StrEnum):
    """What an alert watches."""

    ABOVE = "above"  # funding per 8h rises above the threshold
    BELOW = "below"  # funding per 8h falls below the threshold
    NEGATIVE = "negative"  # funding turns against the short (below zero)
    BEFORE = "before"  # a reminder minutes before each funding time
    SPREAD = "spread"  # the gap between the dearest and cheapest venue exceeds the threshold


class AlertRule(Frozen):
    """One user's alert."""

    id: int = Field(gt=0)
    chat_id: int
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


class AlertEvent(Frozen):
    """A rule that fired, with what the message needs."""

    rule: AlertRule
    venue: str  # where the watched value came from
    rate: Decimal
    interval_hours: Decimal
    rate_8h: Decimal
    apr_pct: Decimal
    spread_8h: Decimal | None = None
    funding_time: AwareDatetime | None = None
    best_venue: str  # the venue best for a short right now
    best_rate_8h: Decimal
    at: AwareDatetime


@dataclass(frozen=True)
class AlertState:
    """What evaluation remembers between cycles (and the store keeps across restarts)."""

    disarmed: frozenset[int] = frozenset()  # crossing rules that fired and have not cleared
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


class _Group:
    """Rules watching one value, sorted by threshold (reminders: by minutes)."""

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        ordered = sorted(rules, key=lambda r: (r.limit_8h, r.minutes_before, r.id))
        self.rules = ordered
        self.keys = [
            r.minutes_before if r.kind is AlertKind.BEFORE else r.limit_8h for r in ordered
        ]


class RuleIndex:
    """Rules grouped by the value they watch and sorted, so a cycle only touches rules that may change."""

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        by_group: dict[tuple[str, AlertKind, str | None], list[AlertRule]] = {}
        for rule in rules:
            by_group.setdefault(rule.group, []).append(rule)
        self._groups = {key: _Group(members) for key, members in by_group.items()}
        self._by_id = {rule.id: rule for members in by_group.values() for rule in members}

    def __len__(self) -> int:
        return len(self._by_id)

    def rule(self, rule_id: int) -> AlertRule | None:
        """The rule with this id, if indexed."""
        return self._by_id.get(rule_id)

    @property
    def coins(self) -> set[str]:
        """Coins that have rules: the ones worth refreshing."""
        return {coin for coin, _, _ in self._groups}

    def groups(self) -> Iterable[tuple[tuple[str, AlertKind, str | None], _Group]]:
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


def _event(
    rule: AlertRule,
    seen: FundingObservation,
    best: FundingObservation,
    spread: Decimal | None,
    at: datetime,
    funding_time: datetime | None = None,
) -> AlertEvent:
    return AlertEvent(
        rule=rule,
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


def _holding(group: _Group, kind: AlertKind, value: Decimal) -> list[AlertRule]:
    """Crossing rules of a group whose condition holds: one slice of the sorted thresholds."""
    if kind is AlertKind.ABOVE or kind is AlertKind.SPREAD:
        return group.rules[: bisect.bisect_left(group.keys, value)]  # thresholds below the value
    # Below and negative: limits above the value.
    return group.rules[bisect.bisect_right(group.keys, value) :]


def _reminders(
    group: _Group, seen: FundingObservation, reminded: Mapping[int, datetime], now: datetime
) -> list[AlertRule]:
    """Reminder rules due before the watched venue's next funding time, not yet sent for it."""
    funding_time = seen.next_funding_time
    if funding_time is None or funding_time <= now:
        return []
    minutes_left = (funding_time - now) / timedelta(minutes=1)
    due = group.rules[
        bisect.bisect_left(group.keys, minutes_left) :
    ]  # minutes_before >= minutes left
    return [rule for rule in due if reminded.get(rule.id) != funding_time]


def evaluate(
    index: RuleIndex, observations: Iterable[FundingObservation], state: AlertState, now: datetime
) -> Evaluation:
    """Every event of this cycle, and the state to keep: fires on crossings, reminders once.

    Work is proportional to the rules whose condition holds and the rules waiting to re-arm,
    not to all rules.
    """
    by_coin: dict[str, list[FundingObservation]] = {}
    for observation in observations:
        by_coin.setdefault(observation.coin, []).append(observation)
    best = {coin: max(seen, key=lambda o: (o.rate_8h, o.venue)) for coin, seen in by_coin.items()}
    watched = {key: _watched(key[1], key[2], by_coin.get(key[0], [])) for key, _ in index.groups()}

    # Re-arm first: a rule that cleared since it fired may fire again in this same cycle.
    disarmed = set()
    for rule_id in state.disarmed:
        rule = index.rule(rule_id)
        if rule is None:
            continue  # deleted since
        seen = watched.get(rule.group)
        if seen is None or not cleared(rule.kind, rule.limit_8h, seen[1]):
            disarmed.add(rule_id)
    reminded = {
        rule_id: time
        for rule_id, time in state.reminded.items()
        if time > now and index.rule(rule_id)
    }

    events: list[AlertEvent] = []
    for key, group in index.groups():
        seen = watched[key]
        if seen is None:
            continue
        observation, value, spread = seen
        kind, coin_best = key[1], best[key[0]]
        if kind is AlertKind.BEFORE:
            for rule in _reminders(group, observation, reminded, now):
                reminded[rule.id] = observation.next_funding_time  # type: ignore[assignment]
                events.append(
                    _event(rule, observation, coin_best, None, now, observation.next_funding_time)
                )
            continue
        for rule in _holding(group, kind, value):
            if rule.id not in disarmed:
                disarmed.add(rule.id)
                events.append(_event(rule, observation, coin_best, spread, now))
    return Evaluation(
        events=tuple(events), state=AlertState(disarmed=frozenset(disarmed), reminded=reminded)
    )


def initial_state(
    rule: AlertRule, observations: Iterable[FundingObservation], state: AlertState
) -> AlertState:
    """The state for a new rule: a condition that already holds counts as crossed, not as news."""
    if rule.kind is AlertKind.BEFORE:
        return state
    coin_observations = [o for o in observations if o.coin == rule.coin]
    watched = _watched(rule.kind, rule.venue, coin_observations)
    if watched is not None and holds(rule.kind, rule.limit_8h, watched[1]):
        return AlertState(disarmed=state.disarmed | {rule.id}, reminded=state.reminded)
    return state
