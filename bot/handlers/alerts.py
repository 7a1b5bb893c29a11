"""/alert, /alerts, /unalert: funding-rate alerts, and the job that checks them every minute."""

from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import HedgeContext
from bot.handlers.replies import NEW_MESSAGES, refuse, reply
from bot.parsing import parse_alert
from bot.render import render_alert_list, render_new_alert
from bot.store import AlertRefused
from hedgecore.errors import InvalidInput

CHECK_EVERY_S = 60
DELETE_PREFIX = "a:del:"


WIZARD_PREFIX = "w:"
WIZARD_COINS = ("BTC", "ETH")
# What the second step offers: the words of an /alert command after the coin.
WIZARD_CHOICES = (
    "above 0.01%",
    "above 0.03%",
    "below 0%",
    "negative",
    "before 30m",
    "spread 0.02%",
)


async def _add(context: HedgeContext, chat_id: int, args: list[str]) -> str:
    """Add the alert `args` describe; returns the answer (HTML on success, plain refusal otherwise)."""
    wanted = parse_alert(args)
    services = context.bot_data.services
    rule = await services.store.add_alert(chat_id, wanted)
    services.alerts.rules_changed()
    return render_new_alert(rule)


async def alert(update: Update, context: HedgeContext) -> None:
    """Add an alert; without arguments, walk through it with buttons."""
    chat = update.effective_chat
    if chat is None:
        return
    if not context.args:
        buttons = [
            InlineKeyboardButton(coin, callback_data=f"{WIZARD_PREFIX}{coin}")
            for coin in WIZARD_COINS
        ]
        await reply(
            update,
            "Which coin should I watch? (Or type e.g. <code>/alert SOL above 0.05%</code>.)",
            InlineKeyboardMarkup([buttons]),
        )
        return
    try:
        answer = await _add(context, chat.id, context.args)
    except (InvalidInput, AlertRefused) as exc:
        await refuse(update, str(exc))
        return
    await reply(update, answer)


async def wizard_button(update: Update, context: HedgeContext) -> None:
    """The buttons of the /alert walk-through: first the coin, then what to watch."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    words = query.data.removeprefix(WIZARD_PREFIX).split()
    await query.answer()
    if len(words) == 1:
        coin = words[0]
        rows = [
            [InlineKeyboardButton(choice, callback_data=f"{WIZARD_PREFIX}{coin} {choice}")]
            for choice in WIZARD_CHOICES
        ]
        await query.edit_message_text(
            f"{coin}: tell me when funding per 8 hours is...",
            reply_markup=InlineKeyboardMarkup(rows),
        )
        return
    try:
        answer = await _add(context, chat.id, words)
    except (InvalidInput, AlertRefused) as exc:
        await query.edit_message_text(str(exc))
        return
    await query.edit_message_text(answer, parse_mode="HTML")


def _delete_buttons(rule_ids: list[int]) -> InlineKeyboardMarkup | None:
    buttons = [
        InlineKeyboardButton(f"Delete #{rule_id}", callback_data=f"{DELETE_PREFIX}{rule_id}")
        for rule_id in rule_ids
    ]
    return (
        InlineKeyboardMarkup([buttons[i : i + 4] for i in range(0, len(buttons), 4)])
        if buttons
        else None
    )


async def alerts(update: Update, context: HedgeContext) -> None:
    """List the chat's alerts with a delete button each."""
    chat = update.effective_chat
    if chat is None:
        return
    rules = await context.bot_data.services.store.alerts_of(chat.id)
    await reply(update, render_alert_list(rules), _delete_buttons([r.id for r in rules]))


async def unalert(update: Update, context: HedgeContext) -> None:
    """Delete one alert (/unalert 3) or all (/unalert all)."""
    chat = update.effective_chat
    args = context.args or []
    if chat is None:
        return
    if len(args) != 1 or not (args[0] == "all" or (args[0].isascii() and args[0].isdigit())):
        await refuse(update, "say which alert, or all. Example: /unalert 3")
        return
    services = context.bot_data.services
    gone = await services.store.delete_alerts(chat.id, None if args[0] == "all" else int(args[0]))
    services.alerts.rules_changed()
    await refuse(
        update,
        f"Deleted {gone} alert{'s' if gone != 1 else ''}."
        if gone
        else "No such alert: see /alerts.",
    )


async def delete_button(update: Update, context: HedgeContext) -> None:
    """Delete the alert a button names, then show the list again."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    rule_id = query.data.removeprefix(DELETE_PREFIX)
    if not rule_id.isdigit():
        await query.answer("This button is out of date: send /alerts again.")
        return
    services = context.bot_data.services
    await services.store.delete_alerts(chat.id, int(rule_id))
    services.alerts.rules_changed()
    await query.answer(f"Alert #{rule_id} deleted.")
    rules = await services.store.alerts_of(chat.id)
    await query.edit_message_text(
        render_alert_list(rules),
        parse_mode="HTML",
        reply_markup=_delete_buttons([r.id for r in rules]),
    )


async def check_alerts(context: HedgeContext) -> None:
    """The minute job: evaluate every alert and send what fired."""
    service = context.bot_data.services.alerts
    await service.cycle(datetime.now(UTC))
    await service.deliver(context.bot)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register the alert commands, their buttons and the checking job."""
    app.add_handler(CommandHandler("alert", alert, filters=NEW_MESSAGES))
    app.add_handler(CommandHandler("alerts", alerts, filters=NEW_MESSAGES))
    app.add_handler(CommandHandler("unalert", unalert, filters=NEW_MESSAGES))
    app.add_handler(CallbackQueryHandler(delete_button, pattern=f"^{DELETE_PREFIX}"))
    app.add_handler(CallbackQueryHandler(wizard_button, pattern=f"^{WIZARD_PREFIX}"))
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            check_alerts, interval=CHECK_EVERY_S, first=CHECK_EVERY_S, name="alerts"
        )
