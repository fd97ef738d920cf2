"""Property: whatever the network does to pushes and reads, the screen converges on the server and never goes back.

A simulated server commits a random history (inserts, updates, deletes, another restaurant's rows) with one
server-wide change_seq. Its pushes are delivered, dropped, duplicated or reordered; sockets drop and come back;
reads fail, answer late, or answer for a cycle that has been restarted; pages carry rows below the requested seq.
The catch-up machine drives reads against the server's state at answer time, and its `Apply` actions go into a
`LocalState`. After a final reconnect and catch-up:

- every row the server holds equals the local row (all of them when starting from a cursor; after a snapshot,
  the rows changed since its head plus those in it: closed orders the snapshot left out need not come back);
- no row of another restaurant, and no row the server never had, is held; a row whose DELETE push arrived is gone.

And at every step: a row held locally is never older than one held before for the same id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_client.models import OrderItemPublic, OrderPublic, OrderWithItems
from sync.readpath.catchup import Apply, CatchUp, FetchPage, FetchSnapshot, Live
from sync.readpath.merge import Key, LocalState, Row, Table

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
        del self.alive[key]
        self.deleted.add(key)
        return [*events, delete_push(table, uid(n))]

    def foreign(self) -> list[Any]:
        """Another restaurant's order: it takes a change_seq (one counter) but RLS keeps it out of our reads."""
        return [push(self._row("orders", 99, 1, "r2"), "INSERT")]

    def view(self) -> View:
        """The committed state as a read at this moment sees it."""
        return View(dict(self.alive), list(self.history), self.seq)


@dataclass(frozen=True)
class View:
    alive: dict[Key, Row]
    history: list[Row]
    seq: int

    def page(self, table: Table, since: int, limit: int, junk: bool, scramble: bool) -> list[Row | OrderWithItems]:
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


class Harness:
    def __init__(self, machine: CatchUp, server: Server) -> None:
        self.machine = machine
        self.server = server
        self.local = LocalState()
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
                if action.reset:
                    self.local.replace(action.changes)
                else:
                    self.local.apply_all(action.changes)
                self.check_never_older()
            elif isinstance(action, Live):
                self.lives += 1

    def check_never_older(self) -> None:
        for key, row in self.local.rows.items():
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
            held = self.local.rows.get(key)
            must = snap_keys is None or row.change_seq > head or key in snap_keys
            if must:
                assert held == row, f"{key}: local {held and held.change_seq} != server {row.change_seq}"
            else:
                assert held is None or held == row
        for key in self.local.rows:
            assert key in self.server.alive or key in self.server.deleted, f"{key} never existed"
        for key in self.deletes_delivered:
            assert key not in self.local.rows, f"{key} came back after its DELETE arrived"


MOVES = ["commit", "commit", "commit", "deliver", "deliver", "answer", "answer", "fail", "reconnect", "drop", "tick"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_delivery_converges_and_never_goes_back(data: st.DataObject) -> None:
    start_from_cursor = data.draw(st.booleans(), label="start_from_cursor")
    machine = CatchUp(
        "r1",
        dict.fromkeys(("orders", "order_items", "menu_availability"), 0) if start_from_cursor else None,
        overlap=data.draw(st.integers(0, 3), label="overlap"),
        page_limit=data.draw(st.integers(1, 4), label="page_limit"),
        safety_interval_s=30.0,
        retry_delay_s=1.0,
    )
    server = Server()
    h = Harness(machine, server)
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
    h.settle()
    h.check_converged()
