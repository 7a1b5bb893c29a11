"""How handlers answer: HTML replies without link previews, and one-line refusals."""

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.ext import filters

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Commands run on new messages only: an edit gets the fallback's one-line answer instead.
NEW_MESSAGES = filters.UpdateType.MESSAGE


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
