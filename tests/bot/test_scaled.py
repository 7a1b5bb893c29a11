"""Several hedgebot processes on one PostgreSQL database and one Redis, as
deploy/compose.scale.yml runs them: webhook workers (`--worker`) and schedulers
(`--scheduler`), each a process of its own, against the fake Bot API and the exchange replay
server (real ccxt, `replayed_hedgebot.py`)."""

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from redis.asyncio import Redis

from bot.handlers.errors import APOLOGY
from bot.webhook import SECRET_HEADER, webhook_secret
from hedgecore.market.service import Ttls

from ..hedgecore.market.exchange_replay import ExchangeReplay, ThreadedReplay
from .conftest import free_port, start_bot, stop_bot
from .fake_telegram import Call, FakeTelegram
from .servers import POSTGRES, REDIS
from .tcp_proxy import TcpProxy

LAUNCHER = Path(__file__).with_name("replayed_hedgebot.py")
PATH = "/telegram"
LEADS = "this process leads the alert cycles"
UPDATES = 1000
QUEUED_ALERTS = 150


class Hedgebot:
    """One hedgebot process, its webhook port and its log."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, str(LAUNCHER), *args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env, "HEDGEBOT_WEBHOOK_PORT": str(self.port)},
            )

    def said(self, text: str) -> bool:
        return text in self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Deployment:
    """Starts hedgebot processes sharing the test's database, Redis prefix, fake Bot API and
    replay server; stops them all at the end."""

    def __init__(
        self, telegram: FakeTelegram, replay: ExchangeReplay, db: str, prefix: str, logs: Path
    ) -> None:
        self.telegram = telegram
        self.replay = replay
        self.env = {
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "HEDGEBOT_TELEGRAM_BASE_URL": telegram.base_url,
            "HEDGEBOT_DB": db,
            "HEDGEBOT_REDIS_URL": REDIS,
            "HEDGEBOT_REDIS_PREFIX": prefix,
            "HEDGEBOT_HTTP_PORT": "0",
            "HEDGEBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "HEDGEBOT_LOG_LEVEL": "INFO",
            # Paid broadcasts' limit: a thousand replies are not held to 30 a second here.
            "HEDGEBOT_MESSAGES_PER_S": "1000",
            "REPLAY_URL": replay.base_url,
        }
        self.logs = logs
        self.running: list[Hedgebot] = []

    def start(self, *args: str, **env: str) -> Hedgebot:
        role = "worker" if "--worker" in args else "scheduler" if "--scheduler" in args else "both"
        log = self.logs / f"{len(self.running)}-{role}.log"
        bot = Hedgebot(args, {**self.env, **env}, log)
        self.running.append(bot)
        return bot

    def worker(self, **env: str) -> Hedgebot:
        return self.start("--webhook", f"https://bot.example.com{PATH}", "--worker", **env)

    def stop_all(self) -> None:
        while self.running:
            self.running.pop().stop()


@contextmanager
def deployment(
    telegram: FakeTelegram, postgres_url: str, redis_prefix: str, logs: Path
) -> Iterator[Deployment]:
    with ThreadedReplay() as replay:
        running = Deployment(telegram, replay, postgres_url, redis_prefix, logs)
        try:
            yield running
        finally:
            running.stop_all()


async def until(check: Callable[[], bool], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, f"not within {within_s:g} s: {what}"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def serving(*workers: Hedgebot) -> AsyncIterator[aiohttp.ClientSession]:
    """A session to the workers once each answers /healthz."""
    async with aiohttp.ClientSession() as session:
        for worker in workers:
            deadline = time.monotonic() + 60
            while True:
                assert worker.process.poll() is None, worker.log.read_text()
                assert time.monotonic() < deadline, "a worker did not start serving"
                try:
                    async with session.get(f"http://127.0.0.1:{worker.port}/healthz"):
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        yield session


def hedge_updates(telegram: FakeTelegram) -> list[dict[str, Any]]:
    """A thousand /hedge commands from a thousand users, of many sizes, coins and leverages."""
    updates = []
    for user in range(1, UPDATES + 1):
        coin = ("BTC", "ETH")[user % 2]
        quantity = f"{user % 37 + 1}.{user % 10}" if coin == "BTC" else str(user % 90 + 10)
        text = f"/hedge {quantity} {coin} {user % 5 + 1}x"
        updates.append(telegram.text_update(text, chat_id=100_000 + user))
    return updates


async def replies_through(
    workers: list[Hedgebot], telegram: FakeTelegram, updates: list[dict[str, Any]]
) -> dict[int, str]:
    """Post the updates at once, spread over the workers' webhooks; each chat's reply."""
    before = len(telegram.received)
    secret = {SECRET_HEADER: webhook_secret(telegram.token)}
    async with serving(*workers) as session:
        began = time.monotonic()

        async def post(n: int, update: dict[str, Any]) -> None:
            url = f"http://127.0.0.1:{workers[n % len(workers)].port}{PATH}"
            async with session.post(url, json=update, headers=secret) as response:
                assert response.status == 200

        await asyncio.gather(*(post(n, update) for n, update in enumerate(updates)))
        await until(
            lambda: len(telegram.received) - before >= len(updates), 120, "a reply to each update"
        )
        # Within the quotes' time to live, or their refresh would be among the requests counted.
        assert time.monotonic() - began < Ttls().quotes, "answering took too long to compare"
    replies = telegram.received[before:]
    return {int(call.params["chat_id"]): as_of_left_out(call.params["text"]) for call in replies}


def as_of_left_out(reply: str) -> str:
    """The reply without the moment it was made or the data's age, which a later minute
    changes (the replay's data are from 2021)."""
    reply = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "(when)", reply)
    return re.sub(r"[\d,.]+ (s|min|h|d) old", "(age) old", reply)


