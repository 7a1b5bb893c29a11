"""Benchmark: evaluating 10k, 100k and 1M alert rules against one funding snapshot, and
delivering queued alerts to a fake Bot API (in another process) that enforces Telegram's limits.

Prints JSON lines: seconds to build the index from rows read one by one (as from the store) and
the memory it holds (resident growth; before, the index kept every rule object alive), to
evaluate a first cycle (no state yet) and a normal cycle after rates moved a little, and a cycle
after a jump of 0.02 % per 8 hours.
Delivery: an alert for each of 300 chats, and a second one for 30 of them queued while the
first are being sent (so those must wait out each chat's second), through the real
Application's rate limiter; the server answers 429 to more than 30 messages in any second or 1 a
second per chat, and counts them.
Loop stall: the longest the event loop waits while the alert service indexes 1M rules (in a
worker thread), runs cycles and takes 1,000 rule changes, beside a rebuild on the loop; and what
the service then holds beside the rows, and the process's peak.
Usage: .venv/bin/python bench/alerts.py (everything), bench/alerts.py delivery [RUNS] (the
delivery alone, RUNS times, 10 by default), or bench/alerts.py stall.
"""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import ClientSession, web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loopback import bot_api_params, plain_answer, sent_message, serve_until_killed
from bench.memory import resident_mib
from bot.alerting import AlertService
from bot.app import build_application
from bot.settings import BotSettings
from bot.store.sqlite import SqliteStore
from hedgecore.alerts import (
    AlertKind,
    AlertRule,
    AlertState,
    FundingObservation,
    RuleIndex,
    evaluate,
)
from hedgecore.market.feeds import SnapshotFeed
from hedgecore.market.service import MarketService
from hedgecore.models import DataSource

VENUES = ("bybit", "binancecoinm", "okx", "deribit", "krakenfutures")
COINS = ("BTC", "ETH")
TOKEN = "123456789:AAH-benchmark-token-0123456789abcdef"
NOW = datetime(2026, 11, 29, 7, 40, tzinfo=UTC)
T = TypeVar("T")


RuleRow = tuple[int, int, str, AlertKind, int, int, str | None]


def rule_rows(count: int, rng: random.Random, first_id: int = 1) -> list[RuleRow]:
    """Rules as rows, as a store keeps them (a million rule objects would weigh a GB)."""
    kinds = list(AlertKind)
    made = []
    for rule_id in range(first_id, first_id + count):
        kind = rng.choice(kinds)
        made.append(
            (
                rule_id,
                rng.randrange(10**9),
                rng.choice(COINS),
                kind,
                rng.randrange(-50, 51),
                rng.choice((5, 15, 30, 60)) if kind is AlertKind.BEFORE else 0,
                rng.choice((None, *VENUES)),
            )
        )
    return made


def as_rule(row: RuleRow) -> AlertRule:
    rule_id, chat_id, coin, kind, threshold, minutes, venue = row
    return AlertRule.model_construct(
        id=rule_id,
        chat_id=chat_id,
        coin=coin,
        kind=kind,
        threshold_8h=Decimal(threshold) / 100000,
        minutes_before=minutes,
        venue=venue,
    )


def snapshot(
    rng: random.Random, previous: list[FundingObservation] | None = None
) -> list[FundingObservation]:
    """Rates on every venue; with `previous`, each moved by up to 0.005 % per 8 hours."""
    observations = []
    for n, (coin, venue) in enumerate((c, v) for c in COINS for v in VENUES):
        if previous is None:
            rate = Decimal(rng.randrange(-30, 31)) / 100000
        else:
            rate = previous[n].rate + Decimal(rng.randrange(-5, 6)) / 1000000
        hours = Decimal(1 if venue == "krakenfutures" else 8)
        observations.append(
            FundingObservation(
                venue=venue,
                coin=coin,
                rate=rate,
                interval_hours=hours,
                next_funding_time=NOW + timedelta(minutes=20),
                observed_at=NOW,
            )
        )
    return observations


