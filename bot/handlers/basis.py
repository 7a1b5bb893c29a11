"""/basis [COIN]: dated futures per venue, basis, yearly basis and days to expiry."""

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import HedgeContext
from bot.handlers.overview import answer_overview
from bot.handlers.replies import NEW_MESSAGES
from bot.render import render_basis


async def basis(update: Update, context: HedgeContext) -> None:
    """Show the dated futures of one coin, or of BTC and ETH."""
    await answer_overview(update, context, "/basis", render_basis)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /basis."""
    app.add_handler(CommandHandler("basis", basis, filters=NEW_MESSAGES))
