"""The market service against the real ccxt classes talking to a local exchange replay server."""

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from hedgecore.errors import NoMarketData, PlanningError
from hedgecore.market.feeds import VENUE_IDS
from hedgecore.market.plans import plan_from_market
from hedgecore.market.service import MarketService, _funding_points
from hedgecore.models import (
    ContractKind,
    FundingQuote,
    Holding,
    MarketContract,
    PlanSettings,
    TierUnit,
)

from .conftest import Clock, ServiceFactory
from .exchange_replay import ExchangeReplay, Fault

JUN27 = datetime(2025, 6, 27, 8, tzinfo=UTC)


def by_key(contracts: tuple[MarketContract, ...]) -> dict[tuple[str, str], MarketContract]:
    return {(m.contract.venue, m.contract.symbol): m for m in contracts}


async def test_discovers_every_inverse_contract_on_every_venue(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    btc = await make_service().coin_markets("BTC")
    assert btc.notes == ()
    assert replay.unknown == []
    found = by_key(btc.contracts)
    expected = {
        ("bybit", "BTC/USD:BTC"): D(1),
        ("bybit", "BTC/USD:BTC-250627"): D(1),
        ("binancecoinm", "BTC/USD:BTC"): D(100),
        ("binancecoinm", "BTC/USD:BTC-250627"): D(100),
        ("okx", "BTC/USD:BTC"): D(100),
        ("okx", "BTC/USD:BTC-250627"): D(100),
        ("deribit", "BTC/USD:BTC"): D(10),
        ("deribit", "BTC/USD:BTC-250627"): D(10),
        ("krakenfutures", "BTC/USD:BTC"): D(1),
        ("krakenfutures", "BTC/USD:BTC-250627"): D(1),
        # Bitget's orders are in steps of 0.001 BTC: each worth that much at the bid.
        ("bitget", "BTC/USD:BTC"): D("0.001") * D("93716.5"),
        ("bitget", "BTC/USD:BTC-250627"): D("0.001") * D("94599.5"),
        ("bingx", "BTC/USD:BTC"): D(100),  # its minTickSize
    }
    assert {key: m.contract.contract_size_usd for key, m in found.items()} == expected
    for (venue, symbol), market in found.items():
        dated = symbol.endswith("-250627")
        assert market.contract.kind is (ContractKind.DATED if dated else ContractKind.PERPETUAL)
        # Bitget states a quarter's end as the second before 08:00.
        expiry = JUN27 - timedelta(seconds=1) if venue == "bitget" else JUN27
        assert market.contract.expiry == (expiry if dated else None)
        assert market.contract.coin == "BTC"
        assert (market.funding is None) == dated
    assert found[("deribit", "BTC/USD:BTC")].contract.order_amount_unit == "usd"
    assert found[("okx", "BTC/USD:BTC")].contract.order_amount_unit == "contracts"
    assert found[("bitget", "BTC/USD:BTC")].contract.order_amount_unit == "coin"
    assert found[("bitget", "BTC/USD:BTC")].contract.order_step_coin == D("0.001")
    # Deribit's margin grows with the position (1 % + 0.005 % per BTC); nobody else's does.
    per_coin = {key: m.contract.margin_rate_per_coin for key, m in found.items()}
    assert per_coin.pop(("deribit", "BTC/USD:BTC")) == D("0.00005")
    assert per_coin.pop(("deribit", "BTC/USD:BTC-250627")) == D("0.00005")
    assert set(per_coin.values()) == {0}


async def test_quotes_take_mark_index_bid_and_ask_from_where_each_venue_has_them(
    make_service: ServiceFactory,
) -> None:
    found = by_key((await make_service().coin_markets("BTC")).contracts)
    prices = {
        key: (m.quote.mark_price, m.quote.index_price, m.quote.bid, m.quote.ask)
        for key, m in found.items()
    }
    assert prices[("bybit", "BTC/USD:BTC")] == (
        D("93722.4"),
        D("93741.6"),
        D("93722.0"),
        D("93722.5"),
    )
    # Binance: mark and index from premiumIndex, bid and ask from the book ticker.
    assert prices[("binancecoinm", "BTC/USD:BTC")] == (
        D("93716.8"),
        D("93744.1"),
        D("93716.7"),
        D("93716.8"),
    )
    assert prices[("binancecoinm", "BTC/USD:BTC-250627")] == (
        D("95050.2"),
        D("93744.1"),
        D("95050.1"),
        D("95050.3"),
    )
    # OKX: mark from the mark-price endpoint, index from index tickers.
    assert prices[("okx", "BTC/USD:BTC")] == (
        D("93719.6"),
        D("93743.2"),
        D("93719.8"),
        D("93719.9"),
    )
    # Deribit: its estimated delivery price is the index.
    assert prices[("deribit", "BTC/USD:BTC")] == (
        D("93725.13"),
        D("93742.02"),
        D("93725.0"),
        D("93725.5"),
    )
    assert prices[("krakenfutures", "BTC/USD:BTC")] == (
        D("93728.0"),
        D("93741.6"),
        D("93727.5"),
        D("93728.5"),
    )
    for market in found.values():
        assert market.quote.timestamp <= datetime(2025, 4, 28, 8, 0, 2, tzinfo=UTC)
        assert market.quote.venue == market.contract.venue


async def test_funding_is_normalised_per_venue(make_service: ServiceFactory) -> None:
    found = by_key((await make_service().coin_markets("BTC")).contracts)

    def funding_on(venue: str) -> FundingQuote:
        funding = found[(venue, "BTC/USD:BTC")].funding
        assert funding is not None
        return funding

    bybit, binance, okx, deribit, kraken = (
        funding_on(v) for v in ("bybit", "binancecoinm", "okx", "deribit", "krakenfutures")
    )
    next_funding = datetime(2025, 4, 28, 16, tzinfo=UTC)
    assert (bybit.rate, bybit.interval_hours, bybit.next_funding_time) == (
        D("0.00006498"),
        D(8),
        next_funding,
    )
    assert (binance.rate, binance.interval_hours, binance.next_funding_time) == (
        D("0.00003875"),
        D(8),
        next_funding,
    )
    assert (okx.rate, okx.interval_hours, okx.next_funding_time) == (
        D("0.00008021"),
        D(8),
        next_funding,
    )
    assert (deribit.rate, deribit.interval_hours, deribit.realised) == (D("0.00004002"), D(8), True)
    assert not any(f.realised for f in (bybit, binance, okx, kraken))
    # Kraken inverse: absolute amount x price = 0.0008 % per hour, not ccxt's absolute / price.
    assert kraken.interval_hours == 1
    assert kraken.rate == pytest.approx(D("0.000008"), rel=D("1e-9"))
    assert kraken.predicted_rate == pytest.approx(D("0.0000065"), rel=D("1e-9"))
    # Bitget's interval and next time come from its funding endpoint, the rate from its tickers;
    # BingX's coin-M premium index gives no interval, so its usual 8 hours is assumed.
    bitget, bingx = funding_on("bitget"), funding_on("bingx")
    assert (bitget.rate, bitget.interval_hours, bitget.interval_from_venue) == (
        D("0.00003"),
        D(8),
        True,
    )
    assert (bingx.rate, bingx.interval_hours, bingx.interval_from_venue) == (
        D("0.00002"),
        D(8),
        False,
    )
    assert bitget.next_funding_time == bingx.next_funding_time == next_funding


async def test_linear_contracts_and_other_coins_stay_out(make_service: ServiceFactory) -> None:
    service = make_service()
    eth = await service.coin_markets("ETH")
    assert {m.contract.venue for m in eth.contracts} == {
        "bybit",
        "binancecoinm",
        "okx",
        "deribit",
        "krakenfutures",
        "bitget",
        "bingx",
    }
    assert all(
        m.contract.coin == "ETH" and m.contract.symbol == "ETH/USD:ETH" for m in eth.contracts
    )
    eth_sizes = {m.contract.venue: m.contract.contract_size_usd for m in eth.contracts}
    assert eth_sizes == {
        "bybit": 1,
        "binancecoinm": 10,
        "okx": 10,
        "deribit": 1,
        "krakenfutures": 1,
        "bitget": D("0.01") * D("1790.01"),  # a step of 0.01 ETH at the bid
        "bingx": 10,
    }
    assert (await service.coin_markets("DOGE")).contracts == ()
    everywhere = ("binancecoinm", "bingx", "bitget", "bybit", "deribit", "krakenfutures", "okx")
    assert await service.coins() == {"BTC": everywhere, "ETH": everywhere}


async def test_margin_tiers_from_bybit_okx_and_kraken(
    make_service: ServiceFactory,
) -> None:
    found = by_key((await make_service().coin_markets("BTC")).contracts)
    bybit = found[("bybit", "BTC/USD:BTC")].contract
    assert [
        (t.max_size, t.maintenance_margin_rate, t.maintenance_deduction_coin)
        for t in bybit.margin_tiers
    ] == [(D(150), D("0.005"), D(0)), (D(300), D("0.01"), D("0.75"))]
    assert bybit.maintenance_margin_rate == D("0.005")
    kraken = found[("krakenfutures", "BTC/USD:BTC")].contract
    assert [
        (t.max_size, t.maintenance_margin_rate, t.max_leverage) for t in kraken.margin_tiers
    ] == [
        (D(500000), D("0.01"), D(50)),
        (D(1000000), D("0.02"), D(25)),
        (D(75000000), D("0.03"), D(1) / D("0.06")),
    ]
    # OKX's tiers are in contracts of 100 USD; its isolated tier 1 sets the base rate.
    okx = found[("okx", "BTC/USD:BTC")].contract
    assert [
        (t.max_size, t.size_unit, t.maintenance_margin_rate, t.max_leverage)
        for t in okx.margin_tiers
    ] == [
        (D(200000), TierUnit.USD, D("0.004"), D(125)),
        (D(500000), TierUnit.USD, D("0.006"), D(100)),
    ]
    assert okx.maintenance_margin_rate == D("0.004")
    assert found[("binancecoinm", "BTC/USD:BTC")].contract.margin_tiers == ()


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(delay=1.0), "timed out"),
        (Fault(status=429), "is rate-limiting us"),
        (Fault(status=503), "is unavailable"),
        (Fault(garbage=True), ""),
    ],
    ids=["timeout", "429", "503", "garbage"],
)
@pytest.mark.parametrize("venue", ["bybit", "okx", "krakenfutures"])
async def test_a_failing_venue_drops_out_with_a_note(
    make_service: ServiceFactory, replay: ExchangeReplay, venue: str, fault: Fault, reason: str
) -> None:
    replay.faults[venue] = fault
    btc = await make_service(timeout_s=0.5).coin_markets("BTC")
    venues = {m.contract.venue for m in btc.contracts}
    assert venues == set(VENUE_IDS) - {venue}
    (note,) = btc.notes
    assert note.startswith(
        {"bybit": "Bybit", "okx": "OKX", "krakenfutures": "Kraken Futures"}[venue]
        + " left out: it "
    )
    assert reason in note
    assert "\n" not in note


