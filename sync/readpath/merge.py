"""Applying server rows to local state: never older over newer, deletes kept as tombstones.

Rows are compared by `change_seq`. Within one row's life that is exactly the `version` order (both are stamped
in the same serialised write), and unlike `version` it stays ordered across a delete and a re-insert of the same
id, which would start again at version 1. Equal → an idempotent no-op; lower → ignored.

Deletes are tombstones by (table, id). A DELETE push carries only the primary key, never the change_seq it happened
at, so the tombstone holds a lower bound (the caller's, raised to the deleted row's own change_seq) plus the logical
time the delete was received. A row at or below the bound is a stale copy and is buried. A row above it is
ambiguous: a late copy from before the delete, or a re-insert. Only a REST read issued after the delete arrived can
tell (the server says the row exists now), so only such a row resurrects the id; a push above the bound is buried
and the next catch-up settles it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal
from uuid import UUID

from api_client.models import (
    DeletedRowPublic,
    MenuAvailabilityPublic,
    OrderItemPublic,
    OrderPublic,
    OrderWithItems,
)

Table = Literal["orders", "order_items", "menu_availability"]
TABLES: tuple[Table, ...] = ("orders", "order_items", "menu_availability")
Row = OrderPublic | OrderItemPublic | MenuAvailabilityPublic
Key = tuple[Table, UUID]

LogTable = Literal["deleted_rows"]
DELETIONS: LogTable = "deleted_rows"
"""The server's deletion log: a deleted row is gone from its table, so catch-up learns of it only here."""
Source = Table | LogTable
SOURCES: tuple[Source, ...] = (*TABLES, DELETIONS)
"""What catch-up pages, in this order, each with its own cursor."""


def table_of(row: Row | DeletedRowPublic) -> Source:
    return DELETIONS if isinstance(row, DeletedRowPublic) else _table(row)


def flatten(rows: Iterable[Row | OrderWithItems]) -> list[Row]:
    """Split embedded orders (`select=*,order_items(*)`) into plain rows: each table is merged on its own."""
    out: list[Row] = []
    for row in rows:
        if isinstance(row, OrderWithItems):
            out.append(OrderPublic.model_validate(row.model_dump(exclude={"order_items"})))
            out.extend(row.order_items)
        else:
            out.append(row)
    return out


@dataclass(frozen=True, slots=True)
class Upsert:
    row: Row
    read_at: int | None = None
    """For a row from a REST read: the logical time the read was issued; None for a realtime push."""


@dataclass(frozen=True, slots=True)
class Delete:
    table: Table
    id: UUID
    after_seq: int
    """A lower bound of the delete's change_seq (a realtime DELETE does not carry it), or, with `exact`, the
    delete's own change_seq (from the server's deletion log)."""
    received: int = 0
    """The logical time the delete was received (same clock as `Upsert.read_at`)."""
    exact: bool = False
    """`after_seq` is the delete's own change_seq: a held row above it is a later incarnation and stays."""


_MERGED: dict[str, Table] = {t: t for t in TABLES}


def merged(row: DeletedRowPublic) -> bool:
    """Whether a deletion-log row is of a table merged row by row here (recipes are re-read whole: sync/engine)."""
    return row.table_name in _MERGED


def deletion(row: DeletedRowPublic, read_at: int) -> Delete:
    """A deletion-log row (of a `merged` table) as a change: its change_seq is exact."""
    return Delete(_MERGED[row.table_name], row.row_id, row.change_seq, read_at, exact=True)


@dataclass(frozen=True, slots=True)
class Tombstone:
    seq: int
    received: int


Change = Upsert | Delete


class Outcome(StrEnum):
    INSERTED = "inserted"
    REPLACED = "replaced"
    DELETED = "deleted"
    DUPLICATE = "duplicate"  # same change_seq as local: idempotent no-op
    STALE = "stale"  # older than the local row: ignored
    BURIED = "buried"  # at or below the tombstone of a deleted row: ignored

    @property
    def changed(self) -> bool:
        return self in (Outcome.INSERTED, Outcome.REPLACED, Outcome.DELETED)


def decide(local_seq: int | None, tombstone: Tombstone | None, incoming_seq: int, read_at: int | None) -> Outcome:
    """The pure rule for an upsert, shared by any store (in-memory here, SQLite in the engine)."""
    if local_seq is None:
        if tombstone is not None:
            fresh_read = read_at is not None and read_at > tombstone.received
            if incoming_seq <= tombstone.seq or not fresh_read:
                return Outcome.BURIED
        return Outcome.INSERTED
    if incoming_seq > local_seq:
        return Outcome.REPLACED
    return Outcome.DUPLICATE if incoming_seq == local_seq else Outcome.STALE


