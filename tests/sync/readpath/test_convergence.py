"""Property: whatever the network does to pushes and reads, the screen converges on the server and never goes back.

A simulated server commits a random history (inserts, updates, deletes, another restaurant's rows) with one
server-wide change_seq. Its pushes are delivered, dropped, duplicated or reordered; sockets drop and come back;
reads fail, answer late, or answer for a cycle that has been restarted; pages carry rows below the requested seq.
The catch-up machine drives reads against the server's state at answer time (including its deletion log), and its
`Apply` actions go into the real SQLite store through `read_rows`, the one writer production uses. The screen may
also restart mid-way (kill -9: the machine and its buffer are lost; the store, its cursor and tombstones stay).
After a final reconnect and catch-up:

- every row the server holds equals the local row (all of them when starting from a cursor; after a snapshot,
  the rows changed since its head plus those in it: closed orders the snapshot left out need not come back);
- no row of another restaurant, and no row the server never had, is held; no deleted row is held, whether its
  DELETE push arrived or not.

And at every step: a row held locally is never older than one held before for the same id.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_client.models import DeletedRowPublic, MenuAvailabilityPublic, OrderItemPublic, OrderPublic, OrderWithItems
from sync.readpath.catchup import Apply, CatchUp, FetchPage, FetchSnapshot, Live
from sync.readpath.merge import DELETIONS, Key, Row, Source, Table
from sync.store import LocalStore, read_rows
from sync.store.tables import menu_availability, order_items, orders

from .rows import delete_push, item, menu, order, push, uid, with_items

ITEM_ORDER = {10: 1, 11: 1, 12: 2, 13: 3}
KEYS: list[tuple[Table, int]] = [
    *(("orders", n) for n in (1, 2, 3)),
    *(("order_items", n) for n in ITEM_ORDER),
    *(("menu_availability", n) for n in (20, 21)),
]
STATUSES = ["new", "in_progress", "ready", "served"]


@dataclass
class Server:
    seq: int = 0
    alive: dict[Key, Row] = field(default_factory=dict)
    versions: dict[Key, int] = field(default_factory=dict)
    deleted: set[Key] = field(default_factory=set)
    history: list[Row] = field(default_factory=list)
    log: list[DeletedRowPublic] = field(default_factory=list)

    def _row(self, table: Table, n: int, version: int, restaurant: str = "r1") -> Row:
        self.seq += 1
        if table == "orders":
            return order(n, self.seq, version, restaurant, status=STATUSES[(version - 1) % 4], notes=f"v{version}")
        if table == "order_items":
            return item(n, ITEM_ORDER[n], self.seq, version, restaurant, quantity=version)
        return menu(n, self.seq, version, restaurant, available=version % 2 == 0)

    def upsert(self, table: Table, n: int) -> list[Any]:
        key: Key = (table, uid(n))
        if key in self.deleted:
            return []  # ids are never re-used after a delete
        if table == "order_items" and ("orders", uid(ITEM_ORDER[n])) not in self.alive:
            return []  # the foreign key: no item without its order
        version = self.versions.get(key, 0) + 1
        self.versions[key] = version
        row = self._row(table, n, version)
        self.alive[key] = row
        self.history.append(row)
        return [push(row, "INSERT" if version == 1 else "UPDATE")]

    def delete(self, table: Table, n: int) -> list[Any]:
        key: Key = (table, uid(n))
        if key not in self.alive:
            return []
        events: list[Any] = []
        if table == "orders":  # items first, each a change of its own, as the companion does
            for i, o in ITEM_ORDER.items():
                if o == n and ("order_items", uid(i)) in self.alive:
                    events += self.delete("order_items", i)
        self.seq += 1
        gone = self.alive.pop(key)
        self.deleted.add(key)
        owner = gone.order_id if isinstance(gone, OrderItemPublic) else gone.id if table == "orders" else None
        self.log.append(
            DeletedRowPublic(
                change_seq=self.seq,
                restaurant_id="r1",
                table_name=table,
                row_id=uid(n),
                order_id=owner,
                deleted_at=datetime(2026, 12, 6, tzinfo=UTC),
            )
        )
        return [*events, delete_push(table, uid(n))]

    def foreign(self) -> list[Any]:
        """Another restaurant's order: it takes a change_seq (one counter) but RLS keeps it out of our reads."""
        return [push(self._row("orders", 99, 1, "r2"), "INSERT")]

    def view(self) -> View:
        """The committed state as a read at this moment sees it."""
        return View(dict(self.alive), list(self.history), self.seq, list(self.log))


