"""Prep times and end of day on the companion (SQLite and PostgreSQL): the server's done_at, the day-end
clear through the change feed, the admin's clear_day RPC, the CSV export over HTTP and the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from api_client.models import OrderWithItems
from kds_backend.day_end import DayEndScheduler, clear_day
from kds_backend.db.writer import RowChange
from kds_backend.settings import Settings
from tests.conftest import auth_headers, token_for

from .test_cli import run_cli
from .test_intents import intent, read_order

POS = auth_headers(token_for("pos", device="r1-pos-1"))
GRILL = auth_headers(token_for("kds", device="grill-1", stations=["grill"]))
ADMIN = auth_headers(token_for("admin", device="r1-admin"))
CSV_URL = "/api/v1/reports/prep-times.csv"


async def post_order(client: httpx.AsyncClient, number: str, created_at: datetime | None = None) -> OrderWithItems:
    body: dict[str, Any] = {
        "number": number,
        "type": "takeout",
        "source": "online",
        "items": [{"name": "Burger", "station": "grill"}, {"name": "Fries", "station": "fry"}],
    }
    if created_at is not None:
        body["created_at"] = created_at.isoformat()
    r = await client.post("/api/v1/orders", json=body, headers={**POS, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return OrderWithItems.model_validate(r.json())


async def send(client: httpx.AsyncClient, *intents: dict[str, Any], headers: dict[str, str] = GRILL) -> list[dict]:
    r = await client.post("/rest/v1/rpc/apply_intents", json={"intents": list(intents)}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def item(order: OrderWithItems, name: str) -> Any:
    return next(i for i in order.order_items if i.name == name)


async def test_done_at_is_the_servers_bump_time_and_recall_clears_it(client: httpx.AsyncClient, app: FastAPI) -> None:
    order = await post_order(client, "D1")
    assert item(order, "Burger").done_at is None
    [result] = await send(client, intent("grill-1", 1, "bump_ticket", order.id, station="grill"))
    bumped = OrderWithItems.model_validate(result["order"])
    burger = item(bumped, "Burger")
    assert burger.done_at is not None and burger.done_at == burger.updated_at
    assert item(bumped, "Fries").done_at is None
    # A device that claims another time changes nothing: only the server's clock counts.
    assert abs((burger.done_at - datetime.now(UTC)).total_seconds()) < 60
    [result] = await send(client, intent("grill-1", 2, "recall", order.id, station="grill"))
    assert item(OrderWithItems.model_validate(result["order"]), "Burger").done_at is None
    assert item(read_order(app, order.id), "Burger").done_at is None


async def test_clear_day_archives_open_orders_and_publishes_them(client: httpx.AsyncClient, app: FastAPI) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    stale = await post_order(client, "OLD", created_at=yesterday)
    finished = await post_order(client, "DONE", created_at=yesterday)
    await send(client, intent("grill-1", 1, "bump_ticket", finished.id))
    expo = auth_headers(token_for("expo", device="expo-1"))
    [served] = await send(client, intent("expo-1", 1, "serve", finished.id), headers=expo)
    assert served["status"] == "applied"
    today = await post_order(client, "NEW")
    published: list[RowChange] = []
    app.state.db.hub.subscribe(published.extend)

    boundary = datetime.now(UTC) - timedelta(hours=1)
    cleared = await app.state.db.awrite(lambda w: clear_day(w, boundary))
    await asyncio.sleep(0)  # the hub hands batches to the loop: let it deliver (no waiting on time)
    assert cleared == [stale.id]
    after = read_order(app, stale.id)
    assert after.cleared_at is not None and after.status == stale.status, "archived with its status"
    assert after.version == stale.version + 1 and after.change_seq > stale.change_seq
    assert len(after.order_items) == 2, "archived, not deleted"
    assert read_order(app, finished.id).cleared_at is None and read_order(app, today.id).cleared_at is None
    assert [(c.table, c.type, c.record["id"]) for c in published] == [("orders", "UPDATE", stale.id)]
    assert await app.state.db.awrite(lambda w: clear_day(w, boundary)) == [], "idempotent"

    # Catch-up over REST sees it too (what a screen that was off reads).
    params = {"id": f"eq.{stale.id}", "select": "cleared_at,status"}
    r = await client.get("/rest/v1/orders", params=params, headers=GRILL)
    assert r.status_code == 200 and r.json()[0]["cleared_at"] is not None
    [result] = await send(client, intent("grill-1", 2, "bump_ticket", stale.id))
    assert result["status"] == "rejected"
    assert result["reason"] == "Order OLD was cleared at the end of the day"


async def test_clear_day_rpc_is_for_admins(client: httpx.AsyncClient, app: FastAPI) -> None:
    order = await post_order(client, "R1")
    r = await client.post("/rest/v1/rpc/clear_day", json={}, headers=GRILL)
    assert r.status_code == 403 and "cannot clear the day" in r.json()["message"]
    r = await client.post("/rest/v1/rpc/clear_day", json={"before": "2026-11-22T04:00:00"}, headers=ADMIN)
    assert r.status_code == 422, "a time without a zone is refused"
    r = await client.post("/rest/v1/rpc/clear_day", json={}, headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["cleared"] == 1 and read_order(app, order.id).cleared_at is not None


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_prep_times_csv_lists_every_order_and_station(client: httpx.AsyncClient, app: FastAPI) -> None:
    order = await post_order(client, "C1")
    await send(client, intent("grill-1", 1, "bump_ticket", order.id, station="grill"))
    await app.state.db.awrite(lambda w: clear_day(w, datetime.now(UTC) + timedelta(seconds=1)))
    today = datetime.now(ZoneInfo("UTC")).date()  # the test settings' zone may be anything: ask a wide range
    params = {"since": str(today - timedelta(days=1)), "until": str(today + timedelta(days=1))}
    r = await client.get(CSV_URL, params=params, headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = {row["station"]: row for row in rows_of(r.text)}
    assert set(rows) == {"grill", "fry"}
    grill, fry = rows["grill"], rows["fry"]
    assert grill["order_number"] == "C1" and grill["type"] == "takeout" and grill["source"] == "online"
    took = datetime.fromisoformat(grill["done_at"]) - datetime.fromisoformat(grill["created_at"])
    assert grill["seconds"] == f"{took.total_seconds():.0f}", "from the order's creation to the grill's bump"
    assert fry["done_at"] == "" and fry["seconds"] == "", "the fry station never finished"
    assert grill["outcome"] == "cleared" and grill["cleared_at"], "abandoned at day end, still reported"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "both since and until"),
        ({"since": "2026-11-01"}, "both since and until"),
        ({"since": "2026-13-01", "until": "2026-11-02"}, "since must be a date"),
        ({"since": "20261101", "until": "2026-11-02"}, "since must be a date"),
        ({"since": "2026-11-05", "until": "2026-11-01"}, "is before since"),
        ({"since": "2024-01-01", "until": "2026-11-01"}, "at most 366 days"),
    ],
)
async def test_bad_report_dates_are_400(client: httpx.AsyncClient, params: dict[str, str], says: str) -> None:
    r = await client.get(CSV_URL, params=params, headers=ADMIN)
    assert r.status_code == 400 and says in r.json()["message"], r.text


async def test_only_an_admin_reads_reports(client: httpx.AsyncClient) -> None:
    params = {"since": "2026-11-01", "until": "2026-11-02"}
    assert (await client.get(CSV_URL, params=params, headers=GRILL)).status_code == 403
    assert (await client.get(CSV_URL, params=params)).status_code == 401


@pytest.mark.slow
async def test_cli_clears_the_day_and_exports_the_history(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path, database_url: str
) -> None:
    stale = await post_order(client, "CLI1", created_at=datetime.now(UTC) - timedelta(days=2))
    done = await asyncio.to_thread(run_cli, tmp_path, database_url, "clear-day", "--restaurant", "r1")
    assert done.returncode == 0, done.stderr
    assert "cleared 1 open order(s) in r1" in done.stdout
    assert read_order(app, stale.id).cleared_at is not None
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    out = tmp_path / "prep.csv"
    args = ("export-prep-times", "--since", str(day - timedelta(days=1)), "--until", str(day + timedelta(days=1)))
    done = await asyncio.to_thread(run_cli, tmp_path, database_url, *args, "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = rows_of(out.read_text())
    assert {(r["order_number"], r["station"], r["outcome"]) for r in rows} == {
        ("CLI1", "grill", "cleared"),
        ("CLI1", "fry", "cleared"),
    }
    bad = await asyncio.to_thread(run_cli, tmp_path, database_url, "export-prep-times", "--since", "x", "--until", "y")
    assert bad.returncode == 2 and "since must be a date as YYYY-MM-DD" in bad.stderr


# ---------------------------------------------------------------- the scheduler, on an injected clock


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        if len(self.slept) > 200:
            raise asyncio.CancelledError  # ends `run` for the test


async def test_scheduler_clears_on_start_then_once_per_boundary() -> None:
    paris = ZoneInfo("Europe/Paris")
    clock = FakeClock(datetime(2026, 11, 22, 10, 0, tzinfo=paris))
    clears: list[datetime] = []

    async def clear(before: datetime) -> int:
        clears.append(before)
        return 0

    scheduler = DayEndScheduler(clear, 4, paris, now=lambda: clock.now, sleep=clock.sleep)
    wait = await scheduler.step()
    assert clears == [datetime(2026, 11, 22, 4, tzinfo=paris)], "a hub that was off at 04:00 clears on start"
    assert wait == 15 * 60, "never sleeps longer than 15 minutes"
    with pytest.raises(asyncio.CancelledError):
        await scheduler.run(wait)
    # 200 sleeps of at most 15 min from 10:00 on the 22nd reach past 04:00 on the 24th: two more boundaries.
    assert clears == [datetime(2026, 11, d, 4, tzinfo=paris) for d in (22, 23, 24)]
    assert all(0 < s <= 900 for s in clock.slept)


async def test_scheduler_retries_a_failed_clear_soon() -> None:
    clock = FakeClock(datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    calls = 0

    async def clear(_before: datetime) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database unavailable")
        return 3

    scheduler = DayEndScheduler(clear, 4, UTC, now=lambda: clock.now, sleep=clock.sleep)
    assert await scheduler.step() == 60.0
    assert await scheduler.step() == 15 * 60 and calls == 2
    assert await scheduler.step() == 15 * 60 and calls == 2, "the same boundary is not cleared twice"


@pytest.mark.parametrize(
    ("env", "says"),
    [({"KDS_DAY_END_HOUR": "24"}, "KDS_DAY_END_HOUR"), ({"KDS_DAY_END_HOUR": "4am"}, "KDS_DAY_END_HOUR"),
     ({"KDS_TIMEZONE": "Mars/Olympus"}, "KDS_TIMEZONE")],
)
def test_bad_day_end_settings_stop_the_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], says: str
) -> None:
    monkeypatch.setenv("KDS_DATA_DIR", str(tmp_path))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValueError, match=says):
        Settings.from_env()
