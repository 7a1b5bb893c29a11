"""Record and replay: a snapshot recorded from the venues plans exactly like the venues did."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hedgecore.answers import HedgeQuestion
from hedgecore.desk import DEMO_NOTE, Desk
from hedgecore.errors import NoMarketData
from hedgecore.market.ccxt_feed import CcxtFeed
from hedgecore.market.feeds import VENUE_IDS
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
    assert len(replayed_plan.plan.legs) == 13


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
    assert on_disk["venues"].keys() == set(VENUE_IDS) - {"deribit"}
    # Bitget's order step (in its market's info) is recorded, so a replayed plan sizes alike.
    (bitget_eth,) = on_disk["venues"]["bitget"]["markets"]
    assert bitget_eth["info"]["sizeMultiplier"] == "0.01"


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


async def test_the_demo_is_one_recorded_moment_on_four_venues() -> None:
    service = demo_market_service()
    try:
        btc = await plan_from_market(
            service, Holding(coin="BTC", quantity=D("1.2")), PlanSettings()
        )
        eth = await plan_from_market(
            service, Holding(coin="ETH", quantity=D("0.5")), PlanSettings()
        )
        history = await service.funding_history("BTC")
    finally:
        await service.close()
    assert btc.source is DataSource.DEMO
    assert btc.data_label == "Demo: market recorded on 2021-04-17 16:50 UTC, not live"
    assert {leg.venue for leg in btc.plan.legs} == {
        "bybit",
        "binancecoinm",
        "deribit",
        "krakenfutures",
    }
    assert {leg.venue for leg in eth.plan.legs} == {"binancecoinm", "deribit", "krakenfutures"}
    by_symbol = {(leg.venue, leg.symbol): leg for leg in btc.plan.legs}
    # Figures as recorded (shared/data/recorded_2021-04-17): best bids, Deribit's futures price
    # and index, and the funding Bybit and Binance settled at 16:00 UTC.
    assert by_symbol[("bybit", "BTC/USD:BTC")].entry_price == D("60616.5")
    assert by_symbol[("bybit", "BTC/USD:BTC")].funding_rate == D("0.00053233")
    assert by_symbol[("binancecoinm", "BTC/USD:BTC")].funding_rate == D("0.00051415")
    assert by_symbol[("binancecoinm", "BTC/USD:BTC-210924")].entry_price == D("68616.0")
    assert by_symbol[("krakenfutures", "BTC/USD:BTC-210924")].entry_price == D("68237.5")
    deribit = by_symbol[("deribit", "BTC/USD:BTC-210625")]
    assert (deribit.entry_price, deribit.index_price) == (D("64023.94"), D("60615.97"))
    # Planned as of the recording: the June quarterly is 69 days from expiry, not expired.
    assert 68 < deribit.days_to_expiry < 69  # type: ignore[operator]
    assert len(history["bybit"]) == 90  # 30 days of 8-hour settlements, Bybit's only


def test_the_bundled_demo_is_what_the_build_script_makes(tmp_path: Path) -> None:
    shared = Path(__file__).resolve().parents[4] / "shared" / "data"
    if not (shared / "recorded_2021-04-17").is_dir():
        pytest.skip(f"the recordings the demo is built from are not at {shared}")
    rebuilt = tmp_path / "demo.json"
    script = Path(__file__).resolve().parents[3] / "scripts" / "build_demo_snapshot.py"
    result = subprocess.run(
        [sys.executable, str(script), str(shared), str(rebuilt)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(rebuilt.read_text()) == json.loads(demo_snapshot_text())


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
    for venue in VENUE_IDS:
        replay.faults[venue] = Fault(status=503)
    offline = Desk(MarketService(replay_feeds(replay), clock=Clock()), demo=demo_market_service)
    try:
        # SOL is not in the demo: the failure is reported as it is.
        with pytest.raises(
            NoMarketData, match=r"no venue answered \(Bybit left out: it is unavailable"
        ):
            await offline.overview("SOL")
        # Every kind of question falls back the same way, labelled: overviews, plans, history.
        btc = await offline.overview("BTC")
        assert btc.source is DataSource.DEMO
        assert btc.notes == (DEMO_NOTE,)
        history = await offline.funding_history("BTC")
        assert (history.source, history.notes) == (DataSource.DEMO, (DEMO_NOTE,))
        assert [line.venue for line in history.lines] == ["bybit"]
        result = await offline.hedge(HedgeQuestion(holdings=(Holding(coin="ETH", quantity=D(1)),)))
        assert result.data_label == "Demo: market recorded on 2021-04-17 16:50 UTC, not live"
        assert result.notes == (DEMO_NOTE,)
    finally:
        await offline.close()
