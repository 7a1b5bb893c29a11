"""/stats for the bot's admins: users, alerts, outbox, venue health. Others see no such command."""

from telegram import Update

from bot.context import HedgeApp, HedgeContext
from bot.handlers.fallback import unknown_command
from bot.handlers.replies import Command, add_commands, reply
from bot.render import render_stats


async def stats(update: Update, context: HedgeContext) -> None:
    """The bot's numbers, for admins."""
    services = context.services
    user = update.effective_user
    if user is None or user.id not in services.settings.admin_ids:
        await unknown_command(update, context)
        return
    await reply(
        update, render_stats(await services.store.counts(), services.desk.market.venue_health())
    )


COMMANDS = (Command("stats", "the bot's numbers, for admins", "/stats", stats, listed=False),)


def register(app: HedgeApp) -> None:
    """Register /stats."""
    add_commands(app, COMMANDS)
