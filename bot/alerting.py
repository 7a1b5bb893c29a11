"""Funding alerts and tracked hedges: the cycles that evaluate them and queue messages, and
the sender that delivers both.

Each cycle refreshes funding for the coins that have rules through the shared market cache (one
bulk request per venue however many subscribers), evaluates, and writes the new state and the
messages in one transaction. The sender drains the outbox through PTB's rate limiter and marks
each message sent, so a crash loses nothing and never repeats what was marked sent.

Of several processes on one database, one leads the cycles and sends (`leads`); the others
stand by and take over when it dies. The leader learns of alerts and hedges changed elsewhere
from the store at each turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.render import (
    render_alert,
    render_digest,
    render_liquidation_warning,
    render_watch_event,
)
from bot.store import Store
from hedgecore.alerts import AlertRule, FundingObservation, RuleIndex, evaluate
from hedgecore.errors import NoMarketData
from hedgecore.market.service import MarketService
from hedgecore.tracking import (
    EXPIRY_REMINDER_DAYS,
    ContractReading,
    DigestEntry,
    FundingLedger,
    RollChoice,
    TrackingIndex,
    digest_entry,
    evaluate_liquidation,
    evaluate_watch,
    next_digest_at,
    roll_choices,
)

log = logging.getLogger(__name__)
SEND_BATCH = 30  # chats per round
PENDING_WINDOW = 1000
PER_CHAT_GAP_S = 1.0
# Telegram allows about 30 messages a second overall. PTB's limiter is a leaky bucket, which
# lets bursts past a strict one-second window; alerts keep their own pace, with a margin. Sends
# are spaced evenly rather than in bursts: fewer are in flight at any moment, and those are what
# a killed sender can send twice.
OVERALL_PER_S = 28
MAX_MESSAGE_CHARS = 4096
# How long a sender owns the rows it claimed: a sender that died holding them, or whose send
# failed, lets them go before the next minute's round. A send slower than this (Telegram asking
# to retry after longer) can be taken by a second sender: the one window for a duplicate.
CLAIM_LEASE_S = 55
CYCLE_EVERY_S = 60


class AlertService:
    """Alert evaluation and delivery for the process; the rule index is built once and kept up
    to date rule by rule."""

    def __init__(
        self,
        store: Store,
        market: MarketService,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` paces sending (monotonic seconds)."""
        self._clock = clock
        self._store = store
        self._market = market
        self._index: RuleIndex | None = None
        # Rule changes that arrive while a worker thread builds or reads the index: applied on
        # the event loop once it is done, so the index is never changed under the thread.
        self._index_busy = False
        self._index_changes: list[AlertRule | int] = []  # a rule to add, or an id to remove
        self._tracking: TrackingIndex | None = None
        self._tracking_changes = (
            0  # how many times hedges changed: an index built meanwhile is stale
        )
        self._cycle_lock = asyncio.Lock()
        # Chat -> monotonic time of its last message, oldest first: a chat is remembered only
        # while its last message still holds back its next, so the record stays as small as the
        # chats served in the last second, however many chats there are.
        self._last_sent: OrderedDict[int, float] = OrderedDict()
        self.fired = 0  # alerts queued since start
        self.delivered = 0  # alerts sent since start
        self.outbox_depth = 0  # waiting after the last delivery
        self._next_slot = 0.0  # monotonic time the next message may start
        self._slot_lock = asyncio.Lock()
        self.leading = False
        self._cycled_at: float | None = None  # monotonic; None: a cycle is due at once

    async def leads(self) -> bool:
        """Whether this process leads the cycles and the sending (taking the lead if no process
        holds it); applies what other processes changed meanwhile."""
        lead = await self._store.lead()
        if lead is None:
            if self.leading:
                log.warning("another process leads the alert cycles now, or the database is gone")
            self.leading = False
            return False
        if lead.taken:
            if not self.leading:
                log.info("this process leads the alert cycles")
            # Changes made elsewhere before now were never seen here: read everything anew.
            self._index = None
            self.tracking_changed()
            self._cycled_at = None
        else:
            self.rules_added(lead.added)
            self.rules_removed(lead.removed)
            if lead.tracking_changed:
                self.tracking_changed()
        self.leading = True
        return True

    def cycle_due(self) -> bool:
        """Whether the leader's cycles are due: a minute after the last, at once after taking
        the lead."""
        now = self._clock()
        if self._cycled_at is not None and now - self._cycled_at < CYCLE_EVERY_S:
            return False
        self._cycled_at = now
        return True

    def rules_added(self, rules: Iterable[AlertRule]) -> None:
        """New (or resumed) rules: put each in its place in the index, without a rebuild."""
        self._index_changes += rules
        self._apply_index_changes()

    def rules_removed(self, rule_ids: Iterable[int]) -> None:
        """Deleted (or paused) rules: take each out of the index."""
        self._index_changes += rule_ids
        self._apply_index_changes()

    def _apply_index_changes(self) -> None:
        if self._index_busy:
            return  # the thread working on the index is not to be disturbed: after it
        index, changes = self._index, self._index_changes
        self._index_changes = []
        if index is None:
            return  # the index, when built, reads the rules as stored then
        for change in changes:
            if isinstance(change, int):
                index.remove(change)
            else:
                index.add(change)

    @contextlib.asynccontextmanager
    async def _index_in_use(self) -> AsyncIterator[None]:
        """While a worker thread builds or reads the index, rule changes wait; then they apply
        (a million rules take seconds to index and a tenth of a second to evaluate: off the
        loop, which answers meanwhile)."""
        self._index_busy = True
        try:
            yield
        finally:
            self._index_busy = False
            self._apply_index_changes()

    async def _build_index(self) -> RuleIndex:
        """Index every stored rule. Changes made while the rules are read are applied after
        (adding and removing are idempotent), so none is lost whenever it lands."""
        async with self._index_in_use():
            self._index = await self._store.read_active_alerts(_index_for_good)
        return self._index

    async def _observations(self, coins: set[str]) -> list[FundingObservation]:
        observations = []
        for coin in sorted(coins):
            markets = await self._market.coin_markets(coin)
            observations += [
                FundingObservation(
                    venue=m.contract.venue,
                    coin=coin,
                    rate=m.funding.rate,
                    interval_hours=m.funding.interval_hours,
                    next_funding_time=m.funding.next_funding_time,
                    observed_at=m.funding.timestamp,
                )
                for m in markets.contracts
                if m.funding is not None
            ]
        return observations

    async def cycle(self, now: datetime) -> int:
        """Evaluate every rule against fresh funding and queue the alerts; returns how many."""
        async with self._cycle_lock:
            index = self._index if self._index is not None else await self._build_index()
            if not len(index):
                return 0
            observations = await self._observations(index.coins)
            state = await self._store.alert_state()
            async with self._index_in_use():
                result = await asyncio.to_thread(evaluate, index, observations, state, now)
            messages = [(event.rule.chat_id, render_alert(event)) for event in result.events]
            await self._store.commit_cycle(result.state, messages)
            self.fired += len(messages)
            return len(messages)

    def tracking_changed(self) -> None:
        """A hedge was tracked or untracked, or a chat paused: rebuild the index next cycle."""
        self._tracking = None
        self._tracking_changes += 1

    async def track_cycle(self, now: datetime) -> int:
        """Evaluate every tracked hedge: liquidation distance, funding against the short, expiry
        and funding worth hedging; queue the messages and returns how many.

        Marks and funding come from the market cache, one request per venue however many
        hedges; funding history (for the cost and the coins received) is cached for an hour.
        """
        tracking = self._tracking
        if tracking is None:
            changes = self._tracking_changes
            hedges = await self._store.active_tracked()
            # Each hedge's liquidation price is worked out here: off the loop too.
            tracking = await asyncio.to_thread(TrackingIndex, hedges)
            if changes == self._tracking_changes:  # else it missed a change: rebuild next time
                self._tracking = tracking
        if not len(tracking):
            return 0
        readings: dict[tuple[str, str], ContractReading] = {}
        ledgers: dict[tuple[str, str], FundingLedger] = {}
        rolls: dict[str, tuple[RollChoice, ...]] = {}
        for coin, venues in sorted(tracking.venues_by_coin.items()):
            expiring = tracking.expiring(coin, now + timedelta(days=max(EXPIRY_REMINDER_DAYS)))
            found = await self._market.coin_markets(coin, None if expiring else sorted(venues))
            for m in found.contracts:
                funding = m.funding
                readings[(m.contract.venue, m.contract.symbol)] = ContractReading(
                    m.quote.mark_price,
                    funding.rate if funding else None,
                    funding.interval_hours if funding else None,
                )
            if expiring:
                rolls[coin] = roll_choices(found.contracts, now)
            if tracking.has_perpetuals(coin):
                try:
                    history = await self._market.funding_history(coin)
                except NoMarketData as exc:
                    # Funding's cost and coins wait; liquidation warnings must not.
                    log.info("no funding history of %s this cycle: %s", coin, exc)
                    history = {}
                ledgers |= {
                    (venue, coin): FundingLedger(points) for venue, points in history.items()
                }
        marks = {key: reading.mark for key, reading in readings.items()}
        chats = await self._store.chat_watches()
        tiers = {chat_id: watch.tiers for chat_id, watch in chats.items()}
        index, before, states = (
            tracking,
            await self._store.tracking_warned(),
            await self._store.watch_states(),
        )
        # In a worker thread, as the alerts are: a hundred thousand hedges take most of a second.
        warned = await asyncio.to_thread(evaluate_liquidation, index, marks, before, tiers)
        watched = await asyncio.to_thread(
            evaluate_watch, index, readings, ledgers, rolls, states, now
        )
        messages = [(w.hedge.chat_id, render_liquidation_warning(w)) for w in warned.warnings]
        messages += [(event.hedge.chat_id, render_watch_event(event)) for event in watched.events]
        due = {
            chat_id: watch
            for chat_id, watch in chats.items()
            if watch.digest and watch.next_digest_at is not None and watch.next_digest_at <= now
        }
        digests: dict[int, list[DigestEntry]] = {chat_id: [] for chat_id in due}
        for hedge, liquidation in tracking.rows:
            reading = readings.get((hedge.venue, hedge.symbol))
            if hedge.chat_id in digests and reading is not None:
                ledger = ledgers.get((hedge.venue, hedge.coin))
                digests[hedge.chat_id].append(
                    digest_entry(hedge, liquidation, reading, ledger, now)
                )
        messages += [
            (chat_id, render_digest(entries, now))
            for chat_id, entries in digests.items()
            if entries
        ]
        sent = {
            chat_id: watch.model_copy(update={"next_digest_at": next_digest_at(now)})
            for chat_id, watch in due.items()
        }
        await self._store.commit_tracking(warned.changed, watched.changed, sent, messages)
        self.fired += len(messages)
        return len(messages)

    async def deliver(self, bot: Bot) -> int:
        """Send what the outbox holds; returns how many alerts went out.

        A chat's waiting alerts go as one message (up to Telegram's length), at most one message
        per chat per second and at most OVERALL_PER_S in any second: within Telegram's limits of
        1 message a second per chat and about 30 a second overall.
        """
        delivered = 0
        while pending := await self._store.pending_messages(PENDING_WINDOW):
            now = self._clock()
            self._forget_paced_chats(now)
            by_chat: dict[int, list[tuple[int, str]]] = {}
            for message_id, chat_id, text in pending:
                if now - self._last_sent.get(chat_id, -PER_CHAT_GAP_S) >= PER_CHAT_GAP_S:
                    by_chat.setdefault(chat_id, []).append((message_id, text))
            if not by_chat:
                await asyncio.sleep(PER_CHAT_GAP_S / 4)
                continue
            batch = [
                (chat_id, _fit(messages))
                for chat_id, messages in list(by_chat.items())[:SEND_BATCH]
            ]
            # Claim before sending, so that another sender never takes the same rows.
            claimed = await self._store.claim_messages(
                [message_id for _, messages in batch for message_id, _ in messages], CLAIM_LEASE_S
            )
            batch = [
                (chat_id, mine)
                for chat_id, messages in batch
                if (mine := [m for m in messages if m[0] in claimed])
            ]
            # A mark that fails (a full disk) raises out of here and stops sending: the rows it
            # could not close stay claimed, so they are not sent again while the claim lasts.
            outcomes = await asyncio.gather(
                *(self._deliver_to_chat(bot, chat_id, messages) for chat_id, messages in batch)
            )
            delivered += sum(sent for _, sent in outcomes)
            if any(outcome == "failed" for outcome, _ in outcomes):
                break  # Telegram is unwell: the rest waits for the next cycle
        self.delivered += delivered
        self.outbox_depth = len(await self._store.pending_messages(PENDING_WINDOW))
        return delivered

    async def _deliver_to_chat(
        self, bot: Bot, chat_id: int, messages: list[tuple[int, str]]
    ) -> tuple[str, int]:
        """Send a chat's claimed alerts as one message and close them at once; (outcome, sent)."""
        outcome = await self._send(bot, chat_id, "\n\n".join(text for _, text in messages))
        if outcome != "sent":
            return outcome, 0
        self._last_sent[chat_id] = self._clock()
        self._last_sent.move_to_end(chat_id)
        for message_id, _ in messages:
            await self._store.mark_message(message_id, "sent")
        return outcome, len(messages)

    def _forget_paced_chats(self, now: float) -> None:
        """Drop chats whose last message no longer holds back their next one."""
        while self._last_sent and now - next(iter(self._last_sent.values())) >= PER_CHAT_GAP_S:
            self._last_sent.popitem(last=False)

    @property
    def chats_paced(self) -> int:
        """How many chats are remembered for the per-chat pace (those served within a second)."""
        return len(self._last_sent)

    async def _slot(self) -> None:
        """Wait until a message can go, 1/OVERALL_PER_S s after the one before it."""
        async with self._slot_lock:
            wait_s = self._next_slot - self._clock()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            self._next_slot = max(self._next_slot, self._clock()) + 1 / OVERALL_PER_S

    async def _send(self, bot: Bot, chat_id: int, text: str) -> str:
        await self._slot()
        try:
            await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except Forbidden:
            # The user blocked the bot: pause their alerts until they /start again.
            self.rules_removed(rule.id for rule in await self._store.alerts_of(chat_id))
            await self._store.pause_chat(chat_id)
            self.tracking_changed()
            return "blocked"
        except TelegramError as exc:
            log.warning("alert to a chat not sent, will retry: %s", type(exc).__name__)
            return "failed"
        return "sent"


def _index_for_good(rules: Iterable[AlertRule]) -> RuleIndex:
    """Index the rules with the cyclic garbage collector held off, then set what exists aside
    for good (`gc.freeze`): a full collection walks every object and holds the interpreter
    while it does (half a second at a million rules), and these live as long as the process."""
    gc.disable()
    try:
        return RuleIndex(rules)
    finally:
        gc.enable()
        gc.freeze()


def _fit(messages: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The chat's first waiting alerts that fit in one Telegram message (always at least one)."""
    taken: list[tuple[int, str]] = []
    length = 0
    for message_id, text in messages:
        length += len(text) + 2
        if taken and length > MAX_MESSAGE_CHARS:
            break
        taken.append((message_id, text))
    return taken
