"""One deadline per reply across its venue requests, and a breaker per endpoint (issue 12, 9).

A venue that hangs must cost a reply at most the reply's deadline, not one request timeout after
another; one failing endpoint must be left alone without its venue's other endpoints.
"""

from decimal import Decimal as D

from hedgecore.answers import HedgeQuestion
from hedgecore.desk import DEMO_NOTE, Desk
from hedgecore.market.deadline import reply_deadline
from hedgecore.market.feeds import VENUE_IDS
from hedgecore.market.plans import plan_from_market
from hedgecore.market.snapshot import demo_market_service
from hedgecore.models import DataSource, Holding, PlanSettings

from .conftest import Clock, ServiceFactory
from .exchange_replay import ExchangeReplay, Fault

BTC = Holding(coin="BTC", quantity=D("1.2"))
EVERY_VENUE = set(VENUE_IDS)
OKX_TIERS = "/api/v5/public/position-tiers"
FOREVER = Fault(delay=3600)  # released when the replay server stops


async def test_a_venue_that_never_answers_costs_a_reply_its_deadline_not_its_timeouts(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    replay.faults["okx"] = FOREVER
    service = make_service(timeout_s=30.0)
    # Long enough for the six healthy venues on a loaded machine, far short of the timeout.
    with reply_deadline(2.0):
        answer = await plan_from_market(service, BTC, PlanSettings())
    assert "OKX left out: it did not answer within 2 s." in answer.market_notes
    assert {leg.venue for leg in answer.plan.legs} == EVERY_VENUE - {"okx"}
    # Its first request is still out: the reply did not wait for any request's own timeout.
    assert service.request_counts()["okx"] == (0, 0)


async def test_the_next_reply_does_not_wait_for_a_venue_still_answering_an_earlier_one(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    replay.faults["okx"] = FOREVER
    service = make_service(timeout_s=30.0)
    with reply_deadline(2.0):
        await service.coin_markets("BTC")
    with reply_deadline(20.0):  # waiting for OKX would take the request's 30 s timeout
        second = await service.coin_markets("BTC")
    assert second.notes == ("OKX left out: it is still answering an earlier request.",)
    assert {m.contract.venue for m in second.contracts} == EVERY_VENUE - {"okx"}


async def test_a_spent_deadline_still_serves_what_is_cached(
    make_service: ServiceFactory, replay: ExchangeReplay, clock: Clock
) -> None:
    service = make_service()
    await service.coin_markets("BTC")
    replay.faults["okx"] = FOREVER
    clock.now += 20  # quotes are stale now: served at once while a refresh hangs
    with reply_deadline(0.0):
        answer = await service.coin_markets("BTC")
    assert {m.contract.venue for m in answer.contracts} == EVERY_VENUE
    assert "OKX: prices and funding are 20 s old (not live, refreshing)." in answer.notes


async def test_one_failing_endpoint_is_paused_while_its_venue_keeps_answering(
    make_service: ServiceFactory, replay: ExchangeReplay, clock: Clock
) -> None:
    replay.faults["okx"] = Fault(status=503, path=OKX_TIERS)
    service = make_service()
    for _ in range(4):
        clock.now += 10  # quotes go stale after 15 s and are refreshed: OKX answers them
        await service.coin_markets("BTC")
        await service.cache.settled()
    assert replay.count("okx", OKX_TIERS) == 3  # paused after three failures
    assert replay.count("okx", "/api/v5/market/tickers") >= 2
    assert service.venue_health()["okx"] == (False, "tiers paused: is unavailable")
    assert service.venue_health()["bybit"] == (True, "")


async def test_the_desk_falls_back_to_the_demo_within_the_deadline_when_no_venue_answers(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    for venue in EVERY_VENUE:
        replay.faults[venue] = FOREVER
    desk = Desk(make_service(timeout_s=30.0), demo=demo_market_service, reply_deadline_s=0.3)
    try:
        result = await desk.hedge(HedgeQuestion(holdings=(BTC,), settings=PlanSettings()))
    finally:
        await desk.close()
    assert result.notes == (DEMO_NOTE,)
    assert result.source is DataSource.DEMO
    assert result.plans[0].plan.legs
    # The live venues' requests are still out: the reply waited for its deadline, not them.
    assert all(counts == (0, 0) for counts in desk.market.request_counts().values())
