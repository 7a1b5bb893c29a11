"""The backtest on hand-checked histories, a real slice, a property, and malformed CSV rows."""

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hedgecore.market
from hedgecore.backtest import Bar, StrategyResult, run_backtest
from hedgecore.history import Columns, parse_history
from hedgecore.market.snapshot import BYBIT_BTC_HISTORY, bundled_history_text

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SLICE = Path(__file__).parent.parent / "data" / "bybit_btcusd_8h_2018-11_slice.csv"


def bars(
    prices: list[float], funding: list[float] | None = None, highs: list[float] | None = None
) -> list[Bar]:
    funding = funding or [0.0] * len(prices)
    highs = highs or prices
    return [
        Bar(time=T0 + timedelta(hours=8 * n), spot=p, perp=p, perp_high=h, funding_rate=r)
        for n, (p, r, h) in enumerate(zip(prices, funding, highs, strict=True))
    ]


def strategy(results: tuple[StrategyResult, ...], name: str) -> StrategyResult:
    return next(s for s in results if s.name == name)


def test_one_x_short_by_hand() -> None:
    # Short 100 USD at 100. At 80 funding of 0.1 % pays the short 0.1 USD = 0.00125 coin:
    # (1.00125 + 100 (1/80 - 1/100)) x 80 = 100.1; at 125: (1.00125 - 0.2) x 125 = 100.15625.
    report = run_backtest("BTC", bars([100, 80, 125], [0, 0.001, 0]), fee=0.0, leverages=(1.0,))
    short = strategy(report.strategies, "inverse perpetual short 1x")
    assert short.final_value_usd == pytest.approx(100.15625)
    assert short.funding_received_usd == pytest.approx(0.1)
    assert short.funding_received_coin == pytest.approx(0.00125)
    assert short.funding_paid_usd == short.funding_paid_coin == 0
    assert short.net_funding_per_coin == pytest.approx(0.00125)
    assert (short.settlements, short.settlements_paid) == (1, 0)
    # 0.1 % summed over the 16 hours the short was open, made yearly: 0.001 x 8,760 / 16.
    assert short.funding_apr_pct == pytest.approx(0.001 * 8760 / 16 * 100)
    assert (short.start_value_usd, short.hedge_ratio) == (100, 1)
    # Changes 0.1 and 0.05625 against -20 and +45: variance 0.000478515625 against 1056.25.
    assert short.effectiveness == pytest.approx(1 - 0.000478515625 / 1056.25)
    assert short.worst_drawdown_usd == 0
    unhedged = strategy(report.strategies, "unhedged")
    assert (unhedged.final_value_usd, unhedged.worst_drawdown_usd, unhedged.effectiveness) == (
        125,
        20,
        0,
    )


def test_rolling_minimum_variance_sizes_on_the_coins_after_booking_the_old_short() -> None:
    # Perpetual at spot, no fee, no funding: h* = 1 at every resize, so the value never moves.
    # Sizing before the old short's PnL is booked left a stray position: this ended at 0.
    report = run_backtest(
        "BTC", bars([100, 110, 200, 400]), fee=0.0, leverages=(), window=2, rebalance_every=2
    )
    rolling = strategy(report.strategies, "minimum-variance ratio, 2-bar window")
    assert rolling.hedge_ratio == pytest.approx(1)
    assert rolling.values_usd == pytest.approx((100, 100, 100, 100))


