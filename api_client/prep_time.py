"""Ticket times: how long a station took on an order, and the day's average and 90th percentile.

One rule for the screen's figures (sync/engine/prep_times.py) and the companion's CSV export
(kds_backend/prep_report.py): a station's ticket time runs from the order's `created_at` to the server's
`done_at` of the station's last item; a station with an item still open (or voided only) has no time yet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .models import ItemStatus, OrderItemPublic


def station_done_at(items: Iterable[OrderItemPublic]) -> datetime | None:
    """When the station finished these items (its items on one order): the last done time, or None while any
    live item is not done, or a done item has no server done time (rows from before `done_at` existed)."""
    live = [i for i in items if i.status is not ItemStatus.voided]
    if not live or any(i.status is not ItemStatus.done or i.done_at is None for i in live):
        return None
    return max(i.done_at for i in live if i.done_at is not None)


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
