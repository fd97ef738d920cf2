"""Fire timing (issue 19 item 1): when each item of a course fires so the course finishes together.

Derived, never driven by a server timer: every screen computes the same answer from the rows alone, offline too.
Items of one course that went to the kitchen together (`fired_at` within `TOGETHER` of the first: one POS send in
several requests, or one fire) form a group. Its longest item (by
`prep_seconds`) starts when the group went; every other timed item fires `longest - its prep` later, and until then
it waits: shown with a countdown, not aged. When a longest item is bumped before its time, the group's finish moves
up to that bump, so the rest fire at once. A cook fires a waiting item early by starting it (intent `start`): a
started item never waits. Items without a prep time, held items and late additions (their own group) are never
held back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from .models import ItemStatus, OrderItemPublic, OrderWithItems

TOGETHER = timedelta(seconds=10)
"""Items fired this close after the first of their course count as sent together: the grace in which a line added
to a just-sent order is not yet a change (kds_backend/orders.py CHANGE_GRACE, the SQL's kds.is_change_after_send)."""


def fire_times(items: Iterable[OrderItemPublic]) -> dict[UUID, datetime]:
    """The fire time of every item that waits on its group's longest item (status new, fired later than its group
    went to the kitchen). Items not in the answer are live from their `fired_at`."""
    listed = list(items)
    new = {i.id for i in listed if i.status is ItemStatus.new}
    return {item_id: at for item_id, at in planned_fire_times(listed).items() if item_id in new}


def planned_fire_times(items: Iterable[OrderItemPublic]) -> dict[UUID, datetime]:
    """`fire_times` whatever the items' status: when each timed item was (or is) due to fire. Prep-time history
    counts a finished item's time from this (api_client/prep_time.work_started_at)."""
    out: dict[UUID, datetime] = {}
    for went, group in _groups(items):
        longest = max(i.prep_seconds or 0 for i in group)
        finish = went + timedelta(seconds=longest)
        # A longest item bumped early: the others need not wait for a finish that already happened.
        bumped = [i.done_at for i in group if i.prep_seconds == longest and i.done_at is not None]
        if bumped:
            finish = min(finish, min(bumped))
        for item in group:
            at = finish - timedelta(seconds=item.prep_seconds or 0)
            if item.fired_at is not None and at > item.fired_at:
                out[item.id] = at
    return out


def _groups(items: Iterable[OrderItemPublic]) -> list[tuple[datetime, list[OrderItemPublic]]]:
    """The timed items (a prep time, a fire time, not held or voided) by course and firing: (when it went, items)."""
    timed = sorted(
        (
            i
            for i in items
            if i.fired_at is not None and not i.held and i.status is not ItemStatus.voided and i.prep_seconds
        ),
        key=lambda i: (i.course, i.fired_at, str(i.id)),
    )
    out: list[tuple[datetime, list[OrderItemPublic]]] = []
    for item in timed:
        went = item.fired_at
        if went is None:
            continue
        last = out[-1] if out else None
        if last is not None and last[1][0].course == item.course and went - last[0] <= TOGETHER:
            last[1].append(item)
        else:
            out.append((went, [item]))
    return out


def waiting(order: OrderWithItems, now: datetime) -> dict[UUID, float]:
    """Seconds until each waiting item of the order fires (only those still waiting at `now`)."""
    return {item_id: (at - now).total_seconds() for item_id, at in fire_times(order.order_items).items() if at > now}


def format_countdown(seconds: float) -> str:
    """The countdown as a cook reads it, 4:10 (rounded up: it never shows 0:00 before the item fires)."""
    whole = max(0, int(-(-seconds // 1)))
    return f"{whole // 60}:{whole % 60:02d}"
