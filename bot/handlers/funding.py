"""/funding [COIN]: funding per venue, who pays whom, next funding time, yearly rate."""

from telegram import Update

from bot.context import HedgeApp, HedgeContext
from bot.handlers.charts import send_funding_chart
from bot.handlers.overview import answer_overview
from bot.handlers.replies import Command, add_commands, refuse_error
from bot.keyboards import funding_chart_buttons
from bot.parsing import parse_coin_argument
from bot.render import render_funding
from hedgecore.errors import HedgeCoreError


async def funding(update: Update, context: HedgeContext) -> None:
    """Show funding for one coin, or for BTC and ETH; `/funding BTC chart` draws it."""
    args = context.args or []
    message = update.effective_message
    if args and args[-1].lower() == "chart" and message is not None:
        try:
            coin = parse_coin_argument(args[:-1], "/funding") or "BTC"
        except HedgeCoreError as exc:
            await refuse_error(update, exc, "/funding BTC chart")
            return
        await send_funding_chart(message, context, coin)
        return
    await answer_overview(
        update, context, "/funding", render_funding, funding_chart_buttons, with_history=True
    )


COMMANDS = (Command("funding", "funding rates across venues", "/funding ETH", funding),)


def register(app: HedgeApp) -> None:
    """Register /funding."""
    add_commands(app, COMMANDS)
