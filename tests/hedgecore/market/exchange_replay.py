"""A local stand-in for the exchanges' public REST APIs, replaying their responses on 127.0.0.1.

The responses are data: `replay/VENUE.json`, one file per venue, each saying where its figures
come from (its "origin"; see replay/README.md). They are in each venue's documented format (field
names, string/number types, nesting and the sample responses ccxt's parsers quote), at one
coherent market moment, 2025-04-28 08:00 UTC. A response is chosen by path and by the query's
selecting parameters; time and paging parameters (`IGNORED_PARAMS`) do not change it.

Faults can be switched on per venue, or per venue and path (`delay`, `status`, `garbage`), and
every request is counted per venue and path, so tests can check failure isolation and
single-flight. A delayed request ends when the server stops: a venue can hang for good in a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

T_MS = 1745827200000  # 2025-04-28 08:00:00 UTC, the moment of the replayed responses
REPLAY_DATA = Path(__file__).with_name("replay")
IGNORED_PARAMS = frozenset(
    {"since", "startTime", "endTime", "start_timestamp", "end_timestamp", "from", "to", "timestamp"}
    | {"after", "before", "limit", "start", "end", "count", "resolution", "interval"}
)


def _responses() -> dict[str, dict[str, dict[str, Any]]]:
    """Venue -> path -> selecting query (URL-encoded, sorted) -> response body."""
    return {
        path.stem: json.loads(path.read_text())["responses"]
        for path in sorted(REPLAY_DATA.glob("*.json"))
    }


RESPONSES = _responses()


def selecting_query(query: Any) -> str:
    """The query parameters that choose a response, in one canonical form."""
    return urlencode(sorted((k, v) for k, v in query.items() if k not in IGNORED_PARAMS))


@dataclass
class Fault:
    """What a venue does wrong: wait `delay` seconds, answer `status`, or send garbage; on every
    path, or only on `path`."""

    delay: float = 0.0
    status: int | None = None
    garbage: bool = False
    path: str | None = None


@dataclass
class ExchangeReplay:
    """An aiohttp server on 127.0.0.1 answering for every venue under /VENUE/..."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (venue, path?query)
    unknown: list[str] = field(default_factory=list)
    faults: dict[str, Fault] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{venue}/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def venue_url(self, venue: str) -> str:
        return f"{self.base_url}/{venue}"

    def count(self, venue: str, path: str | None = None) -> int:
        return sum(
            n
            for (v, p), n in self.requests.items()
            if v == venue and (path is None or p.split("?")[0] == path)
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        venue = request.match_info["venue"]
        path = "/" + request.match_info["path"]
        self.requests[(venue, request.path_qs.removeprefix(f"/{venue}"))] += 1
        fault = self.faults.get(venue, Fault())
        if fault.path not in (None, path):
            fault = Fault()
        if fault.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.delay)
        if fault.status is not None:
            return web.Response(
                status=fault.status,
                text="Too Many Requests" if fault.status == 429 else "Service Unavailable",
            )
        if fault.garbage:
            return web.Response(
                status=200, text="<html>cf-ray: gateway hiccup</html>", content_type="text/html"
            )
        body = RESPONSES.get(venue, {}).get(path, {}).get(selecting_query(request.query))
        if body is None:
            self.unknown.append(f"{venue} {request.method} {request.path_qs}")
            return web.json_response({"error": "not replayed"}, status=404)
        return web.json_response(body)


def point_at(exchange: Any, base_url: str) -> None:
    """Send every one of a ccxt exchange's API sections to the replay server, keeping the paths.

    The exchange's own rate limiter is turned off: it paces requests to spare a real venue (600 ms
    a request on Kraken) and would only make the loopback server wait. So is its pause on close,
    which lets a real venue's TLS connections wind down (250 ms; loopback has no TLS).
    """

    def redirect(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: redirect(item) for key, item in value.items()}
        if isinstance(value, str) and value.startswith("http"):
            return base_url + urlsplit(value).path
        return value

    exchange.urls["api"] = redirect(exchange.urls["api"])
    exchange.enableRateLimit = False
    exchange.timeout_on_exit = 0


class ThreadedReplay:
    """The replay server on its own event loop in a thread, for code that runs asyncio.run itself."""

    def __init__(self) -> None:
        self.server = ExchangeReplay()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> ExchangeReplay:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
