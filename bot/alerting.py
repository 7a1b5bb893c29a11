"""Funding alerts: the cycle that evaluates every rule and queues messages, and the sender.

Each cycle refreshes funding for the coins that have rules through the shared market cache (one
bulk request per venue however many subscribers), evaluates, and writes the new state and the
messages in one transaction. The sender drains the outbox through PTB's rate limiter and marks
each message sent, so a crash loses nothing and never repeats what was marked sent.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.render import render_alert
from bot.store import Store
from hedgecore.alerts import FundingObservation, RuleIndex, evaluate
from hedgecore.market.service import MarketService

log = logging.getLogger(__name__)
SEND_BATCH = 30  # Telegram's overall limit per second; the rate limiter spaces them


class AlertService:
    """Alert evaluation and delivery for the process; the rule index is rebuilt when rules change."""

    def __init__(self, store: Store, market: MarketService) -> None:
        self._store = store
        self._market = market
        self._index: RuleIndex | None = None
        self._cycle_lock = asyncio.Lock()

    def rules_changed(self) -> None:
        """Rules were added, deleted, paused or resumed: rebuild the index next cycle."""
        self._index = None

    async def _observations(self, coins: set[str]) -> list[FundingObservation]:
        observations = []
        for coin in sorted(coins):
            markets = await self._market.coin_markets(coin)
            observations += [
                FundingObservation(
                    venue=m.contract.venue,
                    coin=coin,
                    rate=m.funding.rate,
                    interval_hours=m.funding.interval_hours,
                    next_funding_time=m.funding.next_funding_time,
                    observed_at=m.funding.timestamp,
                )
                for m in markets.contracts
                if m.funding is not None
            ]
        return observations

    async def cycle(self, now: datetime) -> int:
        """Evaluate every rule against fresh funding and queue the alerts; returns how many."""
        async with self._cycle_lock:
            if self._index is None:
                self._index = RuleIndex(await self._store.active_alerts())
            if not len(self._index):
                return 0
            observations = await self._observations(self._index.coins)
            result = evaluate(self._index, observations, await self._store.alert_state(), now)
            messages = [(event.rule.chat_id, render_alert(event)) for event in result.events]
            await self._store.commit_cycle(result.state, messages)
            return len(messages)

    async def deliver(self, bot: Bot) -> int:
        """Send what the outbox holds; returns how many were sent."""
        sent = 0
        while batch := await self._store.pending_messages(SEND_BATCH):
            outcomes = await asyncio.gather(
                *(self._send(bot, chat_id, text) for _, chat_id, text in batch)
            )
            for (message_id, _, _), outcome in zip(batch, outcomes, strict=True):
                if outcome == "sent":
                    await self._store.mark_message(message_id, "sent")
                    sent += 1
            if "failed" in outcomes:
                break  # Telegram is unwell: the rest waits for the next cycle
        return sent

    async def _send(self, bot: Bot, chat_id: int, text: str) -> str:
        try:
            await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except Forbidden:
            # The user blocked the bot: pause their alerts until they /start again.
            await self._store.pause_chat(chat_id)
            self.rules_changed()
            return "blocked"
        except TelegramError as exc:
            log.warning("alert to a chat not sent, will retry: %s", type(exc).__name__)
            return "failed"
        return "sent"
