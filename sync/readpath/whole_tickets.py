"""Whether a commit's held frames make whole tickets: the data check `CommitGroups` waits on (commit_groups.py).

An order row carries `item_count`, the number of its item rows, written in the same transaction as the items
(kds_backend/db/writer.py settle_item_counts; the Supabase trigger in 20261207008000_order_item_count.sql). A group
is whole when every order row in it with a count has at least that many items, counting the ones the store holds
plus the group's inserts minus its deletes ("at least": the store may already be ahead, from a catch-up page), and
when every inserted item's order is known: in the group, or stored with a count the items do not exceed (an item
added to an open order brings the order's new count in the same commit; until that frame is read, the card would
show the item under the old count). A row without a count (a server without the column) is taken as whole:
today's timing hold alone. Pure: the store is read through `lookup`, only when the group needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from api_client.models import OrderChange, OrderItemChange


@dataclass(frozen=True)
class Stored:
    """What the store holds of some orders: each stored order's `item_count` (None: unknown) and its item ids."""

    counts: Mapping[UUID, int | None]
    items: Mapping[UUID, frozenset[UUID]]


Lookup = Callable[[set[UUID]], Stored]


def whole(changes: Iterable[object], lookup: Lookup) -> bool:
    """Whether applying `changes` (one commit's parsed frames; others are ignored) leaves no ticket short of items."""
    counts: dict[UUID, tuple[int, int | None]] = {}  # order -> (change_seq, item_count) of its newest row here
    inserted: dict[UUID, set[UUID]] = {}  # order -> item ids the group writes
    added: set[UUID] = set()  # orders that gained an item row here (an INSERT)
    deleted: set[UUID] = set()  # item ids the group deletes
    gone: set[UUID] = set()  # orders the group deletes
    for change in changes:
        if isinstance(change, OrderChange):
            if change.type == "DELETE":
                gone |= _old_id(change.old_record)
            elif change.record is not None:
                row = change.record
                if row.id not in counts or counts[row.id][0] < row.change_seq:
                    counts[row.id] = (row.change_seq, row.item_count)
        elif isinstance(change, OrderItemChange):
            if change.type == "DELETE":
                deleted |= _old_id(change.old_record)
            elif change.record is not None:
                inserted.setdefault(change.record.order_id, set()).add(change.record.id)
                if change.type == "INSERT":
                    added.add(change.record.order_id)
    counted = {order: n for order, (_, n) in counts.items() if n is not None and order not in gone}
    orphans = added - set(counts) - gone  # inserted items whose order row is not in this commit
    # An order the group fills by itself (a new ticket: its row and all its items in one commit) needs nothing from
    # the store, whatever it holds: the store's items can only add to the count. The common case, so no read.
    short = {order for order, n in counted.items() if len(inserted.get(order, set()) - deleted) < n}
    if not short and not orphans:
        return True
    stored = lookup(short | orphans)

    def have(order: UUID) -> int:
        return len((stored.items.get(order, frozenset()) | inserted.get(order, set())) - deleted)

    if any(have(order) < counted[order] for order in short):
        return False
    for order in orphans:
        if order not in stored.counts:
            return False  # its order's frame has not come yet (frames reordered on the way)
        n = stored.counts[order]
        if n is not None and have(order) > n:
            return False  # the order's new count is in this commit, not read yet
    return True


def _old_id(old: Mapping[str, object] | None) -> set[UUID]:
    """The deleted row's id, as a set of one (none if the frame does not say)."""
    value = (old or {}).get("id")
    if value is None:
        return set()
    return {value if isinstance(value, UUID) else UUID(str(value))}


def new_tickets_whole(changes: Iterable[object]) -> bool:
    """Whether `changes` (one commit's frames so far) are new tickets, each with every item its `item_count` says,
    and nothing else: such a commit needs no timing hold (`CommitGroups`' `done`). POS intake writes exactly this,
    and it is the path a cook waits on. Anything else (an update, a row without a count, an item of another order)
    is not known to be whole by itself and keeps the hold."""
    # On every frame pushed (the hot path): keyed by the ids' ints, whose hash is C's, not `UUID.__hash__`'s.
    counts: dict[int, int] = {}
    items: dict[int, int] = {}
    for change in changes:
        if isinstance(change, OrderItemChange):
            if change.type != "INSERT" or change.record is None:
                return False
            order = change.record.order_id.int
            items[order] = items.get(order, 0) + 1
        elif isinstance(change, OrderChange):
            if change.type != "INSERT" or change.record is None or change.record.item_count is None:
                return False
            counts[change.record.id.int] = change.record.item_count
        else:
            return False
    return bool(counts) and items.keys() <= counts.keys() and all(items.get(o, 0) == n for o, n in counts.items())
