"""Run a benchmark's fake server on 127.0.0.1 in its own process until it is terminated."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web


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
