"""Typed errors raised by hedgecore, each with a message a user can act on."""


class HedgeCoreError(Exception):
    """Base of every error hedgecore raises on purpose."""


class InvalidInput(HedgeCoreError):
    """A value typed by a user is not acceptable; the message names it and shows a correct example."""

    def __init__(self, problem: str, example: str) -> None:
        super().__init__(f"{problem}. Example: {example}")
        self.problem = problem
        self.example = example


class Refused(HedgeCoreError):
    """A request a product rule refuses; the message says what to do instead."""


class PlanningError(HedgeCoreError):
    """A hedge cannot be planned from the contracts and data given."""


class NoMarketData(PlanningError):
    """Every venue asked failed: there is no market data to answer with."""


class DataUnavailable(HedgeCoreError):
    """Market data could not be had: no venue answered, or a snapshot cannot be read."""
