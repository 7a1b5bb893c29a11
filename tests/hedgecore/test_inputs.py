"""What users may type, and the one-line answers to what they may not."""

from datetime import date
from decimal import Decimal as D

import pytest

from hedgecore import inputs
from hedgecore.errors import InvalidInput
from hedgecore.venues import venue_by_name


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.2", D("1.2")),
        ("1,2", D("1.2")),
        (" 0.5 ", D("0.5")),
        (".5", D("0.5")),
        ("+3", D(3)),
        ("10", D(10)),
    ],
)
def test_quantities_accept_either_decimal_mark(text: str, value: D) -> None:
    assert inputs.parse_quantity(text) == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "more than zero"),
        ("-1", "more than zero"),
        ("NaN", "plain number"),
        ("inf", "plain number"),
        ("-Infinity", "plain number"),
        ("1e400", "plain number"),
        ("1" * 50, "plain number"),
        ("9" * 20, "too large"),
        ("1.2.3", "plain number"),
        ("1,000.5", "plain number"),
        ("", "plain number"),
        ("🚀", "plain number"),
        ("١٢", "plain number"),  # Arabic-Indic digits
    ],
)
def test_bad_quantities_name_the_problem_and_show_an_example(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        inputs.parse_quantity(text)
    assert problem in str(caught.value)
    assert str(caught.value).endswith("Example: 1.2")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", D(3)), ("3x", D(3)), ("2.5X", D("2.5")), ("1", D(1)), ("125x", D(125))],
)
def test_leverage(text: str, value: D) -> None:
    assert inputs.parse_leverage(text) == value


@pytest.mark.parametrize("text", ["0x", "0.5", "500x", "126", "x", "-3x", "three"])
def test_bad_leverage(text: str) -> None:
    with pytest.raises(InvalidInput, match="Example: 3x"):
        inputs.parse_leverage(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("50%", D("0.5")), ("0.5", D("0.5")), ("100%", D(1)), ("2", D(2)), ("150,5%", D("1.505"))],
)
def test_hedge_ratio(text: str, value: D) -> None:
    assert inputs.parse_hedge_ratio(text) == value


@pytest.mark.parametrize("text", ["0", "0%", "-10%", "201%", "2.5", "%"])
def test_bad_hedge_ratio(text: str) -> None:
    with pytest.raises(InvalidInput, match="hedge ratio"):
        inputs.parse_hedge_ratio(text)


def test_rates_in_fractions_or_percent_with_sign() -> None:
    assert inputs.parse_funding_rate("0.01%") == D("0.0001")
    assert inputs.parse_funding_rate("-0.0002") == D("-0.0002")
    assert inputs.parse_mmr("0.5%") == D("0.005")
    assert inputs.parse_fee_rate("0.055%") == D("0.00055")
    for parse, text in [
        (inputs.parse_funding_rate, "20%"),
        (inputs.parse_mmr, "60%"),
        (inputs.parse_fee_rate, "2%"),
    ]:
        with pytest.raises(InvalidInput):
            parse(text)


def test_coins_and_venues() -> None:
    assert inputs.parse_coin("btc") == "BTC"
    assert inputs.parse_coin("1000PEPE".lower().replace("1000", "K")) == "KPEPE"
    for bad in ["B", "B$C", "BTCBTCBTCBTCBTC", "₿", "123", "", "بيتكوين"]:
        with pytest.raises(InvalidInput, match="unknown coin"):
            inputs.parse_coin(bad)
    assert venue_by_name("Binance").id == "binancecoinm"
    assert venue_by_name("KRAKEN").id == "krakenfutures"
    with pytest.raises(InvalidInput, match="unknown venue 'bitmex'"):
        venue_by_name("bitmex")


def test_dates_and_days() -> None:
    assert inputs.parse_date("2027-03-26") == date(2027, 3, 26)
    for bad in ["2027-02-30", "26/03/2027", "2027-3-26", "tomorrow"]:
        with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
            inputs.parse_date(bad)
    assert inputs.parse_days("30") == 30
    for bad in ["0", "3651", "1.5", "-2", "²", "99999"]:
        with pytest.raises(InvalidInput, match="whole number"):
            inputs.parse_days(bad)


def test_echoed_text_is_short_and_printable() -> None:
    with pytest.raises(InvalidInput) as caught:
        inputs.parse_quantity("x" * 4000 + "\n\x1b[31m")
    assert len(str(caught.value)) < 120
    assert "\n" not in str(caught.value)
    assert "\x1b" not in str(caught.value)
