"""The typed context every handler receives, and the application type it belongs to."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.services import BotData, Services


class HedgeContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """PTB's context with the application's services one attribute away."""

    @property
    def services(self) -> Services:
        """The desk, the store and the bot's services (set up in post_init)."""
        return self.bot_data.services


HedgeApp = Application[
    ExtBot[None],
    HedgeContext,
    dict[Any, Any],
    dict[Any, Any],
    BotData,
    JobQueue[HedgeContext],
]
CONTEXT_TYPES = ContextTypes(context=HedgeContext, bot_data=BotData)


class UnmarkedApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application without a set that grows by one entry per user for ever.

    Without persistence PTB still marks every chat and user an update comes from for a
    persistence update that never runs, so the marks are never cleared (22.x,
    `Application._mark_for_persistence_update`). This bot keeps its state in its store.
    """

    def _mark_for_persistence_update(self, *, update: object = None, job: Any = None) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)
