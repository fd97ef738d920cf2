"""The three descriptions of each table a client reads agree column for column: the Supabase migrations (as
PostgreSQL reports them after applying them), the companion's `kds_backend/db/tables.py`, and the `*Public`
model the screens parse rows with. A column added to one and not the others is caught here, not in a kitchen."""

from __future__ import annotations

import psycopg
import pytest

from kds_backend.db.tables import REST_TABLES
from kds_backend.postgrest.read import ROW_MODELS

pytestmark = pytest.mark.postgres


def _supabase_columns(conn: psycopg.Connection, table: str) -> set[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = 'public' and table_name = %s",
        (table,),
    ).fetchall()
    return {name for (name,) in rows}


def test_every_readable_table_has_the_same_columns_in_supabase_the_companion_and_the_model(
    sb: psycopg.Connection,
) -> None:
    assert set(ROW_MODELS) == set(REST_TABLES), "every table /rest/v1 reads has a model to parse its rows"
    differences = {}
    for table, model in ROW_MODELS.items():
        described = {
            "supabase": _supabase_columns(sb, table),
            "companion": set(REST_TABLES[table].c.keys()),
            "model": set(model.model_fields),
        }
        every = set().union(*described.values())
        missing = {where: sorted(every - columns) for where, columns in described.items() if every - columns}
        if missing:
            differences[table] = missing
    assert not differences, differences
