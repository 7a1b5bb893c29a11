"""`hedgecore plan` on market data and `hedgecore snapshot record`, against the replay server."""

import gc
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hedgecore import cli
from hedgecore.desk import DEMO_NOTE
from hedgecore.market.ccxt_feed import make_exchange
from hedgecore.market.feeds import VENUE_IDS

from .exchange_replay import ExchangeReplay, Fault, ThreadedReplay, point_at


@pytest.fixture
def venues(monkeypatch: pytest.MonkeyPatch) -> Iterator[ExchangeReplay]:
    """Every exchange the CLI creates talks to the replay server instead of the internet."""
    with ThreadedReplay() as replay:

        def replayed_exchange(venue: str, timeout_s: float) -> Any:
            exchange = make_exchange(venue, min(timeout_s, 2.0))
            point_at(exchange, replay.venue_url(venue))
            return exchange

        monkeypatch.setattr("hedgecore.market.ccxt_feed.make_exchange", replayed_exchange)
        yield replay


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    # An earlier test's unclosed HTTP session may be collected now and complain on stderr;
    # collect it first and drop what it printed, so that only the command's output is read.
    gc.collect()
    capsys.readouterr()
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_plan_from_live_venues(venues: ExchangeReplay, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "plan", "1.2", "BTC", "--json")
    assert status == 0, err
    plan = json.loads(out)
    assert plan["data"].startswith("live market data, ")
    assert {leg["venue"] for leg in plan["legs"]} == set(VENUE_IDS)
    # Live means today's clock: the replayed June 2025 quarterlies have expired and are left out.
    assert {leg["kind"] for leg in plan["legs"]} == {"perpetual"}
    # Every leg can be traced to its venue and time.
    assert all(leg["quote_time"] and leg["data_source"] == "live" for leg in plan["legs"])
    # The replayed quotes carry 2025 timestamps, and the plan says how old they are.
    assert any(
        note.startswith("Prices from ") and " d old (2025-04-28" in note for note in plan["notes"]
    )


def test_plan_on_bitget_live_orders_coins(
    venues: ExchangeReplay, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "plan", "1.2", "BTC", "--venue", "bitget", "--json")
    assert status == 0, err
    (leg,) = json.loads(out)["legs"]  # its quarterly has expired by today's clock
    assert (leg["venue"], leg["venue_symbol"]) == ("bitget", "BTCUSD")
    assert (leg["order_amount"], leg["order_amount_unit"], leg["order_step_coin"]) == (
        1.199,
        "coin",
        0.001,
    )
    assert leg["funding_interval_hours"] == 8
    assert leg["funding_interval_from_venue"]


def test_plan_on_one_venue_with_a_failing_other(
    venues: ExchangeReplay, capsys: pytest.CaptureFixture[str]
) -> None:
    venues.faults["bybit"] = Fault(status=503)
    status, out, err = run(capsys, "plan", "0.5", "eth", "--venue", "okx")
    assert status == 0, err
    assert "Best: OKX ETH/USD:ETH (perpetual)" in out
    status, out, err = run(capsys, "plan", "0.5", "eth", "--venue", "bybit")
    assert status == 2
    assert (
        err.strip()
        == "hedgecore: no inverse contract for ETH on that venue: no venue answered (Bybit left out: it is unavailable.). Example: hedgecore plan 1.2 BTC --price 60000 --contract-size 1"
    )


def test_no_venue_reachable_falls_back_to_the_demo_snapshot(
    venues: ExchangeReplay, capsys: pytest.CaptureFixture[str]
) -> None:
    for venue in VENUE_IDS:
        venues.faults[venue] = Fault(status=503)
    status, out, err = run(capsys, "plan", "1", "BTC")
    assert status == 0, err
    assert out.splitlines()[1] == "Demo: market recorded on 2021-04-17 16:50 UTC, not live"
    assert DEMO_NOTE in out


def test_record_then_plan_from_the_file_in_a_subprocess(
    venues: ExchangeReplay, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "market.json"
    status, out, err = run(capsys, "snapshot", "record", str(path), "--coins", "btc,ETH")
    assert status == 0, err
    assert out.startswith(
        "Recorded Bybit, Binance COIN-M, OKX, Deribit, Kraken Futures, Bitget, BingX into "
    )
    asked = sum(venues.requests.values())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hedgecore",
            "plan",
            "1.2",
            "BTC",
            "--snapshot",
            str(path),
            "--leverage",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sum(venues.requests.values()) == asked
    assert result.stdout.splitlines()[1].startswith("Data: offline snapshot taken at ")
    assert "come from an offline snapshot" in result.stdout


def test_recording_with_every_venue_down_fails_cleanly(
    venues: ExchangeReplay, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for venue in VENUE_IDS:
        venues.faults[venue] = Fault(status=503)
    status, _, err = run(capsys, "snapshot", "record", str(tmp_path / "x.json"))
    assert status == 1
    assert err.startswith("hedgecore: no venue could be recorded: Bybit is unavailable;")
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["plan", "1", "BTC", "--snapshot", "/nonexistent/snap.json"], "cannot read snapshot"),
        (["snapshot", "record"], "required: FILE"),
        (["snapshot", "record", "x.json", "--coins", "B$C"], "unknown coin"),
    ],
)
def test_bad_snapshot_use(
    args: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, *args)
    assert status in (1, 2)
    assert out == ""
    (line,) = err.splitlines()
    assert problem in line


OFFLINE_PLAN = """
import sys
import hedgecore.market.ccxt_feed as feeds
from hedgecore import cli
from tests.hedgecore.market.exchange_replay import point_at

made = feeds.make_exchange


def refused(venue, timeout_s):
    exchange = made(venue, timeout_s)
    point_at(exchange, "http://127.0.0.1:{port}/" + venue)  # nobody listens: refused at once
    return exchange


feeds.make_exchange = refused
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_with_no_venue_answering_stderr_is_quiet_unless_verbose(verbose: bool) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_PLAN.format(port=port), "plan", "1", "BTC"]
        + (["--verbose"] if verbose else []),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert DEMO_NOTE in result.stdout
    lines = result.stderr.splitlines()
    if verbose:
        assert any("bybit markets failed" in line for line in lines)
    else:
        assert lines == []
