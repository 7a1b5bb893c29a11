"""Benchmark: /hedge updates per second and CPU ms per update, for both Bot API transports.

The fake Bot API server runs in another process and hands out N varied /hedge updates through
getUpdates (quantities, coins, leverage and users differ, so no two replies are alike); the real
Application (market data from the demo snapshot, cache warm) answers them, then a bare echo
handler does, to show what the transport alone costs. As Telegram does, the server forgets the
updates a getUpdates offset confirms, so each run answers only its own updates: the JSON line
says how many replies came per update (1.0).
Telegram's rate limit is off here, or its 30 messages a second would be all that is measured.
Prints JSON lines: each run, then per workload the medians and spread over ROUNDS interleaved\nrounds. Usage: .venv/bin/python bench/bot_throughput.py [N] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bench.loopback import (
    bot_api_params,
    command_update,
    plain_answer,
    sent_message,
    serve_until_killed,
)
from bot.app import build_application
from bot.polling import Poller
from bot.serving import serving
from bot.settings import BotSettings
from bot.transport import AiohttpRequest

TOKEN = "123456789:AAH-benchmark-token-0123456789abcdef"


def varied_command(rng: random.Random, mixed: bool = False) -> str:
    """A /hedge with its own quantity, coin and leverage; `mixed`: some users send what else a
    new user does (/start, /funding, /settings, which stores their settings) instead."""
    roll = rng.random() if mixed else 0.0
    if roll > 0.99:
        return f"/settings leverage {rng.randint(1, 5)}"
    if roll > 0.95:
        return "/funding BTC"
    if roll > 0.90:
        return "/start"
    return (
        f"/hedge {rng.randint(1, 50_000) / 1000} {rng.choice(('BTC', 'ETH'))} {rng.randint(1, 5)}x"
    )


def serve(port_out: Any) -> None:
    """The fake Bot API, in its own process: updates on demand, counts replies."""
    pending: list[dict[str, Any]] = []
    counter = {"sent": 0, "typing": 0}
    ids = itertools.count(1)
    arrived = asyncio.Event()
    rng = random.Random(7)

    async def handle(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "getUpdates":
            # Long polling, as Telegram does it: hold the request until updates arrive.
            form = await bot_api_params(request)
            offset = int(str(form.get("offset") or 0))
            # An offset confirms every update before it: Telegram never sends those again.
            pending[:] = [u for u in pending if u["update_id"] >= offset]
            deadline = time.monotonic() + float(str(form.get("timeout") or 0))
            while True:
                ready = [u for u in pending if u["update_id"] >= offset][:100]
                if ready or time.monotonic() >= deadline:
                    return web.json_response({"ok": True, "result": ready})
                arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), deadline - time.monotonic())
        if method == "sendMessage":
            counter["sent"] += 1
            form = await bot_api_params(request)
            return sent_message(counter["sent"], int(str(form.get("chat_id"))))
        if method == "sendChatAction":
            counter["typing"] += 1
        return plain_answer(method)

    async def load(request: web.Request) -> web.Response:
        # Loads follow the answers to the one before, and a new bot starts at offset 0: drop
        # what an earlier run saw, as its own next getUpdates would have confirmed it.
        pending.clear()
        for _ in range(int(request.query["n"])):
            n = next(ids)
            text = varied_command(rng, mixed=request.query.get("mix") == "users")
            pending.append(command_update(n, text))
        arrived.set()
        return web.json_response({"sent": counter["sent"]})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(counter)

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    app.router.add_get("/control/load", load)
    app.router.add_get("/control/sent", stats)
    serve_until_killed(app, port_out)


@contextlib.contextmanager
def fake_bot_api() -> Iterator[str]:
    """The fake Bot API (`serve`) in a process of its own, for as long as the block: its URL."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=30)}"
    finally:
        server.terminate()


async def echo(update: Update, context: Any) -> None:
    """The bare handler: what the transport alone costs."""
    if update.message is not None and update.message.text:
        await update.message.reply_text(update.message.text)


