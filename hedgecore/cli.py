"""The `hedgecore` command line: `hedgecore plan QTY COIN ...` and `hedgecore snapshot record FILE`.

With `--price` `plan` is an offline calculator: the contract is described by the options (or by
the venue's published specs) and nothing touches the network. Without it, `plan` uses live market
data from every venue (or `--snapshot FILE`), and the bundled demo snapshot when no venue answers.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from hedgecore import fmt, inputs
from hedgecore.answers import HedgeQuestion, HedgeResult
from hedgecore.backtest import Bar, run_backtest
from hedgecore.calculator import ContractFigures, calculate
from hedgecore.comparison import DEFAULT_SPREAD_8H, compare_venues
from hedgecore.desk import Desk
from hedgecore.errors import DataUnavailable, HedgeCoreError, InvalidInput
from hedgecore.history import (
    VENUE_TABLE_NOTE,
    Columns,
    is_venue_table,
    parse_history,
    parse_venue_histories,
)
from hedgecore.models import DataSource, Holding, PlanSettings
from hedgecore.payoff import payoff_curve
from hedgecore.report import (
    hedge_json,
    render_backtest,
    render_comparison,
    render_hedge,
    render_risk,
)
from hedgecore.venues import VENUES, venue_by_name

T = TypeVar("T")
DEFAULTS = PlanSettings()  # the bot's defaults too: one place for both
EXAMPLE = "hedgecore plan 1.2 BTC --price 60000 --contract-size 1"


class UsageError(Exception):
    """The command line cannot be run as typed; the message says how to fix it."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Let '-0.02%' be a funding rate rather than an unknown option.
        self._negative_number_matcher = re.compile(r"^-(\d+[.,]?\d*|[.,]\d+)%?$")

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}. Example: {EXAMPLE}")


