"""Opt-in stage timestamps for the end-to-end benchmark (`bench/e2e_paint.py`). Off unless `KDS_TRACE_FILE` is set.

A hook at a stage point is `if trace.on: trace.mark(stage, order_ids)`: disabled, it costs one attribute check.
Enabled, each mark is buffered as `{"stage", "t": time.time(), "m": time.monotonic(), "ids": [...], ...}` and
written as JSON lines (appended to `KDS_TRACE_FILE`) every `FLUSH_EVERY` records, every `KDS_TRACE_FLUSH_S`
seconds (a daemon thread, so the last marks before an idle spell are not held back), and at exit. Wall time
compares across processes on one machine; the monotonic time orders marks within one process.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["FLUSH_EVERY", "Tracer", "frame", "mark", "on", "painted"]

FLUSH_EVERY = 256


class Tracer:
    def __init__(self, path: str, flush_s: float = 1.0) -> None:
        self.path = path
        self.flush_s = flush_s
        self._buffer: list[dict[str, Any]] = []
        self._painted: set[tuple[str, str | None, int]] = set()
        self._lock = threading.Lock()  # the buffer
        self._write_lock = threading.Lock()  # the file: one writer at a time, records in order

    def mark(self, stage: str, ids: Iterable[object], **extra: Any) -> None:
        record = {"stage": stage, "t": time.time(), "m": time.monotonic(), "ids": [str(i) for i in ids], **extra}
        with self._lock:
            self._buffer.append(record)
            full = len(self._buffer) >= FLUSH_EVERY
        if full:
            self.flush()

    def painted(self, order_id: object, station: str | None, items: int) -> None:
        """A card drawn with `items` items: marked only the first time this (order, station, count) is seen."""
        key = (str(order_id), station, items)
        if key not in self._painted:
            self._painted.add(key)
            self.mark("paint", (key[0],), station=station, items=items)

    def flush(self) -> None:
        with self._write_lock:
            with self._lock:
                records, self._buffer = self._buffer, []
            if records:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))

    def flush_every(self) -> None:
        """Run in a daemon thread: write what was marked every `flush_s` seconds."""
        while True:
            time.sleep(self.flush_s)
            self.flush()


def _frame_fields(data: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """A `postgres_changes` push's `data`: its order id (the row's, or the item's order) and where it came from."""
    table = data.get("table")
    row = data.get("record") or data.get("old_record") or {}
    order_id = row.get("id") if table == "orders" else row.get("order_id") if table == "order_items" else None
    ids = [] if order_id is None else [str(order_id)]
    return ids, {"table": table, "type": data.get("type"), "commit_ts": data.get("commit_timestamp")}


_tracer: Tracer | None = None
on = False


def _start() -> None:
    global _tracer, on
    path = os.environ.get("KDS_TRACE_FILE")
    if path:
        _tracer = Tracer(path, _flush_s(os.environ.get("KDS_TRACE_FLUSH_S", "")))
        on = True
        atexit.register(_tracer.flush)
        threading.Thread(target=_tracer.flush_every, name="kds-trace", daemon=True).start()


def _flush_s(raw: str) -> float:
    """`KDS_TRACE_FLUSH_S`, named when it is wrong (a bare float() error named nothing)."""
    if not raw.strip():
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.01 <= value <= 3600:  # NaN fails this too
        raise ValueError(f"KDS_TRACE_FLUSH_S must be seconds from 0.01 to 3600, not {raw!r}")
    return value


def mark(stage: str, ids: Iterable[object], **extra: Any) -> None:
    if _tracer is not None:
        _tracer.mark(stage, ids, **extra)


def painted(order_id: object, station: str | None, items: int) -> None:
    if _tracer is not None:
        _tracer.painted(order_id, station, items)


def frame(data: dict[str, Any]) -> None:
    """A realtime change frame decoded (its `data`), before any handler sees it."""
    if _tracer is not None:
        ids, extra = _frame_fields(data)
        _tracer.mark("frame", ids, **extra)


_start()
