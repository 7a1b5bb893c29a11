"""Benchmark: one worker on SQLite, one on PostgreSQL and Redis, two on PostgreSQL and Redis,
side by side; and the alert cycle over 100,000 rules on SQLite and on PostgreSQL.

Each worker is a `hedgebot --webhook URL` process (`--worker` on PostgreSQL) answering from the
demo snapshot, its replies going to the fake Bot API of bench/bot_throughput.py in a process of
its own. The bench posts N varied /hedge updates (each its own user, quantity, coin and leverage)
to the workers' webhooks, spread evenly, 64 at a time, and waits for every reply. CPU per update
is the workers' own (user + system time, read from /proc), summed over the workers; PostgreSQL's
and Redis' servers are not counted. Telegram's 30 messages a second is lifted
(HEDGEBOT_MESSAGES_PER_S=1000) or it would be all that is measured. Configurations run in
interleaved rounds, so the machine's noise falls on each alike.

Cycle: 100,000 rules (mixed kinds, BTC and ETH, every venue) in a new SQLite file and a new
PostgreSQL schema, then the first cycle (the index built from the store, every rule evaluated,
state and messages committed) and a second (the index kept).

PostgreSQL and Redis: HEDGEBOT_BENCH_POSTGRES (postgresql://postgres@127.0.0.1:5432/test) and
HEDGEBOT_BENCH_REDIS (redis://127.0.0.1:6379/0); a schema and a key prefix of its own, removed
after. Prints JSON lines: each run, then medians with their spread and the ratios.
Usage: .venv/bin/python bench/scale.py [UPDATES] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from aiohttp import ClientSession
from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.alerts import as_rule, rule_rows
from bench.bot_throughput import TOKEN, fake_bot_api, spread, varied_command
from bench.loopback import command_update, free_port
from bot.alerting import AlertService
from bot.store import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.webhook import SECRET_HEADER, webhook_secret
from hedgecore.desk import Desk

POSTGRES = os.environ.get("HEDGEBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("HEDGEBOT_BENCH_REDIS", "redis://127.0.0.1:6379/0")
SNAPSHOT = Path(str(resources.files("hedgecore.market").joinpath("demo_snapshot.json")))
CONCURRENT_POSTS = 64
RULES = 100_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """A process's user and system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    port: int


@contextlib.contextmanager
def workers(
    count: int, base: str, env: dict[str, str], role: tuple[str, ...]
) -> Iterator[list[Worker]]:
    """`count` hedgebot webhook processes, started and stopped with the block."""
    started = []
    for _ in range(count):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--webhook", "https://bench.invalid/telegram", *role],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env={
                **os.environ,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "HEDGEBOT_TELEGRAM_BASE_URL": f"{base}/bot",
                "HEDGEBOT_SNAPSHOT": str(SNAPSHOT),
                "HEDGEBOT_HTTP_PORT": "0",
                "HEDGEBOT_WEBHOOK_LISTEN": "127.0.0.1",
                "HEDGEBOT_WEBHOOK_PORT": str(port),
                "HEDGEBOT_MESSAGES_PER_S": "1000",
                "HEDGEBOT_FLOOD_LIMIT": "1000",
                "HEDGEBOT_LOG_LEVEL": "WARNING",
                **env,
            },
        )
        started.append(Worker(process, port))
    try:
        yield started
    finally:
        for worker in started:
            worker.process.terminate()
        for worker in started:
            worker.process.wait(timeout=30)


