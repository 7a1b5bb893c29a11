"""How handlers answer: HTML replies without link previews, one-line refusals, and the one
place a typed error becomes a reply."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.ext import CommandHandler, filters

from bot.context import HedgeApp, HedgeContext
from hedgecore.errors import HedgeCoreError, InvalidInput, Refused

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Commands run on new messages only: an edit gets the fallback's one-line answer instead.
NEW_MESSAGES = filters.UpdateType.MESSAGE


@dataclass(frozen=True)
class Command:
    """A command, declared once: its handler, and its line in /help and in Telegram's menu."""

    name: str
    what: str  # what it does, for /help and the menu
    example: str
    callback: Callable[[Update, HedgeContext], Coroutine[Any, Any, None]]
    aliases: tuple[str, ...] = ()
    listed: bool = True  # in /help and the menu (admin commands are not)


def add_commands(app: HedgeApp, commands: Sequence[Command]) -> None:
    """Register each command (and its aliases) on new messages."""
    for command in commands:
        app.add_handler(
            CommandHandler([command.name, *command.aliases], command.callback, filters=NEW_MESSAGES)
        )


async def reply(
    update: Update, html_text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Answer the update's message in HTML."""
    message = update.effective_message
    if message is not None:
        await message.reply_html(
            html_text, reply_markup=keyboard, link_preview_options=NO_PREVIEW, do_quote=False
        )


async def refuse(update: Update, problem: str) -> None:
    """A one-line answer to bad input (plain text: user input is never parsed as HTML)."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(problem, do_quote=False)


def error_text(exc: HedgeCoreError, example: str) -> str:
    """A typed error as one line a user can act on: its own example, or the command's."""
    if isinstance(exc, InvalidInput | Refused):
        return str(exc)
    return f"{exc}. Example: {example}"


async def refuse_error(update: Update, exc: HedgeCoreError, example: str) -> None:
    """Answer a typed error in one line (see `error_text`)."""
    await refuse(update, error_text(exc, example))