@dataclass(frozen=True, slots=True)
class MergeResult:
    outcome: Outcome
    table: Table
    id: UUID
    order_id: UUID | None
    """The order a change touches (for orders and their items), so the UI refreshes that ticket."""


@dataclass(frozen=True, slots=True)
class Changed:
    """What a batch changed, for one coalesced UI notification."""

    order_ids: frozenset[UUID] = frozenset()
    menu_ids: frozenset[UUID] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.order_ids or self.menu_ids)

    def __or__(self, other: Changed) -> Changed:
        return Changed(self.order_ids | other.order_ids, self.menu_ids | other.menu_ids)


@dataclass
class LocalState:
    """An in-memory mirror of the server rows a screen holds (the store keeps the same rule in SQLite)."""

    rows: dict[Key, Row] = field(default_factory=dict)
    tombstones: dict[Key, Tombstone] = field(default_factory=dict)

    def apply(self, change: Change) -> MergeResult:
        if isinstance(change, Delete):
            return self._delete(change)
        row = change.row
        key: Key = (_table(row), row.id)
        local = self.rows.get(key)
        local_seq = None if local is None else local.change_seq
        outcome = decide(local_seq, self.tombstones.get(key), row.change_seq, change.read_at)
        if outcome.changed:
            self.rows[key] = row
            self.tombstones.pop(key, None)  # a newer incarnation: the tombstone is behind it now
        return MergeResult(outcome, key[0], row.id, _order_id(row))

    def apply_all(self, changes: Iterable[Change]) -> Changed:
        order_ids: set[UUID] = set()
        menu_ids: set[UUID] = set()
        for change in changes:
            result = self.apply(change)
            if not result.outcome.changed:
                continue
            if result.order_id is not None:
                order_ids.add(result.order_id)
            else:
                menu_ids.add(result.id)
        return Changed(frozenset(order_ids), frozenset(menu_ids))

    def replace(self, changes: Iterable[Change]) -> Changed:
        """Drop every row, then apply `changes` (a snapshot). Tombstones stay: a snapshot read before a buffered
        DELETE must not bring that row back. Everything that was or is now held counts as changed."""
        before = Changed(
            frozenset(oid for r in self.rows.values() if (oid := _order_id(r)) is not None),
            frozenset(r.id for r in self.rows.values() if isinstance(r, MenuAvailabilityPublic)),
        )
        self.rows.clear()
        return before | self.apply_all(changes)

    def order(self, order_id: UUID) -> OrderWithItems | None:
        """The order with its items as the server last told us, or None if we do not hold it."""
        head = self.rows.get(("orders", order_id))
        if not isinstance(head, OrderPublic):
            return None
        items = [
            r for (t, _), r in self.rows.items() if isinstance(r, OrderItemPublic) and _order_id(r) == order_id
        ]
        items.sort(key=lambda i: (i.created_at, i.change_seq))
        return OrderWithItems.model_validate({**head.model_dump(), "order_items": [i.model_dump() for i in items]})

    def prune_tombstones(self, below_seq: int) -> None:
        """Forget tombstones no page can undercut any more (below the catch-up's lowest `since`)."""
        self.tombstones = {k: t for k, t in self.tombstones.items() if t.seq >= below_seq}

    def _delete(self, change: Delete) -> MergeResult:
        key: Key = (change.table, change.id)
        held = self.rows.get(key)
        if held is not None and change.exact and held.change_seq > change.after_seq:
            return MergeResult(Outcome.STALE, change.table, change.id, _order_id(held))
        local = self.rows.pop(key, None)
        # The tombstone covers the row we held even if the bound we were given is lower: every copy up to now is dead.
        old = self.tombstones.get(key)
        seq = max(change.after_seq, local.change_seq if local is not None else 0, old.seq if old else 0)
        self.tombstones[key] = Tombstone(seq, max(change.received, old.received if old else 0))
        order_id = _order_id(local) if local is not None else (change.id if change.table == "orders" else None)
        return MergeResult(
            Outcome.DELETED if local is not None else Outcome.DUPLICATE, change.table, change.id, order_id
        )


def _table(row: Row) -> Table:
    """The table a server row belongs to (`table_of` also names the deletion log)."""
    if isinstance(row, OrderPublic):
        return "orders"
    if isinstance(row, OrderItemPublic):
        return "order_items"
    return "menu_availability"


def _order_id(row: Row) -> UUID | None:
    if isinstance(row, OrderPublic):
        return row.id
    if isinstance(row, OrderItemPublic):
        return row.order_id
    return None
