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
