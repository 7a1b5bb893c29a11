"""The market service: what every caller asks for market data, cached and failure-isolated.

One feed per venue; every request goes through the cache (single-flight, stale-while-revalidate),
a timeout and a circuit breaker per venue endpoint. Venues are asked concurrently and a venue
that fails drops out of the answer with a note; it never fails the answer from the others. Within
a reply's deadline (`hedgecore.market.deadline`) a venue that has not answered in time drops out
too, and is not waited for again while its late request is still out.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from pydantic import TypeAdapter

from hedgecore import fmt
from hedgecore.errors import NoMarketData, PlanningError
from hedgecore.market.breaker import CircuitBreaker
from hedgecore.market.cache import Cached, Codec, SharedCache, TtlCache
from hedgecore.market.deadline import current_deadline
from hedgecore.market.errors import VenueUnavailable, describe_failure
from hedgecore.market.feeds import PUBLIC_TIER_VENUES, Quotes, VenueFeed
from hedgecore.market.normalise import (
    CcxtDict,
    InvalidMarketData,
    from_ms,
    market_contract,
    tiers_from_kraken_market,
    tiers_from_leverage_tiers,
    to_decimal,
)
from hedgecore.models import DataSource, Frozen, FundingPoint, MarginTier, MarketContract
from hedgecore.venues import VENUES, venue_name

T = TypeVar("T")
log = logging.getLogger(__name__)


def _json_codec(rebuild: Callable[[Any], Any] = lambda value: value) -> Codec[Any]:
    return Codec(
        lambda value: json.dumps(value, separators=(",", ":")).encode(),
        lambda payload: rebuild(json.loads(payload)),
    )


_FUNDING_POINTS = TypeAdapter(list[FundingPoint])
# How each kind of request's value travels through a cache shared by processes: ccxt's
# structures are JSON; funding history is cached as points.
CODECS: dict[str, Codec[Any]] = {
    "markets": _json_codec(),
    "quotes": _json_codec(lambda pair: Quotes(*pair)),
    "tiers": _json_codec(),
    "funding_history": Codec(_FUNDING_POINTS.dump_json, _FUNDING_POINTS.validate_json),
    "ohlcv": _json_codec(),
    "spot_ohlcv": _json_codec(),
}


@dataclass(frozen=True)
class Ttls:
    """How long each kind of data counts as fresh, in seconds."""

    markets: float = 6 * 3600
    quotes: float = 15
    tiers: float = 6 * 3600
    history: float = 3600


class CoinMarkets(Frozen):
    """Every inverse contract on a coin across the venues that answered, and notes on the rest."""

    coin: str
    contracts: tuple[MarketContract, ...]
    notes: tuple[str, ...]
    failed_venues: tuple[str, ...]
    as_of: datetime
    source: DataSource


class PriceHistory(Frozen):
    """Daily closes of one market on one venue, oldest first."""

    venue: str
    market: str
    closes: tuple[tuple[datetime, Decimal], ...]


@dataclass(frozen=True)
class _Memo:
    """An answer worked out from cached values, good until `until` (epoch seconds) while the
    cache is at `version`."""

    answer: Any
    version: int
    until: float


@dataclass
class _Venue:
    feed: VenueFeed
    # One per kind of request: a failing endpoint is left alone, the venue's others are not.
    breakers: defaultdict[str, CircuitBreaker] = field(
        default_factory=lambda: defaultdict(CircuitBreaker)
    )
    requests_ok: int = 0
    requests_failed: int = 0
    requests_out: int = 0
    late: bool = False  # a reply stopped waiting for it while requests were out

    def paused(self, now: float) -> list[str]:
        """The kinds of request its breakers hold back now, each with the last failure."""
        return [
            f"{kind} paused: {breaker.last_error}"
            for kind, breaker in self.breakers.items()
            if not breaker.allows(now)
        ]


class MarketService:
    """Market data for plans, funding and alerts; one instance for the process."""

    def __init__(
        self,
        feeds: Sequence[VenueFeed],
        *,
        clock: Callable[[], float] = time.time,
        ttls: Ttls | None = None,
        timeout_s: float = 8.0,
        source: DataSource = DataSource.LIVE,
        shared: SharedCache | None = None,
    ) -> None:
        """`shared`: a cache shared with other processes, under this one's."""
        self._venues = {feed.venue: _Venue(feed) for feed in feeds}
        self._clock = clock
        self._ttls = ttls or Ttls()
        self._timeout_s = timeout_s
        self.source = source
        self.cache = TtlCache(clock, shared)
        # Per venue and coin: the quotes object and the markets normalised, and what they gave.
        self._normalised: dict[
            tuple[str, str],
            tuple[Quotes, tuple[str, ...], tuple[MarketContract, ...], tuple[str, ...]],
        ] = {}
        self._memos: dict[Hashable, _Memo] = {}  # of the cache's current version only

    @property
    def venues(self) -> tuple[str, ...]:
        """Venue ids this service asks, in order."""
        return tuple(self._venues)

    def request_counts(self) -> dict[str, tuple[int, int]]:
        """Requests made to each venue: (succeeded, failed)."""
        return {vid: (v.requests_ok, v.requests_failed) for vid, v in self._venues.items()}

    def venue_health(self) -> dict[str, tuple[bool, str]]:
        """Each venue: whether every endpoint is being asked, and if not, which are paused."""
        now = self._clock()
        return {
            vid: (not paused, "; ".join(paused))
            for vid, paused in ((vid, v.paused(now)) for vid, v in self._venues.items())
        }

    def now(self) -> datetime:
        """The service's clock as an aware datetime."""
        return datetime.fromtimestamp(self._clock(), tz=UTC)

    async def close(self) -> None:
        """Stop refreshes and close every venue's connections."""
        await self.cache.close()
        await asyncio.gather(
            *(venue.feed.close() for venue in self._venues.values()), return_exceptions=True
        )

    async def _fetch(
        self, venue: _Venue, kind: str, ttl: float, load: Callable[[], Awaitable[T]], *key: Any
    ) -> Cached[T]:
        """One cached request to a venue, behind its endpoint's breaker and timeout."""
        breaker = venue.breakers[kind]

        async def guarded() -> T:
            now = self._clock()
            if not breaker.allows(now):
                raise VenueUnavailable(
                    venue.feed.venue,
                    f"paused after {breaker.failures} failures ({breaker.last_error}); "
                    f"retrying in {fmt.age(Decimal(int(breaker.retry_in(now))))}",
                )
            venue.requests_out += 1
            try:
                value = await asyncio.wait_for(load(), self._timeout_s)
            except Exception as exc:
                venue.requests_failed += 1
                breaker.record_failure(self._clock(), describe_failure(exc))
                log.warning("%s %s failed: %s", venue.feed.venue, kind, describe_failure(exc))
                raise
            finally:
                venue.requests_out -= 1
                venue.late = venue.late and venue.requests_out > 0
            venue.requests_ok += 1
            breaker.record_success()
            return value

        return await self.cache.get((venue.feed.venue, kind, *key), ttl, guarded, CODECS[kind])

    async def _in_time(self, venue: _Venue, work: Awaitable[T]) -> T:
        """`work` on `venue`, given up on when the reply's deadline passes.

        A venue a reply already gave up on, while that request is still out, gets no time at
        all: only what is cached. Giving up never cancels a request; it goes on into the cache.
        """
        deadline = current_deadline()
        if deadline is None or self.source is not DataSource.LIVE:  # a snapshot never waits
            return await work
        late = venue.late
        # Past a deadline the timeout fires on the next turn of the loop: cache hits, which
        # never wait, are still served.
        timeout = asyncio.timeout_at(asyncio.get_running_loop().time() if late else deadline.at)
        try:
            async with timeout:
                return await work
        except TimeoutError:
            if not timeout.expired():
                raise  # a request's own timeout, already counted by its breaker
            if late:
                raise VenueUnavailable(
                    venue.feed.venue, "is still answering an earlier request"
                ) from None
            venue.late = venue.requests_out > 0
            raise VenueUnavailable(
                venue.feed.venue, f"did not answer within {deadline.seconds:g} s"
            ) from None

    async def _memoised(
        self,
        key: Hashable,
        work: Callable[[], Awaitable[T]],
        holds_until: Callable[[T], float | None],
    ) -> T:
        """`work`'s answer, worked out again only once a cached value it read has changed or
        gone stale. Every /hedge asks the same few questions of the same cached data; working
        their answers out (a request per venue, each venue's markets searched) cost a sixth of
        the reply.

        `holds_until(answer)`: until when the answer holds on its own terms (epoch seconds; a
        dated contract in it expires), or None to keep it not at all (a venue failed: the next
        question asks it again).
        """
        now = self._clock()
        memo = self._memos.get(key)
        if memo is not None and memo.version == self.cache.version and now < memo.until:
            answer: T = memo.answer
            return answer
        version = self.cache.version
        with self.cache.recording_reads() as reads:
            answer = await work()
        until = holds_until(answer)
        if until is not None and self.cache.version == version:
            until = min([until, *(cached.loaded_at + ttl for cached, ttl in reads)])
            if any(memo.version != version for memo in self._memos.values()):
                self._memos.clear()  # answers of an older cache are never good again
            self._memos[key] = _Memo(answer, version, until)
        return answer

    def _stale_note(self, venue: str, cached: Cached[Any], ttl: float) -> str | None:
        age = cached.age(self._clock())
        if age < ttl:
            return None
        why = (
            f": {describe_failure(cached.refresh_error)}"
            if cached.refresh_error
            else ", refreshing"
        )
        return f"{venue_name(venue)}: prices and funding are {fmt.age(Decimal(int(age)))} old (not live{why})."

    async def _markets(self, venue: _Venue) -> list[CcxtDict]:
        markets: list[CcxtDict] = (
            await self._fetch(venue, "markets", self._ttls.markets, venue.feed.markets)
        ).value
        venue.feed.adopt_markets(markets)
        return markets

    async def _tiers(self, venue: _Venue, market: CcxtDict) -> tuple[MarginTier, ...]:
        if venue.feed.venue == "krakenfutures":
            return tiers_from_kraken_market(market)
        if venue.feed.venue not in PUBLIC_TIER_VENUES or market.get("type") != "swap":
            return ()
        cached = await self._fetch(
            venue,
            "tiers",
            self._ttls.tiers,
            lambda: venue.feed.leverage_tiers(market),
            market["symbol"],
        )
        return tiers_from_leverage_tiers(cached.value, market)

    async def _venue_contracts(
        self, venue: _Venue, coin: str
    ) -> tuple[list[MarketContract], list[str]]:
        markets = await self._markets(venue)
        now = self.now()
        mine = [m for m in markets if m.get("base") == coin and _tradable_at(m, now)]
        if not mine:
            return [], []
        quotes = await self._fetch(
            venue, "quotes", self._ttls.quotes, lambda: venue.feed.quotes(markets)
        )
        stale = self._stale_note(venue.feed.venue, quotes, self._ttls.quotes)
        notes = [stale] if stale else []
        # Normalise once per quote refresh, not once per user; a contract that expires since
        # leaves at once, though the quotes are the same.
        memo_key = (venue.feed.venue, coin)
        symbols = tuple(m["symbol"] for m in mine)
        memo = self._normalised.get(memo_key)
        if memo is None or memo[0] is not quotes.value or memo[1] != symbols:
            memo = (quotes.value, symbols, *await self._normalise(venue, mine, quotes))
            self._normalised[memo_key] = memo
        _, _, contracts, problems = memo
        if problems and not contracts:
            raise InvalidMarketData("; ".join(problems))
        notes += [f"{venue_name(venue.feed.venue)} {problem}: left out." for problem in problems]
        return list(contracts), notes

    async def _normalise(
        self, venue: _Venue, mine: list[CcxtDict], quotes: Cached[Quotes]
    ) -> tuple[tuple[MarketContract, ...], tuple[str, ...]]:
        """The venue's contracts on a coin as models, and why any were left out."""
        fetched_at = datetime.fromtimestamp(quotes.loaded_at, tz=UTC)
        tickers, funding = quotes.value
        perpetual_index = next(
            (
                to_decimal(_index_of(tickers.get(m["symbol"]), funding.get(m["symbol"])))
                for m in mine
                if m.get("type") == "swap"
            ),
            None,
        )
        contracts, problems = [], []
        for market in mine:
            symbol = market["symbol"]
            try:
                tiers = await self._tiers(venue, market)
                contracts.append(
                    market_contract(
                        venue.feed.venue,
                        market,
                        tickers.get(symbol),
                        funding.get(symbol),
                        fetched_at,
                        self.source,
                        tiers,
                        perpetual_index,
                    )
                )
            except InvalidMarketData as exc:
                problems.append(str(exc))
        return tuple(contracts), tuple(problems)

    async def coin_markets(self, coin: str, venues: Sequence[str] | None = None) -> CoinMarkets:
        """Every live inverse contract on `coin`, venue by venue, with notes on venues that failed."""
        asked = tuple(v for v in (venues or self._venues) if v in self._venues)

        def holds_until(
            found: tuple[tuple[MarketContract, ...], tuple[str, ...], tuple[str, ...]],
        ) -> float | None:
            contracts, _, failed = found
            if failed:
                return None
            expiries = [c.contract.expiry.timestamp() for c in contracts if c.contract.expiry]
            return min(expiries, default=math.inf)

        contracts, notes, failed = await self._memoised(
            ("coin_markets", coin, asked), lambda: self._coin_markets(coin, asked), holds_until
        )
        return CoinMarkets(
            coin=coin,
            contracts=contracts,
            notes=notes,
            failed_venues=failed,
            as_of=self.now(),
            source=self.source,
        )

    async def _coin_markets(
        self, coin: str, venue_ids: Sequence[str]
    ) -> tuple[tuple[MarketContract, ...], tuple[str, ...], tuple[str, ...]]:
        """`coin_markets`' contracts, notes and failed venues, asking each venue concurrently."""
        asked = [self._venues[v] for v in venue_ids]
        results = await asyncio.gather(
            *(self._in_time(v, self._venue_contracts(v, coin)) for v in asked),
            return_exceptions=True,
        )
        contracts: list[MarketContract] = []
        notes: list[str] = []
        failed: list[str] = []
        for venue, result in zip(asked, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                notes.append(
                    f"{venue_name(venue.feed.venue)} left out: it {describe_failure(result)}."
                )
                failed.append(venue.feed.venue)
                continue
            found, venue_notes = result
            contracts += found
            notes += venue_notes
        return tuple(contracts), tuple(notes), tuple(failed)

    async def contract_named(self, venue: str, name: str) -> MarketContract:
        """The venue's inverse contract that `name` spells, in the venue's own way (BTCUSD_PERP)
        or ccxt's (BTC/USD:BTC), any case; with its quote."""
        asked = self._venues.get(venue)
        if asked is None:
            raise PlanningError(f"this bot does not ask {venue_name(venue)} for prices")
        try:
            markets = await self._in_time(asked, self._markets(asked))
        except Exception as exc:  # any venue failure, said in one line
            raise NoMarketData(
                f"{venue_name(venue)} cannot be asked about {name.strip()[:24]!r} right now: "
                f"it {describe_failure(exc)}"
            ) from exc
        wanted = name.strip().upper()
        market = next(
            (m for m in markets if wanted in (str(m.get("id", "")).upper(), str(m["symbol"]))),
            None,
        )
        if market is None:
            own = ", ".join(sorted({str(m.get("id", m["symbol"])).upper() for m in markets})[:8])
            linear = " (USDT- and USDC-margined contracts are linear: they hedge no coins)"
            raise PlanningError(
                f"{venue_name(venue)} lists no coin-margined contract {name.strip()[:24]!r}"
                f"{linear if wanted.endswith(('USDT', 'USDC')) else ''}; its own: {own}"
            )
        found = await self.coin_markets(str(market["base"]), [venue])
        quoted = next((c for c in found.contracts if c.contract.symbol == market["symbol"]), None)
        if quoted is None:
            raise NoMarketData(
                f"no price for {venue_name(venue)} {market['symbol']} right now"
                + (f" ({found.notes[0]})" if found.notes else "")
            )
        return quoted

    async def coins(self) -> dict[str, tuple[str, ...]]:
        """Coins with an inverse contract somewhere, and the venues listing them."""
        results = await asyncio.gather(
            *(self._in_time(v, self._markets(v)) for v in self._venues.values()),
            return_exceptions=True,
        )
        listed: dict[str, set[str]] = {}
        for venue, result in zip(self._venues, results, strict=True):
            if isinstance(result, list):
                for market in result:
                    listed.setdefault(str(market["base"]), set()).add(venue)
        return {coin: tuple(sorted(venues)) for coin, venues in sorted(listed.items())}

    async def funding_history(self, coin: str, days: int = 30) -> dict[str, list[FundingPoint]]:
        """Past funding of `coin`'s perpetual on each venue that answers, oldest first.

        Raises `NoMarketData` when no venue answers at all.
        """
        history, _ = await self._memoised(
            ("funding_history", coin, days),
            lambda: self._funding_history(coin, days),
            lambda answer: math.inf if answer[1] else None,
        )
        return dict(history)

    async def _funding_history(
        self, coin: str, days: int
    ) -> tuple[dict[str, list[FundingPoint]], bool]:
        """`funding_history`'s answer, and whether every venue answered."""
        since_ms = int((self.now() - timedelta(days=days)).timestamp() * 1000)

        async def one(venue: _Venue) -> list[FundingPoint]:
            markets = await self._markets(venue)
            perpetual = next(
                (m for m in markets if m.get("base") == coin and m.get("type") == "swap"), None
            )
            if perpetual is None:
                return []
            symbol = perpetual["symbol"]

            async def load() -> list[FundingPoint]:
                # Cache the points, not the raw rows: every plan reads them.
                return _funding_points(
                    venue.feed.venue, await venue.feed.funding_history(symbol, since_ms)
                )

            return (
                await self._fetch(venue, "funding_history", self._ttls.history, load, symbol)
            ).value

        results = await asyncio.gather(
            *(self._in_time(v, one(v)) for v in self._venues.values()), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if any(not isinstance(r, Exception) for r in failures):
            raise next(r for r in failures if not isinstance(r, Exception))
        if results and len(failures) == len(results):
            reasons = "; ".join(
                f"{venue_name(v)} {describe_failure(r)}"
                for v, r in zip(self._venues, results, strict=True)
                if isinstance(r, Exception)
            )
            raise NoMarketData(f"no funding history for {coin}: no venue answered ({reasons})")
        history = {
            venue: points
            for venue, points in zip(self._venues, results, strict=True)
            if isinstance(points, list) and points
        }
        return history, not failures

    async def daily_closes(self, coin: str, days: int = 90) -> PriceHistory | None:
        """Daily closes of `coin`'s inverse perpetual from the first venue that has them."""

        async def perpetual_candles(
            venue: _Venue, since_ms: int
        ) -> Cached[list[list[float]]] | None:
            markets = await self._markets(venue)
            perpetual = next(
                (m for m in markets if m.get("base") == coin and m.get("type") == "swap"), None
            )
            if perpetual is None:
                return None
            symbol = perpetual["symbol"]
            load = partial(venue.feed.daily_ohlcv, symbol, since_ms)
            return await self._fetch(venue, "ohlcv", self._ttls.history, load, symbol)

        return await self._first_closes(coin, days, perpetual_candles, f"{coin} inverse perpetual")

    async def spot_daily_closes(self, coin: str, days: int = 90) -> PriceHistory | None:
        """Daily closes of `coin` against USDT on the first venue whose spot market has them."""

        async def spot_candles(venue: _Venue, since_ms: int) -> Cached[list[list[float]]]:
            load = partial(venue.feed.spot_daily_ohlcv, coin, since_ms)
            return await self._fetch(venue, "spot_ohlcv", self._ttls.history, load, coin)

        return await self._first_closes(coin, days, spot_candles, f"{coin}/USDT spot")

    async def _first_closes(
        self,
        coin: str,
        days: int,
        candles: Callable[[_Venue, int], Awaitable[Cached[list[list[float]]] | None]],
        market: str,
    ) -> PriceHistory | None:
        since_ms = int((self.now() - timedelta(days=days)).timestamp() * 1000)
        for venue in self._venues.values():
            try:
                cached = await self._in_time(venue, candles(venue, since_ms))
            except Exception as exc:  # noqa: BLE001 - any venue failure means: try the next venue
                log.info(
                    "daily closes of %s from %s failed: %s",
                    coin,
                    venue.feed.venue,
                    describe_failure(exc),
                )
                continue
            if cached is None:
                continue
            closes = [(from_ms(row[0]), to_decimal(row[4])) for row in cached.value]
            usable = sorted((t, c) for t, c in closes if t is not None and c is not None and c > 0)
            if usable:
                return PriceHistory(venue=venue.feed.venue, market=market, closes=tuple(usable))
        return None


def _index_of(ticker: CcxtDict | None, funding: CcxtDict | None) -> Any:
    """The index price a perpetual's ticker or funding structure carries, if any."""
    return (ticker or {}).get("indexPrice") or (funding or {}).get("indexPrice")


def _tradable_at(market: CcxtDict, now: datetime) -> bool:
    """Perpetuals always; dated futures until they expire."""
    if market.get("type") == "swap":
        return True
    expiry = from_ms(market.get("expiry"))
    return expiry is not None and expiry > now


def _funding_points(venue: str, rows: Sequence[CcxtDict]) -> list[FundingPoint]:
    """Funding history rows as points; Deribit's rows are hourly with a rolling 8-hour rate.

    Elsewhere a settlement covers the time since the one before: intervals change (8 h to
    4 h to 1 h and back), so each point's interval is that gap, the first one's the next gap.
    """
    settled: list[tuple[datetime, Decimal]] = []
    for row in rows:
        moment = from_ms(row.get("timestamp"))
        if venue == "deribit":
            rate = to_decimal(row.get("info", {}).get("interest_1h"))
        elif venue == "krakenfutures":
            rate = to_decimal(row.get("info", {}).get("relativeFundingRate"))
        else:
            rate = to_decimal(row.get("fundingRate"))
        if moment is not None and rate is not None:
            settled.append((moment, rate))
    settled.sort()
    if not settled:
        return []
    if venue in ("deribit", "krakenfutures"):
        return [FundingPoint(time=t, rate=r, interval_hours=Decimal(1)) for t, r in settled]
    usual = VENUES[venue].funding_interval_hours if venue in VENUES else Decimal(8)
    gaps = [
        Decimal((b - a).total_seconds()) / 3600 for (a, _), (b, _) in itertools.pairwise(settled)
    ]
    hours = [gaps[0] if gaps else usual, *gaps]
    return [
        FundingPoint(time=t, rate=r, interval_hours=h if 0 < h <= 24 else usual)
        for (t, r), h in zip(settled, hours, strict=True)
    ]


def live_market_service(
    venues: Sequence[str], timeout_s: float = 8.0, shared: SharedCache | None = None
) -> MarketService:
    """A market service asking `venues` over the network through ccxt (sharing what it loads
    with other processes through `shared`)."""
    from hedgecore.market.ccxt_feed import live_feeds  # ccxt loads only to talk to venues

    return MarketService(live_feeds(venues, timeout_s), timeout_s=timeout_s, shared=shared)
