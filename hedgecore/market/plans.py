"""Plans from market data: ask the market service, then the pure planner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hedgecore import fmt
from hedgecore.errors import PlanningError
from hedgecore.market.service import MarketService
from hedgecore.market.snapshot import demo_snapshot_text, snapshot_service
from hedgecore.models import DataSource, Frozen, HedgePlan, Holding, LeverageRow, PlanSettings
from hedgecore.planning import leverage_table, plan_hedge


class NoMarketData(PlanningError):
    """Every venue asked failed: there is no market data to plan with."""


class MarketPlan(Frozen):
    """A plan, its leverage table, where its data came from and what the market service noted."""

    plan: HedgePlan
    leverage_rows: tuple[LeverageRow, ...]
    market_notes: tuple[str, ...]
    source: DataSource
    as_of: datetime

    @property
    def data_label(self) -> str:
        """Whether the data is live or an offline snapshot, and from when."""
        if self.source is DataSource.SNAPSHOT:
            return f"offline snapshot taken at {fmt.utc(self.as_of)}"
        return f"live market data, {fmt.utc(self.as_of)}"


async def plan_from_market(
    service: MarketService,
    holding: Holding,
    settings: PlanSettings,
    venues: Sequence[str] | None = None,
) -> MarketPlan:
    """Plan the hedge of `holding` on every venue's inverse contracts (or only `venues`)."""
    markets = await service.coin_markets(holding.coin, venues)
    if not markets.contracts:
        details = " ".join(markets.notes)
        problem = (
            f"no inverse contract for {holding.coin} on {'that venue' if venues else 'any venue'}"
        )
        if len(markets.failed_venues) == len(venues or service.venues):
            raise NoMarketData(f"{problem}: no venue answered ({details})")
        raise PlanningError(problem + (f" ({details})" if details else ""))
    history = await service.funding_history(holding.coin)
    plan = plan_hedge(
        holding,
        markets.contracts,
        markets.as_of,
        settings,
        funding_history={
            venue: [point.rate for point in points] for venue, points in history.items()
        },
    )
    best = next(
        m
        for m in markets.contracts
        if (m.contract.venue, m.contract.symbol) == (plan.best.venue, plan.best.symbol)
    )
    return MarketPlan(
        plan=plan,
        leverage_rows=leverage_table(plan, best),
        market_notes=markets.notes,
        source=markets.source,
        as_of=markets.as_of,
    )


async def plan_or_demo(
    service: MarketService,
    holding: Holding,
    settings: PlanSettings,
    venues: Sequence[str] | None = None,
) -> tuple[MarketPlan, tuple[str, ...]]:
    """A plan from live data, or from the bundled demo snapshot when no venue answers.

    Returns the plan and the notes to show beside it.
    """
    try:
        market_plan = await plan_from_market(service, holding, settings, venues)
        return market_plan, market_plan.market_notes
    except NoMarketData as live_failure:
        if service.source is not DataSource.LIVE:
            raise
        demo = snapshot_service(demo_snapshot_text(), "the demo snapshot")
        try:
            market_plan = await plan_from_market(demo, holding, settings, venues)
        except PlanningError:
            raise live_failure from None
        finally:
            await demo.close()
        return market_plan, (
            f"Live data unavailable ({live_failure}); showing the bundled demo snapshot instead.",
        )
