"""Record and replay: a snapshot recorded from the venues plans exactly like the venues did."""

import json
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hedgecore.answers import HedgeQuestion
from hedgecore.desk import Desk
from hedgecore.errors import NoMarketData
from hedgecore.market.feeds import CcxtFeed
from hedgecore.market.plans import plan_from_market
from hedgecore.market.service import MarketService
from hedgecore.market.snapshot import (
    SnapshotError,
    demo_market_service,
    demo_snapshot_text,
    load_snapshot_file,
    record_snapshot,
    snapshot_service,
    write_snapshot,
)
from hedgecore.models import DataSource, Holding, PlanSettings

from .conftest import REPLAY_TIME, Clock, replay_feeds
from .exchange_replay import ExchangeReplay, Fault

RECORDED_AT = datetime.fromtimestamp(REPLAY_TIME, tz=UTC)


async def record_to(
    path: Path, feeds: list[CcxtFeed], coins: set[str] | None = None
) -> dict[str, Any]:
    try:
        snapshot = await record_snapshot(feeds, RECORDED_AT, coins)
    finally:
        for feed in feeds:
            await feed.close()
    write_snapshot(snapshot, path)
    return snapshot


async def test_round_trip_plans_the_same(replay: ExchangeReplay, tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    await record_to(path, replay_feeds(replay))
    live = MarketService(replay_feeds(replay), clock=Clock())
    replayed = load_snapshot_file(path)
    settings = PlanSettings(leverage=D(3))
    try:
        live_plan = await plan_from_market(live, Holding(coin="BTC", quantity=D("1.2")), settings)
        requests_before = sum(replay.requests.values())
        replayed_plan = await plan_from_market(
            replayed, Holding(coin="BTC", quantity=D("1.2")), settings
        )
        assert sum(replay.requests.values()) == requests_before  # the replay never asks a venue
    finally:
        await live.close()
        await replayed.close()
    assert replayed_plan.source is DataSource.SNAPSHOT
    assert replayed_plan.data_label == "offline snapshot taken at 2025-04-28 08:00 UTC"
    strip = {"data_source", "data_age_seconds", "quote_time"}
    assert [leg.model_dump(exclude=strip) for leg in replayed_plan.plan.legs] == [
        leg.model_dump(exclude=strip) for leg in live_plan.plan.legs
    ]
    assert replayed_plan.leverage_rows() == live_plan.leverage_rows()
    assert len(replayed_plan.plan.legs) == 10


async def test_snapshot_format_and_failed_venues(replay: ExchangeReplay, tmp_path: Path) -> None:
    replay.faults["deribit"] = Fault(status=503)
    snapshot = await record_to(tmp_path / "snap.json", replay_feeds(replay), coins={"ETH"})
    assert snapshot["taken_at"] == "2025-04-28T08:00:02+00:00"
    assert snapshot["failed"] == {"deribit": "is unavailable"}
    bybit = snapshot["venues"]["bybit"]
    assert set(bybit) == {
        "spot_ohlcv",
        "markets",
        "tickers",
        "funding_rates",
        "leverage_tiers",
        "funding_history",
        "ohlcv",
    }
    assert [m["symbol"] for m in bybit["markets"]] == ["ETH/USD:ETH"]
    assert set(bybit["tickers"]) == {"ETH/USD:ETH"}
    assert bybit["funding_rates"]["ETH/USD:ETH"]["fundingRate"] == -2.113e-05
    on_disk = json.loads((tmp_path / "snap.json").read_text())
    assert on_disk["venues"].keys() == {"bybit", "binancecoinm", "okx", "krakenfutures"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "is not a hedgecore snapshot"),
        ('{"venues": {}}', "is not a hedgecore snapshot"),
        ('{"taken_at": "2025-04-28T08:00:00", "venues": {"bybit": {}}}', "no time zone"),
        ('{"taken_at": "2025-04-28T08:00:00+00:00", "venues": {}}', "has no venues"),
    ],
)
def test_bad_snapshots_are_refused_clearly(text: str, problem: str) -> None:
    with pytest.raises(SnapshotError, match=problem):
        snapshot_service(text, "x.json")


def test_missing_snapshot_file(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="cannot read snapshot"):
        load_snapshot_file(tmp_path / "missing.json")


async def test_demo_snapshot_is_the_bybit_recording() -> None:
    service = snapshot_service(demo_snapshot_text(), "demo")
    try:
        result = await plan_from_market(service, Holding(coin="BTC", quantity=D(1)), PlanSettings())
        history = await service.funding_history("BTC")
        closes = await service.daily_closes("BTC")
    finally:
        await service.close()
    leg = result.plan.best
    # Last bar of the recording, 2025-04-28 00:00-08:00 UTC: perpetual 93,722.4, spot 93,741.6.
    assert (leg.venue, leg.entry_price, leg.index_price) == ("bybit", D("93722.4"), D("93741.6"))
    assert leg.funding_rate == D("0.00006498")
    assert result.data_label == "offline snapshot taken at 2025-04-28 08:00 UTC"
    assert len(history["bybit"]) == 89
    assert closes is not None
    assert len(closes.closes) == 90
    assert closes.closes[-1] == (datetime(2025, 4, 28, tzinfo=UTC), D("93722.4"))


async def test_the_desk_falls_back_to_the_demo_only_when_no_venue_answers(
    replay: ExchangeReplay,
) -> None:
    desk = Desk(MarketService(replay_feeds(replay), clock=Clock()), demo=demo_market_service)
    try:
        live = await desk.overview("ETH")
        assert {row.venue for row in live.funding} >= {"bybit", "okx"}
        assert (live.source, live.notes) == (DataSource.LIVE, ())
    finally:
        await desk.close()
    for venue in ("bybit", "binancecoinm", "okx", "deribit", "krakenfutures"):
        replay.faults[venue] = Fault(status=503)
    offline = Desk(MarketService(replay_feeds(replay), clock=Clock()), demo=demo_market_service)
    try:
        # ETH is not in the demo: the failure is reported as it is.
        with pytest.raises(
            NoMarketData, match=r"no venue answered \(Bybit left out: it is unavailable"
        ):
            await offline.overview("ETH")
        # Every kind of question falls back the same way, labelled: overviews, plans, history.
        btc = await offline.overview("BTC")
        assert btc.source is DataSource.SNAPSHOT
        assert btc.notes[0].startswith("Live data unavailable (no inverse contract for BTC")
        assert btc.notes[0].endswith("; showing the bundled demo snapshot instead.")
        history = await offline.funding_history("BTC")
        assert (history.source, history.notes[0][:22]) == (
            DataSource.SNAPSHOT,
            "Live data unavailable ",
        )
        assert [line.venue for line in history.lines] == ["bybit"]
        result = await offline.hedge(HedgeQuestion(holdings=(Holding(coin="BTC", quantity=D(1)),)))
        assert result.data_label == "offline snapshot taken at 2025-04-28 08:00 UTC"
        assert result.notes[0].startswith("Live data unavailable (no inverse contract for BTC")
    finally:
        await offline.close()
