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
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .change_log import record_changes
from .engine import WRITE
from .tables import EXPOSED_TABLES, change_counter, deleted_rows

ChangeType = Literal["INSERT", "UPDATE", "DELETE"]


@dataclass(frozen=True)
class RowChange:
    """One committed row change, as realtime will publish it.

    `old_record` is the primary key for an UPDATE, and the whole deleted row for a DELETE (realtime
    publishes only its key, but needs the rest to scope and filter the change).
    """

    table: str
    type: ChangeType
    record: dict[str, Any] | None
    old_record: dict[str, Any] | None
    commit_timestamp: datetime
    seq: int | None = None
    """The change_seq this change took (commit order, server-wide)."""


@dataclass
class Writer:
    """One write transaction. Use `write_transaction()` to get one."""

    conn: sa.Connection
    now: datetime
    changes: list[RowChange] = field(default_factory=list)
    _seq: int = 0

    def _lock(self) -> None:
        query = sa.select(change_counter.c.value).where(change_counter.c.id == 1).with_for_update()
        self._seq = self.conn.execute(query).scalar_one()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _flush_counter(self) -> None:
        self.conn.execute(change_counter.update().where(change_counter.c.id == 1), {"value": self._seq})

    def insert(self, table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
        row = {**values, "version": 1, "change_seq": self.next_seq()}
        if "updated_at" in table.c:
            row["updated_at"] = self.now
        # Values go as parameters, not into the statement, so its compiled form is cached.
        self.conn.execute(table.insert(), row)
        self.changes.append(RowChange(table.name, "INSERT", row, None, self.now, row["change_seq"]))
        return row

    def update(self, table: sa.Table, before: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Write `values` over the row `before` (matched by `id`), bumping its version."""
        row = {**before, **values, "version": before["version"] + 1, "change_seq": self.next_seq()}
        if "updated_at" in table.c:
            row["updated_at"] = self.now
        changed = {k: row[k] for k in (*values, "version", "change_seq", "updated_at") if k in table.c}
        self.conn.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")), {**changed, "row_id": before["id"]}
        )
        self.changes.append(RowChange(table.name, "UPDATE", row, {"id": before["id"]}, self.now, row["change_seq"]))
        return row

    def delete(self, table: sa.Table, before: dict[str, Any]) -> None:
        """Delete the row `before` (matched by `id`); the change takes a change_seq like any other.

        The deletion is logged in `deleted_rows` under that change_seq, in this transaction, so a screen
        catching up later (`deleted_rows?change_seq=gt.N`) learns of it. Delete an order's items one by
        one before the order (a cascade would neither publish nor log them).
        """
        if table.name not in EXPOSED_TABLES:
            raise ValueError(f"Writer.delete is for the exposed tables, not {table.name}")
        seq = self.next_seq()
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
        self.changes.append(RowChange(table.name, "DELETE", None, dict(before), self.now, seq))


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Writer]:
    """A serialised write transaction; commits on normal exit, rolls back on any exception."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        writer = Writer(conn, datetime.now(UTC))
        writer._lock()
        yield writer
        writer._flush_counter()
        if writer.changes and conn.dialect.name == "postgresql":
            # Other companion instances on this database publish these too (realtime/pg_listener.py).
            record_changes(conn, writer.changes)