async def test_stale_quotes_are_served_with_their_age_while_the_venue_fails(
    make_service: ServiceFactory, replay: ExchangeReplay, clock: Clock
) -> None:
    service = make_service()
    await service.coin_markets("BTC")
    replay.faults["bybit"] = Fault(status=503)
    clock.now += 120
    first = await service.coin_markets("BTC")  # stale answer now, refresh in the background
    assert any(m.contract.venue == "bybit" for m in first.contracts)
    await service.cache.settled()
    second = await service.coin_markets("BTC")
    assert "Bybit: prices and funding are 2 min old (not live: is unavailable)." in second.notes
    bybit = by_key(second.contracts)[("bybit", "BTC/USD:BTC")]
    # Bybit's tickers carry no time of their own: the quote is dated when it was fetched, 2 min ago.
    assert bybit.quote.timestamp == datetime(2025, 4, 28, 8, 0, 2, tzinfo=UTC)


async def test_breaker_stops_asking_a_venue_that_keeps_failing(
    make_service: ServiceFactory, replay: ExchangeReplay, clock: Clock
) -> None:
    replay.faults["okx"] = Fault(status=503)
    service = make_service()
    for _ in range(3):
        await service.coin_markets("BTC")
    asked = replay.count("okx")
    note = (await service.coin_markets("BTC")).notes[0]
    assert replay.count("okx") == asked
    assert note.startswith(
        "OKX left out: it paused after 3 failures (is unavailable); retrying in 15 s"
    )
    replay.faults.clear()
    clock.now += 16
    assert any(m.contract.venue == "okx" for m in (await service.coin_markets("BTC")).contracts)


