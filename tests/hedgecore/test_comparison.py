"""Venues side by side: by hand on a small table, and on the bundled 2023-2024 table."""

import json
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from hedgecore.alerts import hysteresis
from hedgecore.backtest import Bar
from hedgecore.comparison import compare_venues, replay_spread_alert
from hedgecore.history import VenueHistory
from hedgecore.market.snapshot import VENUES_HISTORY, bundled_history_text, bundled_venue_histories

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def history(venue: str, rates: list[float], prices: list[float] | None = None) -> VenueHistory:
    times = [T0 + timedelta(hours=8 * n) for n in range(len(rates))]
    prices = prices or [100.0 + n for n in range(len(rates))]
    bars = tuple(
        Bar(time, price, price, price, rate)
        for time, price, rate in zip(times, prices, rates, strict=True)
    )
    return VenueHistory(venue, "BTC", bars, tuple(zip(times, rates, strict=True)))


def independent_spread_count(histories: list[VenueHistory], threshold: float) -> int:
    """Fires when the gap between the dearest and cheapest venue first exceeds the threshold,
    re-arms once it is back below the threshold less the hysteresis; the first cycle is quiet."""
    by_time: dict[datetime, list[float]] = {}
    for h in histories:
        for time, rate in h.settlements:
            by_time.setdefault(time, []).append(rate)
    rearm_below = threshold - float(hysteresis(D(str(threshold))))
    fired, armed, first = 0, True, True
    for time in sorted(by_time):
        spread = max(by_time[time]) - min(by_time[time])
        if first:
            armed, first = spread <= rearm_below, False
            continue
        if armed and spread > threshold:
            fired, armed = fired + 1, False
        elif not armed and spread <= rearm_below:
            armed = True
    return fired


def test_spread_alert_replay_by_hand() -> None:
    # Spreads per cycle: 0, 0.03 %, 0.025 % (still above: quiet), 0.01 % (re-arms), 0.05 %.
    a = history("bybit", [0.0001, 0.0004, 0.00035, 0.0002, 0.0006])
    b = history("okx", [0.0001, 0.0001, 0.0001, 0.0001, 0.0001])
    replay = replay_spread_alert("BTC", [a, b], D("0.0002"))
    assert replay.cycles == 5
    assert replay.fired_at == (T0 + timedelta(hours=8), T0 + timedelta(hours=32))
    assert len(replay.fired_at) == independent_spread_count([a, b], 0.0002)


def test_correlation_and_rows_by_hand() -> None:
    a = history("bybit", [0.0001, 0.0002, 0.0003, -0.0001])
    b = history("okx", [0.0002, 0.0001, 0.0004, 0.0])
    comparison = compare_venues({("bybit", "BTC"): a, ("okx", "BTC"): b}, D("0.0002"))
    (correlation,) = comparison.correlations
    expected = statistics.correlation(
        [0.0001, 0.0002, 0.0003, -0.0001], [0.0002, 0.0001, 0.0004, 0.0]
    )
    assert correlation.correlation == pytest.approx(expected)
    assert (correlation.venues, correlation.settlements) == (("bybit", "okx"), 4)
    bybit = next(row for row in comparison.rows if row.venue == "bybit")
    # The held short is open from the first bar: three settlements, one paid.
    assert (bybit.settlements, bybit.settlements_paid) == (3, 1)


def test_the_bundled_table_replays_as_an_independent_count() -> None:
    histories = bundled_venue_histories()
    comparison = compare_venues(histories, D("0.0002"))
    for spread in comparison.spreads:
        same_coin = [h for (_, coin), h in sorted(histories.items()) if coin == spread.coin]
        assert len(spread.fired_at) == independent_spread_count(same_coin, 0.0002)
        assert spread.cycles == 1642
    assert {(r.venue, r.coin) for r in comparison.rows} == set(histories)
    for row in comparison.rows:
        assert row.effectiveness > 0.99
        assert row.rehedged_effectiveness > 0.999  # re-hedging the funding coins: > 99.9 %
        assert 0 < row.settlements_paid < row.settlements


def test_the_command_compares_the_venues_and_backtests_one(tmp_path: Path) -> None:
    table = tmp_path / "coinm.csv"
    table.write_text(bundled_history_text(VENUES_HISTORY))
    command = [sys.executable, "-m", "hedgecore", "backtest", str(table)]
    compared = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, timeout=120, check=False
    )
    assert compared.returncode == 0, compared.stderr
    figures = json.loads(compared.stdout)
    assert len(figures["rows"]) == 6
    assert [s["coin"] for s in figures["spreads"]] == ["BTC", "ETH"]
    text = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    assert "/alert BTC spread 0.02% would have fired" in text
    assert "Correlation of funding rates at the same funding times:" in text
    one = subprocess.run(
        [*command, "--venue", "okx", "--coin", "ETH"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("Backtest: 1 ETH, 1,642 bars from 2023-01-01 to 2024-07-01")
    assert "Times in UTC: the table's London labels were converted" in one.stdout
    missing = subprocess.run(
        [*command, "--venue", "deribit"], capture_output=True, text=True, timeout=120, check=False
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"hedgecore: {table} has no BTC on Deribit; it has BTC on")
