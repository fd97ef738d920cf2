"""Prep figures and the day-end clear on real screens against a live companion process: bumped tickets show in
the TODAY strip; the admin's clear_day RPC makes the open tickets vanish from every screen and drawer, and the
CSV export still lists them."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kds_app.windows.app import Session
from tests.conftest import token_for
from tests.kds_app.conftest import APIKEY, TIMEOUT_S, signal_emitted, until
from tests.live_server import LiveServer

from .test_main_window import on_screen, pos_order, screen, synced, tap_action

pytestmark = pytest.mark.slow
ADMIN = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('admin', device='r1-admin')}"}


async def strip_shows(session: Session, text: str) -> None:
    """Until the prep strip's figures contain `text`, checked after each status tick (the strip is redrawn on
    the window's once-a-second tick, off the tap path), never by sleeping."""
    strip = session.window.prep_strip
    async with asyncio.timeout(TIMEOUT_S):
        while text not in strip.figures.text():
            await signal_emitted(session.window.timer.timeout)


async def test_bumps_show_in_the_strip_and_clear_day_empties_every_screen(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        first = await pos_order(companion.url, "201", [("Burger", "grill")])
        second = await pos_order(companion.url, "202", [("Steak", "grill"), ("Fries", "fry")])
        left = await pos_order(companion.url, "203", [("Burger", "grill")])
        await until(grill.engine, lambda: all(on_screen(grill, o) for o in (first, second, left)))
        assert grill.window.prep_strip.figures.text() == "no tickets finished yet"

        for order in (first, second):
            await tap_action(grill, order)
            await tap_action(grill, order)
        await synced(grill)
        await strip_shows(grill, "GRILL  avg 0:")
        await strip_shows(grill, "· 2 tickets")
        assert "FRY" not in grill.window.prep_strip.figures.text(), "a station screen shows its own station"
        await until(expo.engine, lambda: on_screen(expo, second, None))
        assert len(grill.screen.recently_bumped()) == 2

        async with httpx.AsyncClient(base_url=companion.url, headers=ADMIN) as http:
            r = await http.post("/rest/v1/rpc/clear_day", json={})
            assert r.status_code == 200, r.text
            assert r.json()["cleared"] == 3  # 201 ready, 202 in progress, 203 new: all still open

            await until(grill.engine, lambda: not on_screen(grill, left))
            await until(expo.engine, lambda: expo.screen.model.rowCount() == 0)
            assert grill.screen.model.rowCount() == 0
            assert grill.screen.recently_bumped() == [], "cleared tickets leave the recall drawer too"
            await strip_shows(grill, "· 2 tickets")  # the grill did cook them: today's figures keep them

            today = datetime.now(UTC).date()
            since, until_day = today - timedelta(days=1), today + timedelta(days=1)
            r = await http.get("/api/v1/reports/prep-times.csv", params={"since": str(since), "until": str(until_day)})
        assert r.status_code == 200, r.text
        rows = list(csv.DictReader(io.StringIO(r.text)))
        seen = {(row["order_number"], row["station"]): row for row in rows}
        assert set(seen) == {("201", "grill"), ("202", "grill"), ("202", "fry"), ("203", "grill")}
        assert all(row["outcome"] == "cleared" for row in rows)
        assert seen["201", "grill"]["seconds"] != "" and seen["202", "grill"]["seconds"] != ""
        assert seen["203", "grill"]["seconds"] == "" and seen["202", "fry"]["done_at"] == ""
