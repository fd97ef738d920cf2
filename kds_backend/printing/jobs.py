"""Print jobs in the database: queued from change_seq in one write transaction with the cursor that says how far
the changes were read, claimed before bytes go out, marked printed (with the items' `printed_at`) after.

Delivery is at-least-once, with the job number on the slip. The printer's TCP write and the database's mark cannot
be one transaction: a crash after the bytes left and before the mark commits leaves a job with `sending_at` set and
no `printed_at`, and the restarted companion cannot know whether the paper came out. It prints the job again, under
the same job number and marked "REPRINT of job N: may be a duplicate", rather than risk a lost ticket (a cook can
bin a duplicate with the same number; nobody can cook a ticket that never printed). Every other path is exactly
once: a job marked printed is never sent again, a change already queued is never queued again (the cursor moves
in the transaction that queues), and a ticket whose slip reads the same as its last job's is not queued at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from api_client.escpos.slip import build_slip, content_hash, worth_printing

from ..db.tables import change_counter, order_items, orders, print_cursors, print_jobs, station_printers
from ..db.writer import Writer

StationKey = tuple[str, str]
"""`(restaurant_id, station)`"""


@dataclass(frozen=True)
class Printer:
    restaurant_id: str
    station: str
    host: str
    port: int

    @property
    def key(self) -> StationKey:
        return (self.restaurant_id, self.station)


@dataclass(frozen=True)
class Job:
    id: int
    restaurant_id: str
    station: str
    slip: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    sending_at: datetime | None
    changed: bool
    """An earlier job printed this ticket for this station: the slip says CHANGED."""


@dataclass(frozen=True)
class Snapshot:
    """What one tick of the worker reads: the printers, their cursors, the change counter, each printer's next job."""

    printers: list[Printer]
    cursors: dict[StationKey, int]
    screen_seen: dict[StationKey, datetime]
    """When some companion last saw a screen of the station online (`mark_seen`)."""
    counter: int
    next_jobs: dict[StationKey, Job]
    pending: dict[StationKey, int]


def snapshot(conn: sa.Connection) -> Snapshot:
    printers = [Printer(r.restaurant_id, r.station, r.host, r.port) for r in conn.execute(sa.select(station_printers))]
    rows = conn.execute(sa.select(print_cursors)).all()
    cursors = {(r.restaurant_id, r.station): r.through_seq for r in rows}
    seen = {(r.restaurant_id, r.station): r.screen_seen_at for r in rows if r.screen_seen_at is not None}
    counter = conn.execute(sa.select(change_counter.c.value).where(change_counter.c.id == 1)).scalar_one()
    pending: dict[StationKey, int] = {}
    pending_rows = conn.execute(
        sa.select(print_jobs.c.restaurant_id, print_jobs.c.station, sa.func.count())
        .where(print_jobs.c.printed_at.is_(None))
        .group_by(print_jobs.c.restaurant_id, print_jobs.c.station)
    )
    for restaurant, station, count in pending_rows:
        pending[(restaurant, station)] = count
    next_jobs: dict[StationKey, Job] = {}
    for p in printers:
        if pending.get(p.key):
            job = _next_job(conn, p.key)
            if job is not None:
                next_jobs[p.key] = job
    return Snapshot(printers, cursors, seen, counter, next_jobs, pending)


