"""Pure parts of the bot: callback data, settings, store migrations, rendering limits, redaction."""

import io
import logging
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from bot.defaults import UserSettings
from bot.keyboards import BadCallback, decode, encode
from bot.logs import RedactToken, configure_logging
from bot.parsing import HedgeRequest, parse_hedge
from bot.settings import SettingsError, load_settings
from bot.store.records import SettingsCache
from bot.store.sqlite import MIGRATIONS, SqliteStore, migrate
from hedgecore.models import Holding

from .conftest import DEMO, TOKEN


def test_callback_data_round_trip_and_limits() -> None:
    request = HedgeRequest(holdings=(Holding(coin="BTC", quantity=D("1.2")),), venue="okx")
    data = encode(request, D(3), D("0.5"), "t")
    assert data == "h:1.2:BTC:okx:3:50:t"
    decoded, view = decode(data)
    assert (decoded.holdings, decoded.venue, decoded.leverage, decoded.hedge_ratio, view) == (
        request.holdings,
        "okx",
        D(3),
        D("0.5"),
        "t",
    )
    huge = HedgeRequest(
        holdings=(Holding(coin="BTC", quantity=D("1234567890123.12345678901234567")),),
        venue="binancecoinm",
    )
    # A leverage typed with twenty decimals no longer fits Telegram's 64 bytes: no button then.
    assert encode(huge, D("2.12345678901234567890"), D(2), "p") is None
    for bad in [
        "h:1:BTC:-:3:50",
        "x:1:BTC:-:3:50:p",
        "h:-1:BTC:-:3:50:p",
        "h:1:BTC:bitmex:3:50:p",
        "h:1:BTC:-:500:50:p",
        "h:1:BTC:-:3:50:z",
    ]:
        with pytest.raises(BadCallback):
            decode(bad)


def test_portfolio_and_defaults_parse() -> None:
    request = parse_hedge(["1.2", "BTC", "10", "eth", "500", "SOL", "kraken", "2x", "50%"])
    assert [h.coin for h in request.holdings] == ["BTC", "ETH", "SOL"]
    assert (request.venue, request.leverage, request.hedge_ratio) == (
        "krakenfutures",
        D(2),
        D("0.5"),
    )


def test_invalid_settings_stop_with_one_line_and_never_show_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "12345:short")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert (
        str(caught.value)
        == "invalid TELEGRAM_BOT_TOKEN: expected the form 123456789:AA... that BotFather gives"
    )
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HEDGEBOT_VENUES", "bybit,bitmex")
    with pytest.raises(
        SettingsError, match=r"invalid HEDGEBOT_VENUES: use some of bybit, .*; got bitmex"
    ) as caught:
        load_settings()
    assert TOKEN not in str(caught.value)


async def test_store_migrates_once_and_keeps_settings(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "bot.sqlite3"
    store = await SqliteStore.open(path)
    assert await store.user_settings(7) == UserSettings()
    await store.save_user_settings(
        7, UserSettings(leverage=D(3), hedge_ratio=D("0.5"), venues=("okx", "bybit"))
    )
    await store.close()
    reopened = await SqliteStore.open(path)
    assert await reopened.user_settings(7) == UserSettings(
        leverage=D(3), hedge_ratio=D("0.5"), venues=("okx", "bybit")
    )
    await reopened.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert migrate(db) == len(MIGRATIONS)  # idempotent
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
        with pytest.raises(RuntimeError, match="newer than this hedgebot"):
            migrate(db)


def test_token_is_redacted_from_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactToken(TOKEN))
    log = logging.getLogger("redaction-test")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("GET https://api.telegram.org/bot%s/getMe", TOKEN)
        log.warning("encoded %s", TOKEN.replace(":", "%3A"))
        try:
            raise RuntimeError(f"failed on https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            log.exception("request failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text
    assert text.count("<token>") == 3


def console(tmp_path: Path, typed: str, **settings: str) -> str:
    """What the terminal chat prints for these lines, on the 2025 Bybit snapshot."""
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env |= {"HEDGEBOT_DB": str(tmp_path / "c.sqlite3"), **settings}
    pictures = tmp_path / "pictures"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--console",
            "--snapshot",
            str(DEMO),
            "--pictures",
            str(pictures),
        ],
        input=typed,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_console_chat_through_a_pipe(tmp_path: Path) -> None:
    out = console(tmp_path, "/hedge 1.2 BTC\n/hedge 0 BTC\n/funding\n")
    assert "1.2 BTC (112,489.92 USD): short Bybit BTC/USD:BTC (perpetual)" in out
    assert "<b>" not in out
    assert "[1] Bybit\n[2] ✓ 1x  [3] 2x  [4] 3x  [5] 5x\n[6] 50%  [7] ✓ 100%" in out
    assert "quantity must be more than zero, got '0'. Example: /hedge 1.2 BTC" in out
    assert "• Bybit: +0.0065% per 8h" in out
    assert "Data: offline snapshot taken at 2025-04-28 08:00 UTC" in out


