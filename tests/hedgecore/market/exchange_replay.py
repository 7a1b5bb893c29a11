"""A local stand-in for five exchanges' public REST APIs, replaying their responses on 127.0.0.1.

Response bodies are in each venue's documented format (field names, string/number types, nesting
and the sample responses ccxt's parsers quote), with one coherent market moment: 2025-04-28
08:00 UTC. Bybit's BTCUSD figures are the last bar of the shared public Bybit recording (spot
93,741.6, perpetual 93,722.4, funding 0.006498 %); the other venues' figures are made to sit within
a few dollars of those, as they do, and are not recordings.

Faults can be switched on per venue (`delay`, `status`, `garbage`) and every request is counted
per venue and path, so tests can check failure isolation and single-flight.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

T_MS = 1745827200000  # 2025-04-28 08:00:00 UTC
NEXT_8H_MS = T_MS + 8 * 3600 * 1000
JUN27_MS = 1751011200000  # 2025-06-27 08:00:00 UTC
BTC_INDEX = "93741.6"
ETH_INDEX = "1790.12"

Json = Any
Route = Callable[[Mapping[str, str]], Json]


def _bybit_instrument(
    symbol: str, base: str, contract_type: str, delivery_ms: int, max_leverage: str
) -> Json:
    return {
        "symbol": symbol,
        "contractType": contract_type,
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": "USD",
        "launchTime": "1585526400000",
        "deliveryTime": str(delivery_ms),
        "deliveryFeeRate": "" if delivery_ms == 0 else "0.0005",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": max_leverage, "leverageStep": "0.01"},
        "priceFilter": {"minPrice": "0.50", "maxPrice": "1999999.00", "tickSize": "0.50"},
        "lotSizeFilter": {
            "maxOrderQty": "1000000",
            "minOrderQty": "1",
            "qtyStep": "1",
            "postOnlyMaxOrderQty": "2000000",
        },
        "unifiedMarginTrade": False,
        "fundingInterval": 480,
        "settleCoin": base,
        "copyTrading": "none",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
    }


def _bybit_ticker(
    symbol: str,
    last: str,
    index: str,
    bid: str,
    ask: str,
    funding: str,
    next_ms: int,
    delivery_ms: int,
) -> Json:
    return {
        "symbol": symbol,
        "lastPrice": last,
        "indexPrice": index,
        "markPrice": last,
        "prevPrice24h": last,
        "price24hPcnt": "0.0012",
        "highPrice24h": last,
        "lowPrice24h": last,
        "prevPrice1h": last,
        "openInterest": "580264343",
        "openInterestValue": "6190.33",
        "turnover24h": "1653.57",
        "volume24h": "155080122",
        "fundingRate": funding,
        "nextFundingTime": str(next_ms),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": str(delivery_ms),
        "ask1Size": "2054",
        "bid1Price": bid,
        "ask1Price": ask,
        "bid1Size": "12931",
    }


def _bybit_envelope(result: Json) -> Json:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": T_MS}


def _bybit_instruments(query: Mapping[str, str]) -> Json:
    if query.get("category") != "inverse" or query.get("status") == "PreLaunch":
        return _bybit_envelope(
            {"category": query.get("category"), "list": [], "nextPageCursor": ""}
        )
    return _bybit_envelope(
        {
            "category": "inverse",
            "list": [
                _bybit_instrument("BTCUSD", "BTC", "InversePerpetual", 0, "100.00"),
                _bybit_instrument("ETHUSD", "ETH", "InversePerpetual", 0, "50.00"),
                _bybit_instrument("BTCUSDM25", "BTC", "InverseFutures", JUN27_MS, "100.00"),
            ],
            "nextPageCursor": "",
        }
    )


def _bybit_tickers(query: Mapping[str, str]) -> Json:
    tickers = [
        _bybit_ticker(
            "BTCUSD", "93722.4", BTC_INDEX, "93722.0", "93722.5", "0.00006498", NEXT_8H_MS, 0
        ),
        _bybit_ticker(
            "ETHUSD", "1790.55", ETH_INDEX, "1790.50", "1790.60", "-0.00002113", NEXT_8H_MS, 0
        ),
        _bybit_ticker("BTCUSDM25", "95012.5", BTC_INDEX, "95012.0", "95013.0", "", 0, JUN27_MS),
    ]
    if "symbol" in query:
        tickers = [t for t in tickers if t["symbol"] == query["symbol"]]
    return _bybit_envelope({"category": "inverse", "list": tickers})


def _bybit_funding_history(query: Mapping[str, str]) -> Json:
    rates = ["0.0001", "0.00006498", "-0.00001502", "0.00004351", "0.0001", "0.00005403"]
    rows = [
        {
            "symbol": query.get("symbol", "BTCUSD"),
            "fundingRate": rate,
            "fundingRateTimestamp": str(T_MS - i * 8 * 3600 * 1000),
        }
        for i, rate in enumerate(rates)
    ]
    return _bybit_envelope({"category": "inverse", "list": rows})


def _sol_closes() -> list[str]:
    """SOL/USDT daily closes, newest first: 1.4 x BTC's daily returns plus alternating noise."""
    btc = [float(c) for c in reversed(DAILY_CLOSES)]
    sol = [150.0]
    for day in range(1, len(btc)):
        btc_return = btc[day] / btc[day - 1] - 1
        sol.append(sol[-1] * (1 + 1.4 * btc_return + (0.004 if day % 2 else -0.004)))
    return [f"{close:.2f}" for close in reversed(sol)]