def _typed(parse: Callable[[str], object], usage: str) -> Callable[[str], object]:
    """An argparse type that reports hedgecore's own message, with `usage` as the example's frame."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except InvalidInput as exc:
            raise UsageError(f"{exc.problem}. Example: {usage.format(exc.example)}") from None

    convert.__name__ = parse.__name__
    return convert


def _add_plan_arguments(plan: argparse.ArgumentParser) -> None:
    """The arguments that describe a hedge: shared by `plan` and `chart payoff`."""
    plan.add_argument(
        "quantity",
        type=_typed(inputs.parse_quantity, "hedgecore plan {} BTC --price 60000"),
        help="coins held, e.g. 1.2",
    )
    plan.add_argument(
        "coin",
        type=_typed(inputs.parse_coin, "hedgecore plan 1.2 {} --price 60000"),
        help="coin ticker, e.g. BTC",
    )
    plan.add_argument(
        "--venue",
        type=_typed(venue_by_name, "--venue {}"),
        help="bybit, binance, okx, deribit or kraken",
    )
    plan.add_argument(
        "--price",
        type=_typed(inputs.parse_price, "--price {}"),
        help="spot/perpetual price in USD: offline calculator",
    )
    plan.add_argument(
        "--leverage",
        type=_typed(inputs.parse_leverage, "--leverage {}"),
        default=DEFAULTS.leverage,
        help=f"1 to 125 (default {fmt.leverage(DEFAULTS.leverage)})",
    )
    plan.add_argument(
        "--ratio",
        type=_typed(inputs.parse_hedge_ratio, "--ratio {}"),
        default=DEFAULTS.hedge_ratio,
        help=f"share to hedge, 0.5 or 50%% (default {DEFAULTS.hedge_ratio * 100:.0f}%%)",
    )
    plan.add_argument(
        "--mmr",
        type=_typed(inputs.parse_mmr, "--mmr {}"),
        help="maintenance margin rate, 0.5%% or 0.005",
    )
    plan.add_argument(
        "--contract-size",
        type=_typed(inputs.parse_contract_size, "--contract-size {}"),
        help="USD per contract",
    )
    plan.add_argument(
        "--taker-fee",
        type=_typed(inputs.parse_fee_rate, "--taker-fee {}"),
        help="taker fee rate, 0.05%% or 0.0005",
    )
    plan.add_argument(
        "--funding-rate",
        type=_typed(inputs.parse_funding_rate, "--funding-rate {}"),
        help="per interval, 0.01%% or 0.0001; positive: longs pay shorts",
    )
    plan.add_argument(
        "--funding-interval-hours",
        type=_typed(inputs.parse_interval_hours, "--funding-interval-hours {}"),
        help="hours between funding times (default 8)",
    )
    plan.add_argument(
        "--futures-price",
        type=_typed(inputs.parse_price, "--futures-price {}"),
        help="price of a dated future to compare",
    )
    plan.add_argument(
        "--expiry",
        type=_typed(inputs.parse_date, "--expiry {}"),
        help="its expiry, YYYY-MM-DD (settles 08:00 UTC)",
    )
    plan.add_argument(
        "--horizon-days",
        type=_typed(inputs.parse_days, "--horizon-days {}"),
        default=DEFAULTS.horizon_days,
        help=f"carry horizon for ranking (default {DEFAULTS.horizon_days})",
    )
    plan.add_argument(
        "--snapshot",
        type=Path,
        metavar="FILE",
        help="plan from a recorded snapshot instead of live data",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `hedgecore` command."""
    parser = _Parser(
        prog="hedgecore", description="Hedge spot crypto with inverse futures.", allow_abbrev=False
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = commands.add_parser(
        "plan",
        help="plan a hedge of QTY COIN",
        description="Plan a hedge: which contract, how many to short, margin, liquidation, funding.",
        allow_abbrev=False,
    )
    _add_plan_arguments(plan)
    plan.add_argument("--json", action="store_true", help="print one JSON object")
    snapshot = commands.add_parser(
        "snapshot", help="record market data to a file", allow_abbrev=False
    )
    actions = snapshot.add_subparsers(dest="action", required=True, parser_class=_Parser)
    record = actions.add_parser(
        "record",
        help="record what the live venues return into FILE",
        description="Record markets, quotes, funding, funding history and daily prices into one JSON file.",
        allow_abbrev=False,
    )
    record.add_argument("file", type=Path, metavar="FILE")
    record.add_argument(
        "--coins",
        type=_typed(inputs.parse_coin_list, "--coins {}"),
        help="only these coins, e.g. BTC,ETH (default: all)",
    )
    record.add_argument(
        "--venue",
        type=_typed(venue_by_name, "--venue {}"),
        help="only this venue",
    )
    backtest = commands.add_parser(
        "backtest",
        help="replay price and funding history through hedging strategies",
        description="Compare unhedged, inverse shorts at several leverages, the 1x short with its "
        "funding re-hedged, rolling quarterlies (with --dated-col) and a rolling "
        "minimum-variance ratio on a CSV history.",
        allow_abbrev=False,
    )
    backtest.add_argument(
        "csv", type=Path, metavar="CSV", help="history, one row per bar (gzipped: .csv.gz)"
    )
    backtest.add_argument("--coin", type=_typed(inputs.parse_coin, "--coin {}"), default="BTC")
    backtest.add_argument(
        "--quantity", type=_typed(inputs.parse_quantity, "--quantity {}"), default=Decimal(1)
    )
    backtest.add_argument(
        "--time-col", default="Timestamp", help="time column (ISO-8601 or epoch ms)"
    )
    backtest.add_argument("--spot-col", default="Close_spot", help="spot or index close column")
    backtest.add_argument(
        "--perp-col", default="Close_futures", help="perpetual close column ('': trades at spot)"
    )
    backtest.add_argument(
        "--high-col",
        default="High_futures",
        help="perpetual high column, for liquidations ('': the close)",
    )
    backtest.add_argument(
        "--funding-col", default="Funding Rate", help="funding per bar column ('': none)"
    )
    backtest.add_argument(
        "--dated-col",
        help="front quarterly future's close column: adds the rolling quarterly short "
        "(needs --expiry-col)",
    )
    backtest.add_argument(
        "--expiry-col",
        help="that future's expiry column (ISO-8601 or epoch ms): a change is a roll",
    )
    backtest.add_argument(
        "--venue",
        type=_typed(venue_by_name, "--venue {}"),
        help="in a table of several venues: backtest this venue's perpetual (with --coin)",
    )
    backtest.add_argument(
        "--spread",
        type=_typed(inputs.parse_funding_rate, "--spread {}"),
        default=DEFAULT_SPREAD_8H,
        help="in a table of several venues: replay /alert COIN spread at this rate per 8h "
        f"(default {(DEFAULT_SPREAD_8H * 100).normalize():f}%%)",
    )
    backtest.add_argument("--json", action="store_true", help="print one JSON object")
    backtest.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="also draw each strategy's USD value over time",
    )
    risk = commands.add_parser(
        "risk",
        help="which holdings carry the risk, and which to hedge first",
        description="Each holding's volatility, value at risk, drawdown, correlation with BTC "
        "and share of the portfolio's risk, from 90 days of daily closes.",
        allow_abbrev=False,
    )
    risk.add_argument(
        "holdings", nargs="+", metavar="QTY COIN", help="what you hold, e.g. 1.2 BTC 10 ETH"
    )
    risk.add_argument("--json", action="store_true", help="print one JSON object")
    risk.add_argument(
        "--snapshot", type=Path, metavar="FILE", help="from a recorded snapshot, not live data"
    )
    chart = commands.add_parser(
        "chart", help="draw a payoff or funding chart as PNG", allow_abbrev=False
    )
    kinds = chart.add_subparsers(dest="chart", required=True, parser_class=_Parser)
    payoff = kinds.add_parser(
        "payoff",
        help="USD value of QTY COIN across prices, unhedged and hedged",
        description="Draw what the planned hedge is worth from half to double today's price.",
        allow_abbrev=False,
    )
    _add_plan_arguments(payoff)
    funding = kinds.add_parser(
        "funding",
        help="the last 30 days of funding per venue",
        description="Draw each venue's funding over the last 30 days, a year, as a short sees it.",
        allow_abbrev=False,
    )
    funding.add_argument(
        "coin",
        type=_typed(inputs.parse_coin, "hedgecore chart funding {} --out f.png"),
        help="coin ticker, e.g. BTC",
    )
    funding.add_argument(
        "--snapshot",
        type=Path,
        metavar="FILE",
        help="from a recorded snapshot instead of live data",
    )
    for command in (plan, record, backtest, risk, payoff, funding):
        command.add_argument(
            "--verbose", action="store_true", help="log what the venues answer, on stderr"
        )
    for drawing in (payoff, funding):
        drawing.add_argument(
            "--out", type=Path, metavar="FILE.png", required=True, help="where to write the PNG"
        )
    return parser


