"""The hub's own database, for the hub's unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from kds_backend.changes import ChangeHub
from kds_backend.db.database import Database
from kds_backend.db.engine import make_engine, migrate


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """The hub's database (a real SQLite file, migrated)."""
    e = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(e)
    yield e
    e.dispose()


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Database]:
    """The same, behind the companion's writer (what the hub's routes and mirror write through)."""
    yield Database(engine, ChangeHub(asyncio.get_running_loop()))