def _bybit_kline(query: Mapping[str, str]) -> Json:
    closes = DAILY_CLOSES
    if query.get("category") == "spot":
        closes = _sol_closes() if query.get("symbol") == "SOLUSDT" else []
    rows = [[str(_daily(i)), c, c, c, c, "1000", "0.01"] for i, c in enumerate(closes)]
    return _bybit_envelope(
        {"category": query.get("category"), "symbol": query.get("symbol"), "list": rows}
    )


def _bybit_risk_limit(query: Mapping[str, str]) -> Json:
    tiers = [
        {
            "id": 1,
            "symbol": "BTCUSD",
            "riskLimitValue": "150",
            "maintenanceMargin": "0.005",
            "initialMargin": "0.01",
            "isLowestRisk": 1,
            "maxLeverage": "100.00",
            "mmDeduction": "",
        },
        {
            "id": 2,
            "symbol": "BTCUSD",
            "riskLimitValue": "300",
            "maintenanceMargin": "0.01",
            "initialMargin": "0.015",
            "isLowestRisk": 0,
            "maxLeverage": "66.66",
            "mmDeduction": "0.75",
        },
    ]
    symbol = query.get("symbol")
    return _bybit_envelope(
        {"category": "inverse", "list": [t for t in tiers if symbol in (None, t["symbol"])]}
    )


def _binance_symbol(
    symbol: str, pair: str, contract_type: str, delivery_ms: int, contract_size: int
) -> Json:
    base = pair.removesuffix("USD")
    return {
        "symbol": symbol,
        "pair": pair,
        "contractType": contract_type,
        "deliveryDate": delivery_ms,
        "onboardDate": 1597042800000,
        "contractStatus": "TRADING",
        "contractSize": contract_size,
        "marginAsset": base,
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": base,
        "quoteAsset": "USD",
        "pricePrecision": 1,
        "quantityPrecision": 0,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "equalQtyPrecision": 4,
        "maxMoveOrderLimit": 10000,
        "triggerProtect": "0.0500",
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "filters": [
            {
                "minPrice": "1000",
                "maxPrice": "4520958",
                "filterType": "PRICE_FILTER",
                "tickSize": "0.1",
            },
            {"stepSize": "1", "filterType": "LOT_SIZE", "maxQty": "1000000", "minQty": "1"},
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        "liquidationFee": "0.010000",
        "marketTakeBound": "0.05",
    }


def _binance_exchange_info(query: Mapping[str, str]) -> Json:
    return {
        "timezone": "UTC",
        "serverTime": T_MS,
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": [
            _binance_symbol("BTCUSD_PERP", "BTCUSD", "PERPETUAL", 4133404800000, 100),
            _binance_symbol("ETHUSD_PERP", "ETHUSD", "PERPETUAL", 4133404800000, 10),
            _binance_symbol("BTCUSD_250627", "BTCUSD", "CURRENT_QUARTER", JUN27_MS, 100),
        ],
    }


