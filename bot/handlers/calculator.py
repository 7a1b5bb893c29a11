"""/app: open the calculator (a Mini App) to move leverage, ratio and price and see the hedge
change; also the chat's menu button, set at start-up when the bot has a public URL."""

from telegram import Update
from telegram.constants import ChatType

from bot.context import HedgeApp, HedgeContext
from bot.handlers.replies import Command, add_commands, refuse, reply
from bot.keyboards import Keyboard, WebAppButton
from bot.miniapp import CALCULATOR_PATH

NOT_SET_UP = "The calculator is not set up on this bot (its operator sets HEDGEBOT_PUBLIC_URL); /hedge 1.2 BTC plans in the chat."
NOT_PRIVATE = "The calculator opens in a private chat with me: message me directly and send /app."


def calculator_keyboard(public_url: str) -> Keyboard:
    """One button that opens the calculator with the user's own settings."""
    button = WebAppButton(text="🧮 Open calculator", web_app={"url": public_url + CALCULATOR_PATH})
    return {"inline_keyboard": [[button]]}


async def calculator(update: Update, context: HedgeContext) -> None:
    """Answer with the button that opens the calculator."""
    public_url = context.services.settings.public_url
    chat = update.effective_chat
    if public_url is None:
        await refuse(update, NOT_SET_UP)
    elif chat is None or chat.type != ChatType.PRIVATE:
        await refuse(update, NOT_PRIVATE)
    else:
        await reply(
            update,
            "Move leverage, hedge ratio and price and watch margin, liquidation and the payoff change.",
            calculator_keyboard(public_url),
        )


COMMANDS = (
    Command(
        "app", "the calculator: move leverage and ratio, see the hedge change", "/app", calculator
    ),
)


def register(app: HedgeApp) -> None:
    """Register /app."""
    add_commands(app, COMMANDS)
