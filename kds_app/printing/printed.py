"""Which tickets this screen's own printer has put on paper: a small JSON file beside the screen's store, written
atomically after each slip went out, so a restart (of the app or of the printer component) prints none twice."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from uuid import UUID

from ..startup.config import write_atomically

log = logging.getLogger(__name__)

KEEP_S = 2 * 24 * 3600
"""A printed ticket is remembered this long: past any service, so the file stays small."""


def printed_path(store_path: Path) -> Path:
    """Beside the screen's SQLite store, named after it (one store, one record)."""
    return store_path.with_name(f"{store_path.stem}.offline-printed.json")


class PrintedTickets:
    """ticket key -> (wall time printed, the ids of the items on its slip)."""

    def __init__(self, path: Path, now: float) -> None:
        self.path = path
        self._printed: dict[str, tuple[float, tuple[str, ...]]] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as exc:  # an unreadable record: better a second slip than none
            log.warning("own printer: %s cannot be read (%s); starting a new record", path, exc)
            data = {}
        for key, entry in data.items() if isinstance(data, dict) else ():
            at, items = entry.get("at"), entry.get("items")
            if isinstance(at, int | float) and isinstance(items, list) and now - at < KEEP_S:
                self._printed[key] = (float(at), tuple(str(i) for i in items))

    def __contains__(self, key: object) -> bool:
        return key in self._printed

    def keys(self) -> frozenset[str]:
        return frozenset(self._printed)

    def items(self) -> frozenset[UUID]:
        """Every item on a slip this screen printed: tagged PRINTED on its card."""
        return frozenset(UUID(i) for _at, items in self._printed.values() for i in items)

    def add(self, key: str, items: list[str], now: float) -> None:
        """Record `key` printed, durably, before anyone is told."""
        self._printed[key] = (now, tuple(items))
        data = {k: {"at": at, "items": list(ids)} for k, (at, ids) in self._printed.items()}
        write_atomically(self.path, json.dumps(data, indent=1) + "\n")
