"""The one error handler: log with the traceback, apologise in one line, keep running."""

import logging

from telegram import Update

from bot.context import HedgeApp, HedgeContext

log = logging.getLogger(__name__)
APOLOGY = "Sorry, something went wrong on my side. Please try again in a minute."


async def on_error(update: object, context: HedgeContext) -> None:
    """Log the failure and tell the user, if there is one to tell."""
    log.error(
        "handler failed on update %s", getattr(update, "update_id", "?"), exc_info=context.error
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, APOLOGY)


def register(app: HedgeApp) -> None:
    """Register the error handler."""
    app.add_error_handler(on_error)
