"""Benchmark: memory of the bot under a burst of updates faster than replies can go out.

The whole bot as in production (Telegram's 30 messages a second enforced by PTB's rate limiter,
market data from the demo snapshot) polls a fake Bot API that hands out N /hedge updates from N
chats at once. For HEDGEBOT_MAX_WAITING_UPDATES unbounded and at its default, each in a fresh
process, it samples the resident memory for a while and reports the growth over the warm
baseline, the updates shed with "busy" and the messages sent. Prints JSON lines.
Usage: .venv/bin/python bench/update_burst.py [N] [SECONDS]
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bot_throughput import bench_settings, serve
from bot.app import build_application
from bot.polling import Poller
from bot.settings import BotSettings

UNBOUNDED = 1_000_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """This process's resident memory."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


async def burst(limit: int, base: str, db: Path, updates: int, seconds: float) -> dict[str, Any]:
    settings = bench_settings(
        base, db, HEDGEBOT_HTTP_PORT="0", HEDGEBOT_MAX_WAITING_UPDATES=str(limit)
    )
    app = build_application(settings)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    Poller(app.bot, app.bot_data.intake.take).start()
    async with ClientSession() as control:

        async def load(n: int) -> int:
            async with control.get(f"{base}/control/load", params={"n": str(n)}) as response:
                return int((await response.json())["sent"])

        async def sent() -> int:
            async with control.get(f"{base}/control/sent") as response:
                return int((await response.json())["sent"])

        start = await load(5)  # warm: markets cached, connections open
        while await sent() < start + 5:
            await asyncio.sleep(0.05)
        baseline = rss_mb()
        before = await load(updates)
        peak, waiting_peak = baseline, 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            peak = max(peak, rss_mb())
            waiting_peak = max(waiting_peak, app.bot_data.intake.queue.unfinished)
        replies = await sent() - before
    return {
        "bench": "update_burst",
        "max_waiting_updates": "unbounded" if limit == UNBOUNDED else limit,
        "updates": updates,
        "seconds": seconds,
        "baseline_rss_mb": round(baseline, 1),
        "peak_growth_mb": round(peak - baseline, 1),
        "peak_waiting": waiting_peak,
        "shed": app.bot_data.intake.shed,
        "messages_sent": replies,
    }


def measure(limit: int, base: str, db: Path, updates: int, seconds: float, out: Any) -> None:
    """One variant in a process of its own, so that memory is its own; left without draining."""
    out.put(asyncio.run(burst(limit, base, db, updates, seconds)))
    out.close()
    out.join_thread()  # the queue's feeder thread writes the result; os._exit would not wait
    os._exit(0)  # the unbounded variant would take minutes to answer everyone


def main() -> None:
    updates = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 15.0
    default = BotSettings.model_fields["max_waiting_updates"].default
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for limit in (UNBOUNDED, default):
            # A fresh fake Bot API each time: updates it handed out are not handed out again.
            ports: multiprocessing.Queue[int] = multiprocessing.Queue()
            server = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
            server.start()
            base = f"http://127.0.0.1:{ports.get(timeout=30)}"
            out: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
            db = Path(tmp) / f"burst-{limit}.sqlite3"
            bot = multiprocessing.Process(
                target=measure, args=(limit, base, db, updates, seconds, out)
            )
            bot.start()
            results[limit] = out.get(timeout=seconds + 120)
            bot.join(timeout=30)
            server.terminate()
            print(json.dumps(results[limit]), flush=True)
    print(
        json.dumps(
            {
                "bench": "update_burst.ratio",
                "bounded_over_unbounded_peak_growth": round(
                    results[default]["peak_growth_mb"]
                    / max(results[UNBOUNDED]["peak_growth_mb"], 0.1),
                    2,
                ),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
