"""The store writer: the read path's transactions on a thread of their own, committed whole and in order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa

from api_client.models import OrderWithItems
from sync.readpath.merge import Upsert
from sync.store import LocalStore, read_rows, server_rows
from sync.store.writer import StoreWriter
from tests.sync.store.support import NOW, order

WAIT_S = 10.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", clock=lambda: NOW.timestamp())
    yield s
    s.close()


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kds-store-writer")]


def _apply(ticket: OrderWithItems) -> Callable[[sa.Connection], set[UUID]]:
    return lambda conn: read_rows.save_order(conn, ticket)


async def test_the_loop_reads_and_paints_while_a_batch_is_written(store: LocalStore) -> None:
    """The write waits for something only the loop can do: written on the loop, it would never finish."""
    writer = StoreWriter(store)
    loop_ran = threading.Event()
    ticket = order("A1")

    def work(conn: sa.Connection) -> set[UUID]:
        assert loop_ran.wait(WAIT_S), "the loop was blocked while the batch was written"
        return read_rows.save_order(conn, ticket)

    async def meanwhile_on_the_loop() -> None:
        with store.snapshot() as conn:  # a screen's listing while the writer holds its transaction open
            assert server_rows.order_ids(conn) == []
        loop_ran.set()

    changed, _ = await asyncio.wait_for(asyncio.gather(writer.write(work), meanwhile_on_the_loop()), WAIT_S)
    assert changed == {ticket.id}
    with store.snapshot() as conn:
        assert server_rows.order_ids(conn) == [ticket.id], "committed before write() returned"
    await writer.aclose()


async def test_a_failed_batch_is_rolled_back_and_the_next_one_is_written(store: LocalStore) -> None:
    writer = StoreWriter(store)
    first, second = order("A1"), order("A2")

    def fails(conn: sa.Connection) -> None:
        read_rows.save_order(conn, first)
        raise OSError("disk I/O error")

    with pytest.raises(OSError):
        await writer.write(fails)
    await writer.write(_apply(second))
    with store.snapshot() as conn:
        assert server_rows.order_ids(conn) == [second.id], "the failed batch left nothing half-written"
    await writer.aclose()


async def test_batches_commit_in_the_order_they_were_handed_over(store: LocalStore) -> None:
    writer = StoreWriter(store)
    ticket = order("A1")
    newer = ticket.model_copy(update={"change_seq": ticket.change_seq + 5, "version": 2, "table_label": "14"})
    # Handed over without waiting in between: the newer row must not be overtaken by the older one.
    await asyncio.gather(
        writer.write(lambda conn: read_rows.apply_changes(conn, [Upsert(newer)])),
        writer.write(lambda conn: read_rows.apply_changes(conn, [Upsert(ticket)])),
    )
    with store.snapshot() as conn:
        label = conn.exec_driver_sql("SELECT data FROM orders").scalar_one()
    assert '"table_label":"14"' in label
    await writer.aclose()


async def test_close_lets_the_batch_in_flight_commit_and_leaves_no_thread(store: LocalStore) -> None:
    """An engine stopped mid-batch: the driver awaiting the write is cancelled, the write still commits whole,
    and closing waits for it without blocking the loop, then ends the thread."""
    writer = StoreWriter(store)
    started, go_on = threading.Event(), threading.Event()
    ticket = order("A1")

    def slow(conn: sa.Connection) -> set[UUID]:
        started.set()
        assert go_on.wait(WAIT_S)
        return read_rows.save_order(conn, ticket)

    driver = asyncio.ensure_future(writer.write(slow))
    assert await asyncio.to_thread(started.wait, WAIT_S)
    driver.cancel()
    closing = asyncio.ensure_future(writer.aclose())
    await asyncio.sleep(0)
    assert not closing.done(), "close waits for the write in flight"
    go_on.set()  # the loop was free to run this
    await asyncio.wait_for(closing, WAIT_S)
    assert _writer_threads() == []
    with store.snapshot() as conn:
        assert server_rows.order_ids(conn) == [ticket.id]
    with pytest.raises(RuntimeError):
        await writer.write(_apply(order("A2")))


async def test_inline_writes_run_on_the_callers_thread(store: LocalStore) -> None:
    writer = StoreWriter(store, inline=True)
    ticket = order("A1")
    on: list[int] = []

    def work(conn: sa.Connection) -> None:
        on.append(threading.get_ident())
        read_rows.save_order(conn, ticket)

    await writer.write(work)
    assert on == [threading.get_ident()] and _writer_threads() == []
    await writer.aclose()