@dataclass(frozen=True)
class View:
    alive: dict[Key, Row]
    history: list[Row]
    seq: int
    log: list[DeletedRowPublic]

    def page(self, table: Source, since: int, limit: int, junk: bool, scramble: bool) -> list[Any]:
        if table == DELETIONS:
            return [r for r in self.log if r.change_seq > since][:limit]
        ordered = sorted(
            (r for (t, _), r in self.alive.items() if t == table and r.change_seq > since), key=lambda r: r.change_seq
        )
        rows = ordered[:limit]
        if scramble and len(rows) >= 2:
            # A server that ignored `order`: the newest `limit` rows, newest first; trusting it would skip the rest.
            # (Newest first in ascending order, or a single row, would look right: no client could tell.)
            rows = ordered[::-1][:limit]
        out: list[Row | OrderWithItems] = [self._embed(r) if isinstance(r, OrderPublic) else r for r in rows]
        old = [r for r in self.history if r.change_seq <= since and _table(r) == table]
        if junk and old and len(out) < limit:
            out.insert(0, old[-1])  # a server that ignored the filter: a stale row below `since`
        return out

    def snapshot(self) -> tuple[list[Row | OrderWithItems], int]:
        head = self.seq
        rows: list[Row | OrderWithItems] = [
            self._embed(r)
            for (t, _), r in self.alive.items()
            if isinstance(r, OrderPublic) and t == "orders" and r.status.value in STATUSES[:3]
        ]
        rows += [r for (t, _), r in self.alive.items() if t == "menu_availability"]
        return rows, head

    def _embed(self, head: Row) -> OrderWithItems:
        assert isinstance(head, OrderPublic)
        items = [r for r in self.alive.values() if isinstance(r, OrderItemPublic) and r.order_id == head.id]
        return with_items(head, items)


def _table(row: Row) -> Table:
    if isinstance(row, OrderPublic):
        return "orders"
    return "order_items" if isinstance(row, OrderItemPublic) else "menu_availability"


def _keys_of(rows: list[Row | OrderWithItems]) -> set[Key]:
    keys: set[Key] = set()
    for r in rows:
        keys.add((_table(r), r.id))
        if isinstance(r, OrderWithItems):
            keys.update(("order_items", i.id) for i in r.order_items)
    return keys


_TABLES = {"orders": (orders, OrderPublic), "order_items": (order_items, OrderItemPublic)}
_TABLES["menu_availability"] = (menu_availability, MenuAvailabilityPublic)


def held_rows(store: LocalStore) -> dict[Key, Row]:
    """Every server row the store holds, as the wire model it was written from."""
    out: dict[Key, Row] = {}
    with store.snapshot() as conn:
        for name, (table, model) in _TABLES.items():
            for data in conn.execute(sa.select(table.c.data)).scalars():
                row = model.model_validate(json.loads(data))
                out[(name, row.id)] = row  # type: ignore[index]
    return out


