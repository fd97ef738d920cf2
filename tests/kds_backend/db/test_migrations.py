"""Schema migrations: they create exactly the tables the code uses, and re-running them is a no-op."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kds_backend.db.engine import make_engine, migrate
from kds_backend.db.tables import metadata


def test_migrations_match_the_tables_and_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            conn.execute(sa.text("INSERT INTO station_routes VALUES ('r1', 'grill', 'grill')"))
            conn.commit()
        migrate(engine)  # again: nothing to do, nothing lost
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            assert diff == [], f"tables.py and the migrations disagree: {diff}"
            assert conn.execute(sa.text("SELECT count(*) FROM station_routes")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT value FROM change_counter WHERE id = 1")).scalar_one() == 0
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_with_full_sync(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()
