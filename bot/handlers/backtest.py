"""/backtest [COIN] [VENUE]: how the hedges did on bundled real history, in numbers and a picture."""

from telegram import Update

from bot.context import HedgeApp, HedgeContext
from bot.handlers.replies import Command, add_commands, refuse_error, reply
from bot.parsing import parse_backtest
from bot.pictures import backtest_picture
from bot.render import render_backtest_caption, render_backtest_figures
from hedgecore.errors import HedgeCoreError


async def backtest(update: Update, context: HedgeContext) -> None:
    """Replay the bundled history of a coin (BTC by default), on a venue if named, and send it."""
    message = update.effective_message
    if message is None:
        return
    try:
        coin, venue = parse_backtest(context.args or [])
        answer = await context.services.desk.backtest(coin, venue)
    except HedgeCoreError as exc:
        await refuse_error(update, exc, "/backtest ETH okx")
        return
    png = await backtest_picture(answer.report, answer.origin)
    await message.reply_photo(
        png, caption=render_backtest_caption(answer), parse_mode="HTML", do_quote=False
    )
    await reply(update, render_backtest_figures(answer))


COMMANDS = (
    Command("backtest", "how the hedges did on real history", "/backtest ETH okx", backtest),
)


def register(app: HedgeApp) -> None:
    """Register /backtest."""
    add_commands(app, COMMANDS)
