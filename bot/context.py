"""The typed context every handler receives: bot_data is `BotData`."""

from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.services import BotData

HedgeContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
