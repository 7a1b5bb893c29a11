"""/backtest [COIN]: how the hedges did on the bundled real history, in numbers and a picture."""

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import HedgeContext
from bot.handlers.replies import NEW_MESSAGES, refuse
from bot.parsing import parse_coin_argument
from bot.render import render_backtest_caption
from hedgecore.errors import HedgeCoreError, InvalidInput


async def backtest(update: Update, context: HedgeContext) -> None:
    """Replay the bundled history of a coin (BTC by default) and send the result."""
    message = update.effective_message
    if message is None:
        return
    try:
        coin = parse_coin_argument(context.args or [], "/backtest") or "BTC"
        report, png, origin = await context.bot_data.services.backtest(coin)
    except (InvalidInput, HedgeCoreError) as exc:
        await refuse(
            update, str(exc) if isinstance(exc, InvalidInput) else f"{exc}. Example: /backtest BTC"
        )
        return
    await message.reply_photo(
        png, caption=render_backtest_caption(report, origin), parse_mode="HTML", do_quote=False
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /backtest."""
    app.add_handler(CommandHandler("backtest", backtest, filters=NEW_MESSAGES))