def strict_telegram(port_out: Any) -> None:
    """A Bot API that enforces 30 messages a second overall and 1 a second per chat with 429s."""
    recent: deque[float] = deque()
    last_by_chat: dict[int, float] = {}
    counts = {"sent": 0, "429": 0}

    async def handle(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method != "sendMessage":
            return plain_answer(method)
        body = await bot_api_params(request)
        chat = int(body["chat_id"])
        now = time.monotonic()
        while recent and now - recent[0] > 1.0:
            recent.popleft()
        if len(recent) >= 30 or now - last_by_chat.get(chat, -10.0) < 1.0:
            counts["429"] += 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        recent.append(now)
        last_by_chat[chat] = now
        counts["sent"] += 1
        return sent_message(counts["sent"], chat)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(counts)

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    app.router.add_get("/control/stats", stats)
    serve_until_killed(app, port_out)


async def deliver(base: str, db: Path, chats: int, again: int) -> dict[str, Any]:
    """One alert for each of `chats` chats, then, while those are being sent, a second one for
    the first `again` of them: the second ones must wait out each chat's second."""
    settings = BotSettings.model_validate(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "HEDGEBOT_TELEGRAM_BASE_URL": f"{base}/bot",
            "HEDGEBOT_DB": str(db),
        }
    )
    app = build_application(settings)  # with PTB's AIORateLimiter, as in production
    store = await SqliteStore.open(db)
    await store.commit_cycle(AlertState(), [(1000 + n, f"alert {n}") for n in range(chats)])
    await app.initialize()
    async with ClientSession() as http:

        async def counts() -> dict[str, int]:
            async with http.get(f"{base}/control/stats") as response:
                return dict(await response.json())

        before = await counts()
        try:
            service = AlertService(store, MarketService([]))
            started = time.perf_counter()
            sending = asyncio.create_task(service.deliver(app.bot))
            await asyncio.sleep(0.5)  # the first chats have had their message
            await store.commit_cycle(
                AlertState(), [(1000 + n, f"second alert {n}") for n in range(again)]
            )
            delivered = await sending
            delivered += await service.deliver(app.bot)  # whatever came after its last round
            seconds = time.perf_counter() - started
        finally:
            await app.shutdown()
            await store.close()
        after = await counts()
    sent = after["sent"] - before["sent"]
    return {
        "bench": "alerts.delivery",
        "alerts": chats + again,
        "chats": chats,
        "chats_with_two": again,
        "delivered": delivered,
        "telegram_messages": sent,
        "seconds": round(seconds, 2),
        "messages_per_s": round(sent / seconds, 1),
        "responses_429": after["429"] - before["429"],
    }


