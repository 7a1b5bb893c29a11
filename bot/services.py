"""The services handlers call: set up once in post_init, reached through the typed bot_data."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.parsing import HedgeRequest
from bot.settings import BotSettings
from bot.store import Store, UserSettings
from hedgecore.backtest import BacktestReport, run_backtest
from hedgecore.charts.draw import backtest_png, funding_png, payoff_png
from hedgecore.errors import PlanningError
from hedgecore.history import Columns, parse_history
from hedgecore.market.plans import MarketPlan, markets_or_demo, plan_or_demo
from hedgecore.market.service import MarketService
from hedgecore.market.snapshot import BUNDLED_HISTORY, bundled_history_text
from hedgecore.models import DataSource, PlanSettings, PortfolioPlan
from hedgecore.overview import BasisRow, FundingRow, basis_overview, funding_overview
from hedgecore.payoff import funding_lines, payoff_curve
from hedgecore.planning import summarise_portfolio

if TYPE_CHECKING:  # the alert service renders with bot.render, which reads this module's types
    from bot.alerting import AlertService
    from bot.flood import FloodGuard
    from bot.metrics import BotMetrics

OVERVIEW_COINS = ("BTC", "ETH")


@dataclass(frozen=True)
class HedgeResult:
    """Plans for the holdings of a /hedge, their totals, and what could not be planned."""

    plans: tuple[MarketPlan, ...]
    notes: tuple[str, ...]
    failures: tuple[str, ...]
    portfolio: PortfolioPlan | None


@dataclass(frozen=True)
class Overview:
    """Funding or basis rows of one coin across venues, with notes on venues left out."""

    coin: str
    funding: tuple[FundingRow, ...]
    basis: tuple[BasisRow, ...]
    notes: tuple[str, ...]
    source: DataSource
    as_of: datetime


@dataclass(frozen=True)
class Services:
    """Everything the handlers need, built once for the application's life."""

    settings: BotSettings
    market: MarketService
    store: Store
    alerts: AlertService
    flood: FloodGuard
    metrics: BotMetrics

    async def hedge(self, request: HedgeRequest, defaults: UserSettings) -> HedgeResult:
        """Plan every holding of the request, concurrently, with the user's defaults filled in."""
        settings = PlanSettings(
            leverage=request.leverage or defaults.leverage,
            hedge_ratio=request.hedge_ratio or defaults.hedge_ratio,
        )
        venues = [request.venue] if request.venue else (list(defaults.venues) or None)
        results = await asyncio.gather(
            *(plan_or_demo(self.market, holding, settings, venues) for holding in request.holdings),
            return_exceptions=True,
        )
        plans: list[MarketPlan] = []
        notes: list[str] = []
        failures: list[str] = []
        for holding, result in zip(request.holdings, results, strict=True):
            if isinstance(result, PlanningError):
                failures.append(f"{holding.coin}: {result}")
            elif isinstance(result, BaseException):
                raise result
            else:
                plan, plan_notes = result
                plans.append(plan)
                notes += [note for note in plan_notes if note not in notes]
        if not plans:
            raise PlanningError("; ".join(failures))
        portfolio = summarise_portfolio([p.plan for p in plans]) if len(plans) > 1 else None
        return HedgeResult(
            plans=tuple(plans), notes=tuple(notes), failures=tuple(failures), portfolio=portfolio
        )

    async def payoff_chart(
        self, request: HedgeRequest, defaults: UserSettings
    ) -> tuple[bytes, MarketPlan]:
        """The payoff chart of a single-holding request, drawn off the event loop."""
        result = await self.hedge(request, defaults)
        market_plan = result.plans[0]
        curve = payoff_curve(market_plan.plan)
        return await asyncio.to_thread(payoff_png, curve), market_plan

    async def funding_chart(self, coin: str) -> tuple[bytes, datetime]:
        """The last 30 days of funding of `coin` per venue, drawn off the event loop."""
        history = await self.market.funding_history(coin)
        if not history:
            raise PlanningError(f"no funding history for {coin} from any venue right now")
        points = {
            venue: [(p.time, p.rate, p.interval_hours) for p in rows]
            for venue, rows in history.items()
        }
        as_of = self.market.now()
        return await asyncio.to_thread(funding_png, coin, funding_lines(points), as_of), as_of

    async def backtest(self, coin: str) -> tuple[BacktestReport, bytes, str]:
        """The bundled history of `coin` through every strategy, its picture, and its origin."""
        bundled = bundled_history_text(coin)
        if bundled is None:
            raise PlanningError(
                f"no bundled history for {coin}; there is one for {', '.join(BUNDLED_HISTORY)}"
            )
        text, origin = bundled

        def run() -> tuple[BacktestReport, bytes]:
            bars, _ = parse_history(text.splitlines(), Columns())
            report = run_backtest(coin, bars)
            return report, backtest_png(report)

        report, png = await asyncio.to_thread(run)
        return report, png, origin

    async def overview(self, coin: str, venues: Sequence[str] | None = None) -> Overview:
        """Funding and basis of `coin` on every venue that answers."""
        markets, notes = await markets_or_demo(self.market, coin, venues)
        if not markets.contracts:
            details = f" ({' '.join(notes)})" if notes else ""
            raise PlanningError(f"no inverse contract for {coin} right now{details}")
        return Overview(
            coin=coin,
            funding=funding_overview(markets.contracts, markets.as_of),
            basis=basis_overview(markets.contracts, markets.as_of),
            notes=notes,
            source=markets.source,
            as_of=markets.as_of,
        )

    async def overviews(self, coin: str | None) -> list[Overview]:
        """Overviews of one coin, or of whichever of BTC and ETH have contracts when none is given."""
        if coin is not None:
            return [await self.overview(coin)]
        results = await asyncio.gather(
            *(self.overview(c) for c in OVERVIEW_COINS), return_exceptions=True
        )
        found = [r for r in results if isinstance(r, Overview)]
        if not found:
            raise next(r for r in results if isinstance(r, BaseException))
        return found

    async def close(self) -> None:
        """Close the market connections and the database."""
        await self.market.close()
        await self.store.close()


class BotData:
    """PTB's bot_data, typed: the services, set in post_init."""

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        """The application's services; only available once post_init has run."""
        if self._services is None:
            raise RuntimeError("services are set up in post_init; the application has not started")
        return self._services

    def start(self, services: Services) -> None:
        """Install the services (post_init)."""
        self._services = services

    def stop(self) -> Services | None:
        """Remove and return the services (post_shutdown)."""
        services, self._services = self._services, None
        return services
