"""Handing a screen's store to another device: re-pointing a screen never crashes it and never loses a tap.

A store belongs to the device whose intents it numbers (`LocalStore` refuses any other). When an installer moves
a screen to another server or account, the old file is not deleted and not reused: it is moved aside whole (its
WAL checkpointed in first) into `previous/` beside it, and the caller learns how many taps in it never reached
their server, so the screen can say so. The new device starts on a fresh file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PREVIOUS_DIR = "previous"


@dataclass(frozen=True, slots=True)
class SetAside:
    path: Path
    """Where the old store is kept now."""
    device_id: str
    """The device it belonged to."""
    unsent: int
    """Taps in it that no server has answered (pending or in flight)."""
    refused: int
    """Taps its server refused, still kept for a cook to see."""


def claim(path: Path, device_id: str, *, clock: Callable[[], float] = time.time) -> SetAside | None:
    """Make `path` usable by `device_id`: None if it is already its store (or there is none yet), else the old
    store is moved aside and described. Raises only if the file cannot be read or moved (a disk fault)."""
    if not path.exists():
        return None
    owner, unsent, refused = _inspect(path)
    if owner is None or owner == device_id:
        return None
    folder = path.parent / PREVIOUS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(clock()))
    target = folder / f"{path.stem}.{_safe(owner)}.{stamp}{path.suffix}"
    path.replace(target)
    for suffix in ("-wal", "-shm"):  # empty after the checkpoint; gone with the file they served
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()
    return SetAside(target, owner, unsent, refused)


def _inspect(path: Path) -> tuple[str | None, int, int]:
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            return None, 0, 0  # never initialised: nothing in it belongs to anyone
        row = conn.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()
        counts = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        # Everything into the main file, so that one file carries all of it once moved.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return (
            None if row is None else str(row[0]),
            int(counts.get("pending", 0)) + int(counts.get("inflight", 0)),
            int(counts.get("rejected", 0)),
        )
    finally:
        conn.close()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:64]
