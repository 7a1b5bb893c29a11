"""The calculator's JSON API, over loopback HTTP against the running bot: the plan the page
gets is `hedgecore plan --json`'s for the same question, and what is not Telegram's, or not a
question, is refused in JSON with a reason."""

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.defaults import UserSettings
from bot.miniapp.api import MAX_BODY_BYTES, api_routes
from bot.miniapp.initdata import secret_key, sign

from ..conftest import DEMO, TOKEN, start_bot, stop_bot
from ..fake_telegram import FakeTelegram

USER = 4711


def signed_init_data(
    user_id: int = USER, signed_at: float | None = None, token: str = TOKEN
) -> str:
    """initData as Telegram signs it for this bot's page."""
    fields = {
        "auth_date": str(int(time.time() if signed_at is None else signed_at)),
        "query_id": "AAHtest",
        "user": json.dumps({"id": user_id, "first_name": "Ann"}),
    }
    return urlencode({**fields, "hash": sign(fields, secret_key(token))})


@pytest.fixture
async def api(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[tuple[str, Any]]:
    app = await start_bot(telegram, tmp_path / "app.sqlite3", HEDGEBOT_FLOOD_LIMIT="5")
    server = web.Application()
    server.add_routes(api_routes(app, TOKEN))
    async with TestServer(server, host="127.0.0.1") as test_server:
        yield str(test_server.make_url("/api/plan")), app
    await stop_bot(app)


async def ask(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body if isinstance(body, bytes) else json.dumps(body)) as response,
    ):
        return response.status, await response.json()


def cli_plan(*args: str) -> dict[str, Any]:
    """`hedgecore plan ARGS --snapshot DEMO --json`, run as a user would."""
    done = subprocess.run(
        [sys.executable, "-m", "hedgecore", "plan", *args, "--snapshot", str(DEMO), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


async def test_the_pages_plan_is_hedgecore_plans_for_the_same_question(
    api: tuple[str, Any],
) -> None:
    url, _ = api
    status, answer = await ask(
        url,
        {
            "initData": signed_init_data(),
            "coin": "BTC",
            "quantity": "1.2",
            "leverage": "3",
            "ratio": "70%",
        },
    )
    assert status == 200, answer
    assert answer["plan"] == cli_plan("1.2", "BTC", "--leverage", "3", "--ratio", "70%")
    payoff = answer["payoff"]
    assert payoff["coin"] == "BTC"
    assert (
        len(payoff["prices"]) == len(payoff["unhedged_usd"]) == len(payoff["chosen"]["value_usd"])
    )
    assert payoff["chosen"]["leg"] == answer["plan"]["legs"][0]  # the plan's best leg


@pytest.mark.parametrize(
    ("init_data", "said"),
    [
        (None, "no initData"),
        ("auth_date=1&user=%7B%22id%22%3A1%7D&hash=00", "not signed by Telegram"),
        (signed_init_data(token="1:another-bots-token-aaaaaaaaaaaa"), "not signed by Telegram"),
        (signed_init_data(signed_at=time.time() - 2 * 86400), "over a day old"),
    ],
)
async def test_initdata_not_telegrams_or_too_old_is_refused_with_401(
    api: tuple[str, Any], init_data: str | None, said: str
) -> None:
    url, _ = api
    status, answer = await ask(url, {"initData": init_data, "coin": "BTC", "quantity": "1"})
    assert status == 401
    assert answer["ok"] is False
    assert said in answer["error"]


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ({"coin": "BTC"}, 400, "give the coin and the quantity"),
        ({"coin": "BTC", "quantity": "-1"}, 400, "example"),
        ({"coin": "BTC", "quantity": "1", "leverage": "500"}, 400, "leverage must be between"),
        ({"coin": "BTC", "quantity": "1", "ratio": "250%"}, 400, "at most 200%"),
        ({"coin": "BTC", "quantity": "1", "venue": "weex"}, 400, "Weex lists no coin-margined"),
        ({"coin": "BTC", "quantity": ["1"]}, 400, "must be a number or text"),
        ({"coin": "DOGE", "quantity": "1"}, 422, "DOGE"),
    ],
)
async def test_a_question_the_desk_cannot_answer_is_refused_with_a_reason(
    api: tuple[str, Any], body: dict[str, Any], status: int, said: str
) -> None:
    url, _ = api
    got, answer = await ask(url, {"initData": signed_init_data(), **body})
    assert got == status, answer
    assert said in answer["error"]
    assert "\n" not in answer["error"]


