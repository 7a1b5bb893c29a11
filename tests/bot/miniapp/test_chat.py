"""Where the chat opens the calculator: a button under every plan and /app in private chats,
the chat's menu button, and the page on the bot's public server, all with HEDGEBOT_PUBLIC_URL."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.handlers.calculator import NOT_PRIVATE, NOT_SET_UP
from bot.settings import BotSettings, SettingsError, load_settings
from bot.webhook import webhook_app

from ..conftest import start_bot, stop_bot
from ..fake_telegram import FakeTelegram, keyboard_of

PUBLIC = "https://bot.example.com"


async def test_a_plan_in_a_private_chat_has_a_button_opening_the_calculator_on_it(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    app = await start_bot(telegram, tmp_path / "c.sqlite3", HEDGEBOT_PUBLIC_URL=PUBLIC + "/")
    try:
        telegram.send_text("/hedge 1.2 BTC 3x 70%")
        telegram.send_text("/hedge 1.2 BTC 3x", chat_type="group", chat_id=-100)
        private, group = await telegram.wait_for("sendMessage", 2)
        if int(private.params["chat_id"]) < 0:
            private, group = group, private
        (opener,) = [b for row in keyboard_of(private) for b in row if "web_app" in b]
        url = urlsplit(opener["web_app"]["url"])
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{PUBLIC}/app/"
        assert parse_qs(url.query) == {
            "coin": ["BTC"],
            "quantity": ["1.2"],
            "leverage": ["3"],
            "ratio": ["0.7"],
        }
        # Telegram allows such buttons in private chats only.
        assert not [b for row in keyboard_of(group) for b in row if "web_app" in b]
        (menu_button,) = telegram.sent("setChatMenuButton")
        assert json.loads(menu_button.params["menu_button"])["web_app"]["url"] == f"{PUBLIC}/app/"
    finally:
        await stop_bot(app)


async def test_app_answers_with_the_calculators_button_or_says_why_not(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    app = await start_bot(telegram, tmp_path / "a.sqlite3", HEDGEBOT_PUBLIC_URL=PUBLIC)
    try:
        telegram.send_text("/app")
        (answer,) = await telegram.wait_for("sendMessage", 1)
        ((button,),) = keyboard_of(answer)
        assert button["web_app"]["url"] == f"{PUBLIC}/app/"
        telegram.send_text("/app", chat_type="group", chat_id=-100)
        (_, in_group) = await telegram.wait_for("sendMessage", 2)
        assert in_group.params["text"] == NOT_PRIVATE
        assert '"command": "app"' in telegram.sent("setMyCommands")[0].params["commands"]
    finally:
        await stop_bot(app)
    telegram.calls.clear()
    app = await start_bot(telegram, tmp_path / "b.sqlite3")  # no public URL
    try:
        telegram.send_text("/app")
        (answer,) = await telegram.wait_for("sendMessage", 1)
        assert answer.params["text"] == NOT_SET_UP
        menu = telegram.sent("setMyCommands")[0].params["commands"]
        assert '"command": "app"' not in menu  # not in the menu
        assert not telegram.sent("setChatMenuButton")
    finally:
        await stop_bot(app)


async def test_the_public_server_serves_the_page_under_a_strict_policy(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    app = await start_bot(telegram, tmp_path / "p.sqlite3", HEDGEBOT_PUBLIC_URL=PUBLIC)
    try:
        async with (
            TestServer(webhook_app(app, "s3cret", "/telegram"), host="127.0.0.1") as server,
            aiohttp.ClientSession() as session,
        ):
            async with session.get(server.make_url("/app/")) as page:
                assert page.status == 200
                assert "<title>HedgeBot calculator</title>" in await page.text()
                policy = page.headers["Content-Security-Policy"]
                assert "default-src 'none'" in policy
                assert "script-src 'self' https://telegram.org" in policy
                assert "frame-ancestors https://web.telegram.org" in policy
            for missing in ("/app/../bot/app.py", "/app/page.py", "/app/static/app.js"):
                async with session.get(server.make_url(missing)) as refused:
                    assert refused.status == 404
            async with session.get(server.make_url("/healthz")) as health:
                assert health.status in (200, 503)
    finally:
        await stop_bot(app)


@pytest.mark.parametrize("url", ["http://bot.example.com", "bot.example.com", "https://x/?a=1"])
def test_a_public_url_telegram_cannot_open_is_refused_in_one_line(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEDGEBOT_PUBLIC_URL", url)
    with pytest.raises(SettingsError, match="invalid HEDGEBOT_PUBLIC_URL: expected the https"):
        load_settings()
    assert BotSettings.model_validate({"HEDGEBOT_PUBLIC_URL": ""}).public_url is None