def test_the_funding_re_hedged_short_by_hand() -> None:
    # Short 100 USD at 100. At 80 the short receives 0.1 % = 0.1 USD = 0.00125 coin and is
    # resized to all 1.00125 + 100 (1/80 - 1/100) = 1.25125 coins: 100.1 USD short at 80.
    # At 125: 1.25125 + 100.1 (1/125 - 1/80) = 0.80081 coins, 100.10125 USD; the held short's
    # unhedged 0.00125 coin made it 100.15625.
    history = bars([100, 80, 125], [0, 0.001, 0])
    report = run_backtest("BTC", history, fee=0.0, leverages=(1.0,))
    rehedged = strategy(report.strategies, "1x short, funding re-hedged (1 resizes)")
    assert rehedged.values_usd == pytest.approx((100, 100.1, 100.1))
    assert rehedged.funding_received_coin == pytest.approx(0.00125)
    held = strategy(report.strategies, "inverse perpetual short 1x")
    assert held.final_value_usd == pytest.approx(100.15625)


def test_the_bundled_bybit_history_as_the_issue_measured_it() -> None:
    text = bundled_history_text(BYBIT_BTC_HISTORY)
    history, problems = parse_history(text.splitlines(), Columns())
    assert (len(history), problems) == (7068, [])
    report = run_backtest("BTC", history)
    figures = {s.name.split(" (")[0]: s for s in report.strategies}
    static = figures["inverse perpetual short 1x"]
    assert round(static.effectiveness * 100, 2) == 98.41
    assert static.start_value_usd == pytest.approx(5757.77, abs=0.01)  # 1 BTC less the fee
    assert figures["1x short, funding re-hedged"].effectiveness > 0.999
    assert figures["minimum-variance ratio, 90-bar window"].effectiveness > 0.9995
    assert 0 < static.settlements_paid < static.settlements == 7067
    assert "keeps it at 98.41% rather than 100%" in report.notes[0]
    assert report.min_variance_ratio == pytest.approx(0.974, abs=0.001)
    assert report.r_squared == pytest.approx(0.993, abs=0.001)
    # The perpetual at spot, no funding: h* is 1 and the rolling hedge must stay flat.
    flat = [Bar(b.time, b.spot, b.spot, b.spot) for b in history]
    rolling = strategy(
        run_backtest("BTC", flat).strategies, "minimum-variance ratio, 90-bar window"
    )
    assert rolling.effectiveness > 0.9999999
    assert rolling.fees_usd == pytest.approx(3.17, abs=0.01)
    assert rolling.final_value_usd == pytest.approx(5758.89, abs=0.01)


def test_a_liquidated_hedge_stays_liquidated() -> None:
    # 2x with MMR 0.5 %: liquidation at 100 x 0.995 x 2 = 199. The high of 210 hits it; the
    # 0.5 coin posted is lost and the other 0.5 rides unhedged: 105 USD at 210, 50 at 100.
    report = run_backtest(
        "BTC", bars([100, 150, 190, 100], highs=[100, 150, 210, 100]), fee=0.0, leverages=(2.0,)
    )
    short = strategy(report.strategies, "inverse perpetual short 2x")
    assert short.liquidations == 1
    assert short.liquidated_at == T0 + timedelta(hours=16)
    assert short.final_value_usd == pytest.approx(50)


def test_real_bybit_slice() -> None:
    with SLICE.open() as handle:
        history, problems = parse_history(handle, Columns())
    assert (len(history), problems) == (120, [])
    report = run_backtest("BTC", history, fee=0.0, leverages=(1.0,))
    short = strategy(report.strategies, "inverse perpetual short 1x")
    notional = history[0].perp  # 5,573 USD short for 1 BTC
    assert short.funding_received_usd == pytest.approx(
        sum(notional * b.funding_rate for b in history[1:] if b.funding_rate > 0)
    )
    assert short.funding_paid_usd == pytest.approx(
        -sum(notional * b.funding_rate for b in history[1:] if b.funding_rate < 0)
    )
    assert short.effectiveness > 0.9
    assert "Too few bars (120) for a 90-bar rolling hedge ratio." not in report.notes


