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

from .engine import WRITE
from .tables import change_counter

ChangeType = Literal["INSERT", "UPDATE", "DELETE"]


@dataclass(frozen=True)
class RowChange:
    """One committed row change, as realtime will publish it."""

    table: str
    type: ChangeType
    record: dict[str, Any] | None
    old_record: dict[str, Any] | None
    commit_timestamp: datetime


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
        self.conn.execute(change_counter.update().where(change_counter.c.id == 1).values(value=self._seq))

    def insert(self, table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
        row = {**values, "version": 1, "change_seq": self.next_seq()}
        if "updated_at" in table.c:
            row["updated_at"] = self.now
        self.conn.execute(table.insert().values(row))
        self.changes.append(RowChange(table.name, "INSERT", row, None, self.now))
        return row

    def update(self, table: sa.Table, before: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Write `values` over the row `before` (matched by `id`), bumping its version."""
        row = {**before, **values, "version": before["version"] + 1, "change_seq": self.next_seq()}
        if "updated_at" in table.c:
            row["updated_at"] = self.now
        changed = {k: row[k] for k in (*values, "version", "change_seq", "updated_at") if k in table.c}
        self.conn.execute(table.update().where(table.c.id == before["id"]).values(changed))
        self.changes.append(RowChange(table.name, "UPDATE", row, {"id": before["id"]}, self.now))
        return row


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Writer]:
    """A serialised write transaction; commits on normal exit, rolls back on any exception."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        writer = Writer(conn, datetime.now(UTC))
        writer._lock()
        yield writer
        writer._flush_counter()
