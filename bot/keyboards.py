"""The inline keyboard under a plan, and the one parser of its callback data.

Callback data (at most 64 bytes): "h:QTY:COIN:VENUE:LEVERAGE:RATIO:VIEW", VENUE "-" for all venues,
RATIO in percent, VIEW "p" (plan), "t" (leverage table) or "c" (payoff chart).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.parsing import HedgeRequest
from hedgecore import inputs
from hedgecore.errors import InvalidInput
from hedgecore.models import Holding
from hedgecore.venues import venue_by_name, venue_name

PREFIX = "h"
MAX_CALLBACK_BYTES = 64
LEVERAGES = (Decimal(1), Decimal(2), Decimal(3), Decimal(5))
RATIOS = (Decimal("0.5"), Decimal(1))
View = Literal["p", "t", "c"]  # plan, leverage table, payoff chart


class BadCallback(ValueError):
    """Callback data that this bot did not make (or an older version did)."""


def encode(request: HedgeRequest, leverage: Decimal, ratio: Decimal, view: View) -> str | None:
    """Callback data for a single-holding plan, or None when it would not fit in 64 bytes."""
    (holding,) = request.holdings
    data = ":".join(
        [
            PREFIX,
            f"{holding.quantity.normalize():f}",
            holding.coin,
            request.venue or "-",
            f"{leverage.normalize():f}",
            f"{(ratio * 100).normalize():f}",
            view,
        ]
    )
    return data if len(data.encode()) <= MAX_CALLBACK_BYTES else None


def decode(data: str) -> tuple[HedgeRequest, View]:
    """The request and view a button stands for."""
    parts = data.split(":")
    if len(parts) != 7 or parts[0] != PREFIX or parts[6] not in ("p", "t", "c"):
        raise BadCallback(data)
    _, quantity, coin, venue, leverage, ratio, view = parts
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
    views: dict[str, View] = {"p": "p", "t": "t", "c": "c"}
    return request, views[view]


def plan_keyboard(
    request: HedgeRequest, venues: list[str], leverage: Decimal, ratio: Decimal
) -> InlineKeyboardMarkup | None:
    """Buttons to switch venue, leverage and hedge ratio, and to show the leverage table or chart."""
    if len(request.holdings) != 1:
        return None

    def button(
        label: str, changed: HedgeRequest, lev: Decimal, rat: Decimal, view: View = "p"
    ) -> InlineKeyboardButton | None:
        data = encode(changed, lev, rat, view)
        return None if data is None else InlineKeyboardButton(label, callback_data=data)

    def row(buttons: list[InlineKeyboardButton | None]) -> list[InlineKeyboardButton]:
        return [b for b in buttons if b is not None]

    venue_row = row(
        [
            button(
                ("✓ " if request.venue == v else "") + venue_name(v),
                request.model_copy(update={"venue": v}),
                leverage,
                ratio,
            )
            for v in venues[:5]
        ]
    )
    leverage_row = row(
        [
            button(("✓ " if lev == leverage else "") + f"{lev}x", request, lev, ratio)
            for lev in LEVERAGES
        ]
    )
    ratio_row = row(
        [
            button(
                ("✓ " if r == ratio else "") + f"{(r * 100).normalize():f}%", request, leverage, r
            )
            for r in RATIOS
        ]
    )
    table_row = row(
        [
            button("Leverage table", request, leverage, ratio, "t"),
            button("Chart", request, leverage, ratio, "c"),
        ]
    )
    rows = [r for r in (venue_row, leverage_row, ratio_row, table_row) if r]
    return InlineKeyboardMarkup(rows) if rows else None
