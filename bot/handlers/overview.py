"""What /funding and /basis share: one optional coin, the desk's overviews, one rendering."""

from collections.abc import Callable, Sequence

from telegram import Update

from bot.context import HedgeContext
from bot.handlers.replies import refuse_error, reply
from bot.keyboards import Keyboard
from bot.parsing import parse_coin_argument
from hedgecore.answers import Overview
from hedgecore.errors import HedgeCoreError


async def answer_overview(
    update: Update,
    context: HedgeContext,
    command: str,
    render: Callable[[Sequence[Overview]], str],
    buttons: Callable[[list[str]], Keyboard | None] | None = None,
    with_history: bool = False,
) -> None:
    """Reply to `command [COIN]` with the rendered overview of that coin, or of BTC and ETH."""
    try:
        coin = parse_coin_argument(context.args or [], command)
        overviews = await context.services.desk.overviews(coin, with_history)
    except HedgeCoreError as exc:
        await refuse_error(update, exc, f"{command} BTC")
        return
    keyboard = buttons([o.coin for o in overviews]) if buttons else None
    await reply(update, render(overviews), keyboard)
