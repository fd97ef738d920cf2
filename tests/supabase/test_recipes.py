"""The Supabase twin of the companion's recipes (supabase/migrations/20261207004000_recipes.sql), on a real
PostgreSQL with every migration applied: an admin device writes its restaurant's recipes, every device reads them,
nobody else writes them or sees another restaurant's; rows are stamped like the other synced tables, a deleted line
is in the deletion log (what a screen's catch-up reads), and every change is broadcast on the restaurant's topic and
published for postgres_changes."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from api_client.models import DeletedRowPublic, RecipePublic

from .helpers import as_device

pytestmark = pytest.mark.postgres


def test_an_admin_writes_recipes_every_device_reads_them_and_no_one_else_writes_them(sb: psycopg.Connection) -> None:
    with as_device(sb, "admin", "r1-admin") as c:
        c.execute(
            "insert into public.recipes (item_name, ingredient, quantity) values "
            "('Double burger', 'patty', 2), ('Double burger', 'bun', 1)"
        )
        c.execute("update public.recipes set quantity = 3 where ingredient = 'patty'")
    for role in ("kds", "expo", "pos"):
        with as_device(sb, role, f"r1-{role}") as c:
            rows = c.execute(
                "select restaurant_id, item_name, ingredient, quantity from public.recipes order by ingredient"
            ).fetchall()
            assert rows == [("r1", "Double burger", "bun", 1), ("r1", "Double burger", "patty", 3)]
            assert c.execute("update public.recipes set quantity = 9").rowcount == 0
            assert c.execute("delete from public.recipes").rowcount == 0
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, f"r1-{role}") as c:
            c.execute("insert into public.recipes (item_name, ingredient) values ('Burger', 'patty')")
    with as_device(sb, "admin", "r2-admin", "r2") as c:
        assert c.execute("select count(*) from public.recipes").fetchone() == (0,)
        assert c.execute("delete from public.recipes").rowcount == 0
        with pytest.raises(errors.InsufficientPrivilege):
            c.execute("insert into public.recipes (restaurant_id, item_name, ingredient) values ('r1', 'X', 'y')")


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ("('Burger', 'patty', 0)", errors.CheckViolation),
        ("('Burger', 'patty', 1001)", errors.CheckViolation),
        ("('Burger', '  ', 1)", errors.CheckViolation),
        ("('Burger', 'patty', 1), ('BURGER', 'Patty', 2)", errors.UniqueViolation),
    ],
)
def test_a_bad_recipe_line_is_refused_and_nothing_is_kept(
    sb: psycopg.Connection, values: str, error: type[Exception]
) -> None:
    with pytest.raises(error), as_device(sb, "admin", "r1-admin") as c:
        c.execute(f"insert into public.recipes (item_name, ingredient, quantity) values {values}")
    assert sb.execute("select count(*) from public.recipes").fetchone() == (0,)


def test_lines_are_stamped_their_deletions_logged_and_every_change_broadcast(sb: psycopg.Connection) -> None:
    with as_device(sb, "admin", "r1-admin") as c:
        c.execute("insert into public.recipes (item_name, ingredient, quantity) values ('Double burger', 'patty', 2)")
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, "admin", "r1-admin") as c:
        c.execute("update public.recipes set change_seq = 1")  # the server's column
    row = sb.execute("select to_jsonb(r) from public.recipes r").fetchone()
    assert row is not None
    first = RecipePublic.model_validate(row[0])  # the shape screens read
    assert first.version == 1 and first.change_seq > 0
    with as_device(sb, "admin", "r1-admin") as c:
        c.execute("update public.recipes set quantity = 3")
        c.execute("delete from public.recipes where ingredient = 'patty'")
    logged = sb.execute("select to_jsonb(d) from public.deleted_rows d").fetchall()
    assert len(logged) == 1
    gone = DeletedRowPublic.model_validate(logged[0][0])
    assert (gone.table_name, gone.row_id, gone.order_id) == ("recipes", first.id, None)
    assert gone.change_seq > first.change_seq + 1  # the update took one in between
    with as_device(sb, "kds", "r1-kds") as c:
        assert c.execute("select count(*) from public.deleted_rows where table_name = 'recipes'").fetchone() == (1,)

    # The update and the delete share a transaction (one inserted_at) and a row id: the order they were written
    # in is the heap's (ctid) in this fresh, append-only table. Ordering by the id left it to chance (a CI failure).
    events = sb.execute(
        "select topic, event, payload->>'table' from realtime.messages order by inserted_at, ctid"
    ).fetchall()
    assert events == [
        ("kds:r1", "INSERT", "recipes"),
        ("kds:r1", "UPDATE", "recipes"),
        ("kds:r1", "DELETE", "recipes"),
    ]
    published = sb.execute(
        "select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'recipes'"
    ).fetchall()
    assert published == [(1,)]
