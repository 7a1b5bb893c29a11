"""What users type to the bot, parsed into requests; every refusal is one line with an example."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from hedgecore import inputs
from hedgecore.alerts import AlertKind, AlertSpec
from hedgecore.errors import InvalidInput
from hedgecore.models import Frozen, Holding
from hedgecore.venues import NO_INVERSE_CONTRACTS, VenueSpec, closest_venue, venue_by_name

T = TypeVar("T")
MAX_HOLDINGS = 10
MAX_ARGUMENTS = 40
_LEVERAGE = re.compile(r"[0-9.,]+[xX]|[xX][0-9.,]+")
_NUMBER = re.compile(r"[+-]?[0-9.,]+(?:[eE][+-]?[0-9]+)?|(?i:nan|[+-]?inf(?:inity)?)")


class HedgeRequest(Frozen):
    """A /hedge command: holdings, and the venue, leverage and ratio asked for (None: user default)."""

    holdings: tuple[Holding, ...]
    venue: str | None = None
    leverage: Decimal | None = None
    hedge_ratio: Decimal | None = None


def _refuse(problem: str, example: str) -> InvalidInput:
    return InvalidInput(problem, example)


def _parsed(parse: Callable[[str], T], token: str, example: str) -> T:
    """`parse(token)`, with a refusal that shows a whole command as the example."""
    try:
        return parse(token)
    except InvalidInput as exc:
        raise _refuse(exc.problem, example) from None


def _venue(token: str) -> VenueSpec | None:
    try:
        return venue_by_name(token)
    except InvalidInput:
        return None


def parse_hedge(args: list[str], command: str = "/hedge") -> HedgeRequest:
    """Parse `/hedge QTY COIN [QTY COIN ...] [VENUE] [Nx] [R%]` (and /chart, which takes the same)."""
    example = f"{command} 1.2 BTC"
    if not args:
        raise _refuse("tell me what you hold", example)
    if len(args) > MAX_ARGUMENTS:
        raise _refuse(
            f"too many words ({len(args)}); at most {MAX_HOLDINGS} holdings at once", example
        )
    holdings: dict[str, Holding] = {}
    venue: str | None = None
    leverage: Decimal | None = None
    ratio: Decimal | None = None
    pending: Decimal | None = None
    for token in args:
        if pending is not None:
            coin = _parsed(inputs.parse_coin, token, example)
            if coin in holdings:
                raise _refuse(
                    f"{coin} appears twice; give each coin once", f"{command} 1.2 BTC 10 ETH"
                )
            holdings[coin] = Holding(coin=coin, quantity=pending)
            pending = None
        elif token.endswith("%"):
            if ratio is not None:
                raise _refuse("give one hedge ratio", f"{example} 50%")
            ratio = _parsed(inputs.parse_hedge_ratio, token, f"{example} 50%")
        elif _LEVERAGE.fullmatch(token):
            if leverage is not None:
                raise _refuse("give one leverage", f"{example} 3x")
            leverage = _parsed(inputs.parse_leverage, token.lstrip("xX"), f"{example} 3x")
        elif _NUMBER.fullmatch(token):
            pending = _parsed(inputs.parse_quantity, token, example)
        elif (spec := _venue(token)) is not None:
            if venue is not None:
                raise _refuse("give one venue", f"{example} okx")
            venue = spec.id
        elif (why := NO_INVERSE_CONTRACTS.get(token.lower())) is not None:
            raise _refuse(why, f"{example} bybit")
        elif (meant := closest_venue(token)) is not None:
            raise _refuse(
                f"unknown venue {token[:20]!r} (did you mean {meant}?)", f"{example} {meant}"
            )
        else:
            shown = token if len(token) <= 20 else token[:20] + "..."
            raise _refuse(f"I don't understand {shown!r}", example)
    if pending is not None:
        raise _refuse("a quantity needs a coin after it", example)
    if not holdings:
        raise _refuse("tell me what you hold", example)
    if len(holdings) > MAX_HOLDINGS:
        raise _refuse(f"at most {MAX_HOLDINGS} holdings at once", example)
    return HedgeRequest(
        holdings=tuple(holdings.values()), venue=venue, leverage=leverage, hedge_ratio=ratio
    )


def parse_coin_argument(args: list[str], command: str) -> str | None:
    """The optional single COIN argument of /funding and /basis."""
    if not args:
        return None
    if len(args) > 1:
        raise _refuse(f"{command} takes one coin", f"{command} BTC")
    return _parsed(inputs.parse_coin, args[0], f"{command} BTC")


def parse_backtest(args: list[str]) -> tuple[str, str | None]:
    """`/backtest [COIN] [VENUE]`: the coin (BTC by default) and the venue id, if one is named."""
    if len(args) > 2:
        raise _refuse("/backtest takes a coin and a venue", "/backtest ETH okx")
    coin = _parsed(inputs.parse_coin, args[0], "/backtest ETH okx") if args else "BTC"
    if len(args) < 2:
        return coin, None
    try:
        return coin, venue_by_name(args[1]).id
    except InvalidInput as exc:
        raise _refuse(exc.problem, f"/backtest {coin} {exc.example}") from None


ALERT_EXAMPLE = "/alert BTC above 0.05%"
_MINUTES = re.compile(r"(\d{1,4})(m|min|h)?", re.ASCII)


def _minutes(token: str) -> int:
    match = _MINUTES.fullmatch(token.lower())
    if match is None:
        raise _refuse(f"{token[:20]!r} is not a time before funding", "/alert BTC before 30m")
    minutes = int(match.group(1)) * (60 if match.group(2) == "h" else 1)
    if not 1 <= minutes <= 8 * 60:
        raise _refuse(
            "a reminder must come 1 minute to 8 hours before funding", "/alert BTC before 30m"
        )
    return minutes


def parse_alert(args: list[str]) -> AlertSpec:
    """Parse `/alert COIN above|below X% | negative | before 30m | spread X% [VENUE]`."""
    if len(args) < 2:
        raise _refuse("say which coin and what to watch", ALERT_EXAMPLE)
    coin = _parsed(inputs.parse_coin, args[0], ALERT_EXAMPLE)
    try:
        kind = AlertKind(args[1].lower())
    except ValueError:
        raise _refuse(
            f"watch above, below, negative, before or spread, not {args[1][:20]!r}", ALERT_EXAMPLE
        ) from None
    rest = args[2:]
    threshold, minutes = Decimal(0), 0
    if kind in (AlertKind.ABOVE, AlertKind.BELOW, AlertKind.SPREAD):
        example = f"/alert {coin} {kind.value} 0.05%"
        if not rest:
            raise _refuse(f"{kind.value} needs a funding rate per 8 hours", example)
        threshold = _parsed(inputs.parse_funding_rate, rest[0], example)
        if kind is AlertKind.SPREAD and threshold <= 0:
            raise _refuse("a spread must be more than zero", example)
        rest = rest[1:]
    elif kind is AlertKind.BEFORE:
        if not rest:
            raise _refuse("before needs a time, e.g. 30m", f"/alert {coin} before 30m")
        minutes, rest = _minutes(rest[0]), rest[1:]
    venue = None
    if rest:
        if kind is AlertKind.SPREAD:
            raise _refuse(
                "a spread compares every venue, so it takes none", f"/alert {coin} spread 0.02%"
            )
        asked = "/alert " + " ".join(args[: len(args) - len(rest)])
        try:
            spec = venue_by_name(rest[0])
        except InvalidInput as exc:
            raise _refuse(exc.problem, f"{asked} {exc.example}") from None
        if len(rest) > 1:
            raise _refuse(f"I don't understand {' '.join(rest)[:30]!r}", f"{ALERT_EXAMPLE} bybit")
        if kind is AlertKind.BEFORE and spec.continuous_funding:
            raise _refuse(
                f"{spec.name} charges funding continuously, with no funding times to be reminded of",
                f"/alert {coin} before {minutes}m bybit",
            )
        venue = spec.id
    return AlertSpec(
        coin=coin, kind=kind, threshold_8h=threshold, minutes_before=minutes, venue=venue
    )


TRACK_EXAMPLE = "/track bybit BTCUSD 112467 @ 93722 3x"
_SYMBOL = re.compile(r"[A-Za-z0-9_/:.-]{2,40}")


class TrackRequest(Frozen):
    """A /track command: the short placed, as the venue's order form counted it."""

    venue: str
    symbol: str  # as typed: the venue's spelling or ccxt's
    order_amount: Decimal
    entry_price: Decimal | None = None  # None: the price to sell at now
    leverage: Decimal | None = None  # None: the user's default
    hedged: Holding | None = None  # None: the coins the short's face is worth at entry