def _binance_premium_index(query: Mapping[str, str]) -> Json:
    return [
        {
            "symbol": "BTCUSD_PERP",
            "pair": "BTCUSD",
            "markPrice": "93716.8",
            "indexPrice": "93744.1",
            "estimatedSettlePrice": "93720.3",
            "lastFundingRate": "0.00003875",
            "interestRate": "0.00010000",
            "nextFundingTime": NEXT_8H_MS,
            "time": T_MS,
        },
        {
            "symbol": "ETHUSD_PERP",
            "pair": "ETHUSD",
            "markPrice": "1789.91",
            "indexPrice": "1790.30",
            "estimatedSettlePrice": "1790.02",
            "lastFundingRate": "0.00001000",
            "interestRate": "0.00010000",
            "nextFundingTime": NEXT_8H_MS,
            "time": T_MS,
        },
        {
            "symbol": "BTCUSD_250627",
            "pair": "BTCUSD",
            "markPrice": "95050.2",
            "indexPrice": "93744.1",
            "estimatedSettlePrice": "93720.3",
            "lastFundingRate": "",
            "interestRate": "",
            "nextFundingTime": 0,
            "time": T_MS,
        },
    ]


def _binance_book_ticker(query: Mapping[str, str]) -> Json:
    return [
        {
            "symbol": "BTCUSD_PERP",
            "pair": "BTCUSD",
            "bidPrice": "93716.7",
            "bidQty": "2000",
            "askPrice": "93716.8",
            "askQty": "1500",
            "time": T_MS,
        },
        {
            "symbol": "ETHUSD_PERP",
            "pair": "ETHUSD",
            "bidPrice": "1789.90",
            "bidQty": "800",
            "askPrice": "1789.91",
            "askQty": "650",
            "time": T_MS,
        },
        {
            "symbol": "BTCUSD_250627",
            "pair": "BTCUSD",
            "bidPrice": "95050.1",
            "bidQty": "120",
            "askPrice": "95050.3",
            "askQty": "90",
            "time": T_MS,
        },
    ]


def _binance_funding_history(query: Mapping[str, str]) -> Json:
    rates = ["0.00010000", "0.00003875", "-0.00000412", "0.00005012"]
    return [
        {
            "symbol": query.get("symbol", "BTCUSD_PERP"),
            "fundingTime": T_MS - i * 8 * 3600 * 1000,
            "fundingRate": r,
        }
        for i, r in enumerate(rates)
    ]


def _okx_instrument(
    inst_id: str,
    inst_type: str,
    uly: str,
    ct_val: str,
    exp_ms: int | None,
    ct_type: str = "inverse",
) -> Json:
    settle = uly.split("-")[0] if ct_type == "inverse" else "USDT"
    return {
        "alias": "" if exp_ms is None else "quarter",
        "baseCcy": "",
        "category": "1",
        "ctMult": "1",
        "ctType": ct_type,
        "ctVal": ct_val,
        "ctValCcy": "USD" if ct_type == "inverse" else uly.split("-")[0],
        "expTime": "" if exp_ms is None else str(exp_ms),
        "instFamily": uly,
        "instId": inst_id,
        "instType": inst_type,
        "lever": "100",
        "listTime": "1597026383085",
        "lotSz": "1",
        "maxLmtSz": "100000000",
        "maxMktSz": "10000",
        "minSz": "1",
        "optType": "",
        "quoteCcy": "",
        "settleCcy": settle,
        "state": "live",
        "stk": "",
        "tickSz": "0.1",
        "uly": uly,
        "ruleType": "normal",
    }


