"""What /funding and /basis share: one optional coin, the overview service, one rendering."""

from collections.abc import Callable, Sequence

from telegram import InlineKeyboardMarkup, Update

from bot.context import HedgeContext
from bot.handlers.replies import refuse, reply
from bot.parsing import parse_coin_argument
from bot.services import Overview
from hedgecore.errors import HedgeCoreError, InvalidInput


async def answer_overview(
    update: Update,
    context: HedgeContext,
    command: str,
    render: Callable[[Sequence[Overview]], str],
    buttons: Callable[[list[str]], InlineKeyboardMarkup] | None = None,
) -> None:
    """Reply to `command [COIN]` with the rendered overview of that coin, or of BTC and ETH."""
    try:
        coin = parse_coin_argument(context.args or [], command)
    except InvalidInput as exc:
        await refuse(update, str(exc))
        return
    try:
        overviews = await context.bot_data.services.overviews(coin)
    except HedgeCoreError as exc:
        await refuse(update, f"{exc}. Example: {command} BTC")
        return
    keyboard = buttons([o.coin for o in overviews]) if buttons else None
    await reply(update, render(overviews), keyboard)