def parse_track(args: list[str]) -> TrackRequest:
    """Parse `/track VENUE SYMBOL AMOUNT [@ ENTRY] [Nx] [for QTY COIN]`."""
    example = TRACK_EXAMPLE
    if len(args) < 3:
        raise _refuse("say the venue, the contract and how much you sold", example)
    if len(args) > 10:
        raise _refuse(f"too many words ({len(args)})", example)
    try:
        venue = venue_by_name(args[0]).id
    except InvalidInput as exc:
        raise _refuse(exc.problem, example) from None
    if not _SYMBOL.fullmatch(args[1]):
        raise _refuse(f"{args[1][:20]!r} is not a contract name", example)
    amount = _parsed(inputs.parse_quantity, args[2], example)
    rest = " ".join(args[3:]).replace("@ ", "@")
    entry: Decimal | None = None
    leverage: Decimal | None = None
    hedged: Holding | None = None
    words = rest.split()
    while words:
        token = words.pop(0)
        if token.startswith("@"):
            if entry is not None:
                raise _refuse("give one entry price", example)
            entry = _parsed(inputs.parse_price, token[1:], example)
        elif _LEVERAGE.fullmatch(token):
            if leverage is not None:
                raise _refuse("give one leverage", example)
            leverage = _parsed(inputs.parse_leverage, token.lstrip("xX"), example)
        elif token.lower() == "for" and len(words) >= 2 and hedged is None:
            quantity = _parsed(inputs.parse_quantity, words.pop(0), f"{example} for 1.2 BTC")
            coin = _parsed(inputs.parse_coin, words.pop(0), f"{example} for 1.2 BTC")
            hedged = Holding(coin=coin, quantity=quantity)
        else:
            shown = token if len(token) <= 20 else token[:20] + "..."
            raise _refuse(f"I don't understand {shown!r}", example)
    return TrackRequest(
        venue=venue,
        symbol=args[1],
        order_amount=amount,
        entry_price=entry,
        leverage=leverage,
        hedged=hedged,
    )


