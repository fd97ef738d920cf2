"""The upload pump against an in-memory fake server (no sockets): order, batches, retries, watchdog, stop."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from api_client.backoff import Backoff
from api_client.errors import AuthError, TransportFailure
from api_client.models import DeviceRole, Intent, IntentResult, IntentStatus
from sync.engine.outbox import Outbox
from sync.engine.uploader import Uploader
from sync.store import LocalStore, outbox_rows
from tests.helpers.slow_disk import HeldDisk
from tests.helpers.timeouts import scaled

TIMEOUT_S = scaled(10.0)


class FakeServer:
    """Applies intents once each (a ledger by id), fails on demand, and can hold a batch in flight."""

    def __init__(self) -> None:
        self.batches: list[list[Intent]] = []
        self.ledger: dict[uuid.UUID, int] = {}
        self.failures: list[Exception] = []
        self.reject: set[uuid.UUID] = set()
        self.hold: asyncio.Event | None = None
        self.holding = asyncio.Event()

    async def apply_intents(self, intents: Sequence[Intent]) -> list[IntentResult]:
        self.batches.append(list(intents))
        if self.hold is not None:
            self.holding.set()
            await self.hold.wait()
        if self.failures:
            raise self.failures.pop(0)
        results = []
        for i in intents:
            if i.id in self.ledger:
                results.append(IntentResult(id=i.id, status=IntentStatus.duplicate, original_status="applied"))
                continue
            self.ledger[i.id] = i.device_seq
            if i.id in self.reject:
                results.append(IntentResult(id=i.id, status=IntentStatus.rejected, reason="Nothing left to bump"))
            else:
                results.append(IntentResult(id=i.id, status=IntentStatus.applied))
        return results


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1")
    yield s
    s.close()


def fast_backoff() -> Backoff:
    return Backoff(0.01, 0.05, rng=random.Random(3))


def submit(outbox: Outbox, n: int) -> list[Intent]:
    return [outbox.submit("bump_ticket", uuid.uuid4(), station="grill") for _ in range(n)]


def unsettled(store: LocalStore) -> list[outbox_rows.OutboxEntry]:
    with store.transaction() as conn:
        return outbox_rows.unsettled(conn)


async def until(condition: Callable[[], bool]) -> None:
    """Until `condition()` holds (checked every loop turn), or fail after TIMEOUT_S. Polled: what it waits for
    happens on the store's fsync thread, which sets no event this loop could await."""
    async with asyncio.timeout(TIMEOUT_S):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0)


async def loop_turns(n: int = 100) -> None:
    """Let every ready task run `n` turns of the loop. Up to taking a batch (marking it in flight), the pump and the
    fake server here do no I/O and wait on no timer, so whatever the pump does on an event up to there it does
    within these turns, however loaded the machine: a check that nothing happened after them can fail, and each
    use shows its own turns suffice by waking the pump with an event it does answer. (The send itself then waits
    for the batch's fsync on the store's thread: await that with `until`.)"""
    for _ in range(n):
        await asyncio.sleep(0)


async def test_drains_in_device_order_in_batches(store: LocalStore) -> None:
    server = FakeServer()
    outbox = Outbox(store, DeviceRole.kds)
    queued = submit(outbox, 450)
    async with Uploader(store, server, batch_size=200) as up:
        assert up.queue_depth.value == 450 and up.oldest_pending_at.value is not None
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
        assert up.oldest_pending_at.value is None and up.oldest_pending_age_s() is None
    assert [len(b) for b in server.batches] == [200, 200, 50]
    assert [i for b in server.batches for i in b] == queued
    assert unsettled(store) == []


async def test_no_tap_is_sent_before_its_fsync_has_returned(tmp_path: Path) -> None:
    """A tap the server applied but a power cut rolled back here would hand its sequence number to the next tap."""
    disk = HeldDisk()
    held_store = LocalStore(tmp_path / "held.db", device_id="r1-kds-1", sync_file=disk.sync)
    server = FakeServer()
    try:
        [tap] = submit(Outbox(held_store, DeviceRole.kds), 1)  # its fsync starts, and the disk holds it
        assert disk.entered.wait(TIMEOUT_S)
        async with Uploader(held_store, server) as up:
            await until(lambda: any(e.state == "inflight" for e in unsettled(held_store)))  # the batch is taken...
            await loop_turns()
            assert server.batches == [], "...but not sent while its fsync is held"
            disk.release.set()
            await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
        assert server.ledger == {tap.id: tap.device_seq}
        assert disk.completed >= 1
    finally:
        disk.release.set()
        held_store.close()


