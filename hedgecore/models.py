"""Immutable domain models: contracts, market quotes, holdings, hedge plans and their risk notes.

Money is `Decimal`. Rates are fractions (0.0001 = 0.01 %); fields ending in `_pct` are percent.
Funding rates keep the venues' sign: positive means longs pay shorts, so a short hedge receives it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# What a venue's order form takes for an inverse contract's size.
OrderUnit = Literal["contracts", "usd", "coin"]


class Frozen(BaseModel):
    """Base of every hedgecore model: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Side(StrEnum):
    """Direction of a futures position."""

    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        """+1 for a long, -1 for a short."""
        return 1 if self is Side.LONG else -1


class ContractKind(StrEnum):
    """A perpetual swap or a future with an expiry date."""

    PERPETUAL = "perpetual"
    DATED = "dated"


class TierUnit(StrEnum):
    """What a margin tier's size limit is measured in: the venues differ."""

    COIN = "coin"  # position value in the settlement coin (Bybit risk limits, Binance brackets)
    USD = "usd"  # position notional in USD, i.e. contracts x contract size (OKX, Kraken)


class DataSource(StrEnum):
    """Where a figure came from: a venue just now, a recorded snapshot (the bundled demo is
    one), or the user."""

    LIVE = "live"
    SNAPSHOT = "snapshot"
    DEMO = "demo"
    MANUAL = "manual"

    @property
    def recorded(self) -> bool:
        """Market data recorded at another moment: answers are as of that moment."""
        return self in (DataSource.SNAPSHOT, DataSource.DEMO)


class MarginTier(Frozen):
    """One step of a venue's maintenance-margin schedule, up to and including `max_size`."""

    max_size: Decimal = Field(gt=0)
    size_unit: TierUnit
    maintenance_margin_rate: Decimal = Field(ge=0, lt=1)
    maintenance_deduction_coin: Decimal = Field(default=Decimal(0), ge=0)
    max_leverage: Decimal | None = Field(default=None, gt=0)


class Contract(Frozen):
    """An inverse contract: quoted in USD, margined and settled in `coin`."""

    venue: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    coin: str = Field(min_length=1)
    kind: ContractKind
    expiry: AwareDatetime | None = None
    contract_size_usd: Decimal = Field(gt=0)
    taker_fee_rate: Decimal = Field(ge=0, lt=Decimal("0.1"))
    maintenance_margin_rate: Decimal = Field(ge=0, lt=1)
    margin_tiers: tuple[MarginTier, ...] = ()
    # Added to the margin rates per coin of position (Deribit): MMR = rate + this x size.
    margin_rate_per_coin: Decimal = Field(default=Decimal(0), ge=0)
    max_leverage: Decimal | None = Field(default=None, gt=0)  # the market's own limit, if given
    venue_symbol: str | None = None  # the venue's own name for it (ccxt's market id)
    # Deribit takes inverse order amounts in USD, Bitget in coins, everyone else in contracts.
    order_amount_unit: OrderUnit = "contracts"
    # Where orders are in coins: their step. A position's USD face is then fixed when it opens
    # (coins x entry price), so one "contract" is one step, worth `contract_size_usd` at the
    # price the plan is sized at.
    order_step_coin: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _expiry_matches_kind(self) -> Contract:
        if (self.kind is ContractKind.DATED) != (self.expiry is not None):
            raise ValueError("a dated contract needs an expiry and a perpetual has none")
        if (self.order_amount_unit == "coin") != (self.order_step_coin is not None):
            raise ValueError("a contract ordered in coins needs its order step, and only it")
        return self


