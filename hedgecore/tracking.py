"""A placed hedge, tracked: where it is liquidated, how far away that is, and when to warn.

The user declares the short they placed (no API keys): venue, contract, size, entry and leverage.
Everything here is pure: the marks come in, the warnings and the state to keep go out.

Liquidation-distance warnings fire once per tier (30, 15 and 5 % by default) as the mark comes
within that share of the liquidation price, and re-arm only once the distance has recovered past
the tier by a margin (hysteresis), so a price hovering at a tier does not warn every cycle. A
jump past several tiers in one cycle warns once, for the tightest: the looser ones would only
repeat it.

Slower watches (`evaluate_watch`) tell when funding turns against a tracked perpetual (then a
daily line with the cost so far while it stays there), remind 7 days and 1 day before a dated
future expires with what rolling would lock in, and say when the coins received as funding have
grown past 1 % of the holding, with the contracts that would hedge them.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

from pydantic import AwareDatetime, Field, field_validator

from hedgecore import fmt
from hedgecore.alerts import MIN_HYSTERESIS_8H
from hedgecore.errors import InvalidInput, PlanningError, Refused
from hedgecore.inverse import (
    annualise_basis,
    basis,
    hedged_value_usd,
    initial_margin_coin,
    liquidation_price,
    price_move_pct,
    rate_per_8h,
)
from hedgecore.models import Contract, Frozen, FundingPoint, MarketContract, OrderUnit, Side
from hedgecore.planning import maintenance_terms
from hedgecore.venues import venue_name

DEFAULT_TIERS_PCT: tuple[Decimal, ...] = (Decimal(30), Decimal(15), Decimal(5))
# A warned tier re-arms once the distance is back above tier x (1 + this): 5 % at 6 %.
REARM_SHARE = Decimal("0.2")
MAX_TRACKED_PER_CHAT = 20
_NOTHING_WARNED: frozenset[Decimal] = frozenset()


class PlacedShort(Frozen):
    """An inverse short the user placed, as they declare it (before it is anyone's record)."""

    venue: str
    symbol: str  # ccxt's unified symbol
    venue_symbol: str | None = None  # the venue's own name for it
    coin: str
    contracts: int = Field(gt=0)  # where orders are in coins (Bitget): steps
    # USD face of one contract; where orders are in coins, one step's at the entry.
    contract_size_usd: Decimal = Field(gt=0)
    order_step_coin: Decimal | None = Field(default=None, gt=0)
    order_amount_unit: OrderUnit = "contracts"
    entry_price: Decimal = Field(gt=0)
    leverage: Decimal = Field(gt=0)
    hedged_coins: Decimal = Field(gt=0)  # the holding the short stands for
    # The venue's maintenance terms for this size, as known when it was declared.
    maintenance_margin_rate: Decimal = Field(ge=0, lt=1)
    maintenance_deduction_coin: Decimal = Field(default=Decimal(0), ge=0)
    margin_rate_per_coin: Decimal = Field(default=Decimal(0), ge=0)
    added_margin_coin: Decimal = Field(default=Decimal(0), ge=0)  # posted after opening
    opened_at: AwareDatetime
    expiry: AwareDatetime | None = None

    @cached_property
    def notional_usd(self) -> Decimal:
        """The short's USD face, fixed when it opened."""
        return self.contracts * self.contract_size_usd

    def size_text(self) -> str:
        """The short as the venue's order form counted it: '112,467 contracts', '1.199 BTC'."""
        if self.order_step_coin is not None:
            return fmt.coin(self.contracts * self.order_step_coin, self.coin)
        if self.order_amount_unit == "usd":
            return f"{fmt.number(self.notional_usd, 0)} USD"
        return f"{self.contracts:,} contracts"

    @cached_property
    def margin_coin(self) -> Decimal:
        """The isolated margin behind the short: the opening margin and any added since."""
        return (
            initial_margin_coin(self.notional_usd, self.entry_price, self.leverage)
            + self.added_margin_coin
        )

    def liquidation_price(self, margin_coin: Decimal | None = None) -> Decimal | None:
        """Where the isolated short is liquidated (None: never), with `margin_coin` if given."""
        return liquidation_price(
            Side.SHORT,
            self.notional_usd,
            self.entry_price,
            self.margin_coin if margin_coin is None else margin_coin,
            self.maintenance_margin_rate,
            self.maintenance_deduction_coin,
            self.margin_rate_per_coin,
        )


class TrackedHedge(PlacedShort):
    """A placed short as the store keeps it: one chat's, with its number."""

    id: int = Field(gt=0)
    chat_id: int


class TrackingRefused(Refused):
    """A hedge cannot be tracked; the message says why in words a user can act on."""


def admit_tracked(existing: Sequence[TrackedHedge], wanted: PlacedShort) -> None:
    """Refuse a short the chat already tracks, or one past the per-chat limit."""

    def order(short: PlacedShort) -> tuple[object, ...]:
        return (short.venue, short.symbol, short.contracts, short.entry_price, short.leverage)

    if any(order(hedge) == order(wanted) for hedge in existing):
        raise TrackingRefused("you already track that short; see /positions.")
    if len(existing) >= MAX_TRACKED_PER_CHAT:
        raise TrackingRefused(
            f"you track {MAX_TRACKED_PER_CHAT} hedges, the most allowed: remove one with /untrack N."
        )


# An entry price further than this from the contract's price now is taken for a typing error.
MAX_ENTRY_GAP = Decimal("0.5")


def contracts_in(contract: Contract, order_amount: Decimal) -> int:
    """The contracts an order of `order_amount` opens, as the venue's order form counts it:
    coins on Bitget, USD on Deribit, contracts elsewhere. Refuses what is not a whole number
    of them."""
    if contract.order_step_coin is not None:
        unit, what = (
            contract.order_step_coin,
            f"steps of {contract.order_step_coin} {contract.coin}",
        )
    elif contract.order_amount_unit == "usd":
        unit, what = contract.contract_size_usd, f"multiples of {contract.contract_size_usd} USD"
    else:
        unit, what = Decimal(1), "whole contracts"
    count = order_amount / unit
    whole = int(count)
    if count != whole or whole < 1:
        raise PlanningError(
            f"{venue_name(contract.venue)} {contract.venue_symbol or contract.symbol} is traded "
            f"in {what}: {order_amount.normalize():f} is not"
        )
    return whole


def check_declared(market: MarketContract, entry_price: Decimal, leverage: Decimal) -> None:
    """Refuse an entry far from any recent price, or a leverage the contract does not allow."""
    contract, mark = market.contract, market.quote.mark_price
    name = f"{venue_name(contract.venue)} {contract.venue_symbol or contract.symbol}"
    if abs(entry_price / mark - 1) > MAX_ENTRY_GAP:
        raise InvalidInput(
            f"an entry at {fmt.price(entry_price)} is far from {name}'s {fmt.price(mark)} now",
            f"@ {mark:.0f}",
        )
    if contract.max_leverage is not None and leverage > contract.max_leverage:
        raise InvalidInput(
            f"{name} allows at most {contract.max_leverage.normalize():f}x",
            f"{contract.max_leverage.normalize():f}x",
        )


def placed_short(
    market: MarketContract,
    contracts: int,
    entry_price: Decimal,
    leverage: Decimal,
    opened_at: datetime,
    hedged_coins: Decimal | None = None,
) -> PlacedShort:
    """The short of `contracts` on `market`'s contract opened at `entry_price` and `leverage`;
    the holding it hedges is, unless given, the coins its face is worth at the entry."""
    contract = market.contract
    step = contract.order_step_coin
    size_usd = step * entry_price if step is not None else contract.contract_size_usd
    notional = contracts * size_usd
    margin = initial_margin_coin(notional, entry_price, leverage)
    mmr, deduction = maintenance_terms(market, notional, entry_price, margin)
    return PlacedShort(
        venue=contract.venue,
        symbol=contract.symbol,
        venue_symbol=contract.venue_symbol,
        coin=contract.coin,
        contracts=contracts,
        contract_size_usd=size_usd,
        order_step_coin=step,
        order_amount_unit=contract.order_amount_unit,
        entry_price=entry_price,
        leverage=leverage,
        hedged_coins=hedged_coins or notional / entry_price,
        maintenance_margin_rate=mmr,
        maintenance_deduction_coin=deduction,
        margin_rate_per_coin=contract.margin_rate_per_coin,
        opened_at=opened_at,
        expiry=contract.expiry,
    )


def edited(
    hedge: PlacedShort,
    entry_price: Decimal | None = None,
    leverage: Decimal | None = None,
    added_margin_coin: Decimal | None = None,
) -> PlacedShort:
    """The short with its entry, leverage or margin added since opening corrected."""
    fields = hedge.model_dump(exclude={"id", "chat_id"})
    entry = entry_price or hedge.entry_price
    fields["entry_price"] = entry
    fields["leverage"] = leverage or hedge.leverage
    if added_margin_coin is not None:
        fields["added_margin_coin"] = added_margin_coin
    if hedge.order_step_coin is not None:  # a coin step's USD face is set by the entry
        fields["contract_size_usd"] = hedge.order_step_coin * entry
    return PlacedShort(**fields)


def liquidation_distance_pct(hedge: PlacedShort, mark: Decimal) -> Decimal | None:
    """How far the mark must rise, in percent, to liquidate the short; None if it cannot be."""
    liquidation = hedge.liquidation_price()
    return None if liquidation is None else price_move_pct(mark, liquidation)


def margin_for_distance_coin(hedge: PlacedShort, mark: Decimal, distance_pct: Decimal) -> Decimal:
    """The extra margin (coin) that puts the liquidation price `distance_pct` above `mark`.

    The short is liquidated where k N^2 u^2 - N(1 - mmr) u + N/E - m - d = 0 (u = 1/P; see
    `inverse.liquidation_price`), so the margin m that places it at P is read off directly.
    """
    n = hedge.notional_usd
    u = 1 / (mark * (1 + distance_pct / 100))
    needed = (
        n / hedge.entry_price
        - hedge.maintenance_deduction_coin
        - n * (1 - hedge.maintenance_margin_rate) * u
        + hedge.margin_rate_per_coin * n * n * u * u
    )
    return max(needed - hedge.margin_coin, Decimal(0))


def effective_leverage(hedge: PlacedShort, extra_margin_coin: Decimal = Decimal(0)) -> Decimal:
    """The leverage the short stands at with `extra_margin_coin` more behind it."""
    return hedge.notional_usd / (hedge.entry_price * (hedge.margin_coin + extra_margin_coin))


@dataclass(frozen=True, slots=True)
class LiquidationWarning:
    """The mark came within a tier of a tracked short's liquidation price."""

    hedge: TrackedHedge
    tier_pct: Decimal
    mark: Decimal
    liquidation_price: Decimal
    distance_pct: Decimal
    # What moves the liquidation price back to the loosest tier's distance.
    restore_to_pct: Decimal
    extra_margin_coin: Decimal
    leverage_after: Decimal


@dataclass(frozen=True, slots=True)
class TrackingEvaluation:
    """The warnings of one cycle, and the warned tiers of the hedges whose tiers changed."""

    warnings: tuple[LiquidationWarning, ...]
    changed: Mapping[int, frozenset[Decimal]]


class TrackingIndex:
    """Tracked hedges with their liquidation prices worked out once: they change only when a
    hedge does, and the minute cycle reads them for every hedge."""

    def __init__(self, hedges: Iterable[TrackedHedge]) -> None:
        self.rows = tuple((hedge, hedge.liquidation_price()) for hedge in hedges)

    def __len__(self) -> int:
        return len(self.rows)

    @cached_property
    def venues_by_coin(self) -> dict[str, set[str]]:
        """The venues each coin's hedges are on: whose quotes a cycle needs."""
        venues: dict[str, set[str]] = {}
        for hedge, _ in self.rows:
            venues.setdefault(hedge.coin, set()).add(hedge.venue)
        return venues

    @cached_property
    def _first_expiry(self) -> dict[str, datetime]:
        """The soonest expiry among each coin's tracked dated futures."""
        first: dict[str, datetime] = {}
        for hedge, _ in self.rows:
            if hedge.expiry is not None:
                first[hedge.coin] = min(hedge.expiry, first.get(hedge.coin, hedge.expiry))
        return first

    @cached_property
    def _perpetual_coins(self) -> frozenset[str]:
        return frozenset(hedge.coin for hedge, _ in self.rows if hedge.expiry is None)

    def expiring(self, coin: str, before: datetime) -> bool:
        """Whether a dated future on `coin` expires before `before` (then rolls are asked for)."""
        first = self._first_expiry.get(coin)
        return first is not None and first <= before

    def has_perpetuals(self, coin: str) -> bool:
        """Whether a perpetual on `coin` is tracked (then its funding history is asked for)."""
        return coin in self._perpetual_coins


class Tiers(Frozen):
    """A chat's liquidation-distance tiers in percent, loosest first."""

    pct: tuple[Decimal, ...] = DEFAULT_TIERS_PCT

    @field_validator("pct")
    @classmethod
    def _loosest_first(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not value or any(not 0 < tier < 100 for tier in value):
            raise ValueError("tiers are percentages between 0 and 100, e.g. 30 15 5")
        return tuple(sorted(set(value), reverse=True))


def next_warned(
    warned: frozenset[Decimal], distance_pct: Decimal, tiers: Tiers
) -> tuple[Decimal | None, frozenset[Decimal]]:
    """The tier to warn of at `distance_pct` (None: none), and the tiers warned after it."""
    still = frozenset(tier for tier in warned if distance_pct <= tier * (1 + REARM_SHARE))
    reached = [tier for tier in tiers.pct if distance_pct <= tier]
    if not reached:
        return None, still
    tightest = reached[-1]
    if tightest in still:
        return None, still | frozenset(reached)
    return tightest, still | frozenset(reached)


def evaluate_liquidation(
    index: TrackingIndex,
    marks: Mapping[tuple[str, str], Decimal],
    warned: Mapping[int, frozenset[Decimal]],
    tiers: Mapping[int, Tiers] | None = None,
) -> TrackingEvaluation:
    """Warn each hedge whose mark came within a new tier of its liquidation price.

    `marks` are by (venue, symbol); a hedge without a mark this cycle keeps its state. `tiers`
    are by chat (default 30, 15 and 5 %).
    """
    default = Tiers()
    warnings: list[LiquidationWarning] = []
    changed: dict[int, frozenset[Decimal]] = {}
    for hedge, liquidation in index.rows:
        before = warned.get(hedge.id, _NOTHING_WARNED)
        if liquidation is None:
            if before:
                changed[hedge.id] = _NOTHING_WARNED
            continue
        mark = marks.get((hedge.venue, hedge.symbol))
        if mark is None:
            continue
        chat_tiers = tiers.get(hedge.chat_id, default) if tiers else default
        distance = price_move_pct(mark, liquidation)
        if not before and distance > chat_tiers.pct[0]:
            continue  # the usual case: far away and nothing to re-arm
        tier, after = next_warned(before, distance, chat_tiers)
        if after != before:
            changed[hedge.id] = after
        if tier is None:
            continue
        restore_to = chat_tiers.pct[0]
        extra = margin_for_distance_coin(hedge, mark, restore_to)
        warnings.append(
            LiquidationWarning(
                hedge=hedge,
                tier_pct=tier,
                mark=mark,
                liquidation_price=liquidation,
                distance_pct=distance,
                restore_to_pct=restore_to,
                extra_margin_coin=extra,
                leverage_after=effective_leverage(hedge, extra),
            )
        )
    return TrackingEvaluation(warnings=tuple(warnings), changed=changed)


class FundingTally(Frozen):
    """Funding a tracked short received (negative: paid) since it opened."""

    received_usd: Decimal  # each settlement's N x rate, in USD as it settled
    received_coin: Decimal  # the same in coin, at today's mark (coins arrive at each price)
    settlements: int
    # Hours since opening the venue's history does not cover, counted at today's rate instead.
    estimated_hours: Decimal


def funding_since_entry(
    hedge: PlacedShort,
    points: Sequence[FundingPoint],
    now: datetime,
    mark: Decimal,
    current_rate_per_hour: Decimal | None,
) -> FundingTally | None:
    """What funding paid the short from its opening to `now`; None when it cannot be told.

    A settlement at t covers the interval before it, and pays whoever holds the position at t: one
    after the opening counts whole. Time before the venue's history begins is counted at today's
    rate, and said so.
    """
    settled = [p for p in points if hedge.opened_at < p.time <= now]
    received_usd = sum((hedge.notional_usd * p.rate for p in settled), Decimal(0))
    history_from = min(
        (p.time - timedelta(hours=float(p.interval_hours)) for p in points), default=now
    )
    missing_hours = max(
        Decimal((min(history_from, now) - hedge.opened_at).total_seconds()) / 3600, Decimal(0)
    )
    if missing_hours > 0:
        if current_rate_per_hour is None:
            return None
        received_usd += hedge.notional_usd * current_rate_per_hour * missing_hours
    return FundingTally(
        received_usd=received_usd,
        received_coin=received_usd / mark,
        settlements=len(settled),
        estimated_hours=missing_hours,
    )


@dataclass(frozen=True, slots=True)
class PositionStatus:
    """A tracked short as it stands now."""

    hedge: TrackedHedge
    mark: Decimal
    quoted_at: datetime
    liquidation_price: Decimal | None
    liquidation_distance_pct: Decimal | None
    funding: FundingTally | None
    holding_value_usd: Decimal  # the hedged coins at today's mark
    holding_value_at_entry_usd: Decimal
    hedged_value_usd: Decimal  # the coins and the short together, at today's mark
    hedged_value_at_entry_usd: Decimal
    days_to_expiry: Decimal | None


def position_status(
    hedge: TrackedHedge,
    market: MarketContract,
    points: Sequence[FundingPoint],
    now: datetime,
) -> PositionStatus:
    """Where a tracked short stands against its contract's quote and funding history."""
    mark = market.quote.mark_price
    funding = market.funding
    rate_per_hour = None if funding is None else funding.rate / funding.interval_hours
    liquidation = hedge.liquidation_price()
    coins, entry = hedge.hedged_coins, hedge.entry_price
    return PositionStatus(
        hedge=hedge,
        mark=mark,
        quoted_at=market.quote.timestamp,
        liquidation_price=liquidation,
        liquidation_distance_pct=None if liquidation is None else price_move_pct(mark, liquidation),
        funding=funding_since_entry(hedge, points, now, mark, rate_per_hour)
        if hedge.expiry is None
        else None,
        holding_value_usd=coins * market.quote.index_price,
        holding_value_at_entry_usd=coins * entry,
        hedged_value_usd=hedged_value_usd(
            coins, hedge.notional_usd, entry, market.quote.index_price, mark
        ),
        hedged_value_at_entry_usd=hedged_value_usd(coins, hedge.notional_usd, entry, entry),
        days_to_expiry=None
        if hedge.expiry is None
        else Decimal((hedge.expiry - now).total_seconds()) / 86400,
    )


# Funding "against the short" clears once it is back above zero by this much (per 8 hours), so a
# rate hovering at zero does not warn every cycle (the funding alerts' own minimum hysteresis).
AGAINST_CLEARS_8H = MIN_HYSTERESIS_8H
DAILY = timedelta(days=1)
EXPIRY_REMINDER_DAYS = (7, 1)
UNHEDGED_SHARE = Decimal("0.01")  # funding coins past 1 % of the holding are worth hedging


class FundingLedger:
    """A perpetual's settled funding as running sums: the rates since any moment in one lookup."""

    def __init__(self, points: Iterable[FundingPoint]) -> None:
        settled = sorted((p.time, p.rate) for p in points)
        self._times = [t for t, _ in settled]
        self._sums = list(itertools.accumulate((r for _, r in settled), initial=Decimal(0)))

    def rates_between(self, start: datetime, end: datetime) -> Decimal:
        """The sum of the rates settled after `start` and up to `end`."""
        first = bisect.bisect_right(self._times, start)
        last = bisect.bisect_right(self._times, end)
        return self._sums[last] - self._sums[first] if last > first else Decimal(0)


@dataclass(frozen=True, slots=True)
class ContractReading:
    """What one cycle saw of a contract: its mark and, for a perpetual, its funding."""

    mark: Decimal
    funding_rate: Decimal | None = None
    funding_interval_hours: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RollChoice:
    """A dated future one could roll into: what its premium locks in."""

    venue: str
    symbol: str
    expiry: datetime
    basis_pct: Decimal
    basis_apr_pct: Decimal


class WatchState(NamedTuple):
    """What the slower watches remember of one hedge between cycles (a tuple: the minute cycle
    replaces one for each hedge whose watch changed, and tuples do it fastest)."""

    against_since: datetime | None = None  # funding turned against the short then
    against_told: datetime | None = None  # the last line said about it
    expiry_told: frozenset[int] = frozenset()  # the days-before reminders sent
    unhedged_told: bool = False


@dataclass(frozen=True, slots=True)
class FundingAgainst:
    """Funding on a tracked perpetual turned against the short (or is still against it)."""

    hedge: TrackedHedge
    rate: Decimal
    interval_hours: Decimal
    since: datetime
    cost_usd: Decimal  # paid since it turned, as the settlements charged it
    first: bool  # False: the daily line while it stays against


@dataclass(frozen=True, slots=True)
class ExpiryReminder:
    """A tracked dated future expires soon: what rolling would lock in."""

    hedge: TrackedHedge
    days_before: int
    expiry: datetime
    rolls: tuple[RollChoice, ...]


@dataclass(frozen=True, slots=True)
class UnhedgedFunding:
    """The coins the short received as funding are now a share of the holding worth hedging."""

    hedge: TrackedHedge
    received_coin: Decimal
    share_pct: Decimal
    contracts_to_add: int


WatchEvent = FundingAgainst | ExpiryReminder | UnhedgedFunding
_NOT_WATCHED = WatchState()


@dataclass(frozen=True, slots=True)
class WatchEvaluation:
    """The events of one cycle, and the states that changed."""

    events: tuple[WatchEvent, ...]
    changed: Mapping[int, WatchState]


def _against(
    hedge: TrackedHedge,
    reading: ContractReading,
    ledger: FundingLedger | None,
    state: WatchState,
    now: datetime,
) -> tuple[FundingAgainst | None, WatchState]:
    if reading.funding_rate is None or reading.funding_interval_hours is None:
        return None, state
    rate, hours = reading.funding_rate, reading.funding_interval_hours
    if state.against_since is None:
        if rate >= 0:
            return None, state
        since = now
        event = FundingAgainst(hedge, rate, hours, since, Decimal(0), first=True)
        return event, state._replace(against_since=since, against_told=now)
    if rate_per_8h(rate, hours) >= AGAINST_CLEARS_8H:
        return None, state._replace(against_since=None, against_told=None)
    if state.against_told is not None and now - state.against_told < DAILY:
        return None, state
    paid = ledger.rates_between(state.against_since, now) if ledger else Decimal(0)
    cost = -hedge.notional_usd * paid
    event = FundingAgainst(hedge, rate, hours, state.against_since, cost, first=False)
    return event, state._replace(against_told=now)


def _expiry(
    hedge: TrackedHedge, state: WatchState, now: datetime, rolls: Sequence[RollChoice]
) -> tuple[ExpiryReminder | None, WatchState]:
    if hedge.expiry is None or now >= hedge.expiry:
        return None, state
    days_left = (hedge.expiry - now) / DAILY
    due = [d for d in EXPIRY_REMINDER_DAYS if days_left <= d and d not in state.expiry_told]
    if not due:
        return None, state
    later = tuple(r for r in rolls if r.expiry > hedge.expiry)
    told = state.expiry_told | frozenset(d for d in EXPIRY_REMINDER_DAYS if days_left <= d)
    return ExpiryReminder(hedge, min(due), hedge.expiry, later), state._replace(expiry_told=told)


def _unhedged(
    hedge: TrackedHedge,
    reading: ContractReading,
    ledger: FundingLedger | None,
    state: WatchState,
    now: datetime,
) -> tuple[UnhedgedFunding | None, WatchState]:
    if ledger is None or state.unhedged_told:
        return None, state
    received_usd = hedge.notional_usd * ledger.rates_between(hedge.opened_at, now)
    if received_usd < hedge.hedged_coins * UNHEDGED_SHARE * reading.mark:
        return None, state
    received_coin = received_usd / reading.mark
    to_add = int(received_coin * reading.mark / hedge.contract_size_usd)
    event = UnhedgedFunding(
        hedge, received_coin, received_coin / hedge.hedged_coins * 100, max(to_add, 1)
    )
    return event, state._replace(unhedged_told=True)


def evaluate_watch(
    index: TrackingIndex,
    readings: Mapping[tuple[str, str], ContractReading],
    ledgers: Mapping[tuple[str, str], FundingLedger],
    rolls: Mapping[str, Sequence[RollChoice]],
    states: Mapping[int, WatchState],
    now: datetime,
) -> WatchEvaluation:
    """Funding turning against each tracked perpetual (then a daily line with the cost while it
    stays there), reminders 7 days and 1 day before a dated future expires with what rolling
    would lock in, and the funding received once it is worth hedging (1 % of the holding).

    `readings` are by (venue, symbol), `ledgers` (each venue's perpetual) by (venue, coin) and
    `rolls` (the coin's dated futures) by coin; a hedge without a reading keeps its state.
    """
    events: list[WatchEvent] = []
    changed: dict[int, WatchState] = {}
    for hedge, _ in index.rows:
        reading = readings.get((hedge.venue, hedge.symbol))
        if reading is None:
            continue
        before = states.get(hedge.id, _NOT_WATCHED)
        state = before
        if hedge.expiry is None:
            ledger = ledgers.get((hedge.venue, hedge.coin))
            against, state = _against(hedge, reading, ledger, state, now)
            unhedged, state = _unhedged(hedge, reading, ledger, state, now)
            events += [e for e in (against, unhedged) if e is not None]
        else:
            reminder, state = _expiry(hedge, state, now, rolls.get(hedge.coin, ()))
            if reminder is not None:
                events.append(reminder)
        if state is not before:
            changed[hedge.id] = state
    return WatchEvaluation(events=tuple(events), changed=changed)


def roll_choices(markets: Iterable[MarketContract], now: datetime) -> tuple[RollChoice, ...]:
    """The dated futures among `markets` and what a short opened on each now would lock in."""
    choices = []
    for market in markets:
        expiry = market.contract.expiry
        if expiry is None or expiry <= now:
            continue
        premium = basis(market.quote.short_entry_price, market.quote.index_price)
        days = Decimal((expiry - now).total_seconds()) / 86400
        choices.append(
            RollChoice(
                venue=market.contract.venue,
                symbol=market.contract.venue_symbol or market.contract.symbol,
                expiry=expiry,
                basis_pct=premium * 100,
                basis_apr_pct=annualise_basis(premium, days) * 100,
            )
        )
    return tuple(sorted(choices, key=lambda c: c.basis_apr_pct, reverse=True))


DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR_UTC = 8
WEEK = timedelta(days=7)


class ChatWatch(Frozen):
    """A chat's choices for its tracked hedges: warning tiers, and the weekly digest."""

    tiers: Tiers = Tiers()
    digest: bool = False
    next_digest_at: AwareDatetime | None = None


def next_digest_at(after: datetime) -> datetime:
    """The first Monday 08:00 UTC after `after`: when a weekly digest goes out."""
    moment = after.astimezone(UTC).replace(hour=DIGEST_HOUR_UTC, minute=0, second=0, microsecond=0)
    moment += timedelta(days=(DIGEST_WEEKDAY - moment.weekday()) % 7)
    return moment if moment > after else moment + WEEK


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One tracked hedge's week: funding, distance to liquidation, value against entry."""

    hedge: TrackedHedge
    mark: Decimal
    funding_week_usd: Decimal | None  # None: a dated future, or no funding history
    liquidation_distance_pct: Decimal | None
    hedged_value_usd: Decimal
    hedged_value_at_entry_usd: Decimal


def digest_entry(
    hedge: TrackedHedge,
    liquidation: Decimal | None,
    reading: ContractReading,
    ledger: FundingLedger | None,
    now: datetime,
) -> DigestEntry:
    """A tracked hedge's line in the weekly digest, from this cycle's reading."""
    start = max(now - WEEK, hedge.opened_at)
    funding = None
    if hedge.expiry is None and ledger is not None:
        funding = hedge.notional_usd * ledger.rates_between(start, now)
    coins, entry = hedge.hedged_coins, hedge.entry_price
    return DigestEntry(
        hedge=hedge,
        mark=reading.mark,
        funding_week_usd=funding,
        liquidation_distance_pct=None
        if liquidation is None
        else price_move_pct(reading.mark, liquidation),
        hedged_value_usd=hedged_value_usd(coins, hedge.notional_usd, entry, reading.mark),
        hedged_value_at_entry_usd=hedged_value_usd(coins, hedge.notional_usd, entry, entry),
    )
