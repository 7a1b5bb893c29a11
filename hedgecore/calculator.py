"""The offline calculator: a contract described by the user's figures (or a venue's published
specs), planned without market data. Every figure that was assumed rather than given is noted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hedgecore.answers import HedgeQuestion, HedgeResult, MarketPlan
from hedgecore.errors import InvalidInput
from hedgecore.models import (
    Contract,
    ContractKind,
    DataSource,
    Frozen,
    FundingQuote,
    MarketContract,
    OrderUnit,
    Quote,
)
from hedgecore.planning import plan_hedge
from hedgecore.venues import VenueSpec

CALCULATOR_VENUE = "your venue"  # the label of a contract described only by options
DEFAULT_TAKER_FEE_RATE = Decimal("0.0005")
DEFAULT_MMR = Decimal("0.005")
DEFAULT_CONTRACT_SIZE_USD = Decimal(1)
DEFAULT_FUNDING_INTERVAL_HOURS = Decimal(8)
EXPIRY_TIME_UTC = time(8, 0, tzinfo=UTC)  # Binance, Bybit, OKX and Deribit settle at 08:00 UTC


class ContractFigures(Frozen):
    """What the user says about the contract: a price, and any of the rest (None: assumed)."""

    price: Decimal
    venue: VenueSpec | None = None
    contract_size_usd: Decimal | None = None
    maintenance_margin_rate: Decimal | None = None
    taker_fee_rate: Decimal | None = None
    funding_rate: Decimal | None = None
    funding_interval_hours: Decimal | None = None
    futures_price: Decimal | None = None
    expiry: date | None = None


def calculator_markets(
    coin: str, figures: ContractFigures, now: datetime
) -> tuple[list[MarketContract], list[str]]:
    """The contracts the figures describe, and a note for every figure that was assumed."""
    venue = figures.venue
    assumed: list[str] = []
    venue_id = venue.id if venue else CALCULATOR_VENUE
    where = f"{venue.name}'s published" if venue else "an assumed"

    order_step = venue.published_order_step_coin(coin) if venue else None
    given_size = figures.contract_size_usd
    if given_size is not None:
        order_step = None  # the user's own contract size overrides the venue's coin steps
    elif order_step is not None:
        assumed.append(
            f"Order step {order_step} {coin} is {where} figure; pass --contract-size to set a "
            "contract's USD size instead."
        )
    else:
        given_size = (
            venue.published_contract_size_usd(coin, figures.price)
            if venue
            else DEFAULT_CONTRACT_SIZE_USD
        )
        assumed.append(
            f"Contract size {given_size} USD is {where} figure; pass --contract-size to set it."
        )
    order_unit: OrderUnit = "contracts"
    if order_step is not None:
        order_unit = "coin"
    elif venue is not None and venue.order_amount_unit == "usd":
        order_unit = "usd"

    def contract_size_at(price: Decimal) -> Decimal:
        """A contract's USD face; a coin step's is set by the price the short opens at."""
        if order_step is not None:
            return order_step * price
        return given_size or DEFAULT_CONTRACT_SIZE_USD

    mmr, per_coin = figures.maintenance_margin_rate, Decimal(0)
    if mmr is None:
        mmr = venue.btc_maintenance_margin_rate if venue and coin == "BTC" else DEFAULT_MMR
        per_coin = venue.margin_rate_per_coin.get(coin, Decimal(0)) if venue else Decimal(0)
        size_term = f" + {per_coin * 100:f}% per {coin} of position" if per_coin else ""
        assumed.append(
            f"Maintenance margin rate {mmr * 100:f}%{size_term} is assumed; pass --mmr to set it."
        )
    taker_fee = figures.taker_fee_rate
    if taker_fee is None:
        taker_fee = venue.taker_fee_rate if venue else DEFAULT_TAKER_FEE_RATE
        assumed.append(
            f"Taker fee {taker_fee * 100:f}% is {where} figure; pass --taker-fee to set it."
        )
    interval = figures.funding_interval_hours
    if interval is None:
        interval = venue.funding_interval_hours if venue else DEFAULT_FUNDING_INTERVAL_HOURS
    if figures.funding_rate is None:
        assumed.append("Funding unknown: pass --funding-rate to see what the hedge earns or pays.")

    def market(
        symbol: str, kind: ContractKind, expiry: datetime | None, price: Decimal
    ) -> MarketContract:
        contract = Contract(
            venue=venue_id,
            symbol=symbol,
            coin=coin,
            kind=kind,
            expiry=expiry,
            contract_size_usd=contract_size_at(price),
            taker_fee_rate=taker_fee,
            maintenance_margin_rate=mmr,
            margin_rate_per_coin=per_coin,
            order_amount_unit=order_unit,
            order_step_coin=order_step,
        )
        quote = Quote(
            venue=venue_id,
            symbol=symbol,
            mark_price=price,
            index_price=figures.price,
            timestamp=now,
            source=DataSource.MANUAL,
        )
        funding = None
        if kind is ContractKind.PERPETUAL and figures.funding_rate is not None:
            funding = FundingQuote(
                venue=venue_id,
                symbol=symbol,
                rate=figures.funding_rate,
                interval_hours=interval,
                timestamp=now,
            )
        return MarketContract(contract=contract, quote=quote, funding=funding)

    markets = [market(f"{coin}/USD:{coin}", ContractKind.PERPETUAL, None, figures.price)]
    if figures.expiry is not None and figures.futures_price is not None:
        expiry = datetime.combine(figures.expiry, EXPIRY_TIME_UTC)
        if expiry <= now:
            example = (now + timedelta(days=90)).date()
            raise InvalidInput(
                f"expiry {figures.expiry} is not in the future", f"--expiry {example}"
            )
        markets.append(
            market(
                f"{coin}/USD:{coin}-{expiry:%y%m%d}",
                ContractKind.DATED,
                expiry,
                figures.futures_price,
            )
        )
    return markets, assumed


def calculate(question: HedgeQuestion, figures: ContractFigures, now: datetime) -> HedgeResult:
    """The plan of a one-holding question on the described contract: the desk's answer, offline."""
    (holding,) = question.holdings
    markets, assumed = calculator_markets(holding.coin, figures, now)
    plan = plan_hedge(holding, markets, now, question.settings)
    market_plan = MarketPlan.of(plan, markets, assumed, DataSource.MANUAL, now)
    return HedgeResult(plans=(market_plan,), notes=tuple(assumed))
