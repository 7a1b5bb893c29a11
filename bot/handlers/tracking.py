"""/track, /positions, /edit, /untrack, /digest, /tiers and the plan's "I placed this" button:
hedges the bot stays with.

The user declares the short they placed (no API keys); the minute job (with the funding alerts)
warns when the mark comes near its liquidation price.
"""

from datetime import UTC, datetime

from telegram import CallbackQuery, Update
from telegram.ext import CallbackQueryHandler

from bot.context import HedgeApp, HedgeContext
from bot.defaults import hedge_question
from bot.handlers.replies import (
    Command,
    add_commands,
    edit_answer,
    error_text,
    refuse,
    refuse_error,
    reply,
)
from bot.keyboards import (
    POSITIONS_PREFIX,
    BadCallback,
    decode_positions,
    pattern,
    positions_buttons,
)
from bot.parsing import (
    EDIT_EXAMPLE,
    TRACK_EXAMPLE,
    HedgeRequest,
    TrackRequest,
    parse_edit,
    parse_track,
)
from bot.render import render_edit_hint, render_positions, render_tracked
from bot.services import Services
from hedgecore import fmt, inputs
from hedgecore.alerts import MAX_ALERT_ID
from hedgecore.errors import HedgeCoreError, InvalidInput, Refused
from hedgecore.models import DataSource
from hedgecore.tracking import PlacedShort, Tiers, TrackedHedge, admit_tracked, next_digest_at

TIERS_EXAMPLE = "/tiers 30 15 5"


async def _record(context: HedgeContext, chat_id: int, placed: PlacedShort) -> str:
    """Track `placed` for the chat under the product's rules; returns the HTML answer."""
    return await record(context.services, chat_id, placed, context.application.running)


async def record(services: Services, chat_id: int, placed: PlacedShort, watched: bool) -> str:
    """Track `placed` for the chat under the product's rules; returns the HTML answer (which
    says whether the minute job is `watched` over it)."""
    tracked = await services.store.add_tracked(
        chat_id, placed, lambda existing: admit_tracked(existing, placed)
    )
    services.alerts.tracking_changed()
    watch = await services.store.chat_watch(chat_id)
    return render_tracked(tracked, watch.tiers, watched=watched)


async def placed_plan(services: Services, user_id: int, request: HedgeRequest) -> PlacedShort:
    """The best leg of `request`'s plan, as the plan sized it, declared as the short placed."""
    defaults = await services.store.user_settings(user_id)
    result = await services.desk.hedge(hedge_question(request, defaults))
    if result.plans[0].source is DataSource.DEMO:
        raise Refused("the demo's prices are not ones a short was placed at: plan on live data")
    plan = result.plans[0].plan
    leg = plan.best
    if leg.margin_currency != plan.holding.coin:
        raise Refused("a cross hedge cannot be tracked yet: track its short with /track")
    return await services.desk.declare_short(
        leg.venue,
        leg.symbol,
        leg.order_amount,
        leg.entry_price,
        leg.leverage,
        plan.holding.quantity * plan.hedge_ratio,
    )


async def _declare(context: HedgeContext, user_id: int, request: TrackRequest) -> PlacedShort:
    """The short `request` describes, checked against its contract."""
    defaults = await context.services.store.user_settings(user_id)
    placed = await context.services.desk.declare_short(
        request.venue,
        request.symbol,
        request.order_amount,
        request.entry_price,
        request.leverage or defaults.leverage,
        request.hedged.quantity if request.hedged else None,
    )
    if request.hedged is not None and request.hedged.coin != placed.coin:
        raise Refused(
            f"{placed.venue_symbol or placed.symbol} is a {placed.coin} contract: a short on it "
            f"hedges {placed.coin}, not {request.hedged.coin}"
        )
    return placed


