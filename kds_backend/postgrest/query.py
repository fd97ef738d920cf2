"""PostgREST query strings parsed into a typed description of a read (no SQL, no I/O, no HTTP).

Supported, with PostgREST's syntax and error codes:

- filters `col=[not.]op.value`, op one of eq, neq, gt, gte, lt, lte, ilike (`*` is the wildcard),
  in (`in.(a,b,"c,d")`), is (`is.null`, `is.true`, `is.false`); logic trees `or=(...)`, `and=(...)`,
  `not.or=(...)`, nestable (`or=(a.eq.1,and(b.gt.2,c.is.null))`);
- `select=` with columns, `*`, aliases (`num:number`) and one level of embedding (`order_items(*)`,
  `order_items(id,name)`, `order_items!inner(*)`, `orders(*)` from `order_items`);
- `order=col.asc|desc[.nullsfirst|.nullslast],...`, `limit`, `offset`;
- on an embedded resource: filters (`order_items.station=eq.grill`, which filter the embedded rows, not
  the parents, unless the embed is `!inner`), `order_items.order`, `.limit`, `.offset`, `.or`, `.and`.

Values are coerced to the column's type here, so a bad one fails before any SQL is built.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from ..errors import ApiError
from .schema import SCHEMA, ColumnType, Relationship, Schema, TableSchema, table_schema
from .values import Scalar, coerce


class Op(StrEnum):
    eq = "eq"
    neq = "neq"
    gt = "gt"
    gte = "gte"
    lt = "lt"
    lte = "lte"
    ilike = "ilike"
    in_ = "in"
    is_ = "is"


OPERATORS = ", ".join(op.value for op in Op)
_OP_NAMES = frozenset(op.value for op in Op)
_SQL_SYMBOL = {Op.eq: "=", Op.neq: "<>", Op.gt: ">", Op.gte: ">=", Op.lt: "<", Op.lte: "<=", Op.ilike: "~~*"}
_IS_VALUES: dict[str, bool | None] = {"null": None, "true": True, "false": False}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_IN_LIST = 1000
MAX_FILTERS = 200
"""Filters in one request, counting each term of `or`/`and` trees and embedded filters. More would reach the
backends' own limits (SQLite's expression depth of 1000) and come back as a database error, not a 400."""
MAX_LOGIC_DEPTH = 16
"""`or(and(or(...)))` nesting; parsing and SQL building recurse, so a deep tree is refused before either."""
MAX_BOUND_VALUES = 10_000
"""Values bound into one statement (filters plus every `in` list); SQLite takes 32766 at most."""
MAX_SELECT_FIELDS = 200
MAX_ORDER_TERMS = 50
NOT_FILTERS = frozenset({"select", "columns", "on_conflict", "apikey"})
"""Query parameters that are not about which rows (`apikey` is the key itself, sent as a parameter)."""
_LOGIC_KEYS: dict[str, tuple[Literal["or", "and"], bool]] = {
    "or": ("or", False),
    "and": ("and", False),
    "not.or": ("or", True),
    "not.and": ("and", True),
}


@dataclass(frozen=True)
class Filter:
    """`column op value`; `value` is typed (a tuple for `in`; None/True/False for `is`)."""

    column: str
    op: Op
    value: Scalar | tuple[Scalar, ...]
    negated: bool = False


@dataclass(frozen=True)
class Logic:
    """`or` / `and` over conditions, optionally negated."""

    op: Literal["or", "and"]
    conditions: tuple[Condition, ...]
    negated: bool = False


Condition = Filter | Logic


@dataclass(frozen=True)
class OrderTerm:
    column: str
    descending: bool = False
    nulls_first: bool | None = None
    """None: PostgreSQL's default (nulls last ascending, first descending)."""


@dataclass(frozen=True)
class Field:
    column: str
    key: str
    """The key in the JSON output (the alias, or the column name)."""


@dataclass(frozen=True)
class Embed:
    relationship: Relationship
    key: str
    fields: tuple[Field, ...]
    inner: bool = False
    conditions: tuple[Condition, ...] = ()
    order: tuple[OrderTerm, ...] = ()
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class ReadQuery:
    table: str
    fields: tuple[Field, ...]
    embeds: tuple[Embed, ...] = ()
    conditions: tuple[Condition, ...] = ()
    order: tuple[OrderTerm, ...] = ()
    limit: int | None = None
    offset: int = 0


# ---------------------------------------------------------------- errors


def parse_error(message: str, details: str | None = None) -> ApiError:
    return ApiError(400, "PGRST100", message, details=details)