def requests_by_endpoint(replay: ExchangeReplay) -> Counter[tuple[str, str]]:
    """The requests each venue endpoint received (some venues' queries carry the time)."""
    return Counter(
        (venue, path.split("?")[0])
        for (venue, path), n in list(replay.requests.items())
        for _ in range(n)
    )


async def test_two_workers_and_a_scheduler_answer_as_one_worker_and_ask_the_venues_as_much(
    telegram_elsewhere: FakeTelegram, postgres_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    updates = hedge_updates(telegram_elsewhere)
    with deployment(telegram_elsewhere, postgres_url, redis_prefix, tmp_path) as deployed:
        alone = deployed.worker(HEDGEBOT_REDIS_PREFIX=f"{redis_prefix}one:")
        one_worker = await replies_through([alone], telegram_elsewhere, updates)
        asked_by_one = requests_by_endpoint(deployed.replay)
        deployed.stop_all()
        deployed.replay.requests.clear()

        # The scheduler beside them, as deployed (with no alert to check it asks the venues
        # nothing), started first: its start-up's CPU would slow the workers' answers down.
        scheduler = deployed.start("--scheduler", HEDGEBOT_REDIS_PREFIX=f"{redis_prefix}two:")
        await until(lambda: scheduler.said(LEADS), 60, "the scheduler leads")
        two = [deployed.worker(HEDGEBOT_REDIS_PREFIX=f"{redis_prefix}two:") for _ in range(2)]
        two_workers = await replies_through(two, telegram_elsewhere, updates)
        asked_by_two = requests_by_endpoint(deployed.replay)
    assert len(one_worker) == UPDATES
    assert all("contracts</b>" in text and "Liquidation" in text for text in one_worker.values())
    assert two_workers == one_worker
    assert asked_by_two == asked_by_one


def schema_ready(postgres_url: str) -> bool:
    """Whether a hedgebot has migrated the test's schema (it has an outbox)."""
    with psycopg.connect(postgres_url) as db:
        row = db.execute("SELECT to_regclass('outbox') IS NOT NULL").fetchone()
        return bool(row and row[0])


def queue_alerts(postgres_url: str, count: int) -> None:
    """What a cycle that fired `count` alerts, one per chat, left in the outbox."""
    with psycopg.connect(postgres_url) as db:
        db.execute(
            "INSERT INTO outbox (chat_id, text) "
            "SELECT n, 'alert ' || n FROM generate_series(1, %s) AS n",
            (count,),
        )


async def test_a_scheduler_killed_while_sending_is_taken_over_and_every_alert_goes_out_once(
    telegram_elsewhere: FakeTelegram, postgres_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    telegram = telegram_elsewhere
    killed: dict[str, Any] = {}
    arrivals: list[float] = []  # when each message reached the fake Bot API

    def kill_the_leader_at_the_50th(call: Call) -> None:
        arrivals.append(time.monotonic())
        # Before this message is answered: it reached the user, and its sender dies not
        # knowing. Telegram takes no idempotency key, so it may go again: the one message a
        # sender's death can repeat is the one it had in flight.
        if len(telegram.received) != 50:
            return
        (leader,) = [bot for bot in schedulers if bot.said(LEADS)]
        leader.process.send_signal(signal.SIGKILL)
        answered = {c.params["text"] for c in telegram.calls if c.method == "sendMessage"}
        received = {c.params["text"] for c in telegram.received}
        killed.update(at=time.monotonic(), leader=leader, in_flight=received - answered)

    with deployment(telegram, postgres_url, redis_prefix, tmp_path) as deployed:
        schedulers = [deployed.start("--scheduler") for _ in range(2)]
        await until(lambda: schema_ready(postgres_url), 60, "the schema migrated")
        queue_alerts(postgres_url, QUEUED_ALERTS)
        telegram.on_message = kill_the_leader_at_the_50th
        wanted = {f"alert {n}" for n in range(1, QUEUED_ALERTS + 1)}

        def all_delivered() -> bool:
            return wanted <= {c.params["text"] for c in telegram.received}

        await until(all_delivered, 180, "every queued alert delivered")
        (standby,) = [bot for bot in schedulers if bot is not killed["leader"]]
        assert standby.said(LEADS)
    # The standby sends what was never claimed at once, what the dead leader had claimed once
    # its lease (55 s) is over: all within the two minutes a takeover may take.
    after_kill = [t - killed["at"] for t in arrivals if t > killed["at"]]
    print(f"first message after the kill: {after_kill[0]:.1f} s, last: {after_kill[-1]:.1f} s")
    assert after_kill[-1] < 120
    delivered = Counter(c.params["text"] for c in telegram.received)
    repeated = {text for text, n in delivered.items() if n > 1}
    assert set(delivered) == wanted
    assert repeated <= killed["in_flight"], (repeated, killed["in_flight"])
    assert killed["leader"].process.returncode == -signal.SIGKILL


OUTAGE_S = 10


async def test_a_worker_that_loses_postgresql_and_redis_for_ten_seconds_apologises_and_recovers(
    telegram: FakeTelegram, postgres_url: str, redis: Redis, redis_prefix: str, tmp_path: Path
) -> None:
    postgres, shared = TcpProxy.for_url(POSTGRES), TcpProxy.for_url(REDIS)
    for proxy in (postgres, shared):
        await proxy.start()
    app = await start_bot(
        telegram,
        tmp_path / "unused.sqlite3",
        HEDGEBOT_DB=postgres.url_through(postgres_url),
        HEDGEBOT_REDIS_URL=shared.url_through(REDIS),
        HEDGEBOT_REDIS_PREFIX=redis_prefix,
    )

    async def reply_to(text: str, within_s: float) -> str:
        before = len(telegram.sent())
        telegram.send_text(text)
        started = time.monotonic()
        (*_, answer) = await telegram.wait_for("sendMessage", before + 1, timeout=within_s)
        print(f"{text}: answered in {time.monotonic() - started:.2f} s")
        return str(answer.params["text"])

    try:
        assert "Leverage: 3x" in await reply_to("/settings leverage 3", 5)
        for proxy in (postgres, shared):
            await proxy.cut()
        outage_ends = time.monotonic() + OUTAGE_S
        assert await reply_to("/hedge 1.2 BTC", 5) == APOLOGY  # short, and soon
        assert await reply_to("/settings leverage 5", 5) == APOLOGY  # refused, not half-kept
        await asyncio.sleep(outage_ends - time.monotonic())
        for proxy in (postgres, shared):
            await proxy.start()
        # Back by itself: the settings kept from before, the one refused not applied.
        assert "at 3x" in await reply_to("/hedge 1.2 BTC", 15)
        assert await redis.exists(f"{redis_prefix}flood:77")  # counting in Redis again
    finally:
        await stop_bot(app)
        for proxy in (postgres, shared):
            await proxy.cut()