async def track(update: Update, context: HedgeContext) -> None:
    """Track a short placed by hand: /track VENUE SYMBOL AMOUNT [@ ENTRY] [Nx] [for QTY COIN]."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    try:
        placed = await _declare(context, user.id, parse_track(context.args or []))
        answer = await _record(context, chat.id, placed)
    except HedgeCoreError as exc:
        await refuse_error(update, exc, TRACK_EXAMPLE)
        return
    await reply(update, answer)


async def track_plan(query: CallbackQuery, context: HedgeContext, request: HedgeRequest) -> None:
    """The plan's "I placed this": track its best leg as the plan sized it."""
    chat = query.message.chat if query.message else None
    if chat is None:
        return
    try:
        placed = await placed_plan(context.services, query.from_user.id, request)
        answer = await _record(context, chat.id, placed)
    except HedgeCoreError as exc:
        await query.answer()
        await query.get_bot().send_message(chat.id, error_text(exc, TRACK_EXAMPLE))
        return
    await query.answer("Tracked.")
    await query.get_bot().send_message(chat.id, answer, parse_mode="HTML")


async def _positions_text(
    context: HedgeContext, chat_id: int, only: int | None = None
) -> tuple[str, list[int]]:
    """The chat's tracked hedges as they stand (or only hedge `only`), and their numbers."""
    hedges: list[TrackedHedge] = await context.services.store.tracked_of(chat_id)
    if only is not None:
        hedges = [hedge for hedge in hedges if hedge.id == only]
        if not hedges:
            return f"You track no hedge #{only}: see /positions.", []
    statuses = await context.services.desk.positions(hedges) if hedges else []
    return render_positions(statuses), [hedge.id for hedge in hedges]


async def positions(update: Update, context: HedgeContext) -> None:
    """The chat's tracked hedges as they stand (/positions 3: one), with their buttons."""
    chat = update.effective_chat
    args = context.args or []
    if chat is None:
        return
    if len(args) > 1 or (
        args and not (args[0].isascii() and args[0].isdigit() and len(args[0]) < 19)
    ):
        await refuse(update, "say which hedge, or nothing for all. Example: /positions 3")
        return
    text, ids = await _positions_text(context, chat.id, int(args[0]) if args else None)
    await reply(update, text, positions_buttons(ids) if ids else None)


async def untrack(update: Update, context: HedgeContext) -> None:
    """Stop tracking one hedge (/untrack 3) or all (/untrack all)."""
    chat = update.effective_chat
    args = context.args or []
    if chat is None:
        return
    if len(args) != 1 or not (args[0] == "all" or (args[0].isascii() and args[0].isdigit())):
        await refuse(update, "say which hedge, or all. Example: /untrack 3")
        return
    hedge_id = None if args[0] == "all" else int(args[0])
    gone = 0
    if hedge_id is None or hedge_id <= MAX_ALERT_ID:
        gone = await context.services.store.delete_tracked(chat.id, hedge_id)
        context.services.alerts.tracking_changed()
    await refuse(
        update,
        f"Stopped tracking {gone} hedge{'s' if gone != 1 else ''}."
        if gone
        else "No such tracked hedge: see /positions.",
    )


