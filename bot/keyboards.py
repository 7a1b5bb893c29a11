"""Every inline keyboard the bot sends, and the one encoder and parser of their callback data.

Callback data (at most 64 bytes) starts with its feature's prefix:
- "h:QTY:COIN:VENUE:LEVERAGE:RATIO:VIEW" a plan's buttons: VENUE "-" for all venues, RATIO in
  percent, VIEW "p" (plan), "t" (leverage table) or "c" (payoff chart);
- "f:COIN" the chart button under /funding;
- "a:del:ID" delete an alert;
- "w:COIN [WORDS]" a step of the /alert walk-through: the coin, then the words of the command;
- "k:QTY:COIN[:QTY:COIN...]" under /risk: plan the hedge of the holdings to hedge first;
- "t:r" refresh /positions, "t:e:ID" how to correct a tracked hedge, "t:u:ID" stop tracking it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, TypedDict
from urllib.parse import urlencode

from bot.miniapp import CALCULATOR_PATH
from bot.parsing import HedgeRequest, parse_coin_argument
from hedgecore import inputs
from hedgecore.alerts import MAX_ALERT_ID
from hedgecore.errors import InvalidInput
from hedgecore.models import Holding
from hedgecore.venues import venue_by_name, venue_name

PLAN_PREFIX = "h:"
FUNDING_CHART_PREFIX = "f:"
DELETE_PREFIX = "a:del:"
WIZARD_PREFIX = "w:"
HEDGE_FIRST_PREFIX = "k:"
POSITIONS_PREFIX = "t:"
MAX_CALLBACK_BYTES = 64
LEVERAGES = (Decimal(1), Decimal(2), Decimal(3), Decimal(5))
RATIOS = (Decimal("0.5"), Decimal(1))
# plan, leverage table, chart, risks, how to place it, and "I placed this" (track it)
View = Literal["p", "t", "c", "r", "h", "s"]


VIEWS: dict[str, View] = {view: view for view in ("p", "t", "c", "r", "h", "s")}


class BadCallback(ValueError):
    """Callback data that this bot did not make (or an older version did)."""


class Button(TypedDict):
    """An inline button as the Bot API takes it."""

    text: str
    callback_data: str


class WebAppButton(TypedDict):
    """An inline button that opens a Mini App (the calculator) at a URL."""

    text: str
    web_app: dict[str, str]


class Keyboard(TypedDict):
    """An inline keyboard as the Bot API takes it (InlineKeyboardMarkup's JSON).

    Built as JSON rather than as PTB objects: the plan's keyboard goes out with every /hedge, and
    building and serialising its objects cost a fifth of the reply's CPU.
    """

    inline_keyboard: list[list[Button | WebAppButton]]


def calculator_button(
    public_url: str, holding: Holding, leverage: Decimal, ratio: Decimal, venue: str | None
) -> WebAppButton:
    """ "Open calculator" with the plan's holding, venue, leverage and ratio filled in."""
    asked = {
        "coin": holding.coin,
        "quantity": str(holding.quantity),
        "leverage": str(leverage),
        "ratio": str(ratio),
    }
    if venue is not None:
        asked["venue"] = venue
    return WebAppButton(
        text="🧮 Open calculator",
        web_app={"url": f"{public_url}{CALCULATOR_PATH}?{urlencode(asked)}"},
    )


def _keyboard(rows: Sequence[Sequence[Button | WebAppButton]]) -> Keyboard | None:
    kept = [list(row) for row in rows if row]
    return {"inline_keyboard": kept} if kept else None


def _tail(venue: str | None, leverage: Decimal, ratio: Decimal, view: View) -> str:
    """A plan button's callback data after its quantity and coin."""
    return f"{venue or '-'}:{leverage.normalize():f}:{(ratio * 100).normalize():f}:{view}"


def _plan_head(holding: Holding) -> str:
    """A plan button's callback data up to its venue: the prefix, quantity and coin."""
    return f"{PLAN_PREFIX}{holding.quantity.normalize():f}:{holding.coin}:"


def _fits(data: str) -> str | None:
    return data if len(data.encode()) <= MAX_CALLBACK_BYTES else None


def encode(request: HedgeRequest, leverage: Decimal, ratio: Decimal, view: View) -> str | None:
    """Callback data for a single-holding plan, or None when it would not fit in 64 bytes."""
    (holding,) = request.holdings
    return _fits(_plan_head(holding) + _tail(request.venue, leverage, ratio, view))


def decode(data: str) -> tuple[HedgeRequest, View]:
    """The request and view a button stands for."""
    parts = data.removeprefix(PLAN_PREFIX).split(":")
    if not data.startswith(PLAN_PREFIX) or len(parts) != 6 or parts[5] not in VIEWS:
        raise BadCallback(data)
    quantity, coin, venue, leverage, ratio, view = parts
    try:
        request = HedgeRequest(
            holdings=(
                Holding(coin=inputs.parse_coin(coin), quantity=inputs.parse_quantity(quantity)),
            ),
            venue=None if venue == "-" else venue_by_name(venue).id,
            leverage=inputs.parse_leverage(leverage),
            hedge_ratio=inputs.parse_hedge_ratio(ratio + "%"),
        )
    except InvalidInput as exc:
        raise BadCallback(data) from exc
    return request, VIEWS[view]


def plan_keyboard(
    request: HedgeRequest,
    venues: list[str],
    leverage: Decimal,
    ratio: Decimal,
    trackable: bool = True,
    calculator_url: str | None = None,
) -> Keyboard | None:
    """Buttons to switch venue, leverage and hedge ratio, to show the leverage table or chart,
    (unless the plan is the demo's, whose prices no short was placed at) to track it, and with
    `calculator_url` (the bot's public URL, in a private chat) to open the calculator."""
    if len(request.holdings) != 1:
        return None
    (holding,) = request.holdings
    head = _plan_head(holding)
    layout = _plan_layout(request.venue, tuple(venues[:5]), leverage, ratio, trackable)
    rows: list[list[Button | WebAppButton]] = [
        [Button(text=label, callback_data=head + tail) for label, tail in row if _fits(head + tail)]
        for row in layout
    ]
    if calculator_url is not None:
        rows.append([calculator_button(calculator_url, holding, leverage, ratio, request.venue)])
    return _keyboard(rows)


@functools.lru_cache(maxsize=1024)
def _plan_layout(
    chosen: str | None, venues: tuple[str, ...], leverage: Decimal, ratio: Decimal, trackable: bool
) -> tuple[tuple[tuple[str, str], ...], ...]:
    """A plan keyboard's rows as (label, callback data after the quantity and coin): the same
    for every quantity, so worked out once per layout."""
    return (
        tuple(
            (("✓ " if chosen == v else "") + venue_name(v), _tail(v, leverage, ratio, "p"))
            for v in venues
        ),
        tuple(
            (("✓ " if lev == leverage else "") + f"{lev}x", _tail(chosen, lev, ratio, "p"))
            for lev in LEVERAGES
        ),
        tuple(
            (
                ("✓ " if r == ratio else "") + f"{(r * 100).normalize():f}%",
                _tail(chosen, leverage, r, "p"),
            )
            for r in RATIOS
        ),
        (
            ("Risks", _tail(chosen, leverage, ratio, "r")),
            ("How to place it", _tail(chosen, leverage, ratio, "h")),
        ),
        (
            ("Leverage table", _tail(chosen, leverage, ratio, "t")),
            ("Chart", _tail(chosen, leverage, ratio, "c")),
        ),
        (("I placed this: track it", _tail(chosen, leverage, ratio, "s")),) if trackable else (),
    )


def pattern(prefix: str) -> str:
    """The CallbackQueryHandler pattern of a prefix."""
    return "^" + re.escape(prefix)


def funding_chart_buttons(coins: list[str]) -> Keyboard | None:
    """A chart button for each coin of a /funding reply."""
    return _keyboard(
        [
            [
                Button(text=f"{coin} chart", callback_data=f"{FUNDING_CHART_PREFIX}{coin}")
                for coin in coins
            ]
        ]
    )


def decode_funding_chart(data: str) -> str:
    """The coin a funding chart button stands for."""
    try:
        coin = parse_coin_argument([data.removeprefix(FUNDING_CHART_PREFIX)], "/funding")
    except InvalidInput as exc:
        raise BadCallback(data) from exc
    if coin is None or not data.startswith(FUNDING_CHART_PREFIX):
        raise BadCallback(data)
    return coin


def delete_buttons(rule_ids: list[int]) -> Keyboard | None:
    """A delete button for each alert of a list, four to a row."""
    buttons = [
        Button(text=f"Delete #{rule_id}", callback_data=f"{DELETE_PREFIX}{rule_id}")
        for rule_id in rule_ids
    ]
    return _keyboard([buttons[i : i + 4] for i in range(0, len(buttons), 4)])


def decode_delete(data: str) -> int:
    """The alert id a delete button stands for."""
    digits = data.removeprefix(DELETE_PREFIX)
    if not data.startswith(DELETE_PREFIX) or not (digits.isascii() and digits.isdigit()):
        raise BadCallback(data)
    rule_id = int(digits)
    if not 0 < rule_id <= MAX_ALERT_ID:
        raise BadCallback(data)
    return rule_id


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


def wizard_coin_buttons() -> Keyboard | None:
    """The first step of the /alert walk-through: which coin."""
    return _keyboard(
        [[Button(text=coin, callback_data=f"{WIZARD_PREFIX}{coin}") for coin in WIZARD_COINS]]
    )


def wizard_choice_buttons(coin: str) -> Keyboard | None:
    """The second step: what to watch on `coin`."""
    return _keyboard(
        [
            [Button(text=choice, callback_data=f"{WIZARD_PREFIX}{coin} {choice}")]
            for choice in WIZARD_CHOICES
        ]
    )


def decode_wizard(data: str) -> list[str]:
    """The words a walk-through button stands for: [COIN], or an /alert command's arguments."""
    words = data.removeprefix(WIZARD_PREFIX).split()
    if not data.startswith(WIZARD_PREFIX) or not words:
        raise BadCallback(data)
    return words


def hedge_first_button(holdings: Sequence[Holding]) -> Keyboard | None:
    """'Hedge SOL and BTC' under /risk, or None when they would not fit in 64 bytes."""
    data = HEDGE_FIRST_PREFIX + ":".join(f"{h.quantity.normalize():f}:{h.coin}" for h in holdings)
    if not holdings or len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    coins = [h.coin for h in holdings]
    label = "Hedge " + (
        coins[0] if len(coins) == 1 else ", ".join(coins[:-1]) + " and " + coins[-1]
    )
    return _keyboard([[Button(text=label, callback_data=data)]])


def decode_hedge_first(data: str) -> tuple[Holding, ...]:
    """The holdings a /risk button stands for."""
    parts = data.removeprefix(HEDGE_FIRST_PREFIX).split(":")
    if not data.startswith(HEDGE_FIRST_PREFIX) or len(parts) % 2 or not parts[0]:
        raise BadCallback(data)
    try:
        return tuple(
            Holding(coin=inputs.parse_coin(coin), quantity=inputs.parse_quantity(quantity))
            for quantity, coin in zip(parts[::2], parts[1::2], strict=True)
        )
    except InvalidInput as exc:
        raise BadCallback(data) from exc


def positions_buttons(hedge_ids: list[int]) -> Keyboard | None:
    """Refresh, and edit and untrack buttons for each tracked hedge, two hedges to a row."""
    pairs = [
        button
        for hedge_id in hedge_ids
        for button in (
            Button(text=f"Edit #{hedge_id}", callback_data=f"{POSITIONS_PREFIX}e:{hedge_id}"),
            Button(text=f"Untrack #{hedge_id}", callback_data=f"{POSITIONS_PREFIX}u:{hedge_id}"),
        )
    ]
    refresh = [Button(text="Refresh", callback_data=f"{POSITIONS_PREFIX}r")]
    return _keyboard([refresh, *(pairs[i : i + 4] for i in range(0, len(pairs), 4))])


PositionsAction = Literal["refresh", "edit", "untrack"]


def decode_positions(data: str) -> tuple[PositionsAction, int | None]:
    """What a /positions button asks: refresh, or edit or untrack the hedge it names."""
    action = data.removeprefix(POSITIONS_PREFIX)
    if not data.startswith(POSITIONS_PREFIX):
        raise BadCallback(data)
    if action == "r":
        return "refresh", None
    kind, _, digits = action.partition(":")
    if kind not in ("e", "u") or not (digits.isascii() and digits.isdigit()):
        raise BadCallback(data)
    hedge_id = int(digits)
    if not 0 < hedge_id <= MAX_ALERT_ID:
        raise BadCallback(data)
    return ("edit" if kind == "e" else "untrack"), hedge_id
