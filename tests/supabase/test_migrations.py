"""The Supabase migrations: CLI layout, a clean first apply, a second apply that changes nothing, and the
catalog they leave (RLS everywhere, policies, triggers, the realtime publication with replica identity)."""

from __future__ import annotations

import re
import subprocess

import psycopg
import pytest

from tests.pg_cluster import PgCluster, find_pg_bin

from .conftest import fresh_database
from .helpers import MIGRATIONS, apply_migrations, apply_stand_in, migration_files

pytestmark = pytest.mark.postgres

EXPOSED = ("orders", "order_items", "menu_availability", "recipes")
INTERNAL = ("intent_ledger", "device_cursors", "change_counter")
READ_ONLY = ("deleted_rows",)  # the deletion log (tests/supabase/test_deleted_rows.py)
CONFIG = ("station_printers", "prep_times", "load_routing")  # admin-written settings (test_station_printers.py,
# test_prep_times.py, test_load_routing.py)


def dump(dsn: str) -> str:
    bindir = find_pg_bin()
    assert bindir is not None
    out = subprocess.run(
        [str(bindir / "pg_dump"), "--no-comments", "--restrict-key=kds", dsn],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0 and "restrict-key" in out.stderr:  # older pg_dump without the option
        out = subprocess.run(
            [str(bindir / "pg_dump"), "--no-comments", dsn], check=True, capture_output=True, text=True
        )
    assert out.returncode == 0, out.stderr
    return out.stdout


def catalog(dsn: str) -> dict[str, object]:
    """What a re-apply could silently duplicate or change, read from the catalog."""
    with psycopg.connect(dsn) as conn:
        return {
            "policies": conn.execute(
                "select tablename, policyname, cmd, roles::text, qual, with_check from pg_policies"
                " where schemaname = 'public' order by 1, 2"
            ).fetchall(),
            "triggers": conn.execute(
                "select tgrelid::regclass::text, tgname, tgtype, tgfoid::regprocedure::text from pg_trigger"
                " where not tgisinternal order by 1, 2"
            ).fetchall(),
            "publication": conn.execute(
                "select schemaname, tablename from pg_publication_tables where pubname = 'supabase_realtime' order by 2"
            ).fetchall(),
            "counter": conn.execute("select id, value from public.change_counter").fetchall(),
            "functions": conn.execute(
                "select p.oid::regprocedure::text, md5(p.prosrc), p.prosecdef, p.proconfig::text, p.proacl::text"
                " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname in ('public', 'kds') order by 1"
            ).fetchall(),
        }


def test_migration_files_use_the_cli_layout() -> None:
    files = migration_files()
    assert files, f"no migrations in {MIGRATIONS}"
    for path in files:
        assert re.fullmatch(r"\d{14}_[a-z0-9_]+\.sql", path.name), path.name
    assert (MIGRATIONS.parent / "config.toml").is_file()


def test_first_apply_then_second_apply_is_a_no_op(pg_cluster: PgCluster) -> None:
    dsn = fresh_database(pg_cluster)
    apply_stand_in(dsn)
    apply_migrations(dsn)
    first_dump, first_catalog = dump(dsn), catalog(dsn)
    assert "CREATE TABLE public.orders" in first_dump and "apply_intents" in first_dump
    apply_stand_in(dsn)
    apply_migrations(dsn)
    assert catalog(dsn) == first_catalog
    assert dump(dsn) == first_dump


def test_migrations_leave_a_working_counter_after_a_re_apply(sb: psycopg.Connection, sb_dsn: str) -> None:
    """A re-apply must not reset change_seq (that would make catch-up skip every later change)."""
    sb.execute("insert into public.orders (restaurant_id, number) values ('r1', 'A1')")
    apply_migrations(sb_dsn)
    assert sb.execute("select value from public.change_counter").fetchone() == (1,)


def test_row_level_security_is_on_for_every_table(sb: psycopg.Connection) -> None:
    rows = sb.execute(
        "select relname, relrowsecurity from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'"
    ).fetchall()
    assert dict(rows) == {name: True for name in (*EXPOSED, *INTERNAL, *READ_ONLY, *CONFIG)}


def test_realtime_publication_has_the_exposed_tables_with_full_replica_identity(sb: psycopg.Connection) -> None:
    published = sb.execute(
        "select tablename from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public'"
    ).fetchall()
    assert sorted(t for (t,) in published) == sorted(EXPOSED)
    identities = sb.execute(
        "select relname, relreplident from pg_class where relnamespace = 'public'::regnamespace and relname = any(%s)",
        [list(EXPOSED)],
    ).fetchall()
    assert dict(identities) == {name: "f" for name in EXPOSED}
    # The publication sends every kind of change (Realtime needs INSERT, UPDATE and DELETE).
    row = sb.execute(
        "select pubinsert, pubupdate, pubdelete from pg_publication where pubname = 'supabase_realtime'"
    ).fetchone()
    assert row == (True, True, True)


def test_catch_up_indexes_exist(sb: psycopg.Connection) -> None:
    defs = [d for (d,) in sb.execute("select indexdef from pg_indexes where schemaname = 'public'").fetchall()]
    for table in EXPOSED:
        assert any(f"ON public.{table} USING btree (restaurant_id, change_seq)" in d for d in defs), table


def test_the_rpc_is_exposed_but_the_helpers_are_not(sb: psycopg.Connection) -> None:
    public = sb.execute(
        "select p.proname from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1"
    ).fetchall()
    assert public == [("apply_intents",), ("clear_day",)], "PostgREST exposes every function in public as an RPC"
    can = sb.execute(
        "select has_function_privilege('anon', 'public.apply_intents(jsonb)', 'execute'),"
        " has_function_privilege('authenticated', 'public.apply_intents(jsonb)', 'execute'),"
        " has_function_privilege('authenticated', 'kds.apply_one(text, text, jsonb)', 'execute')"
    ).fetchone()
    assert can == (False, True, False)
