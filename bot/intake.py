"""Taking updates in: a bound on the updates waiting for their reply, and a short "busy" past it.

A burst faster than replies can go out (Telegram takes about 30 messages a second) would
otherwise wait without limit, each update holding its task, its objects and later its reply.
Polling and the webhook both hand their updates to `Intake.take`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable

from telegram import Update
from telegram.error import TelegramError

BUSY = "Busy: more requests than I can answer right now. Send yours again in a minute."
BUSY_SENDS_AT_ONCE = 20  # past this many "busy" answers in flight, shed updates go unanswered
BUSY_EVERY_S = 60.0  # one "busy" answer per chat per minute


class UpdateQueue(asyncio.Queue[object]):
    """PTB's update queue, counting the updates taken in whose handlers have not finished."""

    def __init__(self) -> None:
        super().__init__()
        self.unfinished = 0

    def put_nowait(self, item: object) -> None:
        super().put_nowait(item)
        self.unfinished += 1

    def task_done(self) -> None:
        # PTB calls it once an update's handlers have all run.
        super().task_done()
        self.unfinished -= 1


class Intake:
    """Queues updates while fewer than `limit` are unfinished; sheds the rest with a "busy"."""

    def __init__(
        self, queue: UpdateQueue, limit: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.queue = queue
        self.limit = limit
        self.shed = 0  # updates refused since start
        self._clock = clock
        self._busy_sends: set[asyncio.Task[None]] = set()
        # Chat -> when it was told it is busy, oldest first.
        self._told: OrderedDict[int, float] = OrderedDict()

    async def take(self, update: Update) -> None:
        """Queue `update` for the handlers, or shed it when too many are unfinished."""
        if self.queue.unfinished < self.limit:
            await self.queue.put(update)
            return
        self.shed += 1
        chat = update.effective_chat
        if (
            chat is None
            or len(self._busy_sends) >= BUSY_SENDS_AT_ONCE
            or self._told_lately(chat.id)
        ):
            return
        send = asyncio.create_task(self._say_busy(update))
        self._busy_sends.add(send)
        send.add_done_callback(self._busy_sends.discard)

    async def close(self) -> None:
        """Wait for the "busy" answers being sent."""
        await asyncio.gather(*self._busy_sends, return_exceptions=True)

    def _told_lately(self, chat_id: int) -> bool:
        now = self._clock()
        while self._told and now - next(iter(self._told.values())) >= BUSY_EVERY_S:
            self._told.popitem(last=False)
        if chat_id in self._told:
            return True
        self._told[chat_id] = now
        return False

    async def _say_busy(self, update: Update) -> None:
        with contextlib.suppress(TelegramError):  # an unanswered "busy" costs nothing
            if update.callback_query is not None:
                await update.callback_query.answer(BUSY)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(BUSY, do_quote=False)
