"""The exchange replay server and market services wired to it through the real ccxt classes."""

from collections.abc import AsyncIterator, Callable

import pytest

from hedgecore.market.ccxt_feed import CcxtFeed, make_exchange
from hedgecore.market.feeds import VENUE_IDS
from hedgecore.market.service import MarketService

from .exchange_replay import T_MS, ExchangeReplay, point_at

REPLAY_TIME = T_MS / 1000 + 2  # two seconds after the recorded moment
ServiceFactory = Callable[..., MarketService]


class Clock:
    """A settable clock for the service: epoch seconds."""

    def __init__(self, now: float = REPLAY_TIME) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def replay_feeds(replay: ExchangeReplay, timeout_s: float = 2.0) -> list[CcxtFeed]:
    feeds = []
    for venue in VENUE_IDS:
        exchange = make_exchange(venue, timeout_s)
        point_at(exchange, replay.venue_url(venue))
        feeds.append(CcxtFeed(venue, exchange))
    return feeds


@pytest.fixture
async def replay() -> AsyncIterator[ExchangeReplay]:
    server = ExchangeReplay()
    await server.start()
    yield server
    await server.stop()
    assert not server.unknown, f"requests with no replayed response: {server.unknown}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def make_service(replay: ExchangeReplay, clock: Clock) -> AsyncIterator[ServiceFactory]:
    services: list[MarketService] = []

    def make(timeout_s: float = 2.0) -> MarketService:
        service = MarketService(replay_feeds(replay, timeout_s), clock=clock, timeout_s=timeout_s)
        services.append(service)
        return service

    yield make
    for service in services:
        await service.close()
