"""Parsing of what users type: quantities, prices, leverage, ratios, rates, coins and dates.

Shared by the CLI and the bot so that both accept and refuse the same things. Numbers are plain
decimals with `.` or `,` as the decimal mark; exponents, NaN, infinities and absurd sizes are
refused with an `InvalidInput` that names the problem and shows a correct example.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from hedgecore.errors import InvalidInput

MAX_NUMBER_CHARS = 24
MAX_QUANTITY = Decimal(10) ** 13
MAX_PRICE = Decimal(10) ** 9
MIN_LEVERAGE = Decimal(1)
MAX_LEVERAGE = Decimal(125)
MAX_HEDGE_RATIO = Decimal(2)
MAX_FUNDING_RATE = Decimal("0.1")
MAX_MMR = Decimal("0.5")
MAX_FEE_RATE = Decimal("0.01")
MAX_DAYS = 3650

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)", re.ASCII)
_COIN = re.compile(r"[A-Z][A-Z0-9]{1,11}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DAYS = re.compile(r"\d{1,4}", re.ASCII)


def _shown(text: str) -> str:
    """The user's text, shortened and quoted, safe to echo in a one-line message."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return repr(clean if len(clean) <= MAX_NUMBER_CHARS else clean[:MAX_NUMBER_CHARS] + "...")


def _number(text: str, what: str, example: str) -> Decimal:
    raw = text.strip()
    if len(raw) > MAX_NUMBER_CHARS or not _PLAIN_NUMBER.fullmatch(raw):
        raise InvalidInput(f"{what} must be a plain number, got {_shown(text)}", example)
    return Decimal(raw.replace(",", "."))


def _positive(text: str, what: str, example: str, maximum: Decimal) -> Decimal:
    value = _number(text, what, example)
    if value <= 0:
        raise InvalidInput(f"{what} must be more than zero, got {_shown(text)}", example)
    if value > maximum:
        raise InvalidInput(f"{what} is too large, got {_shown(text)}", example)
    return value


def _fraction(text: str, what: str, example: str) -> Decimal:
    """A rate written as a fraction (0.0001) or in percent (0.01%)."""
    raw = text.strip()
    if raw.endswith("%"):
        return _number(raw[:-1], what, example) / 100
    return _number(raw, what, example)


def parse_quantity(text: str) -> Decimal:
    """Coins held, e.g. '1.2' or '1,2'."""
    return _positive(text, "quantity", "1.2", MAX_QUANTITY)


def parse_price(text: str) -> Decimal:
    """A price in USD per coin, e.g. '60000'."""
    return _positive(text, "price", "60000", MAX_PRICE)


def parse_contract_size(text: str) -> Decimal:
    """USD face value of one contract, e.g. '100'."""
    return _positive(text, "contract size (USD)", "100", MAX_PRICE)


def parse_interval_hours(text: str) -> Decimal:
    """Hours between funding times, e.g. '8'."""
    return _positive(text, "funding interval (hours)", "8", Decimal(24))


def parse_leverage(text: str) -> Decimal:
    """Leverage like '3', '3x' or '2.5x', between 1 and 125."""
    raw = text.strip()
    number = raw[:-1] if raw[-1:] in ("x", "X") else raw
    leverage = _number(number, "leverage", "3x")
    if not MIN_LEVERAGE <= leverage <= MAX_LEVERAGE:
        raise InvalidInput(
            f"leverage must be between {MIN_LEVERAGE}x and {MAX_LEVERAGE}x, got {_shown(text)}",
            "3x",
        )
    return leverage


def parse_hedge_ratio(text: str) -> Decimal:
    """Share of the holding to hedge: '50%' or '0.5'; more than 0, at most 200%."""
    ratio = _fraction(text, "hedge ratio", "50%")
    if not 0 < ratio <= MAX_HEDGE_RATIO:
        raise InvalidInput(
            f"hedge ratio must be above 0% and at most 200%, got {_shown(text)}", "50%"
        )
    return ratio


def parse_funding_rate(text: str) -> Decimal:
    """Funding rate per interval, '0.01%' or '0.0001'; negative when shorts pay longs."""
    rate = _fraction(text, "funding rate", "0.01%")
    if abs(rate) > MAX_FUNDING_RATE:
        raise InvalidInput(
            f"funding rate must be within +-10% per interval, got {_shown(text)}", "0.01%"
        )
    return rate


def parse_mmr(text: str) -> Decimal:
    """Maintenance-margin rate, '0.5%' or '0.005'."""
    mmr = _fraction(text, "maintenance margin rate", "0.5%")
    if not 0 <= mmr < MAX_MMR:
        raise InvalidInput(
            f"maintenance margin rate must be from 0% to under 50%, got {_shown(text)}", "0.5%"
        )
    return mmr


def parse_fee_rate(text: str) -> Decimal:
    """Trading fee rate, '0.05%' or '0.0005'."""
    fee = _fraction(text, "fee rate", "0.05%")
    if not 0 <= fee < MAX_FEE_RATE:
        raise InvalidInput(f"fee rate must be from 0% to under 1%, got {_shown(text)}", "0.05%")
    return fee


def parse_days(text: str) -> int:
    """A whole number of days from 1 to 3650, e.g. '30'."""
    raw = text.strip()
    if not _DAYS.fullmatch(raw) or not 1 <= int(raw) <= MAX_DAYS:
        raise InvalidInput(
            f"days must be a whole number from 1 to {MAX_DAYS}, got {_shown(text)}", "30"
        )
    return int(raw)


def parse_coin(text: str) -> str:
    """A coin ticker such as 'BTC' or 'eth' (returned upper case)."""
    coin = text.strip().upper()
    if not _COIN.fullmatch(coin):
        raise InvalidInput(f"unknown coin {_shown(text)}: use a ticker like BTC or ETH", "BTC")
    return coin


def parse_coin_list(text: str) -> set[str]:
    """Comma-separated coin tickers such as 'BTC,eth'."""
    coins = {parse_coin(part) for part in text.split(",") if part.strip()}
    if not coins:
        raise InvalidInput(f"no coins in {_shown(text)}", "BTC,ETH")
    return coins


def parse_date(text: str) -> date:
    """A calendar date written YYYY-MM-DD."""
    raw = text.strip()
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"date must be YYYY-MM-DD, got {_shown(text)}", "2027-03-26") from None
