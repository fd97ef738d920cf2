"""The engine compacts its store on start and then periodically, without a server, and refuses an age that
would drop today's finished orders."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from api_client.models import DeviceRole
from api_client.token_provider import StaticTokenProvider
from sync.engine.engine import EngineConfig, SyncEngine
from sync.store import LocalStore, read_rows
from sync.store.tables import orders
from tests.sync.store.support import order


def config(tmp_path: Path, **changes: object) -> EngineConfig:
    made = EngineConfig(
        url="http://127.0.0.1:9", anon_key="x", restaurant_id="r1", device_id="r1-kds-1", role=DeviceRole.kds,
        token_provider=StaticTokenProvider("x"), data_path=tmp_path / "screen.db",
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


async def test_a_starting_engine_drops_finished_orders_past_the_retention_age(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old = order("S1", status="served", updated_at=(now - timedelta(days=8)).isoformat())
    today = order("S2", status="served", updated_at=(now - timedelta(hours=3)).isoformat())
    store = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1")
    with store.transaction() as conn:
        read_rows.save_order(conn, old)
        read_rows.save_order(conn, today)
    store.close()

    engine = SyncEngine(config(tmp_path, retention_days=7.0, retention_first_s=0.0))
    await engine.start()
    try:
        await asyncio.wait_for(engine.retention.rounds.wait_for(1), 10)
        assert engine.retention.compacted.value == 1
        with engine.store.snapshot() as conn:
            assert set(conn.execute(sa.select(orders.c.id)).scalars()) == {str(today.id)}
    finally:
        await engine.stop()


def test_a_retention_shorter_than_a_day_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="retention_days must be at least 1"):
        config(tmp_path, retention_days=0.5)
    assert not (tmp_path / "screen.db").exists()  # refused before anything was opened
