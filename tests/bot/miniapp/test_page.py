"""The calculator in a real browser: Debian's Chromium, driven by Playwright (no browser is
downloaded), opens the page served on loopback by the running bot with initData signed as
Telegram signs it, on a phone-sized screen. Moving the leverage slider from 1x to 3x shows the
liquidation price and margin the desk works out for 3x, and the chart redraws. A screenshot of
the page is saved under the test's output for review.

Without a browser the tests skip with a reason; HEDGEBOT_REQUIRE_BROWSER (set by CI) turns the
skip into a failure.
"""

import json
import os
import shutil
from collections.abc import AsyncIterator
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import ViewportSize

from bot.context import HedgeApp
from bot.defaults import UserSettings
from bot.miniapp.page import STATIC, miniapp

from ..conftest import TOKEN, start_bot, stop_bot
from ..fake_telegram import FakeTelegram
from .test_api import USER, cli_plan, signed_init_data

CHROMIUM = os.environ.get("HEDGEBOT_TEST_CHROMIUM") or shutil.which("chromium") or ""
PHONE: ViewportSize = {"width": 390, "height": 844}
SCREENSHOTS = Path(os.environ.get("HEDGEBOT_SCREENSHOTS", "test-output"))


def _browser_or_skip() -> None:
    if CHROMIUM and (STATIC / "vendor" / "uPlot.iife.min.js").is_file():
        return
    why = "no Chromium (apt install chromium)" if not CHROMIUM else "uPlot not installed (make)"
    if os.environ.get("HEDGEBOT_REQUIRE_BROWSER"):
        pytest.fail(f"the browser tests are required here: {why}")
    pytest.skip(why)


