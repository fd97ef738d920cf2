"""The catch-up state machine for one subscription cycle: buffer pushes, page over REST, drain, go live.

Realtime is a hint, not a log (BRIEF §3.5): pushes are lost while disconnected, and in the seconds around a
subscribe. So on every (re)subscribe, and periodically as a safety net, the machine re-reads each table over REST
from its cursor minus an overlap window, in change_seq order, while it buffers pushes; then it drains the buffer
and applies pushes directly. Applying is by row version (`merge`), so a push the pages already covered is harmless.

Sans-I/O: inputs are method calls (with the time passed in, never read), outputs are actions the pump carries out:

    FetchSnapshot → snapshot_loaded(...)   FetchPage → page_loaded(...) or request_failed(...)
    Apply → write the changes (and the cursor, if given) in one local transaction; `reset` replaces all rows
    Live → caught up: show "live"          Resync → log it; a snapshot follows

Cursors are per table: an item can change without its order row changing (its change_seq is not bumped), so
`orders` pages alone would miss it, and one shared cursor would have to trust reads made at different moments.
The cursor only ever advances from complete REST pages, never from pushes (a dropped push would be skipped).
Deletions are paged the same way from the server's deletion log (`deleted_rows`, after the three tables): a
deleted row is absent from its table, so a screen that was away when it went would otherwise keep it for ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Any
from uuid import UUID

from api_client.backoff import Backoff
from api_client.models import DeletedRowPublic, OrderWithItems
from sync.realtime.changes import ParsedChange, RawChange

from .merge import DELETIONS, SOURCES, Change, Delete, Row, Source, Upsert, deletion, flatten, merged, table_of

Cursor = Mapping[Source, int]


class Phase(StrEnum):
    IDLE = "idle"  # not subscribed
    BUFFERING = "buffering"  # subscribing: pushes are kept until the catch-up is done
    CATCHING_UP = "catching_up"  # REST snapshot / pages in flight; pushes still buffered
    LIVE = "live"  # caught up: pushes are applied as they come


@dataclass(frozen=True, slots=True)
class FetchSnapshot:
    """Read the server head (highest change_seq in the three tables) first, then the open orders with their items
    (`status=in.(new,in_progress,ready)`, `select=*,order_items(*)`) and `menu_availability`; answer with
    `snapshot_loaded`. Reading the head *before* the rows makes it a safe cursor: later commits are above it."""

    request_id: int


@dataclass(frozen=True, slots=True)
class FetchPage:
    """`GET /rest/v1/<table>?change_seq=gt.<since>&order=change_seq.asc&limit=<limit>`; answer with `page_loaded`."""

    request_id: int
    table: Source
    since: int
    limit: int


@dataclass(frozen=True, slots=True)
class Apply:
    changes: tuple[Change, ...]
    cursor: Cursor | None = None
    """When set, the new cursor: store it in the same transaction as the changes (a crash then resumes there)."""
    reset: bool = False
    """A snapshot: rows not in it are dropped first (`LocalState.replace`). Only open orders are in a snapshot, so
    a row we hold that closed while we were not looking would otherwise stay on screen forever."""


@dataclass(frozen=True, slots=True)
class Live:
    cursor: Cursor


@dataclass(frozen=True, slots=True)
class Resync:
    reason: str


Action = FetchSnapshot | FetchPage | Apply | Live | Resync


class CatchUp:
    """One restaurant's read path. `cursor=None` means first start: a snapshot comes before the pages."""

    def __init__(
        self,
        restaurant_id: str,
        cursor: Cursor | None = None,
        *,
        overlap: int = 200,
        page_limit: int = 500,
        safety_interval_s: float = 60.0,
        retry_delay_s: float = 1.0,
        max_retry_delay_s: float = 30.0,
        clock_start: int = 0,
    ) -> None:
        if page_limit < 1 or overlap < 0:
            raise ValueError("page_limit must be >= 1 and overlap >= 0")
        self.restaurant_id = restaurant_id
        self.overlap = overlap
        self.page_limit = page_limit
        self.safety_interval_s = safety_interval_s
        # The same read again after each failure in a row, doubling up to the cap: one retrier, no crowd to spread.
        self._retry = Backoff(retry_delay_s, max_retry_delay_s, jitter=False)
        self.phase = Phase.IDLE
        self._cursor: dict[Source, int] | None = dict(cursor) if cursor is not None else None
        self._buffer: list[Change] = []
        self._request: FetchSnapshot | FetchPage | None = None
        self._read_at = 0  # logical time the outstanding request was issued (for tombstones, see merge)
        self._table_index = 0
        self._next_id = 0
        # Logical time: +1 per input, orders deletes against REST reads. A restarted screen passes the highest
        # `received` of its stored tombstones, so reads it issues now count as after every delete it knows.
        self._clock = clock_start
        self._stream_hw = 0  # highest change_seq seen in a push: a lower bound for the next DELETE's
        self._retry_at: float | None = None
        self._caught_up_at: float | None = None
        self._wanted = False  # a push we could not read: catch up at the next tick
        # Pushes at or below the last snapshot's head are older than the snapshot: for a row in it merge already
        # ignores them, and a row not in it (closed, deleted) must not come back from a late or duplicated push.
        self._floor = 0

    # ------------------------------------------------------------ queries

    @property
    def cursor(self) -> Cursor | None:
        return None if self._cursor is None else dict(self._cursor)

    @property
    def clock(self) -> int:
        """The logical time: stored with tombstones, and where a replacement machine resumes."""
        return self._clock

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def next_deadline(self) -> float | None:
        """When `tick` next has something to do (a retry, or the safety-net catch-up), or None."""
        if self.phase is Phase.CATCHING_UP:
            return self._retry_at
        if self.phase is Phase.LIVE and self._wanted:
            return 0.0  # a push we could not read: catch up at once, not at the safety interval
        if self.phase is Phase.LIVE and self._caught_up_at is not None:
            return self._caught_up_at + self.safety_interval_s
        return None

    # ------------------------------------------------------------ connection inputs

    def want(self) -> None:
        """Something arrived that only a catch-up can place (an item pushed before its order): run one now."""
        self._wanted = True

    def subscribing(self) -> list[Action]:
        """The channel is joining: pushes may arrive before it is subscribed, keep them from now on."""
        self._clock += 1
        self._request = None  # an answer to a request made before this (re)connect is ignored
        self._retry_at = None
        self.phase = Phase.BUFFERING
        return []

    def subscribed(self, now: float) -> list[Action]:
        """The database subscription is active (`LiveAgain`): catch up from the cursor. Restarts a cycle in flight;
        the buffer is kept, because a DELETE in it is known from no other source."""
        self._clock += 1
        return self._start_cycle(now)

    def disconnected(self) -> list[Action]:
        self._clock += 1
        self._request = None
        self._retry_at = None
        self.phase = Phase.IDLE
        return []

    def event(self, change: ParsedChange | RawChange) -> list[Action]:
        """A realtime push. Applied at once when live, buffered otherwise."""
        self._clock += 1
        if isinstance(change, RawChange):
            # Something changed that we cannot read: the REST catch-up is the authority, so run one soon.
            self._wanted = True
            return []
        converted = self._from_push(change)
        if converted is None or not self._above_floor(converted):
            return []
        if self.phase is Phase.LIVE:
            return [Apply((converted,))]
        self._buffer.append(converted)
        return []

    # ------------------------------------------------------------ REST answers

    def snapshot_loaded(
        self, request_id: int, rows: Sequence[Row | OrderWithItems], head_seq: int, now: float
    ) -> list[Action]:
        if not isinstance(self._request, FetchSnapshot) or self._request.request_id != request_id:
            return []  # from a cycle that was restarted: its reads may predate a buffered DELETE
        self._clock += 1
        self._succeeded()
        self._cursor = dict.fromkeys(SOURCES, max(0, head_seq))
        self._floor = max(self._floor, head_seq)
        changes = tuple(Upsert(r, self._read_at) for r in flatten(rows) if self._ours(r))
        self._forget_refuted_deletes(changes)
        return [Apply(changes, self.cursor, reset=True), *self._first_page()]

    def page_loaded(
        self, request_id: int, rows: Sequence[Row | OrderWithItems | DeletedRowPublic], now: float
    ) -> list[Action]:
        request = self._request
        if not isinstance(request, FetchPage) or request.request_id != request_id:
            return []
        self._clock += 1
        self._succeeded()
        assert self._cursor is not None
        own = [r for r in rows if table_of(r) == request.table]
        seqs = [r.change_seq for r in own]
        full = len(rows) >= request.limit
        problem = _inconsistency(request, rows, own, seqs)
        if problem is not None:
            return self._resync(problem)
        # Rows at or below `since` are ignored (a server that ignored the filter); embedded items are merged by
        # version whatever their seq, since they are rows as fresh as their order.
        fresh = [r for r in rows if r.change_seq > request.since]
        changes: tuple[Change, ...]
        if request.table == DELETIONS:
            changes = tuple(
                deletion(r, self._read_at)
                for r in fresh
                if isinstance(r, DeletedRowPublic) and merged(r) and self._ours(r)
            )
        else:
            rest = [r for r in fresh if not isinstance(r, DeletedRowPublic)]
            changes = tuple(Upsert(r, self._read_at) for r in flatten(rest) if self._ours(r))
            self._forget_refuted_deletes(changes)
        top = max(seqs, default=request.since)
        # Never move a cursor back: the overlap re-read starts below it on purpose.
        self._cursor[request.table] = max(self._cursor.get(request.table, 0), top)
        actions: list[Action] = [Apply(changes, self.cursor)]
        if full:
            actions.append(self._fetch(request.table, top))
            return actions
        self._table_index += 1
        if self._table_index < len(SOURCES):
            actions.extend(self._first_page())
            return actions
        return [*actions, *self._go_live(now)]

    def request_failed(self, request_id: int, now: float) -> list[Action]:
        """The read failed (network, 5xx, timeout): the same read is retried at a later `tick`, with backoff."""
        if self._request is None or self._request.request_id != request_id:
            return []
        self._clock += 1
        self._retry_at = now + self._retry.next_delay()
        return []

    def tick(self, now: float) -> list[Action]:
        self._clock += 1
        if self.phase is Phase.CATCHING_UP and self._retry_at is not None and now >= self._retry_at:
            self._retry_at = None
            return [self._reissue()]
        if self.phase is Phase.LIVE:
            due = self._caught_up_at is None or now >= self._caught_up_at + self.safety_interval_s
            if due or self._wanted:
                return self._start_cycle(now)
        return []

    # ------------------------------------------------------------ internals

    def _start_cycle(self, now: float) -> list[Action]:
        self.phase = Phase.CATCHING_UP
        self._wanted = False
        self._retry_at = None
        self._retry.reset()
        self._table_index = 0
        if self._cursor is None:
            self._next_id += 1
            self._read_at = self._clock
            self._request = FetchSnapshot(self._next_id)
            return [self._request]
        return self._first_page()

    def _first_page(self) -> list[Action]:
        assert self._cursor is not None
        table = SOURCES[self._table_index]
        return [self._fetch(table, max(0, self._cursor.get(table, 0) - self.overlap))]

    def _fetch(self, table: Source, since: int) -> FetchPage:
        self._next_id += 1
        self._read_at = self._clock
        self._request = FetchPage(self._next_id, table, since, self.page_limit)
        return self._request

    def _reissue(self) -> FetchSnapshot | FetchPage:
        old = self._request
        assert old is not None
        self._next_id += 1
        self._read_at = self._clock
        if isinstance(old, FetchSnapshot):
            self._request = FetchSnapshot(self._next_id)
        else:
            self._request = FetchPage(self._next_id, old.table, old.since, old.limit)
        return self._request

    def _succeeded(self) -> None:
        self._retry.reset()
        self._retry_at = None

    def _go_live(self, now: float) -> list[Action]:
        assert self._cursor is not None
        drained, self._buffer = tuple(c for c in self._buffer if self._above_floor(c)), []
        self._request = None
        self.phase = Phase.LIVE
        self._caught_up_at = now
        actions: list[Action] = [Apply(drained)] if drained else []
        return [*actions, Live(self.cursor or {})]

    def _resync(self, reason: str) -> list[Action]:
        # Start over from a snapshot; the buffer stays (its DELETEs), and applying by version keeps it safe.
        self._cursor = None
        self._table_index = 0
        self._next_id += 1
        self._read_at = self._clock
        self._request = FetchSnapshot(self._next_id)
        return [Resync(reason), self._request]

    def _forget_refuted_deletes(self, read: Sequence[Change]) -> None:
        """Drop each buffered DELETE of a row this read shows, if the read was issued after the DELETE arrived:
        the row exists after the delete, so it was inserted again. Drained after the read, the DELETE would bury
        the new incarnation for good (later pages start above it and a push above a tombstone is buried)."""
        shown = {(table_of(c.row), c.row.id) for c in read if isinstance(c, Upsert)}
        if shown:
            self._buffer = [
                c
                for c in self._buffer
                if not (isinstance(c, Delete) and (c.table, c.id) in shown and c.received < self._read_at)
            ]

    def _above_floor(self, change: Change) -> bool:
        return not isinstance(change, Upsert) or change.row.change_seq > self._floor

    def _ours(self, row: Row | DeletedRowPublic) -> bool:
        return row.restaurant_id == self.restaurant_id

    def _from_push(self, change: ParsedChange) -> Change | None:
        if change.errors:
            # Realtime could not build the record (e.g. too large): only the catch-up can tell what it was.
            self._wanted = True
            return None
        if change.type == "DELETE":
            old: dict[str, Any] = change.old_record or {}
            if old.get("restaurant_id", self.restaurant_id) != self.restaurant_id:
                return None
            try:
                row_id = UUID(str(old["id"]))
            except (KeyError, ValueError):
                self._wanted = True
                return None
            return Delete(change.table, row_id, self._stream_hw, self._clock)
        record = change.record
        if record is None:
            self._wanted = True
            return None
        if not self._ours(record):
            return None
        self._stream_hw = max(self._stream_hw, record.change_seq)
        return Upsert(record)


def _inconsistency(
    request: FetchPage,
    rows: Sequence[Row | OrderWithItems | DeletedRowPublic],
    own: Sequence[Row | DeletedRowPublic],
    seqs: Sequence[int],
) -> str | None:
    """Why a page cannot be trusted as a contiguous slice of the table's change log, or None."""
    if len(own) != len(rows):
        return f"{request.table} page holds rows of another table"
    if len(rows) > request.limit:
        return f"{request.table} page has {len(rows)} rows, more than the limit {request.limit}"
    if any(b < a for a, b in pairwise(seqs)):
        # A full page out of order may not be the lowest `limit` rows: the next page would skip some.
        return f"{request.table} page is not in change_seq order"
    if len(rows) >= request.limit and max(seqs, default=request.since) <= request.since:
        return f"{request.table} page is full but nothing in it is after {request.since}: no progress"
    return None
