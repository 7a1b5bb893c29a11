"""Telegram's signed `initData`: who opened the calculator, as Telegram vouches for it.

Telegram's scheme (core.telegram.org/bots/webapps, "Validating data received via the Mini
App"): the data-check-string is every received field but `hash`, sorted by key, written
`key=value` and joined by line feeds; the secret key is HMAC-SHA256 of the bot's token keyed
with "WebAppData"; the data is Telegram's if `hash` is the hex HMAC-SHA256 of the
data-check-string under that key. The page never sees the token or the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl

MAX_AGE_S = 24 * 3600  # opened longer ago than this, the page must be opened again
CLOCK_SKEW_S = 60  # a signing time this far ahead of ours is still believed
MAX_INIT_DATA_CHARS = 8192


class InvalidInitData(ValueError):
    """The initData is missing, forged, malformed or too old; the message says which."""


def secret_key(token: str) -> bytes:
    """The key initData is signed with, derived from the bot's token."""
    return hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()


def sign(fields: dict[str, str], key: bytes) -> str:
    """The hash Telegram puts beside these fields: what a received hash must equal."""
    check = "\n".join(f"{name}={value}" for name, value in sorted(fields.items()))
    return hmac.new(key, check.encode(), hashlib.sha256).hexdigest()


def verified_user_id(init_data: str, key: bytes, now: float, max_age_s: float = MAX_AGE_S) -> int:
    """The Telegram user id in `init_data` once its signature and age check out (epoch `now`);
    raises `InvalidInitData`."""
    if not init_data:
        raise InvalidInitData("no initData: open the calculator from the bot's chat")
    if len(init_data) > MAX_INIT_DATA_CHARS:
        raise InvalidInitData("initData is too long to be Telegram's")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidInitData("initData is not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InvalidInitData("initData repeats a field")
    received = fields.pop("hash", "")
    if not hmac.compare_digest(sign(fields, key), received):
        raise InvalidInitData("initData is not signed by Telegram for this bot")
    try:
        signed_at = int(fields["auth_date"])
        user_id = json.loads(fields["user"])["id"]
    except (KeyError, ValueError, TypeError):
        raise InvalidInitData("initData names no user or signing time") from None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise InvalidInitData("initData names no user or signing time")
    if now - signed_at > max_age_s:
        raise InvalidInitData("initData is over a day old: open the calculator again")
    if signed_at - now > CLOCK_SKEW_S:
        raise InvalidInitData("initData is signed in the future: check this server's clock")
    return user_id
