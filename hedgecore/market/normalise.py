"""From ccxt's unified structures to hedgecore's models, with each venue's quirks handled here.

Quirks (shared/reference/inverse-futures.md, sections 2, 5 and 6):
* Deribit marks perpetuals with an expiry in the year 3000, gives no index price in its book
  summary (its `estimated_delivery_price` is the index) and reports the funding realised over the
  last 8 hours rather than the rate about to be charged.
* Kraken Futures quotes inverse funding as an absolute amount per contract and hour. ccxt divides
  it by the mark price, which is right for linear `PF_` markets but not for inverse `PI_` ones:
  there one contract is worth 1/price coin, so the relative rate is the absolute amount times
  the price (checked against ccxt's own 2018 sample: 2.189e-7 x ~278 = 6.078e-5). We use that.
* Funding intervals change per contract (Binance and Bybit move one to 1 h after a capped
  settlement, OKX steps 8 -> 4 -> 2 -> 1 h): each is read from the venue (ccxt's `interval`,
  from Bybit's `fundingInterval` and OKX's funding times; Binance COIN-M's premium index has
  none, so the feed adds it from `fundingInfo`). Only where the venue says nothing is its
  published default assumed, and the quote says so.
* Volume and open interest come in each venue's own unit: Bybit's and Kraken's tickers count
  contracts (of their USD face value), Deribit's give USD outright; OKX's `vol24h` and Binance
  COIN-M's 24-hour `volume` count contracts. OKX's open interest in USD comes from its own
  endpoint (`oiUsd`); Binance's needs a request per contract (not made: shown as unknown).
* Bitget takes coin-M orders in coins (steps of its `sizeMultiplier`; ccxt's contract size is 1
  coin) and gives volume and open interest in coins. A step's USD face is set by the price the
  short opens at, so its contracts are valued at the quote's entry price.
* BingX's coin-M contract is worth its `minTickSize` in USD (ccxt's contractSize); its ticker's
  volume counts contracts; its premium index gives only the next funding time, no interval.
* A response full of None is an error, not a zero: `InvalidMarketData` says what was missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hedgecore.errors import HedgeCoreError
from hedgecore.models import (
    Contract,
    ContractKind,
    DataSource,
    FundingQuote,
    MarginTier,
    MarketContract,
    Quote,
    TierUnit,
)
from hedgecore.venues import VENUES

CcxtDict = Mapping[str, Any]
_DEFAULT_ALT_MMR = Decimal("0.01")


class InvalidMarketData(HedgeCoreError):
    """A venue answered, but not with data we can use."""


def to_decimal(value: Any) -> Decimal | None:
    """A ccxt number (float, int or numeric string) as a Decimal; None for missing or non-finite."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def from_ms(timestamp_ms: Any) -> datetime | None:
    """A ccxt millisecond timestamp as an aware UTC datetime; None for missing or zero."""
    number = to_decimal(timestamp_ms)
    if number is None or number <= 0:
        return None
    return datetime.fromtimestamp(float(number) / 1000, tz=UTC)


def _positive(value: Any, what: str, symbol: str) -> Decimal:
    number = to_decimal(value)
    if number is None or number <= 0:
        raise InvalidMarketData(f"{symbol}: no usable {what} (got {value!r})")
    return number


def is_inverse_contract(market: CcxtDict) -> bool:
    """Whether a ccxt market is an inverse perpetual or dated future we can hedge with."""
    return (
        bool(market.get("inverse"))
        and market.get("type") in ("swap", "future")
        and market.get("active") is not False
        and market.get("base") is not None
        and market.get("settle") == market.get("base")
    )


def order_step_coin(venue: str, market: CcxtDict) -> Decimal | None:
    """The order step in coins of a venue whose inverse orders are in coins (Bitget), else None.

    ccxt calls Bitget's contract size 1 (one coin); the step its orders move in is the market's
    `sizeMultiplier`.
    """
    spec = VENUES.get(venue)
    if spec is None or spec.order_amount_unit != "coin":
        return None
    info = market.get("info") or {}
    step = info.get("sizeMultiplier") or (market.get("precision") or {}).get("amount")
    return _positive(step, "order step", str(market.get("symbol")))


