"""Feeds: one per venue, returning ccxt's unified structures for that venue's inverse contracts.

`CcxtFeed` (`hedgecore.market.ccxt_feed`) asks the exchange through `ccxt.async_support`, in bulk
wherever the venue allows it; `SnapshotFeed` answers from a recorded snapshot file with the very
same structures, without importing ccxt at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from hedgecore.market.normalise import CcxtDict
from hedgecore.venues import VENUES

VENUE_IDS = tuple(VENUES)

# Venues whose margin tiers are public and need a request (Kraken lists them in its instruments).
PUBLIC_TIER_VENUES = ("bybit", "okx")


class Quotes(NamedTuple):
    """A venue's tickers and funding-rate structures, both by symbol."""

    tickers: dict[str, CcxtDict]
    funding_rates: dict[str, CcxtDict]


class VenueFeed(Protocol):
    """Where one venue's data comes from."""

    venue: str

    async def markets(self) -> list[CcxtDict]:
        """The venue's inverse perpetuals and dated futures, as ccxt markets."""
        ...

    def adopt_markets(self, markets: list[CcxtDict]) -> None:
        """Markets another process loaded (the shared cache): requests use them instead of
        loading the venue's markets again."""
        ...

    async def quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        """Tickers and funding-rate structures of these markets, by symbol, in as few requests as the venue allows."""
        ...

    async def leverage_tiers(self, market: CcxtDict) -> list[CcxtDict]:
        """The market's public margin tiers, or [] where the venue does not publish them."""
        ...

    async def funding_history(self, symbol: str, since_ms: int) -> list[CcxtDict]:
        """Past funding rates of a perpetual since a time."""
        ...

    async def daily_ohlcv(self, symbol: str, since_ms: int) -> list[list[float]]:
        """Daily candles of a contract since a time."""
        ...

    async def spot_daily_ohlcv(self, coin: str, since_ms: int) -> list[list[float]]:
        """Daily candles of the coin against USDT on the venue's spot market, or [] if it has none."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class SnapshotFeed:
    """A venue's data as recorded in a snapshot file: the same structures, no network."""

    def __init__(self, venue: str, recorded: CcxtDict) -> None:
        self.venue = venue
        self._recorded = recorded

    async def markets(self) -> list[CcxtDict]:
        return list(self._recorded.get("markets", []))

    def adopt_markets(self, markets: list[CcxtDict]) -> None:
        pass  # the recording is all it asks

    async def quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        return Quotes(
            dict(self._recorded.get("tickers", {})), dict(self._recorded.get("funding_rates", {}))
        )

    async def leverage_tiers(self, market: CcxtDict) -> list[CcxtDict]:
        return list(self._recorded.get("leverage_tiers", {}).get(market["symbol"], []))

    async def funding_history(self, symbol: str, since_ms: int) -> list[CcxtDict]:
        rows = self._recorded.get("funding_history", {}).get(symbol, [])
        return [row for row in rows if (row.get("timestamp") or 0) >= since_ms]

    async def daily_ohlcv(self, symbol: str, since_ms: int) -> list[list[float]]:
        rows = self._recorded.get("ohlcv", {}).get(symbol, [])
        return [row for row in rows if row[0] >= since_ms]

    async def spot_daily_ohlcv(self, coin: str, since_ms: int) -> list[list[float]]:
        rows = self._recorded.get("spot_ohlcv", {}).get(coin, [])
        return [row for row in rows if row[0] >= since_ms]

    async def close(self) -> None:
        return None
