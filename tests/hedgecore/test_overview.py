"""Funding over a venue's last 7 and 30 days, from the history the charts draw."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from hedgecore.models import FundingPoint
from hedgecore.overview import funding_history_overview

NOW = datetime(2026, 11, 29, 16, tzinfo=UTC)


def settlements(days: int, rate_of: dict[int, D], hours: int = 8) -> list[FundingPoint]:
    """Settlements every `hours` back from NOW; `rate_of` maps days ago to that day's rate."""
    per_day = 24 // hours
    return [
        FundingPoint(
            time=NOW - timedelta(hours=hours * n),
            rate=rate_of.get(n // per_day, D("0.0001")),
            interval_hours=D(hours),
        )
        for n in range(days * per_day)
    ]


def test_means_are_the_rates_over_the_hours_they_covered_made_yearly() -> None:
    # 30 days at 0.01 % per 8h, except the last 7 at -0.005 %: the short paid 21 of 90 times.
    recent = {day: D("-0.00005") for day in range(7)}
    (row,) = funding_history_overview({"bybit": settlements(30, recent)}, NOW)
    week, month = row.windows
    assert (week.days, week.settlements, week.short_paid) == (D(7), 21, 21)
    assert week.mean_apr_pct == pytest.approx(D("-0.00005") * 3 * 365 * 100)
    assert (month.days, month.settlements, month.short_paid) == (D(30), 90, 21)
    mean_8h = (21 * D("-0.00005") + 69 * D("0.0001")) / 90
    assert month.mean_apr_pct == pytest.approx(mean_8h * 3 * 365 * 100)


def test_a_short_history_says_how_far_it_goes_and_hourly_venues_weigh_by_hour() -> None:
    (row,) = funding_history_overview({"krakenfutures": settlements(12, {}, hours=1)}, NOW)
    week, month = row.windows
    assert (week.days, month.days, month.settlements) == (D(7), D(12), 12 * 24)
    assert month.mean_apr_pct == pytest.approx(D("0.0001") * 24 * 365 * 100)
    # A settlement not yet due by the answer's time is not counted.
    late = FundingPoint(time=NOW + timedelta(hours=1), rate=D(-1), interval_hours=D(1))
    (same,) = funding_history_overview({"krakenfutures": [*settlements(12, {}, 1), late]}, NOW)
    assert same == row
