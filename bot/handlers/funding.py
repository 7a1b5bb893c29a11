"""/funding [COIN]: funding per venue, who pays whom, next funding time, yearly rate."""

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import HedgeContext
from bot.handlers.replies import NEW_MESSAGES, refuse, reply
from bot.parsing import parse_coin_argument
from bot.render import render_funding
from hedgecore.errors import HedgeCoreError, InvalidInput


async def funding(update: Update, context: HedgeContext) -> None:
    """Show funding for one coin, or for BTC and ETH."""
    try:
        coin = parse_coin_argument(context.args or [], "/funding")
    except InvalidInput as exc:
        await refuse(update, str(exc))
        return
    try:
        overviews = await context.bot_data.services.overviews(coin)
    except HedgeCoreError as exc:
        await refuse(update, f"{exc}. Example: /funding BTC")
        return
    await reply(update, render_funding(overviews))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /funding."""
    app.add_handler(CommandHandler("funding", funding, filters=NEW_MESSAGES))