def _okx(data: Json) -> Json:
    return {"code": "0", "msg": "", "data": data}


def _okx_instruments(query: Mapping[str, str]) -> Json:
    if query.get("instType") == "SWAP":
        return _okx(
            [
                _okx_instrument("BTC-USD-SWAP", "SWAP", "BTC-USD", "100", None),
                _okx_instrument("ETH-USD-SWAP", "SWAP", "ETH-USD", "10", None),
                _okx_instrument(
                    "BTC-USDT-SWAP", "SWAP", "BTC-USDT", "0.01", None, ct_type="linear"
                ),
            ]
        )
    if query.get("instType") == "FUTURES":
        return _okx([_okx_instrument("BTC-USD-250627", "FUTURES", "BTC-USD", "100", JUN27_MS)])
    return _okx([])


def _okx_ticker(inst_id: str, inst_type: str, last: str, bid: str, ask: str) -> Json:
    return {
        "instType": inst_type,
        "instId": inst_id,
        "last": last,
        "lastSz": "1",
        "askPx": ask,
        "askSz": "120",
        "bidPx": bid,
        "bidSz": "98",
        "open24h": last,
        "high24h": last,
        "low24h": last,
        "volCcy24h": "2222",
        "vol24h": "2222",
        "sodUtc0": last,
        "sodUtc8": last,
        "ts": str(T_MS),
    }


def _okx_tickers(query: Mapping[str, str]) -> Json:
    if query.get("instType") == "SWAP":
        return _okx(
            [
                _okx_ticker("BTC-USD-SWAP", "SWAP", "93719.9", "93719.8", "93719.9"),
                _okx_ticker("ETH-USD-SWAP", "SWAP", "1790.31", "1790.30", "1790.31"),
                _okx_ticker("BTC-USDT-SWAP", "SWAP", "93702.1", "93702.0", "93702.1"),
            ]
        )
    if query.get("instType") == "FUTURES":
        return _okx([_okx_ticker("BTC-USD-250627", "FUTURES", "94980.2", "94980.1", "94980.3")])
    return _okx([])


def _okx_mark_prices(query: Mapping[str, str]) -> Json:
    marks = {
        "SWAP": [
            ("BTC-USD-SWAP", "93719.6"),
            ("ETH-USD-SWAP", "1790.33"),
            ("BTC-USDT-SWAP", "93701.8"),
        ],
        "FUTURES": [("BTC-USD-250627", "94981.0")],
    }
    inst_type = query.get("instType", "SWAP")
    return _okx(
        [
            {"instType": inst_type, "instId": inst_id, "markPx": mark, "ts": str(T_MS)}
            for inst_id, mark in marks.get(inst_type, [])
        ]
    )


def _okx_index_tickers(query: Mapping[str, str]) -> Json:
    return _okx(
        [
            {
                "instId": "BTC-USD",
                "idxPx": "93743.2",
                "high24h": "95000",
                "sodUtc0": "93000",
                "open24h": "93000",
                "low24h": "92000",
                "sodUtc8": "93000",
                "ts": str(T_MS),
            },
            {
                "instId": "ETH-USD",
                "idxPx": "1790.21",
                "high24h": "1820",
                "sodUtc0": "1780",
                "open24h": "1780",
                "low24h": "1770",
                "sodUtc8": "1780",
                "ts": str(T_MS),
            },
        ]
    )


def _okx_funding(query: Mapping[str, str]) -> Json:
    def row(inst_id: str, rate: str, next_rate: str) -> Json:
        return {
            "fundingRate": rate,
            "fundingTime": str(NEXT_8H_MS),
            "instId": inst_id,
            "instType": "SWAP",
            "maxFundingRate": "0.00375",
            "method": "current_period",
            "minFundingRate": "-0.00375",
            "nextFundingRate": next_rate,
            "nextFundingTime": str(NEXT_8H_MS + 8 * 3600 * 1000),
            "premium": "-0.0001",
            "settFundingRate": "0.0001",
            "settState": "settled",
            "ts": str(T_MS),
        }

    rows = [
        row("BTC-USD-SWAP", "0.00008021", ""),
        row("ETH-USD-SWAP", "0.00004511", ""),
        row("BTC-USDT-SWAP", "0.0001", ""),
    ]
    if query.get("instId") not in (None, "ANY"):
        rows = [r for r in rows if r["instId"] == query["instId"]]
    return _okx(rows)