def delivery_runs(runs: int) -> None:
    """Delivery alone, `runs` times against one strict server: 429s and messages a second."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=strict_telegram, args=(ports,), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{ports.get(timeout=30)}"
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(runs):
                db = Path(tmp) / f"outbox-{run}.sqlite3"
                result = asyncio.run(deliver(base, db, 300, 30))
                print(json.dumps({**result, "run": run}), flush=True)
    finally:
        server.terminate()


class RulesInMemory:
    """The part of the store an alert cycle reads, in memory: a million rows of SQLite would
    take the bench longer to write than to measure."""

    def __init__(self, rows: list[RuleRow]) -> None:
        self.rows = rows
        self.state = AlertState()

    async def read_active_alerts(self, use: Callable[[Iterator[AlertRule]], T]) -> T:
        return await asyncio.to_thread(use, (as_rule(row) for row in self.rows))

    async def active_alerts(self) -> list[AlertRule]:
        """Every rule at once, as the store read them before `read_active_alerts`: for running
        this bench against an older checkout (PYTHONPATH=CHECKOUT), to compare."""
        return await asyncio.to_thread(lambda: [as_rule(row) for row in self.rows])

    async def alert_state(self) -> AlertState:
        return self.state

    async def commit_cycle(self, state: AlertState, messages: list[tuple[int, str]]) -> None:
        self.state = state


async def loop_stalls(count: int, changes: int) -> dict[str, Any]:
    """The longest the event loop waited while the alert service indexed `count` rules, ran
    cycles and took `changes` rule changes; beside it, the stall of a rebuild on the loop (what
    every rule change cost before)."""
    rng = random.Random(7)
    store = RulesInMemory(rule_rows(count, rng))
    gc.collect()
    rows_mib = resident_mib()
    demo = json.loads(
        (Path(__file__).resolve().parent.parent / "hedgecore/market/demo_snapshot.json").read_text()
    )
    market = MarketService(
        [SnapshotFeed(venue, data) for venue, data in demo["venues"].items()],
        clock=lambda: NOW.timestamp(),
        source=DataSource.SNAPSHOT,
    )
    service = AlertService(store, market)  # type: ignore[arg-type]
    stalls: list[float] = []
    done = asyncio.Event()

    async def watch_the_loop() -> None:
        tick = 0.005
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(tick)
            stalls.append(time.perf_counter() - started - tick)

    watcher = asyncio.create_task(watch_the_loop())
    started = time.perf_counter()
    cycles = [asyncio.create_task(service.cycle(NOW))]  # builds the index, then evaluates
    change_s = []
    for n in range(changes):
        fresh = as_rule(rule_rows(1, rng, first_id=count + n + 1)[0])
        began = time.perf_counter()
        if n % 2:
            service.rules_removed([rng.randrange(1, count + 1)])
        else:
            service.rules_added([fresh])
        change_s.append(time.perf_counter() - began)
        if n % 250 == 249:
            await cycles[-1]
            cycles.append(asyncio.create_task(service.cycle(NOW + timedelta(minutes=n))))
        await asyncio.sleep(0.001)
    await asyncio.gather(*cycles)
    seconds = time.perf_counter() - started
    done.set()
    await watcher
    gc.collect()
    # What the service holds beside the rows (which stand for the store's database).
    service_mib = resident_mib() - rows_mib
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rebuild_started = time.perf_counter()
    RuleIndex(as_rule(row) for row in store.rows)  # on the loop, as every rule change did before
    rebuild_s = time.perf_counter() - rebuild_started
    await market.close()
    ordered = sorted(stalls)
    return {
        "bench": "alerts.loop_stall",
        "rules": count,
        "rule_changes": changes,
        "cycles": len(cycles),
        "seconds": round(seconds, 2),
        "longest_stall_ms": round(ordered[-1] * 1000, 1),
        "p99_stall_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
        "median_change_us": round(statistics.median(change_s) * 1e6, 1),
        "longest_change_ms": round(max(change_s) * 1000, 2),
        "rebuild_on_the_loop_s": round(rebuild_s, 2),
        "index_and_service_mib": round(service_mib),
        "peak_rss_mib": round(peak_mib),  # before the rebuild on the loop
    }


def main() -> None:
    if sys.argv[1:2] == ["delivery"]:
        delivery_runs(int(sys.argv[2]) if len(sys.argv) > 2 else 10)
        return
    if sys.argv[1:2] == ["stall"]:
        print(json.dumps(asyncio.run(loop_stalls(1_000_000, 1_000))), flush=True)
        return
    rng = random.Random(7)
    for count in (10_000, 100_000, 1_000_000):
        rows = rule_rows(count, rng)
        gc.collect()
        before_mib = resident_mib()
        started = time.perf_counter()
        index = RuleIndex(as_rule(row) for row in rows)  # read one by one, as from the store
        built = time.perf_counter() - started
        gc.collect()
        index_mib = resident_mib() - before_mib
        at_subscription = snapshot(rng)
        # First sight: no state, every group starts at today's value.
        started = time.perf_counter()
        cold = evaluate(index, at_subscription, AlertState(), NOW)
        cold_s = time.perf_counter() - started
        # A normal cycle: rates moved a little since the last one.
        moved = snapshot(rng, at_subscription)
        started = time.perf_counter()
        cycle = evaluate(index, moved, cold.state, NOW + timedelta(minutes=1))
        cycle_s = time.perf_counter() - started
        jumped = [o.model_copy(update={"rate": o.rate + Decimal("0.0002")}) for o in moved]
        started = time.perf_counter()
        jump = evaluate(index, jumped, cycle.state, NOW + timedelta(minutes=2))
        jump_s = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "bench": "alerts.evaluate",
                    "rules": count,
                    "index_build_s": round(built, 3),
                    "index_mib": round(index_mib),
                    "first_cycle_s": round(cold_s, 3),
                    "cycle_s": round(cycle_s, 3),
                    "cycle_events": len(cycle.events),
                    "jump_cycle_s": round(jump_s, 3),
                    "jump_cycle_events": len(jump.events),
                }
            ),
            flush=True,
        )

    delivery_runs(1)


if __name__ == "__main__":
    main()
