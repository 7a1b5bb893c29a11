from .conftest import RunningBot
from .fake_telegram import keyboard_of
from .test_e2e import ask

async def test_show(replayed_venues: RunningBot) -> None:
    for cmd in ("/track bybit BTCUSD 112467 @ 93722 3x", "/track binance BTCUSD_PERP 720 @ 93700", "/track bitget btcusd 1.199 2x", "/track deribit BTC-PERPETUAL 112460 5x for 1.2 BTC",
                "/track bybit BTCUSDT 100", "/track bybit BTCUSD 0", "/track bybit BTCUSD 10 @ 6000", "/track okx BTC-USD-SWAP 10 200x", "/track binanse BTCUSD 1", "/track bybit BTCUSD 1.5", "/positions"):
        text = await ask(replayed_venues, cmd)
        print("=====", cmd); print(text)
    assert False
