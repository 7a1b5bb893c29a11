"""Updates Telegram can send that lack a chat, a user or a message: no handler crashes on them."""

import logging
from typing import Any

import pytest

from .conftest import RunningBot

ANN = {"id": 77, "is_bot": False, "first_name": "Ann"}
CHAT = {"id": 77, "type": "private"}


def command(text: str, **fields: Any) -> dict[str, Any]:
    message = {
        "message_id": 5,
        "date": 0,
        "chat": CHAT,
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    return {"message": {**message, **fields}}


def inline_press(data: str | None) -> dict[str, Any]:
    """A button under a message sent in inline mode: it has no message, hence no chat."""
    query: dict[str, Any] = {"id": "9", "from": ANN, "chat_instance": "c", "inline_message_id": "i"}
    if data is not None:
        query["data"] = data
    return {"callback_query": query}


ODD_UPDATES = {
    "inline plan button": inline_press("h:1.2:BTC:-:1:100:p"),
    "inline leverage table button": inline_press("h:1.2:BTC:-:3:100:t"),
    "inline chart button": inline_press("h:1.2:BTC:-:3:100:c"),
    "inline delete button": inline_press("a:del:1"),
    "inline wizard button": inline_press("w:BTC"),
    "inline wizard choice": inline_press("w:BTC above 0.01%"),
    "inline funding chart button": inline_press("f:BTC"),
    "button without data (a game)": inline_press(None),
    "command without a sender (anonymous admin)": command("/hedge 1 BTC"),
    "/settings without a sender": command("/settings leverage 3"),
    "/alert without a sender": command("/alert BTC above 0.01%"),
    "/alerts without a sender": command("/alerts"),
    "/start without a sender": command("/start"),
    "/stats without a sender": command("/stats"),
    "a photo, no text": {
        "message": {"message_id": 6, "date": 0, "chat": CHAT, "from": ANN, "photo": []}
    },
    "a member update": {
        "my_chat_member": {
            "chat": CHAT,
            "from": ANN,
            "date": 0,
            "old_chat_member": {"status": "member", "user": ANN},
            "new_chat_member": {"status": "kicked", "user": ANN, "until_date": 0},
        }
    },
}


@pytest.mark.parametrize("update", ODD_UPDATES.values(), ids=ODD_UPDATES.keys())
async def test_no_handler_fails_on_an_update_without_a_chat_user_or_text(
    running: RunningBot, caplog: pytest.LogCaptureFixture, update: dict[str, Any]
) -> None:
    caplog.set_level(logging.ERROR)
    running.telegram.queue_raw(dict(update))
    running.telegram.send_text("/help")  # handled after the odd one: the bot is still answering
    await running.telegram.wait_for("sendMessage", 1)
    await running.app.update_queue.join()
    assert "handler failed" not in caplog.text
