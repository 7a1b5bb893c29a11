"""Build hedgecore/market/demo_snapshot.json: one real moment on four venues, 2021-04-17.

Usage: python scripts/build_demo_snapshot.py [SHARED_DATA] [OUT]
(default ../shared/data and the package's demo_snapshot.json)

The moment: public-API recordings made by the cryptofeed project for its tests, within twelve
minutes (2021-04-17 16:38-16:50 UTC), on Bybit, Binance COIN-M, Deribit and Kraken Futures
(github.com/bmoscon/cryptofeed, sample_data/, commit 3525dc8c; licence XFree86 1.1, Copyright
Bryant Moscon). BitMEX was recorded too, but ccxt no longer has it; OKX only as specs, no prices.

Only what was recorded goes in, each figure checked to appear in the raw recording:
* markets: each venue's instrument list as recorded, parsed by ccxt's own fetch_markets; only
  the BTC and ETH contracts with a recorded price are kept;
* prices: best bid and ask (Bybit, Binance COIN-M, Kraken Futures), Bybit's last trade, and
  Deribit's futures prices and index as its option tickers carried them (underlying_price,
  index_price); parsed by ccxt's own parse_ticker;
* funding: Bybit BTCUSD's and Binance COIN-M BTCUSD_PERP's rates settled at 16:00 UTC (the
  8-hour series in shared/data and its README), as the current rate; Bybit's last 30 days of
  settlements and 90 days of daily candles from the same series.
Two stand-ins, named in the snapshot's "provenance": where a venue's mark price was not
recorded, the mid of its recorded bid and ask; where its index was not, Deribit's index of the
same coin, recorded at 16:44 UTC. Not there, so not in the demo: perpetual prices on Deribit
and Kraken, any ETH perpetual, margin tiers (plans use the venues' published base rates).
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bybit_8h_series import daily_klines, funding_history, load_bars, ms
from bybit_8h_series import envelope as bybit_envelope

from hedgecore.market.ccxt_feed import make_exchange
from hedgecore.market.feeds import Quotes
from hedgecore.market.normalise import CcxtDict, is_inverse_contract
from hedgecore.market.snapshot import record_snapshot, write_snapshot

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "hedgecore" / "market" / "demo_snapshot.json"
TAKEN_AT = datetime(2021, 4, 17, 16, 50, tzinfo=UTC)  # the last venue's recording ended then
FUNDING_SETTLED = datetime(2021, 4, 17, 16, tzinfo=UTC)
NEXT_FUNDING = datetime(2021, 4, 18, tzinfo=UTC)
ATTRIBUTION = (
    "Prices and instruments: cryptofeed sample_data (github.com/bmoscon/cryptofeed, commit "
    "3525dc8ce4d7836a9abaaa5662e58e5e27969a77), licence XFree86 1.1, Copyright Bryant Moscon. "
    "Bybit funding and candles: github.com/FrancyPengChoco/my-notebook, "
    "Bybit_BTC_8h_all_data_final.csv. Binance COIN-M funding: the same authors' Binance 8-hour "
    "series, as quoted in HedgeBot's shared/data/README.md."
)
# Funding settled at 16:00 UTC, per 8 hours (shared/data/README.md, recorded_2021-04-17).
BINANCE_BTC_FUNDING = "0.00051415"
# The summary's name of a recorded venue -> its recording files' name.
RECORDINGS = {
    "bybit": "BYBIT",
    "binance_coinm": "BINANCE_DELIVERY",
    "deribit": "DERIBIT",
    "kraken_futures": "KRAKEN_FUTURES",
}
# What a contract whose venue recorded only its best bid and ask carries, and from where.
BOOK_ONLY = "best bid and ask at {time} UTC; mark: their mid (not recorded); index: Deribit's (not recorded)"
KEPT = {  # the summary's rows used, by the recorded venue's own instrument name
    "bybit": {"BTCUSD"},
    "binance_coinm": {"BTCUSD_PERP", "BTCUSD_210924", "ETHUSD_210625", "ETHUSD_210924"},
    "deribit": {"BTC-30APR21", "BTC-25JUN21", "ETH-23APR21", "ETH-30APR21", "ETH-24SEP21"},
    "kraken_futures": {
        f"FI_{coin}USD_{day}" for coin in ("XBT", "ETH") for day in ("210430", "210625", "210924")
    },
}


class Recording:
    """The raw files of one recorded venue: REST answers by URL, and all text for checks."""

    def __init__(self, folder: Path, name: str) -> None:
        self.rest: dict[str, Any] = {}
        texts = []
        for path in sorted(folder.glob(f"{name}.*")):
            raw = path.read_bytes()
            text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode()
            texts.append(text)
            if path.name == f"{name}.0":
                for line in text.splitlines():
                    url, arrow, answer = line.partition(" -> ")
                    if arrow:  # the other line is the recorder's configuration
                        self.rest[url] = json.loads(answer.partition(": ")[2])
        self._text = "\n".join(texts)

    def checked(self, figure: str) -> str:
        """`figure`, once it is found in the raw recording."""
        if figure not in self._text:
            raise SystemExit(f"{figure} is not in the recording: the summary disagrees with it")
        return figure


def summary_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "summary_2021-04-17.csv").open() as handle:
        return list(csv.DictReader(handle))


def row_of(
    rows: list[dict[str, str]], venue: str, symbol: str, kind: str | None = None
) -> dict[str, str]:
    """The summary's one row of `symbol` on `venue` (of `kind`, where a symbol has two)."""
    (found,) = [
        r
        for r in rows
        if (r["venue"], r["symbol"]) == (venue, symbol) and kind in (None, r["kind"])
    ]
    return found


