"""The long table of three venues: London labels, bars dated at their close, funding per bar."""

import itertools
from datetime import UTC, datetime, timedelta

from hedgecore.history import is_venue_table, parse_venue_histories
from hedgecore.market.snapshot import VENUES_HISTORY, bundled_history_text

HEADER = "time,exchange,crypto,pair,contract,open,high,low,close,volume,funding rate"


def row(label: str, exchange: str, contract: str, close: float, funding: str = "") -> str:
    pair = "BTC/USDT" if contract == "spot" else "BTCUSDCM"
    high = close + 5
    return f"{label},{exchange},bitcoin,{pair},{contract},{close},{high},{close - 5},{close},1,{funding}"


def test_summer_labels_are_london_time_and_bars_close_when_each_venue_closes_them() -> None:
    # 2023-06-01 01:00 London is 00:00 UTC. Binance's bar opens at the label and closes 8 h
    # later; Bybit's was merged from the 4-hour candles either side of it and closes 4 h later.
    text = [HEADER]
    for label, price, rate in (
        ("2023-06-01 01:00:00", 100.0, "0.0001"),
        ("2023-06-01 09:00:00", 110.0, "0.0002"),
        ("2023-06-01 17:00:00", 120.0, "-0.0003"),
    ):
        for exchange in ("binance", "bybit"):
            text += [
                row(label, exchange, "spot", price),
                row(label, exchange, "perpetual", price, rate),
            ]
    histories, problems = parse_venue_histories(text)
    assert problems == []
    binance, bybit = histories[("binancecoinm", "BTC")], histories[("bybit", "BTC")]
    midnight = datetime(2023, 6, 1, tzinfo=UTC)
    assert [t for t, _ in binance.settlements] == [
        midnight + timedelta(hours=h) for h in (0, 8, 16)
    ]
    assert [b.time for b in binance.bars] == [midnight + timedelta(hours=h) for h in (8, 16, 24)]
    assert [b.time for b in bybit.bars] == [midnight + timedelta(hours=h) for h in (4, 12, 20)]
    # Each bar carries the funding settled while it was open: Binance's bar 08:00-16:00 holds
    # the 16:00 settlement (the next label's rate); Bybit's bar 04:00-12:00 holds 08:00's.
    assert [b.funding_rate for b in binance.bars] == [0.0002, -0.0003, 0.0]
    assert [b.funding_rate for b in bybit.bars] == [0.0001, 0.0002, -0.0003]
    assert [b.perp_high for b in bybit.bars] == [105, 115, 125]


def test_the_bundled_table_every_series_and_its_quirks() -> None:
    lines = bundled_history_text(VENUES_HISTORY).splitlines()
    assert is_venue_table(lines[0].split(","))
    histories, problems = parse_venue_histories(lines)
    assert problems == []
    assert sorted(histories) == [
        (venue, coin) for venue in ("binancecoinm", "bybit", "okx") for coin in ("BTC", "ETH")
    ]
    for history in histories.values():
        assert len(history.bars) == len(history.settlements) == 1642
        # Across both summer-time changes of 2023 and 2024, the UTC bars are 8 hours apart.
        gaps = {b.time - a.time for a, b in itertools.pairwise(history.bars)}
        assert gaps == {timedelta(hours=8)}
        assert {t.hour for t, _ in history.settlements} == {0, 8, 16}
    # The October label that happens twice, 2023-10-29 01:00, is the summer one: 00:00 UTC.
    okx = dict(histories[("okx", "BTC")].settlements)
    assert datetime(2023, 10, 29, 0, tzinfo=UTC) in okx
    assert datetime(2023, 10, 29, 8, tzinfo=UTC) in okx
    # The first row as recorded: Binance BTCUSD_PERP settled -0.001609 % at 2023-01-01 00:00 UTC.
    first_time, first_rate = histories[("binancecoinm", "BTC")].settlements[0]
    assert (first_time, first_rate) == (datetime(2023, 1, 1, tzinfo=UTC), -1.609e-05)


def test_rows_it_cannot_use_are_named_with_their_line() -> None:
    text = [
        HEADER,
        row("2023-01-01 00:00:00", "binance", "spot", 100.0),
        row("2023-01-01 00:00:00", "kraken", "spot", 100.0),
        row("2023-01-01 00:00:00", "binance", "perpetual", -1.0, "0.0001"),
        row("not a time", "binance", "spot", 100.0),
    ]
    _, problems = parse_venue_histories(text)
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5"]
