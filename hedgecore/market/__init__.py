"""hedgecore.market: the only code that talks to exchanges (ccxt, public endpoints only).

Feeds return ccxt's unified structures, live or from a recorded snapshot; `normalise` turns them
into hedgecore models; `MarketService` puts a cache, a circuit breaker and per-venue failure
isolation in front of the feeds.
"""
