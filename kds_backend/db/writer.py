"""Write transactions: row versions, the server-wide change sequence, and the changes they produce.

Every write transaction locks the single `change_counter` row first. That serialises writers on both
SQLite (where `BEGIN IMMEDIATE` already does) and PostgreSQL (the row lock is held to commit), so
`change_seq` order is commit order: a client that catches up with `change_seq > N` can never miss a
row committed later with a smaller number.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .change_log import record_changes
from .engine import WRITE
from .row_change import ChangeType, RowChange
from .tables import EXPOSED_TABLES, change_counter, deleted_rows, order_items, orders

__all__ = ["ChangeType", "RowChange", "Writer", "WriterMark", "write_transaction"]  # RowChange lives in row_change


def _update_by_id(table: sa.Table) -> sa.Update:
    """`UPDATE table SET ... WHERE id = :row_id`, built once per table: the SET columns come from the
    parameters, so one statement object (and its cached compiled forms) serves every update."""
    stmt = _UPDATES.get(table.name)
    if stmt is None:
        stmt = _UPDATES[table.name] = table.update().where(table.c.id == sa.bindparam("row_id"))
    return stmt


_UPDATES: dict[str, sa.Update] = {}
_LOCK_COUNTER = sa.select(change_counter.c.value).where(change_counter.c.id == 1).with_for_update()
_SET_COUNTER = change_counter.update().where(change_counter.c.id == 1)


def _plain_keys(row: dict[str, Any]) -> dict[str, Any]:
    """`row` keyed by plain `str`. Column names from SQLAlchemy (`c.name`, a row's mapping keys) are
    `quoted_name`, a `str` subclass; as the keys of a change's record they made pydantic-core's JSON
    conversion (realtime's `prepare`) take ~200 us per change instead of ~20."""
    return {str(k): v for k, v in row.items()}


@dataclass(frozen=True)
class WriterMark:
    """Where a Writer was (see `Writer.mark`): its changes and sequence, to roll back to with a savepoint."""

    changes: int
    seq: int


@dataclass
class Writer:
    """One write transaction. Use `write_transaction()` to get one."""

    conn: sa.Connection
    now: datetime
    changes: list[RowChange] = field(default_factory=list)
    _seq: int = 0
    # How many intents this transaction has decided: the n-th stamps the items it finishes n microseconds after
    # `now` (kds_backend.intents), across apply_intents calls as the SQL twin's transaction-local kds.intent_no.
    intents_decided: int = 0
    # Deferred writes (`insert(..., defer=True)`, `update(..., defer=True)`), executed by `flush()`: rows to
    # insert per table in the order given, and the last state of each updated row, keyed by (table, id).
    _inserts: dict[str, tuple[sa.Table, list[dict[str, Any]]]] = field(default_factory=dict)
    _updates: dict[tuple[str, Any], tuple[sa.Table, dict[str, Any]]] = field(default_factory=dict)
    # Orders whose items this transaction inserted or deleted: `settle_item_counts` makes their item_count true
    # before the commit, whichever path wrote the items (intake, REST, the hub's projection, a purge).
    _item_orders: set[Any] = field(default_factory=set)
    # Orders this transaction created, with the count each was inserted with, and its items' inserts (+1) and
    # deletes (-1) per order: an order created here has no items but those, so a count that matches them needs no
    # query (POS intake: the two queries cost a quarter of its CPU, bench/RESULTS.md).
    _created_counts: dict[Any, int] = field(default_factory=dict)
    _item_delta: dict[Any, int] = field(default_factory=dict)

    def _lock(self) -> None:
        self._seq = self.conn.execute(_LOCK_COUNTER).scalar_one()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _flush_counter(self) -> None:
        self.conn.execute(_SET_COUNTER, {"value": self._seq})

    def insert(self, table: sa.Table, values: dict[str, Any], *, defer: bool = False) -> dict[str, Any]:
        """Insert a row (version 1, a new change_seq). With `defer`, the INSERT waits for `flush()`, which
        writes all deferred rows of a table with one executemany; the change is recorded now either way."""
        row = {**_plain_keys(values), "version": 1, "change_seq": self.next_seq()}
        if "updated_at" in table.c:
            row["updated_at"] = self.now
        if table.name == "orders":
            row.setdefault("item_count", 0)  # published whole: the frame carries the count the row has
            self._created_counts[row["id"]] = row["item_count"]
        elif table.name == "order_items":
            self._item_orders.add(row["order_id"])
            self._item_delta[row["order_id"]] = self._item_delta.get(row["order_id"], 0) + 1
        if defer:
            self._inserts.setdefault(table.name, (table, []))[1].append(row)
        else:
            self._flush_pending()  # statements keep the order of the calls
            # Values go as parameters, not into the statement, so its compiled form is cached.
            self.conn.execute(table.insert(), row)
        self.changes.append(RowChange(table.name, "INSERT", row, None, self.now, row["change_seq"]))
        return row

    def update(
        self, table: sa.Table, before: dict[str, Any], values: dict[str, Any], *, defer: bool = False
    ) -> dict[str, Any]:
        """Write `values` over the row `before` (matched by `id`), bumping its version.

        `before` is the whole row as it stands: realtime publishes it as the UPDATE's old record.
        With `defer`, only the row's last state is written, by `flush()` (a row
        updated three times in a batch is written once), while each update still takes its own change_seq
        and publishes its own change.
        """
        old = _plain_keys(before)  # a copy: the caller's dict may change after this
        row = {**old, **_plain_keys(values), "version": before["version"] + 1}
        row["change_seq"] = self.next_seq()
        if "updated_at" in table.c:
            row["updated_at"] = self.now
        if defer:
            self._updates[(table.name, before["id"])] = (table, row)
        else:
            self._flush_pending()
            changed = {k: row[k] for k in (*values, "version", "change_seq", "updated_at") if k in table.c}
            self.conn.execute(_update_by_id(table), {**changed, "row_id": before["id"]})
        self.changes.append(RowChange(table.name, "UPDATE", row, old, self.now, row["change_seq"]))
        return row

    def flush(self) -> None:
        """Execute the deferred writes: inserts first (in the order their tables were first written, so an
        order goes before its items), then each updated row's last state, one executemany per table."""
        inserts, updates = self._inserts, self._updates
        self._inserts, self._updates = {}, {}
        self._created_counts = {}  # what was rolled back is not known here: every touched order is counted
        for table, rows in inserts.values():
            self.conn.execute(table.insert(), rows)
        by_table: dict[str, tuple[sa.Table, list[dict[str, Any]]]] = {}
        for table, row in updates.values():
            params = {c.name: row[c.name] for c in table.c if c.name != "id"}
            params["row_id"] = row["id"]
            by_table.setdefault(table.name, (table, []))[1].append(params)
        for table, params_list in by_table.values():
            self.conn.execute(_update_by_id(table), params_list)

    def settle_item_counts(self) -> None:
        """Set `orders.item_count` to the real number of items of each order whose items were inserted or deleted,
        where it differs, through `update` (a new version and change_seq, and a change in this same commit, so a
        screen holding the commit's frames knows how many items to wait for). An order written with its count
        already right (POS intake sets it on the insert) gets no extra change."""
        created, delta = self._created_counts, self._item_delta
        ids = [i for i in self._item_orders if i not in created or created[i] != delta.get(i, 0)]
        self._item_orders, self._created_counts, self._item_delta = set(), {}, {}
        if not ids:
            return
        self._flush_pending()
        counted = (
            sa.select(order_items.c.order_id, sa.func.count())
            .where(order_items.c.order_id.in_(ids))
            .group_by(order_items.c.order_id)
        )
        counts: dict[Any, int] = {order_id: n for order_id, n in self.conn.execute(counted)}
        for row in self.conn.execute(sa.select(orders).where(orders.c.id.in_(ids))).mappings().all():
            n = counts.get(row["id"], 0)
            if row["item_count"] != n:
                self.update(orders, dict(row), {"item_count": n})

    def _flush_pending(self) -> None:
        if self._inserts or self._updates:
            self.flush()

    def mark(self) -> WriterMark:
        """Where this writer is now; `rollback_to` returns to it (after a savepoint's rollback)."""
        return WriterMark(len(self.changes), self._seq)

    def rollback_to(self, mark: WriterMark) -> None:
        del self.changes[mark.changes :]
        self._seq = mark.seq
        self._inserts, self._updates = {}, {}

    def delete(self, table: sa.Table, before: dict[str, Any]) -> None:
        """Delete the row `before` (matched by `id`); the change takes a change_seq like any other.

        The deletion is logged in `deleted_rows` under that change_seq, in this transaction, so a screen
        catching up later (`deleted_rows?change_seq=gt.N`) learns of it. Delete an order's items one by
        one before the order (a cascade would neither publish nor log them).
        """
        if table.name not in EXPOSED_TABLES:
            raise ValueError(f"Writer.delete is for the exposed tables, not {table.name}")
        seq = self.next_seq()
        self._flush_pending()
        if table.name == "order_items":
            self._item_orders.add(before["order_id"])
            self._item_delta[before["order_id"]] = self._item_delta.get(before["order_id"], 0) - 1
        self.conn.execute(table.delete().where(table.c.id == sa.bindparam("row_id")), {"row_id": before["id"]})
        order_id = {"orders": before["id"], "order_items": before.get("order_id")}.get(table.name)
        self.conn.execute(
            deleted_rows.insert(),
            {
                "change_seq": seq,
                "restaurant_id": before["restaurant_id"],
                "table_name": table.name,
                "row_id": before["id"],
                "order_id": order_id,
                "deleted_at": self.now,
            },
        )
        self.changes.append(RowChange(table.name, "DELETE", None, _plain_keys(before), self.now, seq))


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Writer]:
    """A serialised write transaction; commits on normal exit, rolls back on any exception."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        writer = Writer(conn, datetime.now(UTC))
        writer._lock()
        yield writer
        writer.settle_item_counts()
        writer.flush()
        writer._flush_counter()
        if writer.changes and conn.dialect.name == "postgresql":
            # Other companion instances on this database publish these too (realtime/pg_listener.py).
            record_changes(conn, writer.changes)
