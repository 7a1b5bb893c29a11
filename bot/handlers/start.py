"""/start and /help: what the bot does, and the command menu."""

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import HedgeContext
from bot.handlers.replies import NEW_MESSAGES, reply
from bot.render import render_help


async def help_command(update: Update, context: HedgeContext) -> None:
    """Explain the bot and list the commands with an example each; /start also resumes alerts."""
    text = render_help()
    chat = update.effective_chat
    services = context.bot_data.services
    if chat is not None and await services.store.resume_chat(chat.id):
        services.alerts.rules_changed()
        text += "\n\nWelcome back: your alerts are on again."
    await reply(update, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /start and /help."""
    app.add_handler(CommandHandler(["start", "help"], help_command, filters=NEW_MESSAGES))
