"""/funding [COIN]: funding per venue, who pays whom, next funding time, yearly rate."""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler

from bot.context import HedgeContext
from bot.handlers.charts import FUNDING_CHART_PREFIX, send_funding_chart
from bot.handlers.overview import answer_overview
from bot.handlers.replies import NEW_MESSAGES, refuse
from bot.parsing import parse_coin_argument
from bot.render import render_funding
from hedgecore.errors import InvalidInput


async def funding(update: Update, context: HedgeContext) -> None:
    """Show funding for one coin, or for BTC and ETH; `/funding BTC chart` draws it."""
    args = context.args or []
    message = update.effective_message
    if args and args[-1].lower() == "chart" and message is not None:
        try:
            coin = parse_coin_argument(args[:-1], "/funding") or "BTC"
        except InvalidInput as exc:
            await refuse(update, str(exc))
            return
        await send_funding_chart(message, context, coin)
        return
    await answer_overview(update, context, "/funding", render_funding, chart_buttons)


def chart_buttons(coins: list[str]) -> InlineKeyboardMarkup:
    """A chart button for each coin shown."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(f"{coin} chart", callback_data=f"{FUNDING_CHART_PREFIX}{coin}")
                for coin in coins
            ]
        ]
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /funding."""
    app.add_handler(CommandHandler("funding", funding, filters=NEW_MESSAGES))