EDIT_EXAMPLE = "/edit 1 @ 93800 3x +0.15"


class EditRequest(Frozen):
    """An /edit command: a tracked hedge's entry, leverage or margin added since, as changed."""

    hedge_id: int
    entry_price: Decimal | None = None
    leverage: Decimal | None = None
    added_margin_coin: Decimal | None = None  # margin added since opening, in all


def parse_edit(args: list[str]) -> EditRequest:
    """Parse `/edit N [@ ENTRY] [Nx] [+MARGIN]`."""
    example = EDIT_EXAMPLE
    if not args or not (args[0].isascii() and args[0].isdigit()) or len(args[0]) > 18:
        raise _refuse(
            "say which tracked hedge (its number in /positions) and what changed", example
        )
    words = " ".join(args[1:]).replace("@ ", "@").split()
    if not words:
        raise _refuse("say what changed: the entry, the leverage or the margin added", example)
    entry: Decimal | None = None
    leverage: Decimal | None = None
    added: Decimal | None = None
    for token in words:
        if token.startswith("@") and entry is None:
            entry = _parsed(inputs.parse_price, token[1:], example)
        elif _LEVERAGE.fullmatch(token) and leverage is None:
            leverage = _parsed(inputs.parse_leverage, token.lstrip("xX"), example)
        elif token.startswith("+") and added is None:
            added = _parsed(inputs.parse_quantity, token[1:], example)
        else:
            shown = token if len(token) <= 20 else token[:20] + "..."
            raise _refuse(f"I don't understand {shown!r}", example)
    return EditRequest(
        hedge_id=int(args[0]), entry_price=entry, leverage=leverage, added_margin_coin=added
    )
