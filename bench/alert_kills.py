"""Benchmark (fault probe): alert delivery killed with SIGKILL at random moments.

Issue 12, finding 3: 200 chats, 6 crossings (1,200 alerts), the sender SIGKILLed again and again
while it sends. The outbox is a real SQLite file; the sender is the bot's own `AlertService`
with a real PTB `Bot` in a process of its own, talking to a fake Bot API on loopback that answers
each sendMessage after 50 ms (about what Telegram takes) and records every alert it receives.
Each crossing queues one alert per chat; the sender is started, killed a random 0-2 s after it
is ready, started again, until the crossing's kills are spent, then left to finish.

Reports alerts lost, alerts received twice or more, and duplicates per kill: at most the
messages in flight at a kill can go twice (they were sent but not yet marked sent). The claim
lease is 2 s here instead of 55 s, so that rows a killed sender held are free again quickly;
it changes how long they wait, not whether they go twice. Prints JSON lines.
Usage: .venv/bin/python bench/alert_kills.py [CHATS] [CROSSINGS] [KILLS_PER_CROSSING] [SEED]
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loopback import bot_api_params, plain_answer, sent_message

TOKEN = "123456789:AAH-alert-kill-probe-0123456789abcdef"
REPLY_LATENCY_S = 0.05
LEASE_S = 2
ALERT = re.compile(r"alert (\d+)")


async def send_until_empty(db: Path, base_url: str) -> None:
    """The sender: deliver until nothing waits in the outbox (the child process)."""
    from telegram import Bot

    import bot.alerting
    from bot.alerting import AlertService
    from bot.store import open_store
    from bot.transport import AiohttpRequest
    from hedgecore.market.service import MarketService

    bot.alerting.CLAIM_LEASE_S = LEASE_S
    store = await open_store(db)
    alerts = AlertService(store, MarketService([]))  # delivery never asks the market
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as telegram:
        print("ready", flush=True)
        while (await store.counts())["alerts waiting to be sent"]:
            await alerts.deliver(telegram)
            await asyncio.sleep(0.2)  # rows a killed sender claimed wait for their lease
    await store.close()


class FakeBotApi:
    """sendMessage answered after REPLY_LATENCY_S, each alert id received counted."""

    def __init__(self) -> None:
        self.received: Counter[int] = Counter()
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/bot"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method != "sendMessage":
            return plain_answer(method)
        params = await bot_api_params(request)
        await asyncio.sleep(REPLY_LATENCY_S)
        self.received.update(int(n) for n in ALERT.findall(str(params["text"])))
        return sent_message(1, int(str(params["chat_id"])))


async def sender(db: Path, base_url: str) -> asyncio.subprocess.Process:
    """A sender process, started and ready to send."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--sender",
        str(db),
        base_url,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    await process.stdout.readline()  # "ready", or nothing if it died
    return process


async def probe(chats: int, crossings: int, kills_per_crossing: int, seed: int) -> None:
    from bot.store import open_store

    rng = random.Random(seed)
    api = FakeBotApi()
    base_url = await api.start()
    kills = 0
    queued = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "alerts.sqlite3"
        for _ in range(crossings):
            # The crossing is queued, then the store closed: one process per SQLite file.
            store = await open_store(db)
            messages = [(chat, f"alert {queued + chat}") for chat in range(1, chats + 1)]
            await store.commit_cycle(await store.alert_state(), messages)
            await store.close()
            queued += chats
            for _ in range(kills_per_crossing):
                process = await sender(db, base_url)
                await asyncio.sleep(rng.uniform(0, 2))
                if process.returncode is None:
                    process.send_signal(signal.SIGKILL)
                    kills += 1
                await process.wait()
            last = await sender(db, base_url)
            if await last.wait() != 0:  # it finishes the crossing
                raise SystemExit(f"the sender failed (exit {last.returncode})")
    await api.stop()
    duplicates = sum(n - 1 for n in api.received.values() if n > 1)
    print(
        json.dumps(
            {
                "bench": "alert_kills",
                "chats": chats,
                "crossings": crossings,
                "alerts": queued,
                "kills": kills,
                "seed": seed,
                "lost": sum(1 for n in range(1, queued + 1) if n not in api.received),
                "received_more_than_once": sum(1 for n in api.received.values() if n > 1),
                "duplicates": duplicates,
                "duplicates_per_kill": round(duplicates / max(kills, 1), 2),
                "most_copies_of_one_alert": max(api.received.values(), default=0),
            }
        ),
        flush=True,
    )


def main() -> None:
    if sys.argv[1:2] == ["--sender"]:
        asyncio.run(send_until_empty(Path(sys.argv[2]), sys.argv[3]))
        return
    args = [int(a) for a in sys.argv[1:5]]
    chats, crossings, kills, seed = args + [200, 6, 6, 1][len(args) :]
    asyncio.run(probe(chats, crossings, kills, seed))


if __name__ == "__main__":
    main()