async def test_a_failing_disk_holds_the_taps_back_until_an_fsync_succeeds(tmp_path: Path) -> None:
    disk = HeldDisk()
    disk.failures = [OSError(5, "Input/output error")] * 3
    held_store = LocalStore(tmp_path / "held.db", device_id="r1-kds-1", sync_file=disk.sync)
    server = FakeServer()
    try:
        queued = submit(Outbox(held_store, DeviceRole.kds), 2)
        async with Uploader(held_store, server, backoff=fast_backoff()) as up:
            await until(lambda: any(e.state == "inflight" for e in unsettled(held_store)))
            disk.release.set()  # three fsyncs fail (the tap's own, then the uploader's), then the disk is back
            await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
        assert [i for b in server.batches for i in b] == queued, "sent once each, after the disk came back"
        assert disk.completed >= 1 and not disk.failures
    finally:
        disk.release.set()
        held_store.close()


async def test_new_taps_kick_the_idle_uploader(store: LocalStore) -> None:
    server = FakeServer()
    outbox = Outbox(store, DeviceRole.kds)
    async with Uploader(store, server, watchdog_s=60) as up:
        outbox.on_submit(lambda _i: up.kick())
        await asyncio.sleep(0)  # let it go idle on the (long) watchdog
        [tap] = submit(outbox, 1)
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert server.ledger == {tap.id: tap.device_seq}


async def test_watchdog_sends_rows_nobody_announced(store: LocalStore) -> None:
    server = FakeServer()
    async with Uploader(store, server, watchdog_s=0.05) as up:
        submit(Outbox(store, DeviceRole.kds), 3)  # no kick: the uploader is not told
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert len(server.ledger) == 3


async def test_transient_failures_block_in_order_then_drain_exactly_once(store: LocalStore) -> None:
    server = FakeServer()
    outbox = Outbox(store, DeviceRole.kds)
    queued = submit(outbox, 30)
    refused = httpx.ConnectError("refused")
    server.failures = [TransportFailure("down", cause=refused) for _ in range(3)]
    errors: list[str | None] = []
    up = Uploader(store, server, batch_size=10, backoff=fast_backoff())
    up.last_error.subscribe(errors.append)
    async with up:
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert errors[0] is not None and "TransportFailure" in errors[0] and errors[-1] is None
    assert [b[0] for b in server.batches[:4]] == [queued[0]] * 4, "the same head is retried, nothing skipped"
    assert sorted(server.ledger.values()) == [i.device_seq for i in queued]


async def test_a_rejection_is_kept_and_later_intents_still_go(store: LocalStore) -> None:
    server = FakeServer()
    outbox = Outbox(store, DeviceRole.kds)
    queued = submit(outbox, 3)
    server.reject = {queued[1].id}
    async with Uploader(store, server) as up:
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert [(e.intent, e.reason) for e in outbox.rejected()] == [(queued[1], "Nothing left to bump")]


async def test_auth_failure_refreshes_then_retries(store: LocalStore) -> None:
    server = FakeServer()
    server.failures = [AuthError(401, "PGRST301", "JWT expired")]
    refreshed = []

    async def reauthenticate() -> None:
        refreshed.append(True)

    submit(Outbox(store, DeviceRole.kds), 2)
    async with Uploader(store, server, backoff=fast_backoff(), reauthenticate=reauthenticate) as up:
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert refreshed == [True] and len(server.ledger) == 2


async def test_stop_lets_the_batch_in_flight_finish_and_records_it(store: LocalStore) -> None:
    server = FakeServer()
    server.hold = asyncio.Event()
    submit(Outbox(store, DeviceRole.kds), 5)
    up = Uploader(store, server)
    await up.start()
    await asyncio.wait_for(server.holding.wait(), TIMEOUT_S)
    assert {e.state for e in unsettled(store)} == {"inflight"}
    stopping = asyncio.create_task(up.stop())
    # What the outbox held the moment stop() returned: the batch answered and recorded, not left in flight.
    at_stop: list[tuple[list[outbox_rows.OutboxEntry], int]] = []
    stopping.add_done_callback(lambda _task: at_stop.append((unsettled(store), len(server.batches))))
    await loop_turns()
    assert not stopping.done(), "stop() waits for the batch in flight"
    server.hold.set()
    await asyncio.wait_for(stopping, TIMEOUT_S)
    assert at_stop == [([], 1)]