def too_many(what: str, count: int, limit: int) -> ApiError:
    return ApiError(
        400,
        "54000",
        f"too many {what}: {count} (at most {limit})",
        hint="Split the request, or use an in list (`column=in.(a,b,c)`) instead of many `eq` filters.",
    )


def not_implemented(feature: str) -> ApiError:
    return ApiError(400, "PGRST127", "Feature not implemented", details=feature)


def unknown_column(table: TableSchema, column: str) -> ApiError:
    close = difflib.get_close_matches(column, list(table.columns), n=1)
    hint = f'Perhaps you meant to reference the column "{table.name}.{close[0]}".' if close else None
    return ApiError(400, "42703", f"column {table.name}.{column} does not exist", hint=hint)


def unknown_relationship(table: TableSchema, name: str) -> ApiError:
    return ApiError(
        400,
        "PGRST200",
        f"Could not find a relationship between '{table.name}' and '{name}' in the schema cache",
        details=(
            f"Searched for a foreign key relationship between '{table.name}' and '{name}' "
            "in the schema 'public', but no matches were found."
        ),
    )


# ---------------------------------------------------------------- lexical helpers


def split_top_level(text: str, context: str) -> list[str]:
    """Split on commas outside parentheses and double quotes (`a,b(c,d),"e,f"` → 3 parts)."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise parse_error(f"failed to parse {context} ({text})", 'unexpected ")"')
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quoted or depth:
        raise parse_error(f"failed to parse {context} ({text})", "unexpected end of input")
    parts.append(text[start:])
    return parts


def unquote(text: str) -> str:
    """A double-quoted item without its quotes and backslash escapes; anything else unchanged."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _column(table: TableSchema, name: str) -> str:
    name = unquote(name)
    if name not in table.columns:
        raise unknown_column(table, name)
    return name


# ---------------------------------------------------------------- filters


def _value(table: TableSchema, column: str, op: Op, raw: str, where: str) -> Scalar | tuple[Scalar, ...]:
    column_type = table.columns[column]
    if op is Op.is_:
        if raw.lower() not in _IS_VALUES:
            expected = 'expecting "null", "true" or "false"'
            raise parse_error(f"failed to parse filter ({where})", f'unexpected "{raw}" {expected}')
        value = _IS_VALUES[raw.lower()]
        if value is not None and column_type is not ColumnType.boolean:
            raise ApiError(
                400, "42804", f"argument of IS {raw.upper()} must be type boolean, not type {column_type.value}"
            )
        return value
    if column_type is ColumnType.jsonb:
        raise ApiError(
            400,
            "42883",
            f"operator does not exist: jsonb {_SQL_SYMBOL.get(op, op.value)} unknown",
            hint=f"Only `is.null` filters are supported on {table.name}.{column}.",
        )
    if op is Op.ilike and column_type is not ColumnType.text:
        raise ApiError(400, "42883", f"operator does not exist: {column_type.value} ~~* unknown")
    if op is Op.in_:
        if not (raw.startswith("(") and raw.endswith(")")):
            raise parse_error(f"failed to parse filter ({where})", 'expecting "(" and ")" around the in list')
        inner = raw[1:-1]
        items = split_top_level(inner, "filter") if inner else []
        if len(items) > MAX_IN_LIST:
            # Each value is a bound parameter, and backends cap those (SQLite at 32766 per statement).
            raise ApiError(400, "54000", f"too many values in an in list: {len(items)} (at most {MAX_IN_LIST})")
        return tuple(coerce(column_type, unquote(item)) for item in items)
    return coerce(column_type, raw)


def parse_filter(table: TableSchema, column: str, text: str, *, in_tree: bool = False) -> Filter:
    """`column` with `text` as in `?column=text` (e.g. `not.in.(1,2)`).

    In a logic tree (`in_tree`) a value may be double-quoted to hold commas or parentheses.
    """
    column = _column(table, column)
    negated = text.startswith("not.")
    rest = text[4:] if negated else text
    op_name, dot, raw = rest.partition(".")
    if not dot or op_name not in _OP_NAMES:
        raise parse_error(
            f"failed to parse filter ({text})",
            f'unexpected "{op_name}" expecting "not" or operator ({OPERATORS})',
        )
    op = Op(op_name)
    if in_tree and op is not Op.in_:
        raw = unquote(raw)
    return Filter(column, op, _value(table, column, op, raw, text), negated)