def recorded_at(row: dict[str, str]) -> int:
    return ms(datetime.fromisoformat(row["recv_utc"].replace("Z", "+00:00")))


def iso(ms_time: int) -> str:
    return datetime.fromtimestamp(ms_time / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def mid(bid: str, ask: str) -> str:
    return str((Decimal(bid) + Decimal(ask)) / 2)


class RecordedFeed:
    """A venue as recorded: markets through ccxt's fetch_markets, prices through parse_ticker."""

    def __init__(
        self,
        venue: str,
        exchange: Any,
        raw_tickers: dict[str, CcxtDict],
        raw_funding: dict[str, CcxtDict] | None = None,
        has_history: bool = False,
    ) -> None:
        """`has_history`: the exchange's replay answers funding history and daily candles."""
        self.venue = venue
        self.exchange = exchange
        self._raw_tickers = raw_tickers  # by the venue's instrument id, as ccxt names it
        self._raw_funding = raw_funding or {}
        self._has_history = has_history

    async def markets(self) -> list[CcxtDict]:
        loaded = await self.exchange.load_markets()
        return [
            m for m in loaded.values() if is_inverse_contract(m) and m["id"] in self._raw_tickers
        ]

    def adopt_markets(self, markets: list[CcxtDict]) -> None:
        pass  # its exchange loaded every market of the recording itself

    async def quotes(self, markets: Sequence[CcxtDict]) -> Quotes:
        tickers = {
            m["symbol"]: self.exchange.parse_ticker(self._raw_tickers[m["id"]], m) for m in markets
        }
        funding = {
            m["symbol"]: self.exchange.parse_funding_rate(self._raw_funding[m["id"]], m)
            for m in markets
            if m["id"] in self._raw_funding
        }
        return Quotes(tickers, funding)

    async def leverage_tiers(self, market: CcxtDict) -> list[CcxtDict]:
        return []

    async def funding_history(self, symbol: str, since_ms: int) -> list[CcxtDict]:
        if not self._has_history:
            return []
        return list(await self.exchange.fetch_funding_rate_history(symbol, since_ms))

    async def daily_ohlcv(self, symbol: str, since_ms: int) -> list[list[float]]:
        if not self._has_history:
            return []
        return list(await self.exchange.fetch_ohlcv(symbol, "1d", since_ms))

    async def spot_daily_ohlcv(self, coin: str, since_ms: int) -> list[list[float]]:
        return []

    async def close(self) -> None:
        await self.exchange.close()


def replaying(venue: str, answer: Callable[[str, dict[str, str]], Any]) -> Any:
    """A ccxt exchange for `venue` whose requests `answer(path, query)` answers, not the network."""
    exchange = make_exchange(venue, 10)

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        parts = urlsplit(url)
        query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
        return answer(parts.path, query)

    exchange.fetch = fetch
    return exchange


def bybit_feed(
    recording: Recording, rows: list[dict[str, str]], shared: Path, index: str
) -> tuple[RecordedFeed, dict[str, str]]:
    """Bybit BTCUSD: the v2 symbols list as recorded, in the v5 shape ccxt reads today."""
    spec = next(
        s
        for s in recording.rest["https://api.bybit.com/v2/public/symbols"]["result"]
        if s["name"] == "BTCUSD"
    )
    instrument = {
        "symbol": spec["name"],
        "contractType": "InversePerpetual",
        "status": spec["status"],
        "baseCoin": spec["base_currency"],
        "quoteCoin": spec["quote_currency"],
        "settleCoin": spec["base_currency"],
        "launchTime": "0",
        "deliveryTime": "0",
        "priceScale": str(spec["price_scale"]),
        "leverageFilter": {
            "minLeverage": str(spec["leverage_filter"]["min_leverage"]),
            "maxLeverage": str(spec["leverage_filter"]["max_leverage"]),
            "leverageStep": spec["leverage_filter"]["leverage_step"],
        },
        "priceFilter": {
            "minPrice": spec["price_filter"]["min_price"],
            "maxPrice": spec["price_filter"]["max_price"],
            "tickSize": spec["price_filter"]["tick_size"],
        },
        "lotSizeFilter": {
            "maxOrderQty": str(spec["lot_size_filter"]["max_trading_qty"]),
            "minOrderQty": str(spec["lot_size_filter"]["min_trading_qty"]),
            "qtyStep": str(spec["lot_size_filter"]["qty_step"]),
        },
        "fundingInterval": 480,
    }
    bars = load_bars(shared / "bybit_btcusd_inverse_perp_vs_spot_8h.csv", FUNDING_SETTLED)
    settled = bars[-1]  # the settlement at 16:00 UTC, the last before the recorded moment
    book = row_of(rows, "bybit", "BTCUSD", "perp")
    last = row_of(rows, "bybit", "BTCUSD", "perp(trade)")
    bid, ask = recording.checked(book["bid"]), recording.checked(book["ask"])
    ticker = {
        "symbol": "BTCUSD",
        "bid1Price": bid,
        "ask1Price": ask,
        "lastPrice": recording.checked(last["last"]),
        "markPrice": mid(bid, ask),
        "indexPrice": index,
        "fundingRate": settled["Funding Rate"],
        "nextFundingTime": str(ms(NEXT_FUNDING)),
        "deliveryTime": "0",
        "time": recorded_at(book),
    }
    history = funding_history(bars, TAKEN_AT)
    klines = daily_klines(bars, TAKEN_AT)

    def envelope(result: Any) -> dict[str, Any]:
        return bybit_envelope(result, TAKEN_AT)

    def answer(path: str, query: dict[str, str]) -> Any:
        if path.endswith("/funding/history"):
            return envelope({"category": "inverse", "list": history})
        if path.endswith("/kline"):
            return envelope({"category": "inverse", "symbol": "BTCUSD", "list": klines})
        listed = [] if "status" in query else [instrument]  # no pre-launch contracts
        return envelope({"category": "inverse", "list": listed, "nextPageCursor": ""})

    feed = RecordedFeed(
        "bybit", replaying("bybit", answer), {"BTCUSD": ticker}, {"BTCUSD": ticker}, True
    )
    return feed, {
        "BTCUSD": (
            "best bid and ask from the order book, last trade, at 16:43 UTC; mark: their mid (not "
            "recorded); index: Deribit's (not recorded); funding: the rate settled at 16:00 UTC"
        )
    }


def binance_feed(
    recording: Recording, rows: list[dict[str, str]], index: dict[str, str]
) -> tuple[RecordedFeed, dict[str, str]]:
    """Binance COIN-M: exchangeInfo as recorded; best bid and ask from the bookTicker stream."""
    info = recording.rest["https://dapi.binance.com/dapi/v1/exchangeInfo"]
    tickers: dict[str, CcxtDict] = {}
    funding: dict[str, CcxtDict] = {}
    said: dict[str, str] = {}
    for symbol in sorted(KEPT["binance_coinm"]):
        row = row_of(rows, "binance_coinm", symbol)
        bid, ask = recording.checked(row["bid"]), recording.checked(row["ask"])
        coin = symbol[:3]
        at = recorded_at(row)
        tickers[symbol] = {
            "symbol": symbol,
            "pair": symbol.split("_")[0],
            "bidPrice": bid,
            "askPrice": ask,
            "markPrice": mid(bid, ask),
            "indexPrice": index[coin],
            "time": at,
        }
        said[symbol] = BOOK_ONLY.format(time=iso(at)[11:16])
        if symbol == "BTCUSD_PERP":
            funding[symbol] = {
                "symbol": symbol,
                "pair": "BTCUSD",
                "markPrice": mid(bid, ask),
                "indexPrice": index[coin],
                "lastFundingRate": BINANCE_BTC_FUNDING,
                "nextFundingTime": ms(NEXT_FUNDING),
                "time": at,
            }
            said[symbol] += "; funding: the rate settled at 16:00 UTC"

    def answer(path: str, query: dict[str, str]) -> Any:
        return info

    return RecordedFeed("binancecoinm", replaying("binancecoinm", answer), tickers, funding), said


def deribit_feed(
    recording: Recording, rows: list[dict[str, str]]
) -> tuple[RecordedFeed, dict[str, str]]:
    """Deribit: instruments as recorded; each future's price and the index from its options.

    In 2021 Deribit named a future's currencies quote_currency (USD) and base_currency, in which
    its futures were settled; ccxt reads today's counter_currency and settlement_currency.
    """
    instruments = {
        coin: {
            "jsonrpc": "2.0",
            "result": [
                {
                    **i,
                    "counter_currency": i["quote_currency"],
                    "settlement_currency": i["base_currency"],
                }
                for i in recording.rest[
                    f"https://www.deribit.com/api/v2/public/get_instruments?currency={coin}&expired=false"
                ]["result"]
                if i["kind"] == "future"
            ],
        }
        for coin in ("BTC", "ETH")
    }
    tickers: dict[str, CcxtDict] = {}
    said: dict[str, str] = {}
    for name in sorted(KEPT["deribit"]):
        row = row_of(rows, "deribit", name)
        price, index = recording.checked(row["mark"]), recording.checked(row["index"])
        at = recorded_at(row)
        tickers[name] = {
            "instrument_name": name,
            "mark_price": float(price),
            "index_price": float(index),
            "estimated_delivery_price": float(index),
            "timestamp": at,
            "state": "open",
        }
        said[name] = (
            f"price and index as the options on it quoted them at {iso(at)[11:16]} UTC "
            "(underlying_price, index_price); no bid or ask recorded"
        )

    def answer(path: str, query: dict[str, str]) -> Any:
        if path.endswith("/get_currencies"):
            return {"jsonrpc": "2.0", "result": [{"currency": c} for c in instruments]}
        coin = query.get("currency", "any")
        if coin == "any":
            listed = [i for body in instruments.values() for i in body["result"]]
            return {"jsonrpc": "2.0", "result": listed}
        return instruments[coin]

    return RecordedFeed("deribit", replaying("deribit", answer), tickers), said


def kraken_feed(
    recording: Recording, rows: list[dict[str, str]], index: dict[str, str]
) -> tuple[RecordedFeed, dict[str, str]]:
    """Kraken Futures: instruments as recorded; best bid and ask from the ticker_lite stream."""
    listed = recording.rest["https://futures.kraken.com/derivatives/api/v3/instruments"]
    tickers: dict[str, CcxtDict] = {}
    said: dict[str, str] = {}
    for symbol in sorted(KEPT["kraken_futures"]):
        row = row_of(rows, "kraken_futures", symbol)
        bid, ask = recording.checked(row["bid"]), recording.checked(row["ask"])
        coin = "BTC" if "XBT" in symbol else "ETH"
        at = recorded_at(row)
        tickers[symbol.lower()] = {  # ccxt's ids are the instruments list's, in lower case
            "symbol": symbol,
            "bid": float(bid),
            "ask": float(ask),
            "markPrice": float(mid(bid, ask)),
            "indexPrice": float(index[coin]),
            "lastTime": iso(at),
            "tag": row["kind"],
            "pair": f"{'XBT' if coin == 'BTC' else coin}:USD",
            "suspended": False,
        }
        said[symbol] = BOOK_ONLY.format(time=iso(at)[11:16])

    def answer(path: str, query: dict[str, str]) -> Any:
        return listed

    return RecordedFeed("krakenfutures", replaying("krakenfutures", answer), tickers), said


async def build(shared: Path) -> dict[str, Any]:
    """The snapshot, with what each figure is and where it came from under "provenance"."""
    folder = shared / "recorded_2021-04-17"
    rows = summary_rows(folder)
    recordings = {venue: Recording(folder, name) for venue, name in RECORDINGS.items()}
    index_row = {coin: row_of(rows, "deribit", f"{coin}-30APR21") for coin in ("BTC", "ETH")}
    index = {coin: recordings["deribit"].checked(r["index"]) for coin, r in index_row.items()}
    built = [
        bybit_feed(recordings["bybit"], rows, shared, index["BTC"]),
        binance_feed(recordings["binance_coinm"], rows, index),
        deribit_feed(recordings["deribit"], rows),
        kraken_feed(recordings["kraken_futures"], rows, index),
    ]
    feeds = [feed for feed, _ in built]
    try:
        snapshot = await record_snapshot(feeds, TAKEN_AT, {"BTC", "ETH"})
    finally:
        for feed in feeds:
            await feed.close()
    if snapshot["failed"]:
        raise SystemExit(f"venues that could not be built: {snapshot['failed']}")
    snapshot["provenance"] = {
        "moment": "2021-04-17 16:38-16:50 UTC, recorded by the cryptofeed project",
        "attribution": ATTRIBUTION,
        "stand_ins": (
            "Where a venue's mark price was not recorded it is the mid of the recorded best bid "
            "and ask; where its index was not, it is Deribit's index of the same coin, recorded "
            f"at {iso(recorded_at(index_row['BTC']))[11:16]} UTC."
        ),
        "not_recorded": (
            "Deribit and Kraken perpetual prices and funding, every ETH perpetual, OKX prices, "
            "margin tiers, and funding history but Bybit's."
        ),
        "contracts": {feed.venue: said for feed, said in built},
    }
    return snapshot


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SHARED
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT
    snapshot = asyncio.run(build(shared))
    write_snapshot(snapshot, out)
    print(f"wrote {out} (taken at {snapshot['taken_at']})")


if __name__ == "__main__":
    main()
