"""What is not a known command: a short hint, never silence (in private chats)."""

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.context import HedgeApp, HedgeContext
from bot.handlers.replies import refuse

HINT = "Send /hedge 1.2 BTC to plan a hedge, or /help for everything I do."


async def unknown_command(update: Update, context: HedgeContext) -> None:
    """A command this bot does not have."""
    message = update.effective_message
    command = (message.text or "").split()[0][:32] if message else ""
    await refuse(update, f"Unknown command {command}. {HINT}")


async def free_text(update: Update, context: HedgeContext) -> None:
    """Text that is not a command."""
    await refuse(update, HINT)


async def edited(update: Update, context: HedgeContext) -> None:
    """Edits are not re-run: say so once."""
    await refuse(
        update, "I don't re-run edited messages: send the command again, e.g. /hedge 1.2 BTC."
    )


def register(app: HedgeApp) -> None:
    """Register the fallbacks; they must come after every command."""
    private = filters.ChatType.PRIVATE
    app.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.COMMAND & private, edited)
    )
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND & private, unknown_command)
    )
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND & private, free_text)
    )
