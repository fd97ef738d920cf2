"""Retention on a real store file: old finished orders go (with their items), everything a screen still needs
stays: open orders of any age, recent finished ones, and any order a tap of this screen still refers to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from api_client.models import DeviceRole, OrderWithItems
from sync.engine.outbox import Outbox
from sync.store import LocalStore, outbox_rows, read_rows
from sync.store.retention import compact_batch
from sync.store.tables import order_items, orders
from tests.sync.store.support import NOW, order

CUTOFF = NOW - timedelta(days=2)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", clock=lambda: NOW.timestamp())
    yield s
    s.close()


def aged(status: str, days: float, number: str) -> OrderWithItems:
    return order(number, updated_at=(NOW - timedelta(days=days)).isoformat(), status=status)


def ids(store: LocalStore) -> set[str]:
    with store.snapshot() as conn:
        return set(conn.execute(sa.select(orders.c.id)).scalars())


def test_old_finished_orders_go_with_their_items_and_the_rest_stays(store: LocalStore) -> None:
    old_served, old_cancelled = aged("served", 3, "S1"), aged("cancelled", 10, "C1")
    recent_served, old_open = aged("served", 1, "S2"), aged("in_progress", 30, "O1")
    old_refused, old_waiting = aged("served", 5, "S3"), aged("served", 5, "S4")
    old_cleared = order("X1", status="in_progress", updated_at=(NOW - timedelta(days=3)).isoformat(),
                        cleared_at=(NOW - timedelta(days=3)).isoformat())
    with store.transaction() as conn:
        for o in (old_served, old_cancelled, recent_served, old_open, old_refused, old_waiting, old_cleared):
            read_rows.save_order(conn, o)
    outbox = Outbox(store, DeviceRole.kds)
    refused = outbox.submit("recall", old_refused.id, station="grill")
    outbox.submit("recall", old_waiting.id, station="grill")
    with store.transaction() as conn:
        outbox_rows.reject(conn, refused.id, "nothing to recall")

    with store.transaction() as conn:
        assert compact_batch(conn, CUTOFF) == 3
    assert ids(store) == {str(o.id) for o in (recent_served, old_open, old_refused, old_waiting)}
    with store.snapshot() as conn:
        left = set(conn.execute(sa.select(order_items.c.order_id).distinct()).scalars())
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    assert left == ids(store)  # no orphaned items
    with store.transaction() as conn:
        assert compact_batch(conn, CUTOFF) == 0  # nothing more to do


def test_batches_are_bounded(store: LocalStore) -> None:
    with store.transaction() as conn:
        for n in range(7):
            read_rows.save_order(conn, aged("served", 3, f"S{n}"))
    with store.transaction() as conn:
        assert compact_batch(conn, CUTOFF, limit=3) == 3
    assert len(ids(store)) == 4


def test_a_naive_cutoff_is_refused(store: LocalStore) -> None:
    with store.transaction() as conn, pytest.raises(ValueError, match="timezone-aware"):
        compact_batch(conn, CUTOFF.replace(tzinfo=None))
