"""/funding [COIN]: funding per venue, who pays whom, next funding time, yearly rate."""

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import HedgeContext
from bot.handlers.overview import answer_overview
from bot.handlers.replies import NEW_MESSAGES
from bot.render import render_funding


async def funding(update: Update, context: HedgeContext) -> None:
    """Show funding for one coin, or for BTC and ETH."""
    await answer_overview(update, context, "/funding", render_funding)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /funding."""
    app.add_handler(CommandHandler("funding", funding, filters=NEW_MESSAGES))
