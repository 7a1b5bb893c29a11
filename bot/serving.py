"""The application's life in production, shared by polling and webhook mode."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
# Python's default, a young-generation collection every 700 allocations, suits short scripts. A
# /hedge reply allocates thousands of short-lived objects, and collecting at that rate cost a
# sixth of its CPU (bench/bot_throughput.py); every 20,000 leaves a few MB of garbage waiting.
YOUNG_COLLECTION_EVERY = 20_000


def settle_heap() -> None:
    """Set what start-up built aside from the cyclic collector, and collect young objects less often.

    Modules, handlers and services live as long as the process: after one collection,
    `gc.freeze` keeps later ones from walking them again.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 10, 10)


@asynccontextmanager
async def serving(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[asyncio.Event]:
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
        settle_heap()
        try:
            yield stopping
        finally:
            await app.stop()
            if app.post_shutdown:
                await app.post_shutdown(app)


async def run_scheduler(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """`hedgebot --scheduler`: run the alert cycles (while this process leads them) and serve
    /healthz, until SIGINT or SIGTERM; no updates are fetched."""
    async with serving(app) as stopping:
        await stopping.wait()
