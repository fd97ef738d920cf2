"""whole_tickets: a commit's frames against the orders' item_count, the store read only when needed."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api_client.models import OrderChange, OrderItemChange
from sync.readpath.whole_tickets import Stored, new_tickets_whole, whole
from tests.sync.readpath.rows import item, order, uid

ORDER = uid(1)


def _frame(table: str, type_: str, row: Any = None, old: dict[str, Any] | None = None) -> OrderChange | OrderItemChange:
    model = OrderChange if table == "orders" else OrderItemChange
    data = {"commit_timestamp": "t", "type": type_, "columns": [], "table": table, "record": row, "old_record": old}
    return model.model_validate(data)


def _order(count: int | None, seq: int = 1, type_: str = "INSERT") -> OrderChange | OrderItemChange:
    return _frame("orders", type_, order(1, seq=seq, item_count=count).model_dump())


def _item(item_id: UUID, type_: str = "INSERT") -> OrderChange | OrderItemChange:
    return _frame("order_items", type_, {**item(2, 1, seq=2).model_dump(), "id": item_id})


def _store(counts: dict[UUID, int | None], items: dict[UUID, frozenset[UUID]]) -> Any:
    asked: list[set[UUID]] = []

    def lookup(ids: set[UUID]) -> Stored:
        asked.append(ids)
        return Stored(counts, items)

    return lookup, asked


def test_an_order_with_all_its_items_in_the_commit_is_whole_without_reading_the_store() -> None:
    lookup, asked = _store({}, {})
    assert whole([_order(2), _item(uuid4()), _item(uuid4())], lookup)
    assert asked == [], "a new ticket whole in its commit: the store can only add items, so it is not read"
    assert not whole([_order(2), _item(uuid4())], lookup), "one of two"
    assert asked == [{ORDER}]


def test_items_the_store_holds_count_and_deletes_subtract() -> None:
    a, b = uuid4(), uuid4()
    lookup, _ = _store({ORDER: 1}, {ORDER: frozenset({a})})
    assert whole([_order(2, seq=5, type_="UPDATE"), _item(b)], lookup), "an item added to an open order"
    assert not whole([_order(2, seq=5, type_="UPDATE")], lookup), "the new count before the new item"
    gone = _frame("order_items", "DELETE", None, {"id": str(a)})
    assert not whole([_order(2, seq=5, type_="UPDATE"), _item(b), gone], lookup)


def test_an_item_before_its_order_waits_for_the_order() -> None:
    lookup, _ = _store({}, {})
    assert not whole([_item(uuid4())], lookup), "the order's frame has not come yet"
    stored, _ = _store({ORDER: 1}, {ORDER: frozenset({uuid4()})})
    assert not whole([_item(uuid4())], stored), "the order's new count is in this commit, not read yet"


def test_a_server_without_the_column_is_todays_timing_hold_and_a_bump_reads_nothing() -> None:
    lookup, asked = _store({ORDER: None}, {})
    assert whole([_order(None), _item(uuid4())], lookup)
    assert whole([_item(uuid4(), "UPDATE")], lookup), "a status change of a stored item"
    assert asked == []
    assert whole([_item(uuid4())], lookup), "an order stored without a count: unknown, not waited for"


def test_new_tickets_with_all_their_items_say_they_are_whole_by_themselves() -> None:
    assert new_tickets_whole([_order(2), _item(uuid4()), _item(uuid4())])
    assert not new_tickets_whole([_order(2), _item(uuid4())]), "one item still to come"
    assert not new_tickets_whole([_item(uuid4()), _item(uuid4())]), "its order's row still to come"
    assert not new_tickets_whole([_order(None), _item(uuid4())]), "a server without the column: the hold decides"
    assert not new_tickets_whole([_order(2, type_="UPDATE"), _item(uuid4()), _item(uuid4())]), "an update"
    gone = _frame("order_items", "DELETE", None, {"id": str(uuid4())})
    assert not new_tickets_whole([_order(1), _item(uuid4()), gone]), "anything but inserts keeps the hold"
