"""Row level security and the RPC's own rules: a device sees and changes only its own restaurant, and
only in the ways its role allows. Every request runs as PostgREST runs it (role + JWT claims)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from .helpers import apply_intents, as_device, as_role, create_order, read_order

pytestmark = pytest.mark.postgres

ITEMS = [
    {"name": "Burger", "station": "grill", "quantity": 2, "course": 1, "held": False},
    {"name": "Fries", "station": "fry", "quantity": 1, "course": 1, "held": False},
]
TABLES = ("orders", "order_items", "menu_availability")
ROLES = ("kds", "expo", "pos", "admin")


def intent(device: str, seq: int, kind: str, order_id: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "device_id": device, "device_seq": seq, "kind": kind, **extra}
    if order_id is not None:
        body["order_id"] = order_id
    return body


@pytest.fixture
def r1_order(sb: psycopg.Connection) -> str:
    """An r1 order, and an r1 menu item 86'd, for the other restaurant to look for."""
    order_id = create_order(sb, ITEMS)
    result = apply_intents(sb, "kds", "grill-1", [intent("grill-1", 1, "eighty_six", args={"item_name": "Fries"})])
    assert result[0]["status"] == "applied"
    return order_id


def snapshot(conn: psycopg.Connection) -> list[Any]:
    return [conn.execute(f"select to_jsonb(t) from public.{t} t order by 1").fetchall() for t in TABLES]


@pytest.mark.parametrize("role", ROLES)
def test_another_restaurant_sees_nothing(sb: psycopg.Connection, r1_order: str, role: str) -> None:
    with as_device(sb, role, "r2-device", "r2") as c:
        for table in TABLES:
            assert c.execute(f"select count(*) from public.{table}").fetchone() == (0,), table
    with as_device(sb, role, "r1-device", "r1") as c:
        counts = [c.execute(f"select count(*) from public.{t}").fetchone() for t in TABLES]
    assert counts == [(1,), (2,), (1,)], "the restaurant's own devices do see them"


@pytest.mark.parametrize("role", ROLES)
def test_another_restaurant_changes_nothing(sb: psycopg.Connection, r1_order: str, role: str) -> None:
    before = snapshot(sb)
    with as_device(sb, role, "r2-device", "r2") as c:
        assert c.execute("update public.orders set status = 'cancelled', notes = 'x'").rowcount == 0
        assert c.execute("update public.order_items set status = 'voided'").rowcount == 0
    for table in TABLES:
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, "r2-device", "r2") as c:
            c.execute(f"delete from public.{table}")
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, "r2-device", "r2") as c:
        c.execute("insert into public.orders (restaurant_id, number) values ('r1', 'X1')")
    for restaurant in ("r1", "r2"):
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, "r2-device", "r2") as c:
            c.execute(
                "insert into public.order_items (order_id, restaurant_id, station, name) values (%s, %s, 'grill', 'X')",
                [r1_order, restaurant],
            )
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, "r2-device", "r2") as c:
        c.execute("update public.menu_availability set available = true")
    assert snapshot(sb) == before


def test_apply_intents_on_a_foreign_order_is_not_in_this_kitchen(sb: psycopg.Connection, r1_order: str) -> None:
    before = read_order(sb, r1_order)
    results = apply_intents(sb, "admin", "r2-admin", [intent("r2-admin", 1, "bump_ticket", r1_order)], "r2")
    assert results[0]["status"] == "rejected" and results[0]["order"] is None
    assert results[0]["reason"] == "That order is not in this kitchen"
    # 86'ing the same name elsewhere creates that restaurant's own row and leaves ours alone.
    results = apply_intents(
        sb, "admin", "r2-admin", [intent("r2-admin", 2, "eighty_six", args={"item_name": "fries"})], "r2"
    )
    assert results[0]["status"] == "applied" and results[0]["menu_item"]["restaurant_id"] == "r2"
    assert read_order(sb, r1_order) == before


def test_reused_intent_id_tells_another_restaurant_nothing(sb: psycopg.Connection, r1_order: str) -> None:
    first = intent("grill-1", 2, "start", r1_order)
    assert apply_intents(sb, "kds", "grill-1", [first])[0]["status"] == "applied"
    result = apply_intents(sb, "admin", "r2-admin", [first], "r2")[0]
    assert result["status"] == "rejected" and result["order"] is None
    assert "already used" in result["reason"] and "A17" not in result["reason"]


