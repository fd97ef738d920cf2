"""merge: never older over newer, idempotent, deletes as tombstones, and what changed."""

from __future__ import annotations

from api_client.models import OrderPublic
from sync.readpath.merge import Changed, Delete, LocalState, Outcome, Tombstone, Upsert, decide, flatten

from .rows import item, menu, order, uid, with_items


def test_decide_orders_by_change_seq() -> None:
    assert decide(None, None, 5, None) is Outcome.INSERTED
    assert decide(5, None, 6, None) is Outcome.REPLACED
    assert decide(5, None, 5, None) is Outcome.DUPLICATE
    assert decide(5, None, 4, None) is Outcome.STALE


def test_decide_tombstone_buries_at_or_below_and_pushes_above() -> None:
    stone = Tombstone(seq=10, received=3)
    assert decide(None, stone, 10, read_at=9) is Outcome.BURIED
    assert decide(None, stone, 8, read_at=None) is Outcome.BURIED
    # Above the bound, a push is ambiguous (late copy or re-insert): buried until a REST read says otherwise.
    assert decide(None, stone, 11, read_at=None) is Outcome.BURIED
    # A read issued before the delete arrived cannot prove the row exists after it.
    assert decide(None, stone, 11, read_at=3) is Outcome.BURIED
    assert decide(None, stone, 11, read_at=4) is Outcome.INSERTED


def test_newer_replaces_older_is_ignored_equal_is_no_op() -> None:
    state = LocalState()
    assert state.apply(Upsert(order(1, seq=5, version=2))).outcome is Outcome.INSERTED
    assert state.apply(Upsert(order(1, seq=3, version=1, notes="old"))).outcome is Outcome.STALE
    assert state.rows[("orders", uid(1))].version == 2
    assert state.apply(Upsert(order(1, seq=5, version=2))).outcome is Outcome.DUPLICATE
    newer = order(1, seq=9, version=3, status="in_progress")
    result = state.apply(Upsert(newer))
    assert result.outcome is Outcome.REPLACED
    assert result.order_id == uid(1)
    assert state.rows[("orders", uid(1))] == newer


def test_same_id_in_different_tables_does_not_collide() -> None:
    state = LocalState()
    state.apply(Upsert(order(1, seq=5)))
    assert state.apply(Upsert(menu(1, seq=2))).outcome is Outcome.INSERTED
    assert len(state.rows) == 2


def test_delete_then_stale_copy_does_not_resurrect() -> None:
    state = LocalState()
    state.apply(Upsert(item(10, 1, seq=7, version=2)))
    result = state.apply(Delete("order_items", uid(10), after_seq=3, received=5))
    assert result.outcome is Outcome.DELETED
    assert result.order_id == uid(1)
    # The bound is raised to the deleted row's own seq, so even a copy above the caller's bound is buried.
    assert state.tombstones[("order_items", uid(10))] == Tombstone(7, 5)
    assert state.apply(Upsert(item(10, 1, seq=7, version=2))).outcome is Outcome.BURIED
    assert state.apply(Upsert(item(10, 1, seq=6, version=1), read_at=99)).outcome is Outcome.BURIED
    assert ("order_items", uid(10)) not in state.rows


def test_newer_rest_read_resurrects_a_deleted_id() -> None:
    state = LocalState()
    state.apply(Upsert(order(1, seq=7)))
    state.apply(Delete("orders", uid(1), after_seq=7, received=5))
    assert state.apply(Upsert(order(1, seq=20), read_at=6)).outcome is Outcome.INSERTED
    assert ("orders", uid(1)) not in state.tombstones
    assert state.rows[("orders", uid(1))].change_seq == 20


def test_delete_of_unknown_row_leaves_a_tombstone_but_reports_no_change() -> None:
    state = LocalState()
    result = state.apply(Delete("menu_availability", uid(3), after_seq=4, received=1))
    assert result.outcome is Outcome.DUPLICATE
    assert not result.outcome.changed
    assert state.apply(Upsert(menu(3, seq=4))).outcome is Outcome.BURIED


def test_apply_all_reports_changed_orders_and_menu() -> None:
    state = LocalState()
    state.apply(Upsert(order(1, seq=5)))
    changed = state.apply_all(
        [
            Upsert(order(1, seq=5)),  # duplicate: not a change
            Upsert(item(10, 2, seq=6)),  # an item changes its order
            Upsert(menu(7, seq=8)),
            Upsert(order(3, seq=2)),
            Upsert(order(3, seq=1)),  # stale
        ]
    )
    assert changed == Changed(frozenset({uid(2), uid(3)}), frozenset({uid(7)}))
    assert not state.apply_all([Upsert(order(1, seq=5))])
    assert (Changed(frozenset({uid(1)})) | Changed(menu_ids=frozenset({uid(2)}))) == Changed(
        frozenset({uid(1)}), frozenset({uid(2)})
    )


def test_flatten_splits_embedded_items_and_order_assembles_them_back() -> None:
    head = order(1, seq=9, version=2)
    items = [item(10, 1, seq=4), item(11, 1, seq=9)]
    rows = flatten([with_items(head, items), menu(5, seq=3)])
    assert [type(r).__name__ for r in rows] == [
        "OrderPublic",
        "OrderItemPublic",
        "OrderItemPublic",
        "MenuAvailabilityPublic",
    ]
    assert type(rows[0]) is OrderPublic
    state = LocalState()
    state.apply_all(Upsert(r) for r in rows)
    state.apply(Upsert(item(12, 2, seq=10)))  # another order's item stays out
    assembled = state.order(uid(1))
    assert assembled is not None
    assert assembled == with_items(head, items)
    assert state.order(uid(2)) is None


def test_prune_tombstones_keeps_the_ones_a_page_can_still_undercut() -> None:
    state = LocalState()
    state.apply(Delete("orders", uid(1), after_seq=10))
    state.apply(Delete("orders", uid(2), after_seq=300))
    state.prune_tombstones(below_seq=100)
    assert set(state.tombstones) == {("orders", uid(2))}


def test_replace_drops_rows_not_in_the_snapshot_but_keeps_tombstones() -> None:
    state = LocalState()
    state.apply_all([Upsert(order(1, seq=5)), Upsert(item(10, 1, seq=6)), Upsert(menu(7, seq=2))])
    state.apply(Delete("orders", uid(4), after_seq=8, received=3))
    changed = state.replace([Upsert(order(2, seq=9), read_at=1), Upsert(order(4, seq=8), read_at=1)])
    assert set(state.rows) == {("orders", uid(2))}
    assert ("orders", uid(4)) in state.tombstones
    assert changed == Changed(frozenset({uid(1), uid(2)}), frozenset({uid(7)}))
