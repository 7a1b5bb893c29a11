"""The `hedgecore` command, run as a user runs it: in a subprocess."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

EXPECTED_LEG_KEYS = {
    "venue",
    "symbol",
    "contracts",
    "contract_size_usd",
    "notional_usd",
    "residual_usd",
    "margin_coin",
    "coins_kept",
    "liquidation_price",
    "liquidation_distance_pct",
    "funding_per_interval_coin",
    "funding_per_interval_usd",
    "funding_apr_pct",
    "locked_value_usd",
    "fee_usd",
}


def hedgecore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hedgecore", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_offline_plan_as_json() -> None:
    result = hedgecore("plan", "1.2", "BTC", "--price", "60000", "--contract-size", "1", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert {"coin", "quantity", "price", "hedge_ratio", "leverage", "notes", "legs"} <= plan.keys()
    assert (
        plan["coin"],
        plan["quantity"],
        plan["price"],
        plan["hedge_ratio"],
        plan["leverage"],
    ) == ("BTC", 1.2, 60000, 1, 1)
    (leg,) = plan["legs"]
    assert leg.keys() >= EXPECTED_LEG_KEYS
    # 72,000 USD, less room for the assumed 0.05 % opening fee: 72,000 / 1.0005 = 71,964.02
    assert leg["contracts"] == 71964
    assert leg["notional_usd"] == 71964
    assert leg["margin_coin"] == 1.1994
    assert leg["fee_usd"] == 35.982  # assumed 0.05 % taker fee, said in the notes
    assert leg["coins_to_move"] == 1.1999997  # margin and the 0.0005997 BTC fee
    assert leg["coins_kept"] == 0.0000003
    assert leg["liquidation_price"] is None
    assert any("Taker fee 0.0500% is an assumed figure" in note for note in plan["notes"])
    assert any("Funding unknown" in note for note in plan["notes"])
    assert [row["leverage"] for row in plan["leverage_table"]] == [1, 2, 3, 5, 10]


def test_offline_plan_with_funding_leverage_and_a_dated_future() -> None:
    expiry = (datetime.now(UTC) + timedelta(days=120)).date().isoformat()
    result = hedgecore(
        "plan",
        "1,2",
        "btc",
        "--venue",
        "binance",
        "--price",
        "60000",
        "--leverage",
        "3x",
        "--ratio",
        "100%",
        "--funding-rate",
        "0.01%",
        "--futures-price",
        "61500",
        "--expiry",
        expiry,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    perp, future = plan["legs"]
    assert perp["venue"] == "binancecoinm"
    assert perp["contract_size_usd"] == 100  # Binance's published BTC contract, said in the notes
    assert perp["contracts"] == 720
    assert perp["margin_coin"] == 0.4
    assert perp["liquidation_price"] == pytest.approx(
        60000 * 0.996 * 1.5
    )  # Binance level-1 MMR 0.4 %
    assert perp["funding_per_interval_usd"] == pytest.approx(7.2)
    assert perp["funding_apr_pct"] == pytest.approx(10.95)
    assert future["locked_value_usd"] == 73800
    assert future["funding_per_interval_usd"] is None
    assert any("Binance COIN-M's published figure" in note for note in plan["notes"])


def test_human_output_leads_with_the_answer() -> None:
    result = hedgecore(
        "plan",
        "1.2",
        "BTC",
        "--price",
        "60000",
        "--contract-size",
        "1",
        "--funding-rate",
        "-0.02%",
        "--leverage",
        "3",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Hedge 1.2 BTC (72,000.00 USD at 60,000.00 USD): 100% at 3x"
    assert (
        "Short       72,000 x 1.00 USD = 72,000.00 USD: sell 72,000 contracts of 1.00 USD"
        in result.stdout
    )
    assert "Liquidation 89,550.00 USD (+49.25%)" in result.stdout
    assert (
        "Funding     -0.0200% per 8h: you pay 14.40 USD per 8h, 43.20 USD a day, -21.90% a year"
        in result.stdout
    )
    assert "shorts pay longs, so this hedge pays 14.40 USD every 8h" in result.stdout
    assert "Leverage trade-off" in result.stdout


FUTURE = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["-1", "BTC", "--price", "60000"], "quantity must be more than zero"),
        (["0", "BTC", "--price", "60000"], "quantity must be more than zero"),
        (["nan", "BTC", "--price", "60000"], "quantity must be a plain number"),
        (["inf", "BTC", "--price", "60000"], "quantity must be a plain number"),
        (["1e400", "BTC", "--price", "60000"], "quantity must be a plain number"),
        (["1" * 50, "BTC", "--price", "60000"], "quantity must be a plain number"),
        (["1.2", "B$C", "--price", "60000"], "unknown coin"),
        (["1.2", "BTC", "--price", "-5"], "price must be more than zero"),
        (["1.2", "BTC", "--price", "1e400"], "price must be a plain number"),
        (
            ["1.2", "BTC", "--price", "60000", "--leverage", "0"],
            "leverage must be between 1x and 125x",
        ),
        (
            ["1.2", "BTC", "--price", "60000", "--leverage", "0.5x"],
            "leverage must be between 1x and 125x",
        ),
        (
            ["1.2", "BTC", "--price", "60000", "--leverage", "500"],
            "leverage must be between 1x and 125x",
        ),
        (
            ["1.2", "BTC", "--price", "60000", "--ratio", "3"],
            "hedge ratio must be above 0% and at most 200%",
        ),
        (
            ["1.2", "BTC", "--price", "60000", "--ratio", "-0.5"],
            "hedge ratio must be above 0% and at most 200%",
        ),
        (
            [
                "1.2",
                "BTC",
                "--price",
                "60000",
                "--futures-price",
                "61000",
                "--expiry",
                "2027-02-30",
            ],
            "date must be YYYY-MM-DD",
        ),
        (
            ["1.2", "BTC", "--price", "60000", "--futures-price", "61000", "--expiry", "March"],
            "date must be YYYY-MM-DD",
        ),
        (
            [
                "1.2",
                "BTC",
                "--price",
                "60000",
                "--futures-price",
                "61000",
                "--expiry",
                "2020-01-01",
            ],
            "is not in the future",
        ),
        (
            ["1.2", "BTC", "--price", "60000", "--futures-price", "61000"],
            "--futures-price and --expiry go together",
        ),
        (["1.2", "BTC", "--price", "60000", "--venue", "bitmex"], "unknown venue"),
        (["1.2", "BTC", "--contract-size", "100"], "needs --price"),
        (
            ["1.2", "BTC", "--price", "60000", "--funding-rate", "50%"],
            "funding rate must be within",
        ),
        (["1.2", "BTC", "--price", "60000", "--frobnicate"], "unrecognized arguments"),
        (["1.2"], "required"),
        (
            ["0.00000001", "BTC", "--price", "60000", "--contract-size", "100"],
            "less than half a contract",
        ),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(args: list[str], problem: str) -> None:
    result = hedgecore("plan", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("hedgecore: ")
    assert problem in line
    assert "Example: " in line


def test_future_expiry_is_accepted() -> None:
    result = hedgecore(
        "plan", "1.2", "BTC", "--price", "60000", "--futures-price", "61000", "--expiry", FUTURE
    )
    assert result.returncode == 0, result.stderr


def test_charts_from_the_command_line(tmp_path: Path) -> None:
    payoff = tmp_path / "payoff.png"
    result = hedgecore(
        "chart", "payoff", "1.2", "BTC", "--price", "60000", "--leverage", "3", "--out", str(payoff)
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == f"Wrote {payoff} (prices given on the command line, no market data)"
    )
    assert payoff.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    demo = Path(__file__).resolve().parents[1] / "data" / "bybit_2025-04-28_snapshot.json"
    funding = tmp_path / "funding.png"
    result = hedgecore("chart", "funding", "btc", "--snapshot", str(demo), "--out", str(funding))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Wrote {funding} (funding history to 2025-04-28 08:00 UTC)"
    assert funding.stat().st_size > 10_000
    missing = hedgecore(
        "chart", "payoff", "1.2", "BTC", "--price", "60000", "--out", str(tmp_path / "no" / "x.png")
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("hedgecore: cannot write ")


def test_deribit_liquidation_counts_the_size_of_the_position() -> None:
    # 1 % + 0.005 % per BTC (reference 2.3): 100 BTC short on 5x liquidates at 61,621.44, not
    # at the 61,875 a flat 1 % gives.
    result = hedgecore(
        *("plan", "100", "BTC", "--price", "50000", "--venue", "deribit", "--leverage", "5"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    (leg,) = plan["legs"]
    assert round(leg["liquidation_price"], 2) == 61621.44
    assert round(leg["maintenance_margin_rate"], 6) == 0.014057  # at the liquidation price
    assert any("1.00% + 0.00500% per BTC of position" in note for note in plan["notes"])


def test_risk_command(tmp_path: Path) -> None:
    snapshot = Path(__file__).parent.parent / "data" / "bybit_2025-04-28_snapshot.json"
    result = hedgecore("risk", "1.2", "BTC", "--snapshot", str(snapshot), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    (btc,) = answer["risk"]["holdings"]
    assert (btc["coin"], answer["risk"]["hedge_first"]) == ("BTC", ["BTC"])
    assert btc["risk_share_pct"] == pytest.approx(100)
    assert answer["risk"]["returns"] == 89
    table = hedgecore("risk", "1.2", "BTC", "--snapshot", str(snapshot))
    assert table.stdout.startswith(
        "Data: offline snapshot taken at 2025-04-28 08:00 UTC\nPortfolio "
    )
    odd = hedgecore("risk", "1.2", "BTC", "10")
    assert (odd.returncode, odd.stderr.strip()) == (
        2,
        "hedgecore: give each holding as a quantity and a coin. Example: hedgecore risk 1.2 BTC 10 ETH",
    )
