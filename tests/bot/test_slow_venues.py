"""When venues hang, /hedge answers within the reply deadline, and "typing…" shows meanwhile."""

import dataclasses
from pathlib import Path

from hedgecore.desk import DEMO_NOTE, Desk
from hedgecore.market.feeds import VENUE_IDS
from hedgecore.market.service import MarketService
from hedgecore.market.snapshot import demo_market_service

from ..hedgecore.market.conftest import replay_feeds
from ..hedgecore.market.exchange_replay import ExchangeReplay, Fault
from .conftest import start_bot, stop_bot
from .fake_telegram import FakeTelegram


async def test_hedge_on_hanging_venues_types_then_answers_from_the_demo_in_its_deadline(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    replay = ExchangeReplay()
    await replay.start()
    for venue in VENUE_IDS:
        replay.faults[venue] = Fault(delay=3600)
    app = await start_bot(telegram, tmp_path / "b.sqlite3")
    services = app.bot_data.services
    # The bot's own desk on live venues that never answer: 30 s request timeouts, a 1.5 s deadline.
    hanging = MarketService(replay_feeds(replay, timeout_s=30.0), timeout_s=30.0)
    desk = Desk(hanging, demo=demo_market_service, reply_deadline_s=1.5)
    app.bot_data.start(dataclasses.replace(services, desk=desk))
    try:
        telegram.send_text("/hedge 1 BTC")
        (reply,) = await telegram.wait_for("sendMessage", 1, timeout=10)
        methods = [call.method for call in telegram.calls]
        first_action = methods.index("sendChatAction")
        assert first_action < methods.index("sendMessage")
        action = telegram.calls[first_action].params
        assert (int(action["chat_id"]), action["action"]) == (77, "typing")
        text = reply.params["text"]
        assert text.startswith("<b>Demo: market recorded on 2021-04-17 16:50 UTC, not live</b>")
        assert DEMO_NOTE in text
        assert hanging.request_counts()["bybit"] == (0, 0)  # no request's timeout was waited for
    finally:
        await stop_bot(app)
        await replay.stop()