async def test_stop_past_the_grace_period_leaves_the_batch_queued(store: LocalStore) -> None:
    server = FakeServer()
    server.hold = asyncio.Event()  # never set: the server never answers
    queued = submit(Outbox(store, DeviceRole.kds), 5)
    up = Uploader(store, server, stop_grace_s=0.05)
    await up.start()
    await asyncio.wait_for(server.holding.wait(), TIMEOUT_S)
    await asyncio.wait_for(up.stop(), TIMEOUT_S)
    entries = unsettled(store)
    assert [e.intent for e in entries] == queued and {e.state for e in entries} == {"pending"}
    assert {e.attempts for e in entries} == {1}


async def test_retry_now_cuts_a_long_backoff_short(store: LocalStore) -> None:
    server = FakeServer()
    server.failures = [TransportFailure("down", cause=httpx.ConnectError("refused"))]
    submit(Outbox(store, DeviceRole.kds), 2)
    slow = Backoff(60.0, 60.0, floor_s=60.0)  # without retry_now the second attempt is a minute away
    async with Uploader(store, server, backoff=slow) as up:
        await asyncio.wait_for(up.last_error.wait_for(lambda e: e is not None), TIMEOUT_S)
        up.kick()  # a new tap alone does not bypass the backoff...
        await loop_turns()
        assert len(server.batches) == 1
        assert all(e.state == "pending" for e in unsettled(store)), "no batch taken for the next attempt"
        up.retry_now()  # ...the server coming back does (once the batch is on disk: its fsync is on another thread)
        await until(lambda: len(server.batches) == 2)
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert len(server.ledger) == 2


async def test_can_be_started_again_after_a_stop(store: LocalStore) -> None:
    server = FakeServer()
    outbox = Outbox(store, DeviceRole.kds)
    up = Uploader(store, server, watchdog_s=0.05)
    await up.start()
    await up.stop()
    submit(outbox, 2)
    async with up:
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert len(server.ledger) == 2


async def test_a_batch_in_flight_when_the_connection_drops_is_sent_again_not_waited_for(store: LocalStore) -> None:
    """A pulled cable mid-upload: the request would hang for the whole timeout (30 s), holding every queued tap
    after the network is back. Abandoned, the batch goes again at once; the server's ledger answers the copy."""
    server = FakeServer()
    server.hold = asyncio.Event()
    outbox = Outbox(store, DeviceRole.kds)
    queued = submit(outbox, 3)
    async with Uploader(store, server, backoff=fast_backoff(), request_timeout_s=3600.0) as up:
        await asyncio.wait_for(server.holding.wait(), TIMEOUT_S)
        server.hold = None  # the network is back: the next request is answered
        up.abandon_inflight()
        up.retry_now()
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert len(server.batches) == 2 and [i.id for i in server.batches[1]] == [i.id for i in queued]
    assert sorted(server.ledger) == sorted(i.id for i in queued)


async def test_a_batch_sent_before_the_server_was_live_again_is_sent_again_at_once(store: LocalStore) -> None:
    """A hub started with its internet down sent its queue into a dead link and never saw a connection drop:
    when a new connection is live, that batch goes again at once instead of at its timeout."""
    server = FakeServer()
    server.hold = asyncio.Event()
    queued = submit(Outbox(store, DeviceRole.kds), 2)
    async with Uploader(store, server, backoff=fast_backoff(), request_timeout_s=3600.0) as up:
        await asyncio.wait_for(server.holding.wait(), TIMEOUT_S)
        server.hold = None
        up.live_again()
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert [[i.id for i in b] for b in server.batches] == [[i.id for i in queued]] * 2
    assert sorted(server.ledger) == sorted(i.id for i in queued)


async def test_live_again_with_nothing_in_flight_abandons_nothing(store: LocalStore) -> None:
    server = FakeServer()
    outbox = Outbox(store, DeviceRole.kds)
    async with Uploader(store, server, backoff=fast_backoff()) as up:
        submit(outbox, 1)
        up.kick()
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
        up.live_again()
        submit(outbox, 1)
        up.kick()
        await asyncio.wait_for(up.queue_depth.wait_for(0), TIMEOUT_S)
    assert len(server.batches) == 2 and len(server.ledger) == 2
