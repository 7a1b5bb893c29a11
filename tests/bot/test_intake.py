"""A burst faster than replies can go out is bounded: past the limit updates get one "busy"."""

import asyncio
from pathlib import Path

from bot.intake import BUSY

from .conftest import start_bot, stop_bot
from .fake_telegram import FakeTelegram


async def test_a_burst_past_the_limit_is_shed_with_one_busy_per_chat(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    app = await start_bot(telegram, tmp_path / "b.sqlite3", HEDGEBOT_MAX_WAITING_UPDATES="3")
    try:
        telegram.reply_delay_s = 0.5  # replies go out slower than updates come in
        for chat_id in (1, 2, 3, 4, 5):
            telegram.send_text("/help", chat_id=chat_id)
        for _ in range(10):  # one chat hammering: told once
            telegram.send_text("/help", chat_id=99)
        replies = await telegram.wait_for("sendMessage", 3 + 3)
        await asyncio.sleep(1.0)  # nothing more is coming
        replies = telegram.sent()
        busy = sorted(int(c.params["chat_id"]) for c in replies if c.params["text"] == BUSY)
        answered = sorted(int(c.params["chat_id"]) for c in replies if c.params["text"] != BUSY)
        assert (answered, busy) == ([1, 2, 3], [4, 5, 99])
        assert app.bot_data.intake.shed == 12
        assert app.bot_data.intake.queue.unfinished == 0
        telegram.reply_delay_s = 0.0
        telegram.send_text("/help", chat_id=4)  # once the burst is over, answered again
        (*_, reply) = await telegram.wait_for("sendMessage", len(replies) + 1)
        assert reply.params["text"].startswith("<b>HedgeBot</b>")
    finally:
        await stop_bot(app)
