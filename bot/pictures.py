"""The bot's pictures, drawn in a worker thread so the event loop keeps answering meanwhile.

matplotlib takes about 0.4 s to import: it is imported there too, on the first picture, so the
bot starts without it and the import never holds up the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from hedgecore.backtest import BacktestReport
from hedgecore.payoff import FundingLine, PayoffCurve


async def payoff_picture(curve: PayoffCurve) -> bytes:
    """The payoff chart of a plan as PNG."""

    def draw() -> bytes:
        from hedgecore.charts.draw import payoff_png

        return payoff_png(curve)

    return await asyncio.to_thread(draw)


async def funding_picture(coin: str, lines: Sequence[FundingLine], as_of: datetime) -> bytes:
    """A coin's funding history per venue as PNG."""

    def draw() -> bytes:
        from hedgecore.charts.draw import funding_png

        return funding_png(coin, lines, as_of)

    return await asyncio.to_thread(draw)


async def backtest_picture(report: BacktestReport, source: str) -> bytes:
    """A backtest's value paths as PNG, its title naming where the history comes from."""

    def draw() -> bytes:
        from hedgecore.charts.draw import backtest_png

        return backtest_png(report, source)

    return await asyncio.to_thread(draw)
