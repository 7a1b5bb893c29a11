"""A user's defaults for /hedge, and how they fill in what a request leaves out."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from bot.parsing import HedgeRequest
from hedgecore.answers import HedgeQuestion
from hedgecore.models import PlanSettings

PLAN_DEFAULTS = PlanSettings()  # hedgecore's, so the bot and the CLI start from the same plan


class UserSettings(BaseModel):
    """A user's defaults for /hedge."""

    model_config = ConfigDict(frozen=True)

    leverage: Decimal = Field(default=PLAN_DEFAULTS.leverage, ge=1, le=125)
    hedge_ratio: Decimal = Field(default=PLAN_DEFAULTS.hedge_ratio, gt=0, le=2)
    venues: tuple[str, ...] = ()  # preferred venues; empty means all


DEFAULT_SETTINGS = UserSettings()


def hedge_question(request: HedgeRequest, defaults: UserSettings) -> HedgeQuestion:
    """The desk's question for a request, with the user's defaults where the request says nothing."""
    return HedgeQuestion(
        holdings=request.holdings,
        settings=PlanSettings(
            leverage=request.leverage or defaults.leverage,
            hedge_ratio=request.hedge_ratio or defaults.hedge_ratio,
        ),
        venues=(request.venue,) if request.venue else (defaults.venues or None),
    )
