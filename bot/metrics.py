"""Prometheus metrics of the bot, on a registry of its own (no global state)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from telegram import Update

from bot.alerting import AlertService
from bot.intake import Intake
from hedgecore.market.service import MarketService


def command_of(update: Update, known: frozenset[str]) -> str:
    """The command an update carries, for labels: '/hedge', 'other command', 'button', 'text' or
    'other'. Only `known` commands get a label of their own: what users type is unbounded."""
    message = update.effective_message
    if update.callback_query is not None:
        return "button"
    if message is not None and message.text:
        first = message.text.split()[0]
        if not first.startswith("/"):
            return "text"
        command = first.split("@")[0].lower()
        return command if command.removeprefix("/") in known else "other command"
    return "other"


class _ServiceCollector(Collector):
    """Reads the market cache, venue health, alert and intake counters at scrape time."""

    def __init__(self, market: MarketService, alerts: AlertService, intake: Intake) -> None:
        self._market = market
        self._alerts = alerts
        self._intake = intake

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        stats = self._market.cache.stats
        cache = CounterMetricFamily(
            "hedgebot_market_cache", "Market cache lookups by result", labels=["result"]
        )
        for result, value in (
            ("hit", stats.hits),
            ("stale", stats.stale_hits),
            ("miss", stats.misses),
        ):
            cache.add_metric([result], value)
        yield cache
        requests = CounterMetricFamily(
            "hedgebot_exchange_requests",
            "Requests to exchanges by venue and outcome",
            labels=["venue", "outcome"],
        )
        for venue, (ok, failed) in self._market.request_counts().items():
            requests.add_metric([venue, "ok"], ok)
            requests.add_metric([venue, "error"], failed)
        yield requests
        healthy = GaugeMetricFamily(
            "hedgebot_venue_up", "1 when a venue answers, 0 while it is paused", labels=["venue"]
        )
        for venue, (up, _) in self._market.venue_health().items():
            healthy.add_metric([venue], 1 if up else 0)
        yield healthy
        alerts = CounterMetricFamily(
            "hedgebot_alerts", "Alerts fired and delivered", labels=["stage"]
        )
        alerts.add_metric(["fired"], self._alerts.fired)
        alerts.add_metric(["delivered"], self._alerts.delivered)
        yield alerts
        yield GaugeMetricFamily(
            "hedgebot_outbox_depth", "Alerts waiting to be sent", value=self._alerts.outbox_depth
        )
        yield GaugeMetricFamily(
            "hedgebot_updates_waiting",
            "Updates taken in whose handlers have not finished",
            value=self._intake.queue.unfinished,
        )
        yield CounterMetricFamily(
            "hedgebot_updates_shed",
            'Updates refused with "busy" because too many were waiting',
            value=self._intake.shed,
        )


class BotMetrics:
    """Updates by command and reply latency, plus what the services count."""

    def __init__(
        self,
        market: MarketService,
        alerts: AlertService,
        intake: Intake,
        commands: frozenset[str],
    ) -> None:
        """`commands`: the bot's command names, the only ones counted by name."""
        self._commands = commands
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "hedgebot_updates", "Updates handled, by command", ["command"], registry=self.registry
        )
        self.latency = Histogram(
            "hedgebot_reply_seconds",
            "Seconds from receiving an update to the end of its handlers",
            ["command"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.registry.register(_ServiceCollector(market, alerts, intake))
        self._started: dict[int, float] = {}

    def label(self, update: Update) -> str:
        """What an update is counted as (see `command_of`)."""
        return command_of(update, self._commands)

    def started(self, update: Update) -> None:
        """An update passed the gate."""
        self.updates.labels(self.label(update)).inc()
        self._started[update.update_id] = time.monotonic()

    def finished(self, update: Update) -> float | None:
        """Its handlers are done; returns how long they took (None if it never passed the gate)."""
        began = self._started.pop(update.update_id, None)
        if began is None:
            return None
        seconds = time.monotonic() - began
        self.latency.labels(self.label(update)).observe(seconds)
        return seconds

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)
