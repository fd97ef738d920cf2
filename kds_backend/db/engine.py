"""The one database engine per process, and the schema migrations that run on start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from api_client.sqlite_connection import tune_connection

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
WRITE = {"kds_write": True}
"""Execution options for a write transaction: on SQLite it takes the write lock up front
(`BEGIN IMMEDIATE`), so two writers never deadlock upgrading a read lock."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`: SQLite in WAL with `synchronous=FULL`, or PostgreSQL through psycopg 3."""
    url_obj = sa.make_url(url)
    if url_obj.drivername in ("postgresql", "postgres"):
        url_obj = url_obj.set(drivername="postgresql+psycopg")
    if url_obj.get_backend_name() == "sqlite":
        engine = sa.create_engine(url_obj, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return sa.create_engine(url_obj, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        tune_connection(dbapi_conn)

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("kds_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision. Idempotent: at head, it does nothing."""
    command.upgrade(alembic_config(engine), "head")