class Harness:
    def __init__(self, machine: CatchUp, server: Server, path: Path) -> None:
        self.machine = machine
        self.server = server
        self.path = path
        self.store = LocalStore(path, device_id="r1-kds-1")
        self.local: dict[Key, Row] = {}
        self.now = 0.0
        self.socket_up = False
        self.in_flight: list[Any] = []
        # Each read with the server state at the moment it was issued: the server may read then, or at answer time.
        self.outstanding: list[tuple[FetchPage | FetchSnapshot, View]] = []
        self.shown: dict[Key, int] = {}
        self.deletes_delivered: set[Key] = set()
        self.snapshot: tuple[int, set[Key]] | None = None  # head and keys of the last snapshot applied
        self.lives = 0

    def run(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, FetchPage | FetchSnapshot):
                self.outstanding.append((action, self.server.view()))
            elif isinstance(action, Apply):
                with self.store.transaction() as conn:  # as the engine does: changes and cursor in one
                    read_rows.apply_changes(conn, action.changes, reset=action.reset)
                    if action.cursor is not None:
                        read_rows.save_cursor(conn, action.cursor)
                self.local = held_rows(self.store)
                self.check_never_older()
            elif isinstance(action, Live):
                self.lives += 1

    def check_never_older(self) -> None:
        for key, row in self.local.items():
            assert row.change_seq >= self.shown.get(key, 0), f"{key} went back to seq {row.change_seq}"
            self.shown[key] = row.change_seq
            assert row.restaurant_id == "r1"

    # ------------------------------------------------------------ the network's moves

    def commit(self, events: list[Any], fates: list[str]) -> None:
        if not self.socket_up:
            return  # nothing is queued for a disconnected client
        for event, fate in zip(events, fates, strict=True):
            if fate == "keep":
                self.in_flight.append(event)
            elif fate == "dup":
                self.in_flight += [event, event]

    def deliver(self, index: int) -> None:
        event = self.in_flight.pop(min(index, len(self.in_flight) - 1))
        if event.type == "DELETE":
            self.deletes_delivered.add((event.table, UUID(event.old_record["id"])))
        self.run(self.machine.event(event))

    def answer(self, index: int, junk: bool = False, scramble: bool = False, read_early: bool = False) -> None:
        request, at_issue = self.outstanding.pop(min(index, len(self.outstanding) - 1))
        view = at_issue if read_early else self.server.view()
        if isinstance(request, FetchSnapshot):
            rows, head = view.snapshot()
            actions = self.machine.snapshot_loaded(request.request_id, rows, head, self.now)
            if actions:
                self.snapshot = (head, _keys_of(rows))
        else:
            rows = view.page(request.table, request.since, request.limit, junk, scramble)
            actions = self.machine.page_loaded(request.request_id, rows, self.now)
        self.run(actions)

    def fail(self, index: int) -> None:
        request, _ = self.outstanding.pop(min(index, len(self.outstanding) - 1))
        self.run(self.machine.request_failed(request.request_id, self.now))

    def drop_socket(self) -> None:
        self.socket_up = False
        self.in_flight.clear()
        self.run(self.machine.disconnected())

    def reconnect(self) -> None:
        self.drop_socket()
        self.run(self.machine.subscribing())
        self.socket_up = True
        self.run(self.machine.subscribed(self.now))

    def restart(self) -> None:
        """kill -9 and start again on the same file: the machine, its buffer and everything in flight are lost."""
        self.store.close()
        self.store = LocalStore(self.path, device_id="r1-kds-1")
        with self.store.snapshot() as conn:
            cursor = read_rows.load_cursor(conn)
            clock = read_rows.max_received(conn)
        old = self.machine
        self.machine = CatchUp(
            "r1", cursor, overlap=old.overlap, page_limit=old.page_limit, safety_interval_s=30.0, clock_start=clock
        )
        self.outstanding.clear()
        self.socket_up = False
        self.in_flight.clear()
        self.reconnect()

    def tick(self, dt: float) -> None:
        self.now += dt
        self.run(self.machine.tick(self.now))

    # ------------------------------------------------------------ the end

    def settle(self) -> None:
        """Deliver what is still in flight, then one clean reconnect and catch-up with no more faults."""
        while self.in_flight:
            self.deliver(0)
        self.reconnect()
        lives = self.lives
        for _ in range(1000):
            if self.lives > lives:
                return
            assert self.outstanding, "the catch-up stalled with nothing to read"
            self.answer(len(self.outstanding) - 1)
        raise AssertionError("the catch-up never finished")

    def check_converged(self) -> None:
        head, snap_keys = self.snapshot if self.snapshot is not None else (-1, None)
        for key, row in self.server.alive.items():
            held = self.local.get(key)
            must = snap_keys is None or row.change_seq > head or key in snap_keys
            if isinstance(row, OrderItemPublic) and ("orders", row.order_id) not in self.local:
                must = False  # an item of an order the screen does not hold (closed before it looked) is not kept
            if must:
                assert held == row, f"{key}: local {held and held.change_seq} != server {row.change_seq}"
            else:
                assert held is None or held == row
        for key in self.local:
            assert key in self.server.alive or key in self.server.deleted, f"{key} never existed"
        for key in self.server.deleted:
            assert key not in self.local, f"{key} was deleted on the server but is still held"
        with self.store.snapshot() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


