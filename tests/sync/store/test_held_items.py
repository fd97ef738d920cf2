"""server_rows.held_items: what a commit's held frames are checked against (orders.item_count and the stored lines).

The count lives in the row's JSON like every other server column: no local schema step, so a screen.sqlite3 written
by an older build opens as it is, its rows without a count (None: held by timing alone, as before)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sync.readpath.merge import Upsert
from sync.store import LocalStore, read_rows, server_rows
from sync.store.tables import orders
from tests.sync.readpath.rows import item, order, uid


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.sqlite3", device_id="r1-kds-1")
    yield s
    s.close()


def test_counts_and_lines_of_the_orders_asked_for(store: LocalStore) -> None:
    with store.transaction() as conn:
        read_rows.apply_changes(
            conn,
            [
                Upsert(order(1, seq=1, item_count=2)),
                Upsert(item(2, 1, seq=2)),
                Upsert(order(3, seq=3, item_count=None)),
            ],
        )
        counts, items = server_rows.held_items(conn, {uid(1), uid(3), uid(9)})
    assert counts == {uid(1): 2, uid(3): None}, "order 9 is not held: not in the answer"
    assert items == {uid(1): frozenset({uid(2)})}


def test_a_row_stored_by_an_older_build_has_no_count_and_the_file_reopens(tmp_path: Path) -> None:
    path = tmp_path / "screen.sqlite3"
    with LocalStore(path, device_id="r1-kds-1") as old, old.transaction() as conn:
        read_rows.apply_changes(conn, [Upsert(order(1, seq=1))])
        # As an older build wrote it: the JSON without the key at all.
        data = conn.execute(sa.select(orders.c.data)).scalar_one()
        assert '"item_count"' in data
        conn.execute(orders.update().values(data=data.replace(',"item_count":null', "")))
    with LocalStore(path, device_id="r1-kds-1") as reopened, reopened.snapshot() as conn:
        assert '"item_count"' not in conn.execute(sa.select(orders.c.data)).scalar_one()
        counts, _items = server_rows.held_items(conn, {uid(1)})
        loaded = server_rows.load_order(conn, uid(1))
    assert counts == {uid(1): None}
    assert loaded is not None and loaded.item_count is None
