"""Minimum-variance hedge ratios fitted on return series."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgecore.crosshedge import best_proxy, fit_min_variance, simple_returns
from hedgecore.errors import PlanningError


def prices_from(returns: list[D], start: D = D(100)) -> list[D]:
    prices = [start]
    for r in returns:
        prices.append(prices[-1] * (1 + r))
    return prices


PROXY_RETURNS = [
    D(x)
    for x in (
        "0.01",
        "-0.02",
        "0.015",
        "0.03",
        "-0.01",
        "0.005",
        "-0.025",
        "0.02",
        "0.01",
        "-0.005",
        "0.012",
    )
]


def test_returns_of_a_price_series() -> None:
    assert simple_returns([D(100), D(110), D(99)]) == pytest.approx([0.1, -0.1])


@given(beta=st.decimals(min_value=D("0.1"), max_value=D(3), places=2))
def test_exact_linear_relation_gives_its_beta_and_full_r_squared(beta: D) -> None:
    coin = prices_from([beta * r for r in PROXY_RETURNS])
    fit = fit_min_variance("SOL", "BTC", coin, prices_from(PROXY_RETURNS))
    assert fit.beta == pytest.approx(beta, rel=D("1e-5"))
    assert fit.correlation == pytest.approx(D(1), abs=D("1e-5"))
    assert fit.r_squared == pytest.approx(D(1), abs=D("1e-5"))
    assert fit.observations == len(PROXY_RETURNS)


def test_noise_lowers_r_squared_and_best_proxy_wins_on_it() -> None:
    noise = [
        D(x)
        for x in (
            "0.01",
            "-0.01",
            "0.02",
            "-0.015",
            "0.01",
            "-0.02",
            "0.005",
            "0.01",
            "-0.01",
            "0.015",
            "-0.005",
        )
    ]
    coin = prices_from([r + n for r, n in zip(PROXY_RETURNS, noise, strict=True)])
    tight = prices_from(PROXY_RETURNS)
    loose = prices_from([r / 3 + n for r, n in zip(PROXY_RETURNS, noise[::-1], strict=True)])
    fit = best_proxy("SOL", coin, {"ETH": loose, "BTC": tight})
    assert fit.proxy_coin == "BTC"
    assert D(0) < fit.r_squared < D(1)
    assert fit.r_squared == pytest.approx(fit.correlation**2, rel=D("1e-4"))


def test_unusable_histories_are_refused_with_reasons() -> None:
    proxy = prices_from(PROXY_RETURNS)
    with pytest.raises(PlanningError, match="same times"):
        fit_min_variance("SOL", "BTC", proxy[:-1], proxy)
    with pytest.raises(PlanningError, match="at least 10 prices"):
        fit_min_variance("SOL", "BTC", proxy[:5], proxy[:5])
    with pytest.raises(PlanningError, match="did not move"):
        fit_min_variance("SOL", "BTC", [D(5)] * 12, proxy)
    with pytest.raises(PlanningError, match="no proxy"):
        best_proxy("SOL", proxy, {})
