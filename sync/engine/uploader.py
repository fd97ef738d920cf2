"""The asyncio pump that drains the outbox: oldest first, in batches, one batch in flight at a time.

The policy (`upload_policy.decide`) says what each answer means; this module only moves bytes and rows.
Every settlement of a batch is one local transaction, so a crash leaves each entry either answered or queued,
never half-recorded; an entry sent but unanswered is resent, and the server's ledger makes that harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol
from uuid import UUID

from api_client.backoff import Backoff
from api_client.errors import AuthError
from api_client.models import Intent, IntentResult, OrderWithItems
from api_client.plant import planted
from sync.realtime.observable import Observable
from sync.retry_log import RetryLog
from sync.store import LocalStore, outbox_rows, read_rows
from sync.store.outbox_rows import OutboxEntry

from .intent_log import log_rejection
from .upload_policy import Confirm, Decision, Reject, decide

log = logging.getLogger(__name__)

DEFAULT_BATCH = 200


class IntentSender(Protocol):
    """What the uploader needs from the API client (`KdsApiClient` fits)."""

    async def apply_intents(self, intents: Sequence[Intent]) -> list[IntentResult]: ...


class Uploader:
    """Sends the outbox until it is empty, then waits for a `kick()` or the watchdog.

    **Observable values** (for the offline banner and supervisors):

    * **queue_depth** - entries not yet answered by the server.
    * **oldest_pending_at** - wall-clock time the oldest of them was made, or None; the age is
      `oldest_pending_age_s()`. A timestamp, not an age, so it changes only when the queue does.
    * **last_error** - why the last attempt failed, or None after a successful one.

    **Parameters:** `reauthenticate` is awaited after an AuthError (e.g. a provider's `refresh`);
    `watchdog_s` is how often the outbox is re-read with no kick, so a missed trigger never leaves a
    queue stuck; `request_timeout_s` bounds one batch; `stop_grace_s` is how long `stop()` lets a batch
    in flight finish before cancelling it (it then stays queued).
    """

    def __init__(
        self,
        store: LocalStore,
        sender: IntentSender,
        *,
        batch_size: int = DEFAULT_BATCH,
        backoff: Backoff | None = None,
        reauthenticate: Callable[[], Awaitable[object]] | None = None,
        watchdog_s: float = 1.0,
        request_timeout_s: float = 30.0,
        stop_grace_s: float = 10.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store = store
        self.sender = sender
        self.batch_size = batch_size
        self.backoff = backoff or Backoff(0.5, 30.0)
        self.reauthenticate = reauthenticate
        self.watchdog_s = watchdog_s
        self.request_timeout_s = request_timeout_s
        self.stop_grace_s = stop_grace_s
        self.queue_depth: Observable[int] = Observable(0)
        self.oldest_pending_at: Observable[float | None] = Observable(None)
        self.last_error: Observable[str | None] = Observable(None)
        self.batches_sent = 0
        self.rejections_recorded = 0
        """Grows whenever an answer records a rejection: a redraw asks the store for rejections only then."""
        self._kick = asyncio.Event()
        self._retry_now = asyncio.Event()
        self._abandon = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._limit: int | None = None
        self._sending_since: float | None = None  # loop time the batch in flight was sent, if one is
        self._publish_scheduled = False
        self.retries = RetryLog(log, "upload", "upload_retry")

    # ------------------------------------------------------------ control

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("uploader already started")
        self._stop.clear()
        with self.store.transaction() as conn:
            outbox_rows.reset_inflight(conn)
        self.publish_metrics()
        self._task = asyncio.create_task(self._run(), name="outbox-uploader")

    def kick(self) -> None:
        """Something was queued, or the network is back: look at the outbox now (backoff waits still hold)."""
        self._kick.set()
        self._publish_soon()

    def queued(self, created_at: float) -> None:
        """One tap was just committed: counted at once (no query on the tap's way to its redraw), counted again
        from the outbox at the loop's next turn, and sent."""
        self.queue_depth.set(self.queue_depth.value + 1)
        if self.oldest_pending_at.value is None:
            self.oldest_pending_at.set(created_at)
        self.kick()

    def _publish_soon(self) -> None:
        """`publish_metrics` at the loop's next turn, once however many taps come first: a tap's card is redrawn
        (Qt's posted paint events go before the loop's callbacks) without waiting for the outbox to be counted."""
        if self._publish_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): count now
            self.publish_metrics()
            return
        self._publish_scheduled = True
        loop.call_soon(self._publish_scheduled_metrics)

    def _publish_scheduled_metrics(self) -> None:
        self._publish_scheduled = False
        try:
            self.publish_metrics()
        except Exception:  # a closed store at shutdown, a disk error: the next round publishes again
            log.exception("counting the outbox failed")

    def retry_now(self) -> None:
        """The server is reachable again (e.g. realtime is live): cut a backoff wait short and send now."""
        self._retry_now.set()
        self.kick()

    async def stop(self) -> None:
        """Stop after the batch in flight is answered and recorded (or, past the grace period, left queued)."""
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self.stop_grace_s)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with self.store.transaction() as conn:
            outbox_rows.reset_inflight(conn)

    async def __aenter__(self) -> Uploader:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def oldest_pending_age_s(self) -> float | None:
        oldest = self.oldest_pending_at.value
        return None if oldest is None else max(0.0, self.store.clock() - oldest)

    def publish_metrics(self) -> None:
        with self.store.snapshot() as conn:
            depth, oldest = outbox_rows.depth_and_oldest(conn)
        self.queue_depth.set(depth)
        self.oldest_pending_at.set(oldest)

    # ------------------------------------------------------------ the pump

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._round()
            except Exception as exc:
                # A disk error or a bug: say so and come back later; the pump itself must never die.
                log.exception("outbox upload round failed")
                self.last_error.set(f"{type(exc).__name__}: {exc}")
                await self._sleep(self.backoff.next_delay(), wake_on_kick=False)

    async def _round(self) -> None:
        self._kick.clear()  # before reading, so a tap committed after the read still wakes the idle wait
        self._retry_now.clear()
        batch = self._take_batch()
        if not batch:
            self.publish_metrics()
            await self._sleep(self.watchdog_s, wake_on_kick=True)
            return
        # Taps are committed without waiting for fsync: none leaves before it is on disk, or a power cut could
        # roll back a tap the server applied and hand its sequence number to the next one.
        await self.store.durable()
        intents = [e.intent for e in batch]
        self.batches_sent += 1
        outcome = await self._send(intents)
        decision = decide(intents, outcome, self.backoff)
        self._record(intents, decision)
        self.publish_metrics()
        retry = decision.retry
        if retry is None:
            self._limit = None
            self.last_error.set(None)
            self.retries.succeeded(queued=self.queue_depth.value)
            return
        self.retries.failed(retry.error, batch=len(batch), queued=self.queue_depth.value,
                            retry_in_s=round(retry.delay_s, 1))
        if planted("stall_outbox"):
            await self._stop.wait()  # planted bug (fault harness): after one failure the uploader never retries
            return
        self.last_error.set(retry.error)
        self._limit = retry.batch_limit
        if retry.refresh_token and self.reauthenticate is not None:
            try:
                await self.reauthenticate()
            except AuthError as exc:
                # Signed out (a person must enter the password; the screen says so): a line, not a traceback
                # on every retry. The taps stay queued.
                log.warning("token refresh after an auth failure failed: %s", exc)
            except Exception:
                log.exception("token refresh after an auth failure failed")
        await self._sleep(retry.delay_s, wake_on_kick=False)

    async def _send(self, intents: list[Intent]) -> list[IntentResult] | BaseException:
        """One batch's request: its answer, or why there is none (a timeout, an error, or `abandon_inflight`)."""
        self._abandon.clear()
        self._sending_since = asyncio.get_running_loop().time()
        send = asyncio.ensure_future(asyncio.wait_for(self.sender.apply_intents(intents), self.request_timeout_s))
        abandon = asyncio.ensure_future(self._abandon.wait())
        try:
            await asyncio.wait({send, abandon}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._sending_since = None
            abandon.cancel()
            if not send.done():
                send.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await send
        if send.cancelled():
            # The server may have applied it: the resend is answered `duplicate` by its ledger, never twice.
            return ConnectionError("the connection was lost with the batch in flight; it is sent again")
        return send.exception() or send.result()

    def live_again(self) -> None:
        """The server is reachable again over a new connection: a batch sent before it went out over a link that
        was down (a hub started offline never saw a connection drop), so it is sent again now rather than at its
        timeout; then the backoff is cut short. The server's ledger answers a resent batch `duplicate`."""
        if self._sending_since is not None:
            self._abandon.set()
        self.retry_now()

    def abandon_inflight(self) -> None:
        """The connection is gone (a pulled cable): stop waiting for the batch in flight, which would otherwise
        hold every queued tap for the whole request timeout after the network is back. It is sent again."""
        self._abandon.set()

    def _take_batch(self) -> list[OutboxEntry]:
        # "In flight" marks need no fsync of their own: a restart resets them. The barrier after this covers it.
        with self.store.deferred_sync() as conn:
            batch = outbox_rows.unsettled(conn, self._limit or self.batch_size)
            if batch:
                outbox_rows.mark_inflight(conn, [e.intent.id for e in batch])
        return batch

    def _record(self, intents: Sequence[Intent], decision: Decision) -> None:
        """One transaction: every answered entry settled, every other one back to pending with the error."""
        confirmed: list[UUID] = []
        latest: dict[UUID, OrderWithItems] = {}
        settled = set()
        rejected = 0
        with self.store.transaction() as conn:
            for action in decision.settle:
                settled.add(action.intent_id)
                if isinstance(action, Confirm):
                    confirmed.append(action.intent_id)
                    if action.menu_item is not None:
                        read_rows.save_menu_item(conn, action.menu_item)
                elif isinstance(action, Reject):
                    outbox_rows.reject(conn, action.intent_id, action.reason)
                    rejected += 1
                if action.order is not None:
                    # Many intents of a batch touch the same order: only its newest version needs writing.
                    seen = latest.get(action.order.id)
                    if seen is None or seen.version <= action.order.version:
                        latest[action.order.id] = action.order
            outbox_rows.confirm(conn, confirmed)
            for order in latest.values():
                read_rows.save_order(conn, order)
            rest = [i.id for i in intents if i.id not in settled]
            if rest:
                error = decision.retry.error if decision.retry else "not answered"
                delay = decision.retry.delay_s if decision.retry else 0.0
                outbox_rows.note_failure(conn, rest, error, self.store.clock() + delay)
        self.rejections_recorded += rejected  # once committed
        self._log_answers(intents, decision)

    def _log_answers(self, intents: Sequence[Intent], decision: Decision) -> None:
        """One line for what the server applied, one per refusal (with the ticket number a cook sees)."""
        by_id = {i.id: i for i in intents}
        applied = [by_id[a.intent_id] for a in decision.settle if isinstance(a, Confirm) and a.intent_id in by_id]
        if applied and log.isEnabledFor(logging.INFO):
            seqs = sorted(i.device_seq for i in applied)
            log.info(
                "upload: %d tap%s applied (seq %s)", len(applied), "" if len(applied) == 1 else "s",
                f"{seqs[0]}" if len(seqs) == 1 else f"{seqs[0]}-{seqs[-1]}",
                extra={"event": "applied", "count": len(applied), "seq_first": seqs[0], "seq_last": seqs[-1],
                       **({"intent_ids": [str(i.id) for i in applied]} if len(applied) <= 10 else {})},
            )
        for action in decision.settle:
            if isinstance(action, Reject) and action.intent_id in by_id:
                log_rejection(log, self.store, by_id[action.intent_id], action.reason, action.order)

    async def _sleep(self, seconds: float, *, wake_on_kick: bool) -> None:
        events = [self._stop, self._kick if wake_on_kick else self._retry_now]
        waiters = [asyncio.create_task(e.wait()) for e in events]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