MOVES = [
    *["commit"] * 3,
    *["deliver"] * 2,
    *["answer"] * 2,
    *["fail", "reconnect", "drop", "tick", "restart"],
]
# The store's fsyncs cost nothing on a RAM disk; elsewhere a few ms each.
_TMP = "/dev/shm" if Path("/dev/shm").is_dir() else None


# 200 histories take about a minute on an idle core: twice the suite's timeout budget under a loaded machine.
@pytest.mark.timeout(360)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_delivery_converges_and_never_goes_back(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory(dir=_TMP) as tmp:
        run_schedule(data, Path(tmp) / "screen.sqlite3")


def run_schedule(data: st.DataObject, path: Path) -> None:
    start_from_cursor = data.draw(st.booleans(), label="start_from_cursor")
    machine = CatchUp(
        "r1",
        dict.fromkeys(("orders", "order_items", "menu_availability", DELETIONS), 0) if start_from_cursor else None,
        overlap=data.draw(st.integers(0, 3), label="overlap"),
        page_limit=data.draw(st.integers(1, 4), label="page_limit"),
        safety_interval_s=30.0,
        retry_delay_s=1.0,
    )
    server = Server()
    h = Harness(machine, server, path)
    h.reconnect()
    for _ in range(data.draw(st.integers(0, 60), label="steps")):
        move = data.draw(st.sampled_from(MOVES))
        if move == "commit":
            op = data.draw(st.sampled_from(["upsert"] * 5 + ["delete", "delete", "foreign"]))
            if op == "foreign":
                events = server.foreign()
            else:
                table, n = data.draw(st.sampled_from(KEYS))
                events = server.upsert(table, n) if op == "upsert" else server.delete(table, n)
            fates = [data.draw(st.sampled_from(["keep", "keep", "keep", "drop", "dup"])) for _ in events]
            h.commit(events, fates)
        elif move == "deliver" and h.in_flight:
            # Mostly in order, sometimes overtaken by a later push.
            h.deliver(data.draw(st.sampled_from([0, 0, 0, 1, 2, 5])))
        elif move == "answer" and h.outstanding:
            h.answer(
                data.draw(st.integers(0, len(h.outstanding) - 1)),
                junk=data.draw(st.booleans()),
                scramble=data.draw(st.sampled_from([False] * 9 + [True])),
                read_early=data.draw(st.booleans()),
            )
        elif move == "fail" and h.outstanding:
            h.fail(data.draw(st.integers(0, len(h.outstanding) - 1)))
        elif move == "reconnect":
            h.reconnect()
        elif move == "drop":
            h.drop_socket()
        elif move == "tick":
            h.tick(data.draw(st.sampled_from([0.5, 2.0, 31.0])))
        elif move == "restart":
            h.restart()
    try:
        h.settle()
        h.check_converged()
    finally:
        h.store.close()