def parse_logic(
    table: TableSchema, op: Literal["or", "and"], text: str, negated: bool = False, depth: int = 1
) -> Logic:
    """A logic tree such as `(status.eq.new,and(priority.eq.rush,guests.gt.4))`."""
    if depth > MAX_LOGIC_DEPTH:
        raise ApiError(400, "54001", f"logic tree nested more than {MAX_LOGIC_DEPTH} levels deep")
    if not (text.startswith("(") and text.endswith(")")) or len(text) < 3:
        raise parse_error(f"failed to parse logic tree ({text})", 'expecting "(" and ")" around the conditions')
    conditions: list[Condition] = []
    for part in split_top_level(text[1:-1], "logic tree"):
        part = part.strip()
        nested = re.fullmatch(r"(not\.)?(and|or)(\(.*\))", part, re.DOTALL)
        if nested:
            kind: Literal["or", "and"] = "or" if nested.group(2) == "or" else "and"
            conditions.append(parse_logic(table, kind, nested.group(3), nested.group(1) is not None, depth + 1))
            continue
        column, dot, rest = part.partition(".")
        if not dot:
            raise parse_error(f"failed to parse logic tree ({text})", f'expecting "column.operator.value" in "{part}"')
        conditions.append(parse_filter(table, column, rest, in_tree=True))
    return Logic(op, tuple(conditions), negated)


# ---------------------------------------------------------------- select, order, paging


def _fields(table: TableSchema, names: Iterable[tuple[str, str]]) -> tuple[Field, ...]:
    out: list[Field] = []
    for name, alias in names:
        if name == "*":
            out.extend(Field(c, c) for c in table.columns)
        else:
            column = _column(table, name)
            out.append(Field(column, alias or column))
    return tuple(out)


def _split_alias(item: str) -> tuple[str, str]:
    alias, colon, rest = item.partition(":")
    if colon and not rest.startswith(":") and _IDENTIFIER.fullmatch(alias):
        return rest, alias
    return item, ""


def _check_select_item(item: str, raw: str) -> None:
    if not item:
        raise parse_error(f"failed to parse select parameter ({raw})", "unexpected empty column name")
    for marker, feature in (("::", "casts in select"), ("->", "JSON paths in select"), ("...", "spread embeds")):
        if marker in item:
            raise not_implemented(f"{feature} ({item})")


def _embed(schema: Schema, table: TableSchema, head: str, alias: str, inner_select: str) -> Embed:
    name, bang, hint = head.partition("!")
    name = unquote(name)
    relationship = table.relationships.get(name)
    if relationship is None:
        raise unknown_relationship(table, name)
    inner = False
    if bang:
        if hint == "inner":
            inner = True
        elif hint not in ("left", relationship.constraint, relationship.local, relationship.remote):
            raise unknown_relationship(table, f"{name}!{hint}")
    target = schema[relationship.target]
    names: list[tuple[str, str]] = []
    for item in split_top_level(inner_select, "select parameter") if inner_select.strip() else []:
        item = item.strip()
        _check_select_item(item, inner_select)
        if "(" in item:
            raise not_implemented(f"nested embedding ({item})")
        names.append(_split_alias(item))
    return Embed(relationship, alias or name, _fields(target, names), inner)


def parse_select(schema: Schema, table: TableSchema, raw: str | None) -> tuple[tuple[Field, ...], tuple[Embed, ...]]:
    if raw is None or not raw.strip():
        return _fields(table, [("*", "")]), ()
    names: list[tuple[str, str]] = []
    embeds: list[Embed] = []
    for item in split_top_level(raw, "select parameter"):
        item = item.strip()
        _check_select_item(item, raw)
        body, alias = _split_alias(item)
        if body.endswith(")") and "(" in body:
            head, _, inner_select = body.partition("(")
            embeds.append(_embed(schema, table, head, alias, inner_select[:-1]))
        else:
            names.append((body, alias))
    return _fields(table, names), tuple(embeds)


def parse_order(table: TableSchema, raw: str) -> tuple[OrderTerm, ...]:
    terms: list[OrderTerm] = []
    parts = raw.split(",")
    if len(parts) > MAX_ORDER_TERMS:
        raise too_many("order terms", len(parts), MAX_ORDER_TERMS)
    for part in parts:
        pieces = part.strip().split(".")
        if not pieces[0]:
            raise parse_error(f"failed to parse order ({raw})", "unexpected empty column name")
        column = _column(table, pieces[0])
        modifiers = pieces[1:]
        descending = False
        nulls_first: bool | None = None
        if modifiers and modifiers[0] in ("asc", "desc"):
            descending = modifiers.pop(0) == "desc"
        if modifiers and modifiers[0] in ("nullsfirst", "nullslast"):
            nulls_first = modifiers.pop(0) == "nullsfirst"
        if modifiers:
            raise parse_error(
                f"failed to parse order ({raw})",
                f'unexpected "{modifiers[0]}" expecting "asc", "desc", "nullsfirst" or "nullslast"',
            )
        terms.append(OrderTerm(column, descending, nulls_first))
    return tuple(terms)


