"""The calculator's JSON API over the desk, so that the page and the chat never disagree.

Every call carries Telegram's signed initData; the user id in it is the one the bot's settings
and flood control know. Errors are JSON with a message a user can act on: 400 for a bad input
(with an example), 401 for initData that is missing, forged or old, 413 for a body that is too
large, 429 past the flood limit.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram.error import TelegramError

from bot.context import HedgeApp
from bot.defaults import hedge_question
from bot.handlers.hedge import plan_reply
from bot.handlers.replies import send_html
from bot.handlers.tracking import placed_plan, record
from bot.miniapp.initdata import InvalidInitData, secret_key, verified_user_id
from bot.parsing import HedgeRequest
from hedgecore import inputs
from hedgecore.answers import HedgeResult
from hedgecore.errors import HedgeCoreError, InvalidInput
from hedgecore.models import Holding
from hedgecore.payoff import payoff_curve
from hedgecore.report import hedge_json, json_value
from hedgecore.venues import venue_by_name

MAX_BODY_BYTES = 16 * 1024  # initData is a few kB; a calculator's question a few dozen bytes
EXAMPLE = '{"coin": "BTC", "quantity": "1.2", "leverage": "3", "ratio": "100%", "venue": "bybit"}'

Handler = Callable[[web.Request], Awaitable[web.Response]]


class ApiError(Exception):
    """An answer other than 200: its status and its one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error(status: int, message: str) -> web.Response:
    """The API's error answer."""
    return web.json_response({"ok": False, "error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request is over {MAX_BODY_BYTES // 1024} kB")
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request is over {MAX_BODY_BYTES // 1024} kB")
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, f"the request is not JSON; example: {EXAMPLE}") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the request is not a JSON object; example: {EXAMPLE}")
    return body


def hedge_request(body: dict[str, Any]) -> HedgeRequest:
    """The calculator's question as the /hedge command's request (one holding); raises
    `InvalidInput` with an example, as the command's parser does."""

    def field(name: str) -> str | None:
        value = body.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidInput(f"{name} must be a number or text", EXAMPLE)
        return str(value)

    coin, quantity = field("coin"), field("quantity")
    if coin is None or quantity is None:
        raise InvalidInput("give the coin and the quantity you hold", EXAMPLE)
    leverage, ratio, venue = field("leverage"), field("ratio"), field("venue")
    return HedgeRequest(
        holdings=(Holding(coin=inputs.parse_coin(coin), quantity=inputs.parse_quantity(quantity)),),
        leverage=None if leverage is None else inputs.parse_leverage(leverage),
        hedge_ratio=None if ratio is None else inputs.parse_hedge_ratio(ratio),
        venue=None if venue is None else venue_by_name(venue).id,
    )


def api_routes(
    app: HedgeApp, token: str, clock: Callable[[], float] = time.time
) -> web.RouteTableDef:
    """The API's routes, answering from `app`'s services; initData is checked against `token`."""
    key = secret_key(token)
    routes = web.RouteTableDef()

    async def user_of(body: dict[str, Any]) -> int:
        init_data = body.get("initData")
        try:
            user_id = verified_user_id(
                init_data if isinstance(init_data, str) else "", key, clock()
            )
        except InvalidInitData as exc:
            raise ApiError(401, str(exc)) from None
        if await app.bot_data.services.flood.check(user_id) != "ok":
            raise ApiError(429, "too many requests this minute: wait a little and try again")
        return user_id

    def answering(work: Callable[[web.Request], Awaitable[dict[str, Any]]]) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            try:
                return web.json_response({"ok": True, **await work(request)})
            except ApiError as exc:
                return error(exc.status, str(exc))
            except InvalidInput as exc:
                return error(400, f"{exc.problem}; example: {exc.example}")
            except HedgeCoreError as exc:
                return error(422, str(exc))

        return handler

    async def answer(request: web.Request) -> tuple[int, HedgeRequest, HedgeResult]:
        """The asking user, their question, and the desk's answer to it."""
        body = await _body(request)
        user_id = await user_of(body)
        services = app.bot_data.services
        wanted = hedge_request(body)
        defaults = await services.store.user_settings(user_id)
        return user_id, wanted, await services.desk.hedge(hedge_question(wanted, defaults))

    @routes.post("/api/plan")
    @answering
    async def plan(request: web.Request) -> dict[str, Any]:
        """The plan the chat's /hedge would give, and its payoff across prices."""
        _, _, result = await answer(request)
        market_plan = result.plans[0].plan
        payoff = None if market_plan.cross_hedge is not None else payoff_curve(market_plan)
        return {
            "plan": hedge_json(result),
            "payoff": None if payoff is None else json_value(payoff.model_dump()),
        }

    @routes.post("/api/funding")
    @answering
    async def funding(request: web.Request) -> dict[str, Any]:
        """The coin's last 30 days of funding per venue, annualised as a short sees it."""
        body = await _body(request)
        await user_of(body)
        coin = body.get("coin")
        if not isinstance(coin, str):
            raise InvalidInput("give the coin", '{"coin": "BTC"}')
        answer = await app.bot_data.services.desk.funding_history(inputs.parse_coin(coin))
        return {"funding": json_value(answer.model_dump())}

    @routes.post("/api/send")
    @answering
    async def send(request: web.Request) -> dict[str, Any]:
        """Post the plan into the user's chat with the bot, as the reply to /hedge would be."""
        user_id, wanted, result = await answer(request)
        try:
            public_url = app.bot_data.services.settings.public_url
            await send_html(app.bot, user_id, *plan_reply(wanted, result, public_url))
        except TelegramError as exc:
            raise ApiError(
                502, f"Telegram did not take the message ({type(exc).__name__}): send /start first"
            ) from None
        return {}

    @routes.post("/api/track")
    @answering
    async def track(request: web.Request) -> dict[str, Any]:
        """Track the plan's best leg as placed, as the plan's "I placed this" button does; the
        confirmation goes into the user's chat too."""
        body = await _body(request)
        user_id = await user_of(body)
        services = app.bot_data.services
        placed = await placed_plan(services, user_id, hedge_request(body))
        answer = await record(services, user_id, placed, watched=app.running)
        with contextlib.suppress(TelegramError):  # tracked all the same: /positions shows it
            await send_html(app.bot, user_id, answer, None)
        return {"tracked": placed.venue_symbol or placed.symbol}

    return routes
