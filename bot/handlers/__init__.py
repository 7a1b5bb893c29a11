"""Handlers, one module per feature, each declaring its COMMANDS and a `register(app)`.

The order of FEATURES is the order of registration and of the commands in /help and the menu;
the gate runs before every other group and the fallbacks must come after every command.
"""

from bot.context import HedgeApp
from bot.handlers import (
    admin,
    alerts,
    backtest,
    basis,
    calculator,
    charts,
    errors,
    fallback,
    funding,
    gate,
    hedge,
    risk,
    settings,
    start,
    tracking,
)
from bot.services import MenuEntry

FEATURES = (
    hedge,
    risk,
    funding,
    basis,
    settings,
    charts,
    calculator,
    backtest,
    alerts,
    tracking,
    start,
    admin,
)


def menu(calculator_set_up: bool = True) -> tuple[MenuEntry, ...]:
    """The listed commands as (name, what it does, example), in the order users see them; /app
    only where the calculator is set up."""
    return tuple(
        (command.name, command.what, command.example)
        for feature in FEATURES
        for command in feature.COMMANDS
        if command.listed and (calculator_set_up or feature is not calculator)
    )


def command_names() -> frozenset[str]:
    """Every command the bot answers, aliases and unlisted ones included."""
    return frozenset(
        name
        for feature in FEATURES
        for command in feature.COMMANDS
        for name in (command.name, *command.aliases)
    )


def register_all(app: HedgeApp) -> None:
    """Register the gate, every feature's handlers, the fallbacks, then the error handler."""
    gate.register(app)
    for feature in FEATURES:
        feature.register(app)
    fallback.register(app)
    errors.register(app)
