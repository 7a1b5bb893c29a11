"""The alert evaluator: crossings with hysteresis, reminders once per funding time, the index."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from hedgecore.alerts import (
    AlertKind,
    AlertRule,
    AlertState,
    FundingObservation,
    GroupState,
    RuleIndex,
    cleared,
    evaluate,
    holds,
    hysteresis,
)

T0 = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
NEXT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
VENUES = ("bybit", "okx", "krakenfutures")


def seen(
    venue: str,
    rate: str,
    hours: int = 8,
    coin: str = "BTC",
    at: datetime = T0,
    next_time: datetime | None = NEXT,
) -> FundingObservation:
    return FundingObservation(
        venue=venue,
        coin=coin,
        rate=D(rate),
        interval_hours=D(hours),
        next_funding_time=next_time,
        observed_at=at,
    )


def rule(
    rule_id: int,
    kind: AlertKind,
    threshold: str = "0",
    venue: str | None = None,
    minutes: int = 0,
    coin: str = "BTC",
) -> AlertRule:
    return AlertRule(
        id=rule_id,
        chat_id=100 + rule_id,
        coin=coin,
        kind=kind,
        threshold_8h=D(threshold),
        minutes_before=minutes,
        venue=venue,
    )


def run(
    rules: list[AlertRule],
    snapshots: list[list[FundingObservation]],
    start: datetime = T0,
    step: timedelta = timedelta(minutes=1),
) -> list[list[int]]:
    """Rule ids fired at each cycle."""
    return run_index(RuleIndex(rules), snapshots, start, step)


def run_index(
    index: RuleIndex,
    snapshots: list[list[FundingObservation]],
    start: datetime = T0,
    step: timedelta = timedelta(minutes=1),
) -> list[list[int]]:
    """Rule ids an index fires at each cycle."""
    state, fired = AlertState(), []
    for n, snapshot in enumerate(snapshots):
        result = evaluate(index, snapshot, state, start + n * step)
        state = result.state
        fired.append([event.rule.id for event in result.events])
    return fired


def test_above_fires_on_the_crossing_once_and_re_arms_after_clearing() -> None:
    above = rule(1, AlertKind.ABOVE, "0.0003")
    rates = ["0.0001", "0.00031", "0.0004", "0.00029", "0.00027", "0.00031"]
    # 0.029 % is inside the 0.003 % margin: still quiet; 0.027 % clears it; then it fires again.
    assert run([above], [[seen("bybit", r)] for r in rates]) == [[], [1], [], [], [], [1]]


def test_below_and_negative_speak_for_the_short() -> None:
    below, negative = rule(1, AlertKind.BELOW, "0.0001"), rule(2, AlertKind.NEGATIVE)
    rates = ["0.0002", "0.00005", "-0.00001", "-0.0002", "0.000001", "0.00002", "-0.00001"]
    # Below 0.01 % never clears (it would need 0.011 %); negative re-arms at 0.002 %, which is
    # back above zero by its 0.001 % margin, and fires again when funding turns negative.
    assert run([below, negative], [[seen("okx", r)] for r in rates]) == [
        [],
        [1],
        [2],
        [],
        [],
        [],
        [2],
    ]


def test_rates_are_compared_per_8_hours() -> None:
    # Kraken's 0.002 % an hour is 0.016 % per 8 hours: above a 0.015 % threshold.
    above = rule(1, AlertKind.ABOVE, "0.00015", venue="krakenfutures")
    index = RuleIndex([above])
    start = evaluate(index, [seen("krakenfutures", "0.00001", hours=1)], AlertState(), T0)
    result = evaluate(index, [seen("krakenfutures", "0.00002", hours=1)], start.state, T0)
    (event,) = result.events
    assert (event.reading.rate, event.reading.interval_hours, event.reading.rate_8h) == (
        D("0.00002"),
        D(1),
        D("0.00016"),
    )
    assert event.reading.apr_pct == D("17.52")


def test_without_a_venue_the_best_venue_for_a_short_is_watched() -> None:
    negative = rule(1, AlertKind.NEGATIVE)
    on_okx = rule(2, AlertKind.NEGATIVE, venue="okx")
    index = RuleIndex([negative, on_okx])
    start = evaluate(index, [seen("bybit", "0.0001"), seen("okx", "0.0001")], AlertState(), T0)
    result = evaluate(index, [seen("bybit", "0.0001"), seen("okx", "-0.0001")], start.state, T0)
    (event,) = result.events
    assert (
        event.rule.id,
        event.reading.venue,
        event.reading.best_venue,
        event.reading.best_rate_8h,
    ) == (
        2,
        "okx",
        "bybit",
        D("0.0001"),
    )


def test_spread_between_dearest_and_cheapest_venue() -> None:
    spread = rule(1, AlertKind.SPREAD, "0.0002")
    fired = run(
        [spread],
        [
            [seen("bybit", "0.0001"), seen("okx", "0.0002")],
            [seen("bybit", "-0.00005"), seen("okx", "0.0002")],
        ],
    )
    assert fired == [[], [1]]
    index = RuleIndex([spread])
    start = evaluate(index, [seen("bybit", "0.0001"), seen("okx", "0.0002")], AlertState(), T0)
    event = evaluate(
        index, [seen("bybit", "-0.00005"), seen("okx", "0.0002")], start.state, T0
    ).events[0]
    assert event.reading.spread_8h == D("0.00025")


def test_reminders_fire_once_per_funding_time() -> None:
    before = rule(1, AlertKind.BEFORE, minutes=30, venue="bybit")
    later = NEXT + timedelta(hours=8)
    times = [NEXT - timedelta(minutes=m) for m in (45, 31, 30, 20, 1)] + [
        NEXT + timedelta(minutes=1),
        later - timedelta(minutes=29),
    ]
    index, state, fired = RuleIndex([before]), AlertState(), []
    for moment in times:
        next_time = NEXT if moment < NEXT else later
        result = evaluate(index, [seen("bybit", "0.0001", next_time=next_time)], state, moment)
        state = result.state
        fired.append([(e.rule.id, e.reading.funding_time) for e in result.events])
    assert fired == [[], [], [(1, NEXT)], [], [], [], [(1, later)]]
    assert state.reminded == {1: later}


def test_what_already_holds_at_first_sight_or_for_a_new_rule_is_not_news() -> None:
    above = rule(1, AlertKind.ABOVE, "0.0001")
    hot = [seen("bybit", "0.0002")]
    first = evaluate(RuleIndex([above]), hot, AlertState(), T0)
    assert first.events == ()
    # A rule added while its condition already holds stays quiet too; a higher one fires later.
    later = RuleIndex(
        [above, rule(2, AlertKind.ABOVE, "0.00015"), rule(3, AlertKind.ABOVE, "0.0003")]
    )
    assert evaluate(later, hot, first.state, T0).events == ()
    hotter = evaluate(later, [seen("bybit", "0.00035")], first.state, T0)
    assert [e.rule.id for e in hotter.events] == [3]


def test_deleted_rules_leave_the_state() -> None:
    above = rule(1, AlertKind.ABOVE, "0.0001")
    state = AlertState(groups={("ETH", AlertKind.ABOVE, None): GroupState(0.0)}, reminded={3: NEXT})
    result = evaluate(RuleIndex([above]), [seen("bybit", "0.0002")], state, T0)
    assert set(result.state.groups) == {("BTC", AlertKind.ABOVE, None)}
    assert result.state.reminded == {}


def test_hysteresis_margin() -> None:
    assert hysteresis(D("0.0003")) == D("0.00003")
    assert hysteresis(D(0)) == D("0.00001")
    assert holds(AlertKind.ABOVE, D("0.0003"), D("0.00031"))
    assert not cleared(AlertKind.ABOVE, D("0.0003"), D("0.00028"))
    assert cleared(AlertKind.BELOW, D("0.0001"), D("0.00011"))


kinds = st.sampled_from([AlertKind.ABOVE, AlertKind.BELOW, AlertKind.NEGATIVE, AlertKind.SPREAD])
thresholds = st.integers(min_value=-30, max_value=30).map(lambda n: D(n) / 100000)
rates = st.integers(min_value=-40, max_value=40).map(lambda n: D(n) / 100000)


@settings(max_examples=150, deadline=None)
@given(
    rules=st.lists(
        st.tuples(kinds, thresholds, st.sampled_from([None, *VENUES])), min_size=1, max_size=25
    ),
    cycles=st.lists(st.lists(rates, min_size=3, max_size=3), min_size=1, max_size=12),
)
def test_the_index_agrees_with_a_rule_by_rule_model(
    rules: list[tuple[AlertKind, D, str | None]], cycles: list[list[D]]
) -> None:
    alert_rules = [rule(i + 1, kind, str(t), venue) for i, (kind, t, venue) in enumerate(rules)]
    armed: dict[int, bool] = {}
    expected = []
    for values in cycles:
        by_venue = dict(zip(VENUES, values, strict=True))
        fired = []
        for r in alert_rules:
            if r.kind is AlertKind.SPREAD:
                value = max(values) - min(values)
            else:
                value = by_venue[r.venue] if r.venue else max(values)
            if r.id not in armed:  # first cycle: what holds counts as crossed already
                armed[r.id] = not holds(r.kind, r.limit_8h, value)
                continue
            if not armed[r.id] and cleared(r.kind, r.limit_8h, value):
                armed[r.id] = True
            if armed[r.id] and holds(r.kind, r.limit_8h, value):
                armed[r.id] = False
                fired.append(r.id)
        expected.append(sorted(fired))
    actual = run(
        alert_rules,
        [[seen(v, str(x)) for v, x in zip(VENUES, values, strict=True)] for values in cycles],
    )
    assert [sorted(ids) for ids in actual] == expected


@settings(max_examples=100, deadline=None)
@given(path=st.lists(rates, min_size=2, max_size=40), threshold=thresholds)
def test_no_second_fire_without_clearing_in_between(path: list[D], threshold: D) -> None:
    above = rule(1, AlertKind.ABOVE, str(threshold))
    fired = [bool(ids) for ids in run([above], [[seen("bybit", str(r))] for r in path])]
    fire_cycles = [n for n, f in enumerate(fired) if f]
    for first, second in itertools.pairwise(fire_cycles):
        assert any(
            cleared(AlertKind.ABOVE, threshold, path[n]) for n in range(first + 1, second + 1)
        )
    for n in fire_cycles:
        assert path[n] > threshold


@settings(max_examples=100, deadline=None)
@given(
    hours=st.sampled_from([1, 4, 8]),
    before=rates,
    after=rates,
    threshold=thresholds,
)
def test_any_interval_is_judged_per_8_hours(hours: int, before: D, after: D, threshold: D) -> None:
    # Rates quoted per `hours`: the rule compares them times 8 / hours with its per-8h threshold.
    above = rule(1, AlertKind.ABOVE, str(threshold), venue="krakenfutures")
    fired = run([above], [[seen("krakenfutures", str(r), hours=hours)] for r in (before, after)])
    crossed = (
        before * 8 / hours <= threshold - hysteresis(threshold) and after * 8 / hours > threshold
    )
    if crossed:
        assert fired == [[], [1]]
    if after * 8 / hours <= threshold:
        assert fired == [[], []]


@settings(max_examples=150, deadline=None)
@given(
    rules=st.lists(
        st.tuples(
            st.sampled_from(list(AlertKind)),
            thresholds,
            st.sampled_from([None, *VENUES]),
            st.integers(min_value=1, max_value=120),
        ),
        min_size=1,
        max_size=30,
    ),
    removed=st.sets(st.integers(min_value=1, max_value=30)),
    values=st.lists(st.lists(rates, min_size=3, max_size=3), min_size=2, max_size=5),
)
def test_rules_added_and_removed_one_by_one_index_as_a_rebuild_does(
    rules: list[tuple[AlertKind, D, str | None, int]],
    removed: set[int],
    values: list[list[D]],
) -> None:
    made = [
        rule(i + 1, kind, str(t), venue, minutes if kind is AlertKind.BEFORE else 0)
        for i, (kind, t, venue, minutes) in enumerate(rules)
    ]
    kept = [r for r in made if r.id not in removed]
    incremental = RuleIndex(made[: len(made) // 2])
    for r in made[len(made) // 2 :]:
        incremental.add(r)
    for rule_id in removed:
        incremental.remove(rule_id)
    rebuilt = RuleIndex(kept)

    def layout(index: RuleIndex) -> dict[object, tuple[list[AlertRule], list[float], list[float]]]:
        return {
            key: (
                [group.rule_at(n) for n in range(len(group))],
                list(group.keys),
                list(group.clear_keys),
            )
            for key, group in index.groups()
        }

    assert layout(incremental) == layout(rebuilt)
    # Each rule made again from the index's columns is the rule indexed.
    by_id = sorted(
        (r for rules, _, _ in layout(rebuilt).values() for r in rules), key=lambda r: r.id
    )
    assert by_id == sorted(kept, key=lambda r: r.id)
    assert len(incremental) == len(kept)
    # And they fire alike, cycle after cycle.
    observed = [[seen(v, str(x)) for v, x in zip(VENUES, row, strict=True)] for row in values]
    fired = [sorted(ids) for ids in run_index(incremental, observed)]
    assert fired == [sorted(ids) for ids in run_index(rebuilt, observed)]


def test_the_index_says_which_ids_it_holds_whether_asked_for_few_or_many() -> None:
    index = RuleIndex(rule(i, AlertKind.BEFORE, minutes=5 + i % 3) for i in range(1, 201))
    index.remove(7)
    assert index.indexed([3, 7, 500]) == {3}  # few: each found by bisection
    many = set(range(1, 1001))
    assert index.indexed(many) == set(range(1, 201)) - {7}  # many: one pass over each group
