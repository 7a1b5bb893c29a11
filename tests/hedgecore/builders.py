"""Builders of hedgecore inputs for tests: realistic defaults, every field overridable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hedgecore.models import (
    Contract,
    ContractKind,
    DataSource,
    FundingQuote,
    MarginTier,
    MarketContract,
    OrderUnit,
    Quote,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def perpetual(
    venue: str = "bybit",
    coin: str = "BTC",
    price: Decimal = Decimal(60000),
    contract_size_usd: Decimal = Decimal(1),
    funding_rate: Decimal | None = Decimal("0.0001"),
    interval_hours: Decimal = Decimal(8),
    interval_from_venue: bool = True,
    taker_fee_rate: Decimal = Decimal("0.0005"),
    mmr: Decimal = Decimal("0.005"),
    index_price: Decimal | None = None,
    tiers: tuple[MarginTier, ...] = (),
    order_amount_unit: OrderUnit = "contracts",
    order_step_coin: Decimal | None = None,
    age: timedelta = timedelta(seconds=3),
    source: DataSource = DataSource.LIVE,
    realised: bool = False,
    ask: Decimal | None = None,
) -> MarketContract:
    """An inverse perpetual quoted at `price` (bid = mark, ask if given) with optional funding."""
    symbol = f"{coin}/USD:{coin}"
    contract = Contract(
        venue=venue,
        symbol=symbol,
        coin=coin,
        kind=ContractKind.PERPETUAL,
        contract_size_usd=contract_size_usd,
        taker_fee_rate=taker_fee_rate,
        maintenance_margin_rate=mmr,
        margin_tiers=tiers,
        order_amount_unit=order_amount_unit,
        order_step_coin=order_step_coin,
    )
    quote = Quote(
        venue=venue,
        symbol=symbol,
        mark_price=price,
        index_price=index_price or price,
        bid=price,
        ask=ask,
        timestamp=NOW - age,
        source=source,
    )
    funding = None
    if funding_rate is not None:
        funding = FundingQuote(
            venue=venue,
            symbol=symbol,
            rate=funding_rate,
            interval_hours=interval_hours,
            interval_from_venue=interval_from_venue,
            realised=realised,
            timestamp=NOW - age,
        )
    return MarketContract(contract=contract, quote=quote, funding=funding)


def dated(
    venue: str = "okx",
    coin: str = "BTC",
    futures_price: Decimal = Decimal(61500),
    index_price: Decimal = Decimal(60000),
    expiry: datetime = NOW + timedelta(days=117),
    contract_size_usd: Decimal = Decimal(100),
    taker_fee_rate: Decimal = Decimal("0.0005"),
    mmr: Decimal = Decimal("0.004"),
) -> MarketContract:
    """An inverse dated future quoted at `futures_price` over `index_price`."""
    symbol = f"{coin}/USD:{coin}-{expiry:%y%m%d}"
    contract = Contract(
        venue=venue,
        symbol=symbol,
        coin=coin,
        kind=ContractKind.DATED,
        expiry=expiry,
        contract_size_usd=contract_size_usd,
        taker_fee_rate=taker_fee_rate,
        maintenance_margin_rate=mmr,
    )
    quote = Quote(
        venue=venue,
        symbol=symbol,
        mark_price=futures_price,
        index_price=index_price,
        bid=futures_price,
        timestamp=NOW,
    )
    return MarketContract(contract=contract, quote=quote)