def parse_count(name: str, raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,18}", raw.strip()):
        # 18 digits stay within a bigint, which is what both backends take for LIMIT and OFFSET.
        raise parse_error(f"failed to parse {name} parameter ({raw})", "expecting a non-negative integer")
    return int(raw)


# ---------------------------------------------------------------- the whole query string


@dataclass
class _Part:
    """What the query string says about one resource (the table, or one embed)."""

    conditions: list[Condition]
    order: tuple[OrderTerm, ...] = ()
    limit: int | None = None
    offset: int = 0


def _apply_param(table: TableSchema, part: _Part, key: str, value: str) -> None:
    if key in _LOGIC_KEYS:
        op, negated = _LOGIC_KEYS[key]
        part.conditions.append(parse_logic(table, op, value, negated))
    elif key == "order":
        part.order = parse_order(table, value)
    elif key in ("limit", "offset"):
        setattr(part, key, parse_count(key, value))
    else:
        part.conditions.append(parse_filter(table, key, value))


def parse_query(table_name: str, params: Iterable[tuple[str, str]], schema: Schema = SCHEMA) -> ReadQuery:
    """The read that `GET /rest/v1/<table_name>?<params>` asks for (also the WHERE of a PATCH)."""
    table = table_schema(table_name, schema)
    params = list(params)
    select = [v for k, v in params if k == "select"]
    fields, embeds = parse_select(schema, table, select[-1] if select else None)
    by_key = {e.key: e for e in embeds}
    by_name = {e.relationship.target: e for e in embeds}
    top = _Part([])
    nested: dict[str, _Part] = {e.key: _Part([]) for e in embeds}
    for key, value in params:
        if key in NOT_FILTERS:
            continue
        head, dot, rest = key.partition(".")
        embed = (by_key.get(head) or by_name.get(head)) if dot else None
        if embed is not None:
            _apply_param(schema[embed.relationship.target], nested[embed.key], rest, value)
        elif dot and key not in _LOGIC_KEYS and head in table.relationships:
            raise ApiError(
                400,
                "PGRST108",
                f"'{head}' is not an embedded resource in this request",
                hint=f"Verify that '{head}' is included in the 'select' query parameter.",
            )
        else:
            _apply_param(table, top, key, value)
    embeds = tuple(
        Embed(
            e.relationship,
            e.key,
            e.fields,
            e.inner,
            tuple(nested[e.key].conditions),
            nested[e.key].order,
            nested[e.key].limit,
            nested[e.key].offset,
        )
        for e in embeds
    )
    query = ReadQuery(table.name, fields, embeds, tuple(top.conditions), top.order, top.limit, top.offset)
    _check_size(query)
    return query


def _count(conditions: Iterable[Condition]) -> tuple[int, int]:
    """(filters, bound values) in `conditions`; trees are at most MAX_LOGIC_DEPTH deep, so recursion is safe."""
    filters = values = 0
    for condition in conditions:
        if isinstance(condition, Logic):
            f, v = _count(condition.conditions)
            filters, values = filters + f, values + v
        else:
            filters += 1
            values += len(condition.value) if isinstance(condition.value, tuple) else 1
    return filters, values


def _check_size(query: ReadQuery) -> None:
    """Refuse a query too big for the backends (see MAX_FILTERS) with a 400, before any SQL is built."""
    filters, values = _count(query.conditions)
    fields = len(query.fields)
    for embed in query.embeds:
        f, v = _count(embed.conditions)
        filters, values, fields = filters + f, values + v, fields + len(embed.fields)
    if filters > MAX_FILTERS:
        raise too_many("filters", filters, MAX_FILTERS)
    if values > MAX_BOUND_VALUES:
        raise too_many("filter values", values, MAX_BOUND_VALUES)
    if fields > MAX_SELECT_FIELDS:
        raise too_many("selected columns", fields, MAX_SELECT_FIELDS)


def parse_columns(table_name: str, raw: str, schema: Schema = SCHEMA) -> tuple[str, ...]:
    """The `columns=` of a bulk insert (`"number","notes"`): which body keys to use."""
    table = table_schema(table_name, schema)
    names = tuple(unquote(part.strip()) for part in split_top_level(raw, "columns parameter"))
    for name in names:
        if name not in table.columns:
            raise ApiError(400, "PGRST204", f"Could not find the '{name}' column of '{table.name}' in the schema cache")
    return names
