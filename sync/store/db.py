"""Opening the local SQLite file: WAL, `synchronous=FULL`, foreign keys, and transactions SQLAlchemy controls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

READ_ONLY = "kds_local_read_only"
"""Execution option: begin a deferred (read) transaction instead of an immediate (write) one."""


def open_engine(path: Path) -> sa.Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The sqlite3 module's implicit transactions start late and skip DDL; SQLAlchemy's BEGIN below is exact.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed tap survives a power cut (NORMAL in WAL may lose the last commits).
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front, so read-then-write (next device_seq) cannot interleave;
        # a read-only snapshot needs no lock (WAL readers never block the writer).
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
