"""/risk QTY COIN [...]: step 1, how much risk each holding carries, and a button to hedge the
ones that carry most of it."""

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import HedgeApp, HedgeContext
from bot.handlers.hedge import answer_hedge
from bot.handlers.replies import Command, add_commands, refuse, refuse_error, reply
from bot.keyboards import (
    HEDGE_FIRST_PREFIX,
    BadCallback,
    decode_hedge_first,
    hedge_first_button,
    pattern,
)
from bot.parsing import HedgeRequest, parse_hedge
from bot.render import render_risk
from hedgecore.errors import HedgeCoreError

EXAMPLE = "/risk 1.2 BTC 10 ETH 500 SOL"


async def risk(update: Update, context: HedgeContext) -> None:
    """Assess the holdings typed after /risk from their daily closes."""
    try:
        request = parse_hedge(context.args or [], "/risk")
        if request.venue or request.leverage or request.hedge_ratio:
            await refuse(update, f"/risk takes holdings only. Example: {EXAMPLE}")
            return
        answer = await context.services.desk.risk(request.holdings)
    except HedgeCoreError as exc:
        await refuse_error(update, exc, EXAMPLE)
        return
    first = [h for h in request.holdings if h.coin in answer.risk.hedge_first]
    first.sort(key=lambda h: answer.risk.hedge_first.index(h.coin))
    await reply(update, render_risk(answer), hedge_first_button(first))


async def hedge_first(update: Update, context: HedgeContext) -> None:
    """Plan the hedge of the holdings the /risk button names, as /hedge would."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    try:
        holdings = decode_hedge_first(query.data)
    except BadCallback:
        await query.answer("This button is out of date: send /risk again.")
        return
    await query.answer()
    await answer_hedge(update, context, HedgeRequest(holdings=holdings))


COMMANDS = (Command("risk", "which of your holdings to hedge first", EXAMPLE, risk),)


def register(app: HedgeApp) -> None:
    """Register /risk and its button."""
    add_commands(app, COMMANDS)
    app.add_handler(CallbackQueryHandler(hedge_first, pattern=pattern(HEDGE_FIRST_PREFIX)))
