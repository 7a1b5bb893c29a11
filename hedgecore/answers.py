"""The desk's typed questions and answers: what every client asks and renders, with provenance.

Pure models; `hedgecore.desk` fills them from market data, the renderers (Telegram HTML in
`bot.render`, terminal text and JSON in `hedgecore.report`) turn them into replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import Field

from hedgecore import fmt
from hedgecore.backtest import BacktestReport
from hedgecore.comparison import VenueComparison
from hedgecore.models import (
    DataSource,
    Frozen,
    HedgePlan,
    Holding,
    LeverageRow,
    MarketContract,
    PlanSettings,
    PortfolioPlan,
)
from hedgecore.overview import BasisRow, FundingHistoryRow, FundingRow
from hedgecore.payoff import FundingLine, PayoffCurve
from hedgecore.planning import leverage_table
from hedgecore.portfolio_risk import PortfolioRisk


class HedgeQuestion(Frozen):
    """Hedge these holdings with these settings, on these venues (None: every venue)."""

    holdings: tuple[Holding, ...] = Field(min_length=1)
    settings: PlanSettings = PlanSettings()
    venues: tuple[str, ...] | None = None


class Sourced(Frozen):
    """An answer's provenance: where its data came from and when."""

    source: DataSource
    as_of: datetime

    @property
    def data_label(self) -> str:
        """Whether the data is live, a snapshot or typed in, and from when."""
        return fmt.data_label(self.source, self.as_of)

    @property
    def data_line(self) -> str:
        """The line a reply shows it with (the demo's opens the reply)."""
        return fmt.data_line(self.source, self.as_of)


class MarketPlan(Sourced):
    """A plan, the contract of its best leg, where its data came from and what was noted."""

    plan: HedgePlan
    best_market: MarketContract  # the contract of the plan's best leg, for the leverage table
    market_notes: tuple[str, ...]

    @classmethod
    def of(
        cls,
        plan: HedgePlan,
        contracts: Sequence[MarketContract],
        notes: Sequence[str],
        source: DataSource,
        as_of: datetime,
    ) -> MarketPlan:
        """A plan made from `contracts`, with the contract its best leg is on."""
        best = next(
            m
            for m in contracts
            if (m.contract.venue, m.contract.symbol) == (plan.best.venue, plan.best.symbol)
        )
        return cls(
            plan=plan, best_market=best, market_notes=tuple(notes), source=source, as_of=as_of
        )

    def leverage_rows(self) -> tuple[LeverageRow, ...]:
        """The leverage trade-off table on the best leg (computed when asked: most replies skip it)."""
        return leverage_table(self.plan, self.best_market)


class HedgeResult(Frozen):
    """Plans for the holdings of a question, their totals, and what could not be planned."""

    plans: tuple[MarketPlan, ...] = Field(min_length=1)
    notes: tuple[str, ...]
    failures: tuple[str, ...] = ()
    portfolio: PortfolioPlan | None = None

    @property
    def data_label(self) -> str:
        """Where the data of the first plan came from (every plan of a result shares it)."""
        return self.plans[0].data_label

    @property
    def source(self) -> DataSource:
        """The source of every plan's data."""
        return self.plans[0].source

    @property
    def data_line(self) -> str:
        """The line a reply shows the data label with."""
        return self.plans[0].data_line


class PayoffAnswer(Frozen):
    """One holding's plan and the payoff series drawn from that very plan."""

    market_plan: MarketPlan
    curve: PayoffCurve
    notes: tuple[str, ...]


class Overview(Sourced):
    """Funding or basis rows of one coin across venues, with notes on venues left out."""

    coin: str
    funding: tuple[FundingRow, ...]
    basis: tuple[BasisRow, ...]
    notes: tuple[str, ...]
    history: tuple[FundingHistoryRow, ...] = ()  # asked for by /funding COIN


class RiskAnswer(Sourced):
    """A portfolio's historical risk, holding by holding, and where each coin's closes came from."""

    risk: PortfolioRisk
    notes: tuple[str, ...]


class FundingHistoryAnswer(Sourced):
    """A coin's past funding per venue, annualised as a short sees it, up to `as_of`."""

    coin: str
    lines: tuple[FundingLine, ...]
    notes: tuple[str, ...]


class BacktestAnswer(Frozen):
    """A bundled history replayed through every strategy, and where the history comes from."""

    report: BacktestReport
    origin: str
    comparison: VenueComparison | None = None  # the other venues over the same period


def merged_notes(*groups: Sequence[str]) -> tuple[str, ...]:
    """Notes of several answers, each once, in order."""
    return tuple(dict.fromkeys(note for group in groups for note in group))
