"""Running it for real: health and metrics, flood control, the allow-list, admins, deploy files."""

import configparser
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aiohttp import ClientSession

from bot.__main__ import parse_args
from bot.handlers.gate import SLOW_DOWN
from bot.logs import configure_logging, user_label
from bot.settings import BotSettings

from .conftest import TOKEN, RunningBot, start_bot, stop_bot
from .fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


async def say(bot: RunningBot, text: str, chat_id: int = 77) -> str:
    before = len(bot.telegram.sent())
    bot.telegram.send_text(text, chat_id=chat_id)
    return str((await bot.telegram.wait_for("sendMessage", before + 1))[before].params["text"])


async def test_healthz_and_metrics(with_ops: tuple[RunningBot, str]) -> None:
    bot, base = with_ops
    async with ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert (response.status, await response.json()) == (
                200,
                {"status": "ok", "reason": "ok"},
            )
        await say(bot, "/hedge 1 BTC")
        await say(bot, "/help")
        for n in range(3):  # what users type must not become series of their own
            await say(bot, f"/made_up_{n}")
        async with http.get(f"{base}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            metrics = await response.text()
        assert 'hedgebot_updates_total{command="/hedge"} 1.0' in metrics
        assert 'hedgebot_updates_total{command="other command"} 3.0' in metrics
        assert "made_up" not in metrics
        assert 'hedgebot_reply_seconds_count{command="/help"} 1.0' in metrics
        assert 'hedgebot_venue_up{venue="bybit"} 1.0' in metrics
        assert 'hedgebot_exchange_requests_total{outcome="ok",venue="bybit"}' in metrics
        assert 'hedgebot_market_cache_total{result="miss"}' in metrics
        assert 'hedgebot_alerts_total{stage="fired"} 0.0' in metrics
        assert "hedgebot_outbox_depth 0.0" in metrics
        assert bot.app.bot_data.poller is not None
        await bot.app.bot_data.poller.stop()
        await bot.app.stop()
        async with http.get(f"{base}/healthz") as response:
            assert (response.status, await response.json()) == (
                503,
                {"status": "unhealthy", "reason": "not connected to Telegram"},
            )
    assert bot.app.post_shutdown is not None
    await bot.app.post_shutdown(bot.app)
    await bot.app.shutdown()


async def test_admins_see_stats_and_others_do_not(with_ops: tuple[RunningBot, str]) -> None:
    bot, _ = with_ops
    await say(bot, "/settings leverage 2x")
    await say(bot, "/alert BTC negative")
    stats = await say(bot, "/stats")
    assert stats.startswith(
        "<b>HedgeBot stats</b>\nusers with settings: 1\nchats with alerts: 1\nalerts: 1\npaused chats: 0\nalerts waiting to be sent: 0"
    )
    assert stats.endswith("<b>Venues</b>\nBybit: up")
    assert (
        await say(bot, "/stats", chat_id=78)
        == "Unknown command /stats. Send /hedge 1.2 BTC to plan a hedge, or /help for everything I do."
    )


async def test_flood_gets_one_warning_then_silence(telegram: FakeTelegram, tmp_path: Path) -> None:
    app = await start_bot(telegram, tmp_path / "f.sqlite3", HEDGEBOT_FLOOD_LIMIT="3")
    try:
        for _ in range(6):
            telegram.send_text("/help", chat_id=55)
        telegram.send_text("/help", chat_id=56)  # someone else is not slowed down
        replies = await telegram.wait_for("sendMessage", 5)
        texts = [(int(c.params["chat_id"]), str(c.params["text"])[:12]) for c in replies]
        assert sorted(texts) == sorted(
            [(55, "<b>HedgeBot<")] * 3 + [(55, SLOW_DOWN[:12]), (56, "<b>HedgeBot<")]
        )
    finally:
        await stop_bot(app)


async def test_a_private_bot_ignores_everyone_else(telegram: FakeTelegram, tmp_path: Path) -> None:
    app = await start_bot(telegram, tmp_path / "p.sqlite3", HEDGEBOT_ALLOWED_IDS="42")
    try:
        telegram.send_text("/help", chat_id=77)
        telegram.send_text("/help", chat_id=42)
        (reply,) = await telegram.wait_for("sendMessage", 1)
        assert int(reply.params["chat_id"]) == 42
    finally:
        await stop_bot(app)
    assert [int(c.params["chat_id"]) for c in telegram.sent()] == [42]


def test_compose_file() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    service = compose["services"]["hedgebot"]
    assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert service["restart"] == "unless-stopped"
    volume, target = service["volumes"][0].split(":")
    assert target == "/data"
    assert volume in compose["volumes"]
    assert service["environment"]["HEDGEBOT_DB"].startswith("/data/")
    assert service["env_file"] == "../.env"


def test_systemd_unit() -> None:
    unit = DEPLOY / "hedgebot.service"
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        result = subprocess.run(
            [analyze, "verify", str(unit)], capture_output=True, text=True, check=False
        )
        assert "Unknown key" not in result.stderr
        assert "Unknown section" not in result.stderr
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    assert parser.sections() == ["Unit", "Service", "Install"]
    service = parser["Service"]
    assert service["ExecStart"].endswith("/bin/hedgebot")
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # a refused token: restarts cannot help
    assert (service["NoNewPrivileges"], service["ProtectSystem"], service["StateDirectory"]) == (
        "yes",
        "strict",
        "hedgebot",
    )
    assert (
        service["Environment"] == "HEDGEBOT_DB=/var/lib/hedgebot/hedgebot.sqlite3"
    )  # inside the writable state directory


def test_dockerfile_runs_the_installed_console_script() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text().splitlines()
    (cmd_line,) = [line for line in dockerfile if line.startswith("CMD ")]
    command = json.loads(cmd_line.removeprefix("CMD "))
    assert command == ["hedgebot"]
    assert any(line.startswith("USER ") and "root" not in line for line in dockerfile)
    assert any(line.startswith("HEALTHCHECK ") for line in dockerfile)
    # The same command line, run from the installed package's scripts.
    script = shutil.which(command[0], path=str(Path(sys.executable).parent))
    assert script is not None
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = subprocess.run(
        [script, *command[1:], "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: hedgebot")


def test_env_example_lists_every_setting() -> None:
    listed = {
        line.split("=")[0]
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    aliases = {str(field.validation_alias) for field in BotSettings.model_fields.values()}
    assert listed == aliases


async def test_logs_one_json_line_per_event_with_hashed_users(
    telegram: FakeTelegram, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", TOKEN, json_lines=True)
    try:
        app = await start_bot(telegram, tmp_path / "l.sqlite3")
        telegram.send_text("/help", chat_id=4242)
        await telegram.wait_for("sendMessage", 1)
        await stop_bot(app)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    (answered,) = [entry for entry in lines if entry["message"].startswith("/help from ")]
    assert set(answered) == {"time", "level", "logger", "message"}
    assert answered["message"].startswith(
        f"/help from {user_label(4242, reveal=False)} answered in "
    )
    assert "4242" not in answered["message"]
    assert user_label(4242, reveal=True) == "4242"


def test_scaled_compose_file_runs_workers_and_schedulers_hedgebot_accepts() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.scale.yml").read_text())
    services = compose["services"]
    assert set(services) == {"bot", "scheduler", "postgres", "redis", "proxy"}
    for name in ("bot", "scheduler"):
        service = services[name]
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        environment = service["environment"]
        assert environment["HEDGEBOT_DB"].startswith("postgresql://")
        assert environment["HEDGEBOT_REDIS_URL"].startswith("redis://")
        assert set(service["depends_on"]) == {"postgres", "redis"}
        program, *args = service["command"]
        assert program == "hedgebot"
        parse_args(args)  # flags hedgebot knows (argparse exits on any other)
    assert "--worker" in services["bot"]["command"]
    assert services["bot"]["command"][2].endswith("/telegram")
    assert services["scheduler"]["command"] == ["hedgebot", "--scheduler"]
    assert services["bot"]["environment"]["HEDGEBOT_WEBHOOK_PORT"] in services["bot"]["expose"]
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert "dynamic a bot 8443" in caddyfile  # the workers' webhook port
    assert "handle /telegram" in caddyfile  # the webhook's path, and nothing else
    for volume in ("postgres-data", "caddy-data"):
        assert volume in compose["volumes"]
