"""The companion's database and a screen's local store open SQLite the same way (one function sets both up)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from kds_backend.db.engine import make_engine
from sync.store.db import open_engine

PRAGMAS = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")


def _settings(engine: sa.Engine) -> dict[str, object]:
    with engine.connect() as conn:
        found = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in PRAGMAS}
        found["autocommit driver"] = conn.connection.driver_connection.isolation_level  # type: ignore[union-attr]
    engine.dispose()
    return found


def test_companion_and_screen_store_open_sqlite_alike(tmp_path: Path) -> None:
    companion = _settings(make_engine(f"sqlite:///{tmp_path / 'companion.db'}"))
    screen = _settings(open_engine(tmp_path / "screen.sqlite3"))
    # WAL; FULL is 2 (a committed tap or order survives a power cut); foreign keys on; 30 s busy wait; BEGIN is ours.
    expected = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 30000}
    assert companion == screen == {**expected, "autocommit driver": None}
