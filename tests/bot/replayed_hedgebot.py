"""`python -m bot` with every venue's ccxt exchange pointed at the exchange replay server at
$REPLAY_URL: hedgebot on its live code path, in a process of its own, offline."""

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the tests package

from hedgecore.market import ccxt_feed
from tests.hedgecore.market.exchange_replay import point_at

_make_exchange = ccxt_feed.make_exchange


def replayed_exchange(venue: str, timeout_s: float) -> Any:
    exchange = _make_exchange(venue, timeout_s)
    point_at(exchange, f"{os.environ['REPLAY_URL']}/{venue}")
    return exchange


ccxt_feed.make_exchange = replayed_exchange

if __name__ == "__main__":
    from bot.__main__ import main

    sys.exit(main())
