"""A hub in front of an upstream companion, each a real `kds-backend serve`, with real sync engines as screens on
the LAN (on the hub) and on the internet (straight on upstream), and the hub's internet link cut and restored."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from api_client.models import DeviceRole, Priority
from kds_backend.hub.settings import STORE_FILE
from tests.conftest import auth_headers, token_for
from tests.kds_backend.realtime.support import create_order, delete_order, order_body
from tests.pg_cluster import PgCluster

from .tiers import (
    HUB_KEY,
    START_S,
    TIMEOUT_S,
    hub_token,
    item_id,
    item_status,
    ledger,
    order_on,
    patch_item,
    screen,
    three_tiers,
    until,
    whole,
)

pytestmark = pytest.mark.slow


async def hub_health(url: str) -> dict[str, Any]:
    """The hub's upstream part of `/health` (what an installer or a monitor reads)."""
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.get("/health")
    assert r.status_code == 200, r.text
    return r.json()["upstream"]


async def health_settles(url: str, expected: dict[str, Any]) -> None:
    """Wait until the hub's `/health` says `expected` (it follows upstream's answers, a moment after the screens)."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while True:
        health = await hub_health(url)
        seen = {k: health[k] for k in expected}
        if seen == expected:
            return
        assert asyncio.get_running_loop().time() < deadline, seen
        await asyncio.sleep(0.1)  # a poll of an HTTP endpoint; the hub pushes nothing about its health


async def pos_order(url: str, number: str) -> UUID:
    async with httpx.AsyncClient(base_url=url) as http:
        return UUID((await create_order(http, "r1", number))["id"])


async def test_lan_screens_stay_in_sync_through_the_hub_while_its_upstream_link_is_cut(
    tmp_path: Path, database_url: str
) -> None:
    """Upstream on SQLite and on PostgreSQL (`database_url`); the hub on SQLite."""
    async with (
        three_tiers(tmp_path, database_url) as tiers,
        screen(tiers.hub.url, tmp_path, "r1-kds-grill-1") as grill,
        screen(tiers.hub.url, tmp_path, "r1-expo-1", DeviceRole.expo) as expo,
        screen(tiers.upstream.url, tmp_path, "r1-kds-online-1", hub=False) as online,
    ):
        # Deleting rows is upstream's to do (its rows would bring them back): refused at the hub, in words.
        async with httpx.AsyncClient(base_url=tiers.hub.url) as http:
            admin = auth_headers(hub_token(DeviceRole.admin), apikey=HUB_KEY)
            r = await http.delete("/rest/v1/orders", params={"number": "eq.X1"}, headers=admin)
        assert r.status_code == 409 and "kitchen hub mirroring" in r.json()["message"], r.text

        # Down the wire: an order made upstream reaches the LAN screens through the hub.
        first = await pos_order(tiers.upstream.url, "H1")
        for engine in (grill, expo):
            await until(engine, lambda e=engine: whole(e, first))

        # Up the wire: a LAN tap reaches the other LAN screen and upstream, under its own id and device.
        bump = grill.submit("bump_item", first, item_id=item_id(grill, first, "Burger"), station="grill")
        await until(expo, lambda: item_status(expo, first, "Burger") == "done")
        await until(online, lambda: item_status(online, first, "Burger") == "done")
        assert ledger(tiers.upstream)[bump.id][:3] == ("r1-kds-grill-1", "applied", bump.device_seq)

        second = await pos_order(tiers.upstream.url, "H2")
        for engine in (grill, expo):  # expo too: its record below starts from the ticket it shows (CI saw None)
            await until(engine, lambda e=engine: whole(e, second))
        burger = item_id(grill, second, "Burger")
        seen_by_expo: list[str | None] = []  # the burger as the expo screen showed it after each change
        expo.on_changes(lambda _ids: seen_by_expo.append(item_status(expo, second, "Burger")))

        # A hub serves it, online.
        await asyncio.wait_for(expo.hub_upstream.wait_for(lambda link: link is not None and link.up), TIMEOUT_S)
        tiers.link.blackhole()  # the hub's internet goes; the kitchen LAN stays
        offline_bump = grill.submit("bump_item", second, item_id=burger, station="grill")
        rush = expo.submit("rush", second)
        recall = grill.submit("recall", first, station="grill")
        grill.eighty_six("Salmon")
        await until(expo, lambda: item_status(expo, second, "Burger") == "done")
        await until(expo, lambda: item_status(expo, first, "Burger") == "cooking")
        await asyncio.wait_for(expo.eighty_sixed.wait_for(lambda names: "Salmon" in names), TIMEOUT_S)
        await until(grill, lambda: (o := order_on(grill, second)) is not None and o.priority is Priority.rush)
        for engine in (grill, expo):  # answered by the hub: nothing waits on the internet
            await asyncio.wait_for(engine.queue_depth.wait_for(0), TIMEOUT_S)
        health = await hub_health(tiers.hub.url)
        assert health["taps_waiting"] == 4 and health["pos_writes_waiting"] == 0  # what waits for the internet
        # The LAN screens learn that the hub's internet is down (online orders cannot arrive), and since when.
        for engine in (grill, expo):
            down = await asyncio.wait_for(engine.hub_upstream.wait_for(lambda link: link is not None and not link.up),
                                          TIMEOUT_S)
            assert down is not None and down.down_since is not None
        # Meanwhile the POS voids that burger upstream: the grill's offline bump can no longer apply there.
        await patch_item(tiers.upstream.url, burger, {"status": "voided"})
        await until(online, lambda: item_status(online, second, "Burger") == "voided")

        tiers.link.restore()
        await asyncio.wait_for(expo.hub_upstream.wait_for(lambda link: link is not None and link.up), TIMEOUT_S)
        # Upstream takes the rush, refuses the bump; the hub rolls the bump back and every tier converges.
        await until(online, lambda: (o := order_on(online, second)) is not None and o.priority is Priority.rush)
        for engine in (grill, expo):
            await until(engine, lambda e=engine: item_status(e, second, "Burger") == "voided")
            shown = order_on(engine, second)
            assert shown is not None and shown.priority is Priority.rush
        await until(online, lambda: item_status(online, first, "Burger") == "cooking")
        await asyncio.wait_for(online.eighty_sixed.wait_for(lambda names: "Salmon" in names), TIMEOUT_S)
        upstream_ledger = ledger(tiers.upstream)
        assert upstream_ledger[rush.id][:2] == ("r1-expo-1", "applied")
        assert upstream_ledger[recall.id][:2] == ("r1-kds-grill-1", "applied")
        assert upstream_ledger[offline_bump.id][:2] == ("r1-kds-grill-1", "rejected")
        # The grill, whose bump the hub had accepted, is told it was refused and why, as any refusal is shown.
        await until(grill, lambda: [e.intent.id for e in grill.rejected()] == [offline_bump.id])
        assert [e.reason for e in grill.rejected()] == ["Burger was voided"]
        assert expo.rejected() == []  # only the device that made it
        assert ledger(tiers.hub)[offline_bump.id][1:] == ("rejected", offline_bump.device_seq, "Burger was voided")
        await health_settles(tiers.hub.url, {"connection": "live", "taps_waiting": 0, "last_error": None})
        for engine in (grill, expo, online):
            assert item_status(engine, first, "Burger") == "cooking"
            assert item_status(engine, second, "Fries") == "new"
            assert engine.unavailable_items() == ("Salmon",)
        # The bump showed at once on the other LAN screen and stayed until upstream's verdict: never undone and
        # redone in between (the hub's projection of upstream never raced its own LAN taps).
        shown = [s for i, s in enumerate(seen_by_expo) if i == 0 or s != seen_by_expo[i - 1]]
        assert shown in (["done", "voided"], ["new", "done", "voided"]), seen_by_expo


async def test_a_hub_killed_after_upstream_applied_its_forward_and_while_offline_loses_no_tap_and_doubles_none(
    tmp_path: Path,
) -> None:
    lost = asyncio.Event()

    def kill_the_hub(_reply: bytes) -> None:
        # Upstream has applied the batch and answered; the answer is lost and the hub dies: kill -9, no goodbye.
        tiers.hub.kill()
        lost.set()

    async with (
        three_tiers(
        tmp_path, lose_reply=lambda line: b"/rpc/apply_intents" in line and not lost.is_set(), on_lost=kill_the_hub
    ) as tiers, screen(tiers.hub.url, tmp_path, "r1-kds-grill-1") as grill,
        screen(tiers.hub.url, tmp_path, "r1-expo-1", DeviceRole.expo) as expo,
        screen(tiers.upstream.url, tmp_path, "r1-kds-online-1", hub=False) as online,
    ):
        order = await pos_order(tiers.upstream.url, "K1")
        await until(grill, lambda: whole(grill, order))
        bump = grill.submit("bump_item", order, item_id=item_id(grill, order, "Burger"), station="grill")
        await asyncio.wait_for(lost.wait(), TIMEOUT_S)
        await until(online, lambda: item_status(online, order, "Burger") == "done")  # upstream applied it
        await tiers.restart_hub(kill=False)  # the process is gone already; the same files, a new process

        # The restarted hub resends the unanswered batch: upstream's ledger answers "duplicate", never twice.
        await until(expo, lambda: item_status(expo, order, "Burger") == "done")
        tiers.link.blackhole()
        rush = expo.submit("rush", order)
        await until(grill, lambda: (o := order_on(grill, order)) is not None and o.priority is Priority.rush)
        await asyncio.wait_for(expo.queue_depth.wait_for(0), TIMEOUT_S)
        await tiers.restart_hub(kill=True)  # kill -9 with the rush queued for upstream, and start it offline
        fries = grill.submit("bump_item", order, item_id=item_id(grill, order, "Fries"))
        await until(expo, lambda: item_status(expo, order, "Fries") == "done")  # the LAN works, offline

        tiers.link.restore()
        await until(online, lambda: (o := order_on(online, order)) is not None and o.priority is Priority.rush)
        await until(online, lambda: item_status(online, order, "Fries") == "done")
        upstream_ledger = ledger(tiers.upstream)
        for intent in (bump, rush, fries):
            assert upstream_ledger[intent.id][:3] == (intent.device_id, "applied", intent.device_seq)
        on_upstream = order_on(online, order)
        assert on_upstream is not None
        # One write per tap upstream: created at version 1, each bump once (a double apply would be refused by
        # the ledger, and a lost one would leave the item open).
        assert [i.version for i in on_upstream.order_items] == [2, 2]
        assert on_upstream.version == 4  # created, in progress (the burger), rush, ready (the fries)


async def test_a_lan_pos_keeps_working_through_an_offline_hub_and_upstream_gets_each_order_once_before_its_taps(
    tmp_path: Path,
) -> None:
    pos = auth_headers(hub_token(DeviceRole.pos), apikey=HUB_KEY)
    async with (
        three_tiers(tmp_path) as tiers,
        screen(tiers.hub.url, tmp_path, "r1-kds-grill-1") as grill,
        screen(tiers.hub.url, tmp_path, "r1-expo-1", DeviceRole.expo) as expo,
        screen(tiers.upstream.url, tmp_path, "r1-kds-online-1", hub=False) as online,
        httpx.AsyncClient(base_url=tiers.hub.url) as lan_pos,
    ):
        tiers.link.blackhole()
        key = {"Idempotency-Key": "till-2-000187"}
        made = await lan_pos.post("/api/v1/orders", json=order_body("L1"), headers={**pos, **key})
        again = await lan_pos.post("/api/v1/orders", json=order_body("L1"), headers={**pos, **key})  # POS retry
        assert made.status_code == again.status_code == 201, made.text
        assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["id"] == made.json()["id"]
        order = UUID(made.json()["id"])
        await until(grill, lambda: whole(grill, order))
        bump = grill.submit("bump_item", order, item_id=item_id(grill, order, "Burger"), station="grill")
        await until(expo, lambda: item_status(expo, order, "Burger") == "done")
        notes = {"notes": "no onions"}
        r = await lan_pos.patch("/rest/v1/orders", params={"id": f"eq.{order}"}, json=notes, headers=pos)
        assert r.status_code == 204, r.text
        r = await lan_pos.post(
            f"/api/v1/orders/{order}/items",
            json={"items": [{"name": "Shake", "category": "drinks"}]},
            headers={**pos, "Idempotency-Key": "till-2-000188"},
        )
        assert r.status_code == 201, r.text
        await until(grill, lambda: (o := order_on(grill, order)) is not None and o.notes == "no onions")
        await until(expo, lambda: (o := order_on(expo, order)) is not None and len(o.order_items) == 3)

        tiers.link.restore()
        await until(
            online,
            lambda: (o := order_on(online, order)) is not None
            and o.notes == "no onions"
            and sorted(i.name for i in o.order_items) == ["Burger", "Fries", "Shake"]
            and item_status(online, order, "Burger") == "done",
        )
        assert ledger(tiers.upstream)[bump.id][:2] == ("r1-kds-grill-1", "applied")  # after its order, never refused
        assert grill.rejected() == []
        with sqlite3.connect(tiers.upstream.data_dir / "companion.db") as db:
            assert db.execute("SELECT count(*) FROM orders WHERE number = 'L1'").fetchone() == (1,)
        await health_settles(tiers.hub.url, {"pos_writes_waiting": 0, "pos_writes_refused": 0})


async def test_a_lan_pos_change_to_an_upstream_order_is_never_undone_on_the_lan_even_across_a_hub_restart(
    tmp_path: Path,
) -> None:
    """The POS on the LAN adds a line to an order made upstream and voids another while the internet is down. Until
    upstream has both and the hub's copy shows them, the hub's projection of upstream's order lacks them: the LAN
    screens must never see the new line vanish or the void undone, not even when the hub restarts offline."""
    pos = auth_headers(hub_token(DeviceRole.pos), apikey=HUB_KEY)
    async with (
        three_tiers(tmp_path) as tiers,
        screen(tiers.hub.url, tmp_path, "r1-kds-grill-1") as grill,
        screen(tiers.hub.url, tmp_path, "r1-expo-1", DeviceRole.expo) as expo,
        screen(tiers.upstream.url, tmp_path, "r1-kds-online-1", hub=False) as online,
    ):
        order = await pos_order(tiers.upstream.url, "U7")
        await until(expo, lambda: whole(expo, order))
        fries = item_id(expo, order, "Fries")
        seen: list[tuple[str | None, str | None]] = []  # (Shake, Fries) as expo showed them after each change
        shake_and_fries = lambda: (item_status(expo, order, "Shake"), item_status(expo, order, "Fries"))  # noqa: E731
        expo.on_changes(lambda _ids: seen.append(shake_and_fries()))

        tiers.link.blackhole()
        async with httpx.AsyncClient(base_url=tiers.hub.url) as lan_pos:
            r = await lan_pos.post(
                f"/api/v1/orders/{order}/items",
                json={"items": [{"name": "Shake", "category": "drinks"}]},
                headers={**pos, "Idempotency-Key": "till-3-000001"},
            )
            assert r.status_code == 201, r.text
            r = await lan_pos.patch(
                "/rest/v1/order_items", params={"id": f"eq.{fries}"}, json={"status": "voided"}, headers=pos
            )
            assert r.status_code == 204, r.text
        await until(expo, lambda: shake_and_fries() == ("new", "voided"))
        # Something else changes the order at the hub, so the hub projects upstream's copy of it again.
        grill.submit("bump_item", order, item_id=item_id(grill, order, "Burger"), station="grill")
        await until(expo, lambda: item_status(expo, order, "Burger") == "done")
        await tiers.restart_hub(kill=True)  # kill -9, and back while the internet is still down
        rush = grill.submit("rush", order)
        await until(expo, lambda: (o := order_on(expo, order)) is not None and o.priority is Priority.rush)

        tiers.link.restore()
        await until(
            online,
            lambda: item_status(online, order, "Shake") == "new"
            and item_status(online, order, "Fries") == "voided"
            and item_status(online, order, "Burger") == "done"
            and (o := order_on(online, order)) is not None
            and o.priority is Priority.rush,
        )
        await health_settles(tiers.hub.url, {"pos_writes_waiting": 0, "taps_waiting": 0, "connection": "live"})
        assert ledger(tiers.upstream)[rush.id][:2] == ("r1-kds-grill-1", "applied")
        for engine in (grill, expo):
            assert item_status(engine, order, "Shake") == "new" and item_status(engine, order, "Fries") == "voided"
        # From the moment expo showed them, the Shake and the void stayed: never gone and back.
        since = next(i for i, s in enumerate(seen) if s == ("new", "voided"))
        assert all(s == ("new", "voided") for s in seen[since:]), seen


@pytest.mark.postgres
async def test_an_upstream_on_postgresql_killed_and_restarted_mid_service_converges_with_the_lan(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    database = pg_cluster.create_database(f"hubup{uuid.uuid4().hex[:8]}", template="kds_template")
    async with (
        three_tiers(tmp_path, database) as tiers,
        screen(tiers.hub.url, tmp_path, "r1-kds-grill-1") as grill,
        screen(tiers.hub.url, tmp_path, "r1-expo-1", DeviceRole.expo) as expo,
        screen(tiers.upstream.url, tmp_path, "r1-kds-online-1", hub=False) as online,
    ):
        order = await pos_order(tiers.upstream.url, "G1")
        await until(grill, lambda: whole(grill, order))
        tiers.upstream.kill()  # the restaurant's server dies (-9) in the middle of service
        bump = grill.submit("bump_item", order, item_id=item_id(grill, order, "Burger"), station="grill")
        rush = expo.submit("rush", order)
        await until(expo, lambda: item_status(expo, order, "Burger") == "done")
        await until(grill, lambda: (o := order_on(grill, order)) is not None and o.priority is Priority.rush)

        tiers.upstream = tiers.upstream.restarted()
        await asyncio.to_thread(tiers.upstream.wait_ready, START_S)
        await until(
            online,
            lambda: item_status(online, order, "Burger") == "done"
            and (o := order_on(online, order)) is not None
            and o.priority is Priority.rush,
        )
        upstream_ledger = ledger(tiers.upstream)
        assert upstream_ledger[bump.id][:2] == ("r1-kds-grill-1", "applied")
        assert upstream_ledger[rush.id][:2] == ("r1-expo-1", "applied")


async def test_a_hub_that_lost_its_copy_of_upstream_asks_about_every_ticket_it_still_shows(tmp_path: Path) -> None:
    async with three_tiers(tmp_path) as tiers, screen(tiers.hub.url, tmp_path, "r1-kds-grill-1") as grill:
        cancelled, deleted, kept = [await pos_order(tiers.upstream.url, n) for n in ("M1", "M2", "M3")]
        await until(grill, lambda: {o.id for o in grill.open_tickets()} == {cancelled, deleted, kept})
        tiers.hub.stop()
        for path in tiers.hub.data_dir.glob(f"{STORE_FILE}*"):  # its mirror store lost (a disk swapped, say)
            path.unlink()
        async with httpx.AsyncClient(base_url=tiers.upstream.url) as http:  # meanwhile, upstream
            r = await http.patch(
                "/rest/v1/orders", params={"id": f"eq.{cancelled}"}, json={"status": "cancelled"},
                headers=auth_headers(token_for("pos")),
            )
            assert r.status_code == 204, r.text
            await delete_order(http, "r1", str(deleted))
        await tiers.restart_hub(kill=False)  # starts its copy over from a snapshot, which has only open orders
        await until(grill, lambda: {o.id for o in grill.open_tickets()} == {kept})
        assert order_on(grill, deleted) is None
