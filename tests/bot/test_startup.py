"""Start-up failures end in one line naming the problem, never a traceback, never the token."""

import asyncio
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

from bot.defaults import UserSettings
from bot.store.sqlite import SqliteStore
from bot.transport import AiohttpRequest
from hedgecore.desk import DEMO_NOTE

from .conftest import TOKEN, bot_process, free_port, start_bot_process
from .fake_telegram import FakeTelegram


def test_a_bad_setting_ends_in_one_line() -> None:
    process = bot_process([], {"HEDGEBOT_LOG_LEVEL": "chatty"})
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert (
        stderr.strip() == "hedgebot: invalid HEDGEBOT_LOG_LEVEL: use DEBUG, INFO, WARNING or ERROR"
    )


def test_a_token_telegram_rejects_ends_in_one_line_without_the_token(
    telegram_elsewhere: FakeTelegram, tmp_path: Path
) -> None:
    modes = [(), ("--webhook", "https://bot.example.com/telegram")]  # polling, then webhook
    running = [
        start_bot_process(telegram_elsewhere, tmp_path, mode, TELEGRAM_BOT_TOKEN=TOKEN)
        for mode in modes
    ]
    for process in running:
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 2
        assert stderr.strip() == (
            "hedgebot: Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): "
            "copy the token again from @BotFather"
        )
        assert TOKEN.split(":")[1] not in stdout + stderr


async def test_no_error_leaving_the_transport_carries_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe"  # nobody listens there
    request = AiohttpRequest(connect_timeout=0.5)
    await request.initialize()
    try:
        with pytest.raises((NetworkError, TimedOut)) as caught:
            await request.do_request(url, "POST", RequestData())
    finally:
        await request.shutdown()
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert not any(isinstance(e, aiohttp.ClientError) for e in chain)
    assert all(TOKEN not in str(e) for e in chain)


def test_storage_and_snapshot_faults_at_start_end_in_one_line(
    telegram_elsewhere: FakeTelegram, tmp_path: Path
) -> None:
    a_file = tmp_path / "plain-file"
    a_file.write_text("not a folder")
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(bytes(range(256)) * 64)
    newer = tmp_path / "newer.sqlite3"
    connection = sqlite3.connect(newer)
    connection.execute("PRAGMA user_version = 999")
    connection.close()
    missing = tmp_path / "missing.json"
    cases = {  # what is wrong -> what the one line must say (the cases run side by side)
        ("HEDGEBOT_DB", str(a_file / "bot.sqlite3")): "cannot open the database ",
        ("HEDGEBOT_DB", str(garbage)): "is not a hedgebot database",
        ("HEDGEBOT_DB", str(newer)): "is newer than this hedgebot",
        ("HEDGEBOT_SNAPSHOT", str(missing)): f"cannot read snapshot {missing}: No such file",
    }
    running = {
        case: start_bot_process(telegram_elsewhere, tmp_path, (), **{case[0]: case[1]})
        for case in cases
    }
    for (setting, path), process in running.items():
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 1, stderr
        (line,) = stderr.splitlines()
        assert line.startswith("hedgebot: ")
        assert cases[(setting, path)] in line
        assert path in line


def test_the_terminal_chat_fails_at_start_in_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "plain-file"
    a_file.write_text("not a folder")
    missing = tmp_path / "missing.json"
    db = {"HEDGEBOT_DB": str(tmp_path / "c.sqlite3")}
    cases = {  # (arguments, settings) -> (exit status, the one line); run side by side
        (("--console",), ("HEDGEBOT_DB", str(a_file / "c.sqlite3"))): (
            1,
            f"hedgebot: cannot open the database {a_file / 'c.sqlite3'}: {a_file} is a file, "
            "not a folder; "
            "set HEDGEBOT_DB to a file in a writable folder",
        ),
        (("--console", "--snapshot", str(missing)), ("HEDGEBOT_DB", db["HEDGEBOT_DB"])): (
            2,
            f"hedgebot: cannot read snapshot {missing}: No such file or directory",
        ),
    }
    running = {case: bot_process(list(case[0]), {case[1][0]: case[1][1]}) for case in cases}
    for case, process in running.items():
        _, stderr = process.communicate(timeout=60)
        assert (process.returncode, stderr.strip()) == cases[case]


