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


def test_an_update_publishes_the_whole_previous_row_and_a_delete_the_deleted_one(db: Database) -> None:
    """Supabase's migration sets replica identity full, so realtime clients get an UPDATE's whole previous
    row (a screen tells from it that an item left its station); the companion must know it at write time."""
    published: list = []
    db.hub.subscribe(published.extend)
    row = _insert(db, "Soup")
    updated = db.write(lambda w: w.update(menu_availability, row, {"available": True, "reason": "back"}))
    [insert, update] = published
    assert insert.old_record is None
    assert update.type == "UPDATE" and update.record == updated
    assert update.old_record == row  # every column as it was, version and change_seq included
    assert update.old_record["available"] is False and update.old_record["version"] == 1
    db.write(lambda w: w.delete(menu_availability, updated))
    assert published[-1].type == "DELETE" and published[-1].old_record == updated
