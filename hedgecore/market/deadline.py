"""One deadline per reply across all of its venue requests.

Each request to a venue has its own timeout (8 s in production), but a reply may need several
in turn (markets, then quotes, then funding history); a hanging venue would cost it each of
them. Within `reply_deadline`, the market service stops waiting for a venue once the reply's
time is spent: the venue drops out of that answer with a note, its requests go on in the
background and fill the cache for the next reply.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

REPLY_DEADLINE_S = 4.0  # the default: long enough for a venue that answers, short for a user


@dataclass(frozen=True)
class Deadline:
    """When a reply must be answered by (the event loop's clock), and the seconds it was given."""

    at: float
    seconds: float


# A context variable reaches every task the reply starts (asyncio.gather copies the context).
_current: ContextVar[Deadline | None] = ContextVar("reply_deadline", default=None)


@contextlib.contextmanager
def reply_deadline(seconds: float) -> Iterator[None]:
    """Venue requests made within the block stop being waited for `seconds` from now.

    A deadline already running (a reply asking several questions) is kept.
    """
    if _current.get() is not None:
        yield
        return
    token = _current.set(Deadline(asyncio.get_running_loop().time() + seconds, seconds))
    try:
        yield
    finally:
        _current.reset(token)


def current_deadline() -> Deadline | None:
    """The deadline of the reply being answered, if any."""
    return _current.get()
