"""The terminal chat: the same Application and handlers, with Telegram replaced by stdin/stdout.

A `BaseRequest` answers the Bot API calls the handlers make, printing messages as text; each
line typed (or piped) becomes a private-chat message update.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from typing import Any, TextIO

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.app import build_application
from bot.render import html_to_text
from bot.settings import BotSettings

CHAT_ID = 1
BOT_USER = {"id": 1000, "is_bot": True, "first_name": "HedgeBot", "username": "hedgebot_console"}
YOU = {"id": CHAT_ID, "is_bot": False, "first_name": "You"}


class ConsoleRequest(BaseRequest):
    """Answers the Bot API locally: messages are printed, everything else succeeds."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._message_ids = itertools.count(1_000_000)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _print(self, parameters: dict[str, Any]) -> dict[str, Any]:
        text = str(parameters.get("text", ""))
        shown = html_to_text(text) if parameters.get("parse_mode") == "HTML" else text
        self._out.write(shown + "\n")
        markup = parameters.get("reply_markup")
        if markup:
            keyboard = json.loads(markup) if isinstance(markup, str) else markup
            labels = [
                button["text"] for row in keyboard.get("inline_keyboard", []) for button in row
            ]
            self._out.write("[buttons: " + " | ".join(labels) + "]\n")
        self._out.write("\n")
        self._out.flush()
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": CHAT_ID, "type": "private"},
            "from": BOT_USER,
            "text": text,
        }

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        parameters = request_data.parameters if request_data is not None else {}
        result: Any = True
        if endpoint == "getMe":
            result = BOT_USER
        elif endpoint in ("sendMessage", "editMessageText"):
            result = self._print(parameters)
        return 200, json.dumps({"ok": True, "result": result}).encode()


def message_update(update_id: int, text: str) -> dict[str, Any]:
    """A private-chat message update for a typed line, with the command entity PTB matches on."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": CHAT_ID, "type": "private", "first_name": "You"},
        "from": YOU,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def run_console(
    settings: BotSettings, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> None:
    """Chat in the terminal until end of input."""
    app = build_application(settings, request=ConsoleRequest(out), serve_http=False)
    interactive = stdin.isatty()
    if interactive:
        out.write("HedgeBot in your terminal: type /help, or /hedge 1.2 BTC. Ctrl-D to leave.\n\n")
    loop = asyncio.get_running_loop()
    async with app:
        # `async with` does not run post_init/post_shutdown; run_polling would.
        if app.post_init:
            await app.post_init(app)
        try:
            for update_id in itertools.count(1):
                if interactive:
                    out.write("you> ")
                    out.flush()
                line = await loop.run_in_executor(None, stdin.readline)
                if not line:
                    break
                text = line.strip()
                if text:
                    await app.process_update(
                        Update.de_json(message_update(update_id, text), app.bot)
                    )
        finally:
            if app.post_shutdown:
                await app.post_shutdown(app)
