"""The backup printer's worker ticked by hand against a real database (SQLite and PostgreSQL) and a loopback ESC/POS
printer: who is online is a set the test controls, so every step is deterministic. What the presence of real
screens does is tested through a live companion in test_backup_print_live.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from kds_backend.app import create_app
from kds_backend.db.tables import print_jobs
from kds_backend.printing import jobs
from kds_backend.printing.jobs import StationKey
from kds_backend.printing.worker import BackupPrinting
from kds_backend.settings import Settings
from tests.conftest import auth_headers, token_for
from tests.helpers.companion_cli import run_cli

from .escpos_printer import LoopbackPrinter, Slip

POS = auth_headers(token_for("pos", device="r1-pos-1"))
ADMIN = auth_headers(token_for("admin", device="r1-admin"))
GRILL: StationKey = ("r1", "grill")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def no_worker(_app: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    # These tests drive a worker of their own, tick by tick: the app runs none.
    monkeypatch.setattr("kds_backend.app.backup_printing", no_worker)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def printer() -> AsyncIterator[LoopbackPrinter]:
    p = LoopbackPrinter()
    await p.listen()
    yield p
    p.close()


def worker(app: FastAPI, online: set[StationKey], clock: Clock) -> BackupPrinting:
    def wall() -> datetime:
        return datetime(2026, 12, 7, tzinfo=UTC) + timedelta(seconds=clock.now)

    return BackupPrinting(app.state.db, lambda: online, after_s=10, retry_max_s=4, lag_s=3, clock=clock, wall=wall)


async def name_printer(client: httpx.AsyncClient, port: int, station: str = "grill") -> None:
    r = await client.put(f"/api/v1/station-printers/{station}", json={"host": "127.0.0.1", "port": port}, headers=ADMIN)
    assert r.status_code == 200, r.text


async def post_order(client: httpx.AsyncClient, number: str, items: list[dict[str, Any]], **more: Any) -> dict:
    body = {"number": number, "items": items, **more}
    r = await client.post("/api/v1/orders", json=body, headers={**POS, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()


BURGER = {
    "name": "Burger",
    "station": "grill",
    "quantity": 2,
    "modifiers": ["no onion", "extra cheese"],
    "allergens": ["sesame"],
    "notes": "well done",
}
FRIES = {"name": "Fries", "station": "fry"}


async def run(w: BackupPrinting) -> None:
    """One tick, and the sends it started."""
    await w.tick()
    for task in list(w._sending.values()):
        await task


async def test_a_ticket_prints_once_with_its_items_modifiers_allergies_and_station(
    app: FastAPI, client: httpx.AsyncClient, printer: LoopbackPrinter
) -> None:
    clock = Clock()
    w = worker(app, set(), clock)
    await name_printer(client, printer.port)
    order = await post_order(client, "B7", [BURGER, FRIES], table_label="12", priority="rush", notes="birthday")

    await run(w)
    assert printer.slips == [], "nothing prints before the station has been without a screen for after_s"

    clock.now += 10
    await run(w)  # queues and sends the job
    await run(w)  # nothing new: a printed ticket does not print again
    [slip] = await printer.wait_for(1)
    assert slip.lines[0].text.strip() == "GRILL" and slip.lines[0].double_height
    assert slip.line("#B7").bold
    assert "RUSH" in slip.text and "table 12" in slip.text
    burger = slip.line("2 x Burger")
    assert burger.bold and burger.double_height
    assert "+ no onion" in slip.text and "+ extra cheese" in slip.text
    allergy = slip.line("! ALLERGY: sesame")
    assert allergy.bold and allergy.underline
    assert "Note: well done" in slip.text and "Order note: birthday" in slip.text
    assert "Fries" not in slip.text, "another station's item is not on the grill's slip"
    assert "REPRINT" not in slip.text and "CHANGED" not in slip.text

    rows = await app.state.db.aread(
        lambda c: (
            c.execute(sa.text("select name, printed_at from order_items where order_id = :o"), {"o": order["id"]})
            .mappings()
            .all()
        )
    )
    # sqlite keeps uuids as hex; the query above matches on PostgreSQL only, so read through the API as well
    r = await client.get(
        "/rest/v1/order_items", params={"order_id": f"eq.{order['id']}", "select": "name,printed_at"}, headers=POS
    )
    printed = {i["name"]: i["printed_at"] for i in r.json()}
    assert printed["Burger"] is not None and printed["Fries"] is None, (printed, rows)


async def test_a_changed_ticket_prints_again_marked_changed_and_a_bump_elsewhere_prints_nothing(
    app: FastAPI, client: httpx.AsyncClient, printer: LoopbackPrinter
) -> None:
    clock = Clock()
    w = worker(app, set(), clock)
    await name_printer(client, printer.port)
    clock.now += 10
    order = await post_order(client, "C1", [BURGER])
    await run(w)
    await printer.wait_for(1)

    r = await client.post(
        f"/api/v1/orders/{order['id']}/items",
        json={"items": [{"name": "Steak", "station": "grill", "notes": "rare"}]},
        headers={**POS, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    await run(w)
    first, second = await printer.wait_for(2)
    assert "CHANGED" in second.text and "1 x Steak" in second.text and "2 x Burger" in second.text
    assert _job(first) != _job(second)

    await post_order(client, "C2", [FRIES])  # the fry station has no printer
    await run(w)
    await run(w)
    assert len(printer.slips) == 2


async def test_screen_online_keeps_tickets_off_paper_and_changes_it_may_have_missed_print(
    app: FastAPI, client: httpx.AsyncClient, printer: LoopbackPrinter
) -> None:
    clock = Clock()
    online = {GRILL}
    w = worker(app, online, clock)
    await name_printer(client, printer.port)
    await post_order(client, "S1", [BURGER])
    await run(w)
    clock.now += 5  # more than lag_s: S1 counts as seen by the screen
    await run(w)
    online.clear()  # the screen goes
    await post_order(client, "S2", [BURGER])
    clock.now += 9
    await run(w)
    assert printer.slips == []
    clock.now += 1
    await run(w)
    [slip] = await printer.wait_for(1)
    assert "#S2" in slip.text


async def test_a_second_companion_on_the_database_prints_nothing_while_the_first_sees_the_screen(
    app: FastAPI, client: httpx.AsyncClient, printer: LoopbackPrinter
) -> None:
    clock = Clock()
    here = worker(app, {GRILL}, clock)  # the grill screen's socket is on this companion
    there = worker(app, set(), clock)  # another companion on the same PostgreSQL sees no grill screen
    await name_printer(client, printer.port)
    for step in range(11):
        if step < 8:
            await post_order(client, f"M{step}", [BURGER])
        clock.now += 2.5  # 20 s of orders with the screen online, then 7.5 s more for the last ones to count as seen
        await run(here)
        await run(there)
    assert printer.slips == [], "the other companion knew the screen was online"
    here.online = lambda: set()  # the screen goes away from the first companion too
    order = await post_order(client, "M9", [BURGER])
    for _ in range(10):
        clock.now += 2.5
        await run(here)
        await run(there)
    slips = await printer.wait_for(1)
    assert [s.line("#").text.strip() for s in slips] == ["#M9"], "printed once, by whichever companion took it"
    assert order["number"] == "M9"


async def test_an_unreachable_printer_is_retried_with_backoff_and_nothing_is_lost(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    printer = LoopbackPrinter()  # refusing: as a printer that is off
    try:
        clock = Clock()
        w = worker(app, set(), clock)
        await name_printer(client, printer.port)
        clock.now += 10
        for n in range(3):
            await post_order(client, f"U{n}", [BURGER])
        await run(w)
        await run(w)
        status = (await client.get("/api/v1/station-printers", headers=POS)).json()["printers"][0]
        assert status["pending_jobs"] == 3
        assert w.status[GRILL].printing and "connect call failed" in str(w.status[GRILL].last_error).lower()
        first = await _jobs(app)
        assert [j["attempts"] for j in first] == [1, 0, 0], "the oldest job is tried first, the others wait for it"
        assert first[0]["sending_at"] is None, "a refused connection sent nothing: a later copy is no reprint"
        await run(w)
        assert (await _jobs(app))[0]["attempts"] == 1, "the retry waits for its backoff"

        await printer.listen()
        await _expire_backoff(app)
        for _ in range(3):
            await run(w)
        slips = await printer.wait_for(3)
        assert [s.line("#").text.strip() for s in slips] == ["#U0", "#U1", "#U2"]
        assert all("REPRINT" not in s.text for s in slips)
        assert all(j["printed_at"] is not None for j in await _jobs(app))
    finally:
        printer.close()


async def test_a_crash_between_the_printers_write_and_the_mark_reprints_under_the_same_job_number(
    app: FastAPI, client: httpx.AsyncClient, printer: LoopbackPrinter
) -> None:
    clock = Clock()
    await name_printer(client, printer.port)
    clock.now += 10
    await post_order(client, "K1", [BURGER])
    await app.state.db.awrite(lambda wr: jobs.queue_jobs(wr, GRILL))
    [job] = await _jobs(app)
    # What a kill -9 after the bytes went out and before the mark leaves behind: claimed, never marked printed
    # (with a lease that has run out by the time the restarted companion looks).
    await app.state.db.awrite(lambda wr: jobs.claim(wr, job["id"], 0))

    restarted = worker(app, set(), clock)  # a new process: nothing in memory
    restarted.started -= 10
    await run(restarted)
    [slip] = await printer.wait_for(1)
    assert f"job {job['id']}" in slip.text
    assert f"REPRINT of job {job['id']}: may be a duplicate" in slip.text
    await run(restarted)
    assert len(printer.slips) == 1


async def test_naming_a_printer_checks_the_address_and_needs_an_admin(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/station-printers/grill", json={"host": "10.0.0.9"}, headers=POS)
    assert r.status_code == 403
    r = await client.put("/api/v1/station-printers/grill", json={"host": "bad host!"}, headers=ADMIN)
    assert r.status_code == 400 and "printer host" in r.json()["message"]
    r = await client.put("/api/v1/station-printers/grill", json={"host": "10.0.0.9", "port": 0}, headers=ADMIN)
    assert r.status_code == 422
    r = await client.put("/api/v1/station-printers/grill", json={"host": "10.0.0.9"}, headers=ADMIN)
    assert r.status_code == 200
    assert r.json()["printers"][0] | {"through_seq": 0} == {
        "station": "grill",
        "host": "10.0.0.9",
        "port": 9100,
        "screen_online": False,
        "printing": False,
        "pending_jobs": 0,
        "last_error": None,
        "through_seq": 0,
    }
    assert (await client.delete("/api/v1/station-printers/grill", headers=ADMIN)).status_code == 204
    assert (await client.delete("/api/v1/station-printers/grill", headers=ADMIN)).status_code == 404


def _job(slip: Slip) -> str:
    return slip.line("Backup print, job").text.split(",")[1]


async def _jobs(app: FastAPI) -> list[dict[str, Any]]:
    return await app.state.db.aread(
        lambda c: [dict(r) for r in c.execute(sa.select(print_jobs).order_by(print_jobs.c.id)).mappings()]
    )


async def _expire_backoff(app: FastAPI) -> None:
    from datetime import UTC, datetime

    def expire(w: Any) -> None:
        w.conn.execute(print_jobs.update().values(next_attempt_at=datetime.now(UTC)))

    await app.state.db.awrite(expire)


def test_the_cli_names_lists_and_removes_a_station_printer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'companion.db'}"
    done = run_cli(tmp_path, url, "printer", "set", "--restaurant", "r1", "--station", "grill", "10.0.0.9")
    assert done.returncode == 0, done.stderr
    assert "r1/grill prints to 10.0.0.9:9100" in done.stdout
    bad = run_cli(tmp_path, url, "printer", "set", "--restaurant", "r1", "--station", "grill", "no such host!:9100")
    assert bad.returncode == 2 and "Invalid printer host" in bad.stderr
    listed = run_cli(tmp_path, url, "printer", "list", "--restaurant", "r1")
    assert listed.stdout.splitlines() == ["grill\t10.0.0.9:9100\t0 job(s) not printed"]
    assert run_cli(tmp_path, url, "printer", "remove", "--restaurant", "r1", "--station", "grill").returncode == 0
    again = run_cli(tmp_path, url, "printer", "remove", "--restaurant", "r1", "--station", "grill")
    assert again.returncode == 2 and "has no printer" in again.stderr
