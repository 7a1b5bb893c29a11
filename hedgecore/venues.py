"""The venues hedgecore knows, with their names and the specs they publish.

Live plans read contract sizes, fees and margins from each venue's markets. The published
figures here only fill in what the offline calculator is not told (shared/reference/
inverse-futures.md, section 2), and every plan that uses them says so.
"""

from __future__ import annotations

import difflib
from decimal import Decimal

from pydantic import Field

from hedgecore.errors import InvalidInput
from hedgecore.models import Frozen, OrderUnit


class VenueSpec(Frozen):
    """A venue as its users know it, and the inverse-contract specs it publishes."""

    id: str  # the ccxt exchange id
    name: str
    aliases: tuple[str, ...]
    taker_fee_rate: Decimal
    funding_interval_hours: Decimal
    # USD face of one contract; where orders are in coins, the order step (in coins) instead.
    btc_contract_size_usd: Decimal | None = None
    alt_contract_size_usd: Decimal | None = None
    btc_order_step_coin: Decimal | None = None
    alt_order_step_coin: Decimal | None = None
    btc_maintenance_margin_rate: Decimal
    # Maintenance (and initial) margin that grows with the position: rate added per coin held
    # short or long, by coin (Deribit's standard margin: 1 % + 0.005 % per BTC).
    margin_rate_per_coin: dict[str, Decimal] = Field(default_factory=dict)
    order_amount_unit: OrderUnit = "contracts"
    continuous_funding: bool = False  # charged every moment, with no funding times

    def published_order_step_coin(self, coin: str) -> Decimal | None:
        """The order step in coins where the venue takes orders in coins, else None."""
        return self.btc_order_step_coin if coin == "BTC" else self.alt_order_step_coin

    def published_contract_size_usd(self, coin: str, price: Decimal) -> Decimal:
        """The USD face value of one contract (or order step) for `coin` at `price`."""
        step = self.published_order_step_coin(coin)
        size = self.btc_contract_size_usd if coin == "BTC" else self.alt_contract_size_usd
        if step is not None:
            return step * price
        if size is None:
            raise ValueError(f"{self.name} publishes neither a contract size nor an order step")
        return size


VENUES: dict[str, VenueSpec] = {
    spec.id: spec
    for spec in (
        VenueSpec(
            id="bybit",
            name="Bybit",
            aliases=("bybit",),
            taker_fee_rate=Decimal("0.00055"),
            funding_interval_hours=Decimal(8),
            btc_contract_size_usd=Decimal(1),
            alt_contract_size_usd=Decimal(1),
            btc_maintenance_margin_rate=Decimal("0.005"),
        ),
        VenueSpec(
            id="binancecoinm",
            name="Binance COIN-M",
            aliases=("binance", "binancecoinm", "coinm"),
            taker_fee_rate=Decimal("0.0005"),
            funding_interval_hours=Decimal(8),
            btc_contract_size_usd=Decimal(100),
            alt_contract_size_usd=Decimal(10),
            btc_maintenance_margin_rate=Decimal("0.004"),
        ),
        VenueSpec(
            id="okx",
            name="OKX",
            aliases=("okx", "okex"),
            taker_fee_rate=Decimal("0.0005"),
            funding_interval_hours=Decimal(8),
            btc_contract_size_usd=Decimal(100),
            alt_contract_size_usd=Decimal(10),
            btc_maintenance_margin_rate=Decimal("0.004"),
        ),
        VenueSpec(
            id="deribit",
            name="Deribit",
            aliases=("deribit",),
            taker_fee_rate=Decimal("0.0005"),
            funding_interval_hours=Decimal(8),
            btc_contract_size_usd=Decimal(10),
            alt_contract_size_usd=Decimal(1),
            btc_maintenance_margin_rate=Decimal("0.01"),
            margin_rate_per_coin={"BTC": Decimal("0.00005"), "ETH": Decimal("0.000004")},
            order_amount_unit="usd",
            continuous_funding=True,
        ),
        VenueSpec(
            id="krakenfutures",
            name="Kraken Futures",
            aliases=("kraken", "krakenfutures"),
            taker_fee_rate=Decimal("0.0005"),
            funding_interval_hours=Decimal(1),
            btc_contract_size_usd=Decimal(1),
            alt_contract_size_usd=Decimal(1),
            btc_maintenance_margin_rate=Decimal("0.01"),
        ),
        # Coin-M futures: order sizes in coins, so a position's USD face is set when it opens.
        VenueSpec(
            id="bitget",
            name="Bitget",
            aliases=("bitget",),
            taker_fee_rate=Decimal("0.0006"),
            funding_interval_hours=Decimal(8),
            btc_order_step_coin=Decimal("0.001"),
            alt_order_step_coin=Decimal("0.01"),
            btc_maintenance_margin_rate=Decimal("0.004"),
            order_amount_unit="coin",
        ),
        VenueSpec(
            id="bingx",
            name="BingX",
            aliases=("bingx",),
            taker_fee_rate=Decimal("0.0005"),
            funding_interval_hours=Decimal(8),
            btc_contract_size_usd=Decimal(100),
            alt_contract_size_usd=Decimal(10),
            btc_maintenance_margin_rate=Decimal("0.004"),
        ),
    )
}

_BY_ALIAS = {alias: spec for spec in VENUES.values() for alias in spec.aliases}
# Venues a user may name that have nothing to hedge with, and why (checked 2026-12-03).
NO_INVERSE_CONTRACTS = {
    "weex": "Weex lists no coin-margined contracts: its contract API and help centre describe "
    "USDT-margined futures only",
}


def venue_by_name(text: str) -> VenueSpec:
    """The venue a user means by `text` (an id or a common name, any case)."""
    name = text.strip().lower()
    if name in NO_INVERSE_CONTRACTS:
        raise InvalidInput(NO_INVERSE_CONTRACTS[name], "bybit")
    spec = _BY_ALIAS.get(name)
    if spec is None:
        close = closest_venue(text)
        if close is not None:
            raise InvalidInput(
                f"unknown venue {text.strip()[:20]!r} (did you mean {close}?)", close
            )
        known = ", ".join(sorted(_BY_ALIAS))
        raise InvalidInput(f"unknown venue {text.strip()[:20]!r} (known: {known})", "okx")
    return spec


def closest_venue(text: str) -> str | None:
    """The venue name a mistyped `text` most likely meant ('binanse': 'binance'), if any."""
    close = difflib.get_close_matches(text.strip().lower(), _BY_ALIAS, n=1, cutoff=0.75)
    return close[0] if close else None


def venue_name(venue_id: str) -> str:
    """Display name of a venue id; unknown ids are shown as they are."""
    spec = VENUES.get(venue_id)
    return spec.name if spec is not None else venue_id