@pytest.fixture
async def served(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[tuple[str, HedgeApp]]:
    """The page's address on loopback, and the running bot behind it."""
    _browser_or_skip()
    app = await start_bot(telegram, tmp_path / "page.sqlite3")
    server = web.Application()
    server.add_subapp("/app/", miniapp(app, TOKEN))
    async with TestServer(server, host="127.0.0.1") as test_server:
        yield str(test_server.make_url("/app/")), app
    await stop_bot(app)


@pytest.fixture
def page_url(served: tuple[str, HedgeApp]) -> str:
    return served[0]


@pytest.fixture
async def phone(page_url: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        page = await context.new_page()
        # No internet here: Telegram's own script does not load, as in a browser outside Telegram.
        await page.route("https://telegram.org/**", lambda route: route.abort())
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        await browser.close()
        assert errors == []


async def test_moving_leverage_to_3x_shows_the_desks_liquidation_and_margin_and_redraws(
    page_url: str, phone: Any
) -> None:
    await phone.goto(
        f"{page_url}?coin=BTC&quantity=1.2#tgWebAppData={quote(signed_init_data(), safe='')}"
    )
    figures = phone.locator("#figures")
    await figures.get_by_text("none (fully collateralised)").wait_for()  # 1x: nothing to lose
    await phone.locator("#chart canvas").wait_for()
    first_chart = await phone.locator("#chart canvas").screenshot()

    slider = phone.locator("#leverage")
    await slider.focus()
    for _ in range(6):  # 1, 1.25, 1.5, 1.75, 2, 2.5, 3: the keyboard moves it, as a user can
        await phone.keyboard.press("ArrowRight")
    assert await phone.locator("#leverage-out").inner_text() == "3x"

    at_3x = cli_plan("1.2", "BTC", "--leverage", "3")["legs"][0]
    liquidation = f"{at_3x['liquidation_price']:,.2f} USD"
    await figures.get_by_text(liquidation).wait_for()
    text = await figures.inner_text()
    margin = f"{at_3x['margin_coin']:.8f}".rstrip("0")
    assert f"{margin} BTC at 3x" in text
    assert f"{at_3x['liquidation_distance_pct']:,.2f} % away" in text
    assert await phone.locator("#chart canvas").screenshot() != first_chart  # redrawn
    await phone.locator("#funding canvas").wait_for()  # the funding history, drawn once
    assert "average: Bybit +" in await phone.locator("#funding-caption").inner_text()
    caption = await phone.locator("#chart-caption").inner_text()
    assert f"liquidation zone from {liquidation}" in caption
    # The data's source and age, at the top.
    source = await phone.locator("#source").inner_text()
    assert source.startswith(cli_plan("1.2", "BTC")["data"])
    assert "Bybit data" in source
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await phone.screenshot(path=SCREENSHOTS / "calculator-phone.png", full_page=True)


async def test_without_telegrams_signature_the_page_says_where_to_open_it(
    page_url: str, phone: Any
) -> None:
    await phone.goto(page_url)
    error = phone.locator("#error")
    await error.wait_for()
    assert "Open the calculator from HedgeBot's chat" in await error.inner_text()


# Telegram's dark theme as its clients send it (Telegram Desktop's "Night").
DARK = {
    "bg_color": "#17212b",
    "secondary_bg_color": "#232e3c",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "destructive_text_color": "#ec3942",
}


async def test_in_telegrams_dark_theme_a_holder_picks_a_leg_and_tracks_it(
    page_url: str, phone: Any
) -> None:
    launch = f"tgWebAppData={quote(signed_init_data(), safe='')}&tgWebAppThemeParams={quote(json.dumps(DARK), safe='')}"
    await phone.goto(f"{page_url}?coin=BTC&quantity=1.2&leverage=3#{launch}")
    legs = phone.locator("#legs button")
    await legs.first.wait_for()
    background = await phone.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 33, 43)"  # Telegram's colour, not the page's own
    assert "Bybit BTCUSD, perpetual" in await legs.first.inner_text()
    await legs.first.click()
    assert await phone.locator("#venue").input_value() == "bybit"
    await phone.locator("#track").click()
    await phone.get_by_text("Tracking BTCUSD: see /positions in the chat").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await phone.screenshot(path=SCREENSHOTS / "calculator-phone-dark.png", full_page=True)


async def test_opened_without_a_plan_the_sliders_start_at_the_users_settings(
    served: tuple[str, HedgeApp], phone: Any
) -> None:
    url, app = served
    await app.bot_data.services.store.save_user_settings(
        USER, UserSettings(leverage=Decimal(5), hedge_ratio=Decimal("0.6"))
    )
    await phone.goto(f"{url}#tgWebAppData={quote(signed_init_data(), safe='')}")  # as /app opens it
    await phone.locator("#figures dd").first.wait_for()
    assert await phone.locator("#leverage-out").inner_text() == "5x"
    assert await phone.locator("#ratio-out").inner_text() == "60 %"
    at_5x = cli_plan("1", "BTC", "--leverage", "5", "--ratio", "60%")["legs"][0]
    margin = f"{at_5x['margin_coin']:.8f}".rstrip("0")
    assert f"{margin} BTC at 5x" in await phone.locator("#figures").inner_text()


@pytest.fixture
async def on_the_demo(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[str]:
    """The page of a bot answering from the bundled demo market: four venues, dated futures."""
    _browser_or_skip()
    demo = Path(str(resources.files("hedgecore.market").joinpath("demo_snapshot.json")))
    app = await start_bot(telegram, tmp_path / "demo.sqlite3", snapshot=demo)
    server = web.Application()
    server.add_subapp("/app/", miniapp(app, TOKEN))
    async with TestServer(server, host="127.0.0.1") as test_server:
        yield str(test_server.make_url("/app/"))
    await stop_bot(app)


async def test_on_the_demo_market_every_venue_is_ranked_and_the_dated_alternative_shown(
    on_the_demo: str, phone: Any
) -> None:
    await phone.goto(
        f"{on_the_demo}?coin=BTC&quantity=1.2&leverage=3#tgWebAppData={quote(signed_init_data(), safe='')}"
    )
    await phone.locator("#chart canvas").wait_for()
    ranked = await phone.locator("#legs").inner_text()
    for venue in ("Bybit", "Binance COIN-M", "Deribit", "Kraken Futures"):
        assert venue in ranked
    figures = await phone.locator("#figures").inner_text()
    assert "Dated instead" in figures
    assert "locks" in figures
    assert "dated at expiry" in await phone.locator("#chart").inner_text()  # the legend
    assert (await phone.locator("#source").inner_text()).startswith(
        "offline snapshot taken at 2021-04-17 16:50 UTC"
    )