def _okx_position_tiers(query: Mapping[str, str]) -> Json:
    family = query.get("instFamily", "")

    def tier(n: int, min_sz: str, max_sz: str, mmr: str, imr: str, lever: str) -> Json:
        return {
            "baseMaxLoan": "",
            "imr": imr,
            "instFamily": family,
            "instId": "",
            "maxLever": lever,
            "maxSz": max_sz,
            "minSz": min_sz,
            "mmr": mmr,
            "optMgnFactor": "0",
            "quoteMaxLoan": "",
            "tier": str(n),
            "uly": family,
        }

    return _okx(
        [
            tier(1, "0", "2000", "0.004", "0.008", "125"),
            tier(2, "2001", "5000", "0.006", "0.01", "100"),
        ]
    )


def _okx_funding_history(query: Mapping[str, str]) -> Json:
    rates = ["0.0001", "0.00008021", "-0.00002", "0.00005"]
    inst_id = query.get("instId", "BTC-USD-SWAP")
    return _okx(
        [
            {
                "fundingRate": r,
                "fundingTime": str(T_MS - i * 8 * 3600 * 1000),
                "instId": inst_id,
                "instType": "SWAP",
                "method": "current_period",
                "realizedRate": r,
            }
            for i, r in enumerate(rates)
        ]
    )


def _deribit(result: Json) -> Json:
    return {
        "jsonrpc": "2.0",
        "result": result,
        "usIn": T_MS * 1000,
        "usOut": T_MS * 1000 + 950,
        "usDiff": 950,
        "testnet": False,
    }


def _deribit_instrument(
    name: str, currency: str, period: str, expiry_ms: int, contract_size: float
) -> Json:
    return {
        "tick_size": 0.5 if currency == "BTC" else 0.05,
        "taker_commission": 0.0005,
        "settlement_period": period,
        "settlement_currency": currency,
        "quote_currency": "USD",
        "price_index": f"{currency.lower()}_usd",
        "min_trade_amount": contract_size,
        "max_liquidation_commission": 0.0075,
        "max_leverage": 50,
        "maker_commission": 0.0,
        "kind": "future",
        "is_active": True,
        "instrument_name": name,
        "instrument_id": 124972,
        "future_type": "reversed",
        "expiration_timestamp": expiry_ms,
        "creation_timestamp": 1534242287000,
        "counter_currency": "USD",
        "contract_size": contract_size,
        "block_trade_tick_size": 0.01,
        "block_trade_min_trade_amount": 200000,
        "block_trade_commission": 0.00025,
        "base_currency": currency,
        "instrument_type": "reversed",
    }


def _deribit_instruments(query: Mapping[str, str]) -> Json:
    instruments = [
        _deribit_instrument("BTC-PERPETUAL", "BTC", "perpetual", 32503708800000, 10.0),
        _deribit_instrument("BTC-27JUN25", "BTC", "month", JUN27_MS, 10.0),
        _deribit_instrument("ETH-PERPETUAL", "ETH", "perpetual", 32503708800000, 1.0),
    ]
    currency = query.get("currency")
    return _deribit([i for i in instruments if currency in (None, "any", i["base_currency"])])


