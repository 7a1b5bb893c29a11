"""The `hedgecore` command line: `hedgecore plan QTY COIN ...` and `hedgecore snapshot record FILE`.

With `--price` `plan` is an offline calculator: the contract is described by the options (or by
the venue's published specs) and nothing touches the network. Without it, `plan` uses live market
data from every venue (or `--snapshot FILE`), and the bundled demo snapshot when no venue answers.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from hedgecore import fmt, inputs
from hedgecore.backtest import run_backtest
from hedgecore.errors import DataUnavailable, HedgeCoreError, InvalidInput
from hedgecore.history import Columns, parse_history
from hedgecore.models import (
    Contract,
    ContractKind,
    DataSource,
    FundingQuote,
    HedgePlan,
    Holding,
    LeverageRow,
    MarketContract,
    PlanSettings,
    Quote,
)
from hedgecore.payoff import payoff_curve
from hedgecore.planning import leverage_table, plan_hedge
from hedgecore.report import plan_json, render_backtest, render_plan
from hedgecore.venues import VENUES, VenueSpec, venue_by_name

EXAMPLE = "hedgecore plan 1.2 BTC --price 60000 --contract-size 1"
CALCULATOR_VENUE = "your venue"  # the label of a contract described only by options
DEFAULT_TAKER_FEE_RATE = Decimal("0.0005")
DEFAULT_MMR = Decimal("0.005")
DEFAULT_CONTRACT_SIZE_USD = Decimal(1)
DEFAULT_FUNDING_INTERVAL_HOURS = Decimal(8)
EXPIRY_TIME_UTC = time(8, 0, tzinfo=UTC)  # Binance, Bybit, OKX and Deribit settle at 08:00 UTC


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
        default=Decimal(1),
        help="1 to 125 (default 1)",
    )
    plan.add_argument(
        "--ratio",
        type=_typed(inputs.parse_hedge_ratio, "--ratio {}"),
        default=Decimal(1),
        help="share to hedge, 0.5 or 50%% (default 100%%)",
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
        default=30,
        help="carry horizon for ranking (default 30)",
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
        description="Compare unhedged, inverse shorts at several leverages and a rolling minimum-variance ratio on a CSV history.",
        allow_abbrev=False,
    )
    backtest.add_argument("csv", type=Path, metavar="CSV", help="history, one row per bar")
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
    backtest.add_argument("--json", action="store_true", help="print one JSON object")
    backtest.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="also draw each strategy's USD value over time",
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
    for drawing in (payoff, funding):
        drawing.add_argument(
            "--out", type=Path, metavar="FILE.png", required=True, help="where to write the PNG"
        )
    return parser


def _calculator_markets(
    args: argparse.Namespace, now: datetime
) -> tuple[list[MarketContract], list[str]]:
    """Contracts described by the options, and a note for every figure that was assumed."""
    coin: str = args.coin
    venue: VenueSpec | None = args.venue
    assumed: list[str] = []
    venue_id = venue.id if venue else CALCULATOR_VENUE
    where = f"{venue.name}'s published" if venue else "an assumed"

    contract_size = args.contract_size
    if contract_size is None:
        contract_size = (
            venue.published_contract_size_usd(coin) if venue else DEFAULT_CONTRACT_SIZE_USD
        )
        assumed.append(
            f"Contract size {contract_size} USD is {where} figure; pass --contract-size to set it."
        )
    mmr = args.mmr
    if mmr is None:
        mmr = venue.btc_maintenance_margin_rate if venue and coin == "BTC" else DEFAULT_MMR
        assumed.append(f"Maintenance margin rate {mmr * 100:f}% is assumed; pass --mmr to set it.")
    taker_fee = args.taker_fee
    if taker_fee is None:
        taker_fee = venue.taker_fee_rate if venue else DEFAULT_TAKER_FEE_RATE
        assumed.append(
            f"Taker fee {taker_fee * 100:f}% is {where} figure; pass --taker-fee to set it."
        )
    interval = args.funding_interval_hours
    if interval is None:
        interval = venue.funding_interval_hours if venue else DEFAULT_FUNDING_INTERVAL_HOURS
    if args.funding_rate is None:
        assumed.append("Funding unknown: pass --funding-rate to see what the hedge earns or pays.")

    def market(
        symbol: str, kind: ContractKind, expiry: datetime | None, price: Decimal
    ) -> MarketContract:
        contract = Contract(
            venue=venue_id,
            symbol=symbol,
            coin=coin,
            kind=kind,
            expiry=expiry,
            contract_size_usd=contract_size,
            taker_fee_rate=taker_fee,
            maintenance_margin_rate=mmr,
            order_amount_unit=venue.order_amount_unit if venue else "contracts",
        )
        quote = Quote(
            venue=venue_id,
            symbol=symbol,
            mark_price=price,
            index_price=args.price,
            timestamp=now,
            source=DataSource.MANUAL,
        )
        funding = None
        if kind is ContractKind.PERPETUAL and args.funding_rate is not None:
            funding = FundingQuote(
                venue=venue_id,
                symbol=symbol,
                rate=args.funding_rate,
                interval_hours=interval,
                timestamp=now,
            )
        return MarketContract(contract=contract, quote=quote, funding=funding)

    markets = [market(f"{coin}/USD:{coin}", ContractKind.PERPETUAL, None, args.price)]
    if args.expiry is not None:
        expiry = datetime.combine(args.expiry, EXPIRY_TIME_UTC)
        if expiry <= now:
            example = (now + timedelta(days=90)).date()
            raise UsageError(
                f"expiry {args.expiry} is not in the future. Example: --expiry {example}"
            )
        markets.append(
            market(
                f"{coin}/USD:{coin}-{expiry:%y%m%d}", ContractKind.DATED, expiry, args.futures_price
            )
        )
    return markets, assumed


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


def _plan(
    args: argparse.Namespace, now: datetime
) -> tuple[HedgePlan, Sequence[LeverageRow], str, Sequence[str]]:
    """The plan the arguments describe, its leverage table, where its data came from, and notes."""
    _check_combinations(args)
    settings = PlanSettings(
        hedge_ratio=args.ratio, leverage=args.leverage, horizon_days=args.horizon_days
    )
    holding = Holding(coin=args.coin, quantity=args.quantity)
    notes: Sequence[str]
    if args.price is not None:
        markets, notes = _calculator_markets(args, now)
        plan = plan_hedge(holding, markets, now, settings)
        rows = leverage_table(plan, markets[0])
        label = "prices given on the command line, no market data"
    else:
        # ccxt takes a second to import: load the market side only when it is used.
        from hedgecore.market import commands

        venues = [args.venue.id] if args.venue else None
        market_plan, notes = commands.plan(holding, settings, venues, args.snapshot)
        plan, rows, label = market_plan.plan, market_plan.leverage_rows(), market_plan.data_label
    return plan, rows, label, notes


def run_plan(args: argparse.Namespace, now: datetime) -> str:
    """Plan the hedge the arguments describe and return what to print."""
    plan, rows, label, notes = _plan(args, now)
    if args.json:
        return json.dumps(plan_json(plan, rows, data_label=label, notes=notes), indent=2)
    return render_plan(plan, rows, data_label=label, notes=notes)


def run_snapshot_record(args: argparse.Namespace, now: datetime) -> str:
    """Record what the live venues return into a snapshot file."""
    from hedgecore.market import commands  # ccxt is slow to import; see run_plan

    venues = [args.venue.id] if args.venue else list(VENUES)
    return commands.record(args.file, venues, args.coins, now)


def run_chart(args: argparse.Namespace, now: datetime) -> str:
    """Draw the chart the arguments ask for into --out; returns what to print."""
    from hedgecore.charts.draw import funding_png, payoff_png  # matplotlib is slow to import too

    if args.chart == "payoff":
        plan, _, label, _ = _plan(args, now)
        png = payoff_png(payoff_curve(plan))
    else:
        from hedgecore.market import commands

        lines, as_of = commands.funding_history(args.coin, args.snapshot)
        png = funding_png(args.coin, lines, as_of)
        label = f"funding history to {fmt.utc(as_of)}"
    try:
        args.out.write_bytes(png)
    except OSError as exc:
        raise UsageError(
            f"cannot write {args.out}: {exc.strerror}. Example: --out chart.png"
        ) from None
    return f"Wrote {args.out} ({label})"


def run_backtest_command(args: argparse.Namespace, now: datetime) -> str:
    """Replay the history file through the strategies; returns the table or JSON."""
    columns = Columns(
        time=args.time_col,
        spot=args.spot_col,
        perp=args.perp_col or None,
        perp_high=args.high_col or None,
        funding=args.funding_col or None,
    )
    try:
        with args.csv.open(newline="") as handle:
            bars, problems = parse_history(handle, columns)
    except OSError as exc:
        raise UsageError(
            f"cannot read {args.csv}: {exc.strerror}. Example: hedgecore backtest history.csv"
        ) from None
    except ValueError as exc:
        raise UsageError(f"{args.csv}: {exc}. Example: --spot-col Close") from None
    if len(bars) < 3:
        raise UsageError(f"{args.csv} has {len(bars)} usable rows; a backtest needs at least 3")
    report = run_backtest(args.coin, bars, quantity=float(args.quantity))
    notes = [*problems, *report.notes]
    if args.plot is not None:
        from hedgecore.charts.draw import backtest_png  # matplotlib is slow to import

        try:
            args.plot.write_bytes(backtest_png(report))
        except OSError as exc:
            raise UsageError(
                f"cannot write {args.plot}: {exc.strerror}. Example: --plot backtest.png"
            ) from None
        notes.append(f"Value paths drawn to {args.plot}.")
    if args.json:
        return json.dumps({**report.model_dump(mode="json"), "notes": notes}, indent=2)
    return render_backtest(report, notes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `hedgecore` command; returns the process exit status."""
    now = datetime.now(UTC)
    try:
        args = build_parser().parse_args(argv)
        run = {
            "plan": run_plan,
            "snapshot": run_snapshot_record,
            "chart": run_chart,
            "backtest": run_backtest_command,
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
