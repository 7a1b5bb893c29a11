"""Many users, each once: nothing the bot keeps in memory grows with every user it has seen."""

from pathlib import Path

from .conftest import start_bot, stop_bot
from .fake_telegram import FakeTelegram


async def test_users_seen_once_leave_no_mark_in_memory(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    app = await start_bot(telegram, tmp_path / "m.sqlite3")
    try:
        for user in range(1, 41):
            telegram.send_text("/help", chat_id=user)
        await telegram.wait_for("sendMessage", 40)
        # PTB marks each chat and user for a persistence update that never runs without
        # persistence, and never clears the marks: one entry per user for ever.
        # (Sizes compared, not the objects: a failure would print the app, and its token.)
        kept = {
            "chats marked": len(app._chat_ids_to_be_updated_in_persistence),
            "users marked": len(app._user_ids_to_be_updated_in_persistence),
            "user_data": len(app.user_data),
            "chat_data": len(app.chat_data),
            "reply timers": len(app.bot_data.services.metrics._started),
        }
        assert kept == dict.fromkeys(kept, 0)
    finally:
        await stop_bot(app)
