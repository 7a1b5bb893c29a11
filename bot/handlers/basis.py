"""/basis [COIN]: dated futures per venue, basis, yearly basis and days to expiry."""

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import HedgeContext
from bot.handlers.replies import NEW_MESSAGES, refuse, reply
from bot.parsing import parse_coin_argument
from bot.render import render_basis
from hedgecore.errors import HedgeCoreError, InvalidInput


async def basis(update: Update, context: HedgeContext) -> None:
    """Show dated futures of one coin, or for BTC and ETH."""
    try:
        coin = parse_coin_argument(context.args or [], "/basis")
    except InvalidInput as exc:
        await refuse(update, str(exc))
        return
    try:
        overviews = await context.bot_data.services.overviews(coin)
    except HedgeCoreError as exc:
        await refuse(update, f"{exc}. Example: /basis BTC")
        return
    await reply(update, render_basis(overviews))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /basis."""
    app.add_handler(CommandHandler("basis", basis, filters=NEW_MESSAGES))