class Quote(Frozen):
    """Prices of one contract on one venue at one moment (USD per coin)."""

    venue: str
    symbol: str
    mark_price: Decimal = Field(gt=0)
    index_price: Decimal = Field(gt=0)
    bid: Decimal | None = Field(default=None, gt=0)
    ask: Decimal | None = Field(default=None, gt=0)
    volume_24h_usd: Decimal | None = Field(default=None, ge=0)  # traded over the last day
    open_interest_usd: Decimal | None = Field(default=None, ge=0)  # all positions open now
    timestamp: AwareDatetime
    source: DataSource = DataSource.LIVE

    @property
    def short_entry_price(self) -> Decimal:
        """Price a short opens at: the best bid, or the mark when the book is not known."""
        return self.bid if self.bid is not None else self.mark_price

    @property
    def spread(self) -> Decimal | None:
        """The bid-ask spread as a share of the mid price, when both sides are known."""
        if self.bid is None or self.ask is None or self.ask < self.bid:
            return None
        return (self.ask - self.bid) / ((self.ask + self.bid) / 2)


class FundingQuote(Frozen):
    """A perpetual's funding rate per interval; positive: longs pay shorts."""

    venue: str
    symbol: str
    rate: Decimal = Field(gt=-1, lt=1)
    interval_hours: Decimal = Field(gt=0, le=24)
    # False: the venue did not say and its usual interval is assumed (intervals now change:
    # Binance and Bybit move a contract to 1 h after a capped settlement, OKX steps 8 to 1 h).
    interval_from_venue: bool = True
    next_funding_time: AwareDatetime | None = None
    predicted_rate: Decimal | None = None
    # Deribit reports the funding realised over the last 8 hours, not the rate about to be charged.
    realised: bool = False
    timestamp: AwareDatetime

    def next_funding_after(self, now: datetime) -> datetime | None:
        """The venue's next funding time, unless it has passed by `now` (stale data)."""
        upcoming = self.next_funding_time
        return upcoming if upcoming is not None and upcoming > now else None


class MarketContract(Frozen):
    """A contract with its latest quote and, for perpetuals, its funding."""

    contract: Contract
    quote: Quote
    funding: FundingQuote | None = None

    @model_validator(mode="after")
    def _same_instrument(self) -> MarketContract:
        ids = {(self.contract.venue, self.contract.symbol), (self.quote.venue, self.quote.symbol)}
        if self.funding is not None:
            ids.add((self.funding.venue, self.funding.symbol))
            if self.contract.kind is not ContractKind.PERPETUAL:
                raise ValueError("only perpetuals have funding")
        if len(ids) != 1:
            raise ValueError(f"quote and funding must belong to the contract: {sorted(ids)}")
        return self


class FundingPoint(Frozen):
    """One past funding rate of a perpetual, per its own interval."""

    time: AwareDatetime
    rate: Decimal
    interval_hours: Decimal


class Holding(Frozen):
    """Coins a user holds and wants to hedge."""

    coin: str = Field(min_length=1)
    quantity: Decimal = Field(gt=0)


class CrossHedgeFit(Frozen):
    """How well returns of a proxy coin explain those of the held coin (minimum-variance hedge)."""

    coin: str
    proxy_coin: str
    beta: Decimal  # USD of proxy to short per USD of the held coin
    correlation: Decimal
    r_squared: Decimal  # share of the held coin's variance the hedge removes
    observations: int = Field(ge=3)


class RiskKind(StrEnum):
    """Topic of a risk note."""

    LIQUIDATION = "liquidation"
    MARGIN = "margin"
    FUNDING = "funding"
    BASIS = "basis"
    CUSTODY = "custody"
    ROUNDING = "rounding"
    CROSS_HEDGE = "cross_hedge"
    LIQUIDITY = "liquidity"
    DATA_AGE = "data_age"


class RiskNote(Frozen):
    """One risk of a plan in plain words, with the plan's own numbers."""

    kind: RiskKind
    text: str


