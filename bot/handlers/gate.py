"""Before any handler: a private bot ignores strangers, and floods get one warning then silence."""

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import HedgeApp, HedgeContext
from bot.handlers.replies import refuse
from bot.logs import user_label

log = logging.getLogger(__name__)
SLOW_DOWN = "Slow down: that is more commands than I take in a minute. Try again in a minute."


async def gate(update: Update, context: HedgeContext) -> None:
    """Stop updates from users outside the allow-list, and users flooding the bot."""
    user = update.effective_user
    if user is None:
        return
    services = context.services
    allowed = services.settings.allowed_ids
    if allowed and user.id not in allowed:
        raise ApplicationHandlerStop
    verdict = await services.flood.check(user.id)
    if verdict == "ok":
        services.metrics.started(update)
        return
    if verdict == "warn":
        await refuse(update, SLOW_DOWN)
    raise ApplicationHandlerStop


async def done(update: Update, context: HedgeContext) -> None:
    """After the handlers: how long the reply took, in the metrics and one log line."""
    services = context.services
    seconds = services.metrics.finished(update)
    user = update.effective_user
    if user is not None and seconds is not None:
        who = user_label(user.id, services.settings.log_user_ids)
        log.info(
            "%s from %s answered in %.0f ms", services.metrics.label(update), who, seconds * 1000
        )


def register(app: HedgeApp) -> None:
    """The gate runs before every other handler group, the timer after."""
    app.add_handler(TypeHandler(Update, gate), group=-1)
    app.add_handler(TypeHandler(Update, done), group=1)
