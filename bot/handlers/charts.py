"""Pictures: /chart QTY COIN [...] (payoff), /funding COIN chart, and the chart buttons."""

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler

from bot.context import HedgeApp, HedgeContext
from bot.defaults import DEFAULT_SETTINGS, hedge_question
from bot.handlers.replies import Command, add_commands, error_text, refuse_error
from bot.keyboards import FUNDING_CHART_PREFIX, BadCallback, decode_funding_chart, pattern
from bot.parsing import HedgeRequest, parse_hedge
from bot.pictures import funding_picture, payoff_picture
from bot.render import render_funding_caption, render_payoff_caption
from hedgecore.errors import HedgeCoreError

EXAMPLE = "/chart 1.2 BTC"
FUNDING_EXAMPLE = "/funding BTC chart"


async def send_payoff_chart(
    message: Message, context: HedgeContext, request: HedgeRequest, user_id: int | None
) -> None:
    """Draw and send the payoff chart of a single-holding request."""
    services = context.services
    defaults = await services.store.user_settings(user_id) if user_id else DEFAULT_SETTINGS
    try:
        answer = await services.desk.payoff(hedge_question(request, defaults))
    except HedgeCoreError as exc:
        await message.reply_text(error_text(exc, EXAMPLE), do_quote=False)
        return
    png = await payoff_picture(answer.curve)
    await message.reply_photo(png, caption=render_payoff_caption(answer), do_quote=False)


async def send_funding_chart(message: Message, context: HedgeContext, coin: str) -> None:
    """Draw and send the last 30 days of funding of `coin`."""
    try:
        answer = await context.services.desk.funding_history(coin)
    except HedgeCoreError as exc:
        await message.reply_text(error_text(exc, FUNDING_EXAMPLE), do_quote=False)
        return
    png = await funding_picture(coin, answer.lines, answer.as_of)
    await message.reply_photo(png, caption=render_funding_caption(answer), do_quote=False)


async def chart(update: Update, context: HedgeContext) -> None:
    """/chart 1.2 BTC [VENUE] [Nx] [R%]: the payoff of that hedge across prices."""
    message = update.effective_message
    if message is None:
        return
    try:
        request = parse_hedge(context.args or [], "/chart")
    except HedgeCoreError as exc:
        await refuse_error(update, exc, EXAMPLE)
        return
    await send_payoff_chart(
        message, context, request, update.effective_user.id if update.effective_user else None
    )


async def funding_chart_button(update: Update, context: HedgeContext) -> None:
    """The chart button under /funding."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    try:
        coin = decode_funding_chart(query.data)
    except BadCallback:
        await query.answer("This button is out of date: send /funding again.")
        return
    await query.answer()
    await send_funding_chart(query.message, context, coin)


COMMANDS = (Command("chart", "the payoff of a hedge as a picture", "/chart 1.2 BTC 3x", chart),)


def register(app: HedgeApp) -> None:
    """Register /chart and the funding chart button."""
    add_commands(app, COMMANDS)
    app.add_handler(
        CallbackQueryHandler(funding_chart_button, pattern=pattern(FUNDING_CHART_PREFIX))
    )
