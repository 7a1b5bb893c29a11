"""`hedgebot`: load settings, configure logging, build the application and run it."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.logs import configure_logging, redact

if TYPE_CHECKING:  # pydantic loads after the command line: --help needs none of it
    from bot.settings import BotSettings

REFUSED_TOKEN = (
    "Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): copy the token again from @BotFather"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where updates come from."""
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
    parser.add_argument(
        "--pictures",
        type=Path,
        metavar="DIR",
        help="where the terminal chat saves charts (default: ~/.cache/hedgebot/pictures)",
    )
    parser.add_argument(
        "--webhook",
        metavar="URL",
        help="receive updates at this public https URL instead of polling",
    )
    role = parser.add_mutually_exclusive_group()
    role.add_argument(
        "--worker",
        action="store_true",
        help="with --webhook: serve updates only, one of several; a --scheduler sends the alerts",
    )
    role.add_argument(
        "--scheduler",
        action="store_true",
        help="run the alert cycles and send alerts only; one of several leads, the rest stand by",
    )
    commands = parser.add_subparsers(dest="command", metavar="db")
    db = commands.add_parser("db", help="the database: db migrate-to URL")
    db_commands = db.add_subparsers(dest="db_command", metavar="migrate-to", required=True)
    migrate = db_commands.add_parser(
        "migrate-to", help="copy the SQLite database (HEDGEBOT_DB) into an empty PostgreSQL one"
    )
    migrate.add_argument("url", metavar="URL", help="postgresql://USER@HOST:PORT/DATABASE")
    return parser.parse_args(argv)


def migrate_database(source: Path | str, url: str) -> int:
    """`hedgebot db migrate-to URL`: copy the SQLite database into PostgreSQL; exit status."""
    from bot.settings import POSTGRES_SCHEMES
    from bot.store import StoreUnavailable
    from bot.store.copy import migrate_to

    if not isinstance(source, Path):
        print(
            "hedgebot: HEDGEBOT_DB is already a PostgreSQL URL: nothing to migrate", file=sys.stderr
        )
        return 2
    if not url.startswith(POSTGRES_SCHEMES):
        print(
            "hedgebot: migrate-to takes a PostgreSQL URL, e.g. postgresql://hedgebot@127.0.0.1:5432/hedgebot",
            file=sys.stderr,
        )
        return 2
    try:
        counts = asyncio.run(migrate_to(source, url))
    except (StoreUnavailable, FileNotFoundError) as exc:
        print(f"hedgebot: {exc}", file=sys.stderr)
        return 1
    copied = ", ".join(f"{count:,} {name}" for name, count in counts.items())
    print(f"hedgebot: {source} copied into PostgreSQL: {copied}")
    return 0


def role_problem(args: argparse.Namespace, settings: BotSettings, console: bool) -> str | None:
    """Why `--worker` or `--scheduler` cannot run as asked, in one line; None if it can."""
    if not (args.worker or args.scheduler):
        return None
    flag = "--worker" if args.worker else "--scheduler"
    if console:
        return f"{flag} runs beside other processes on Telegram: set TELEGRAM_BOT_TOKEN and drop --console (the terminal chat is one process)"
    if isinstance(settings.db, Path):
        return f"{flag} shares a PostgreSQL database with the others: set HEDGEBOT_DB to a postgresql:// URL"
    if args.worker and args.webhook is None:
        return "--worker serves webhook updates: add --webhook https://bot.example.com/telegram (polling is one process)"
    if args.scheduler and args.webhook is not None:
        return "--scheduler serves no updates: drop --webhook (run workers with --webhook URL --worker)"
    if args.worker and settings.redis_url is None:
        return "--worker shares the market cache and flood control through Redis: set HEDGEBOT_REDIS_URL"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the bot; returns the exit status."""
    args = parse_args(argv)
    # Settings (pydantic and the domain models) load after the arguments: --help needs neither.
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"hedgebot: {exc}", file=sys.stderr)
        return 2
    if args.command == "db":
        return migrate_database(settings.db, args.url)
    if args.snapshot is not None:
        try:  # a mistyped argument is a usage error, as in hedgecore
            args.snapshot.open("rb").close()
        except OSError as exc:
            print(
                f"hedgebot: cannot read snapshot {args.snapshot}: {exc.strerror}", file=sys.stderr
            )
            return 2
        settings = settings.model_copy(update={"snapshot": args.snapshot})
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    # PTB, ccxt and matplotlib take a second to import: only once the command line and the
    # settings are known good, so that --help and a bad setting answer at once.
    from telegram.error import InvalidToken, TelegramError

    from bot.app import Role, build_application, check_token
    from bot.console import run_console
    from bot.polling import run_polling
    from bot.serving import run_scheduler
    from bot.store import StoreUnavailable
    from bot.webhook import run_webhook
    from hedgecore.errors import DataUnavailable

    console = token is None or args.console
    problem = role_problem(args, settings, console)
    if problem is not None:
        print(f"hedgebot: {problem}", file=sys.stderr)
        return 2
    if not console and args.webhook is not None and not args.webhook.startswith("https://"):
        print(
            "hedgebot: --webhook needs the public https URL Telegram will call, e.g. https://bot.example.com/telegram",
            file=sys.stderr,
        )
        return 2
    if console:
        # Venue failures are in the replies' notes: only errors are worth a log line here.
        configure_logging("ERROR", token)
    else:
        configure_logging(settings.log_level, token, json_lines=settings.log_format == "json")
    role = Role.WORKER if args.worker else Role.SCHEDULER if args.scheduler else Role.BOTH
    polling = role is not Role.SCHEDULER and args.webhook is None
    app = None if console else build_application(settings, role=role, polling=polling)
    try:
        if app is None:
            asyncio.run(run_console(settings, pictures=args.pictures))
        else:
            assert token is not None  # not the console: there is a token
            asyncio.run(check_token(token, settings.telegram_base_url))
            if role is Role.SCHEDULER:
                asyncio.run(run_scheduler(app))
            elif args.webhook:
                asyncio.run(
                    run_webhook(app, args.webhook, settings.webhook_listen, settings.webhook_port)
                )
            else:
                asyncio.run(run_polling(app))
    except InvalidToken:
        failure, status = REFUSED_TOKEN, 2
    except (StoreUnavailable, DataUnavailable) as exc:
        failure, status = str(exc), 1
    except TelegramError as exc:
        # PTB's messages may quote the token (InvalidToken does): redact before printing.
        failure, status = f"Telegram failed: {redact(str(exc), token or '')}", 1
    else:
        return 0
    if app is not None:
        # A start-up that failed before PTB was initialised leaves our HTTP sessions open.
        asyncio.run(app.bot_data.close_transports())
    print(f"hedgebot: {failure}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
