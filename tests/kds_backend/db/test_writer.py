"""Write transactions: versions and the server-wide change sequence, under concurrent writers."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from kds_backend.changes import ChangeHub
from kds_backend.db.database import Database
from kds_backend.db.engine import make_engine, migrate
from kds_backend.db.tables import menu_availability


@pytest.fixture
def db(database_url: str):
    engine = make_engine(database_url)
    migrate(engine)
    yield Database(engine, ChangeHub())
    engine.dispose()


def _insert(db: Database, name: str) -> dict:
    return db.write(
        lambda w: w.insert(
            menu_availability,
            {
                "id": uuid.uuid4(),
                "restaurant_id": "r1",
                "item_name": name,
                "available": False,
                "reason": None,
                "updated_by": "t",
            },
        )
    )


def test_update_bumps_version_and_change_seq(db: Database) -> None:
    row = _insert(db, "Soup")
    assert row["version"] == 1
    updated = db.write(lambda w: w.update(menu_availability, row, {"available": True}))
    assert updated["version"] == 2 and updated["change_seq"] > row["change_seq"]
    stored = db.read(lambda c: c.execute(sa.select(menu_availability)).mappings().one())
    assert stored["available"] is True and stored["version"] == 2 and stored["change_seq"] == updated["change_seq"]
    assert stored["updated_at"].tzinfo is not None and stored["updated_at"] <= datetime.now(UTC)


def test_concurrent_writers_get_unique_commit_ordered_sequences(db: Database, database_url: str) -> None:
    # A second engine on the same database stands for a second companion instance: only the
    # database's own locking keeps the two apart.
    other_engine = make_engine(database_url)
    other = Database(other_engine, ChangeHub())
    committed: list[int] = []
    published: list[int] = []
    db.hub.subscribe(lambda batch: published.extend(c.record["change_seq"] for c in batch if c.record))
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(15):
            row = _insert(db if n % 2 else other, f"item-{n}-{i}")
            with lock:
                committed.append(row["change_seq"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other_engine.dispose()
    assert sorted(committed) == list(range(1, 91))
    # Each instance's hub (no loop here, so delivered inline) saw its own changes once, in commit order.
    assert published == sorted(published) and len(published) == 45


def test_failed_transaction_leaves_no_trace(db: Database) -> None:
    _insert(db, "Soup")

    def half_then_fail(w):
        w.insert(
            menu_availability,
            {
                "id": uuid.uuid4(),
                "restaurant_id": "r1",
                "item_name": "Stew",
                "available": False,
                "reason": None,
                "updated_by": "t",
            },
        )
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        db.write(half_then_fail)
    names = db.read(lambda c: c.execute(sa.select(menu_availability.c.item_name)).scalars().all())
    assert names == ["Soup"]
    nxt = _insert(db, "Pie")
    assert nxt["change_seq"] == 2  # the failed transaction's sequence number was never committed
