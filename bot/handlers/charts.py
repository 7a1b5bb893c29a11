"""Pictures: /chart QTY COIN [...] (payoff), /funding COIN chart, and the chart buttons."""

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import HedgeContext
from bot.handlers.replies import NEW_MESSAGES, refuse
from bot.parsing import HedgeRequest, parse_coin_argument, parse_hedge
from bot.store import UserSettings
from hedgecore import fmt
from hedgecore.errors import HedgeCoreError, InvalidInput
from hedgecore.venues import venue_name

FUNDING_CHART_PREFIX = "f:"


async def send_payoff_chart(
    message: Message, context: HedgeContext, request: HedgeRequest, user_id: int | None
) -> None:
    """Draw and send the payoff chart of a single-holding request."""
    services = context.bot_data.services
    defaults = await services.store.user_settings(user_id) if user_id else UserSettings()
    try:
        png, market_plan = await services.payoff_chart(request, defaults)
    except HedgeCoreError as exc:
        await message.reply_text(f"{exc}. Example: /chart 1.2 BTC", do_quote=False)
        return
    best = market_plan.plan.best
    caption = (
        f"{fmt.coin(market_plan.plan.holding.quantity, market_plan.plan.holding.coin)}: short {best.contracts:,} "
        f"{venue_name(best.venue)} {best.symbol} at {fmt.leverage(best.leverage)} · data {market_plan.data_label}"
    )
    await message.reply_photo(png, caption=caption, do_quote=False)


async def send_funding_chart(message: Message, context: HedgeContext, coin: str) -> None:
    """Draw and send the last 30 days of funding of `coin`."""
    try:
        png, as_of = await context.bot_data.services.funding_chart(coin)
    except HedgeCoreError as exc:
        await message.reply_text(f"{exc}. Example: /funding BTC chart", do_quote=False)
        return
    caption = f"{coin} funding per venue, last 30 days, a year; shaded where a short paid · to {fmt.utc(as_of)}"
    await message.reply_photo(png, caption=caption, do_quote=False)


async def chart(update: Update, context: HedgeContext) -> None:
    """/chart 1.2 BTC [VENUE] [Nx] [R%]: the payoff of that hedge across prices."""
    message = update.effective_message
    if message is None:
        return
    try:
        request = parse_hedge(context.args or [])
    except InvalidInput as exc:
        await refuse(update, str(exc).replace("/hedge", "/chart"))
        return
    if len(request.holdings) != 1:
        await refuse(update, "a chart shows one holding. Example: /chart 1.2 BTC")
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
        coin = parse_coin_argument([query.data.removeprefix(FUNDING_CHART_PREFIX)], "/funding")
    except InvalidInput:
        coin = None
    if coin is None:
        await query.answer("This button is out of date: send /funding again.")
        return
    await query.answer()
    await send_funding_chart(query.message, context, coin)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /chart and the funding chart button."""
    app.add_handler(CommandHandler("chart", chart, filters=NEW_MESSAGES))
    app.add_handler(CallbackQueryHandler(funding_chart_button, pattern=f"^{FUNDING_CHART_PREFIX}"))