async def positions_button(update: Update, context: HedgeContext) -> None:
    """Refresh /positions or untrack the hedge a button names (editing the same message), or
    say how to correct it."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    try:
        action, hedge_id = decode_positions(query.data)
    except BadCallback:
        await query.answer("This button is out of date: send /positions again.")
        return
    services = context.services
    if action == "edit":
        hedge = next(
            (h for h in await services.store.tracked_of(chat.id) if h.id == hedge_id), None
        )
        await query.answer()
        if hedge is not None:
            await query.get_bot().send_message(chat.id, render_edit_hint(hedge), parse_mode="HTML")
        return
    if action == "untrack" and hedge_id is not None:
        await services.store.delete_tracked(chat.id, hedge_id)
        services.alerts.tracking_changed()
        await query.answer(f"Hedge #{hedge_id} no longer tracked.")
    else:
        await query.answer()
    text, ids = await _positions_text(context, chat.id)
    await edit_answer(query, text, positions_buttons(ids) if ids else None)


async def edit(update: Update, context: HedgeContext) -> None:
    """Correct a tracked hedge: /edit N [@ ENTRY] [Nx] [+MARGIN added since opening]."""
    chat = update.effective_chat
    if chat is None:
        return
    services = context.services
    try:
        request = parse_edit(context.args or [])
        hedge = next(
            (h for h in await services.store.tracked_of(chat.id) if h.id == request.hedge_id),
            None,
        )
        if hedge is None:
            raise Refused(f"you track no hedge #{request.hedge_id}: see /positions")
        changed = await services.desk.edit_short(
            hedge, request.entry_price, request.leverage, request.added_margin_coin
        )
        tracked = await services.store.replace_tracked(chat.id, hedge.id, changed)
        if tracked is None:
            raise Refused(f"you track no hedge #{request.hedge_id}: see /positions")
    except HedgeCoreError as exc:
        await refuse_error(update, exc, EDIT_EXAMPLE)
        return
    services.alerts.tracking_changed()
    watch = await services.store.chat_watch(chat.id)
    await reply(update, render_tracked(tracked, watch.tiers, watched=context.application.running))


async def digest(update: Update, context: HedgeContext) -> None:
    """Turn the weekly digest of the chat's tracked hedges on or off."""
    chat = update.effective_chat
    args = [a.lower() for a in context.args or []]
    if chat is None:
        return
    if args not in (["on"], ["off"]):
        await refuse(update, "say on or off. Example: /digest on")
        return
    store = context.services.store
    watch = await store.chat_watch(chat.id)
    if args == ["on"]:
        when = next_digest_at(datetime.now(UTC))
        await store.save_chat_watch(
            chat.id, watch.model_copy(update={"digest": True, "next_digest_at": when})
        )
        await refuse(update, f"Weekly digest on: the first comes {fmt.utc(when)}.")
    else:
        await store.save_chat_watch(chat.id, watch.model_copy(update={"digest": False}))
        await refuse(update, "Weekly digest off.")


def _tiers(args: list[str]) -> Tiers:
    """The tiers `/tiers 30 15 5` gives (percent signs optional), or the defaults for reset."""
    if args == ["reset"]:
        return Tiers()
    if not 1 <= len(args) <= 5:
        raise InvalidInput("give one to five distances in percent, or reset", TIERS_EXAMPLE)
    try:
        return Tiers(pct=tuple(inputs.parse_quantity(a.removesuffix("%")) for a in args))
    except (InvalidInput, ValueError):
        raise InvalidInput("tiers are percentages between 0 and 100", TIERS_EXAMPLE) from None


async def tiers(update: Update, context: HedgeContext) -> None:
    """Show or set how close to liquidation the chat's warnings come (30 %, 15 %, 5 %)."""
    chat = update.effective_chat
    if chat is None:
        return
    store = context.services.store
    watch = await store.chat_watch(chat.id)
    if context.args:
        try:
            chosen = _tiers(context.args)
        except InvalidInput as exc:
            await refuse_error(update, exc, TIERS_EXAMPLE)
            return
        watch = watch.model_copy(update={"tiers": chosen})
        await store.save_chat_watch(chat.id, watch)
    levels = ", ".join(fmt.pct(t, 0) for t in watch.tiers.pct)
    await refuse(update, f"Liquidation warnings at {levels} from the liquidation price.")


COMMANDS = (
    Command(
        "track", "track a short you placed, and be warned before liquidation", TRACK_EXAMPLE, track
    ),
    Command("positions", "your tracked hedges as they stand", "/positions", positions),
    Command("untrack", "stop tracking a hedge, or all", "/untrack 3", untrack),
    Command(
        "edit", "correct a tracked hedge's entry, leverage or added margin", EDIT_EXAMPLE, edit
    ),
    Command("digest", "a weekly digest of your tracked hedges, on or off", "/digest on", digest),
    Command("tiers", "how close to liquidation the warnings come", TIERS_EXAMPLE, tiers),
)


def register(app: HedgeApp) -> None:
    """Register the tracking commands and their buttons."""
    add_commands(app, COMMANDS)
    app.add_handler(CallbackQueryHandler(positions_button, pattern=pattern(POSITIONS_PREFIX)))
