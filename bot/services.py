"""What handlers reach through the typed bot_data: the desk and the bot's own services.

Set up once in post_init, closed in post_shutdown. Answers come from the desk (`hedgecore.desk`);
what is Telegram's alone (the store of users and alerts, alert delivery, flood control,
metrics) sits beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram.request import BaseRequest

from bot.alerting import AlertService
from bot.flood import Flood
from bot.intake import Intake
from bot.metrics import BotMetrics
from bot.settings import BotSettings
from bot.store import Store
from hedgecore.desk import Desk

if TYPE_CHECKING:  # bot.polling needs the application type, which needs this module
    from bot.polling import Poller

MenuEntry = tuple[str, str, str]  # a command's name, what it does, an example


@dataclass(frozen=True)
class Services:
    """Everything the handlers need, built once for the application's life."""

    settings: BotSettings
    desk: Desk
    store: Store
    alerts: AlertService
    flood: Flood
    metrics: BotMetrics
    menu: tuple[MenuEntry, ...]  # the listed commands, for /help and Telegram's menu

    async def close(self) -> None:
        """Close the market connections, the store and the flood guard's."""
        await self.desk.close()
        await self.store.close()
        await self.flood.close()


class BotData:
    """PTB's bot_data, typed: the services, set in post_init, the HTTP transports, and what
    fetches updates in polling mode (its health is the bot's)."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self.transports: list[BaseRequest] = []  # set by build_application
        self._intake: Intake | None = None
        self.poller: Poller | None = None

    async def close_transports(self) -> None:
        """Close the HTTP transports (PTB does it on shutdown, not after a failed start)."""
        for transport in self.transports:
            await transport.shutdown()

    @property
    def intake(self) -> Intake:
        """Where polling and the webhook hand updates in (set by build_application)."""
        if self._intake is None:
            raise RuntimeError("the intake is set by build_application")
        return self._intake

    @intake.setter
    def intake(self, intake: Intake) -> None:
        self._intake = intake

    @property
    def services(self) -> Services:
        """The application's services; only available once post_init has run."""
        if self._services is None:
            raise RuntimeError("services are set up in post_init; the application has not started")
        return self._services

    def start(self, services: Services) -> None:
        """Install the services (post_init)."""
        self._services = services

    def stop(self) -> Services | None:
        """Remove and return the services (post_shutdown)."""
        services, self._services = self._services, None
        return services