def _check_combinations(args: argparse.Namespace) -> None:
    if (args.futures_price is None) != (args.expiry is None):
        raise UsageError(
            "--futures-price and --expiry go together. Example: hedgecore plan 1.2 BTC --price 60000 --futures-price 61500 --expiry 2027-03-26"
        )
    calculator_only = (
        "contract_size",
        "mmr",
        "taker_fee",
        "funding_rate",
        "funding_interval_hours",
        "futures_price",
    )
    given = [name for name in calculator_only if getattr(args, name) is not None]
    if args.price is None and given:
        flag = "--" + given[0].replace("_", "-")
        raise UsageError(
            f"{flag} describes a contract for the offline calculator, which needs --price. Example: {EXAMPLE}"
        )


def _figures(args: argparse.Namespace) -> ContractFigures:
    """The calculator's contract as the options describe it."""
    return ContractFigures(
        price=args.price,
        venue=args.venue,
        contract_size_usd=args.contract_size,
        maintenance_margin_rate=args.mmr,
        taker_fee_rate=args.taker_fee,
        funding_rate=args.funding_rate,
        funding_interval_hours=args.funding_interval_hours,
        futures_price=args.futures_price,
        expiry=args.expiry,
    )


def _ask_desk(args: argparse.Namespace, ask: Callable[[Desk], Awaitable[T]]) -> T:
    """Open the desk on --snapshot or the live venues, ask it, and close it."""

    async def run() -> T:
        venues = [args.venue.id] if getattr(args, "venue", None) else list(VENUES)
        desk = Desk.open(venues, args.snapshot)
        try:
            return await ask(desk)
        finally:
            await desk.close()

    return asyncio.run(run())


