"""The channel-agnostic conversation service: store → (hook) → Rasa → reply or retry.

Channel routes (SMS, WeChat, JSON API) only verify, parse and shape; they all call
`Gateway.receive`, which:

1. writes the message to the log (`MessageStore.record_inbound`) before anything else and
   refuses duplicates (`Outcome.kind == "duplicate"`);
2. lets the channel's `intercept` hook answer it (SMS keywords, opted-out numbers);
3. skips the bot while staff have taken the conversation over (`"staff"`);
4. asks Rasa in a background task and waits at most `budget_s`: an answer in time is
   returned for the passive/inline reply (`"answered"`); a late answer is delivered later
   through the channel's `Outbound.push` (`"late"`); a failure leaves the message pending
   for the retry worker and the caller apologises (`"unavailable"`).

`Gateway.run_due_once` (called every `RETRY_INTERVAL_S` and at start-up) processes what is
still pending or undelivered, so nothing is lost across outages or restarts.

For the staff console: `Gateway.send_to_conversation(conversation_id, text)` and
`Gateway.send_to_resident(channel, sender, text)` deliver a staff message on the resident's
original channel and record it; `Gateway.take_over(conversation_id, bool)` pauses the bot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from channels.rasa_client import BackendUnavailable, RasaClient
from channels.replies import Reply, text_reply
from channels.settings import Settings
from channels.store import (
    ANSWERED,
    DELIVERED,
    FAILED,
    HANDLED,
    PENDING,
    Conversation,
    Inbound,
    Message,
    MessageStore,
    TokenCheck,
)
from channels.store_threads import Periodic, StoreThreads

log = logging.getLogger("channels.service")
T = TypeVar("T")
# SQLite WAL checkpoint period; at ~650 messages/s the WAL stays below ~1,000 pages.
CHECKPOINT_INTERVAL_S = 1.0


class DeliveryError(Exception):
    """An outbound push failed; `retryable` says whether trying later can help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Outbound(Protocol):
    """Sends messages to a resident outside a webhook's reply (late answers, staff)."""

    async def push(self, conversation: Conversation, replies: list[Reply]) -> None: ...


class StoredOutbound:
    """For the JSON API: nothing to push, the widget/console reads the log."""

    async def push(self, conversation: Conversation, replies: list[Reply]) -> None:
        return None


@dataclass
class Outcome:
    kind: str  # answered | late | unavailable | duplicate | handled | staff
    message: Message
    conversation: Conversation
    replies: list[Reply] = field(default_factory=list)
    backend_s: float | None = None  # time spent waiting for Rasa (for Server-Timing)
    token_issued: bool = False  # the conversation got the caller's new token (web/API)


def server_timing(started: float, backend_s: float | None) -> str:
    """`Server-Timing` value: the whole handler since `started` (perf_counter) and the part
    spent waiting for Rasa (read by bench/gateway.py; browsers show it in dev tools)."""
    value = f"gateway;dur={(time.perf_counter() - started) * 1000:.2f}"
    if backend_s is not None:
        value += f", backend;dur={backend_s * 1000:.2f}"
    return value


# intercept(conversation, text) -> replies to send instead of asking the bot, or None.
# It may change conversation flags (opt-out) through the store. Return [] to stay silent.
Intercept = Callable[[Conversation, str], Awaitable[list[Reply] | None]]


