"""Tracked hedges: liquidation distance, the margin that restores it, and warnings per tier."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgecore.models import FundingPoint, MarginTier, TierUnit
from hedgecore.tracking import (
    REARM_SHARE,
    ContractReading,
    ExpiryReminder,
    FundingAgainst,
    FundingLedger,
    PlacedShort,
    RollChoice,
    Tiers,
    TrackedHedge,
    TrackingIndex,
    UnhedgedFunding,
    WatchState,
    effective_leverage,
    evaluate_liquidation,
    evaluate_watch,
    funding_since_entry,
    liquidation_distance_pct,
    margin_for_distance_coin,
    next_digest_at,
    placed_short,
    position_status,
)

from .builders import perpetual

OPENED = datetime(2025, 4, 28, 8, tzinfo=UTC)
KEY = ("bybit", "BTC/USD:BTC")


def short(
    leverage: D = D(3), mmr: D = D("0.005"), per_coin: D = D(0), contracts: int = 112_467
) -> TrackedHedge:
    return TrackedHedge(
        id=1,
        chat_id=77,
        venue="bybit",
        symbol="BTC/USD:BTC",
        coin="BTC",
        contracts=contracts,
        contract_size_usd=D(1),
        entry_price=D("93722.4"),
        leverage=leverage,
        hedged_coins=D("1.2"),
        maintenance_margin_rate=mmr,
        margin_rate_per_coin=per_coin,
        opened_at=OPENED,
    )


def test_a_3x_short_by_hand() -> None:
    # 112,467 USD short at 93,722.4, 3x: N/E = 1.2000012804 BTC, margin a third of it. Liquidated where
    # m = N/E - N(1 - mmr)/P: P = N(1 - 0.005) / (N/E - m) = 93,722.4 x 0.995 x 1.5 = 139,880.68.
    hedge = short()
    assert hedge.margin_coin == pytest.approx(D("0.4000004268"), abs=D("1e-10"))
    liquidation = hedge.liquidation_price()
    assert liquidation == pytest.approx(D("93722.4") * D("0.995") * D("1.5"), rel=D("1e-12"))
    # At a mark of 125,000 it is 11.9 % away; 30 % away needs 0.1114 BTC more margin:
    mark = D(125000)
    assert liquidation_distance_pct(hedge, mark) == pytest.approx(D("11.9045"), abs=D("0.0001"))
    extra = margin_for_distance_coin(hedge, mark, D(30))
    # m' = N/E - N x 0.995 / (1.3 x 125,000) = 1.2000012804 - 0.6886440923 = 0.5113571881 BTC,
    # less the 0.4000004268 posted.
    assert extra == pytest.approx(D("0.1113567613"), abs=D("1e-10"))
    # That margin puts the short at 1.2000012804 / 0.5113571881 = 2.3467x instead of 3x.
    assert effective_leverage(hedge, extra) == pytest.approx(D("2.3467"), abs=D("0.0001"))


@given(
    leverage=st.decimals(min_value=D("1.5"), max_value=D(50), places=2),
    per_coin=st.sampled_from([D(0), D("0.00005")]),
    rise_pct=st.decimals(min_value=D(0), max_value=D(40), places=2),
    target_pct=st.decimals(min_value=D(1), max_value=D(50), places=1),
)
def test_the_advised_margin_moves_liquidation_where_it_says(
    leverage: D, per_coin: D, rise_pct: D, target_pct: D
) -> None:
    hedge = short(leverage=leverage, per_coin=per_coin)
    mark = hedge.entry_price * (1 + rise_pct / 100)
    extra = margin_for_distance_coin(hedge, mark, target_pct)
    target = mark * (1 + target_pct / 100)
    liquidation = hedge.liquidation_price(hedge.margin_coin + extra)
    if extra > 0:  # checked through hedgecore's own liquidation function
        assert liquidation == pytest.approx(target, rel=D("1e-15"))
    else:  # already that far away (or beyond liquidation altogether)
        assert liquidation is None or liquidation >= target * (1 - D("1e-15"))


DEFAULT_TIERS = Tiers()


def tracked(placed: PlacedShort, hedge_id: int = 1) -> TrackedHedge:
    return TrackedHedge(id=hedge_id, chat_id=77, **placed.model_dump(exclude={"id", "chat_id"}))


def warnings_along(
    hedge: TrackedHedge, marks: list[D], tiers: Tiers = DEFAULT_TIERS
) -> list[D | None]:
    warned: dict[int, frozenset[D]] = {}
    fired: list[D | None] = []
    for mark in marks:
        result = evaluate_liquidation(
            TrackingIndex([hedge]), {KEY: mark}, warned, {hedge.chat_id: tiers}
        )
        warned |= result.changed
        fired.append(result.warnings[0].tier_pct if result.warnings else None)
    return fired


def per_tier_model(distances: list[D], tiers: tuple[D, ...]) -> list[D | None]:
    """Each tier on its own: fires when the distance reaches it while armed, re-arms past
    tier x (1 + REARM_SHARE). A cycle reports the tightest tier that fired."""
    armed = dict.fromkeys(tiers, True)
    reported: list[D | None] = []
    for distance in distances:
        fired = []
        for tier in tiers:
            if armed[tier] and distance <= tier:
                armed[tier] = False
                fired.append(tier)
            elif distance > tier * (1 + REARM_SHARE):
                armed[tier] = True
        reported.append(min(fired) if fired else None)
    return reported


prices = st.lists(st.integers(min_value=90_000, max_value=139_000), min_size=1, max_size=40)


@given(path=prices)
def test_warnings_match_a_tier_by_tier_model(path: list[int]) -> None:
    hedge = short()
    marks = [D(p) for p in path]
    distances = [liquidation_distance_pct(hedge, mark) for mark in marks]
    assert None not in distances
    assert warnings_along(hedge, marks) == per_tier_model(
        [d for d in distances if d is not None], Tiers().pct
    )


@given(path=prices)
def test_no_tier_warns_twice_without_recovering(path: list[int]) -> None:
    hedge = short()
    marks = [D(p) for p in path]
    fired = warnings_along(hedge, marks)
    for tier in Tiers().pct:
        times = [i for i, t in enumerate(fired) if t == tier]
        for first, second in itertools.pairwise(times):
            between = marks[first + 1 : second]
            recovered = [liquidation_distance_pct(hedge, m) for m in between]
            assert any(d is not None and d > tier * (1 + REARM_SHARE) for d in recovered)


def test_a_rising_price_warns_at_30_15_and_5_percent_once_each() -> None:
    hedge = short()  # liquidated at 139,880.68
    path = [D(p) for p in range(95_000, 139_001, 500)]
    fired = [t for t in warnings_along(hedge, path) if t is not None]
    assert fired == [D(30), D(15), D(5)]
    # Hovering around 5 % does not repeat it; falling back past 6 % and returning does.
    hover = [D(133_300), D(133_100), D(133_300), D(133_100)]
    assert warnings_along(hedge, [*path, *hover]).count(D(5)) == 1
    back = [D(131_000), D(133_500)]  # 6.8 % away, then 4.8 %
    assert warnings_along(hedge, [*path, *back]).count(D(5)) == 2


def test_a_jump_past_several_tiers_warns_once_for_the_tightest() -> None:
    hedge = short()
    result = evaluate_liquidation(TrackingIndex([hedge]), {KEY: D(135_000)}, {})
    (warning,) = result.warnings
    assert warning.tier_pct == D(5)
    assert result.changed[hedge.id] == {D(30), D(15), D(5)}
    # The advice moves it back to the loosest tier, 30 %, and says the leverage that makes.
    assert warning.restore_to_pct == D(30)
    restored = hedge.liquidation_price(hedge.margin_coin + warning.extra_margin_coin)
    assert restored == pytest.approx(D(135_000) * D("1.3"), rel=D("1e-15"))
    assert warning.leverage_after < hedge.leverage


def test_a_fully_collateralised_short_and_a_missing_mark_never_warn() -> None:
    one_x = short(leverage=D(1))
    assert one_x.liquidation_price() is None
    assert evaluate_liquidation(TrackingIndex([one_x]), {KEY: D(500_000)}, {}).warnings == ()
    hedge = short()
    kept = {hedge.id: frozenset({D(30)})}
    result = evaluate_liquidation(TrackingIndex([hedge]), {}, kept)
    assert (result.warnings, result.changed) == ((), {})  # no mark: the state stays as it was


def test_tiers_are_percentages_and_kept_loosest_first() -> None:
    assert Tiers(pct=(D(5), D(20), D(10))).pct == (D(20), D(10), D(5))
    with pytest.raises(ValueError, match="between 0 and 100"):
        Tiers(pct=(D(0),))


def test_a_declared_short_takes_the_venues_tier_and_bitgets_step_at_its_entry() -> None:
    tiers = (
        MarginTier(max_size=D(150), size_unit=TierUnit.COIN, maintenance_margin_rate=D("0.005")),
        MarginTier(max_size=D(300), size_unit=TierUnit.COIN, maintenance_margin_rate=D("0.01")),
    )
    market = perpetual(price=D(60000), tiers=tiers)
    placed = placed_short(market, 9_000_000, D(60000), D(3), OPENED)  # 150 BTC: first tier
    assert placed.maintenance_margin_rate == D("0.005")
    assert placed.hedged_coins == D(150)  # unless told, the coins its face is worth at entry
    # 200 BTC at 20x liquidates near 63,000, still above 150 BTC there: the second tier.
    bigger = placed_short(market, 12_000_000, D(60000), D(20), OPENED, hedged_coins=D(190))
    assert (bigger.maintenance_margin_rate, bigger.hedged_coins) == (D("0.01"), D(190))
    step = D("0.001")
    bitget = perpetual(
        venue="bitget",
        price=D(93000),
        contract_size_usd=step * D(93000),
        order_amount_unit="coin",
        order_step_coin=step,
    )
    placed = placed_short(bitget, 1199, D(94000), D(2), OPENED)  # the user's own entry
    assert placed.contract_size_usd == D(94)
    assert placed.notional_usd == D("112706")
    assert placed.hedged_coins == D("1.199")


def points_every_8h(first: datetime, rates: list[D]) -> list[FundingPoint]:
    return [
        FundingPoint(time=first + timedelta(hours=8 * i), rate=r, interval_hours=D(8))
        for i, r in enumerate(rates)
    ]


def test_funding_since_entry_counts_the_settlements_after_opening() -> None:
    hedge = short()  # 112,467 USD, opened 2025-04-28 08:00
    points = points_every_8h(
        OPENED - timedelta(hours=16), [D("0.0001")] * 3 + [D("0.0002"), D("-0.0001")]
    )
    now = OPENED + timedelta(hours=17)
    tally = funding_since_entry(hedge, points, now, D(100_000), D("0.00001"))
    assert tally is not None
    # 16:00 (+0.0002) and 00:00 (-0.0001): the 08:00 settlement is the opening moment's own.
    assert tally.settlements == 2
    assert tally.received_usd == D(112_467) * D("0.0001")
    assert tally.received_coin == tally.received_usd / D(100_000)
    assert tally.estimated_hours == 0


def test_funding_before_the_history_begins_is_estimated_at_todays_rate() -> None:
    hedge = short()
    points = points_every_8h(OPENED + timedelta(hours=48), [D("0.0001")])
    now = OPENED + timedelta(hours=50)
    tally = funding_since_entry(hedge, points, now, D(100_000), D("0.00002"))
    assert tally is not None
    assert tally.estimated_hours == 40  # the history starts at 40 h (its first interval's start)
    assert tally.received_usd == D(112_467) * (D("0.0001") + D("0.00002") * 40)
    # Without a rate to estimate with, the time it cannot see is not guessed.
    assert funding_since_entry(hedge, points, now, D(100_000), None) is None


def test_a_one_x_hedge_status_holds_its_value_and_cannot_be_liquidated() -> None:
    tracked = TrackedHedge(
        id=3,
        chat_id=77,
        **placed_short(perpetual(price=D(60000)), 72_000, D(60000), D(1), OPENED).model_dump(),
    )
    later = perpetual(price=D(75000), funding_rate=D("0.0001"))
    status = position_status(tracked, later, [], OPENED + timedelta(days=2))
    assert status.liquidation_price is None
    assert status.holding_value_usd == D(90000)  # 1.2 BTC at 75,000
    assert status.holding_value_at_entry_usd == D(72000)
    assert status.hedged_value_usd == status.hedged_value_at_entry_usd == D(72000)
    assert status.funding is not None
    # No history at all: two days at today's 0.01 % per 8 h, and labelled estimated.
    assert status.funding.estimated_hours == 48
    assert status.funding.received_usd == D(72000) * D("0.0001") / 8 * 48


def watch_once(
    hedge: TrackedHedge,
    reading: ContractReading,
    now: datetime,
    states: dict[int, WatchState],
    points: list[FundingPoint] = [],  # noqa: B006 - read only
    rolls: tuple[RollChoice, ...] = (),
) -> list[object]:
    result = evaluate_watch(
        TrackingIndex([hedge]),
        {(hedge.venue, hedge.symbol): reading},
        {(hedge.venue, hedge.coin): FundingLedger(points)},
        {hedge.coin: rolls},
        states,
        now,
    )
    states |= result.changed
    return list(result.events)


def test_funding_turning_against_the_short_warns_once_then_daily_with_the_cost() -> None:
    hedge = tracked(short())
    states: dict[int, WatchState] = {}
    paying = ContractReading(D(93722), D("0.0001"), D(8))
    against = ContractReading(D(93722), D("-0.0002"), D(8))
    assert watch_once(hedge, paying, OPENED + timedelta(hours=1), states) == []
    (turned,) = watch_once(hedge, against, OPENED + timedelta(hours=2), states)
    assert isinstance(turned, FundingAgainst)
    assert turned.first
    # Hovering below zero: nothing more within the day.
    assert watch_once(hedge, against, OPENED + timedelta(hours=20), states) == []
    # A day on, one line with the cost of the settlements since it turned (two at -0.02 %).
    points = points_every_8h(OPENED + timedelta(hours=8), [D("-0.0002"), D("-0.0002")])
    (daily,) = watch_once(hedge, against, OPENED + timedelta(hours=26), states, points)
    assert isinstance(daily, FundingAgainst)
    assert not daily.first
    assert daily.cost_usd == D(112_467) * D("0.0004")
    # Back above zero by less than the margin: still against; past it: cleared, and re-armed.
    assert (
        watch_once(
            hedge,
            ContractReading(D(93722), D("0.000005"), D(8)),
            OPENED + timedelta(hours=27),
            states,
        )
        == []
    )
    assert states[hedge.id].against_since is not None
    watch_once(hedge, paying, OPENED + timedelta(hours=28), states)
    assert states[hedge.id].against_since is None
    (again,) = watch_once(hedge, against, OPENED + timedelta(hours=29), states)
    assert isinstance(again, FundingAgainst)
    assert again.first


def test_a_dated_future_is_reminded_7_days_and_1_day_before_with_what_rolling_locks_in() -> None:
    expiry = OPENED + timedelta(days=30)
    hedge = tracked(short().model_copy(update={"expiry": expiry, "symbol": "BTC/USD:BTC-250528"}))
    states: dict[int, WatchState] = {}
    reading = ContractReading(D(94000))
    later = RollChoice("okx", "BTC/USD:BTC-250627", expiry + timedelta(days=30), D("1.3"), D("8.0"))
    earlier = RollChoice("okx", "BTC/USD:BTC-250430", OPENED + timedelta(days=2), D("0.1"), D("9"))
    assert watch_once(hedge, reading, expiry - timedelta(days=8), states) == []
    (week,) = watch_once(hedge, reading, expiry - timedelta(days=6), states, rolls=(later, earlier))
    assert isinstance(week, ExpiryReminder)
    assert (week.days_before, week.rolls) == (7, (later,))  # only contracts expiring after it
    assert watch_once(hedge, reading, expiry - timedelta(days=5), states) == []
    (day,) = watch_once(hedge, reading, expiry - timedelta(hours=20), states)
    assert isinstance(day, ExpiryReminder)
    assert day.days_before == 1
    # Tracked already inside a day: one reminder, the 1-day one.
    fresh: dict[int, WatchState] = {}
    (only,) = watch_once(hedge, reading, expiry - timedelta(hours=3), fresh)
    assert isinstance(only, ExpiryReminder)
    assert only.days_before == 1


def test_funding_received_past_1_percent_of_the_holding_says_what_to_add() -> None:
    hedge = tracked(short(leverage=D(1)))  # 112,467 USD short for 1.2 BTC
    states: dict[int, WatchState] = {}
    reading = ContractReading(D(100_000), D("0.0003"), D(8))
    # 0.03 % a settlement: 1 % of 1.2 BTC (0.012 BTC = 1,200 USD at 100,000) takes 36 of them.
    points = points_every_8h(OPENED + timedelta(hours=8), [D("0.0003")] * 40)
    assert watch_once(hedge, reading, OPENED + timedelta(hours=8 * 35), states, points) == []
    (unhedged,) = watch_once(hedge, reading, OPENED + timedelta(hours=8 * 36), states, points)
    assert isinstance(unhedged, UnhedgedFunding)
    assert unhedged.received_coin == D(112_467) * D("0.0003") * 36 / D(100_000)
    assert unhedged.contracts_to_add == 1214  # 1,214.6 USD of 1 USD contracts
    assert watch_once(hedge, reading, OPENED + timedelta(hours=8 * 40), states, points) == []


def test_a_ledger_sums_the_settlements_after_one_moment_up_to_another() -> None:
    ledger = FundingLedger(points_every_8h(OPENED, [D(1), D(2), D(4), D(8)]))
    assert ledger.rates_between(OPENED, OPENED + timedelta(hours=16)) == D(6)
    assert ledger.rates_between(OPENED - timedelta(hours=1), OPENED) == D(1)
    assert ledger.rates_between(OPENED + timedelta(hours=30), OPENED + timedelta(hours=40)) == 0


def test_the_digest_goes_out_the_first_monday_08_00_utc_after() -> None:
    sunday = datetime(2025, 4, 27, 23, 0, tzinfo=UTC)
    assert next_digest_at(sunday) == datetime(2025, 4, 28, 8, tzinfo=UTC)
    monday_8 = datetime(2025, 4, 28, 8, tzinfo=UTC)
    assert next_digest_at(monday_8) == datetime(2025, 5, 5, 8, tzinfo=UTC)
    assert next_digest_at(monday_8 - timedelta(seconds=1)) == monday_8