def _hedge(args: argparse.Namespace, now: datetime) -> HedgeResult:
    """The answer to the hedge the arguments describe: offline with --price, else from the desk."""
    _check_combinations(args)
    question = HedgeQuestion(
        holdings=(Holding(coin=args.coin, quantity=args.quantity),),
        settings=PlanSettings(
            hedge_ratio=args.ratio, leverage=args.leverage, horizon_days=args.horizon_days
        ),
        venues=(args.venue.id,) if args.venue else None,
    )
    if args.price is not None:
        return calculate(question, _figures(args), now)
    return _ask_desk(args, lambda desk: desk.hedge(question))


def run_plan(args: argparse.Namespace, now: datetime) -> str:
    """Plan the hedge the arguments describe and return what to print."""
    result = _hedge(args, now)
    if args.json:
        return json.dumps(hedge_json(result), indent=2)
    return render_hedge(result)


def run_snapshot_record(args: argparse.Namespace, now: datetime) -> str:
    """Record what the live venues return into a snapshot file."""
    from hedgecore.market import commands  # ccxt takes a second to import: only when used

    venues = [args.venue.id] if args.venue else list(VENUES)
    return commands.record(args.file, venues, args.coins, now)


def run_chart(args: argparse.Namespace, now: datetime) -> str:
    """Draw the chart the arguments ask for into --out; returns what to print."""
    from hedgecore.charts.draw import funding_png, payoff_png  # matplotlib is slow to import

    if args.chart == "payoff":
        result = _hedge(args, now)
        png = payoff_png(payoff_curve(result.plans[0].plan))
        label = result.data_label
    else:
        history = _ask_desk(args, lambda desk: desk.funding_history(args.coin))
        png = funding_png(args.coin, history.lines, history.as_of)
        label = f"funding history to {fmt.utc(history.as_of)}"
        if history.source is DataSource.DEMO:
            label = f"{history.data_label}; {label}"
    try:
        args.out.write_bytes(png)
    except OSError as exc:
        raise UsageError(
            f"cannot write {args.out}: {exc.strerror}. Example: --out chart.png"
        ) from None
    return f"Wrote {args.out} ({label})"


def _holdings(tokens: Sequence[str]) -> list[Holding]:
    """QTY COIN pairs, each coin once."""
    example = "Example: hedgecore risk 1.2 BTC 10 ETH"
    if len(tokens) % 2:
        raise UsageError(f"give each holding as a quantity and a coin. {example}")
    holdings: dict[str, Holding] = {}
    for quantity, coin in zip(tokens[::2], tokens[1::2], strict=True):
        holding = Holding(coin=inputs.parse_coin(coin), quantity=inputs.parse_quantity(quantity))
        if holding.coin in holdings:
            raise UsageError(f"{holding.coin} appears twice; give each coin once. {example}")
        holdings[holding.coin] = holding
    return list(holdings.values())


def run_risk(args: argparse.Namespace, now: datetime) -> str:
    """Step 1: the portfolio's risk, holding by holding, and what to hedge first."""
    holdings = _holdings(args.holdings)
    answer = _ask_desk(args, lambda desk: desk.risk(holdings))
    if args.json:
        return json.dumps(answer.model_dump(mode="json"), indent=2)
    return render_risk(answer)