def _deribit_summary(
    name: str, mark: float, bid: float, ask: float, delivery: float, funding_8h: float | None
) -> Json:
    summary = {
        "volume_usd": 288131320.0,
        "volume": 3071.9,
        "quote_currency": "USD",
        "price_change": 0.5,
        "open_interest": 1072340570,
        "mid_price": (bid + ask) / 2,
        "mark_price": mark,
        "low": mark - 900,
        "last": ask,
        "instrument_name": name,
        "high": mark + 900,
        "estimated_delivery_price": delivery,
        "creation_timestamp": T_MS,
        "bid_price": bid,
        "base_currency": name.split("-")[0],
        "ask_price": ask,
    }
    if funding_8h is not None:
        summary |= {"funding_8h": funding_8h, "current_funding": 0.0}
    return summary


def _deribit_book_summary(query: Mapping[str, str]) -> Json:
    by_currency = {
        "BTC": [
            _deribit_summary("BTC-PERPETUAL", 93725.13, 93725.0, 93725.5, 93742.02, 0.00004002),
            _deribit_summary("BTC-27JUN25", 95101.44, 95100.5, 95102.0, 93742.02, None),
        ],
        "ETH": [_deribit_summary("ETH-PERPETUAL", 1790.41, 1790.35, 1790.45, 1790.18, -0.00001211)],
    }
    return _deribit(by_currency.get(query.get("currency", ""), []))


def _deribit_funding_value(query: Mapping[str, str]) -> Json:
    values = {"BTC-PERPETUAL": 0.00004002, "ETH-PERPETUAL": -0.00001211}
    return _deribit(values.get(query.get("instrument_name", ""), 0.0))


def _deribit_funding_history(query: Mapping[str, str]) -> Json:
    hourly = [0.0000052, 0.0000031, -0.0000012, 0.0000044, 0.0000050, 0.0000021]
    return _deribit(
        [
            {
                "timestamp": T_MS - i * 3600 * 1000,
                "index_price": 93740.0,
                "prev_index_price": 93720.0,
                "interest_8h": 0.00004002,
                "interest_1h": rate,
            }
            for i, rate in enumerate(hourly)
        ]
    )


def _kraken_instrument(
    symbol: str, kind: str, last_trading: str | None, contract_size: int = 1
) -> Json:
    instrument = {
        "symbol": symbol,
        "type": kind,
        "underlying": "rr_" + symbol.split("_")[1],
        "tickSize": 0.5,
        "contractSize": contract_size,
        "tradeable": True,
        "impactMidSize": 1000,
        "maxPositionSize": 75000000,
        "openingDate": "2018-08-31T00:00:00.000Z",
        "marginLevels": [
            {"contracts": 0, "initialMargin": 0.02, "maintenanceMargin": 0.01},
            {"contracts": 500000, "initialMargin": 0.04, "maintenanceMargin": 0.02},
            {"contracts": 1000000, "initialMargin": 0.06, "maintenanceMargin": 0.03},
        ],
        "fundingRateCoefficient": 8,
        "maxRelativeFundingRate": 0.0025,
        "isin": "GB00J62YGL67",
        "contractValueTradePrecision": 0,
        "postOnly": False,
        "feeScheduleUid": "eef90775-995b-4596-9257-0917f6134766",
        "retailMarginLevels": [],
        "category": "",
        "tags": [],
    }
    if last_trading is not None:
        instrument["lastTradingTime"] = last_trading
    return instrument


def _kraken_instruments(query: Mapping[str, str]) -> Json:
    return {
        "result": "success",
        "instruments": [
            _kraken_instrument("PI_XBTUSD", "futures_inverse", None),
            _kraken_instrument("PI_ETHUSD", "futures_inverse", None),
            _kraken_instrument("FI_XBTUSD_250627", "futures_inverse", "2025-06-27T08:00:00.000Z"),
            _kraken_instrument("PF_XBTUSD", "flexible_futures", None),
            {"symbol": "in_xbtusd", "type": "spot index", "tradeable": False},
        ],
        "serverTime": "2025-04-28T08:00:00.000Z",
    }


