"""The desk: the one answer path for every client (the bot, the terminal chat, the CLI).

It opens the market once, owns the one fallback policy (live data, else the bundled demo
snapshot, labelled as such, for every kind of question) and answers typed questions with typed
answers (`hedgecore.answers`). Clients parse their own input and render what comes back; none
of them assembles an answer of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from hedgecore.answers import (
    BacktestAnswer,
    FundingHistoryAnswer,
    HedgeQuestion,
    HedgeResult,
    MarketPlan,
    Overview,
    PayoffAnswer,
    RiskAnswer,
    merged_notes,
)
from hedgecore.backtest import run_backtest
from hedgecore.comparison import DEFAULT_SPREAD_8H, compare_venues
from hedgecore.crosshedge import best_proxy_from_closes
from hedgecore.errors import HedgeCoreError, NoMarketData, PlanningError
from hedgecore.history import Columns, parse_history
from hedgecore.market.deadline import REPLY_DEADLINE_S, reply_deadline
from hedgecore.models import DataSource, FundingPoint, Holding, PlanSettings
from hedgecore.overview import (
    FundingHistoryRow,
    basis_overview,
    funding_history_overview,
    funding_overview,
)
from hedgecore.payoff import funding_lines, payoff_curve
from hedgecore.planning import summarise_portfolio
from hedgecore.portfolio_risk import assess_portfolio
from hedgecore.tracking import (
    PlacedShort,
    PositionStatus,
    TrackedHedge,
    check_declared,
    contracts_in,
    edited,
    placed_short,
    position_status,
)
from hedgecore.venues import venue_name

if TYPE_CHECKING:  # the market side imports ccxt, which takes a second: loaded in Desk.open
    from hedgecore.market.cache import SharedCache
    from hedgecore.market.service import MarketService

T = TypeVar("T")
OVERVIEW_COINS = ("BTC", "ETH")
# A backtest without a venue, where the coin has no long history of its own, is on Bybit's.
BACKTEST_VENUE = "bybit"

# One line, not each venue's failure (those are logged: hedgebot's log, hedgecore --verbose);
# the demo's own label opens the reply.
DEMO_NOTE = "No exchange answered (is the network up?), so this is the demo, not live data."


async def _nothing() -> tuple[FundingHistoryRow, ...]:
    return ()


class Desk:
    """Answers hedging questions from one market service; one instance for the process."""

    def __init__(
        self,
        market: MarketService,
        demo: Callable[[], MarketService] | None = None,
        reply_deadline_s: float = REPLY_DEADLINE_S,
    ) -> None:
        """`demo` opens the service to fall back on when no live venue answers (None: none);
        a question's venue requests are waited for `reply_deadline_s` in all."""
        self.market = market
        self._open_demo = demo
        self._demo: MarketService | None = None
        self._reply_deadline_s = reply_deadline_s

    @classmethod
    def open(
        cls,
        venues: Sequence[str],
        snapshot: Path | None = None,
        reply_deadline_s: float = REPLY_DEADLINE_S,
        shared: SharedCache | None = None,
    ) -> Desk:
        """A desk on the snapshot file at `snapshot`, or on the live `venues` with the demo
        behind; live market data is shared with other processes through `shared`."""
        from hedgecore.market.service import live_market_service
        from hedgecore.market.snapshot import demo_market_service, load_snapshot_file

        if snapshot is not None:
            return cls(load_snapshot_file(snapshot), reply_deadline_s=reply_deadline_s)
        return cls(
            live_market_service(venues, shared=shared),
            demo=demo_market_service,
            reply_deadline_s=reply_deadline_s,
        )

    async def close(self) -> None:
        """Close the market connections (and the demo's, if it was opened)."""
        await self.market.close()
        if self._demo is not None:
            await self._demo.close()

    async def _answer(
        self, ask: Callable[[MarketService], Awaitable[T]]
    ) -> tuple[T, tuple[str, ...]]:
        """`ask` the live market, or the demo when no venue answers; the notes say which."""
        try:
            with reply_deadline(self._reply_deadline_s):
                return await ask(self.market), ()
        except NoMarketData as live_failure:
            if self.market.source is not DataSource.LIVE or self._open_demo is None:
                raise
            if self._demo is None:
                self._demo = self._open_demo()
            try:
                answer = await ask(self._demo)
            except HedgeCoreError:
                raise live_failure from None
            return answer, (DEMO_NOTE,)

    async def market_plan(
        self, holding: Holding, settings: PlanSettings, venues: Sequence[str] | None = None
    ) -> tuple[MarketPlan, tuple[str, ...]]:
        """The plan of one holding and the notes to show beside it."""
        from hedgecore.market.plans import plan_from_market

        plan, fallback = await self._answer(
            lambda market: plan_from_market(market, holding, settings, venues)
        )
        return plan, fallback or plan.market_notes

    async def hedge(self, question: HedgeQuestion) -> HedgeResult:
        """Plan every holding of the question concurrently; a holding that fails is reported."""
        with reply_deadline(self._reply_deadline_s):  # one deadline for all the holdings
            results = await asyncio.gather(
                *(
                    self.market_plan(holding, question.settings, question.venues)
                    for holding in question.holdings
                ),
                return_exceptions=True,
            )
        plans: list[MarketPlan] = []
        notes: list[tuple[str, ...]] = []
        failed: list[tuple[str, PlanningError]] = []
        for holding, result in zip(question.holdings, results, strict=True):
            if isinstance(result, PlanningError):
                failed.append((holding.coin, result))
            elif isinstance(result, BaseException):
                raise result
            else:
                plans.append(result[0])
                notes.append(result[1])
        failures = tuple(f"{coin}: {exc}" for coin, exc in failed)
        if not plans:
            if len(failed) == 1:
                raise failed[0][1]  # one holding: its own error, as the CLI shows it
            raise PlanningError("; ".join(failures))
        portfolio = summarise_portfolio([p.plan for p in plans]) if len(plans) > 1 else None
        return HedgeResult(
            plans=tuple(plans),
            notes=merged_notes(*notes),
            failures=failures,
            portfolio=portfolio,
        )

    async def payoff(self, question: HedgeQuestion) -> PayoffAnswer:
        """The payoff across prices of a one-holding question, from the very plan it shows."""
        if len(question.holdings) != 1:
            raise PlanningError("a chart shows one holding")
        (holding,) = question.holdings
        market_plan, notes = await self.market_plan(holding, question.settings, question.venues)
        return PayoffAnswer(
            market_plan=market_plan, curve=payoff_curve(market_plan.plan), notes=notes
        )

    async def overview(
        self, coin: str, venues: Sequence[str] | None = None, with_history: bool = False
    ) -> Overview:
        """Funding and basis of `coin` on every venue that answers; `with_history` adds each
        venue's funding over its last 7 and 30 days, from the history the charts draw."""

        async def ask(market: MarketService) -> Overview:
            markets, history = await asyncio.gather(
                market.coin_markets(coin, venues),
                self._funding_history_rows(market, coin) if with_history else _nothing(),
            )
            if not markets.contracts:
                details = f" ({' '.join(markets.notes)})" if markets.notes else ""
                problem = f"no inverse contract for {coin} right now"
                if len(markets.failed_venues) == len(venues or market.venues):
                    raise NoMarketData(f"{problem}: no venue answered{details}")
                raise PlanningError(problem + details)
            return Overview(
                coin=coin,
                funding=funding_overview(markets.contracts, markets.as_of),
                basis=basis_overview(markets.contracts, markets.as_of),
                history=history,
                notes=markets.notes,
                source=markets.source,
                as_of=markets.as_of,
            )

        overview, fallback = await self._answer(ask)
        return overview.model_copy(update={"notes": fallback}) if fallback else overview

    @staticmethod
    async def _funding_history_rows(
        market: MarketService, coin: str
    ) -> tuple[FundingHistoryRow, ...]:
        """The venues' recent funding, or none when no venue's history came: the live rates
        are still worth answering with."""
        try:
            return funding_history_overview(await market.funding_history(coin), market.now())
        except HedgeCoreError:
            return ()

    async def overviews(self, coin: str | None, with_history: bool = False) -> tuple[Overview, ...]:
        """Overviews of one coin (with its funding history if asked), or of whichever of BTC and
        ETH have contracts when none is given."""
        if coin is not None:
            return (await self.overview(coin, with_history=with_history),)
        with reply_deadline(self._reply_deadline_s):
            results = await asyncio.gather(
                *(self.overview(c) for c in OVERVIEW_COINS), return_exceptions=True
            )
        found = tuple(r for r in results if isinstance(r, Overview))
        if not found:
            raise next(r for r in results if isinstance(r, BaseException))
        return found

    async def funding_history(self, coin: str) -> FundingHistoryAnswer:
        """The last 30 days of funding of `coin` per venue, annualised as a short sees it."""

        async def ask(market: MarketService) -> FundingHistoryAnswer:
            history = await market.funding_history(coin)
            if not history:
                raise PlanningError(f"no funding history for {coin} from any venue right now")
            return FundingHistoryAnswer(
                coin=coin,
                lines=funding_lines(history),
                notes=(),
                source=market.source,
                as_of=market.now(),
            )

        answer, fallback = await self._answer(ask)
        return answer.model_copy(update={"notes": fallback}) if fallback else answer

    async def risk(self, holdings: Sequence[Holding]) -> RiskAnswer:
        """Step 1: each holding's historical risk from 90 days of daily closes, and which to
        hedge first; a coin with no inverse contract is priced from spot and given its proxy."""
        from hedgecore.market.plans import CROSS_HEDGE_DAYS, CROSS_HEDGE_PROXIES

        async def ask(market: MarketService) -> RiskAnswer:
            listed = await market.coins()
            if not listed:
                raise NoMarketData("no venue answered for the coins it lists")
            # BTC for the correlations; the other proxies only for a coin with no contract.
            unlisted = [h.coin for h in holdings if h.coin not in listed]
            proxies = CROSS_HEDGE_PROXIES if unlisted else ("BTC",)
            wanted = [*dict.fromkeys([*(h.coin for h in holdings), *proxies])]
            histories = await asyncio.gather(
                *(
                    market.daily_closes(coin, CROSS_HEDGE_DAYS)
                    if coin in listed
                    else market.spot_daily_closes(coin, CROSS_HEDGE_DAYS)
                    for coin in wanted
                )
            )
            closes: dict[str, tuple[tuple[datetime, Decimal], ...]] = {}
            notes = []
            for coin, history in zip(wanted, histories, strict=True):
                if history is None:
                    continue
                closes[coin] = history.closes
                if any(h.coin == coin for h in holdings):
                    notes.append(
                        f"{coin}: daily closes of {venue_name(history.venue)} {history.market}"
                    )
            hedged_with = {
                coin: best_proxy_from_closes(
                    coin, {c: closes[c] for c in (coin, *CROSS_HEDGE_PROXIES) if c in closes}
                ).proxy_coin
                for coin in unlisted
                if coin in closes
            }
            return RiskAnswer(
                risk=assess_portfolio(holdings, closes, hedged_with),
                notes=tuple(notes),
                source=market.source,
                as_of=market.now(),
            )

        answer, fallback = await self._answer(ask)
        return answer.model_copy(update={"notes": (*answer.notes, *fallback)})

    async def declare_short(
        self,
        venue: str,
        symbol: str,
        order_amount: Decimal,
        entry_price: Decimal | None,
        leverage: Decimal,
        hedged_coins: Decimal | None,
    ) -> PlacedShort:
        """The short a user says they placed now, checked against the contract it names: the
        amount as the venue's order form counts it; no entry price: the price to sell at now."""
        with reply_deadline(self._reply_deadline_s):
            market = await self.market.contract_named(venue, symbol)
        contracts = contracts_in(market.contract, order_amount)
        entry = entry_price or market.quote.short_entry_price
        check_declared(market, entry, leverage)
        return placed_short(market, contracts, entry, leverage, self.market.now(), hedged_coins)

    async def edit_short(
        self,
        hedge: TrackedHedge,
        entry_price: Decimal | None,
        leverage: Decimal | None,
        added_margin_coin: Decimal | None,
    ) -> PlacedShort:
        """A tracked short corrected, checked against its contract as a new one would be."""
        with reply_deadline(self._reply_deadline_s):
            market = await self.market.contract_named(hedge.venue, hedge.symbol)
        changed = edited(hedge, entry_price, leverage, added_margin_coin)
        check_declared(market, changed.entry_price, changed.leverage)
        return changed

    async def positions(self, hedges: Sequence[TrackedHedge]) -> list[PositionStatus | str]:
        """Each tracked hedge as it stands, or why it cannot be told now (one line)."""

        async def history(coin: str) -> dict[str, list[FundingPoint]] | HedgeCoreError:
            try:
                return await self.market.funding_history(coin)
            except HedgeCoreError as exc:
                return exc

        async def one(hedge: TrackedHedge) -> PositionStatus | str:
            by_venue = histories.get(hedge.coin, {})
            try:
                if isinstance(by_venue, HedgeCoreError):
                    raise by_venue
                market = await self.market.contract_named(hedge.venue, hedge.symbol)
            except HedgeCoreError as exc:
                return f"#{hedge.id} {venue_name(hedge.venue)} {hedge.symbol}: {exc}"
            points = by_venue.get(hedge.venue, [])
            return position_status(hedge, market, points, self.market.now())

        with reply_deadline(self._reply_deadline_s):
            # Funding history once per coin with a perpetual tracked, however many hedges.
            coins = sorted({hedge.coin for hedge in hedges if hedge.expiry is None})
            histories = dict(
                zip(coins, await asyncio.gather(*(history(c) for c in coins)), strict=True)
            )
            return list(await asyncio.gather(*(one(hedge) for hedge in hedges)))

    async def listed_coins(self) -> dict[str, tuple[str, ...]]:
        """Coins with an inverse contract on the market's venues, and where; empty when no
        venue answers (nothing can then be said either way)."""
        with reply_deadline(self._reply_deadline_s):
            return await self.market.coins()

    async def backtest(self, coin: str, venue: str | None = None) -> BacktestAnswer:
        """A bundled history of `coin` replayed through every strategy, in a worker thread:
        BTC alone is Bybit since 2018; with a venue, or for ETH, 2023-2024 beside the others."""
        from hedgecore.market.snapshot import (
            BYBIT_BTC_HISTORY,
            VENUES_HISTORY,
            bundled_history_text,
            bundled_venue_histories,
        )

        def run() -> BacktestAnswer:
            if venue is None and coin == "BTC":
                text = bundled_history_text(BYBIT_BTC_HISTORY)
                bars, _ = parse_history(text.splitlines(), Columns())
                return BacktestAnswer(
                    report=run_backtest(coin, bars), origin=BYBIT_BTC_HISTORY.origin
                )
            histories = bundled_venue_histories()
            same_coin = {key: history for key, history in histories.items() if key[1] == coin}
            chosen = same_coin.get((venue or BACKTEST_VENUE, coin))
            if chosen is None:
                coins = sorted({c for _, c in histories})
                where = ", ".join(venue_name(v) for v, _ in sorted(same_coin)) or None
                raise PlanningError(
                    f"no bundled history for {coin} on {venue_name(venue or BACKTEST_VENUE)}; "
                    f"there is {coin} on {where}"
                    if where
                    else f"no bundled history for {coin}; there is one for {', '.join(coins)}"
                )
            return BacktestAnswer(
                report=run_backtest(coin, list(chosen.bars)),
                origin=f"{venue_name(chosen.venue)} {coin} {VENUES_HISTORY.origin}",
                comparison=compare_venues(same_coin, DEFAULT_SPREAD_8H),
            )

        return await asyncio.to_thread(run)