async def answer(running: list[Worker], base: str, updates: int, seed: int) -> dict[str, Any]:
    """Post `updates` /hedge updates over the workers; updates a second and CPU ms each."""
    rng = random.Random(seed)
    secret = {SECRET_HEADER: webhook_secret(TOKEN)}
    async with ClientSession() as session:

        async def sent() -> int:
            async with session.get(f"{base}/control/sent") as response:
                return int((await response.json())["sent"])

        for worker in running:  # serving once /healthz answers
            while True:
                assert worker.process.poll() is None, "a worker ended at start"
                try:
                    async with session.get(f"http://127.0.0.1:{worker.port}/healthz"):
                        break
                except OSError:
                    await asyncio.sleep(0.1)
        gate = asyncio.Semaphore(CONCURRENT_POSTS)

        async def post(n: int) -> None:
            worker = running[n % len(running)]
            body = command_update(seed * 10_000_000 + n, varied_command(rng))
            async with (
                gate,
                session.post(
                    f"http://127.0.0.1:{worker.port}/telegram", json=body, headers=secret
                ) as response,
            ):
                assert response.status == 200

        async def burst(count: int, first: int) -> float:
            start = await sent()
            began = time.perf_counter()
            await asyncio.gather(*(post(first + n) for n in range(count)))
            while await sent() < start + count:
                await asyncio.sleep(0.02)
            return time.perf_counter() - began

        await burst(5 * len(running), 0)  # warm: connections open, data read
        cpu = sum(cpu_s(w.process.pid) for w in running)
        wall = await burst(updates, 100)
        cpu = sum(cpu_s(w.process.pid) for w in running) - cpu
    return {
        "updates": updates,
        "updates_per_s": round(updates / wall, 1),
        "cpu_ms_per_update": round(cpu * 1000 / updates, 3),
    }


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A schema of the bench's own in the bench database, as a URL; dropped after."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def forget_redis(prefix: str) -> None:
    client = Redis.from_url(REDIS)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def throughput(updates: int, rounds: int) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    with fake_bot_api() as base, tempfile.TemporaryDirectory() as tmp:
        for round_no in range(rounds):
            setups = {
                "sqlite_1_worker": (1, {"HEDGEBOT_DB": f"{tmp}/r{round_no}.sqlite3"}, ()),
                "postgres_redis_1_worker": (1, {}, ("--worker",)),
                "postgres_redis_2_workers": (2, {}, ("--worker",)),
            }
            for name, (count, env, role) in setups.items():
                prefix = f"bench-{uuid.uuid4().hex[:8]}:"
                with contextlib.ExitStack() as stack:
                    if not env:
                        url = stack.enter_context(postgres_schema())
                        env = {"HEDGEBOT_DB": url, "HEDGEBOT_REDIS_URL": REDIS}
                        stack.callback(forget_redis, prefix)
                    env = {**env, "HEDGEBOT_REDIS_PREFIX": prefix}
                    running = stack.enter_context(workers(count, base, env, role))
                    result = asyncio.run(answer(running, base, updates, round_no))
                result = {"setup": name, "round": round_no, **result}
                runs.setdefault(name, []).append(result)
                print(json.dumps({"bench": "scale.updates", **result}), flush=True)
    return runs


async def fill(store: Store, url_or_path: str) -> None:
    """100,000 rules in the store's tables, written in bulk."""
    rules = map(as_rule, rule_rows(RULES, random.Random(11)))
    rows = [
        (r.chat_id, r.coin, r.kind.value, str(r.threshold_8h), r.minutes_before, r.venue)
        for r in rules
    ]
    columns = "chat_id, coin, kind, threshold_8h, minutes_before, venue"
    if isinstance(store, PostgresStore):
        with (
            psycopg.connect(url_or_path) as db,
            db.cursor() as cursor,
            cursor.copy(f"COPY alert_rules ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    import sqlite3

    with contextlib.closing(sqlite3.connect(url_or_path)) as lite, lite:
        lite.executemany(f"INSERT INTO alert_rules ({columns}) VALUES (?, ?, ?, ?, ?, ?)", rows)


async def cycles(store: Store, where: str) -> dict[str, Any]:
    await fill(store, where)
    desk = Desk.open(("bybit",), SNAPSHOT)
    alerts = AlertService(store, desk.market)
    try:
        assert await alerts.leads()
        now = datetime.now(UTC)
        timings = []
        for _ in range(2):
            began = time.perf_counter()
            fired = await alerts.cycle(now)
            timings.append((round(time.perf_counter() - began, 3), fired))
    finally:
        await desk.close()
        await store.close()
    (first_s, first_fired), (second_s, _) = timings
    return {
        "rules": RULES,
        "first_cycle_s": first_s,
        "fired": first_fired,
        "second_cycle_s": second_s,
    }


def alert_cycles() -> dict[str, dict[str, Any]]:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cycle.sqlite3"

        async def on_sqlite() -> dict[str, Any]:
            return await cycles(await SqliteStore.open(path), str(path))

        results["sqlite"] = asyncio.run(on_sqlite())
    with postgres_schema() as url:

        async def on_postgres() -> dict[str, Any]:
            return await cycles(await PostgresStore.open(url), url)

        results["postgres"] = asyncio.run(on_postgres())
    for store, result in results.items():
        print(json.dumps({"bench": "scale.alert_cycle", "store": store, **result}), flush=True)
    return results


def main() -> None:
    updates = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    runs = throughput(updates, rounds)
    base = runs["sqlite_1_worker"]
    summary: dict[str, Any] = {"bench": "scale.summary", "updates": updates, "rounds": rounds}
    for name, results in runs.items():
        summary[name] = {
            "updates_per_s": spread(results, "updates_per_s"),
            "cpu_ms_per_update": spread(results, "cpu_ms_per_update"),
            "throughput_over_sqlite_1_worker": round(
                statistics.median(
                    r["updates_per_s"] / b["updates_per_s"]
                    for r, b in zip(results, base, strict=True)
                ),
                2,
            ),
        }
    print(json.dumps(summary), flush=True)
    cycle = alert_cycles()
    print(
        json.dumps(
            {
                "bench": "scale.alert_cycle.summary",
                "postgres_over_sqlite_first_cycle": round(
                    cycle["postgres"]["first_cycle_s"] / cycle["sqlite"]["first_cycle_s"], 2
                ),
                "postgres_over_sqlite_second_cycle": round(
                    cycle["postgres"]["second_cycle_s"] / cycle["sqlite"]["second_cycle_s"], 2
                ),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
