"""`postgres_changes` bindings of a `phx_join`: validated, given Supabase-style integer ids, matched to changes."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from ..db.tables import EXPOSED_TABLES
from .filters import FilterError, RowFilter, TermBudget, TooManyTerms, parse_filter
from .payloads import SCHEMA, PreparedChange
from .protocol import dumps

EVENTS = ("INSERT", "UPDATE", "DELETE")
ID_RANGE = 2**27 - 1
"""Supabase's ids are `:erlang.phash2(params)` (0 .. 2^27-1); ours are as stable, and never 0, which the
Python client would treat as "no id"."""


class BindingError(ValueError):
    """Parameters the server cannot subscribe to; sent to the client as a `system` error or join error."""


@dataclass(frozen=True, slots=True)
class Binding:
    id: int
    events: frozenset[str]
    tables: frozenset[str]
    filter: RowFilter

    def matches(self, change: PreparedChange) -> bool:
        return change.type in self.events and change.table in self.tables and self.filter.matches(change.row)


def binding_id(params: dict[str, Any]) -> int:
    """A stable id for a binding's params: equal params always get the same id, as with Supabase."""
    return zlib.crc32(dumps(params, sort_keys=True).encode()) % ID_RANGE + 1


def _describe(params: dict[str, Any]) -> str:
    return (
        "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given "
        f"connect parameters: [event: {params.get('event')}, schema: {params.get('schema')}, "
        f"table: {params.get('table')}, filters: {params.get('filter')}]"
    )


def parse_binding(params: Any, budget: TermBudget | None = None) -> Binding:
    """`budget`: its join's filter terms, spent by this binding's filter (`TooManyTerms` once it runs out)."""
    if not isinstance(params, dict):
        raise BindingError("each postgres_changes binding must be an object")
    try:
        return _parse(params, budget)
    except TooManyTerms:
        raise
    except (BindingError, FilterError) as exc:
        raise BindingError(f"{_describe(params)}: {exc}") from None


def _parse(params: dict[str, Any], budget: TermBudget | None) -> Binding:
    event = params.get("event")
    if not isinstance(event, str) or event.upper() not in (*EVENTS, "*"):
        raise BindingError("event must be INSERT, UPDATE, DELETE or *")
    schema = params.get("schema", SCHEMA)
    if schema not in (SCHEMA, "*"):
        raise BindingError(f"schema {schema!r} does not exist")
    table = params.get("table")
    if table is None or table == "*":
        tables = frozenset(EXPOSED_TABLES)
    elif isinstance(table, str) and table in EXPOSED_TABLES:
        tables = frozenset({table})
    else:
        raise BindingError(f"table {table!r} is not published")
    raw_filter = params.get("filter")
    if raw_filter is not None and not isinstance(raw_filter, str):
        raise BindingError("filter must be a string")
    columns = {c.name for t in tables for c in EXPOSED_TABLES[t].columns}
    row_filter = parse_filter(raw_filter, columns, budget)
    events = frozenset(EVENTS) if event == "*" else frozenset({event.upper()})
    return Binding(binding_id(params), events, tables, row_filter)
