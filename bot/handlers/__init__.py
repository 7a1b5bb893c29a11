"""Handlers, one module per feature, each with `register(app)`; registered in this order."""

from telegram.ext import Application

from bot.handlers import (
    admin,
    alerts,
    backtest,
    basis,
    charts,
    errors,
    fallback,
    funding,
    gate,
    hedge,
    settings,
    start,
)

FEATURES = (gate, start, hedge, charts, backtest, funding, basis, settings, alerts, admin, fallback)


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    """Register every feature's handlers, then the error handler."""
    for feature in FEATURES:
        feature.register(app)
    errors.register(app)
