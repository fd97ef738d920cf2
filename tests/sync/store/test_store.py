"""The local store: pragmas, one-transaction submits, server rows by version, overlay, migration, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from api_client.models import DeviceRole, IntentKind, ItemStatus, OrderStatus
from sync.engine.outbox import Outbox
from sync.readpath.merge import Upsert
from sync.store import LocalStore, default_path, meta, outbox_rows, read_rows, server_rows
from sync.store.db import open_engine
from sync.store.migrations import LATEST, migrate
from sync.store.overlay import overlay
from sync.store.tables import order_items, orders
from tests.sync.store.support import NOW, intent, order

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", clock=lambda: NOW.timestamp())
    yield s
    s.close()


def test_file_is_wal_fully_synced_with_foreign_keys(store: LocalStore) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == LATEST


def test_default_path_is_in_the_per_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert default_path().parent == tmp_path / "kds"


def test_device_id_is_fixed_when_created(tmp_path: Path) -> None:
    with LocalStore(tmp_path / "a.db") as first:
        made = first.device_id
    assert made.startswith("dev-")
    with LocalStore(tmp_path / "a.db") as again:
        assert again.device_id == made
    with pytest.raises(ValueError, match="belongs to device"):
        LocalStore(tmp_path / "a.db", device_id="someone-else")


def test_submit_writes_one_row_with_the_next_sequence_and_touches_nothing_else(store: LocalStore) -> None:
    outbox = Outbox(store, DeviceRole.kds)
    heard = []
    outbox.on_submit(heard.append)
    o = order()
    first = outbox.submit(IntentKind.bump_ticket, o.id, station="grill")
    second = outbox.submit("rush", o.id, args={"priority": "rush"})
    assert heard == [first, second]
    assert first.device_id == second.device_id == "r1-kds-1"
    assert second.device_seq == first.device_seq + 1 and first.id != second.id
    assert first.created_at == NOW
    with store.transaction() as conn:
        entries = outbox_rows.unsettled(conn)
    assert [e.intent for e in entries] == [first, second]
    assert all(e.state == "pending" and e.attempts == 0 for e in entries)
    assert outbox.depth() == 2


def test_a_failed_transaction_consumes_no_sequence_and_writes_no_row(store: LocalStore) -> None:
    with store.transaction() as conn:
        before = meta.get(conn, meta.NEXT_DEVICE_SEQ)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        meta.take_device_seq(conn)
        outbox_rows.append(conn, intent("start", order(), seq=int(before)), NOW.timestamp())
        raise RuntimeError("power cut before commit")
    with store.transaction() as conn:
        assert meta.get(conn, meta.NEXT_DEVICE_SEQ) == before
        assert outbox_rows.depth(conn) == 0


def test_server_rows_only_move_forward_by_change_seq(store: LocalStore) -> None:
    o = order()
    top = max(o.change_seq, *(i.change_seq for i in o.order_items))
    newer_item = o.order_items[0].model_copy(update={"status": ItemStatus.done, "version": 3, "change_seq": top + 1})
    newer = o.model_copy(
        update={"version": 3, "change_seq": top + 2, "status": OrderStatus.in_progress, "order_items": [newer_item]}
    )
    with store.transaction() as conn:
        read_rows.save_order(conn, o)
        read_rows.save_order(conn, newer)
        read_rows.save_order(conn, o)  # a late, older answer
        loaded = server_rows.load_order(conn, o.id)
    assert loaded is not None and loaded.version == 3 and loaded.status is OrderStatus.in_progress
    by_id = {i.id: i for i in loaded.order_items}
    assert by_id[newer_item.id] == newer_item
    assert by_id[o.order_items[1].id] == o.order_items[1]


def test_items_need_their_order(store: LocalStore) -> None:
    o = order()
    with store.transaction() as conn:
        assert read_rows.apply_changes(conn, [Upsert(o.order_items[0])]) == set()
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as conn:
        conn.execute(
            order_items.insert().values(
                id="x", order_id="nowhere", station="grill", status="new", version=1, change_seq=1, data="{}"
            )
        )


def test_overlay_folds_pending_intents_and_leaves_out_those_that_now_reject() -> None:
    o = order()
    burger, fries = o.order_items
    bump_burger = intent("bump_item", o, item_id=burger.id)
    again = intent("bump_item", o, seq=2, item_id=burger.id)  # would be rejected: already done
    bump_fries = intent("bump_item", o, seq=3, item_id=fries.id)
    other = intent("rush", order(), seq=4)
    shown = overlay(o, [bump_burger, again, bump_fries, other], DeviceRole.kds)
    assert [i.status for i in shown.order.order_items] == [ItemStatus.done, ItemStatus.done]
    assert shown.order.status is OrderStatus.ready
    assert shown.applied == [bump_burger, bump_fries]
    assert shown.skipped == [(again, "Burger is already done")]


def test_shown_order_is_server_state_plus_pending_intents_only(store: LocalStore) -> None:
    outbox = Outbox(store, DeviceRole.kds)
    o = order()
    with store.transaction() as conn:
        read_rows.save_order(conn, o)
    bump = outbox.submit("bump_item", o.id, item_id=o.order_items[0].id)
    shown = outbox.shown_order(o.id)
    assert shown is not None and shown.order.order_items[0].status is ItemStatus.done
    with store.transaction() as conn:
        assert server_rows.load_order(conn, o.id) == o, "server rows are not touched by a tap"
        outbox_rows.reject(conn, bump.id, "Burger was voided")
    shown = outbox.shown_order(o.id)
    assert shown is not None and shown.order == o, "a rejected intent's effect is undone"
    assert [(e.intent, e.reason) for e in outbox.rejected()] == [(bump, "Burger was voided")]
    assert outbox.dismiss(bump.id) and outbox.rejected() == []
    assert outbox.shown_order(uuid.uuid4()) is None


def test_a_v1_file_with_pending_intents_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = open_engine(path)
    assert migrate(engine, target=1) == 0
    o = order()
    queued = [intent("bump_ticket", o, seq=41, station="grill"), intent("rush", o, seq=42)]
    with engine.begin() as conn:  # exactly what a v1 build wrote
        for i, it in enumerate(queued):
            conn.exec_driver_sql(
                "INSERT INTO outbox (intent_id, device_seq, kind, order_id, payload, state, attempts, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (str(it.id), it.device_seq, it.kind.value, str(o.id), it.model_dump_json(), "pending", i, 1.0 + i),
            )
        for key, value in (("device_id", "dev-1"), ("next_device_seq", "43"), ("last_change_seq", "7")):
            conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
    engine.dispose()

    with LocalStore(path) as store:
        assert store.migrated_from == 1 and store.device_id == "dev-1"
        with store.transaction() as conn:
            entries = outbox_rows.unsettled(conn)
            assert conn.exec_driver_sql("PRAGMA user_version").scalar() == LATEST
        assert [e.intent for e in entries] == queued
        assert [e.attempts for e in entries] == [0, 1] and all(e.last_error is None for e in entries)
        nxt = Outbox(store, DeviceRole.kds).submit("start", o.id)
        assert nxt.device_seq == 43
        assert store.integrity_check() == "ok"


def test_a_file_from_a_newer_build_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    LocalStore(path).close()
    engine = open_engine(path)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA user_version = {LATEST + 1}")
    engine.dispose()
    with pytest.raises(RuntimeError, match="newer than this build"):
        LocalStore(path)


@pytest.mark.slow
def test_kill_9_while_tapping_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.store.writer_proc", str(path), "100000"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    committed = []
    try:
        while len(committed) < 300:
            line = proc.stdout.readline()
            assert line, f"writer exited early with {proc.poll()}"
            committed.append(uuid.UUID(line.decode().strip()))
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: it is inside another submit right now
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    with LocalStore(path) as store:
        assert store.integrity_check() == "ok"
        with store.transaction() as conn:
            entries = outbox_rows.unsettled(conn)
            next_seq = int(meta.get(conn, meta.NEXT_DEVICE_SEQ) or 0)
    ids = [e.intent.id for e in entries]
    assert ids[: len(committed)] == committed, "every committed intent is there, in order"
    seqs = [e.intent.device_seq for e in entries]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "no gaps and no reuse"
    assert next_seq == seqs[-1] + 1


@pytest.mark.slow
def test_kill_9_loses_neither_taps_nor_server_rows_committed_before_their_fsync(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.store.writer_proc", str(path), "100000", "mixed"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    taps: list[uuid.UUID] = []
    pushed: list[str] = []
    try:
        while len(taps) < 200:
            line = proc.stdout.readline().decode().split()
            assert line, f"writer exited early with {proc.poll()}"
            if line[0] == "order":
                pushed.append(line[1])
            else:
                taps.append(uuid.UUID(line[0]))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()

    with LocalStore(path) as store:
        assert store.integrity_check() == "ok"
        with store.snapshot() as conn:
            ids = [e.intent.id for e in outbox_rows.unsettled(conn)]
            held = set(conn.execute(sa.select(orders.c.id)).scalars())
            items = conn.execute(sa.select(sa.func.count()).select_from(order_items)).scalar_one()
    assert ids[: len(taps)] == taps
    assert set(pushed) <= held, "every server order committed before the kill is there"
    assert items >= 2 * len(pushed), "with their items"


def test_server_rows_and_taps_commit_without_waiting_for_fsync_and_the_rest_with_it(store: LocalStore) -> None:
    """The read path's transactions and taps run at synchronous=NORMAL (a tap's fsync follows on the store's own
    thread), every other write at FULL, on the same pool."""
    levels = []
    for _ in range(2):
        with store.refetchable() as conn:
            levels.append(conn.exec_driver_sql("PRAGMA synchronous").scalar())
        with store.transaction() as conn:
            levels.append(conn.exec_driver_sql("PRAGMA synchronous").scalar())
        with store.deferred_sync() as conn:
            levels.append(conn.exec_driver_sql("PRAGMA synchronous").scalar())
    assert levels == [1, 2, 1, 1, 2, 1]  # NORMAL, FULL, NORMAL


def test_a_snapshot_reads_while_another_connection_holds_the_write_lock(store: LocalStore) -> None:
    Outbox(store, DeviceRole.kds).submit("start", order().id)
    with store.transaction() as writer:
        outbox_rows.append(writer, intent("rush", order(), seq=10**15), NOW.timestamp())
        with store.snapshot() as reader:  # would wait for the lock (and time out) if it began IMMEDIATE
            assert outbox_rows.depth(reader) == 1
    with store.snapshot() as reader:
        assert outbox_rows.depth(reader) == 2


def test_v7_keeps_queued_intents_and_lets_a_hub_queue_other_devices_under_their_own_numbers(tmp_path: Path) -> None:
    path = tmp_path / "v6.db"
    engine = open_engine(path)
    migrate(engine, target=6)
    o = order()
    queued = [intent("bump_ticket", o, seq=41, station="grill"), intent("rush", o, seq=42)]
    with engine.begin() as conn:
        for it in queued:
            outbox_rows.append(conn, it, 1.0)
        conn.exec_driver_sql("DELETE FROM outbox WHERE device_seq = 42")  # confirmed: its number is never reused
    engine.dispose()

    with LocalStore(path, device_id=None) as store:
        assert store.migrated_from == 6
        # Two LAN screens' taps with the same device sequence number, and one forwarded twice (kept once).
        grill = queued[0].model_copy(update={"id": uuid.uuid4(), "device_id": "r1-kds-grill-1", "device_seq": 41})
        Outbox(store, DeviceRole.admin).forward([grill, queued[0]])
        with store.snapshot() as conn:
            entries = outbox_rows.unsettled(conn)
            seqs = [r[0] for r in conn.exec_driver_sql("SELECT seq FROM outbox ORDER BY seq")]
        assert [e.intent for e in entries] == [queued[0], grill]
        assert seqs == [1, 3]  # after the old table's highest, the confirmed (deleted) one included
        assert store.integrity_check() == "ok"
