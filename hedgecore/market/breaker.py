"""Per-venue circuit breaker: after repeated failures, leave the venue alone for a while."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CircuitBreaker:
    """Opens after `threshold` failures in a row, for a back-off that doubles up to `max_backoff`."""

    threshold: int = 3
    base_backoff: float = 15.0
    max_backoff: float = 600.0
    failures: int = 0
    open_until: float = 0.0
    last_error: str = ""

    def allows(self, now: float) -> bool:
        """Whether a request may be sent now."""
        return now >= self.open_until

    def retry_in(self, now: float) -> float:
        """Seconds until the breaker lets requests through again."""
        return max(self.open_until - now, 0.0)

    def record_success(self) -> None:
        """A request succeeded: close the breaker."""
        self.failures = 0
        self.open_until = 0.0
        self.last_error = ""

    def record_failure(self, now: float, reason: str) -> None:
        """A request failed: count it, and open the breaker once failures repeat."""
        self.failures += 1
        self.last_error = reason
        if self.failures >= self.threshold:
            backoff = self.base_backoff * 2 ** (self.failures - self.threshold)
            self.open_until = now + min(backoff, self.max_backoff)
