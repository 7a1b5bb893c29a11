"""The chat sees "typing…" while an update's handlers take longer than a moment.

A reply waiting for the venues can take up to its deadline (4 s); without a sign of life a user
sends the command again. Every update goes through PTB's update processor, so the sign is given
in one place for every command and button, and only when a reply is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from telegram import Chat, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import SimpleUpdateProcessor

TYPING_AFTER_S = 1.0  # quicker replies show no action: it would only cost a request
TYPING_EVERY_S = 4.5  # Telegram shows the action for 5 s, or until the bot's next message


class TypingUpdateProcessor(SimpleUpdateProcessor):
    """Runs updates concurrently, as PTB's own processor does, saying "typing…" when slow."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        # A timer, not a task per update: most replies are quicker than it, and a task that
        # sleeps costs every one of them its scheduling.
        typing: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            TYPING_AFTER_S, lambda: typing.append(asyncio.create_task(_type_until_cancelled(chat)))
        )
        try:
            await coroutine
        finally:
            timer.cancel()
            for task in typing:
                task.cancel()


async def _type_until_cancelled(chat: Chat) -> None:
    while True:
        with contextlib.suppress(TelegramError):  # a missing "typing…" costs the user nothing
            await chat.send_action(ChatAction.TYPING)
        await asyncio.sleep(TYPING_EVERY_S)
