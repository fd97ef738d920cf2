"""The read path's writes to SQLite: by change_seq, snapshots replace, deletes remove, cursors survive reopening."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from api_client.models import DeletedRowPublic
from sync.readpath.merge import Delete, Upsert, deletion, flatten
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
        assert read_rows.load_cursor(conn) is None, "without the deletion log's cursor the cursor is incomplete"
        read_rows.save_cursor(conn, {"orders": 6, "order_items": 7, "menu_availability": 1, "deleted_rows": 4})
    with LocalStore(path, device_id="d") as store, store.snapshot() as conn:
        assert read_rows.load_cursor(conn) == {"orders": 6, "order_items": 7, "menu_availability": 1, "deleted_rows": 4}


def test_a_deleted_row_stays_buried_after_reopening(tmp_path: Path) -> None:
    """A late push or replayed answer carrying a deleted row must not bring it back, before or after a restart."""
    path = tmp_path / "screen.db"
    with LocalStore(path, device_id="d") as store, store.transaction() as conn:
        read_rows.apply_changes(conn, [Upsert(order(1, seq=5)), Upsert(item(2, 1, seq=6))])
        assert read_rows.apply_changes(conn, [Delete("orders", uid(1), 6, received=3)]) == {uid(1)}
        assert read_rows.apply_changes(conn, [Upsert(order(1, seq=5))]) == set()
    with LocalStore(path, device_id="d") as store:
        with store.transaction() as conn:
            assert read_rows.max_received(conn) == 3
            # A replayed push (read_at None), and a stale copy from a REST read issued before the delete.
            assert read_rows.apply_changes(conn, [Upsert(order(1, seq=5)), Upsert(order(1, seq=6))]) == set()
            assert read_rows.apply_changes(conn, [Upsert(order(1, seq=6), read_at=2)]) == set()
        with store.snapshot() as conn:
            assert server_rows.load_order(conn, uid(1)) is None


def test_a_logged_delete_removes_only_the_incarnation_it_deleted(store: LocalStore) -> None:
    """The deletion log's change_seq is exact: a re-inserted row newer than the delete is kept, and a REST
    read after the delete that sees a newer incarnation brings the id back."""
    with store.transaction() as conn:
        read_rows.apply_changes(conn, [Upsert(order(1, seq=20))])
        assert read_rows.apply_changes(conn, [deletion_of("orders", 1, seq=15, received=4)]) == set()
        assert server_rows.load_order(conn, uid(1)) is not None
        assert read_rows.apply_changes(conn, [deletion_of("orders", 1, seq=25, received=5)]) == {uid(1)}
        assert read_rows.apply_changes(conn, [Upsert(order(1, seq=24), read_at=9)]) == set(), "older than the delete"
        assert read_rows.apply_changes(conn, [Upsert(order(1, seq=30), read_at=9)]) == {uid(1)}, "re-inserted"
        assert server_rows.load_order(conn, uid(1)) is not None


def test_tombstones_are_pruned_by_age(store: LocalStore) -> None:
    with store.transaction() as conn:
        read_rows.apply_changes(conn, [Delete("orders", uid(1), 6)], now=100.0)
        read_rows.apply_changes(conn, [Delete("orders", uid(2), 7)], now=200.0)
        assert read_rows.prune_tombstones(conn, before=150.0) == 1
        assert read_rows.apply_changes(conn, [Upsert(order(2, seq=7))]) == set(), "the younger one still buries"
        assert read_rows.apply_changes(conn, [Upsert(order(1, seq=6))]) == {uid(1)}, "the pruned one is forgotten"


def deletion_of(table: str, n: int, seq: int, received: int) -> Delete:
    row = DeletedRowPublic(
        change_seq=seq,
        restaurant_id="r1",
        table_name=table,
        row_id=uid(n),
        order_id=uid(n),
        deleted_at=datetime(2026, 12, 6, tzinfo=UTC),
    )
    return deletion(row, received)


def test_an_rpc_answer_and_a_push_follow_one_rule(store: LocalStore) -> None:
    """Defect 4: RPC answers used to be written by version and pushes by change_seq. A row deleted and inserted
    again starts over at version 1; by version the fresher incarnation lost to the stale one, by change_seq it wins,
    and whichever path brings a row, the same order decides."""
    old = with_items(order(1, seq=5, version=3), [item(2, 1, seq=4, version=3)])
    again = with_items(order(1, seq=9, version=1), [item(2, 1, seq=8, version=1)])
    with store.transaction() as conn:
        read_rows.save_order(conn, old)  # an RPC answer
        assert read_rows.apply_changes(conn, [Upsert(r) for r in flatten([again])]) == {uid(1)}  # pushes
        assert read_rows.save_order(conn, old) == set(), "a late RPC answer does not undo newer pushes"
        shown = server_rows.load_order(conn, uid(1))
    assert shown is not None and shown.change_seq == 9 and [i.change_seq for i in shown.order_items] == [8]


def test_pushed_items_of_an_order_not_held_are_reported_unless_the_order_was_deleted(store: LocalStore) -> None:
    """Frames reordered across commits: an item pushed before its order is not stored; the engine is told so it
    catches up at once. REST rows never count (closed orders' items are left out on purpose), nor deleted orders."""
    with store.transaction() as conn:
        read_rows.apply_changes(conn, [Upsert(order(1, seq=1))])
        read_rows.apply_changes(conn, [Delete("orders", uid(3), 5)])
        pushes = [Upsert(item(10, 1, seq=6)), Upsert(item(20, 2, seq=7)), Upsert(item(30, 3, seq=8))]
        assert read_rows.apply_batch(conn, pushes).orphaned == {uid(2)}
        assert read_rows.apply_batch(conn, [Upsert(item(20, 2, seq=7), read_at=4)]).orphaned == set()
        assert server_rows.load_order(conn, uid(2)) is None


_seq = st.integers(1, 12)
_read_at = st.none() | st.integers(1, 12)
# Few ids, so one batch often upserts, deletes and revives the same rows (an order and its items).
_change = st.one_of(
    st.builds(lambda n, seq, read: Upsert(order(n, seq=seq), read_at=read), st.sampled_from([1, 2]), _seq, _read_at),
    st.builds(
        lambda n, parent, seq, read: Upsert(item(n, parent, seq=seq), read_at=read),
        st.sampled_from([3, 4]),
        st.sampled_from([1, 1, 2]),
        _seq,
        _read_at,
    ),
    st.builds(
        lambda row, seq, received, exact: Delete(row[0], uid(row[1]), seq, received, exact=exact),
        st.sampled_from([("orders", 1), ("orders", 2), ("order_items", 3), ("order_items", 4)]),
        st.integers(0, 12),
        st.integers(0, 12),
        st.booleans(),
    ),
)


def _dump(store: LocalStore) -> tuple[object, ...]:
    with store.snapshot() as conn:
        return tuple(
            sorted(map(tuple, conn.exec_driver_sql(f"SELECT {columns} FROM {table}").all()))
            for table, columns in (
                ("orders", "id, change_seq, data"),
                ("order_items", "id, order_id, change_seq, data"),
                ("tombstones", "tbl, id, seq, received"),
            )
        )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_change, max_size=12), max_size=4))
@example(  # an order and its item stored, the order deleted (its items go with it), then the item's own delete
    [
        [
            Upsert(order(1, seq=1)),
            Upsert(item(3, 1, seq=2)),
            Delete("orders", uid(1), 3, 1),
            Delete("order_items", uid(3), 0, 1),
        ]
    ]
)
def test_a_batch_in_one_call_ends_as_its_changes_one_by_one(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[Upsert | Delete]]
) -> None:
    """The engine hands a whole batch of frames to one call, which reads what it needs up front: the rows and
    tombstones it ends with, and the orders it reports, are those of applying each change on its own."""
    folder = tmp_path_factory.mktemp("batch")
    with (
        LocalStore(folder / "batched.db", device_id="a") as batched,
        LocalStore(folder / "single.db", device_id="b") as single,
    ):
        for batch in batches:
            with batched.refetchable() as conn:
                together = read_rows.apply_changes(conn, batch, now=1.0)
            one_by_one: set[object] = set()
            with single.refetchable() as conn:
                for change in batch:
                    one_by_one |= read_rows.apply_changes(conn, [change], now=1.0)
            assert together == one_by_one
            assert _dump(batched) == _dump(single)