def bare_echo_app(transport: str, base: str) -> Application[Any, Any, Any, Any, Any, Any]:
    """PTB's Application with one echo handler on the given transport."""
    builder = Application.builder().token(TOKEN).base_url(f"{base}/bot").updater(None)
    if transport == "aiohttp":
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def bench_settings(base: str, db: Path, **extra: str) -> BotSettings:
    """The bot's settings against the fake Bot API at `base`, on the demo snapshot."""
    snapshot = Path(str(resources.files("hedgecore.market").joinpath("demo_snapshot.json")))
    return BotSettings.model_validate(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "HEDGEBOT_TELEGRAM_BASE_URL": f"{base}/bot",
            "HEDGEBOT_DB": str(db),
            "HEDGEBOT_SNAPSHOT": str(snapshot),
            "HEDGEBOT_HTTP_PORT": "0",  # no /metrics server: benches may run side by side
            **extra,
        }
    )


async def run(workload: str, transport: str, base: str, db: Path, updates: int) -> dict[str, Any]:
    """Answer `updates` messages with the whole bot (/hedge) or with a bare echo handler."""
    settings = bench_settings(base, db, HEDGEBOT_TRANSPORT=transport)
    take: Callable[[Update], Awaitable[None]]
    if workload == "hedge":
        app = build_application(settings, rate_limited=False)
        take = app.bot_data.intake.take
    else:
        app = bare_echo_app(transport, base)
        take = app.update_queue.put
    # Started as hedgebot starts it (bot.polling.run_polling), collector settings included.
    async with serving(app), ClientSession() as control:
        poller = Poller(app.bot, take)
        poller.start()

        async def counts() -> dict[str, int]:
            async with control.get(f"{base}/control/sent") as response:
                return dict(await response.json())

        async def sent() -> int:
            return (await counts())["sent"]

        async def load_and_wait(n: int) -> None:
            start = await sent()
            async with control.get(f"{base}/control/load", params={"n": str(n)}):
                pass
            while await sent() < start + n:
                await asyncio.sleep(0.05)

        await load_and_wait(5)  # warm: markets cached, connections open
        before = await counts()
        cpu, wall = time.process_time(), time.perf_counter()
        await load_and_wait(updates)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await asyncio.sleep(0.5)  # a replayed update would show as a reply past the count
        after = await counts()
        replies, typing = (after[key] - before[key] for key in ("sent", "typing"))
        await poller.stop()
    return {
        "workload": workload,
        "transport": transport,
        "updates": updates,
        "replies_per_update": round(replies / updates, 2),
        # "typing…" is sent when a reply waits over a second, here in the queue behind others
        "typing_per_update": round(typing / updates, 2),
        "updates_per_s": round(updates / wall, 1),
        "cpu_ms_per_update": round(cpu * 1000 / updates, 3),
    }


def spread(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    """The median of `key` over the runs, with its least and greatest."""
    values = sorted(run[key] for run in runs)
    return {"median": statistics.median(values), "min": values[0], "max": values[-1]}


def main() -> None:
    updates = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with fake_bot_api() as base, tempfile.TemporaryDirectory() as tmp:
        # Interleaved rounds: the machine's noise falls on both transports alike.
        for round_no in range(rounds):
            for workload in ("hedge", "echo"):
                for transport in ("httpx", "aiohttp"):
                    db = Path(tmp) / f"{workload}-{transport}-{round_no}.sqlite3"
                    result = asyncio.run(run(workload, transport, base, db, updates))
                    runs.setdefault((workload, transport), []).append(result)
                    print(json.dumps({"bench": "bot_throughput", **result}), flush=True)
    for workload in ("hedge", "echo"):
        ours, ptb = runs[(workload, "aiohttp")], runs[(workload, "httpx")]
        ratios = [a["updates_per_s"] / h["updates_per_s"] for a, h in zip(ours, ptb, strict=True)]
        summary = {
            "bench": "bot_throughput.summary",
            "workload": workload,
            "rounds": rounds,
            "aiohttp_cpu_ms_per_update": spread(ours, "cpu_ms_per_update"),
            "httpx_cpu_ms_per_update": spread(ptb, "cpu_ms_per_update"),
            "aiohttp_over_httpx_throughput": {
                "median": round(statistics.median(ratios), 2),
                "min": round(min(ratios), 2),
                "max": round(max(ratios), 2),
            },
        }
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
