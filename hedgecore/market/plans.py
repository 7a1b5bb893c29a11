"""Plans from market data: ask the market service, then the pure planner."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hedgecore import fmt
from hedgecore.answers import MarketPlan
from hedgecore.crosshedge import best_proxy_from_closes
from hedgecore.errors import NoMarketData, PlanningError
from hedgecore.market.service import MarketService
from hedgecore.models import CrossHedgeFit, Holding, PlanSettings
from hedgecore.planning import plan_hedge
from hedgecore.venues import venue_name

CROSS_HEDGE_PROXIES = ("BTC", "ETH")
CROSS_HEDGE_DAYS = 90
# More than the open interest of every coin-margined contract together (a few billion USD a
# coin): a holding this large is a typing slip, and no venue could take its hedge.
MAX_HOLDING_USD = Decimal(10) ** 10


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
    fit = best_proxy_from_closes(coin, series)
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
    try:
        history = await service.funding_history(markets.coin)
    except NoMarketData:
        history = {}  # the plan stands on today's quotes; past funding only informs its notes
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
    if plan.value_usd > MAX_HOLDING_USD:
        raise PlanningError(
            f"{holding.quantity.normalize():f} {holding.coin} is {fmt.usd(plan.value_usd)}, more than "
            f"every inverse contract could hedge ({fmt.usd(MAX_HOLDING_USD)} at most): check the quantity"
        )
    return MarketPlan.of(
        plan, markets.contracts, notes + markets.notes, markets.source, markets.as_of
    )
