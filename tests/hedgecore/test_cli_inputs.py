"""The calculator answers every input inside its documented limits: a plan, or one line."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hedgecore import cli, inputs


def within(low: Decimal, high: Decimal, places: int = 8) -> st.SearchStrategy[str]:
    """Numbers as a user types them, anywhere in [low, high], the limits themselves often."""
    numbers = st.decimals(low, high, places=places, allow_nan=False, allow_infinity=False)
    return st.one_of(st.sampled_from([low, high]), numbers).map(lambda d: f"{d.normalize():f}")


positive_quantity = within(Decimal("0.00000001"), inputs.MAX_QUANTITY)
price = within(Decimal("0.01"), inputs.MAX_PRICE, 2)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    quantity=positive_quantity,
    price=price,
    leverage=within(Decimal(1), inputs.MAX_LEVERAGE, 2),
    ratio=within(Decimal("0.01"), inputs.MAX_HEDGE_RATIO, 2),
    funding=within(-inputs.MAX_FUNDING_RATE, inputs.MAX_FUNDING_RATE),
    hours=within(Decimal("0.0001"), Decimal(24), 4),
    size=st.sampled_from(["1", "10", "100"]),
    futures=st.one_of(st.none(), price),
    output=st.sampled_from([["--json"], []]),
)
# Found by the fault probe (issue 12): the yearly funding outgrew Decimal's 28 digits.
@example(
    quantity="10000000000000",
    price="1000000000",
    leverage="1",
    ratio="1",
    funding="0.1",
    hours="0.0001",
    size="1",
    futures=None,
    output=["--json"],
)
def test_every_documented_input_gets_a_plan_or_one_line(
    capsys: pytest.CaptureFixture[str],
    quantity: str,
    price: str,
    leverage: str,
    ratio: str,
    funding: str,
    hours: str,
    size: str,
    futures: str | None,
    output: list[str],
) -> None:
    args = ["plan", quantity, "BTC", "--price", price, "--leverage", leverage, "--ratio", ratio]
    args += ["--funding-rate", funding, "--funding-interval-hours", hours, "--contract-size", size]
    if futures is not None:
        args += ["--futures-price", futures, "--expiry", "2999-03-26"]
    status = cli.main([*args, *output])
    out, err = capsys.readouterr()
    assert status in (0, 2), err
    if status == 0:
        assert out
        assert err == ""
    else:
        assert len(err.strip().splitlines()) == 1
        assert err.startswith("hedgecore: ")
