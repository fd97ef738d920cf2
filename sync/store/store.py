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
from .db import DEFERRED_SYNC, READ_ONLY, REFETCHABLE, open_engine
from .migrations import migrate
from .wal_sync import WalSync, fsync_file

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
    * **sync_file** - fsyncs a file: the WAL after a tap (`deferred_sync`); tests pass a slow or failing disk.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        device_id: str | None = None,
        clock: Callable[[], float] = time.time,
        sync_file: Callable[[Path], None] = fsync_file,
    ) -> None:
        self.path = path or default_path()
        self.clock = clock
        self.engine = open_engine(self.path)
        self.wal_sync = WalSync(self.path.with_name(self.path.name + "-wal"), sync_file)
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
    def deferred_sync(self) -> Iterator[sa.Connection]:
        """A write transaction committed without waiting for fsync, which `wal_sync`'s thread starts at once: for a
        cook's tap, redrawn without waiting for the disk (see `wal_sync`). Safe from a `kill -9` when it returns; on
        disk after `durable()`, which whatever sends its rows anywhere must await first."""
        with self.engine.connect().execution_options(**{DEFERRED_SYNC: True}) as conn, conn.begin():
            yield conn
        self.wal_sync.committed()

    async def durable(self) -> None:
        """Every `deferred_sync` commit made so far is on disk (awaits its fsync on the store's sync thread)."""
        await self.wal_sync.durable()

    @contextmanager
    def snapshot(self) -> Iterator[sa.Connection]:
        """A consistent read-only view (deferred BEGIN): takes no write lock."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn, conn.begin():
            yield conn

    def integrity_check(self) -> str:
        with self.engine.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar_one())

    def close(self) -> None:
        self.wal_sync.close()  # before the connections go: their last one removes the WAL file
        self.engine.dispose()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
