"""/settings: a user's default leverage, hedge ratio and preferred venues, stored per user."""

from telegram import Update

from bot.context import HedgeApp, HedgeContext
from bot.defaults import DEFAULT_SETTINGS, UserSettings
from bot.handlers.replies import Command, add_commands, refuse_error, reply
from bot.render import render_settings
from hedgecore import inputs
from hedgecore.errors import HedgeCoreError, InvalidInput
from hedgecore.venues import venue_by_name

USAGE = "/settings leverage 2x"
EXAMPLES = {
    "leverage": USAGE,
    "ratio": "/settings ratio 50%",
    "venues": "/settings venues okx,bybit",
}


def changed(current: UserSettings, args: list[str]) -> UserSettings:
    """The settings after `/settings NAME VALUE` or `/settings reset`."""
    if args == ["reset"]:
        return DEFAULT_SETTINGS
    if len(args) != 2:
        raise InvalidInput("say which setting and its value, or reset", USAGE)
    name, value = args[0].lower(), args[1]
    if name not in EXAMPLES:
        raise InvalidInput(f"unknown setting {name[:20]!r}: use leverage, ratio or venues", USAGE)
    try:
        if name == "leverage":
            return current.model_copy(update={"leverage": inputs.parse_leverage(value)})
        if name == "ratio":
            return current.model_copy(update={"hedge_ratio": inputs.parse_hedge_ratio(value)})
        venues = value.lower()
        chosen = (
            ()
            if venues == "all"
            else tuple(dict.fromkeys(venue_by_name(v).id for v in venues.split(",") if v))
        )
        return current.model_copy(update={"venues": chosen})
    except InvalidInput as exc:  # the value's own example is a bare value: show the command
        raise InvalidInput(exc.problem, EXAMPLES[name]) from None


async def settings(update: Update, context: HedgeContext) -> None:
    """Show or change the user's defaults."""
    user = update.effective_user
    if user is None:
        return
    store = context.services.store
    current = await store.user_settings(user.id)
    if context.args:
        try:
            current = changed(current, context.args)
        except HedgeCoreError as exc:
            await refuse_error(update, exc, USAGE)
            return
        await store.save_user_settings(user.id, current)
    await reply(update, render_settings(current))


COMMANDS = (
    Command(
        "settings", "your default leverage, ratio and venues", "/settings leverage 2x", settings
    ),
)


def register(app: HedgeApp) -> None:
    """Register /settings."""
    add_commands(app, COMMANDS)
