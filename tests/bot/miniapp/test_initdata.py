"""The initData check against the example Telegram's Mini App documentation circulates, and
against forged, expired, malformed and missing data."""

import json
from urllib.parse import urlencode

import pytest

from bot.miniapp.initdata import (
    MAX_AGE_S,
    InvalidInitData,
    secret_key,
    sign,
    verified_user_id,
)

# Telegram's published example (the one its Mini Apps documentation and tma.js quote): a token
# of a test bot and the initData Telegram signed for it, with the newer `signature` field.
PUBLISHED_TOKEN = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4"
PUBLISHED = (
    "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22"
    "%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22"
    "%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22"
    "%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13"
    "LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private"
    "&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiU"
    "lBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73"
)
SIGNED_AT = 1733509682
KEY = secret_key(PUBLISHED_TOKEN)


def test_telegrams_published_example_is_accepted_for_its_user() -> None:
    assert verified_user_id(PUBLISHED, KEY, now=SIGNED_AT + 60) == 279058397


@pytest.mark.parametrize(
    ("init_data", "said"),
    [
        (PUBLISHED.replace("chat_type=private", "chat_type=sender"), "not signed by Telegram"),
        (PUBLISHED.replace("%22id%22%3A279058397", "%22id%22%3A1"), "not signed by Telegram"),
        (PUBLISHED.replace("signature=", "signed="), "not signed by Telegram"),
        (PUBLISHED.split("&hash=")[0], "not signed by Telegram"),
        ("", "no initData"),
        ("&&=", "not a query string"),
        (PUBLISHED + "&auth_date=1", "repeats a field"),
        ("x" * 9000, "too long"),
    ],
)
def test_forged_missing_or_malformed_initdata_is_refused(init_data: str, said: str) -> None:
    with pytest.raises(InvalidInitData, match=said):
        verified_user_id(init_data, KEY, now=SIGNED_AT + 60)


def test_another_bots_initdata_is_refused() -> None:
    with pytest.raises(InvalidInitData, match="not signed by Telegram for this bot"):
        verified_user_id(PUBLISHED, secret_key("1:another-bots-token"), now=SIGNED_AT)


def test_initdata_over_a_day_old_or_from_the_future_is_refused() -> None:
    assert verified_user_id(PUBLISHED, KEY, now=SIGNED_AT + MAX_AGE_S) == 279058397
    with pytest.raises(InvalidInitData, match="over a day old"):
        verified_user_id(PUBLISHED, KEY, now=SIGNED_AT + MAX_AGE_S + 1)
    with pytest.raises(InvalidInitData, match="in the future"):
        verified_user_id(PUBLISHED, KEY, now=SIGNED_AT - 3600)


def test_signed_data_without_a_user_is_refused() -> None:
    fields = {"auth_date": str(SIGNED_AT), "query_id": "AAH"}
    unsigned_user = urlencode({**fields, "hash": sign(fields, KEY)})
    with pytest.raises(InvalidInitData, match="names no user"):
        verified_user_id(unsigned_user, KEY, now=SIGNED_AT)
    fields["user"] = json.dumps({"id": True})
    with pytest.raises(InvalidInitData, match="names no user"):
        verified_user_id(urlencode({**fields, "hash": sign(fields, KEY)}), KEY, now=SIGNED_AT)