@settings(max_examples=60, deadline=None)
@given(path=st.lists(st.floats(min_value=100, max_value=200_000), min_size=3, max_size=60))
def test_no_basis_and_no_funding_keeps_the_one_x_hedge_flat(path: list[float]) -> None:
    report = run_backtest("BTC", bars(path), quantity=2.0, fee=0.0, leverages=(1.0,))
    short = strategy(report.strategies, "inverse perpetual short 1x")
    assert short.final_value_usd == pytest.approx(2.0 * path[0], rel=1e-9)
    assert short.worst_drawdown_usd == pytest.approx(0, abs=1e-6 * path[0])


def test_malformed_rows_are_reported_with_their_line_numbers() -> None:
    text = [
        "Timestamp,Close_spot,Close_futures,High_futures,Funding Rate",
        "2025-01-01 00:00:00,100,100,101,0.0001",
        "2025-01-01 08:00:00,abc,100,101,0.0001",
        "2025-01-01 16:00:00,nan,100,101,0.0001",
        "2025-01-02 00:00:00,-5,100,101,0.0001",
        "2025-01-01 00:00:00,100,100,101,0.0001",
        "2025-01-02 08:00:00,102,102,103,",
        "not a date,102,102,103,0",
    ]
    history, problems = parse_history(text, Columns())
    assert [b.spot for b in history] == [100, 102]
    assert history[1].funding_rate == 0.0
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5", "line 6", "line 8"]
    assert "not after the row before" in problems[3]
    with pytest.raises(ValueError, match="no column Close_spot"):
        parse_history(["Timestamp,close", "2025-01-01,1"], Columns())


