"""/hedge QTY COIN [...]: plan a hedge; buttons under the plan change venue, leverage and ratio."""

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler

from bot.context import HedgeApp, HedgeContext
from bot.defaults import DEFAULT_SETTINGS, hedge_question
from bot.handlers.charts import send_payoff_chart
from bot.handlers.replies import (
    Command,
    add_commands,
    edit_answer,
    edit_refusal,
    error_text,
    refuse_error,
    reply,
)
from bot.handlers.tracking import track_plan
from bot.keyboards import PLAN_PREFIX, BadCallback, Keyboard, decode, pattern, plan_keyboard
from bot.parsing import HedgeRequest, parse_hedge
from bot.render import render_hedge, render_how_to_place, render_leverage_table, render_risks
from hedgecore.answers import HedgeResult
from hedgecore.errors import HedgeCoreError
from hedgecore.models import DataSource

EXAMPLE = "/hedge 1.2 BTC"


def plan_reply(
    request: HedgeRequest, result: HedgeResult, calculator_url: str | None
) -> tuple[str, Keyboard | None]:
    """The /hedge reply to `request`: the plan and its buttons (with `calculator_url`, one that
    opens the calculator on the same plan)."""
    return render_hedge(result), _keyboard(request, result, calculator_url)


def calculator_url(update: Update, context: HedgeContext) -> str | None:
    """The bot's public URL, where a chat can have a calculator button: Telegram allows them in
    private chats only."""
    chat = update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    return context.services.settings.public_url if private else None


def _keyboard(
    request: HedgeRequest, result: HedgeResult, calculator_url: str | None
) -> Keyboard | None:
    plan = result.plans[0].plan
    venues = list(dict.fromkeys(leg.venue for leg in plan.legs))
    demo = result.plans[0].source is DataSource.DEMO
    return plan_keyboard(request, venues, plan.leverage, plan.hedge_ratio, not demo, calculator_url)


async def hedge(update: Update, context: HedgeContext) -> None:
    """Plan the hedge of the holdings typed after /hedge."""
    try:
        request = parse_hedge(context.args or [])
    except HedgeCoreError as exc:
        await refuse_error(update, exc, EXAMPLE)
        return
    await answer_hedge(update, context, request)


async def answer_hedge(update: Update, context: HedgeContext, request: HedgeRequest) -> None:
    """Plan `request` with the user's defaults and reply with the plan and its buttons."""
    user = update.effective_user
    services = context.services
    try:
        defaults = await services.store.user_settings(user.id) if user else DEFAULT_SETTINGS
        result = await services.desk.hedge(hedge_question(request, defaults))
    except HedgeCoreError as exc:
        await refuse_error(update, exc, EXAMPLE)
        return
    await reply(update, *plan_reply(request, result, calculator_url(update, context)))


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
    if view != "s":  # tracking answers the query itself, with what it did
        await query.answer()
    if view == "c":
        if isinstance(query.message, Message):
            await send_payoff_chart(query.message, context, request, query.from_user.id)
        return
    if view == "s":
        await track_plan(query, context, request)
        return
    services = context.services
    defaults = await services.store.user_settings(query.from_user.id)
    try:
        result = await services.desk.hedge(hedge_question(request, defaults))
    except HedgeCoreError as exc:
        await edit_refusal(query, error_text(exc, EXAMPLE))
        return
    market_plan = result.plans[0]
    if view == "t":
        text = render_leverage_table(market_plan, market_plan.leverage_rows())
    elif view == "r":
        text = render_risks(market_plan)
    elif view == "h":
        text = render_how_to_place(market_plan)
    else:
        text = render_hedge(result)
    await edit_answer(query, text, _keyboard(request, result, calculator_url(update, context)))


COMMANDS = (Command("hedge", "plan a hedge of your coins", "/hedge 1.2 BTC 3x", hedge),)


def register(app: HedgeApp) -> None:
    """Register /hedge and the plan's buttons."""
    add_commands(app, COMMANDS)
    app.add_handler(CallbackQueryHandler(button, pattern=pattern(PLAN_PREFIX)))