def _kraken_ticker(
    symbol: str,
    mark: float,
    index: float | None,
    bid: float,
    ask: float,
    funding_abs: float | None,
    prediction: float | None,
) -> Json:
    ticker: dict[str, Any] = {
        "tag": "perpetual" if symbol.startswith(("PI_", "PF_")) else "month",
        "pair": "XBT:USD",
        "symbol": symbol,
        "markPrice": mark,
        "bid": bid,
        "bidSize": 2000,
        "ask": ask,
        "askSize": 1500,
        "vol24h": 1000000,
        "volumeQuote": 1000000,
        "openInterest": 30000000,
        "open24h": mark,
        "high24h": mark,
        "low24h": mark,
        "last": ask,
        "lastTime": "2025-04-28T07:59:58.000Z",
        "lastSize": 100,
        "suspended": False,
        "postOnly": False,
    }
    if index is not None:
        ticker["indexPrice"] = index
    if funding_abs is not None:
        ticker |= {"fundingRate": funding_abs, "fundingRatePrediction": prediction}
    return ticker


def _kraken_tickers(query: Mapping[str, str]) -> Json:
    # Inverse funding is an absolute amount per contract per hour: relative rate / price.
    btc_relative, eth_relative = 0.000008, -0.000003
    return {
        "result": "success",
        "tickers": [
            _kraken_ticker(
                "PI_XBTUSD",
                93728.0,
                93741.6,
                93727.5,
                93728.5,
                btc_relative / 93728.0,
                0.0000065 / 93728.0,
            ),
            _kraken_ticker(
                "PI_ETHUSD",
                1790.6,
                1790.12,
                1790.5,
                1790.7,
                eth_relative / 1790.6,
                -0.000002 / 1790.6,
            ),
            _kraken_ticker("FI_XBTUSD_250627", 95020.0, None, 95019.5, 95020.5, None, None),
            _kraken_ticker("PF_XBTUSD", 93705.0, 93741.6, 93704.5, 93705.5, 0.75, 0.6),
        ],
        "serverTime": "2025-04-28T08:00:00.000Z",
    }


def _kraken_funding_history(query: Mapping[str, str]) -> Json:
    relative = [0.000008, 0.0000061, -0.0000023, 0.0000049]
    return {
        "rates": [
            {
                "timestamp": f"2025-04-28T0{7 - i}:00:00.000Z",
                "fundingRate": r / 93700.0,
                "relativeFundingRate": r,
            }
            for i, r in enumerate(relative)
        ]
    }


DAILY_CLOSES = [
    "93741.6",
    "94626.3",
    "94374.2",
    "93899.8",
    "94067.3",
    "92800.0",
    "93350.5",
    "94120.0",
    "93010.0",
    "93600.0",
    "94300.0",
    "93741.6",
]
MIDNIGHT_MS = T_MS - 8 * 3600 * 1000


def _daily(close_index: int) -> int:
    return MIDNIGHT_MS - close_index * 86400000


def _binance_klines(query: Mapping[str, str]) -> Json:
    return [
        [_daily(i), c, c, c, c, "1000", _daily(i) + 86399999, "1.07", 100, "500", "0.53", "0"]
        for i, c in reversed(list(enumerate(DAILY_CLOSES)))
    ]


def _okx_candles(query: Mapping[str, str]) -> Json:
    inst_id = query.get("instId", "")
    closes = DAILY_CLOSES
    if inst_id.endswith("-USDT"):  # spot
        closes = _sol_closes() if inst_id == "SOL-USDT" else []
    return _okx(
        [[str(_daily(i)), c, c, c, c, "1000", "1.07", "1.07", "1"] for i, c in enumerate(closes)]
    )


def _deribit_chart(query: Mapping[str, str]) -> Json:
    days = list(reversed(list(enumerate(DAILY_CLOSES))))
    closes = [float(c) for _, c in days]
    return _deribit(
        {
            "ticks": [_daily(i) for i, _ in days],
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": [10.0] * len(days),
            "cost": [1000.0] * len(days),
            "status": "ok",
        }
    )


