"""Benchmark: the bot's resident memory as distinct users arrive, from 20,000 to 200,000.

The whole bot runs as hedgebot runs it (bot.serving, the intake, the demo snapshot, a SQLite
file) against bot_throughput's fake Bot API in another process. Every update comes from a user
never seen before: 90 % send /hedge with their own numbers, the rest /start, /funding or
/settings (which stores their settings). After each step of users it prints the resident memory
(VmRSS) and how many users the flood guard remembers; the last line says how much the memory grew
from the first step to the last. Target: within 5 %.
Prints JSON lines. Usage: .venv/bin/python bench/soak.py [USERS] [STEP]
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bot_throughput import bench_settings, fake_bot_api
from bench.memory import resident_mib
from bot.app import build_application
from bot.flood import FloodGuard
from bot.polling import Poller
from bot.serving import serving

BATCH = 500  # users whose updates wait at once: fewer than the intake sheds past (1,000)


async def soak(base: str, db: Path, users: int, step: int) -> list[dict[str, float]]:
    """Answer `users` new users' updates, measuring after every `step` of them."""
    app = build_application(bench_settings(base, db), rate_limited=False)
    points = []
    async with serving(app), ClientSession() as control:
        poller = Poller(app.bot, app.bot_data.intake.take)
        poller.start()

        async def sent() -> int:
            async with control.get(f"{base}/control/sent") as response:
                return int((await response.json())["sent"])

        started = time.perf_counter()
        done = 0
        while done < users:
            before = await sent()
            params = {"n": str(BATCH), "mix": "users"}
            async with control.get(f"{base}/control/load", params=params):
                pass
            while await sent() < before + BATCH:
                await asyncio.sleep(0.05)
            done += BATCH
            if done % step == 0:
                flood = app.bot_data.services.flood
                assert isinstance(flood, FloodGuard)  # the bench has no Redis
                point = {
                    "users": done,
                    "rss_mib": round(resident_mib(), 1),
                    "flood_guard_users": len(flood),
                    "seconds": round(time.perf_counter() - started, 1),
                }
                print(json.dumps({"bench": "soak", **point}), flush=True)
                points.append(point)
        await poller.stop()
    return points


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    step = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    with fake_bot_api() as base, tempfile.TemporaryDirectory() as tmp:
        points = asyncio.run(soak(base, Path(tmp) / "soak.sqlite3", users, step))
    first, last = points[0], points[-1]
    print(
        json.dumps(
            {
                "bench": "soak.summary",
                "from_users": first["users"],
                "to_users": last["users"],
                "rss_mib": [first["rss_mib"], last["rss_mib"]],
                "rss_growth_pct": round((last["rss_mib"] / first["rss_mib"] - 1) * 100, 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
