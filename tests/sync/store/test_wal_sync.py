"""A tap is committed without waiting for the disk; its fsync runs on the store's own thread right after."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_client.models import DeviceRole
from sync.engine.outbox import Outbox
from sync.store import LocalStore, outbox_rows
from tests.helpers.slow_disk import HeldDisk
from tests.helpers.timeouts import scaled

TIMEOUT_S = scaled(10.0)


@pytest.fixture
def disk() -> Iterator[HeldDisk]:
    held = HeldDisk()
    yield held
    held.release.set()  # a failed test must not leave the store's thread waiting


@pytest.fixture
def store(tmp_path: Path, disk: HeldDisk) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", sync_file=disk.sync)
    yield s
    disk.release.set()
    s.close()


async def test_a_tap_returns_committed_while_its_fsync_still_runs_on_another_thread(
    store: LocalStore, disk: HeldDisk, tmp_path: Path
) -> None:
    # The disk holds every fsync: a submit that waited for one would never return.
    intent = Outbox(store, DeviceRole.kds).submit("bump_ticket", uuid.uuid4(), station="grill")
    assert disk.entered.wait(TIMEOUT_S), "the tap's fsync starts by itself, with no one waiting for it"
    assert disk.calls == [(tmp_path / "screen.db-wal", disk.calls[0][1])]
    assert disk.calls[0][1] != threading.current_thread().name
    with store.snapshot() as conn:  # committed: another connection reads it
        assert [e.intent.id for e in outbox_rows.unsettled(conn)] == [intent.id]
    assert store.wal_sync.pending

    on_disk = asyncio.ensure_future(store.durable())
    for _ in range(50):
        await asyncio.sleep(0)
    assert not on_disk.done(), "durable() waits for the fsync the disk holds"
    disk.release.set()
    await asyncio.wait_for(on_disk, TIMEOUT_S)
    assert disk.completed >= 1 and not store.wal_sync.pending


async def test_one_fsync_covers_every_tap_committed_before_it(store: LocalStore, disk: HeldDisk) -> None:
    outbox = Outbox(store, DeviceRole.kds)
    outbox.submit("bump_ticket", uuid.uuid4(), station="grill")
    assert disk.entered.wait(TIMEOUT_S)
    for _ in range(20):  # made while the first fsync is held: the next fsync takes them all
        outbox.submit("bump_ticket", uuid.uuid4(), station="grill")
    disk.release.set()
    await asyncio.wait_for(store.durable(), TIMEOUT_S)
    assert disk.completed <= 2, f"{disk.completed} fsyncs for 21 taps made during one"


async def test_a_failed_fsync_is_logged_and_makes_nothing_durable_until_one_succeeds(
    store: LocalStore, disk: HeldDisk, caplog: pytest.LogCaptureFixture
) -> None:
    disk.failures = [OSError(5, "Input/output error"), OSError(5, "Input/output error")]
    Outbox(store, DeviceRole.kds).submit("bump_ticket", uuid.uuid4(), station="grill")
    assert disk.entered.wait(TIMEOUT_S)  # the tap's own fsync, held, then failing
    waiting = asyncio.ensure_future(store.durable())  # queued behind it: tries again, and fails too
    disk.release.set()
    with pytest.raises(OSError, match="Input/output error"):
        await asyncio.wait_for(waiting, TIMEOUT_S)
    assert store.wal_sync.pending and disk.completed == 0
    assert "fsync of the local store's WAL failed" in caplog.text
    await asyncio.wait_for(store.durable(), TIMEOUT_S)  # the disk is back
    assert not store.wal_sync.pending and disk.completed == 1


def test_closing_the_store_syncs_what_is_still_pending(tmp_path: Path) -> None:
    disk = HeldDisk()
    store = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", sync_file=disk.sync)
    outbox = Outbox(store, DeviceRole.kds)
    outbox.submit("bump_ticket", uuid.uuid4(), station="grill")
    assert disk.entered.wait(TIMEOUT_S)
    outbox.submit("bump_ticket", uuid.uuid4(), station="grill")  # after the held fsync began: not covered by it
    closing = threading.Thread(target=store.close)
    closing.start()
    disk.release.set()
    closing.join(TIMEOUT_S)
    assert not closing.is_alive() and disk.completed >= 1 and not store.wal_sync.pending


def test_reads_start_no_sync_thread(tmp_path: Path) -> None:
    disk = HeldDisk(held=False)
    with LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", sync_file=disk.sync) as store:
        with store.snapshot() as conn:
            assert outbox_rows.depth(conn) == 0
        assert not any(t.name.startswith("kds-wal-sync") for t in threading.enumerate())
    assert disk.calls == [], "nothing was committed without its fsync, so nothing to sync"
