"""`LocalStore`: one SQLite file per screen user, opened, migrated and initialised in one place."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
import sqlalchemy as sa

from . import meta
from .db import READ_ONLY, REFETCHABLE, open_engine
from .migrations import migrate

APP_NAME = "kds"
FILE_NAME = "kds-local.sqlite3"


def default_path() -> Path:
    """The per-user data directory (e.g. ~/.local/share/kds on Linux, %LOCALAPPDATA%\\kds on Windows)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / FILE_NAME


class LocalStore:
    """The open local database. Use `transaction()` for every read and write; close with `close()`.

    **Parameters:**

    * **path** - the SQLite file; None uses the per-user data directory.
    * **device_id** - the id this screen's intents carry (the signed-in device's id, which the server checks
      against the token). Fixed when the file is created; opening it with another id is refused, because the
      device sequence numbers in the file belong to the first id.
    * **clock** - wall-clock seconds (tests inject one).
    """

    def __init__(
        self, path: Path | None = None, *, device_id: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path or default_path()
        self.clock = clock
        self.engine = open_engine(self.path)
        try:
            self.migrated_from = migrate(self.engine)
            self.device_id = self._init_meta(device_id)
        except BaseException:
            self.engine.dispose()
            raise

    def _init_meta(self, wanted: str | None) -> str:
        with self.transaction() as conn:
            stored = meta.get(conn, meta.DEVICE_ID)
            if stored is not None:
                if wanted is not None and wanted != stored:
                    raise ValueError(f"local store belongs to device {stored!r}, not {wanted!r}")
                return stored
            device_id = wanted or f"dev-{uuid.uuid4()}"
            meta.put(conn, meta.DEVICE_ID, device_id)
            # Start from the clock in microseconds, not 1: if this file is lost and recreated for the same device,
            # new sequence numbers still exceed the server's cursor for it instead of being refused as used.
            meta.put(conn, meta.NEXT_DEVICE_SEQ, str(max(1, int(self.clock() * 1_000_000))))
            meta.put(conn, meta.LAST_CHANGE_SEQ, "0")
            return device_id

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, fsynced); rolled back if the block raises."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def refetchable(self) -> Iterator[sa.Connection]:
        """A write transaction of server rows only (see `db.REFETCHABLE`): committed without waiting for fsync."""
        with self.engine.connect().execution_options(**{REFETCHABLE: True}) as conn, conn.begin():
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[sa.Connection]:
        """A consistent read-only view (deferred BEGIN): takes no write lock."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn, conn.begin():
            yield conn

    def integrity_check(self) -> str:
        with self.engine.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar_one())

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