async def test_bodies_not_json_or_too_large_are_refused(api: tuple[str, Any]) -> None:
    url, _ = api
    assert (await ask(url, b"not json"))[0] == 400
    assert (await ask(url, b"[1, 2]"))[0] == 400
    status, answer = await ask(url, b" " * (MAX_BODY_BYTES + 1))
    assert status == 413
    assert "over 16 kB" in answer["error"]


async def test_each_user_is_held_to_the_flood_limit(api: tuple[str, Any]) -> None:
    url, _ = api
    question = {"coin": "BTC", "quantity": "1"}
    statuses = [(await ask(url, {"initData": signed_init_data(), **question}))[0] for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    other = {"initData": signed_init_data(user_id=USER + 1), **question}
    assert (await ask(url, other))[0] == 200  # another user counts from zero


async def test_send_to_chat_posts_the_plan_the_hedge_command_gives(
    api: tuple[str, Any], telegram: FakeTelegram
) -> None:
    url, _ = api
    telegram.send_text("/hedge 1.2 BTC 3x 70%", chat_id=USER)
    (from_command,) = await telegram.wait_for("sendMessage", 1)
    question = {"coin": "BTC", "quantity": "1.2", "leverage": "3", "ratio": "70%"}
    status, answer = await ask(
        url.replace("/plan", "/send"), {"initData": signed_init_data(), **question}
    )
    assert status == 200, answer
    (_, from_page) = await telegram.wait_for("sendMessage", 2)
    assert int(from_page.params["chat_id"]) == USER
    assert from_page.params["text"] == from_command.params["text"]
    assert from_page.params["reply_markup"] == from_command.params["reply_markup"]


async def test_track_records_the_plans_best_leg_as_the_plans_button_does(
    api: tuple[str, Any], telegram: FakeTelegram
) -> None:
    url, app = api
    question = {"coin": "BTC", "quantity": "1.2", "leverage": "3"}
    status, answer = await ask(
        url.replace("/plan", "/track"), {"initData": signed_init_data(), **question}
    )
    assert status == 200, answer
    assert answer["tracked"] == "BTCUSD"
    (hedge,) = await app.bot_data.services.store.tracked_of(USER)
    plan = cli_plan("1.2", "BTC", "--leverage", "3")["legs"][0]
    assert (hedge.venue, hedge.contracts, float(hedge.leverage), float(hedge.hedged_coins)) == (
        "bybit",
        plan["contracts"],
        3.0,
        1.2,
    )
    (confirmation,) = await telegram.wait_for("sendMessage", 1)
    assert int(confirmation.params["chat_id"]) == USER
    assert f"#{hedge.id}" in confirmation.params["text"]


async def test_what_the_page_leaves_out_comes_from_the_users_settings(
    api: tuple[str, Any],
) -> None:
    url, app = api
    await app.bot_data.services.store.save_user_settings(
        USER, UserSettings(leverage=Decimal(2), hedge_ratio=Decimal("0.5"))
    )
    status, answer = await ask(
        url, {"initData": signed_init_data(), "coin": "BTC", "quantity": "1"}
    )
    assert status == 200, answer
    assert (answer["plan"]["leverage"], answer["plan"]["hedge_ratio"]) == (2.0, 0.5)


async def test_funding_history_is_the_desks_as_the_short_sees_it(api: tuple[str, Any]) -> None:
    url, app = api
    status, answer = await ask(
        url.replace("/plan", "/funding"), {"initData": signed_init_data(), "coin": "btc"}
    )
    assert status == 200, answer
    desks = await app.bot_data.services.desk.funding_history("BTC")
    (line,) = answer["funding"]["lines"]
    assert line["venue"] == desks.lines[0].venue == "bybit"
    assert line["apr_pct"] == [float(apr) for apr in desks.lines[0].apr_pct]
    assert len(line["times"]) == len(line["apr_pct"]) > 80  # 30 days of 8-hour settlements
    status, answer = await ask(url.replace("/plan", "/funding"), {"initData": signed_init_data()})
    assert status == 400
    assert "give the coin" in answer["error"]