def _next_job(conn: sa.Connection, key: StationKey) -> Job | None:
    row = conn.execute(
        sa.select(print_jobs)
        .where(
            print_jobs.c.restaurant_id == key[0],
            print_jobs.c.station == key[1],
            print_jobs.c.printed_at.is_(None),
        )
        .order_by(print_jobs.c.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    earlier = conn.execute(
        sa.select(sa.func.count())
        .select_from(print_jobs)
        .where(
            print_jobs.c.order_id == row.order_id,
            print_jobs.c.station == row.station,
            print_jobs.c.id < row.id,
        )
    ).scalar_one()
    return Job(
        row.id, row.restaurant_id, row.station, row.slip, row.attempts, row.next_attempt_at, row.sending_at, earlier > 0
    )


def set_cursor(w: Writer, key: StationKey, through_seq: int) -> None:
    """Move the station's cursor forward to `through_seq` (never back)."""
    current = cursor_of(w.conn, key)
    if current is None:
        w.conn.execute(print_cursors.insert().values(restaurant_id=key[0], station=key[1], through_seq=through_seq))
    elif through_seq > current:
        w.conn.execute(
            print_cursors.update()
            .where(print_cursors.c.restaurant_id == key[0], print_cursors.c.station == key[1])
            .values(through_seq=through_seq)
        )


def mark_seen(w: Writer, key: StationKey, at: datetime) -> None:
    """A screen of the station is online at this companion at `at` (for the other companions on the database)."""
    if cursor_of(w.conn, key) is None:
        counter = w.conn.execute(sa.select(change_counter.c.value).where(change_counter.c.id == 1)).scalar_one()
        set_cursor(w, key, counter)
    w.conn.execute(
        print_cursors.update()
        .where(print_cursors.c.restaurant_id == key[0], print_cursors.c.station == key[1])
        .values(screen_seen_at=at)
    )


def cursor_of(conn: sa.Connection, key: StationKey) -> int | None:
    value: int | None = conn.execute(
        sa.select(print_cursors.c.through_seq).where(
            print_cursors.c.restaurant_id == key[0], print_cursors.c.station == key[1]
        )
    ).scalar_one_or_none()
    return value


def queue_jobs(w: Writer, key: StationKey) -> int:
    """Queue a job for each ticket of the station that changed since the cursor and reads differently from its last
    job; move the cursor to the counter. In a write transaction: the counter is locked, so nothing commits between
    the read and the cursor's move. A station without a cursor starts at the counter (nothing old prints)."""
    restaurant, station = key
    counter: int = w.conn.execute(sa.select(change_counter.c.value).where(change_counter.c.id == 1)).scalar_one()
    cursor = cursor_of(w.conn, key)
    if cursor is None:
        set_cursor(w, key, counter)
        return 0
    changed_items = sa.select(order_items.c.order_id).where(
        order_items.c.restaurant_id == restaurant,
        order_items.c.change_seq > cursor,
        order_items.c.station == station,
    )
    changed_orders = (
        sa.select(orders.c.id)
        .join(order_items, order_items.c.order_id == orders.c.id)
        .where(orders.c.restaurant_id == restaurant, orders.c.change_seq > cursor, order_items.c.station == station)
    )
    ids = {r[0] for r in w.conn.execute(sa.union(changed_items, changed_orders))}
    queued = 0
    if ids:
        found = w.conn.execute(
            sa.select(orders).where(orders.c.id.in_(ids), orders.c.cleared_at.is_(None)).order_by(orders.c.created_at)
        )
        for order in found.mappings().all():
            if order["status"] == "served":
                continue
            items = w.conn.execute(
                sa.select(order_items).where(order_items.c.order_id == order["id"], order_items.c.station == station)
            )
            slip = build_slip(station, dict(order), [dict(i) for i in items.mappings()])
            digest = content_hash(slip)
            last = w.conn.execute(
                sa.select(print_jobs.c.content_hash)
                .where(print_jobs.c.order_id == order["id"], print_jobs.c.station == station)
                .order_by(print_jobs.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if last == digest or not worth_printing(slip, last is not None):
                continue
            w.conn.execute(
                print_jobs.insert().values(
                    restaurant_id=restaurant,
                    station=station,
                    order_id=order["id"],
                    slip=slip,
                    content_hash=digest,
                    created_at=w.now,
                    attempts=0,
                    next_attempt_at=w.now,
                )
            )
            queued += 1
    set_cursor(w, key, counter)
    return queued


def claim(w: Writer, job_id: int, lease_s: float) -> tuple[bool, datetime | None]:
    """Take the job for `lease_s` and record, before any byte goes out, that it is being sent. (False, _) if it is
    printed or another sender holds it; else (True, what `sending_at` was: None if no earlier try may have reached
    the printer)."""
    row = w.conn.execute(
        sa.select(print_jobs.c.sending_at, print_jobs.c.lease_until, print_jobs.c.printed_at).where(
            print_jobs.c.id == job_id
        )
    ).one()
    if row.printed_at is not None or (row.lease_until is not None and row.lease_until > w.now):
        return False, row.sending_at
    w.conn.execute(
        print_jobs.update()
        .where(print_jobs.c.id == job_id)
        .values(sending_at=w.now, lease_until=w.now + timedelta(seconds=lease_s), attempts=print_jobs.c.attempts + 1)
    )
    return True, row.sending_at


def failed(
    w: Writer, job_id: int, error: str, retry_in_s: float, *, maybe_sent: bool, sending_at: datetime | None
) -> None:
    """The try failed: retry after `retry_in_s`. If no byte can have reached the printer, `sending_at` goes back to
    what it was before the claim, so a job is only ever called a reprint when a copy may really exist."""
    values: dict[str, Any] = {
        "last_error": error[:500],
        "next_attempt_at": w.now + timedelta(seconds=retry_in_s),
        "lease_until": None,
    }
    if not maybe_sent:
        values["sending_at"] = sending_at
    w.conn.execute(print_jobs.update().where(print_jobs.c.id == job_id).values(**values))


def mark_printed(w: Writer, job: Job) -> None:
    """The printer took the slip: the job is done, and the items it showed carry `printed_at` (a change of their
    rows, so screens see it when they are back)."""
    w.conn.execute(
        print_jobs.update()
        .where(print_jobs.c.id == job.id, print_jobs.c.printed_at.is_(None))
        .values(printed_at=w.now, last_error=None, lease_until=None)
    )
    ids = [UUID(line["id"]) for line in job.slip["items"]]
    if not ids:
        return
    for row in w.conn.execute(sa.select(order_items).where(order_items.c.id.in_(ids))).mappings().all():
        w.update(order_items, dict(row), {"printed_at": w.now})
