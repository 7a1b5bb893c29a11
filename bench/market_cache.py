"""Benchmark of the market cache: exchange requests per 1,000 user requests, and warm plan latency.

Runs the real ccxt classes against the local exchange replay server (the one the tests use), so
it needs no network. Prints JSON lines. Usage: .venv/bin/python bench/market_cache.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hedgecore.market.plans import plan_from_market
from hedgecore.market.service import MarketService
from hedgecore.models import Holding, PlanSettings
from tests.hedgecore.market.conftest import REPLAY_TIME, replay_feeds
from tests.hedgecore.market.exchange_replay import ExchangeReplay

USERS = 1000
WARM_PLANS = 2000


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def main() -> None:
    replay = ExchangeReplay()
    await replay.start()
    settings = PlanSettings(leverage=Decimal(3))
    try:
        # One user, cold: the requests one plan needs.
        service = MarketService(replay_feeds(replay), clock=lambda: REPLAY_TIME)
        await plan_from_market(service, Holding(coin="BTC", quantity=Decimal("1.2")), settings)
        one_user = sum(replay.requests.values())
        await service.close()

        # A thousand users at once, BTC and ETH, through one fresh service.
        replay.requests.clear()
        service = MarketService(replay_feeds(replay), clock=lambda: REPLAY_TIME)
        holdings = [
            Holding(coin="BTC" if i % 2 else "ETH", quantity=Decimal("0.5") + i)
            for i in range(USERS)
        ]
        started = time.perf_counter()
        await asyncio.gather(*(plan_from_market(service, h, settings) for h in holdings))
        burst_s = time.perf_counter() - started
        thousand_users = sum(replay.requests.values())
        endpoints = len(replay.requests)
        emit(
            bench="market_cache.requests",
            users=USERS,
            exchange_requests_one_user_btc=one_user,
            exchange_requests_1000_users_btc_eth=thousand_users,
            distinct_endpoints=endpoints,
            requests_per_endpoint=round(thousand_users / endpoints, 3),
            burst_wall_s=round(burst_s, 3),
        )

        # Warm cache: plan latency on one core, CPU time per plan.
        holding = Holding(coin="BTC", quantity=Decimal("1.2"))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(WARM_PLANS):
            await plan_from_market(service, holding, settings)
        cpu_ms = (time.process_time() - cpu0) * 1000 / WARM_PLANS
        wall_ms = (time.perf_counter() - wall0) * 1000 / WARM_PLANS
        emit(
            bench="market_cache.warm_plan",
            plans=WARM_PLANS,
            legs_per_plan=10,
            cpu_ms_per_plan=round(cpu_ms, 3),
            wall_ms_per_plan=round(wall_ms, 3),
            exchange_requests_during=sum(replay.requests.values()) - thousand_users,
        )
        await service.close()
    finally:
        await replay.stop()


if __name__ == "__main__":
    asyncio.run(main())