def contract_from_market(
    venue: str,
    market: CcxtDict,
    tiers: tuple[MarginTier, ...] = (),
    entry_price: Decimal | None = None,
) -> Contract:
    """A hedgecore contract from a ccxt market of `venue`; `entry_price` values an order step
    where orders are in coins."""
    symbol = str(market.get("symbol"))
    coin = str(market.get("base"))
    spec = VENUES.get(venue)
    perpetual = market.get("type") == "swap"
    expiry = None if perpetual else from_ms(market.get("expiry"))
    if not perpetual and expiry is None:
        raise InvalidMarketData(f"{symbol}: dated future without an expiry")
    taker = to_decimal(market.get("taker"))
    if taker is None:
        if spec is None:
            raise InvalidMarketData(f"{symbol}: no taker fee")
        taker = spec.taker_fee_rate
    step = order_step_coin(venue, market)
    if step is None:
        contract_size = _positive(market.get("contractSize"), "contract size", symbol)
    elif entry_price is None:
        raise InvalidMarketData(f"{symbol}: no price to value an order step of {step} {coin}")
    else:
        contract_size = step * entry_price
    if tiers:
        mmr = tiers[0].maintenance_margin_rate
    elif spec is not None and coin == "BTC":
        mmr = spec.btc_maintenance_margin_rate
    else:
        mmr = _DEFAULT_ALT_MMR
    return Contract(
        venue=venue,
        symbol=symbol,
        coin=coin,
        kind=ContractKind.PERPETUAL if perpetual else ContractKind.DATED,
        expiry=expiry,
        contract_size_usd=contract_size,
        taker_fee_rate=taker,
        maintenance_margin_rate=mmr,
        margin_tiers=tiers,
        margin_rate_per_coin=spec.margin_rate_per_coin.get(coin, Decimal(0))
        if spec
        else Decimal(0),
        order_amount_unit=spec.order_amount_unit if spec is not None else "contracts",
        order_step_coin=step,
        venue_symbol=str(market["id"]).upper() if market.get("id") else None,
        max_leverage=_positive_or_none(
            ((market.get("limits") or {}).get("leverage") or {}).get("max")
        ),
    )


def _positive_or_none(value: Any) -> Decimal | None:
    number = to_decimal(value)
    return number if number is not None and number > 0 else None


def _index_price(venue: str, ticker: CcxtDict, funding: CcxtDict | None) -> Any:
    if ticker.get("indexPrice") is not None:
        return ticker["indexPrice"]
    if funding is not None and funding.get("indexPrice") is not None:
        return funding["indexPrice"]
    if venue == "deribit":
        return ticker.get("info", {}).get("estimated_delivery_price")
    return None


def _liquidity(
    venue: str, ticker: CcxtDict, contract_size_usd: Decimal, mark: Decimal
) -> tuple[Decimal | None, Decimal | None]:
    """24-hour volume and open interest in USD, where the venue's ticker carries them."""
    info = ticker.get("info") or {}

    def contracts(key: str) -> Decimal | None:
        count = to_decimal(info.get(key))
        return None if count is None else count * contract_size_usd

    def coins(key: str) -> Decimal | None:
        amount = to_decimal(info.get(key))
        return None if amount is None else amount * mark

    if venue == "bybit":
        return contracts("volume24h"), contracts("openInterest")
    if venue == "binancecoinm":
        return contracts("volume"), None
    if venue == "krakenfutures":
        return contracts("vol24h"), contracts("openInterest")
    if venue == "okx":
        return contracts("vol24h"), to_decimal(info.get("oiUsd"))
    if venue == "deribit":
        return to_decimal(info.get("volume_usd")), to_decimal(info.get("open_interest"))
    if venue == "bitget":
        return coins("baseVolume"), coins("holdingAmount")
    if venue == "bingx":
        return contracts("volume"), None
    return None, None


def quote_from(
    venue: str,
    symbol: str,
    ticker: CcxtDict,
    funding: CcxtDict | None,
    fetched_at: datetime,
    source: DataSource = DataSource.LIVE,
    index_fallback: Decimal | None = None,
    contract_size_usd: Decimal = Decimal(1),
) -> Quote:
    """Prices of one contract from its ccxt ticker, with mark and index from funding if missing."""
    mark = ticker.get("markPrice") or (funding or {}).get("markPrice")
    index = _index_price(venue, ticker, funding) or index_fallback
    timestamp = (
        from_ms(ticker.get("timestamp")) or from_ms((funding or {}).get("timestamp")) or fetched_at
    )
    bid = to_decimal(ticker.get("bid"))
    ask = to_decimal(ticker.get("ask"))
    mark_price = _positive(mark, "mark price", symbol)
    volume, open_interest = _liquidity(venue, ticker, contract_size_usd, mark_price)
    return Quote(
        venue=venue,
        symbol=symbol,
        mark_price=mark_price,
        index_price=_positive(index, "index price", symbol),
        bid=bid if bid is not None and bid > 0 else None,
        ask=ask if ask is not None and ask > 0 else None,
        volume_24h_usd=volume if volume is not None and volume >= 0 else None,
        open_interest_usd=open_interest
        if open_interest is not None and open_interest >= 0
        else None,
        timestamp=min(timestamp, fetched_at),
        source=source,
    )


def _interval_hours(venue: str, funding: CcxtDict) -> tuple[Decimal, bool]:
    """The funding interval in hours, and whether the venue said it (else its default)."""
    interval = funding.get("interval")
    if isinstance(interval, str) and interval.endswith("h"):
        hours = to_decimal(interval[:-1])
        if hours is not None and hours > 0:
            return hours, True
    spec = VENUES.get(venue)
    if spec is None:
        raise InvalidMarketData(f"{funding.get('symbol')}: no funding interval")
    return spec.funding_interval_hours, False


def _kraken_inverse_rate(funding: CcxtDict, key: str, mark: Decimal) -> Decimal | None:
    absolute = to_decimal(funding.get("info", {}).get(key))
    return None if absolute is None else absolute * mark


