"""ccxt's errors, translated at the boundary into plain words a user can read."""

from __future__ import annotations

import asyncio
import sys

from hedgecore.errors import HedgeCoreError
from hedgecore.market.normalise import InvalidMarketData


class VenueUnavailable(HedgeCoreError):
    """A venue could not answer; `reason` says why in plain words."""

    def __init__(self, venue: str, reason: str) -> None:
        super().__init__(f"{venue}: {reason}")
        self.venue = venue
        self.reason = reason


def describe_failure(exc: BaseException) -> str:
    """Why a request to a venue failed, in a few plain words."""
    # ccxt is loaded only by the live feed; an error from it means it is loaded, and without it
    # (a snapshot, the demo) no error can be one of its own.
    ccxt = sys.modules.get("ccxt")
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if ccxt is None:
        return _plain_failure(exc)
    # Order matters: ccxt's timeout and maintenance errors are subclasses of broader ones.
    if isinstance(exc, ccxt.RequestTimeout):
        return "timed out"
    # OKX's 429 arrives as ExchangeNotAvailable; the status code is still in the message.
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection) or " 429 " in str(exc):
        return "is rate-limiting us"
    if isinstance(exc, ccxt.OnMaintenance):
        return "is under maintenance"
    if isinstance(exc, ccxt.ExchangeNotAvailable):
        return "is unavailable"
    if isinstance(exc, ccxt.NetworkError):
        return "could not be reached"
    if isinstance(exc, ccxt.BadSymbol):
        return "does not list that contract"
    if isinstance(exc, ccxt.BaseError):
        return "answered with an error"
    return _plain_failure(exc)


def _plain_failure(exc: BaseException) -> str:
    """Why a request failed, for an error that is not ccxt's."""
    if isinstance(exc, InvalidMarketData):
        return f"sent data we could not use ({exc})"
    if isinstance(exc, VenueUnavailable):
        return exc.reason
    if " 429 " in str(exc):
        return "is rate-limiting us"
    return f"failed unexpectedly ({type(exc).__name__})"
