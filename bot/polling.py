"""Polling mode: getUpdates in a loop that backs off on transient errors and ends on a refused token.

PTB's own polling task ends for good on a 401 while the application keeps running, so nothing
restarts it; here a refused token ends the process (systemd or docker decide what next), every
other failure is retried with a growing pause, and /healthz reads `problem()` meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.context import HedgeApp
from bot.ops import serve
from bot.serving import ALLOWED_UPDATES, serving
from bot.webhook import public_app

log = logging.getLogger(__name__)
POLL_TIMEOUT_S = 10  # Telegram holds each getUpdates open this long when there is nothing new
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
# A poll that has not answered in its own timeout plus this long is stuck, not waiting.
STUCK_MARGIN_S = 30.0


def failure_reason(error: Exception) -> str:
    """A getUpdates failure in a few words for the log and /healthz."""
    if isinstance(error, Conflict):
        return "409 Conflict: another process polls with this token, or a webhook is set"
    if isinstance(error, RetryAfter):
        return f"429 Too Many Requests, retry after {error.retry_after}"
    if isinstance(error, TelegramError):
        return f"{type(error).__name__}: {error.message}"
    return type(error).__name__


def pause_after(error: Exception, backoff_s: float) -> float:
    """How long to wait before the next getUpdates: what a 429 asks for, else the backoff."""
    if not isinstance(error, RetryAfter):
        return backoff_s
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class Poller:
    """Fetches updates and hands each to `take` until stopped or the token is refused."""

    def __init__(
        self,
        bot: Bot,
        take: Callable[[Update], Awaitable[None]],
        poll_timeout_s: int = POLL_TIMEOUT_S,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        self._bot = bot
        self._take = take
        self._poll_timeout_s = poll_timeout_s
        self._first_backoff_s = first_backoff_s
        self._max_backoff_s = max_backoff_s
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._answered_at: float | None = None  # time.monotonic() of the last good answer
        self._failure: str | None = None

    def problem(self) -> str | None:
        """Why updates are not being fetched right now, or None when they are."""
        if self._task is None or self._task.done():
            return "not polling Telegram for updates"
        if self._failure is not None:
            return f"getUpdates failing: {self._failure}"
        if self._answered_at is None:
            return "waiting for the first getUpdates answer"
        silent_s = time.monotonic() - self._answered_at
        if silent_s > self._poll_timeout_s + STUCK_MARGIN_S:
            return f"no getUpdates answer for {silent_s:.0f} s"
        return None

    def start(self) -> None:
        """Start polling in the background."""
        self._task = asyncio.create_task(self._poll(), name="hedgebot:getUpdates")

    async def run_until(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; raises `InvalidToken` when Telegram refuses the token."""
        self.start()
        polling = self._task
        assert polling is not None
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([stopped, polling], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            await self.stop()

    async def stop(self) -> None:
        """Stop polling and tell Telegram which updates were taken; raises `InvalidToken` if
        polling had ended on a refused token."""
        if self._task is None:
            return
        task, self._task = self._task, None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self._offset is not None:
            # Without this the updates of the last poll come again after a restart.
            with contextlib.suppress(TelegramError):
                await self._bot.get_updates(offset=self._offset, limit=1, timeout=0)

    async def _poll(self) -> None:
        backoff_s = self._first_backoff_s
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=self._offset,
                    timeout=self._poll_timeout_s,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except InvalidToken:
                raise
            except Exception as error:  # noqa: BLE001 - every other failure is retried
                reason, pause_s = failure_reason(error), pause_after(error, backoff_s)
                if self._failure is None:
                    log.warning("getUpdates failed (%s); retrying in %.1f s", reason, pause_s)
                self._failure = reason
                backoff_s = min(backoff_s * 2, self._max_backoff_s)
                await asyncio.sleep(pause_s)
                continue
            if self._failure is not None:
                log.warning("getUpdates answers again")
            self._failure, self._answered_at = None, time.monotonic()
            backoff_s = self._first_backoff_s
            for update in updates:
                await self._take(update)
            if updates:
                self._offset = updates[-1].update_id + 1


async def run_polling(app: HedgeApp) -> None:
    """Poll until SIGINT or SIGTERM; raises `InvalidToken` when Telegram refuses the token."""
    async with serving(app) as stopping:
        settings = app.bot_data.services.settings
        public = None
        if settings.public_url is not None:  # the calculator's page is served all the same
            public = await serve(public_app(app), settings.webhook_listen, settings.webhook_port)
        app.bot_data.poller = Poller(app.bot, app.bot_data.intake.take)
        try:
            await app.bot_data.poller.run_until(stopping)
        finally:
            if public is not None:
                await public.cleanup()