class HedgeLeg(Frozen):
    """The short to open on one contract, with everything it costs, pays and risks."""

    venue: str
    symbol: str
    kind: ContractKind
    expiry: AwareDatetime | None
    margin_currency: str  # the coin the contract is margined and settled in
    venue_symbol: str | None = None  # the venue's own name for it, as its order form shows
    entry_price: Decimal  # the contract's price the short is sized at
    index_price: Decimal
    contracts: int
    contract_size_usd: Decimal
    order_amount: Decimal  # what to type into the venue's order form
    order_amount_unit: OrderUnit
    order_step_coin: Decimal | None = None  # where orders are in coins: their step
    target_notional_usd: Decimal
    notional_usd: Decimal
    hedged_exposure_usd: (
        Decimal  # USD exposure the short offsets (a cross hedge's margin offsets part of it)
    )
    residual_usd: Decimal  # exposure left unhedged by rounding; negative when over-hedged
    leverage: Decimal
    margin_coin: Decimal  # posted on the venue, in margin_currency
    coins_to_move: Decimal  # margin and opening fee: what the venue account must hold
    coins_kept: Decimal  # held coins that stay in the user's own custody
    coins_missing: Decimal  # what the holding cannot cover of coins_to_move: the user brings it
    maintenance_margin_rate: Decimal
    # False where the venue keeps its larger tiers private: the rate is its smallest tier's.
    maintenance_schedule_known: bool = True
    liquidation_price: Decimal | None
    liquidation_distance_pct: Decimal | None
    bankruptcy_price: Decimal | None
    max_leverage: Decimal | None
    funding_rate: Decimal | None
    funding_interval_hours: Decimal | None
    funding_interval_from_venue: bool = True
    funding_realised: bool
    next_funding_time: AwareDatetime | None
    predicted_funding_rate: Decimal | None
    funding_per_interval_coin: Decimal | None  # positive: the short receives
    funding_per_interval_usd: Decimal | None
    funding_per_day_usd: Decimal | None
    funding_per_year_usd: Decimal | None
    funding_apr_pct: Decimal | None
    days_to_expiry: Decimal | None
    basis_pct: Decimal | None  # premium of the contract over the index
    basis_apr_pct: Decimal | None
    locked_value_usd: Decimal | None  # what the dated short pays out at expiry, whatever the price
    fee_rate: Decimal
    fee_coin: Decimal
    fee_usd: Decimal
    spread_pct: Decimal | None = None  # the bid-ask spread, of the mid price
    spread_cost_usd: Decimal = Decimal(0)  # half the spread crossed to open, half to close
    volume_24h_usd: Decimal | None = None
    open_interest_usd: Decimal | None = None
    carry_usd: Decimal | None  # expected funding or basis earned over the plan's horizon
    net_carry_usd: Decimal | None  # carry minus opening and closing fees and the spread
    quote_time: AwareDatetime
    data_age_seconds: Decimal
    data_source: DataSource


class LeverageRow(Frozen):
    """One line of the leverage trade-off table."""

    leverage: Decimal
    margin_coin: Decimal
    coins_kept: Decimal
    coins_missing: Decimal
    liquidation_price: Decimal | None
    liquidation_distance_pct: Decimal | None


class HedgePlan(Frozen):
    """How to hedge one holding: legs ranked best first, why, and the risks."""

    holding: Holding
    spot_price: Decimal
    value_usd: Decimal
    hedge_ratio: Decimal
    leverage: Decimal
    horizon_days: int
    cross_hedge: CrossHedgeFit | None
    legs: tuple[HedgeLeg, ...] = Field(min_length=1)
    ranking_reason: str
    notes: tuple[RiskNote, ...]
    as_of: AwareDatetime

    @property
    def best(self) -> HedgeLeg:
        """The leg the plan recommends."""
        return self.legs[0]


class PortfolioPlan(Frozen):
    """Plans for several holdings with their totals (best leg of each)."""

    plans: tuple[HedgePlan, ...] = Field(min_length=1)
    value_usd: Decimal
    hedged_exposure_usd: Decimal
    residual_usd: Decimal
    funding_per_year_usd: Decimal
    fee_usd: Decimal


class PlanSettings(Frozen):
    """What the user asks of a plan: how much to hedge, at what leverage, judged over what horizon."""

    hedge_ratio: Decimal = Field(default=Decimal(1), gt=0, le=2)
    leverage: Decimal = Field(default=Decimal(1), ge=1, le=125)
    horizon_days: int = Field(default=30, ge=1, le=3650)
