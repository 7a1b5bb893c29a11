"""/alert, /alerts, /unalert: funding-rate alerts, and the job that checks them every minute."""

import logging
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import HedgeApp, HedgeContext
from bot.handlers.replies import (
    Command,
    add_commands,
    edit_answer,
    edit_refusal,
    error_text,
    refuse,
    refuse_error,
    reply,
)
from bot.keyboards import (
    DELETE_PREFIX,
    WIZARD_PREFIX,
    BadCallback,
    decode_delete,
    decode_wizard,
    delete_buttons,
    pattern,
    wizard_choice_buttons,
    wizard_coin_buttons,
)
from bot.parsing import ALERT_EXAMPLE, parse_alert
from bot.render import render_alert_list, render_new_alert
from bot.store import LeadLost
from hedgecore.alerts import MAX_ALERT_ID, admit_alert
from hedgecore.errors import HedgeCoreError, Refused
from hedgecore.venues import venue_name

# How often a process asks whether it leads the alert cycles: a standby takes over this soon
# after the leader dies. The leader runs the cycles every minute and sends what is queued at
# every turn.
TURN_EVERY_S = 10
log = logging.getLogger(__name__)


async def _add(context: HedgeContext, chat_id: int, args: list[str]) -> str:
    """Add the alert `args` describe, under the product's rules; returns the HTML answer."""
    services = context.services
    wanted = parse_alert(args)
    listed = await services.desk.listed_coins()
    if listed and wanted.coin not in listed:
        raise Refused(
            f"no venue lists an inverse contract on {wanted.coin}, so it has no funding to watch; "
            f"listed now: {', '.join(list(listed)[:6])}"
        )
    if listed and wanted.venue is not None and wanted.venue not in listed[wanted.coin]:
        raise Refused(
            f"{venue_name(wanted.venue)} lists no inverse contract on {wanted.coin}; "
            f"try {', '.join(venue_name(v) for v in listed[wanted.coin])}"
        )
    rule = await services.store.add_alert(
        chat_id, wanted, lambda existing: admit_alert(existing, wanted)
    )
    services.alerts.rules_added([rule])
    return render_new_alert(rule)


def _unwatched(context: HedgeContext) -> str:
    """A word on alerts added where no one watches funding (the terminal chat runs no jobs)."""
    if context.application.running:
        return ""
    return "\n<i>Saved, but watched only while hedgebot runs on Telegram, not in this chat.</i>"


async def alert(update: Update, context: HedgeContext) -> None:
    """Add an alert; without arguments, walk through it with buttons."""
    chat = update.effective_chat
    if chat is None:
        return
    if not context.args:
        await reply(
            update,
            "Which coin should I watch? (Or type e.g. <code>/alert SOL above 0.05%</code>.)",
            wizard_coin_buttons(),
        )
        return
    try:
        answer = await _add(context, chat.id, context.args)
    except HedgeCoreError as exc:
        await refuse_error(update, exc, ALERT_EXAMPLE)
        return
    await reply(update, answer + _unwatched(context))


async def wizard_button(update: Update, context: HedgeContext) -> None:
    """The buttons of the /alert walk-through: first the coin, then what to watch."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    try:
        words = decode_wizard(query.data)
    except BadCallback:
        await query.answer("This button is out of date: send /alert again.")
        return
    await query.answer()
    if len(words) == 1:
        await edit_answer(
            query,
            f"{words[0]}: tell me when funding per 8 hours is...",
            wizard_choice_buttons(words[0]),
        )
        return
    try:
        answer = await _add(context, chat.id, words)
    except HedgeCoreError as exc:
        await edit_refusal(query, error_text(exc, ALERT_EXAMPLE))
        return
    await edit_answer(query, answer + _unwatched(context))


async def alerts(update: Update, context: HedgeContext) -> None:
    """List the chat's alerts with a delete button each."""
    chat = update.effective_chat
    if chat is None:
        return
    rules = await context.services.store.alerts_of(chat.id)
    await reply(update, render_alert_list(rules), delete_buttons([r.id for r in rules]))


async def unalert(update: Update, context: HedgeContext) -> None:
    """Delete one alert (/unalert 3) or all (/unalert all)."""
    chat = update.effective_chat
    args = context.args or []
    if chat is None:
        return
    if len(args) != 1 or not (args[0] == "all" or (args[0].isascii() and args[0].isdigit())):
        await refuse(update, "say which alert, or all. Example: /unalert 3")
        return
    services = context.services
    rule_id = None if args[0] == "all" else int(args[0])
    if rule_id is not None and rule_id > MAX_ALERT_ID:
        gone = 0  # no row can have that id
    else:
        ids = (
            [rule_id]
            if rule_id is not None
            else [r.id for r in await services.store.alerts_of(chat.id)]
        )
        gone = await services.store.delete_alerts(chat.id, rule_id)
        services.alerts.rules_removed(ids)
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
    try:
        rule_id = decode_delete(query.data)
    except BadCallback:
        await query.answer("This button is out of date: send /alerts again.")
        return
    services = context.services
    await services.store.delete_alerts(chat.id, rule_id)
    services.alerts.rules_removed([rule_id])
    await query.answer(f"Alert #{rule_id} deleted.")
    rules = await services.store.alerts_of(chat.id)
    await edit_answer(query, render_alert_list(rules), delete_buttons([r.id for r in rules]))


async def check_alerts(context: HedgeContext) -> None:
    """The job, if this process leads: once a minute evaluate every alert and tracked hedge;
    at every turn send what is queued."""
    service = context.services.alerts
    if not await service.leads():
        return
    if service.cycle_due():
        now = datetime.now(UTC)
        # One failing (no venue answering) must not keep the other's messages, or the queued
        # ones, from going out.
        for step in (service.cycle, service.track_cycle):
            try:
                await step(now)
            except HedgeCoreError as exc:
                log.warning("%s skipped this minute: %s", step.__name__, exc)
            except LeadLost as exc:
                log.warning("%s not committed: %s", step.__name__, exc)
                return  # the process leading now runs it
    await service.deliver(context.bot)


COMMANDS = (
    Command(
        "alert",
        "a funding-rate alert (above, below, negative, before, spread)",
        ALERT_EXAMPLE,
        alert,
    ),
    Command("alerts", "your alerts, with delete buttons", "/alerts", alerts),
    Command("unalert", "delete an alert, or all", "/unalert 3", unalert),
)


def register(app: HedgeApp) -> None:
    """Register the alert commands and their buttons (the job that checks them is the
    application's: `bot.app`)."""
    add_commands(app, COMMANDS)
    app.add_handler(CallbackQueryHandler(delete_button, pattern=pattern(DELETE_PREFIX)))
    app.add_handler(CallbackQueryHandler(wizard_button, pattern=pattern(WIZARD_PREFIX)))
