"""Record what the venues return into one JSON file, and replay it later without a network.

Format: {"taken_at": ISO-8601, "venues": {VENUE_ID: {"markets": [...], "tickers": {SYMBOL: ...},
"funding_rates": {SYMBOL: ...}, "leverage_tiers": {SYMBOL: [...]}, "funding_history": {SYMBOL:
[...]}, "ohlcv": {SYMBOL: [[ms, o, h, l, c, v], ...]}, "spot_ohlcv": {COIN: [...]}}}}, every value
a ccxt unified structure as ccxt returned it (spot_ohlcv: COIN/USDT daily candles of coins asked
for that have no inverse contract). Venues that failed while recording are listed under "failed" with the reason.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from hedgecore.errors import DataUnavailable
from hedgecore.history import VenueHistory, parse_venue_histories
from hedgecore.market.errors import describe_failure
from hedgecore.market.feeds import SnapshotFeed, VenueFeed
from hedgecore.market.service import MarketService
from hedgecore.models import DataSource

HISTORY_DAYS = 30
OHLCV_DAYS = 90
DEMO_SNAPSHOT = "demo_snapshot.json"


class SnapshotError(DataUnavailable):
    """A snapshot file cannot be read or used."""


async def _record_venue(
    feed: VenueFeed, coins: set[str] | None, now: datetime, timeout_s: float
) -> dict[str, Any]:
    async def timed(awaitable: Any) -> Any:
        return await asyncio.wait_for(awaitable, timeout_s)

    markets = [m for m in await timed(feed.markets()) if coins is None or m.get("base") in coins]
    tickers, funding = await timed(feed.quotes(markets))
    symbols = {m["symbol"] for m in markets}
    perpetuals = [m for m in markets if m.get("type") == "swap"]
    history_since = int((now - timedelta(days=HISTORY_DAYS)).timestamp() * 1000)
    ohlcv_since = int((now - timedelta(days=OHLCV_DAYS)).timestamp() * 1000)
    return {
        "markets": markets,
        "tickers": {s: t for s, t in tickers.items() if s in symbols},
        "funding_rates": {s: f for s, f in funding.items() if s in symbols},
        "leverage_tiers": {m["symbol"]: await timed(feed.leverage_tiers(m)) for m in perpetuals},
        "funding_history": {
            m["symbol"]: await timed(feed.funding_history(m["symbol"], history_since))
            for m in perpetuals
        },
        "ohlcv": {
            m["symbol"]: await timed(feed.daily_ohlcv(m["symbol"], ohlcv_since)) for m in perpetuals
        },
        # Coins asked for that have no inverse contract here need spot prices to be cross-hedged.
        "spot_ohlcv": {
            coin: await timed(feed.spot_daily_ohlcv(coin, ohlcv_since))
            for coin in sorted((coins or set()) - {m["base"] for m in markets})
        },
    }


async def record_snapshot(
    feeds: Sequence[VenueFeed],
    now: datetime,
    coins: set[str] | None = None,
    timeout_s: float = 20.0,
) -> dict[str, Any]:
    """Everything the feeds return for `coins` (all coins when None), as one JSON-ready dict."""
    results = await asyncio.gather(
        *(_record_venue(f, coins, now, timeout_s) for f in feeds), return_exceptions=True
    )
    venues: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for feed, result in zip(feeds, results, strict=True):
        if isinstance(result, Exception):
            failed[feed.venue] = describe_failure(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            venues[feed.venue] = result
    return {"taken_at": now.isoformat(), "venues": venues, "failed": failed}


def write_snapshot(snapshot: dict[str, Any], path: Path) -> None:
    """Write a snapshot atomically: a half-written file never replaces a good one."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(snapshot, separators=(",", ":"), allow_nan=False))
    partial.replace(path)


def read_snapshot(text: str, origin: str) -> tuple[datetime, dict[str, Any]]:
    """Parse and check a snapshot; `origin` names it in error messages."""
    try:
        data = json.loads(text)
        taken_at = datetime.fromisoformat(data["taken_at"])
        venues = data["venues"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(f"{origin} is not a hedgecore snapshot ({exc})") from None
    if taken_at.tzinfo is None or not isinstance(venues, dict) or not venues:
        raise SnapshotError(f"{origin} has no venues or no time zone on taken_at")
    return taken_at, venues


def snapshot_service(
    text: str, origin: str, source: DataSource = DataSource.SNAPSHOT
) -> MarketService:
    """A market service answering from a snapshot, as of the moment it was taken."""
    taken_at, venues = read_snapshot(text, origin)
    feeds = [SnapshotFeed(venue, recorded) for venue, recorded in venues.items()]
    moment = taken_at.timestamp()
    return MarketService(feeds, clock=lambda: moment, source=source)


def load_snapshot_file(path: Path) -> MarketService:
    """A market service replaying the snapshot at `path`."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {path}: {exc.strerror}") from None
    return snapshot_service(text, str(path))


def demo_snapshot_text() -> str:
    """The demo snapshot shipped inside the package."""
    return resources.files("hedgecore.market").joinpath(DEMO_SNAPSHOT).read_text()


def demo_market_service() -> MarketService:
    """A market service answering from the bundled demo snapshot."""
    return snapshot_service(demo_snapshot_text(), "the demo snapshot", DataSource.DEMO)


class BundledHistory(NamedTuple):
    """A price and funding history shipped in the package, and whose it is."""

    file: str
    origin: str  # named in every reply that uses it


# BTC since 2018 on one venue (FrancyPengChoco/my-notebook), and three venues side by side for
# BTC and ETH in 2023-2024 (AHA-HH/optimising-funding-rate-arbitrage, MIT); see the README.
BYBIT_BTC_HISTORY = BundledHistory(
    "bybit_btcusd_8h_history.csv.gz",
    "Bybit BTCUSD inverse perpetual and BTC spot, 8-hour bars, FrancyPengChoco/my-notebook",
)
VENUES_HISTORY = BundledHistory(
    "coinm_perps_binance_bybit_okx_8h_2023-2024.csv.gz",
    "coin-margined perpetual and spot, 8-hour bars, AHA-HH/optimising-funding-rate-arbitrage",
)


def bundled_history_text(history: BundledHistory) -> str:
    """A bundled history as CSV text."""
    packed = resources.files("hedgecore.market").joinpath(history.file).read_bytes()
    return gzip.decompress(packed).decode()


@functools.cache
def bundled_venue_histories() -> dict[tuple[str, str], VenueHistory]:
    """The bundled table of three venues, read once: (venue, coin) -> its history."""
    histories, _ = parse_venue_histories(bundled_history_text(VENUES_HISTORY).splitlines())
    return histories
