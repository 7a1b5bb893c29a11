"""The application's life in production, shared by polling and webhook mode."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.context import HedgeApp

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


@asynccontextmanager
async def serving(app: HedgeApp) -> AsyncIterator[asyncio.Event]:
    """The application initialised and started as PTB's run_polling would; the event is set on
    SIGINT or SIGTERM, and leaving finishes the replies in flight and closes everything."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        try:
            yield stopping
        finally:
            await app.stop()
            if app.post_shutdown:
                await app.post_shutdown(app)