def test_console_saves_pictures_and_presses_buttons_by_number(tmp_path: Path) -> None:
    # A plan, its 3x button (4), its chart button (11); /alert's walk-through (BTC, "negative");
    # /backtest's picture; then 25 commands more than the flood limit would let through.
    out = console(
        tmp_path,
        "/hedge 1.2 BTC\n4\n11\n/alert\n1\n4\n/backtest BTC\n" + "/help\n" * 25,
    )
    assert "Margin 0.40000043 BTC at 3x" in out  # the plan, edited by the button, printed again
    saved = sorted((tmp_path / "pictures").iterdir())
    assert len(saved) == 2  # the chart the button asked for, and the backtest's
    for picture in saved:
        assert f"[picture saved: {picture}]" in out
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "1.2 BTC: short 112,467 contracts Bybit BTC/USD:BTC at 3x" in out  # the chart's caption
    assert "Alert #1 set: BTC: funding turns negative" in out
    assert "Saved, but watched only while hedgebot runs on Telegram, not in this chat." in out
    assert "Slow down" not in out
    assert out.count("Positive funding: longs pay shorts") == 25  # every /help answered


def test_configure_logging_redacts_on_the_root_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("DEBUG", TOKEN)
        logging.getLogger("httpx").debug(
            "HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", TOKEN
        )
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "bot<token>/getUpdates" in err
    assert TOKEN not in err


def test_the_settings_cache_holds_every_stored_setting_within_a_bound_then_the_recent() -> None:
    cache = SettingsCache(size=2)
    assert cache.hold([(1, "3", "1", "")])
    assert cache.get(1) == UserSettings(leverage=D(3))
    assert cache.get(99) == UserSettings()  # every stored one is held: 99 has none
    for user in (2, 3):  # three stored: more than it holds
        cache.remember(user, UserSettings(leverage=D(user)))
    assert cache.get(1) is None  # the least recently used went
    assert cache.get(99) is None  # and so unknown users must be read
    assert cache.get(2) == UserSettings(leverage=D(2))
    assert not cache.hold([(n, "1", "1", "") for n in range(3)])
    assert cache.get(0) is None


def test_console_risk_and_its_button(tmp_path: Path) -> None:
    out = console(tmp_path, "/risk 1.2 BTC\n1\n")
    assert "Hedge BTC first: 100% of the portfolio's risk" in out
    assert "[1] Hedge BTC" in out
    # Pressed: the plan of the 1.2 BTC, as /hedge 1.2 BTC gives it.
    assert "1.2 BTC (112,489.92 USD): short Bybit BTC/USD:BTC (perpetual)" in out


async def test_store_answers_users_without_settings_from_memory_while_it_holds_every_stored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    first = await SqliteStore.open(path)
    await first.save_user_settings(1, UserSettings(leverage=D(3)))
    await first.close()

    reads: list[str] = []
    store = await SqliteStore.open(path)
    try:
        store._connection.set_trace_callback(reads.append)
        assert await store.user_settings(1) == UserSettings(leverage=D(3))
        assert await store.user_settings(99) == UserSettings()
        assert reads == []  # both answered from memory: 1 was loaded at opening, 99 has none
    finally:
        await store.close()


def test_the_terminal_chat_shows_where_the_calculator_button_opens(tmp_path: Path) -> None:
    out = console(tmp_path, "/hedge 1.2 BTC 3x\n", HEDGEBOT_PUBLIC_URL="https://bot.example.com")
    assert (
        "🧮 Open calculator: https://bot.example.com/app/?coin=BTC&quantity=1.2&leverage=3&ratio=1"
        in out
    )
