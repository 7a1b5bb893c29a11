"""How handlers answer: HTML replies without link previews, one-line refusals, and the one
place a typed error becomes a reply."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Bot, CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CommandHandler, filters

from bot.context import HedgeApp, HedgeContext
from bot.keyboards import Keyboard
from hedgecore.errors import HedgeCoreError, InvalidInput, Refused

NO_PREVIEW = {"is_disabled": True}  # the Bot API's LinkPreviewOptions
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


async def _send(bot: Bot, method: str, parameters: dict[str, object]) -> None:
    """Call the Bot API with JSON-ready parameters, through PTB's rate limiter and transport.

    PTB's own send methods build request objects from its keyboard objects and parse the Message
    sent back into objects again; the bot never reads that Message, and the two cost a sixth of
    a /hedge reply's CPU (bench/bot_throughput.py). `_post` is the step below them that PTB's
    own ExtBot extends.
    """
    await bot._post(method, parameters)


async def _send_message(
    update: Update, text: str, parse_mode: str | None, keyboard: Keyboard | None
) -> None:
    message = update.effective_message
    if message is None:
        return
    parameters: dict[str, object] = {"chat_id": message.chat_id, "text": text}
    if parse_mode is not None:
        parameters["parse_mode"] = parse_mode
        parameters["link_preview_options"] = NO_PREVIEW
    if message.is_topic_message and message.message_thread_id is not None:
        parameters["message_thread_id"] = message.message_thread_id  # the topic it came from
    if keyboard is not None:
        parameters["reply_markup"] = keyboard
    await _send(message.get_bot(), "sendMessage", parameters)


async def send_html(bot: Bot, chat_id: int, html_text: str, keyboard: Keyboard | None) -> None:
    """Send a message in HTML, without link previews, to a chat no update came from (the
    calculator's "Send to chat")."""
    parameters: dict[str, object] = {
        "chat_id": chat_id,
        "text": html_text,
        "parse_mode": ParseMode.HTML,
        "link_preview_options": NO_PREVIEW,
    }
    if keyboard is not None:
        parameters["reply_markup"] = keyboard
    await _send(bot, "sendMessage", parameters)


async def reply(update: Update, html_text: str, keyboard: Keyboard | None = None) -> None:
    """Answer the update's message in HTML, without link previews."""
    await _send_message(update, html_text, ParseMode.HTML, keyboard)


async def refuse(update: Update, problem: str) -> None:
    """A one-line answer to bad input (plain text: user input is never parsed as HTML)."""
    await _send_message(update, problem, None, None)


async def _edit_message(
    query: CallbackQuery, text: str, parse_mode: str | None, keyboard: Keyboard | None
) -> None:
    message = query.message
    if message is None:
        return
    parameters: dict[str, object] = {
        "chat_id": message.chat.id,
        "message_id": message.message_id,
        "text": text,
    }
    if parse_mode is not None:
        parameters["parse_mode"] = parse_mode
        parameters["link_preview_options"] = NO_PREVIEW
    if keyboard is not None:
        parameters["reply_markup"] = keyboard
    try:
        await _send(query.get_bot(), "editMessageText", parameters)
    except BadRequest as exc:
        # A press that changes nothing (Refresh with nothing new) leaves the message as it is.
        if "not modified" not in str(exc).lower():
            raise


async def edit_answer(
    query: CallbackQuery, html_text: str, keyboard: Keyboard | None = None
) -> None:
    """Replace the text and buttons of the message a button was pressed under, in HTML."""
    await _edit_message(query, html_text, ParseMode.HTML, keyboard)


async def edit_refusal(query: CallbackQuery, problem: str) -> None:
    """Replace the message a button was pressed under with a one-line refusal (plain text)."""
    await _edit_message(query, problem, None, None)


def error_text(exc: HedgeCoreError, example: str) -> str:
    """A typed error as one line a user can act on: its own example, or the command's."""
    if isinstance(exc, InvalidInput | Refused):
        return str(exc)
    return f"{exc}. Example: {example}"


async def refuse_error(update: Update, exc: HedgeCoreError, example: str) -> None:
    """Answer a typed error in one line (see `error_text`)."""
    await refuse(update, error_text(exc, example))