def _kraken_candles(query: Mapping[str, str]) -> Json:
    return {
        "candles": [
            {"time": _daily(i), "open": c, "high": c, "low": c, "close": c, "volume": "1000"}
            for i, c in reversed(list(enumerate(DAILY_CLOSES)))
        ],
        "more_candles": False,
    }


ROUTES: dict[str, dict[str, Route]] = {
    "bybit": {
        "/v5/market/instruments-info": _bybit_instruments,
        "/v5/market/tickers": _bybit_tickers,
        "/v5/market/funding/history": _bybit_funding_history,
        "/v5/market/kline": _bybit_kline,
        "/v5/market/risk-limit": _bybit_risk_limit,
    },
    "binancecoinm": {
        "/dapi/v1/exchangeInfo": _binance_exchange_info,
        "/dapi/v1/premiumIndex": _binance_premium_index,
        "/dapi/v1/ticker/bookTicker": _binance_book_ticker,
        "/dapi/v1/fundingRate": _binance_funding_history,
        "/dapi/v1/klines": _binance_klines,
    },
    "okx": {
        "/api/v5/public/instruments": _okx_instruments,
        "/api/v5/market/tickers": _okx_tickers,
        "/api/v5/public/mark-price": _okx_mark_prices,
        "/api/v5/market/index-tickers": _okx_index_tickers,
        "/api/v5/public/funding-rate": _okx_funding,
        "/api/v5/public/funding-rate-history": _okx_funding_history,
        "/api/v5/market/candles": _okx_candles,
        "/api/v5/public/position-tiers": _okx_position_tiers,
    },
    "deribit": {
        "/api/v2/public/get_instruments": _deribit_instruments,
        "/api/v2/public/get_book_summary_by_currency": _deribit_book_summary,
        "/api/v2/public/get_funding_rate_value": _deribit_funding_value,
        "/api/v2/public/get_funding_rate_history": _deribit_funding_history,
        "/api/v2/public/get_tradingview_chart_data": _deribit_chart,
    },
    "krakenfutures": {
        "/derivatives/api/v3/instruments": _kraken_instruments,
        "/derivatives/api/v3/tickers": _kraken_tickers,
        "/api/charts/v1/analytics/historicalfundingrates": _kraken_funding_history,
        "/derivatives/api/v4/historicalfundingrates": _kraken_funding_history,
        "/api/charts/v1/trade/PI_XBTUSD/1d": _kraken_candles,
        "/api/charts/v1/trade/PI_ETHUSD/1d": _kraken_candles,
    },
}


@dataclass
class Fault:
    """What a venue does wrong: wait `delay` seconds, answer `status`, or send garbage."""

    delay: float = 0.0
    status: int | None = None
    garbage: bool = False


@dataclass
class ExchangeReplay:
    """An aiohttp server on 127.0.0.1 answering for all five venues under /VENUE/..."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (venue, path?query)
    unknown: list[str] = field(default_factory=list)
    faults: dict[str, Fault] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None

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
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            return web.Response(
                status=fault.status,
                text="Too Many Requests" if fault.status == 429 else "Service Unavailable",
            )
        if fault.garbage:
            return web.Response(
                status=200, text="<html>cf-ray: gateway hiccup</html>", content_type="text/html"
            )
        route = ROUTES.get(venue, {}).get(path)
        if route is None:
            self.unknown.append(f"{venue} {request.method} {request.path_qs}")
            return web.json_response({"error": "not replayed"}, status=404)
        return web.Response(text=json.dumps(route(request.query)), content_type="application/json")


def point_at(exchange: Any, base_url: str) -> None:
    """Send every one of a ccxt exchange's API sections to the replay server, keeping the paths.

    The exchange's own rate limiter is turned off: it paces requests to spare a real venue (600 ms
    a request on Kraken) and would only make the loopback server wait.
    """

    def redirect(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: redirect(item) for key, item in value.items()}
        if isinstance(value, str) and value.startswith("http"):
            return base_url + urlsplit(value).path
        return value

    exchange.urls["api"] = redirect(exchange.urls["api"])
    exchange.enableRateLimit = False


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
