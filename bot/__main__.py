"""`hedgebot`: load settings, configure logging, build the application and run it."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.app import build_application
from bot.console import run_console
from bot.logs import configure_logging
from bot.settings import BotSettings, SettingsError, load_settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="hedgebot", description="Run HedgeBot on Telegram, or in the terminal without a token."
    )
    parser.add_argument(
        "--console", action="store_true", help="chat in the terminal even if a token is set"
    )
    parser.add_argument(
        "--snapshot",
        type=Path,
        metavar="FILE",
        help="answer from a recorded snapshot (HEDGEBOT_SNAPSHOT)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the bot; returns the exit status."""
    args = parse_args(argv)
    try:
        settings: BotSettings = load_settings()
    except SettingsError as exc:
        print(f"hedgebot: {exc}", file=sys.stderr)
        return 2
    if args.snapshot is not None:
        settings = settings.model_copy(update={"snapshot": args.snapshot})
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    configure_logging(settings.log_level if token and not args.console else "WARNING", token)
    if token is None or args.console:
        asyncio.run(run_console(settings))
        return 0
    build_application(settings).run_polling(
        allowed_updates=["message", "edited_message", "callback_query"]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
