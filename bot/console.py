"""The terminal chat: the same Application and handlers, with Telegram replaced by stdin/stdout.

A `BaseRequest` answers the Bot API calls the handlers make: messages are printed as text, their
buttons numbered, and pictures saved to a folder with their paths printed. Each line typed (or
piped) becomes a private-chat message update; a number alone presses that button of the last
message that had buttons, running the same callback handlers as in Telegram.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from pathlib import Path
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
    """Answers the Bot API locally: messages are printed, pictures saved, buttons numbered."""

    def __init__(self, out: TextIO, pictures: Path) -> None:
        self._out = out
        self._pictures = pictures
        self._message_ids = itertools.count(1_000_000)
        # The buttons last printed: their number -> (callback data, the message they are under).
        self.buttons: dict[int, tuple[str, dict[str, Any]]] = {}

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _write(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def _shown(self, parameters: dict[str, Any], key: str) -> str:
        text = str(parameters.get(key, ""))
        return html_to_text(text) if parameters.get("parse_mode") == "HTML" else text

    def _message(self, parameters: dict[str, Any], text: str) -> dict[str, Any]:
        """Print a message's buttons, numbered so that typing a number presses one."""
        message = {
            "message_id": parameters.get("message_id") or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": CHAT_ID, "type": "private"},
            "from": BOT_USER,
            "text": text,
        }
        markup = parameters.get("reply_markup")
        keyboard = json.loads(markup) if isinstance(markup, str) else markup or {}
        rows = keyboard.get("inline_keyboard", [])
        if rows:
            self.buttons = {}
            for row in rows:
                labels = []
                for button in row:
                    if "web_app" in button:  # a page inside Telegram: its address, to open there
                        labels.append(f"{button['text']}: {button['web_app']['url']}")
                        continue
                    number = len(self.buttons) + 1
                    self.buttons[number] = (button["callback_data"], message)
                    labels.append(f"[{number}] {button['text']}")
                self._write("  ".join(labels))
            self._write("(type a number to press that button)")
        self._write("")
        return message

    def _save_picture(self, files: dict[str, Any], message_id: int) -> Path:
        """Save the photo sent and return where it went."""
        (_, content, _) = next(iter(files.values()))[:3]
        data = content if isinstance(content, bytes) else content.read()
        self._pictures.mkdir(parents=True, exist_ok=True)
        path = self._pictures / f"hedgebot-{time.strftime('%Y%m%d-%H%M%S')}-{message_id}.png"
        path.write_bytes(data)
        return path

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
            text = self._shown(parameters, "text")
            self._write(text)
            result = self._message(parameters, text)
        elif endpoint == "sendPhoto" and request_data is not None:
            message_id = next(self._message_ids)
            path = self._save_picture(request_data.multipart_data, message_id)
            self._write(f"[picture saved: {path}]")
            caption = self._shown(parameters, "caption")
            if caption:
                self._write(caption)
            result = self._message({**parameters, "message_id": message_id}, caption)
        elif endpoint == "answerCallbackQuery" and parameters.get("text"):
            self._write(f"({parameters['text']})\n")
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


def press_update(update_id: int, data: str, message: dict[str, Any]) -> dict[str, Any]:
    """A press of an inline button under `message`."""
    query = {
        "id": str(update_id),
        "from": YOU,
        "chat_instance": "console",
        "data": data,
        "message": message,
    }
    return {"update_id": update_id, "callback_query": query}


def default_pictures_dir() -> Path:
    """Where the terminal chat saves pictures unless told: the user's cache folder."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "hedgebot" / "pictures"


async def run_console(
    settings: BotSettings,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    pictures: Path | None = None,
) -> None:
    """Chat in the terminal until end of input."""
    request = ConsoleRequest(out, pictures or default_pictures_dir())
    app = build_application(settings, request=request, serve_http=False, flood_guard=False)
    interactive = stdin.isatty()
    if interactive:
        out.write(
            "HedgeBot in your terminal: type /help, or /hedge 1.2 BTC. Ctrl-D to leave.\n"
            "Alerts you add here are saved, and watched only while hedgebot runs on Telegram.\n\n"
        )
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
                if text.isdigit() and int(text) in request.buttons:
                    update = press_update(update_id, *request.buttons[int(text)])
                elif text:
                    update = message_update(update_id, text)
                else:
                    continue
                await app.process_update(Update.de_json(update, app.bot))
        finally:
            if app.post_shutdown:
                await app.post_shutdown(app)
