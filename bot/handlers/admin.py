"""/stats for the bot's admins: users, alerts, outbox, venue health. Others see no such command."""

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import HedgeContext
from bot.handlers.fallback import unknown_command
from bot.handlers.replies import NEW_MESSAGES, reply
from bot.render import render_stats


async def stats(update: Update, context: HedgeContext) -> None:
    """The bot's numbers, for admins."""
    services = context.bot_data.services
    user = update.effective_user
    if user is None or user.id not in services.settings.admin_ids:
        await unknown_command(update, context)
        return
    await reply(update, render_stats(await services.store.counts(), services.market.venue_health()))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /stats."""
    app.add_handler(CommandHandler("stats", stats, filters=NEW_MESSAGES))
