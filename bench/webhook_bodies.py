"""Benchmark (fault probe): the webhook's memory after oversized bodies (issue 12, finding 6).

`python -m bot --webhook` runs as in production (demo snapshot, its own fake Bot API on
loopback, which hands the test the secret the bot gives setWebhook). Then N bodies of 10 MB
are posted with the secret: declared by Content-Length, then sent chunked with no length, then
N without the secret. After each round it reads the bot's resident memory from /proc and
checks the bot still answers an update. Prints JSON lines: memory growth over the idle bot.
Usage: .venv/bin/python bench/webhook_bodies.py [N] [TREE]   (TREE: another checkout to compare)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loopback import bot_api_params, free_port, plain_answer, sent_message

TOKEN = "123456789:AAH-webhook-body-probe-0123456789abcd"
BODY_BYTES = 10 * 2**20
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HELP = {
    "update_id": 1,
    "message": {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 77, "type": "private"},
        "from": {"id": 77, "is_bot": False, "first_name": "Ann"},
        "text": "/help",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
    },
}


class FakeBotApi:
    """Answers the bot's calls; remembers setWebhook's secret and counts sendMessage."""

    def __init__(self) -> None:
        self.secret: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.sent = 0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await bot_api_params(request)
        if method == "setWebhook" and not self.secret.done():
            self.secret.set_result(str(params["secret_token"]))
        if method == "sendMessage":
            self.sent += 1
            return sent_message(self.sent, 77)
        return plain_answer(method)


def rss_mb(pid: int) -> float:
    """A process's resident memory, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(line.split()[1]) / 1024


async def chunks() -> AsyncIterator[bytes]:
    """A 10 MB body with no declared length: aiohttp sends it chunked."""
    block = b" " * 2**16
    for _ in range(BODY_BYTES // len(block)):
        yield block


async def probe(tree: Path, rounds: int) -> None:
    api = FakeBotApi()
    server = web.Application()
    server.router.add_post("/bot{token}/{method}", api.handle)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    api_port, hook_port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    snapshot = resources.files("hedgecore.market").joinpath("demo_snapshot.json")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(tree),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "HEDGEBOT_TELEGRAM_BASE_URL": f"http://127.0.0.1:{api_port}/bot",
            "HEDGEBOT_SNAPSHOT": str(snapshot),
            "HEDGEBOT_DB": str(Path(tmp) / "bot.sqlite3"),
            "HEDGEBOT_HTTP_PORT": "0",
            "HEDGEBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "HEDGEBOT_WEBHOOK_PORT": str(hook_port),
            "HEDGEBOT_LOG_LEVEL": "ERROR",
        }
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--webhook", "https://bot.example.com/telegram",
            env=env, cwd=tree,
        )  # fmt: skip
        secret = await asyncio.wait_for(api.secret, 60)
        url = f"http://127.0.0.1:{hook_port}/telegram"
        result: dict[str, Any] = {"bench": "webhook_bodies", "tree": str(tree), "bodies": rounds}
        async with ClientSession() as http:

            async def answers() -> bool:
                before = api.sent
                async with http.post(url, json=HELP, headers={SECRET_HEADER: secret}) as response:
                    await response.read()
                for _ in range(100):
                    if api.sent > before:
                        return True
                    await asyncio.sleep(0.05)
                return False

            await answers()  # warm: the first reply's imports and caches
            idle = rss_mb(bot.pid)
            result["idle_rss_mb"] = round(idle, 1)
            rounds_run: dict[str, tuple[dict[str, str], Any]] = {
                "declared_10mb": ({SECRET_HEADER: secret}, None),
                "chunked_10mb": ({SECRET_HEADER: secret}, chunks),
                "no_secret_10mb": ({}, None),
            }
            for name, (headers, streamed) in rounds_run.items():
                statuses: set[int] = set()
                for _ in range(rounds):
                    body = streamed() if streamed is not None else b" " * BODY_BYTES
                    try:
                        async with http.post(url, data=body, headers=headers) as response:
                            statuses.add(response.status)
                    except OSError:  # the server may close the connection on a refused body
                        statuses.add(0)
                result[f"{name}_status"] = sorted(statuses)
                result[f"{name}_growth_mb"] = round(rss_mb(bot.pid) - idle, 1)
            result["still_answers"] = await answers()
        bot.terminate()
        await bot.wait()
    await runner.cleanup()
    print(json.dumps(result), flush=True)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    tree = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else Path(__file__).resolve().parents[1]
    asyncio.run(probe(tree, rounds))


if __name__ == "__main__":
    main()