def test_device_cursors_are_per_restaurant(sb: psycopg.Connection, r1_order: str) -> None:
    apply_intents(sb, "admin", "r2-admin", [intent("grill-1", 1000, "start", str(uuid.uuid4()))], "r2")
    assert apply_intents(sb, "kds", "grill-1", [intent("grill-1", 2, "start", r1_order)])[0]["status"] == "applied"


def test_pos_cannot_send_intents(sb: psycopg.Connection, r1_order: str) -> None:
    before = snapshot(sb)
    with pytest.raises(errors.InsufficientPrivilege, match="a pos device cannot change tickets"):
        apply_intents(sb, "pos", "r1-pos-1", [intent("r1-pos-1", 1, "bump_ticket", r1_order)])
    assert snapshot(sb) == before


def test_intents_carrying_another_devices_id_are_refused_whole(sb: psycopg.Connection, r1_order: str) -> None:
    before = snapshot(sb)
    mine = intent("grill-1", 2, "start", r1_order, station="grill")
    theirs = intent("fry-1", 1, "start", r1_order, station="fry")
    with pytest.raises(errors.InsufficientPrivilege, match="another device"):
        apply_intents(sb, "kds", "grill-1", [mine, theirs])
    assert snapshot(sb) == before, "nothing of a refused batch is applied or ledgered"
    assert apply_intents(sb, "kds", "grill-1", [mine])[0]["status"] == "applied"
    assert apply_intents(sb, "kds", "fry-1", [theirs])[0]["status"] == "applied"


def test_admin_may_send_on_behalf_of_a_device(sb: psycopg.Connection, r1_order: str) -> None:
    assert apply_intents(sb, "admin", "admin-1", [intent("fry-1", 1, "start", r1_order)])[0]["status"] == "applied"
    assert apply_intents(sb, "kds", "fry-1", [intent("fry-1", 1, "bump_ticket", r1_order)])[0]["status"] == "duplicate"


@pytest.mark.parametrize(
    "intents",
    [
        [],
        {"intents": []},
        [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 1, "kind": "flambe"}],
        [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 0, "kind": "start"}],
        [{"id": "not-a-uuid", "device_id": "grill-1", "device_seq": 1, "kind": "start"}],
        [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 1, "kind": "start", "x": 1}],
        [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 1, "kind": "start", "schema_version": 99}],
        [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 1, "kind": "start", "station": "Grill!"}],
    ],
    ids=["empty", "object", "bad-kind", "seq-0", "bad-id", "extra-field", "schema-99", "bad-station"],
)
def test_malformed_batches_are_refused_whole(sb: psycopg.Connection, intents: Any) -> None:
    with pytest.raises(errors.InvalidParameterValue), as_device(sb, "kds", "grill-1") as c:
        c.execute("select public.apply_intents(%s::jsonb)", [Jsonb(intents)])


def test_kds_and_expo_cannot_write_rows_directly(sb: psycopg.Connection, r1_order: str) -> None:
    before = snapshot(sb)
    for role in ("kds", "expo"):
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, f"{role}-1") as c:
            c.execute("insert into public.orders (number) values ('K1')")
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, f"{role}-1") as c:
            c.execute("insert into public.order_items (order_id, station, name) values (%s, 'grill', 'X')", [r1_order])
        with as_device(sb, role, f"{role}-1") as c:
            assert c.execute("update public.order_items set status = 'voided'").rowcount == 0
            assert c.execute("update public.orders set status = 'cancelled'").rowcount == 0
    assert snapshot(sb) == before


def test_internal_tables_are_closed_to_every_client(sb: psycopg.Connection, r1_order: str) -> None:
    for table in ("intent_ledger", "device_cursors", "change_counter"):
        for role in ROLES:
            with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, "r1-device") as c:
                c.execute(f"select * from public.{table}")


