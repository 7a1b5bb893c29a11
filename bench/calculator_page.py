"""Benchmark: the calculator page's weight and its first render, on loopback.

The bot's page and API (the demo snapshot) are served on 127.0.0.1; Debian's Chromium, driven by
Playwright, opens the page on a phone-sized screen with initData signed as Telegram signs it.
Weight: the page's own files as sent gzip-compressed (targets: under 150 kB). First render: from
the start of navigation until the plan's figures and the chart are on screen (target: under 1 s),
median of RUNS fresh loads. Prints JSON lines.
Usage: .venv/bin/python bench/calculator_page.py [RUNS]
"""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bot_throughput import TOKEN, bench_settings, fake_bot_api
from bot.app import build_application
from bot.miniapp.initdata import secret_key, sign
from bot.miniapp.page import FILES, STATIC, miniapp
from bot.serving import serving


def signed_init_data(user_id: int) -> str:
    fields = {"auth_date": str(int(time.time())), "user": json.dumps({"id": user_id})}
    return urlencode({**fields, "hash": sign(fields, secret_key(TOKEN))})


def weight() -> dict[str, int]:
    """The page's files, raw and gzip-compressed as the server sends them."""
    files = [STATIC / name for name, _ in FILES.values() if (STATIC / name).is_file()]
    raw = sum(len(f.read_bytes()) for f in files)
    packed = sum(len(gzip.compress(f.read_bytes())) for f in files)
    return {"files": len(files), "raw_bytes": raw, "gzip_bytes": packed}


async def first_renders(runs: int) -> list[float]:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    assert chromium, "needs Debian's chromium (apt install chromium)"
    with fake_bot_api() as base, tempfile.TemporaryDirectory() as tmp:
        app = build_application(bench_settings(base, Path(tmp) / "page.sqlite3"), serve_http=False)
        async with serving(app):
            server = web.Application()
            server.add_subapp("/app/", miniapp(app, TOKEN))
            runner = web.AppRunner(server, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            timings = []
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=chromium, args=["--no-sandbox"]
                )
                for run in range(runs):
                    context = await browser.new_context(
                        viewport={"width": 390, "height": 844}, is_mobile=True
                    )
                    page = await context.new_page()
                    await page.route("https://telegram.org/**", lambda route: route.abort())
                    url = (
                        f"http://127.0.0.1:{port}/app/?coin=BTC&quantity=1.2"
                        f"#tgWebAppData={quote(signed_init_data(1000 + run), safe='')}"
                    )
                    await page.goto(url)
                    await page.locator("#chart canvas").wait_for()
                    await page.locator("#figures dd").first.wait_for()
                    shown = await page.evaluate("performance.now()")
                    timings.append(round(shown / 1000, 3))
                    await context.close()
                await browser.close()
            await runner.cleanup()
    return timings


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(json.dumps({"bench": "calculator_page.weight", **weight()}), flush=True)
    timings = asyncio.run(first_renders(runs))
    print(
        json.dumps(
            {
                "bench": "calculator_page.first_render",
                "runs": runs,
                "seconds": timings,
                "median_s": statistics.median(timings),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
