"""Polling that heals: transient getUpdates failures back off and resume, /healthz says 503
meanwhile, and a token Telegram stops accepting ends the process in one line."""

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp import ClientSession

from .conftest import RunningBot, start_bot_process
from .fake_telegram import FakeTelegram


async def healthz(base: str) -> tuple[int, dict[str, str]]:
    async with ClientSession() as http, http.get(f"{base}/healthz") as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (502, "getUpdates failing: NetworkError: Bad Gateway"),
        (
            409,
            "getUpdates failing: 409 Conflict: another process polls with this token, "
            "or a webhook is set",
        ),
    ],
)
async def test_failing_polls_back_off_say_503_and_resume(
    with_ops: tuple[RunningBot, str], status: int, reason: str
) -> None:
    bot, base = with_ops
    assert await healthz(base) == (200, {"status": "ok", "reason": "ok"})
    bot.telegram.polls_failing = status
    await bot.telegram.wait_for_polls(2)
    assert await healthz(base) == (503, {"status": "unhealthy", "reason": reason})
    # Backing off: pauses of 0.05, 0.1, 0.2, 0.4 s..., not a poll every 10 ms.
    before = bot.telegram.polls
    await asyncio.sleep(1.0)
    assert bot.telegram.polls - before <= 6
    replies = len(bot.telegram.sent())
    bot.telegram.send_text("/help")  # waits at Telegram while polls fail
    await asyncio.sleep(0.3)
    assert len(bot.telegram.sent()) == replies
    bot.telegram.polls_failing = None
    (*_, reply) = await bot.telegram.wait_for("sendMessage", replies + 1)
    assert reply.params["text"].startswith("<b>HedgeBot</b>")
    await bot.telegram.wait_for_polls(2)
    assert await healthz(base) == (200, {"status": "ok", "reason": "ok"})


def test_a_token_revoked_while_polling_ends_the_process_in_one_line(
    telegram_elsewhere: FakeTelegram, tmp_path: Path
) -> None:
    process = start_bot_process(telegram_elsewhere, tmp_path)
    deadline = time.monotonic() + 60
    while telegram_elsewhere.polls < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "the bot never polled"
        time.sleep(0.05)
    token = telegram_elsewhere.token
    telegram_elsewhere.token = "0:revoked"  # every call now answers 401 Unauthorized
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == (
        "hedgebot: Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): "
        "copy the token again from @BotFather"
    )
    assert token.split(":")[1] not in stdout + stderr