async def test_a_hundred_concurrent_asks_make_one_request_per_endpoint(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    def endpoints() -> Counter[tuple[str, str]]:
        # Deribit's funding query names the last 8 hours by the clock: ignore the times.
        return Counter(
            {
                (venue, re.sub(r"timestamp=\d+", "timestamp=T", path)): n
                for (venue, path), n in replay.requests.items()
            }
        )

    holding, settings = Holding(coin="BTC", quantity=D("1.2")), PlanSettings()
    await plan_from_market(make_service(), holding, settings)
    one_user = endpoints()
    replay.requests.clear()
    service = make_service()
    plans = await asyncio.gather(
        *(plan_from_market(service, holding, settings) for _ in range(100))
    )
    assert all(len(p.plan.legs) == 13 for p in plans)
    assert endpoints() == one_user
    assert set(one_user.values()) == {1}  # one request per venue, endpoint and query


async def test_exchange_sessions_are_closed(make_service: ServiceFactory) -> None:
    service = make_service()
    await service.coin_markets("BTC")
    await service.close()
    for venue in service.venues:
        feed = service._venues[venue].feed
        session = feed.exchange.session  # type: ignore[attr-defined]
        assert session is None or session.closed


async def test_funding_history_and_daily_closes(make_service: ServiceFactory) -> None:
    service = make_service()
    history = await service.funding_history("BTC")
    assert set(history) >= {"bybit", "okx", "binancecoinm"}
    bybit = history["bybit"]
    assert [p.rate for p in bybit][-2:] == [D("0.00006498"), D("0.0001")]
    assert bybit == sorted(bybit, key=lambda p: p.time)
    closes = await service.daily_closes("BTC", days=30)
    assert closes is not None
    assert closes.venue == "bybit"
    assert len(closes.closes) == 30  # the days asked for, from 91 replayed
    assert closes.closes[-1] == (datetime(2025, 4, 28, tzinfo=UTC), D("93741.6"))


async def test_coin_without_inverse_contract_is_cross_hedged_from_spot_history(
    make_service: ServiceFactory,
) -> None:
    service = make_service()
    result = await plan_from_market(service, Holding(coin="SOL", quantity=D(500)), PlanSettings())
    plan = result.plan
    fit = plan.cross_hedge
    assert fit is not None
    assert (fit.coin, fit.proxy_coin, fit.observations) == ("SOL", "BTC", 89)
    # The replayed SOL moves 1.4x BTC's daily returns, plus noise.
    assert D("1.2") < fit.beta < D("1.6")
    assert D("0.5") < fit.r_squared < D(1)
    assert plan.leverage == 2
    assert {leg.margin_currency for leg in plan.legs} == {"BTC"}
    note = result.market_notes[0]
    assert note.startswith(
        "SOL has no inverse contract: cross-hedged with BTC, fitted on 89 daily returns; SOL priced "
        "at "
    )
    assert "from Bybit SOL/USDT spot" in note
    sol_price = plan.spot_price
    assert plan.best.target_notional_usd == fit.beta * 500 * sol_price * 2


async def test_coin_with_no_contract_and_no_spot_history_is_refused(
    make_service: ServiceFactory,
) -> None:
    with pytest.raises(
        PlanningError,
        match="no inverse contract for PEPE on any venue, and no PEPE/USDT price history",
    ):
        await plan_from_market(make_service(), Holding(coin="PEPE", quantity=D(1)), PlanSettings())


async def test_funding_intervals_are_each_venues_own(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    # ETH's perpetual settles every 4 hours in the replay: Bybit says so in its instrument's
    # fundingInterval (minutes), OKX by funding times 4 hours apart, Binance COIN-M by listing
    # it in fundingInfo (which names only contracts off the usual 8 hours).
    eth = by_key((await make_service().coin_markets("ETH")).contracts)
    btc = by_key((await make_service().coin_markets("BTC")).contracts)
    for venue in ("bybit", "binancecoinm", "okx"):
        eth_funding = eth[(venue, "ETH/USD:ETH")].funding
        btc_funding = btc[(venue, "BTC/USD:BTC")].funding
        assert eth_funding is not None
        assert btc_funding is not None
        assert (eth_funding.interval_hours, eth_funding.interval_from_venue) == (D(4), True), venue
        assert (btc_funding.interval_hours, btc_funding.interval_from_venue) == (D(8), True), venue
    assert replay.count("binancecoinm", "/dapi/v1/fundingInfo") == 2


async def test_an_interval_the_venue_would_not_give_is_assumed_and_said(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    replay.faults["binancecoinm"] = Fault(status=503, path="/dapi/v1/fundingInfo")
    eth = by_key((await make_service().coin_markets("ETH")).contracts)
    funding = eth[("binancecoinm", "ETH/USD:ETH")].funding
    assert funding is not None  # the quote still comes: only the interval is missing
    assert (funding.interval_hours, funding.interval_from_venue) == (D(8), False)


def test_a_funding_history_whose_interval_changes_keeps_each_settlements_own() -> None:
    # Binance and Bybit move a contract to 1 h after a capped settlement, OKX steps 8 -> 4 -> 1 h:
    # a settlement covers the time since the one before.
    start = datetime(2026, 4, 1, tzinfo=UTC)
    hours_after = (0, 8, 12, 13, 14)
    rows = [
        {"timestamp": int((start.timestamp() + h * 3600) * 1000), "fundingRate": 0.0001}
        for h in hours_after
    ]
    points = _funding_points("okx", rows)
    assert [p.interval_hours for p in points] == [8, 8, 4, 1, 1]
    assert [p.time.hour for p in points] == list(hours_after)


async def test_volume_and_open_interest_in_usd_from_each_venues_own_unit(
    make_service: ServiceFactory,
) -> None:
    found = by_key((await make_service().coin_markets("BTC")).contracts)
    liquidity = {
        venue: (m.quote.volume_24h_usd, m.quote.open_interest_usd)
        for (venue, symbol), m in found.items()
        if symbol == "BTC/USD:BTC"
    }
    assert liquidity == {
        # Bybit counts 1 USD contracts; OKX's vol24h counts 100 USD contracts and its open
        # interest endpoint gives USD; Deribit gives USD; Kraken counts 1 USD contracts; Binance
        # COIN-M's 24-hour ticker counts 100 USD contracts (its open interest: not asked).
        "bybit": (D(155080122), D(580264343)),
        "okx": (D(222200), D(6502100)),
        "deribit": (D(288131320), D(1072340570)),
        "krakenfutures": (D(1000000), D(30000000)),
        "binancecoinm": (D(241231000), None),  # 2,412,310 contracts of 100 USD
        # Bitget counts coins (baseVolume 1,450.2 BTC, holdingAmount 820.5 BTC) at the mark;
        # BingX's volume counts 100 USD contracts and it publishes no open interest in bulk.
        "bitget": (D("1450.2") * D("93716.9"), D("820.5") * D("93716.9")),
        "bingx": (D(5200000), None),
    }


async def test_a_missing_volume_or_open_interest_leaves_the_prices_standing(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    replay.faults["binancecoinm"] = Fault(status=503, path="/dapi/v1/ticker/24hr")
    replay.faults["okx"] = Fault(status=503, path="/api/v5/public/open-interest")
    found = by_key((await make_service().coin_markets("BTC")).contracts)
    binance = found[("binancecoinm", "BTC/USD:BTC")].quote
    assert (binance.bid, binance.volume_24h_usd) == (D("93716.7"), None)
    okx = found[("okx", "BTC/USD:BTC")].quote
    assert (okx.volume_24h_usd, okx.open_interest_usd) == (D(222200), None)


async def test_a_contract_asked_of_a_venue_that_fails_is_refused_in_one_line(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    replay.faults["bybit"] = Fault(status=503)
    with pytest.raises(
        NoMarketData, match=r"^Bybit cannot be asked about 'BTCUSD' right now: it is unavailable$"
    ):
        await make_service().contract_named("bybit", "BTCUSD")


def lookups(service: MarketService) -> int:
    stats = service.cache.stats
    return stats.hits + stats.stale_hits + stats.misses


async def test_a_question_asked_again_is_answered_from_what_it_worked_out_while_the_data_stands(
    make_service: ServiceFactory, replay: ExchangeReplay, clock: Clock
) -> None:
    service = make_service()
    await service.coin_markets("BTC")
    await service.funding_history("BTC")  # loaded: now each is worked out from cached values
    first = await service.coin_markets("BTC")
    history = await service.funding_history("BTC")
    asked, requests = lookups(service), sum(replay.requests.values())
    clock.now += 5
    again = await service.coin_markets("BTC")
    assert lookups(service) == asked  # not one cached value read again
    assert again.contracts == first.contracts
    assert again.notes == first.notes
    assert again.as_of == first.as_of + timedelta(seconds=5)  # its time is the question's own
    assert await service.funding_history("BTC") == history
    assert lookups(service) == asked

    clock.now += 11  # 16 s: the quotes are past their 15 s
    stale = await service.coin_markets("BTC")
    assert lookups(service) > asked
    assert any("16 s old" in note for note in stale.notes)
    await service.cache.settled()
    fresh = await service.coin_markets("BTC")
    assert sum(replay.requests.values()) > requests
    assert not any(" old " in note for note in fresh.notes)


async def test_an_answer_a_venue_failed_is_not_kept(
    make_service: ServiceFactory, replay: ExchangeReplay
) -> None:
    replay.faults["okx"] = Fault(status=503)
    service = make_service()
    assert "okx" in (await service.coin_markets("BTC")).failed_venues
    replay.faults.clear()
    assert any(m.contract.venue == "okx" for m in (await service.coin_markets("BTC")).contracts)


async def test_a_dated_contract_leaves_the_answer_it_was_kept_in_when_it_expires(
    make_service: ServiceFactory, clock: Clock
) -> None:
    clock.now = JUN27.timestamp() - 5
    service = make_service()
    await service.coin_markets("BTC")  # loaded
    before = await service.coin_markets("BTC")  # kept: every value it read is fresh
    assert any(m.contract.expiry == JUN27 for m in before.contracts)
    clock.now += 10  # the quotes are 10 s old, still fresh; the June future has expired
    after = await service.coin_markets("BTC")
    assert not any(m.contract.expiry == JUN27 for m in after.contracts)
    assert len(after.contracts) < len(before.contracts)
