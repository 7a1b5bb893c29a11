"""The live feed: one venue's public REST API through `ccxt.async_support`.

The only module that imports ccxt (and through it aiohttp): a snapshot, the demo and the offline
calculator never load it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async

from hedgecore.market.feeds import PUBLIC_TIER_VENUES, Quotes
from hedgecore.market.normalise import CcxtDict, InvalidMarketData, is_inverse_contract
from hedgecore.venues import VENUES

log = logging.getLogger(__name__)

# Load only the markets we use: Bybit and OKX would otherwise page through spot and options.
# Bitget's contracts still take one request per product type (six), coin-margined among them.
_EXCHANGE_OPTIONS: dict[str, dict[str, Any]] = {
    "bybit": {"fetchMarkets": {"types": ["inverse"]}},
    "okx": {"fetchMarkets": {"types": ["swap", "future"]}},
    "bitget": {"fetchMarkets": {"types": ["swap"]}},
}
_MARKET_PARAMS: dict[str, dict[str, Any]] = {"deribit": {"kind": "future"}}


def make_exchange(venue: str, timeout_s: float) -> Any:
    """A ccxt async exchange for `venue`, public endpoints only, with our timeout."""
    exchange = getattr(ccxt_async, venue)(
        {"timeout": int(timeout_s * 1000), "options": _EXCHANGE_OPTIONS.get(venue, {})}
    )
    # Currencies need keys on most venues and are derived from the markets anyway.
    exchange.has["fetchCurrencies"] = False
    return exchange


def live_feeds(venues: Sequence[str], timeout_s: float) -> list[CcxtFeed]:
    """One ccxt feed per venue."""
    return [CcxtFeed(venue, make_exchange(venue, timeout_s)) for venue in venues]


def _by_type(markets: Sequence[CcxtDict]) -> list[list[str]]:
    """Symbols grouped by market type: bulk endpoints take one type per request."""
    groups: dict[str, list[str]] = {}
    for market in markets:
        groups.setdefault(str(market["type"]), []).append(str(market["symbol"]))
    return list(groups.values())


class CcxtFeed:
    """A venue's public REST API through one ccxt exchange object, kept for the process' life."""

    def __init__(self, venue: str, exchange: Any) -> None:
        self.venue = venue
        self.exchange = exchange
        self._adopted: list[CcxtDict] | None = None

    def adopt_markets(self, markets: list[CcxtDict]) -> None:
        # ccxt looks symbols up in the exchange's markets, and loads them all (a request or
        # six) before a request if it has none: these serve, until the next ones.
        if markets is not self._adopted:
            self.exchange.set_markets(markets)
            self._adopted = markets

    async def markets(self) -> list[CcxtDict]:
        if self.venue == "bingx":
            # Its fetchMarkets also loads every spot and USDT-margined market: ask coin-M only.
            self.exchange.set_markets(await self.exchange.fetch_inverse_swap_markets({}))
            loaded = self.exchange.markets
        else:
            loaded = await self.exchange.load_markets(
                reload=True, params=_MARKET_PARAMS.get(self.venue, {})
            )
        inverse = [market for market in loaded.values() if is_inverse_contract(market)]
        if not inverse:
            raise InvalidMarketData("no inverse contracts listed")
        return inverse

    async def quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        fetch = {
            "bybit": self._bybit_quotes,
            "binancecoinm": self._binance_quotes,
            "okx": self._okx_quotes,
            "deribit": self._deribit_quotes,
            "krakenfutures": self._kraken_quotes,
            "bitget": self._bitget_quotes,
            "bingx": self._bingx_quotes,
        }[self.venue]
        return await fetch(markets)

    async def _bybit_quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        # One inverse tickers call carries prices and funding of every inverse contract.
        tickers = await self.exchange.fetch_tickers(None, {"subType": "inverse"})
        funding = {
            m["symbol"]: self.exchange.parse_funding_rate(tickers[m["symbol"]]["info"], m)
            for m in markets
            if m.get("type") == "swap" and m["symbol"] in tickers
        }
        return Quotes(dict(tickers), funding)

    async def _binance_quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        # premiumIndex gives mark, index and funding (None for quarterlies); bookTicker bid and ask.
        funding = dict(await self.exchange.fetch_funding_rates())
        tickers: dict[str, CcxtDict] = {}
        for symbols in _by_type(markets):
            tickers |= await self.exchange.fetch_bids_asks(symbols)
        # The 24-hour ticker has the day's volume, which the book ticker has not: its fields go
        # beside the book's in `info`. Without it the prices still stand.
        try:
            day = await self.exchange.fetch_tickers(None, {"subType": "inverse"})
        except ccxt.BaseError as exc:
            log.info("binancecoinm: no 24-hour volume (%s)", exc)
            day = {}
        for symbol in tickers.keys() & day.keys():
            info = {**tickers[symbol].get("info", {}), **day[symbol].get("info", {})}
            tickers[symbol] = {**tickers[symbol], "info": info}
        intervals = await self._binance_funding_intervals()
        if intervals is not None:
            usual = f"{VENUES['binancecoinm'].funding_interval_hours}h"
            funding = {
                symbol: {**structure, "interval": intervals.get(symbol, usual)}
                for symbol, structure in funding.items()
            }
        return Quotes(tickers, funding)

    async def _binance_funding_intervals(self) -> dict[str, str] | None:
        """Binance COIN-M's funding intervals by symbol, or None if it would not say.

        premiumIndex has none. fundingInfo lists only the contracts whose interval or caps were
        adjusted (Binance's docs): one it leaves out settles at the usual interval.
        """
        try:
            listed = await self.exchange.fetch_funding_intervals(None, {"subType": "inverse"})
        except ccxt.BaseError as exc:
            log.info("binancecoinm: no funding intervals (%s): the usual one is assumed", exc)
            return None
        return {
            symbol: str(structure["interval"])
            for symbol, structure in listed.items()
            if structure.get("interval")
        }

    async def _okx_quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        # OKX tickers carry no mark or index: add them from the mark-price and index endpoints.
        tickers: dict[str, CcxtDict] = {}
        for symbols in _by_type(markets):
            prices = await self.exchange.fetch_tickers(symbols)
            marks = await self.exchange.fetch_mark_prices(symbols)
            for symbol, ticker in prices.items():
                tickers[symbol] = {**ticker, "markPrice": marks.get(symbol, {}).get("markPrice")}
        response = await self.exchange.public_get_market_index_tickers({"quoteCcy": "USD"})
        index_by_pair = {row.get("instId"): row.get("idxPx") for row in response.get("data", [])}
        for market in markets:
            index = index_by_pair.get(f"{market['base']}-USD")
            if market["symbol"] in tickers and index is not None:
                tickers[market["symbol"]] = {
                    **tickers[market["symbol"]],
                    "indexPrice": float(index),
                }
        open_interest = await self._okx_open_interest({str(m["type"]) for m in markets})
        for market in markets:
            usd = open_interest.get(market["id"])
            if market["symbol"] in tickers and usd is not None:
                ticker = tickers[market["symbol"]]
                tickers[market["symbol"]] = {**ticker, "info": {**ticker["info"], "oiUsd": usd}}
        perpetuals = [m["symbol"] for m in markets if m.get("type") == "swap"]
        funding = await self.exchange.fetch_funding_rates(perpetuals) if perpetuals else {}
        return Quotes(tickers, dict(funding))

    async def _okx_open_interest(self, types: set[str]) -> dict[str, str]:
        """OKX's open interest in USD by instrument id, one request per type; {} if it fails."""
        found: dict[str, str] = {}
        for kind in sorted(types):
            inst_type = "SWAP" if kind == "swap" else "FUTURES"
            try:
                response = await self.exchange.public_get_public_open_interest(
                    {"instType": inst_type}
                )
            except ccxt.BaseError as exc:
                log.info("okx: no open interest of %s (%s)", inst_type, exc)
                continue
            found |= {
                row["instId"]: row["oiUsd"] for row in response.get("data", []) if "oiUsd" in row
            }
        return found

    async def _deribit_quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        # Deribit's book summary is per currency and it has no bulk funding endpoint.
        by_coin: dict[str, list[str]] = {}
        for market in markets:
            by_coin.setdefault(str(market["base"]), []).append(str(market["symbol"]))
        tickers: dict[str, CcxtDict] = {}
        for symbols in by_coin.values():
            tickers |= await self.exchange.fetch_tickers(symbols)
        funding = {
            m["symbol"]: await self.exchange.fetch_funding_rate(m["symbol"])
            for m in markets
            if m.get("type") == "swap"
        }
        return Quotes(tickers, funding)

    async def _kraken_quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        # Kraken's tickers endpoint carries funding too: parse it from the same answer.
        tickers = await self.exchange.fetch_tickers([m["symbol"] for m in markets])
        funding = {
            m["symbol"]: self.exchange.parse_funding_rate(tickers[m["symbol"]]["info"], m)
            for m in markets
            if m.get("type") == "swap" and m["symbol"] in tickers
        }
        return Quotes(dict(tickers), funding)

    async def _bitget_quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        # One coin-M tickers call carries prices, funding and open interest of every contract;
        # the funding endpoint adds each perpetual's interval and next funding time.
        tickers = await self.exchange.fetch_tickers(None, {"subType": "inverse"})
        intervals = await self.exchange.fetch_funding_intervals(None, {"subType": "inverse"})
        funding: dict[str, CcxtDict] = {}
        for market in markets:
            symbol = market["symbol"]
            if market.get("type") != "swap" or symbol not in tickers:
                continue
            structure = self.exchange.parse_funding_rate(tickers[symbol]["info"], market)
            timing = intervals.get(symbol) or {}
            funding[symbol] = {
                **structure,
                "interval": timing.get("interval"),
                "fundingTimestamp": timing.get("fundingTimestamp"),
            }
        return Quotes(dict(tickers), funding)

    async def _bingx_quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        # Coin-M tickers carry bid, ask and volume; the premium index mark, index and funding.
        symbols = [m["symbol"] for m in markets]
        tickers = await self.exchange.fetch_tickers(symbols, {"subType": "inverse"})
        funding = await self.exchange.fetch_funding_rates(symbols, {"subType": "inverse"})
        return Quotes(dict(tickers), dict(funding))

    async def leverage_tiers(self, market: CcxtDict) -> list[CcxtDict]:
        if self.venue not in PUBLIC_TIER_VENUES or market.get("type") != "swap":
            return []
        # Isolated margin: the hedge's liquidation maths assumes an isolated position.
        params = {"marginMode": "isolated"} if self.venue == "okx" else {}
        return list(await self.exchange.fetch_market_leverage_tiers(market["symbol"], params))

    async def funding_history(self, symbol: str, since_ms: int) -> list[CcxtDict]:
        if self.venue == "bingx":
            return []  # BingX publishes no funding history for its coin-M perpetuals
        # Bitget answers one page, 20 rows unless asked for its most (100: 33 days at 8 h).
        limit = 100 if self.venue == "bitget" else None
        return list(await self.exchange.fetch_funding_rate_history(symbol, since_ms, limit))

    async def daily_ohlcv(self, symbol: str, since_ms: int) -> list[list[float]]:
        return list(await self.exchange.fetch_ohlcv(symbol, "1d", since_ms))

    async def spot_daily_ohlcv(self, coin: str, since_ms: int) -> list[list[float]]:
        # Raw kline endpoints: loading a venue's thousands of spot markets for one series is waste.
        if self.venue == "bybit":
            response = await self.exchange.public_get_v5_market_kline(
                {
                    "category": "spot",
                    "symbol": f"{coin}USDT",
                    "interval": "D",
                    "start": since_ms,
                    "limit": 200,
                }
            )
            rows = response.get("result", {}).get("list", [])
        elif self.venue == "okx":
            response = await self.exchange.public_get_market_candles(
                {"instId": f"{coin}-USDT", "bar": "1Dutc", "limit": 100}
            )
            rows = response.get("data", [])
        else:
            return []
        candles = [[float(value) for value in row[:6]] for row in rows]
        return sorted(candle for candle in candles if candle[0] >= since_ms)

    async def close(self) -> None:
        await self.exchange.close()
