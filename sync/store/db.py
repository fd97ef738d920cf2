"""Opening the local SQLite file: WAL, `synchronous=FULL`, foreign keys, and transactions SQLAlchemy controls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from api_client.sqlite_connection import tune_connection

READ_ONLY = "kds_local_read_only"
"""Execution option: begin a deferred (read) transaction instead of an immediate (write) one."""

REFETCHABLE = "kds_local_refetchable"
"""Execution option: the transaction writes only what the server can send again (its rows, tombstones and the
catch-up cursor, all in the same transaction), so its commit need not wait for fsync (`synchronous=NORMAL`).
A kill -9 loses none of it (WAL); a power cut may roll back the last such commits, cursor included, and catch-up
reads them again. Taps and the server's answers to them stay `FULL`: only the server has those after a loss."""
DEFERRED_SYNC = "kds_local_deferred_sync"
"""Execution option: commit at `synchronous=NORMAL` too, but for rows only this screen has (a cook's tap); the store
fsyncs the WAL on a thread of its own right after (`wal_sync.WalSync`), and nothing is sent before that is done."""
_SYNCHRONOUS = "kds_synchronous"  # the level last set on a DBAPI connection (its record's `info`)


def open_engine(path: Path) -> sa.Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        tune_connection(dbapi_conn)  # the companion's settings too: WAL, FULL, foreign keys, exact BEGINs

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front, so read-then-write (next device_seq) cannot interleave;
        # a read-only snapshot needs no lock (WAL readers never block the writer).
        # On the driver's connection, not `conn.exec_driver_sql`: SQLAlchemy's statement machinery cost more than
        # the BEGIN itself, on every transaction (a listing, a batch of frames); it keeps no state about these.
        options = conn.get_execution_options()
        read_only = options.get(READ_ONLY, False)
        record = conn.connection
        driver = record.driver_connection
        assert driver is not None  # a checked-out connection
        if not read_only:
            # Set between transactions (SQLite refuses inside one), and only when it changes.
            deferred = options.get(REFETCHABLE, False) or options.get(DEFERRED_SYNC, False)
            level = "NORMAL" if deferred else "FULL"
            if record.info.get(_SYNCHRONOUS, "FULL") != level:
                driver.execute(f"PRAGMA synchronous={level}")
                record.info[_SYNCHRONOUS] = level
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
