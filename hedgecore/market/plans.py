"""Plans from market data: ask the market service, then the pure planner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from hedgecore import fmt
from hedgecore.crosshedge import align_closes, best_proxy
from hedgecore.errors import PlanningError
from hedgecore.market.service import CoinMarkets, MarketService
from hedgecore.market.snapshot import demo_snapshot_text, snapshot_service
from hedgecore.models import (
    CrossHedgeFit,
    DataSource,
    Frozen,
    HedgePlan,
    Holding,
    LeverageRow,
    MarketContract,
    PlanSettings,
)
from hedgecore.planning import leverage_table, plan_hedge
from hedgecore.venues import venue_name

CROSS_HEDGE_PROXIES = ("BTC", "ETH")
CROSS_HEDGE_DAYS = 90


class NoMarketData(PlanningError):
    """Every venue asked failed: there is no market data to plan with."""


class MarketPlan(Frozen):
    """A plan, its leverage table, where its data came from and what the market service noted."""

    plan: HedgePlan
    best_market: MarketContract  # the contract of the plan's best leg, for the leverage table
    market_notes: tuple[str, ...]
    source: DataSource
    as_of: datetime

    def leverage_rows(self) -> tuple[LeverageRow, ...]:
        """The leverage trade-off table on the best leg (computed when asked: most replies skip it)."""
        return leverage_table(self.plan, self.best_market)

    @property
    def data_label(self) -> str:
        """Whether the data is live or an offline snapshot, and from when."""
        if self.source is DataSource.SNAPSHOT:
            return f"offline snapshot taken at {fmt.utc(self.as_of)}"
        return f"live market data, {fmt.utc(self.as_of)}"


async def _fit_cross_hedge(
    service: MarketService, coin: str, problem: str
) -> tuple[CrossHedgeFit, Decimal, str]:
    """The best proxy for `coin` from daily returns, the coin's latest price, and a note on both."""
    spot = await service.spot_daily_closes(coin, CROSS_HEDGE_DAYS)
    if spot is None:
        raise PlanningError(f"{problem}, and no {coin}/USDT price history to cross-hedge it")
    series = {coin: spot.closes}
    for proxy in CROSS_HEDGE_PROXIES:
        history = await service.daily_closes(proxy, CROSS_HEDGE_DAYS)
        if history is not None:
            series[proxy] = history.closes
    aligned = align_closes(series)
    fit = best_proxy(coin, aligned.pop(coin), aligned)
    moment, price = spot.closes[-1]
    note = (
        f"{coin} has no inverse contract: cross-hedged with {fit.proxy_coin}, fitted on "
        f"{fit.observations} daily returns; {coin} priced at {fmt.price(price)} from "
        f"{venue_name(spot.venue)} {spot.market} (daily close of {fmt.utc(moment)}, USDT taken as USD)."
    )
    return fit, price, note


async def plan_from_market(
    service: MarketService,
    holding: Holding,
    settings: PlanSettings,
    venues: Sequence[str] | None = None,
) -> MarketPlan:
    """Plan the hedge of `holding` on every venue's inverse contracts (or only `venues`).

    A coin without an inverse contract is cross-hedged with the proxy (BTC or ETH) whose daily
    returns explain most of its own.
    """
    markets = await service.coin_markets(holding.coin, venues)
    cross_hedge: CrossHedgeFit | None = None
    holding_price: Decimal | None = None
    notes: tuple[str, ...] = ()
    if not markets.contracts:
        where = "that venue" if venues else "any venue"
        problem = f"no inverse contract for {holding.coin} on {where}"
        details = " ".join(markets.notes)
        if len(markets.failed_venues) == len(venues or service.venues):
            raise NoMarketData(f"{problem}: no venue answered ({details})")
        if holding.coin in CROSS_HEDGE_PROXIES:
            raise PlanningError(problem + (f" ({details})" if details else ""))
        cross_hedge, holding_price, note = await _fit_cross_hedge(service, holding.coin, problem)
        notes = (note,)
        markets = await service.coin_markets(cross_hedge.proxy_coin, venues)
        if not markets.contracts:
            raise PlanningError(
                f"{problem}, nor for {cross_hedge.proxy_coin} to cross-hedge it with"
            )
    history = await service.funding_history(markets.coin)
    plan = plan_hedge(
        holding,
        markets.contracts,
        markets.as_of,
        settings,
        cross_hedge=cross_hedge,
        holding_price=holding_price,
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
        best_market=best,
        market_notes=notes + markets.notes,
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


async def markets_or_demo(
    service: MarketService, coin: str, venues: Sequence[str] | None = None
) -> tuple[CoinMarkets, tuple[str, ...]]:
    """A coin's contracts from live data, or from the demo snapshot when no venue answers."""
    markets = await service.coin_markets(coin, venues)
    everyone_failed = len(markets.failed_venues) == len(venues or service.venues)
    if markets.contracts or not everyone_failed or service.source is not DataSource.LIVE:
        return markets, markets.notes
    demo = snapshot_service(demo_snapshot_text(), "the demo snapshot")
    try:
        fallback = await demo.coin_markets(coin, venues)
    finally:
        await demo.close()
    if not fallback.contracts:
        return markets, markets.notes
    why = " ".join(markets.notes)
    return fallback, (f"Live data unavailable ({why}); showing the bundled demo snapshot instead.",)
