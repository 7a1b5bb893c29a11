"""/basis [COIN]: dated futures per venue, basis, yearly basis and days to expiry."""

from telegram import Update

from bot.context import HedgeApp, HedgeContext
from bot.handlers.overview import answer_overview
from bot.handlers.replies import Command, add_commands
from bot.render import render_basis


async def basis(update: Update, context: HedgeContext) -> None:
    """Show the dated futures of one coin, or of BTC and ETH."""
    await answer_overview(update, context, "/basis", render_basis)


COMMANDS = (Command("basis", "dated futures and their basis", "/basis BTC", basis),)


def register(app: HedgeApp) -> None:
    """Register /basis."""
    add_commands(app, COMMANDS)