def run_backtest_command(args: argparse.Namespace, now: datetime) -> str:
    """Replay the history file through the strategies; returns the table or JSON.

    A table of several venues (exchange, crypto, contract columns) is compared venue by venue,
    or with --venue backtested for that venue and --coin.
    """
    try:
        raw = args.csv.read_bytes()
        lines = (gzip.decompress(raw) if args.csv.suffix == ".gz" else raw).decode().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not a text file"
        raise UsageError(
            f"cannot read {args.csv}: {why}. Example: hedgecore backtest history.csv"
        ) from None
    if is_venue_table(next(csv.reader(lines[:1]), [])):
        return _venue_table_backtest(args, lines)
    if args.venue is not None:
        raise UsageError(
            f"{args.csv} holds one history, not several venues: --venue reads a table with "
            "exchange and crypto columns. Example: hedgecore backtest coinm.csv --venue okx"
        )
    columns = Columns(
        time=args.time_col,
        spot=args.spot_col,
        perp=args.perp_col or None,
        perp_high=args.high_col or None,
        funding=args.funding_col or None,
        dated=args.dated_col or None,
        dated_expiry=args.expiry_col or None,
    )
    if (columns.dated is None) != (columns.dated_expiry is None):
        raise UsageError(
            "--dated-col and --expiry-col go together. Example: --dated-col Close_quarterly "
            "--expiry-col Expiry"
        )
    try:
        bars, problems = parse_history(lines, columns)
    except ValueError as exc:
        raise UsageError(f"{args.csv}: {exc}. Example: --spot-col Close") from None
    return _backtest_report(args, args.coin, bars, problems)


def _venue_table_backtest(args: argparse.Namespace, lines: list[str]) -> str:
    histories, problems = parse_venue_histories(lines)
    if args.venue is None:
        if args.plot is not None:
            raise UsageError(
                "--plot draws one venue's history. Example: --venue okx --coin ETH --plot eth.png"
            )
        if args.spread <= 0:
            raise UsageError("--spread must be more than zero. Example: --spread 0.02%")
        comparison = compare_venues(histories, args.spread)
        if args.json:
            return json.dumps({**comparison.model_dump(mode="json"), "notes": problems}, indent=2)
        return render_comparison(comparison, problems)
    history = histories.get((args.venue.id, args.coin))
    if history is None:
        held = ", ".join(f"{coin} on {venue}" for venue, coin in sorted(histories))
        raise UsageError(
            f"{args.csv} has no {args.coin} on {args.venue.name}; it has {held or 'nothing'}. "
            "Example: --venue okx --coin ETH"
        )
    notes = [*problems, VENUE_TABLE_NOTE]
    return _backtest_report(args, args.coin, list(history.bars), notes)


def _backtest_report(
    args: argparse.Namespace, coin: str, bars: list[Bar], problems: Sequence[str]
) -> str:
    if len(bars) < 3:
        raise UsageError(f"{args.csv} has {len(bars)} usable rows; a backtest needs at least 3")
    report = run_backtest(coin, bars, quantity=float(args.quantity))
    notes = [*problems, *report.notes]
    if args.plot is not None:
        from hedgecore.charts.draw import backtest_png  # matplotlib is slow to import

        try:
            args.plot.write_bytes(backtest_png(report, args.csv.name))
        except OSError as exc:
            raise UsageError(
                f"cannot write {args.plot}: {exc.strerror}. Example: --plot backtest.png"
            ) from None
        notes.append(f"Value paths drawn to {args.plot}.")
    if args.json:
        return json.dumps({**report.model_dump(mode="json"), "notes": notes}, indent=2)
    return render_backtest(report, notes)


def _configure_logging(verbose: bool) -> None:
    """Log lines on stderr only when asked: otherwise stderr carries one line or nothing."""
    root = logging.getLogger()
    if root.handlers:  # set up already (a test, or a program calling main)
        return
    if verbose:
        logging.basicConfig(level=logging.INFO, format="hedgecore: %(name)s: %(message)s")
    else:
        root.addHandler(logging.NullHandler())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `hedgecore` command; returns the process exit status."""
    now = datetime.now(UTC)
    try:
        args = build_parser().parse_args(argv)
        _configure_logging(args.verbose)
        run = {
            "plan": run_plan,
            "snapshot": run_snapshot_record,
            "chart": run_chart,
            "backtest": run_backtest_command,
            "risk": run_risk,
        }[args.command]
        output = run(args, now)
    except (UsageError, InvalidInput) as exc:
        print(f"hedgecore: {exc}", file=sys.stderr)
        return 2
    except DataUnavailable as exc:
        print(f"hedgecore: {exc}", file=sys.stderr)
        return 1
    except HedgeCoreError as exc:
        print(f"hedgecore: {exc}. Example: {EXAMPLE}", file=sys.stderr)
        return 2
    print(output.rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
