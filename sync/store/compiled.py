"""A Core SELECT compiled once to SQLite text and run on the transaction's own DBAPI connection.

SQLAlchemy's execution of a cached statement (parameters processed and expanded, an execution context, events, a
result object) cost several times the query itself on a screen's hot reads: a ticket listing of one touched
order spent 1.5 of its 1.8 ms there (issue 15's profile). The statement is still written as a Core expression
(so it follows the tables), compiled once with every list rendered (`render_postcompile`), and each call only
binds its named parameters in order and fetches plain rows. Only for statements whose columns need no result
processing (text, integers, floats: what the store's hot tables hold), and lists that vary per call go in as a
JSON array (`json_ids`), so the text never changes.
"""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Collection, Mapping
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.selectable import ExecutableReturnsRows

_DIALECT = sqlite.dialect()


def json_ids(name: str) -> sa.Select[Any]:
    """A subquery of the ids in parameter `name` (a JSON array, see `ids_param`): one statement for any count."""
    return sa.select(sa.column("value", sa.String)).select_from(sa.func.json_each(sa.bindparam(name, value="[]")))


def ids_param(ids: Collection[UUID | str]) -> str:
    return json.dumps(sorted(str(i) for i in ids))


class Compiled:
    """`stmt` compiled once: a SELECT, or an INSERT/UPDATE (whose rows are its RETURNING clause's, if any). Every
    bound parameter needs a value when compiling (a placeholder for those given per call, e.g.
    `sa.bindparam("station", value="")`; an INSERT without values binds one parameter per column, named after it)."""

    def __init__(self, stmt: ExecutableReturnsRows) -> None:
        compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        self._defaults: dict[str, Any] = dict(compiled.params)
        # Rows with attribute access by column name, like SQLAlchemy's, for code that reads `row.payload`.
        columns = list(map(str, stmt.exported_columns.keys())) or ["_"]
        self._row: Any = namedtuple("Row", columns, rename=True)  # type: ignore[misc]

    def rows(self, conn: sa.Connection, params: Mapping[str, object] | None = None) -> list[Any]:
        given = params or {}
        values = [given[n] if n in given else self._defaults[n] for n in self._names]
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        make = self._row._make
        return [make(r) for r in driver.execute(self.sql, values)]