class Gateway:
    def __init__(
        self,
        settings: Settings,
        store: MessageStore,
        rasa: RasaClient,
        outbounds: dict[str, Outbound] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.rasa = rasa
        self.outbounds: dict[str, Outbound] = {"web": StoredOutbound(), "console": StoredOutbound()}
        self.outbounds.update(outbounds or {})
        self._tasks: set[asyncio.Task[object]] = set()
        self._due_lock = asyncio.Lock()
        sqlite = store.engine.dialect.name == "sqlite"
        # SQLite serialises writers anyway: one thread avoids lock and GIL contention.
        self._store_threads = StoreThreads(1 if sqlite else 8)
        # SQLite without per-commit fsync: the per-message transactions (~0.1-0.2 ms) run
        # inline on the loop, and the WAL checkpoints (which fsync) on a background thread
        # instead of inside whichever commit crosses `wal_autocheckpoint`. See
        # channels/README.md "Decisions".
        self._checkpoints: Periodic | None = None
        if sqlite and not store.commit_fsyncs:
            store.manual_checkpoints()
            self._checkpoints = Periodic(store.checkpoint, CHECKPOINT_INTERVAL_S, "wal-checkpoint")

    # -- inbound --------------------------------------------------------------------------
    async def receive(
        self,
        channel: str,
        sender: str,
        text: str,
        external_id: str | None,
        *,
        budget_s: float,
        intercept: Intercept | None = None,
        token: TokenCheck | None = None,
    ) -> Outcome:
        """`token`: the conversation-token rule of web/API messages (`store.TokenCheck`);
        raises `store.TokenRefused` (nothing stored) when the caller may not continue."""
        inbound = await self.db_hot(
            self.store.record_inbound, channel, sender, text, external_id, token
        )
        outcome = await self._handle(inbound, text, budget_s, intercept)
        outcome.token_issued = inbound.token_issued
        return outcome

    async def _handle(
        self, inbound: Inbound, text: str, budget_s: float, intercept: Intercept | None
    ) -> Outcome:
        msg, conv = inbound.message, inbound.conversation
        channel = msg.channel
        if inbound.duplicate:
            log.info("duplicate %s message %s ignored", channel, msg.id)
            return Outcome("duplicate", msg, conv)
        if intercept is not None:
            handled = await intercept(conv, text)
            if handled is not None:
                await self.db_hot(
                    self.store.finish, msg.id, HANDLED, handled, "inline" if handled else "none"
                )
                return Outcome("handled", msg, conv, handled)
        if conv.taken_over:
            await self.db_hot(self.store.finish, msg.id, HANDLED, [], "staff")
            return Outcome("staff", msg, conv)

        timing: dict[str, float] = {}
        task = self._spawn(self._answer(msg, conv, timing))
        await asyncio.wait({task}, timeout=budget_s)
        if task.done():
            replies = task.result()
            if replies is None:
                return Outcome("unavailable", msg, conv, backend_s=timing.get("backend"))
            await self.db_hot(self.store.finish, msg.id, DELIVERED, replies, "inline")
            return Outcome("answered", msg, conv, replies, backend_s=timing.get("backend"))
        # Too late for an inline reply: deliver through the channel's push API when ready.
        self._spawn(self._deliver_late(task, msg, conv))
        return Outcome("late", msg, conv)

    async def _answer(
        self, msg: Message, conv: Conversation, timing: dict[str, float] | None = None
    ) -> list[Reply] | None:
        """Ask the bot; on failure release the message for retry. The caller stores the
        answer (one write: delivered inline, or answered-then-pushed)."""
        started = time.perf_counter()
        try:
            replies = await self.rasa.send(conv.key, msg.text, msg.channel)
        except BackendUnavailable as exc:
            if timing is not None:
                timing["backend"] = time.perf_counter() - started
            log.warning("message %s left pending: %s", msg.id, exc)
            await self._db(self.store.release, msg.id, str(exc))
            return None
        if timing is not None:
            timing["backend"] = time.perf_counter() - started
        return replies

    async def _deliver_late(
        self, task: asyncio.Task[list[Reply] | None], msg: Message, conv: Conversation
    ) -> None:
        replies = await task
        if replies is not None:
            await self.db_hot(self.store.finish_answered, msg.id, replies)
            await self._push(msg, conv, replies)

    async def _push(self, msg: Message, conv: Conversation, replies: list[Reply]) -> None:
        outbound = self.outbounds.get(msg.channel)
        if outbound is None:
            await self._db(
                self.store.finish, msg.id, FAILED, None, None, "no outbound for channel"
            )
            return
        if isinstance(outbound, StoredOutbound):
            await self._db(self.store.finish, msg.id, DELIVERED, None, "stored")
            return
        try:
            await outbound.push(conv, replies)
        except DeliveryError as exc:
            if exc.retryable:
                log.warning("push of message %s failed, will retry: %s", msg.id, exc)
                await self._db(self.store.release, msg.id, str(exc))
            else:
                log.warning("push of message %s impossible: %s", msg.id, exc)
                await self._db(self.store.finish, msg.id, FAILED, None, None, str(exc))
            return
        await self._db(self.store.finish, msg.id, DELIVERED, None, "push")

    # -- retry worker ---------------------------------------------------------------------
    async def run_due_once(self, limit: int = 20) -> int:
        """Process pending / undelivered messages once; returns how many were claimed."""
        async with self._due_lock:
            due = await self._db(self.store.claim_due, limit)
            for index, msg in enumerate(due):
                conv = await self._db(self.store.get_conversation, msg.conversation_id)
                if conv is None:
                    continue
                if conv.taken_over or conv.opted_out:
                    reason = "staff" if conv.taken_over else "opted_out"
                    await self._db(self.store.finish, msg.id, HANDLED, None, reason)
                    continue
                if msg.status == PENDING:
                    replies = await self._answer(msg, conv)
                    if replies is None:
                        # Back end still down: stop this round; the rest waits for the next.
                        for rest in due[index + 1 :]:
                            await self._db(self.store.unclaim, rest.id)
                        break
                    await self._db(self.store.finish_answered, msg.id, replies)
                elif msg.status == ANSWERED:
                    replies = msg.replies
                else:
                    continue
                await self._push(msg, conv, replies)
            await self._db(self.store.give_up_exhausted)
            return len(due)

    async def retry_loop(self) -> None:
        while True:
            try:
                await self.run_due_once()
            except Exception:  # noqa: BLE001 - the loop must survive a bad round
                log.exception("retry round failed")
            await asyncio.sleep(self.settings.retry_interval_s)

    # -- outbound for staff -----------------------------------------------------------------
    async def send_to_conversation(
        self, conversation_id: int, text: str, author: str = "staff"
    ) -> Message:
        """Send `text` to the resident of a conversation on its original channel.

        Records an outbound message (`status` "sent" or "failed", `last_error` says why:
        opted out, WeChat 48 h window or quota, provider error). Raises KeyError if the
        conversation does not exist.
        """
        conv = await self._db(self.store.get_conversation, conversation_id)
        if conv is None:
            raise KeyError(conversation_id)
        error: str | None = None
        if conv.opted_out:
            error = "opted_out"
        else:
            outbound = self.outbounds.get(conv.channel)
            if outbound is None:
                error = "no outbound for channel"
            else:
                try:
                    await outbound.push(conv, [text_reply(text)])
                except DeliveryError as exc:
                    error = str(exc)
        status = "failed" if error else "sent"
        return await self._db(
            self.store.record_outbound, conv.id, text, author, status, error
        )

    async def send_to_resident(
        self, channel: str, sender: str, text: str, author: str = "staff"
    ) -> Message:
        """Like `send_to_conversation`, addressed by channel and raw sender id."""
        conv = await self._db(self.store.find_conversation, channel, sender)
        if conv is None:
            raise KeyError(f"no conversation on {channel} for that sender")
        return await self.send_to_conversation(conv.id, text, author)

    async def take_over(self, conversation_id: int, taken_over: bool) -> None:
        """Staff take over (bot paused) or hand back; also tells Rasa when its API is on."""
        conv = await self._db(self.store.get_conversation, conversation_id)
        if conv is None:
            raise KeyError(conversation_id)
        await self._db(self.store.set_taken_over, conversation_id, taken_over)
        await self.rasa.set_paused(conv.key, taken_over)

    # -- housekeeping ---------------------------------------------------------------------
    async def _db(self, fn: Callable[..., T], *args: object) -> T:
        """Run a (synchronous, short) store call off the event loop."""
        return await self._store_threads.call(fn, *args)

    async def db_hot(self, fn: Callable[..., T], *args: object) -> T:
        """A per-message transaction: inline on SQLite without per-commit fsync (the WAL
        checkpoints are on a background thread); on the store threads otherwise (PostgreSQL:
        network round trips; SQLite FULL: an fsync per commit)."""
        if self._checkpoints is None:
            return await self._store_threads.call(fn, *args)
        self._checkpoints.ensure_started()
        return fn(*args)

    def _spawn(self, coro: Awaitable[object]) -> asyncio.Task:  # type: ignore[type-arg]
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for background work (late deliveries) to finish, e.g. at shutdown."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    async def close(self) -> None:
        """Drain background work and release the store thread and the Rasa client."""
        await self.drain()
        await asyncio.to_thread(self._store_threads.shutdown)
        if self._checkpoints is not None:
            await asyncio.to_thread(self._checkpoints.stop)
        self.store.close()
        await self.rasa.close()
