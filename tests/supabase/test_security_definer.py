"""Functions that run with their owner's rights (SECURITY DEFINER) do only what their caller may do.

Issue 17, item 8: `kds.follow_items` ran as its owner, any signed-in device could call it, and it took any
restaurant's order. Every SECURITY DEFINER function in the migrations is reviewed here on a real PostgreSQL
with the migrations applied: who may execute it, that its search_path is pinned, and, for the ones devices
reach, that it checks the caller's restaurant and role from the JWT.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from tests.pg_cluster import PgCluster

from .conftest import fresh_database
from .helpers import apply_migrations, apply_stand_in, as_device, as_role, claims, create_order, read_order

pytestmark = pytest.mark.postgres

ITEMS = [
    {"name": "Burger", "station": "grill", "quantity": 1, "course": 1, "held": False},
    {"name": "Fries", "station": "fry", "quantity": 1, "course": 1, "held": False},
]

DEVICE_CALLABLE = {"public.apply_intents", "public.clear_day", "kds.follow_items"}
"""The SECURITY DEFINER functions a signed-in device may execute; each checks the JWT itself."""


@pytest.fixture
def stale_r1_order(sb: psycopg.Connection) -> str:
    """An r1 order whose items are all done while its status still says `new`: the owner's direct write does
    not make the order follow (only client writes do), so calling follow_items would change it."""
    order_id = create_order(sb, ITEMS)
    sb.execute("update public.order_items set status = 'done' where order_id = %s", [order_id])
    assert read_order(sb, order_id)["status"] == "new"
    return order_id


@pytest.mark.parametrize("role", ["pos", "admin", "kds", "expo"])
def test_another_restaurants_device_cannot_make_an_order_follow_its_items(
    sb: psycopg.Connection, stale_r1_order: str, role: str
) -> None:
    before = read_order(sb, stale_r1_order)
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, "r2-device", "r2") as c:
        c.execute("select kds.follow_items(%s)", [stale_r1_order])
    assert read_order(sb, stale_r1_order) == before


@pytest.mark.parametrize("role", ["kds", "expo"])
def test_a_kitchen_screen_cannot_call_it_directly_either(
    sb: psycopg.Connection, stale_r1_order: str, role: str
) -> None:
    """Screens never write items over the Data API (RLS), so they never need the trigger's helper."""
    before = read_order(sb, stale_r1_order)
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, "r1-screen", "r1") as c:
        c.execute("select kds.follow_items(%s)", [stale_r1_order])
    assert read_order(sb, stale_r1_order) == before


def test_anon_and_tokens_without_a_restaurant_are_refused(sb: psycopg.Connection, stale_r1_order: str) -> None:
    before = read_order(sb, stale_r1_order)
    with pytest.raises(errors.InsufficientPrivilege), as_role(sb, "anon", None) as c:
        c.execute("select kds.follow_items(%s)", [stale_r1_order])
    signed_in_nowhere = {**claims("pos", "x"), "app_metadata": {}}
    with pytest.raises(errors.InsufficientPrivilege), as_role(sb, "authenticated", signed_in_nowhere) as c:
        c.execute("select kds.follow_items(%s)", [stale_r1_order])
    assert read_order(sb, stale_r1_order) == before


def test_the_pos_void_that_finishes_an_order_still_makes_it_ready(sb: psycopg.Connection) -> None:
    """The trigger path follow_items exists for: a POS voids the last open line of its own order."""
    order_id = create_order(sb, ITEMS)
    sb.execute("update public.order_items set status = 'done' where order_id = %s and name = 'Burger'", [order_id])
    with as_device(sb, "pos", "r1-pos-1", "r1") as c:
        c.execute("update public.order_items set status = 'voided' where order_id = %s and name = 'Fries'", [order_id])
    assert read_order(sb, order_id)["status"] == "ready"
    # An admin device of the restaurant may write items too, and the order follows the same way.
    other = create_order(sb, ITEMS, number="A18")
    sb.execute("update public.order_items set status = 'done' where order_id = %s and name = 'Burger'", [other])
    with as_device(sb, "admin", "r1-admin-1", "r1") as c:
        c.execute("update public.order_items set status = 'voided' where order_id = %s and name = 'Fries'", [other])
    assert read_order(sb, other)["status"] == "ready"


def test_the_service_role_may_still_call_it(sb: psycopg.Connection, stale_r1_order: str) -> None:
    with as_role(sb, "service_role", {"role": "service_role"}) as c:
        c.execute("select kds.follow_items(%s)", [stale_r1_order])
    assert read_order(sb, stale_r1_order)["status"] == "ready"


# ---------------------------------------------------------------- every SECURITY DEFINER function


@pytest.fixture
def supabase_defaults_dsn(pg_cluster: PgCluster) -> str:
    """The migrations applied as on a real project, whose default privileges give new functions in `public`
    to anon and authenticated: a function the migrations forget to revoke would be open to them here."""
    dsn = fresh_database(pg_cluster)
    apply_stand_in(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("alter default privileges in schema public grant all on functions to anon, authenticated")
    apply_migrations(dsn)
    return dsn


def definers(conn: psycopg.Connection) -> list[tuple[str, int, list[str] | None, bool, bool]]:
    """(schema.name, oid, proconfig, returns a trigger, PUBLIC may execute) per SECURITY DEFINER function."""
    return conn.execute(
        "select n.nspname || '.' || p.proname, p.oid::int, p.proconfig, p.prorettype = 'trigger'::regtype,"
        " p.proacl is null or exists (select 1 from aclexplode(p.proacl) a"
        "                            where a.grantee = 0 and a.privilege_type = 'EXECUTE')"
        " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " where p.prosecdef and n.nspname in ('public', 'kds') order by 1"
    ).fetchall()


def test_every_security_definer_function_is_closed_to_anon_and_pins_its_search_path(
    supabase_defaults_dsn: str,
) -> None:
    with psycopg.connect(supabase_defaults_dsn, autocommit=True) as conn:
        found = definers(conn)
        assert {name for name, *_ in found} >= DEVICE_CALLABLE
        for name, oid, config, is_trigger, public_may in found:
            assert config is not None and 'search_path=""' in config, f"{name} must pin search_path to ''"
            assert not public_may, f"{name} must not be executable by PUBLIC"
            can = conn.execute(
                "select has_function_privilege('anon', %s::oid, 'execute'),"
                " has_function_privilege('authenticated', %s::oid, 'execute')",
                [oid, oid],
            ).fetchone()
            assert can is not None
            assert can[0] is False, f"{name} must not be executable by anon"
            if is_trigger:
                continue  # a trigger function cannot be called directly, whatever its grants
            assert can[1] is (name in DEVICE_CALLABLE), f"{name}: execute for authenticated is {can[1]}"