def test_the_command(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "hedgecore", "backtest", str(SLICE)]
    table = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith("Backtest: 1 BTC, 120 bars from 2018-11-15 to 2018-12-25")
    report = json.loads(
        subprocess.run(
            [*command, "--json"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    )
    assert [s["name"] for s in report["strategies"]][:2] == [
        "unhedged",
        "inverse perpetual short 1x",
    ]
    deribit = tmp_path / "deribit.csv"
    with deribit.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time_dt", "timestamp", "index_price", "interest_1h"])
        for n in range(5):
            writer.writerow(
                [f"2019-05-01 0{n}:00:00", 1556668800000 + n * 3600000, 5200 + n, 0.00001]
            )
    columns = [
        "--time-col",
        "timestamp",
        "--spot-col",
        "index_price",
        "--perp-col",
        "",
        "--high-col",
        "",
        "--funding-col",
        "interest_1h",
    ]
    assert (
        subprocess.run(
            [*command[:-1], str(deribit), *columns],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).returncode
        == 0
    )
    bad = subprocess.run(
        [*command[:-1], str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("hedgecore: cannot read ")


def test_the_plot(tmp_path: Path) -> None:
    plot = tmp_path / "paths.png"
    result = subprocess.run(
        [sys.executable, "-m", "hedgecore", "backtest", str(SLICE), "--plot", str(plot)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Value paths drawn to {plot}." in result.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_first_three_real_bars_by_hand() -> None:
    with SLICE.open() as handle:
        history, _ = parse_history(handle, Columns())
    report = run_backtest("BTC", history[:3], fee=0.0, leverages=(1.0,))
    short = strategy(report.strategies, "inverse perpetual short 1x")
    # Short 5,573 USD at the first perpetual close, 5,573.0 (its funding, charged at that bar, is before us).
    # Bar 2: +0.01 % funding = 0.5573 USD = 0.0001021 BTC at 5,456.5; short PnL 5,573 (1/5,456.5 - 1/5,573)
    # = 0.0213507 BTC; (1.0001021 + 0.0213507) x spot 5,675.12 = 5,796.867 USD.
    # Bar 3: another 0.5573 USD at 5,579.0; PnL 5,573 (1/5,579 - 1/5,573) = -0.0010755 BTC;
    # (1.0002020 - 0.0010755) x 5,753.4 = 5,748.375 USD.
    # Bar 1 is just the coin at spot: 5,760.94 USD.
    assert short.values_usd == pytest.approx((5760.94, 5796.867315, 5748.374785))
    assert short.funding_received_usd == pytest.approx(1.1146)


def test_rolling_quarterly_shorts_lock_the_futures_price_and_roll() -> None:
    # Quarter A (expires at bar 2, where the future meets spot at 80), then quarter B.
    spots, futures = [100.0, 90.0, 80.0, 85.0, 120.0], [102.0, 91.0, 80.0, 87.0, 121.0]
    quarter_a, quarter_b = T0 + timedelta(days=2), T0 + timedelta(days=92)
    history = [
        Bar(
            time=T0 + timedelta(days=n),
            spot=s,
            perp=s,
            perp_high=s,
            dated=f,
            dated_expiry=quarter_a if n < 3 else quarter_b,
        )
        for n, (s, f) in enumerate(zip(spots, futures, strict=True))
    ]
    report = run_backtest("BTC", history, fee=0.0, leverages=(1.0,))
    rolling = strategy(report.strategies, "rolling quarterly short (1 rolls)")
    # Short 102 USD at 102: at expiry (1 + 102 (1/80 - 1/102)) x 80 = 102 = Q x F0, whatever spot did.
    assert rolling.values_usd[2] == pytest.approx(102.0)
    # Rolled: 1.275 coins short 1.275 x 87 = 110.925 USD at 87; at bar 4 (1.275 + 110.925 (1/121 - 1/87)) x 120.
    assert rolling.values_usd[3] == pytest.approx(1.275 * 85)
    assert rolling.values_usd[4] == pytest.approx((1.275 + 110.925 * (1 / 121 - 1 / 87)) * 120)
    assert "rolling quarterly shorts are not compared" not in " ".join(report.notes)


def test_dated_columns_are_read() -> None:
    text = [
        "Timestamp,Close_spot,Quarter,Expiry",
        "2025-01-01,100,102,2025-03-28",
        "2025-01-02,101,103,2025-03-28",
    ]
    history, problems = parse_history(
        text,
        Columns(perp=None, perp_high=None, funding=None, dated="Quarter", dated_expiry="Expiry"),
    )
    assert problems == []
    assert [(b.dated, b.dated_expiry) for b in history] == [
        (102.0, datetime(2025, 3, 28, tzinfo=UTC))
    ] * 1 + [(103.0, datetime(2025, 3, 28, tzinfo=UTC))]


def test_the_command_reads_a_quarterly_and_its_expiry(tmp_path: Path) -> None:
    history = tmp_path / "quarterly.csv"
    history.write_text(
        "Timestamp,Close_spot,Quarter,Expiry\n"
        "2025-01-01,100,102,2025-01-03\n"
        "2025-01-02,90,91,2025-01-03\n"
        "2025-01-03,80,80,2025-01-03\n"
        "2025-01-04,85,87,2025-04-04\n"
    )
    command = [sys.executable, "-m", "hedgecore", "backtest", str(history), "--perp-col", ""]
    command += ["--high-col", "", "--funding-col", "", "--dated-col", "Quarter"]
    result = subprocess.run(
        [*command, "--expiry-col", "Expiry", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = [s["name"] for s in json.loads(result.stdout)["strategies"]]
    assert "rolling quarterly short (1 rolls)" in names
    alone = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert alone.returncode == 2
    assert alone.stderr.strip() == (
        "hedgecore: --dated-col and --expiry-col go together. "
        "Example: --dated-col Close_quarterly --expiry-col Expiry"
    )
    usage = subprocess.run(
        [sys.executable, "-m", "hedgecore", "backtest", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--dated-col" in usage.stdout
    assert "--expiry-col" in usage.stdout


def test_the_command_reads_the_bundled_history_gzipped() -> None:
    bundled = Path(hedgecore.market.__file__).parent / BYBIT_BTC_HISTORY.file
    result = subprocess.run(
        [sys.executable, "-m", "hedgecore", "backtest", str(bundled), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bars"] == 7068