async def test_a_second_hedgebot_on_one_sqlite_file_is_refused_in_one_line(
    telegram_elsewhere: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "one.sqlite3"
    first = await SqliteStore.open(db)  # this test's process is the first hedgebot on the file
    try:
        second = start_bot_process(telegram_elsewhere, tmp_path, (), HEDGEBOT_DB=str(db))
        _, stderr = await asyncio.to_thread(second.communicate, timeout=60)
        await first.save_user_settings(7, UserSettings(leverage=Decimal(5)))
    finally:
        await first.close()
    assert second.returncode == 1, stderr
    assert stderr.strip() == (
        f"hedgebot: {db} is in use by another hedgebot (pid {os.getpid()}): one process per "
        "SQLite file; stop that one, or set HEDGEBOT_DB to another file"
    )
    reopened = await SqliteStore.open(db)  # the first has gone: the file is free again
    try:
        assert (await reopened.user_settings(7)).leverage == 5
    finally:
        await reopened.close()


OFFLINE_CONSOLE = """
import sys
import hedgecore.market.ccxt_feed as feeds
from bot.__main__ import main
from tests.hedgecore.market.exchange_replay import point_at

made = feeds.make_exchange


def refused(venue, timeout_s):
    exchange = made(venue, timeout_s)
    point_at(exchange, "http://127.0.0.1:{port}/" + venue)  # nobody listens: refused at once
    return exchange


feeds.make_exchange = refused
sys.exit(main(["--console"]))
"""


def test_the_terminal_chat_with_no_venue_answering_shows_the_demo_and_no_log_lines(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env |= {"HEDGEBOT_DB": str(tmp_path / "c.sqlite3")}
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_CONSOLE.format(port=free_port())],
        input="/hedge 1.2 BTC\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Demo: market recorded on 2021-04-17 16:50 UTC, not live")
    assert DEMO_NOTE in result.stdout
    # No short was placed at the demo's 2021 prices: it offers nothing to track.
    assert "[14] Chart" in result.stdout
    assert "I placed this" not in result.stdout
    # The reply says which venues failed; log lines about them would only come first, as noise.
    assert result.stderr == ""


PG_URL = "postgresql://hedgebot@127.0.0.1:5432/hedgebot"
WEBHOOK = ("--webhook", "https://bot.example.com/telegram")


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (("--worker", *WEBHOOK), {}, "set HEDGEBOT_DB to a postgresql:// URL"),
        (("--scheduler",), {}, "set HEDGEBOT_DB to a postgresql:// URL"),
        (("--worker",), {"HEDGEBOT_DB": PG_URL}, "add --webhook https://"),
        (("--scheduler", *WEBHOOK), {"HEDGEBOT_DB": PG_URL}, "drop --webhook"),
        (("--worker", *WEBHOOK), {"HEDGEBOT_DB": PG_URL}, "set HEDGEBOT_REDIS_URL"),
        (("--worker", "--console"), {"HEDGEBOT_DB": PG_URL}, "the terminal chat is one process"),
    ],
)
def test_a_worker_or_scheduler_that_cannot_run_as_asked_says_why_in_one_line(
    args: tuple[str, ...],
    env: dict[str, str],
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HEDGEBOT_DB", str(tmp_path / "bot.sqlite3"))
    monkeypatch.delenv("HEDGEBOT_REDIS_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from bot.__main__ import main

    assert main(list(args)) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("hedgebot: ")
    assert said in line
    assert not (tmp_path / "bot.sqlite3").exists()  # refused before anything was opened
