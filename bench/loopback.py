"""The benchmarks' fake Bot API pieces, served on 127.0.0.1 in a process of its own."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "HedgeBot", "username": "bench_bot"}


async def bot_api_params(request: web.Request) -> dict[str, Any]:
    """A Bot API call's parameters, sent as JSON or as a form as PTB's transports do."""
    if request.content_type == "application/json":
        return dict(await request.json())
    return dict(await request.post())


def sent_message(message_id: int, chat_id: int) -> web.Response:
    """Telegram's answer to a successful sendMessage."""
    return web.json_response(
        {
            "ok": True,
            "result": {
                "message_id": message_id,
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "text": "ok",
            },
        }
    )


def command_update(n: int, text: str) -> dict[str, Any]:
    """Update `n`: a message with a command from user `n` in their private chat."""
    return {
        "update_id": n,
        "message": {
            "message_id": n,
            "date": 0,
            "chat": {"id": n, "type": "private"},
            "from": {"id": n, "is_bot": False, "first_name": "U"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


def free_port() -> int:
    """A loopback port free now, for a server started after."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def plain_answer(method: str) -> web.Response:
    """Telegram's answer to any other call the benchmarks' bots make: getMe, or just True."""
    return web.json_response({"ok": True, "result": BOT_USER if method == "getMe" else True})


def serve_until_killed(app: web.Application, port_out: Any) -> None:
    """Serve `app` on a free loopback port, put the port on `port_out`, and wait forever."""

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_out.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())
