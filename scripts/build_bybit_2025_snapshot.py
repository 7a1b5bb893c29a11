"""Build tests/data/bybit_2025-04-28_snapshot.json from the public Bybit BTCUSD recording.

Usage: python scripts/build_bybit_2025_snapshot.py [CSV] (default ../shared/data/bybit_btcusd_inverse_perp_vs_spot_8h.csv)

The bot's end-to-end tests answer from it (it was the demo before the four-venue moment of
2021-04-17 replaced it), so their figures stay those of one Bybit quote.

The recording (8-hour bars of Bybit's BTCUSD inverse perpetual beside BTC spot, with each
settlement's funding rate) is turned into Bybit v5 API responses and parsed by ccxt's own
Bybit class, exactly as live data would be, then written in the snapshot format:
* ticker: the last bar's close (perpetual 2025-04-28 08:00 UTC) as last and mark price, spot
  close as index price, and that bar's funding rate as the current rate;
* funding history: the last 30 days of settlements; daily candles: 90 days of 8-hour bars merged.
The instrument itself (1 USD contracts, 0.5 USD tick, 100x) is Bybit's documented BTCUSD spec.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bybit_8h_series import daily_klines, funding_history, load_bars, ms
from bybit_8h_series import envelope as bybit_envelope

from hedgecore.market.ccxt_feed import CcxtFeed, make_exchange
from hedgecore.market.snapshot import record_snapshot, write_snapshot

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "bybit_btcusd_inverse_perp_vs_spot_8h.csv"
OUT = ROOT / "tests" / "data" / "bybit_2025-04-28_snapshot.json"
BAR = timedelta(hours=8)


def bybit_responses(bars: list[dict[str, Any]]) -> dict[str, Any]:
    last = bars[-1]
    taken_at = last["open_time"] + BAR
    instrument = {
        "symbol": "BTCUSD",
        "contractType": "InversePerpetual",
        "status": "Trading",
        "baseCoin": "BTC",
        "quoteCoin": "USD",
        "launchTime": "1542211200000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": "0.50", "maxPrice": "1999999.00", "tickSize": "0.50"},
        "lotSizeFilter": {"maxOrderQty": "1000000", "minOrderQty": "1", "qtyStep": "1"},
        "unifiedMarginTrade": False,
        "fundingInterval": 480,
        "settleCoin": "BTC",
    }
    ticker = {
        "symbol": "BTCUSD",
        "lastPrice": last["Close_futures"],
        "markPrice": last["Close_futures"],
        "indexPrice": last["Close_spot"],
        "highPrice24h": max(b["High_futures"] for b in bars[-3:]),
        "lowPrice24h": min(b["Low_futures"] for b in bars[-3:]),
        "prevPrice24h": bars[-3]["Open_futures"],
        "fundingRate": last["Funding Rate"],
        "nextFundingTime": str(ms(taken_at + BAR)),
        "bid1Price": "",
        "ask1Price": "",
        "deliveryTime": "0",
    }
    history = funding_history(bars, taken_at)
    klines = daily_klines(bars, taken_at)

    def envelope(result: Any) -> dict[str, Any]:
        return bybit_envelope(result, taken_at)

    return {
        "taken_at": taken_at,
        "instruments": envelope(
            {"category": "inverse", "list": [instrument], "nextPageCursor": ""}
        ),
        "prelaunch": envelope({"category": "inverse", "list": [], "nextPageCursor": ""}),
        "tickers": envelope({"category": "inverse", "list": [ticker]}),
        "history": envelope({"category": "inverse", "list": history}),
        "kline": envelope({"category": "inverse", "symbol": "BTCUSD", "list": klines}),
        "risk": envelope({"category": "inverse", "list": []}),
    }


async def build(csv_path: Path) -> dict[str, Any]:
    responses = bybit_responses(load_bars(csv_path))
    exchange = make_exchange("bybit", 10)

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if parts.path.endswith("/instruments-info"):
            return responses["prelaunch" if "status" in query else "instruments"]
        name = parts.path.rsplit("/", 1)[-1]
        return responses[
            {"tickers": "tickers", "history": "history", "kline": "kline", "risk-limit": "risk"}[
                name
            ]
        ]

    exchange.fetch = fetch
    feed = CcxtFeed("bybit", exchange)
    try:
        return await record_snapshot([feed], responses["taken_at"])
    finally:
        await feed.close()


def main() -> None:
    csv_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV
    snapshot = asyncio.run(build(csv_path))
    write_snapshot(snapshot, OUT)
    print(f"wrote {OUT} (taken at {snapshot['taken_at']})")


if __name__ == "__main__":
    main()
