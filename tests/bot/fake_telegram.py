"""A fake Telegram Bot API server on 127.0.0.1 for the real PTB Application to talk to.

It serves getMe, getUpdates (from a queue the test fills), sendMessage, editMessageText,
answerCallbackQuery, sendPhoto, setMyCommands and deleteWebhook, reads form and JSON bodies
alike (PTB's httpx transport sends forms), and records every call. `retry_after` makes the next
sendMessage answer 429 once; `polls_failing` makes every getUpdates answer that HTTP status
until it is cleared; `reply_delay_s` slows every sendMessage down. `received` has every
sendMessage as it arrived, answered or not (what a user would see), and `on_message` is called
with each before it is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "HedgeBot", "username": "hedge_test_bot"}


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    token: str
    calls: list[Call] = field(default_factory=list)
    retry_after: int | None = None
    blocked_chats: set[int] = field(default_factory=set)  # chats that blocked the bot: 403
    polls_failing: int | None = None
    reply_delay_s: float = 0.0  # how long sendMessage takes to answer
    polls: int = 0  # getUpdates calls answered, well or not
    received: list[Call] = field(default_factory=list)  # sendMessage calls as they arrived
    on_message: Callable[[Call], None] | None = None
    _updates: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500))
    _sent: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests do -------------------------------------------------------------------

    def send_text(
        self, text: str, chat_type: str = "private", chat_id: int = 77, edited: bool = False
    ) -> int:
        """Queue a message from a user, with the bot_command entity a command needs."""
        update = self.text_update(text, chat_type, chat_id, edited)
        self._updates.put_nowait(update)
        return int(update["update_id"])

    def text_update(
        self, text: str, chat_type: str = "private", chat_id: int = 77, edited: bool = False
    ) -> dict[str, Any]:
        """The update of a message from a user (for a webhook, or to queue)."""
        update_id = next(self._update_ids)
        message: dict[str, Any] = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "title": "group"}
            if chat_type != "private"
            else {"id": chat_id, "type": "private", "first_name": "Ann"},
            "from": {
                "id": chat_id if chat_type == "private" else 77,
                "is_bot": False,
                "first_name": "Ann",
            },
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        if edited:
            message["edit_date"] = int(time.time())
        key = (
            "edited_message" if edited else "channel_post" if chat_type == "channel" else "message"
        )
        return {"update_id": update_id, key: message}

    def press(self, data: str, message: dict[str, Any], chat_id: int = 77) -> None:
        """Queue a press of an inline button under `message`."""
        update_id = next(self._update_ids)
        self._updates.put_nowait(
            {
                "update_id": update_id,
                "callback_query": {
                    "id": str(update_id),
                    "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"},
                    "chat_instance": "ci",
                    "data": data,
                    "message": message,
                },
            }
        )

    def queue_raw(self, update: dict[str, Any]) -> None:
        update.setdefault("update_id", next(self._update_ids))
        self._updates.put_nowait(update)

    async def wait_for_polls(self, count: int, timeout: float = 15.0) -> None:
        """Wait until `count` more getUpdates calls have been answered."""
        target = self.polls + count
        async with self._sent:
            await asyncio.wait_for(self._sent.wait_for(lambda: self.polls >= target), timeout)

    def sent(self, method: str = "sendMessage") -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int, timeout: float = 15.0) -> list[Call]:
        """Wait until the bot has made `count` calls of `method`."""
        async with self._sent:
            await asyncio.wait_for(
                self._sent.wait_for(lambda: len(self.sent(method)) >= count), timeout
            )
        return self.sent(method)

    # --- the server ------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            # Seen as a form would carry them, so tests read both transports alike.
            body = await request.json()
            return {
                k: v
                if isinstance(v, str)
                else json.dumps(v)
                if isinstance(v, dict | list)
                else str(v)
                for k, v in body.items()
            }
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            params[key] = value if isinstance(value, str) else "<file>"
        return params

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        return {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        }

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "getUpdates":
            response = await self._get_updates(params)
            async with self._sent:
                self.polls += 1
                self._sent.notify_all()
            return response
        if method == "sendMessage" and self.retry_after is not None:
            wait, self.retry_after = self.retry_after, None
            self.calls.append(Call("429", params))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {wait}",
                    "parameters": {"retry_after": wait},
                },
                status=429,
            )
        if method == "sendMessage" and int(params.get("chat_id", 0)) in self.blocked_chats:
            self.calls.append(Call("403", params))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
                status=403,
            )
        if method == "sendMessage":
            self.received.append(Call(method, params))
            if self.on_message is not None:
                self.on_message(self.received[-1])
            await asyncio.sleep(self.reply_delay_s)
        result: Any = True
        if method == "getMe":
            result = BOT_USER
        elif method in ("sendMessage", "editMessageText", "sendPhoto"):
            result = self._message(params)
        async with self._sent:
            self.calls.append(Call(method, params))
            self._sent.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        if self.polls_failing is not None:
            await asyncio.sleep(0.01)  # as a proxy would, not at once
            return web.json_response(
                {
                    "ok": False,
                    "error_code": self.polls_failing,
                    "description": HTTPStatus(self.polls_failing).phrase,
                },
                status=self.polls_failing,
            )
        offset = int(params.get("offset") or 0)
        updates: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            updates.append(await asyncio.wait_for(self._updates.get(), timeout=0.2))
        while not self._updates.empty():
            updates.append(self._updates.get_nowait())
        updates = [u for u in updates if u["update_id"] >= offset]
        return web.json_response({"ok": True, "result": updates})


def keyboard_of(call: Call) -> list[list[dict[str, Any]]]:
    """The inline keyboard a sendMessage or editMessageText carried."""
    markup = call.params.get("reply_markup")
    if not markup:
        return []
    return list((json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"])
