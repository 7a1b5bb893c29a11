"""Number formatting shared by risk notes, the CLI and the bot: every amount with its unit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal

from hedgecore.models import DataSource


def _fixed(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    # Wide enough for every digit shown: the default 28 digits cannot hold 1e27 USD to the cent.
    wide = Context(prec=max(28, value.adjusted() + places + 2))
    return f"{value.quantize(quantum, rounding=ROUND_HALF_EVEN, context=wide):,.{places}f}"


def count(n: int, noun: str) -> str:
    """'1 settlement', '1,642 settlements': a whole count and its noun, agreeing."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def number(value: Decimal, places: int = 2) -> str:
    """A number with thousands separators and a fixed number of decimals."""
    return _fixed(value, places)


def price(value: Decimal) -> str:
    """A USD price per coin: cents above 1 USD, four significant digits below."""
    if abs(value) >= 1:
        return f"{_fixed(value, 2)} USD"
    return f"{value:.4g} USD"


def price_and_move(value: Decimal, move_pct: Decimal) -> str:
    """A price with its distance from today's, e.g. '89,550.00 USD (+49.25%)'."""
    return f"{price(value)} ({pct(move_pct, signed=True)})"


def usd(value: Decimal, signed: bool = False) -> str:
    """An amount of USD, e.g. '1,234.50 USD' or '+5.99 USD'."""
    text = _fixed(value, 2)
    if signed and value > 0:
        text = "+" + text
    return f"{text} USD"


def usd_large(value: Decimal) -> str:
    """A large USD amount to three figures, e.g. '288M USD', '1.07B USD', '222K USD'."""
    for size, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "K")):
        if abs(value) >= size:
            return f"{float(value / size):.3g}{suffix} USD"
    return usd(value)


def coin(value: Decimal, code: str, signed: bool = False) -> str:
    """An amount of a coin with up to 8 decimals and no trailing zeros, e.g. '0.0125 BTC'."""
    text = _fixed(value, 8).rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if signed and value > 0 and text != "0":
        text = "+" + text
    return f"{text} {code}"


def pct(value_pct: Decimal, places: int = 2, signed: bool = False) -> str:
    """A value already in percent, e.g. '10.95%'."""
    text = _fixed(value_pct, places)
    if signed and value_pct > 0:
        text = "+" + text
    return f"{text}%"


def rate(fraction: Decimal, signed: bool = True) -> str:
    """A funding rate given as a fraction, in percent with four decimals, e.g. '+0.0100%'."""
    return pct(fraction * 100, places=4, signed=signed)


def leverage(value: Decimal) -> str:
    """A leverage, e.g. '3x' or '2.5x'."""
    return f"{value.normalize():f}x"


def hours(value: Decimal) -> str:
    """A funding interval, e.g. '8h' or '1h'."""
    return f"{value.normalize():f}h"


def age(seconds: Decimal) -> str:
    """How old data is, e.g. '12 s', '3 min', '2 h', '5 d'."""
    whole = int(seconds)
    if whole < 90:
        return f"{max(whole, 0)} s"
    if whole < 90 * 60:
        return f"{round(whole / 60)} min"
    if whole < 36 * 3600:
        return f"{round(whole / 3600)} h"
    return f"{round(whole / 86400)} d"


def utc(moment: datetime) -> str:
    """A moment in UTC, e.g. '2026-11-29 08:00 UTC'."""
    return f"{moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M')} UTC"


def data_label(source: DataSource, as_of: datetime) -> str:
    """Where an answer's data came from and when: the one wording every reply uses."""
    if source is DataSource.MANUAL:
        return "prices given on the command line, no market data"
    if source is DataSource.SNAPSHOT:
        return f"offline snapshot taken at {utc(as_of)}"
    if source is DataSource.DEMO:
        return f"Demo: market recorded on {utc(as_of)}, not live"
    return f"live market data, {utc(as_of)}"


def data_line(source: DataSource, as_of: datetime) -> str:
    """The line saying where an answer's data came from: the demo's own label, or 'Data: ...'."""
    label = data_label(source, as_of)
    return label if source is DataSource.DEMO else f"Data: {label}"


def quote_age(source: DataSource, quote_time: datetime, age_seconds: Decimal) -> str:
    """How old one venue's quote is, e.g. '12 s old' or 'snapshot, quoted 2025-04-28 08:00 UTC'."""
    if source is DataSource.MANUAL:
        return "prices as given"
    if source.recorded:
        return f"snapshot, quoted {utc(quote_time)}"
    return f"{age(age_seconds)} old"
