"""/start and /help: what the bot does, and the command menu."""

from telegram import Update

from bot.context import HedgeApp, HedgeContext
from bot.handlers.replies import Command, add_commands, reply
from bot.render import render_help


async def help_command(update: Update, context: HedgeContext) -> None:
    """Explain the bot and list the commands with an example each; /start also resumes the
    alerts and tracked hedges of a chat that had blocked the bot."""
    services = context.services
    text = render_help(services.menu)
    chat = update.effective_chat
    if chat is not None and await services.store.resume_chat(chat.id):
        services.alerts.rules_added(await services.store.alerts_of(chat.id))
        services.alerts.tracking_changed()
        text += "\n\nWelcome back: your alerts and tracked hedges are watched again."
    await reply(update, text)


COMMANDS = (Command("help", "what this bot does", "/help", help_command, aliases=("start",)),)


def register(app: HedgeApp) -> None:
    """Register /start and /help."""
    add_commands(app, COMMANDS)
