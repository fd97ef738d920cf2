"""Ticket times: how long a station took on an order, and the day's average and 90th percentile.

One rule for the screen's figures (sync/engine/prep_times.py) and the companion's CSV export
(kds_backend/prep_report.py): a station's ticket time runs from the order's `created_at` to the server's
`done_at` of the station's last item; a station with an item still open (or voided only) has no time yet.
When fire timing held every item of the station back (issue 19 item 1), the clock starts at the first of their
fire times instead: minutes spent waiting for a longer dish elsewhere are not the station's work
(`station_started_at`). Prep-time suggestions count an item from the same start (`work_started_at`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from .models import ItemStatus, OrderItemPublic


def station_done_at(items: Iterable[OrderItemPublic]) -> datetime | None:
    """When the station finished these items (its items on one order): the last done time, or None while any
    live item is not done, or a done item has no server done time (rows from before `done_at` existed)."""
    live = [i for i in items if i.status is not ItemStatus.voided]
    if not live or any(i.status is not ItemStatus.done or i.done_at is None for i in live):
        return None
    return max(i.done_at for i in live if i.done_at is not None)


def work_started_at(item: OrderItemPublic, fires: Mapping[UUID, datetime]) -> datetime | None:
    """When the item became work to cook, from server times only: its planned fire time when fire timing held it
    back (`fires`: `fire_timing.planned_fire_times` of its whole order), else its `fired_at` (None: never fired).
    An item done before its planned fire was fired early by a cook, at a time no row keeps: it counts from its
    `fired_at`, on the safe side (longer, never a 0 s ticket)."""
    at = fires.get(item.id)
    if at is not None and (item.done_at is None or item.done_at >= at):
        return at
    return item.fired_at


def station_started_at(
    created_at: datetime, items: Iterable[OrderItemPublic], fires: Mapping[UUID, datetime]
) -> datetime:
    """When a station's ticket became work: the order's time, unless fire timing held every live item of it back
    (`work_started_at` is a fire time for each): then the first of those fire times. An item not held back was
    work from the order's time (or from its course's fire, which, as before, no row keeps for untimed items)."""
    starts = []
    for item in items:
        if item.status is ItemStatus.voided:
            continue
        at = fires.get(item.id)
        if at is None or work_started_at(item, fires) != at:
            return created_at
        starts.append(at)
    return max(created_at, min(starts)) if starts else created_at


def ticket_seconds(created_at: datetime, done_at: datetime) -> float:
    """Never negative: an order a POS stamped slightly in the future still counts as instant, not as -5 s."""
    return max((done_at - created_at).total_seconds(), 0.0)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `pct`% of the values at or below it.

    Chosen over interpolation because it is always a real ticket's time ("9 in 10 tickets took at most this"),
    which is what a kitchen manager reads it as."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < pct <= 100:
        raise ValueError(f"pct must be in (0, 100], not {pct}")
    ordered = sorted(values)
    rank = math.ceil(pct / 100 * len(ordered))
    return ordered[rank - 1]


@dataclass(frozen=True)
class PrepSummary:
    station: str
    count: int
    avg_s: float
    p90_s: float


def summarize(station: str, seconds: Sequence[float]) -> PrepSummary | None:
    """The station's figures from its ticket times, or None with no finished ticket."""
    if not seconds:
        return None
    return PrepSummary(station, len(seconds), sum(seconds) / len(seconds), percentile(seconds, 90))