def test_anon_sees_nothing_and_cannot_call_the_rpc(sb: psycopg.Connection, r1_order: str) -> None:
    anon = {"role": "anon", "iss": "supabase"}
    for table in TABLES:
        with pytest.raises(errors.InsufficientPrivilege), as_role(sb, "anon", anon) as c:
            c.execute(f"select * from public.{table}")
    with pytest.raises(errors.InsufficientPrivilege), as_role(sb, "anon", anon) as c:
        c.execute("select public.apply_intents(%s::jsonb)", [Jsonb([intent("x", 1, "start", r1_order)])])


def test_a_token_without_device_metadata_is_refused(sb: psycopg.Connection, r1_order: str) -> None:
    """A signed-up user (no app_metadata) reads nothing and cannot send intents."""
    user = {"sub": str(uuid.uuid4()), "role": "authenticated", "app_metadata": {"provider": "email"}}
    with as_role(sb, "authenticated", user) as c:
        assert [c.execute(f"select count(*) from public.{t}").fetchone() for t in TABLES] == [(0,)] * 3
    with pytest.raises(errors.InsufficientPrivilege, match="device token"), as_role(sb, "authenticated", user) as c:
        c.execute("select public.apply_intents(%s::jsonb)", [Jsonb([intent(user["sub"], 1, "start", r1_order)])])


# ---------------------------------------------------------------- the POS's direct writes


def test_pos_inserts_into_its_own_restaurant_and_the_server_owns_the_bookkeeping(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    order = read_order(sb, order_id)
    assert order["restaurant_id"] == "r1" and order["status"] == "new"
    assert all(i["restaurant_id"] == "r1" and i["changed_after_send"] is False for i in order["order_items"])
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.orders set version = 99 where id = %s", [order_id])
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("insert into public.orders (number, change_seq) values ('B1', 1)")
    with pytest.raises(errors.CheckViolation), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("insert into public.orders (number, status) values ('B1', 'ready')")


def test_pos_voids_and_cancels_under_the_kitchens_rules(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    apply_intents(sb, "kds", "grill-1", [intent("grill-1", 1, "bump_ticket", order_id, station="grill")])
    # Voiding the last open line makes the order ready; the kitchen already had it, so it is flagged.
    with as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.order_items set status = 'voided' where name = 'Fries'")
    order = read_order(sb, order_id)
    fries = next(i for i in order["order_items"] if i["name"] == "Fries")
    assert (order["status"], fries["status"], fries["changed_after_send"]) == ("ready", "voided", True)
    with pytest.raises(errors.CheckViolation, match="only void"), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.order_items set status = 'done' where name = 'Fries'")
    with pytest.raises(errors.CheckViolation, match="may only set it"), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.orders set status = 'served' where id = %s", [order_id])
    apply_intents(sb, "expo", "expo-1", [intent("expo-1", 1, "serve", order_id)])
    with pytest.raises(errors.CheckViolation, match="already served"), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.orders set status = 'cancelled' where id = %s", [order_id])
    with pytest.raises(errors.CheckViolation, match="items cannot be added"), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("insert into public.order_items (order_id, station, name) values (%s, 'grill', 'Late')", [order_id])
    # The way back from served is the recall intent.
    recalled = apply_intents(sb, "expo", "expo-1", [intent("expo-1", 2, "recall", order_id)])[0]
    assert recalled["status"] == "applied" and recalled["order"]["status"] == "ready"
    with as_device(sb, "pos", "r1-pos-1") as c:
        assert c.execute("update public.orders set status = 'cancelled' where id = %s", [order_id]).rowcount == 1
    with pytest.raises(errors.CheckViolation, match="was cancelled"), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.orders set status = 'new' where id = %s", [order_id])
    assert read_order(sb, order_id)["status"] == "cancelled"


def test_an_item_added_to_a_ticket_the_kitchen_has_is_a_change(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    apply_intents(sb, "kds", "grill-1", [intent("grill-1", 1, "start", order_id, station="grill")])
    with as_device(sb, "pos", "r1-pos-1") as c:
        c.execute(
            "insert into public.order_items (order_id, station, name) values (%s, 'fry', 'Onion rings')", [order_id]
        )
    rings = next(i for i in read_order(sb, order_id)["order_items"] if i["name"] == "Onion rings")
    assert rings["changed_after_send"] is True and rings["status"] == "new"
