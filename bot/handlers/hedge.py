"""/hedge QTY COIN [...]: plan a hedge; buttons under the plan change venue, leverage and ratio."""

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import HedgeContext
from bot.handlers.charts import send_payoff_chart
from bot.handlers.replies import NEW_MESSAGES, refuse, reply
from bot.keyboards import PREFIX, BadCallback, decode, plan_keyboard
from bot.parsing import HedgeRequest, parse_hedge
from bot.render import render_hedge, render_leverage_table
from bot.services import HedgeResult
from bot.store import UserSettings
from hedgecore.errors import HedgeCoreError, InvalidInput


def _keyboard(request: HedgeRequest, result: HedgeResult) -> InlineKeyboardMarkup | None:
    plan = result.plans[0].plan
    venues = list(dict.fromkeys(leg.venue for leg in plan.legs))
    return plan_keyboard(request, venues, plan.leverage, plan.hedge_ratio)


async def hedge(update: Update, context: HedgeContext) -> None:
    """Plan the hedge of the holdings typed after /hedge."""
    user = update.effective_user
    try:
        request = parse_hedge(context.args or [])
    except InvalidInput as exc:
        await refuse(update, str(exc))
        return
    services = context.bot_data.services
    defaults = await services.store.user_settings(user.id) if user else UserSettings()
    try:
        result = await services.hedge(request, defaults)
    except HedgeCoreError as exc:
        await refuse(update, f"{exc}. Example: /hedge 1.2 BTC")
        return
    await reply(update, render_hedge(result), _keyboard(request, result))


async def button(update: Update, context: HedgeContext) -> None:
    """Re-plan with what a button changed, editing the same message."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    try:
        request, view = decode(query.data)
    except BadCallback:
        await query.answer("This button is out of date: send /hedge again.")
        return
    await query.answer()
    if view == "c":
        if isinstance(query.message, Message):
            await send_payoff_chart(query.message, context, request, query.from_user.id)
        return
    services = context.bot_data.services
    defaults = await services.store.user_settings(query.from_user.id)
    try:
        result = await services.hedge(request, defaults)
    except HedgeCoreError as exc:
        await query.edit_message_text(f"{exc}. Example: /hedge 1.2 BTC")
        return
    market_plan = result.plans[0]
    if view == "t":
        text = render_leverage_table(market_plan, market_plan.leverage_rows())
    else:
        text = render_hedge(result)
    try:
        await query.edit_message_text(
            text, parse_mode="HTML", reply_markup=_keyboard(request, result)
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /hedge and its buttons."""
    app.add_handler(CommandHandler("hedge", hedge, filters=NEW_MESSAGES))
    app.add_handler(CallbackQueryHandler(button, pattern=f"^{PREFIX}:"))