def funding_from(venue: str, symbol: str, funding: CcxtDict, fetched_at: datetime) -> FundingQuote:
    """A perpetual's funding from its ccxt funding-rate structure, in the venue's true units."""
    rate = to_decimal(funding.get("fundingRate"))
    predicted = to_decimal(funding.get("nextFundingRate"))
    if venue == "krakenfutures":
        mark = _positive(
            funding.get("markPrice") or funding.get("info", {}).get("markPrice"),
            "mark price",
            symbol,
        )
        rate = _kraken_inverse_rate(funding, "fundingRate", mark)
        predicted = _kraken_inverse_rate(funding, "fundingRatePrediction", mark)
    if rate is None:
        raise InvalidMarketData(f"{symbol}: no funding rate")
    next_time = from_ms(funding.get("fundingTimestamp"))
    if next_time is None or next_time <= fetched_at:  # BingX gives only the next one
        next_time = from_ms(funding.get("nextFundingTimestamp"))
    interval_hours, from_venue = _interval_hours(venue, funding)
    return FundingQuote(
        venue=venue,
        symbol=symbol,
        rate=rate,
        interval_hours=interval_hours,
        interval_from_venue=from_venue,
        next_funding_time=next_time,
        predicted_rate=predicted,
        realised=venue == "deribit",
        timestamp=min(from_ms(funding.get("timestamp")) or fetched_at, fetched_at),
    )


def market_contract(
    venue: str,
    market: CcxtDict,
    ticker: CcxtDict | None,
    funding: CcxtDict | None,
    fetched_at: datetime,
    source: DataSource = DataSource.LIVE,
    tiers: tuple[MarginTier, ...] = (),
    index_fallback: Decimal | None = None,
) -> MarketContract:
    """Contract, quote and funding of one ccxt market, validated.

    `index_fallback` is the coin's index from the venue's perpetual, for dated futures whose
    ticker has none (Kraken's fixed maturities).
    """
    symbol = str(market.get("symbol"))
    if ticker is None and funding is None:
        raise InvalidMarketData(f"{symbol}: no quote")
    # Liquidity counted in contracts needs their size; a coin step's size needs the quote.
    quote = quote_from(
        venue,
        symbol,
        ticker or {},
        funding,
        fetched_at,
        source,
        index_fallback,
        to_decimal(market.get("contractSize")) or Decimal(1),
    )
    contract = contract_from_market(venue, market, tiers, quote.short_entry_price)
    funding_quote = None
    if contract.kind is ContractKind.PERPETUAL and funding is not None:
        funding_quote = funding_from(venue, contract.symbol, funding, fetched_at)
    return MarketContract(contract=contract, quote=quote, funding=funding_quote)


def tiers_from_leverage_tiers(
    leverage_tiers: list[CcxtDict], market: CcxtDict
) -> tuple[MarginTier, ...]:
    """Margin tiers from ccxt leverage tiers of an inverse market.

    ccxt keeps each venue's unit: Bybit's risk limits are position values in the settlement coin,
    OKX's position tiers are numbers of contracts (turned into USD here).
    """
    in_contracts = market.get("id", "").endswith("-SWAP")
    contract_size = to_decimal(market.get("contractSize")) or Decimal(1)
    tiers = []
    for tier in leverage_tiers:
        ceiling = to_decimal(tier.get("maxNotional"))
        if ceiling is not None and in_contracts:
            ceiling *= contract_size
        mmr = to_decimal(tier.get("maintenanceMarginRate"))
        if ceiling is None or ceiling <= 0 or mmr is None:
            raise InvalidMarketData(f"{tier.get('symbol')}: margin tier without size or rate")
        leverage = _positive_or_none(tier.get("maxLeverage"))
        tiers.append(
            MarginTier(
                max_size=ceiling,
                size_unit=TierUnit.USD if in_contracts else TierUnit.COIN,
                maintenance_margin_rate=mmr,
                maintenance_deduction_coin=to_decimal(tier.get("info", {}).get("mmDeduction"))
                or Decimal(0),
                max_leverage=leverage,
            )
        )
    return tuple(tiers)


def tiers_from_kraken_market(market: CcxtDict) -> tuple[MarginTier, ...]:
    """Kraken's margin levels, listed in its instruments: each starts at a number of contracts."""
    info = market.get("info", {})
    levels = info.get("marginLevels") or []
    size = to_decimal(market.get("contractSize")) or Decimal(1)
    starts = [to_decimal(level.get("contracts")) for level in levels]
    ceiling = to_decimal(info.get("maxPositionSize"))
    tiers = []
    for i, level in enumerate(levels):
        upper = starts[i + 1] if i + 1 < len(levels) else ceiling
        mmr = to_decimal(level.get("maintenanceMargin"))
        initial = to_decimal(level.get("initialMargin"))
        if upper is None or mmr is None or upper <= 0:
            continue
        tiers.append(
            MarginTier(
                max_size=upper * size,
                size_unit=TierUnit.USD,
                maintenance_margin_rate=mmr,
                max_leverage=1 / initial if initial else None,
            )
        )
    return tuple(tiers)
