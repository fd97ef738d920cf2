"""A parsed PostgREST query as parameterised SQLAlchemy Core statements, scoped to one restaurant.

Every statement built here carries `restaurant_id = <the caller's>` as a top-level AND, on the table
and on embedded tables alike, so no filter a client writes (an `or=(...)`, `restaurant_id=eq.other`)
can reach another restaurant's rows. Values are bound parameters typed by their column, so UUIDs,
timestamps and booleans compare the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ..db.tables import REST_TABLES
from .query import Condition, Embed, Filter, Logic, Op, OrderTerm, ReadQuery

_DEFAULT_ORDER = ("created_at", "change_seq")
"""When the client gives no order: oldest first, then write order (rows written together share a time)."""


def _compare(column: sa.ColumnElement[Any], f: Filter) -> sa.ColumnElement[bool]:
    value = f.value
    if f.op is Op.eq:
        return column == value
    if f.op is Op.neq:
        return column != value
    if f.op is Op.gt:
        return column > value
    if f.op is Op.gte:
        return column >= value
    if f.op is Op.lt:
        return column < value
    if f.op is Op.lte:
        return column <= value
    if f.op is Op.ilike:
        # PostgREST's `*` wildcard is LIKE's `%`; the escape clause makes `\` mean the same on both backends.
        return column.ilike(str(value).replace("*", "%"), escape="\\")
    if f.op is Op.in_:
        assert isinstance(value, tuple)
        return column.in_(list(value))
    if value is None:
        return column.is_(None)
    return column.is_(sa.true() if value else sa.false())


def condition_sql(table: sa.Table, condition: Condition) -> sa.ColumnElement[bool]:
    if isinstance(condition, Logic):
        parts = [condition_sql(table, c) for c in condition.conditions]
        clause = sa.or_(*parts) if condition.op == "or" else sa.and_(*parts)
    else:
        clause = _compare(table.c[condition.column], condition)
    return sa.not_(clause) if condition.negated else clause


def _where(table: sa.Table, conditions: Sequence[Condition], restaurant_id: str) -> list[sa.ColumnElement[bool]]:
    return [table.c.restaurant_id == restaurant_id, *(condition_sql(table, c) for c in conditions)]


def _order_by(table: sa.Table, terms: Sequence[OrderTerm]) -> list[sa.ColumnElement[Any]]:
    clauses: list[sa.ColumnElement[Any]] = []
    for term in terms:
        column = table.c[term.column]
        ordered = column.desc() if term.descending else column.asc()
        # Spelled out because SQLite's default (nulls smallest) is the opposite of PostgreSQL's.
        nulls_first = term.descending if term.nulls_first is None else term.nulls_first
        clauses.append(ordered.nulls_first() if nulls_first else ordered.nulls_last())
    if not terms:
        clauses.extend(table.c[name].asc() for name in _DEFAULT_ORDER if name in table.c)
    # A unique tie-breaker (the primary key: `id`, or `change_seq` in deleted_rows), so limit/offset pages
    # never overlap or skip rows.
    clauses.extend(column.asc() for column in table.primary_key.columns)
    return clauses


def _inner_exists(table: sa.Table, embed: Embed, restaurant_id: str) -> sa.ColumnElement[bool]:
    """`!inner`: keep a parent only if it has an embedded row passing the embed's filters."""
    target = REST_TABLES[embed.relationship.target]
    link = target.c[embed.relationship.remote] == table.c[embed.relationship.local]
    return sa.exists().where(link, *_where(target, embed.conditions, restaurant_id))


def _filtered(query: ReadQuery, restaurant_id: str) -> list[sa.ColumnElement[bool]]:
    table = REST_TABLES[query.table]
    clauses = _where(table, query.conditions, restaurant_id)
    clauses.extend(_inner_exists(table, e, restaurant_id) for e in query.embeds if e.inner)
    return clauses


def select_rows(
    query: ReadQuery, restaurant_id: str, *, limit: int | None, columns: Sequence[str] | None = None
) -> sa.Select[Any]:
    """The rows of the query's table that match, in the query's order, one page of them."""
    table = REST_TABLES[query.table]
    selected = [table.c[name] for name in columns] if columns else [table]
    stmt = sa.select(*selected).where(*_filtered(query, restaurant_id)).order_by(*_order_by(table, query.order))
    if limit is not None:
        stmt = stmt.limit(limit)
    if query.offset:
        stmt = stmt.offset(query.offset)
    return stmt


def count_rows(query: ReadQuery, restaurant_id: str) -> sa.Select[Any]:
    """How many rows match, ignoring limit and offset (`Prefer: count=exact`)."""
    table = REST_TABLES[query.table]
    return sa.select(sa.func.count()).select_from(table).where(*_filtered(query, restaurant_id))


def select_embedded(embed: Embed, keys: Sequence[Any], restaurant_id: str) -> sa.Select[Any]:
    """The embedded rows linked to the parents with these key values, filtered and ordered.

    Per-parent limit/offset are applied by the caller: they count within each parent, not overall.
    """
    target = REST_TABLES[embed.relationship.target]
    link = target.c[embed.relationship.remote].in_(list(keys))
    return (
        sa.select(target)
        .where(link, *_where(target, embed.conditions, restaurant_id))
        .order_by(*_order_by(target, embed.order))
    )
