"""The read path's writes to SQLite: by change_seq, snapshots replace, deletes remove, cursors survive reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.readpath.merge import Delete, Upsert, flatten
from sync.store import LocalStore, read_rows, server_rows
from tests.sync.readpath.rows import item, order, uid, with_items


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1")
    yield s
    s.close()


def test_newer_change_seq_replaces_older_and_equal_are_ignored(store: LocalStore) -> None:
    with store.transaction() as conn:
        changed = read_rows.apply_changes(conn, [Upsert(order(1, seq=5)), Upsert(item(2, 1, seq=6))])
        assert changed == {uid(1)}
        # A late copy (lower seq) and a replay (equal seq) change nothing and notify nothing.
        assert read_rows.apply_changes(conn, [Upsert(order(1, seq=4, version=9, notes="old"))]) == set()
        assert read_rows.apply_changes(conn, [Upsert(item(2, 1, seq=6))]) == set()
        assert read_rows.apply_changes(conn, [Upsert(item(2, 1, seq=8, version=2, status="done"))]) == {uid(1)}
        shown = server_rows.load_order(conn, uid(1))
    assert shown is not None and shown.notes is None and shown.change_seq == 5
    assert [(i.change_seq, i.status.value) for i in shown.order_items] == [(8, "done")]


def test_item_of_an_order_not_held_is_skipped(store: LocalStore) -> None:
    with store.transaction() as conn:
        assert read_rows.apply_changes(conn, [Upsert(item(2, 1, seq=6))]) == set()
        assert server_rows.order_ids(conn) == []


def test_snapshot_reset_drops_rows_not_in_it_and_reports_them(store: LocalStore) -> None:
    with store.transaction() as conn:
        read_rows.apply_changes(conn, [Upsert(r) for r in flatten([with_items(order(1, seq=1), [item(2, 1, seq=2)])])])
        changed = read_rows.apply_changes(conn, [Upsert(order(3, seq=9))], reset=True)
        assert changed == {uid(1), uid(3)}
        assert server_rows.order_ids(conn) == [uid(3)]


def test_deletes_remove_rows_and_notify_their_order(store: LocalStore) -> None:
    with store.transaction() as conn:
        read_rows.apply_changes(conn, [Upsert(order(1, seq=1)), Upsert(item(2, 1, seq=2))])
        assert read_rows.apply_changes(conn, [Delete("order_items", uid(2), 0)]) == {uid(1)}
        assert read_rows.apply_changes(conn, [Delete("orders", uid(1), 0)]) == {uid(1)}
        assert read_rows.apply_changes(conn, [Delete("orders", uid(1), 0)]) == set()
        assert server_rows.load_order(conn, uid(1)) is None


def test_cursor_is_none_until_saved_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "screen.db"
    with LocalStore(path, device_id="d") as store, store.transaction() as conn:
        assert read_rows.load_cursor(conn) is None
        read_rows.save_cursor(conn, {"orders": 5, "order_items": 7, "menu_availability": 0})
        read_rows.save_cursor(conn, {"orders": 6, "order_items": 7, "menu_availability": 1})
    with LocalStore(path, device_id="d") as store, store.snapshot() as conn:
        assert read_rows.load_cursor(conn) == {"orders": 6, "order_items": 7, "menu_availability": 1}
