"""`postgres_changes` filters: `column=op.value`, commas for AND, as Supabase Realtime parses them.

Operators: eq, neq, lt, lte, gt, gte, in, is, each optionally negated with `not.`. Values may be double-quoted
(PostgREST style) to carry `,` `(` `)`. A NULL column matches nothing but `is.null`, as in SQL.
Rows are matched in their JSON form (UUIDs and timestamps as strings), the form subscribers receive.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

OPERATORS = frozenset({"eq", "neq", "lt", "lte", "gt", "gte", "in", "is"})
MAX_IN_VALUES = 100
MAX_FILTER_CHARS = 2000


class FilterError(ValueError):
    """A filter the server cannot apply; the message says why, for the subscriber."""


class TooManyTerms(FilterError):
    """More filter terms than the caller's budget; parsing stopped there, so an oversized filter costs no more."""


class TermBudget:
    """Filter terms (conditions plus `in` values) one join may still parse, shared by its bindings. Spent as terms
    are scanned, so a filter that turns out malformed still pays for what it made the server read."""

    def __init__(self, limit: int) -> None:
        self.limit = self.left = limit

    def take(self) -> None:
        if self.left < 1:
            raise TooManyTerms(f"more than {self.limit} filter terms")
        self.left -= 1


@dataclass(frozen=True, slots=True)
class Condition:
    column: str
    op: str
    value: str | tuple[str, ...]
    negate: bool = False
    texts: frozenset[str] = field(default=frozenset(), compare=False)
    """An `in` list as a set: a text column (most are) is tested by one lookup, not by comparing each value."""

    def matches(self, row: Mapping[str, Any]) -> bool:
        actual = row.get(self.column)
        if self.op == "is":
            result = _is(actual, self.value)  # type: ignore[arg-type]
            return not result if self.negate else result
        if actual is None:
            return False  # NULL compared with anything is unknown, negated or not
        if self.op == "in":
            if isinstance(actual, str):
                result = actual in self.texts  # `_compare` of two texts is plain equality
            else:
                result = any(_compare(actual, v) == 0 for v in self.value)
        else:
            order = _compare(actual, self.value)  # type: ignore[arg-type]
            result = _OP_TEST[self.op](order)
        return not result if self.negate else result


@dataclass(frozen=True, slots=True)
class RowFilter:
    """All conditions of one binding's filter (AND). No condition: every row matches."""

    conditions: tuple[Condition, ...] = ()

    @property
    def terms(self) -> int:
        """Conditions plus `in` values: what a join's filter budget counts."""
        return sum(len(c.value) if c.op == "in" else 1 for c in self.conditions)

    def matches(self, row: Mapping[str, Any]) -> bool:
        return all(c.matches(row) for c in self.conditions)


MATCH_ALL = RowFilter()

_OP_TEST = {
    "eq": lambda o: o == 0,
    "neq": lambda o: o is not None and o != 0,
    "lt": lambda o: o is not None and o < 0,
    "lte": lambda o: o is not None and o <= 0,
    "gt": lambda o: o is not None and o > 0,
    "gte": lambda o: o is not None and o >= 0,
}


def _is(actual: Any, value: str) -> bool:
    if value == "null":
        return actual is None
    if value == "true":
        return actual is True
    if value == "false":
        return actual is False
    return actual is None if value == "unknown" else False


def _compare(actual: Any, text: str) -> int | None:
    """-1/0/1 comparing a row value with a filter literal, by the value's type; None if incomparable."""
    if isinstance(actual, bool):
        literal = text.lower()
        if literal in ("true", "t", "1"):
            other = True
        elif literal in ("false", "f", "0"):
            other = False
        else:
            return None
        return (actual > other) - (actual < other)
    if isinstance(actual, int | float):
        try:
            number = float(text)
        except ValueError:
            return None
        return (actual > number) - (actual < number)
    actual_text = actual if isinstance(actual, str) else str(actual)
    return (actual_text > text) - (actual_text < text)


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[(),]|[^"(),]+|"', re.DOTALL)
"""A quoted string (backslash escapes inside), a parenthesis or comma, a run of anything else, or a lone quote
(unterminated). One regex step per token instead of one Python step per character: a join carrying 100 filters of
2,000 characters cost the shared event loop about 0.3 s when each character was a loop iteration (issue 17)."""
_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)  # a trailing backslash escapes nothing and is dropped


def _split(text: str, budget: TermBudget | None = None) -> list[str]:
    """Split on commas outside double quotes and parentheses. With a `budget`, each part and each comma one level
    down (`in` values) takes a term from it, so scanning stops as soon as it is spent."""
    parts: list[str] = []
    depth = 0
    if budget is not None:
        budget.take()
    current: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == '"':
            raise FilterError("unbalanced quotes or parentheses")
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise FilterError("unbalanced parentheses")
        elif token == ",":
            if budget is not None:
                budget.take()
            if depth == 0:
                parts.append("".join(current))
                current = []
                continue
        current.append(token)
    if depth:
        raise FilterError("unbalanced quotes or parentheses")
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        return _ESCAPE.sub(r"\1", inner) if "\\" in inner else inner
    return value


def _condition(part: str, columns: Collection[str] | None) -> Condition:
    column, eq, rest = part.partition("=")
    column = column.strip()
    if not eq or not column:
        raise FilterError(f"expected column=operator.value, got {part!r}")
    if columns is not None and column not in columns:
        raise FilterError(f"column {column!r} does not exist")
    negate = rest.startswith("not.")
    if negate:
        rest = rest[4:]
    op, dot, value = rest.partition(".")
    if not dot or op not in OPERATORS:
        raise FilterError(f"unknown operator in {part!r}; use one of {', '.join(sorted(OPERATORS))}")
    if op == "in":
        if not (value.startswith("(") and value.endswith(")")):
            raise FilterError(f"`in` takes a list in parentheses, e.g. {column}=in.(a,b)")
        inner = value[1:-1]
        values = tuple(_unquote(v.strip()) for v in _split(inner)) if inner.strip() else ()
        if len(values) > MAX_IN_VALUES:
            raise FilterError(f"`in` takes at most {MAX_IN_VALUES} values")
        return Condition(column, op, values, negate, frozenset(values))
    if op == "is" and value.lower() not in ("null", "true", "false", "unknown"):
        raise FilterError("`is` takes null, true, false or unknown")
    return Condition(column, op, value.lower() if op == "is" else _unquote(value), negate)


def parse_filter(
    text: str | None, columns: Collection[str] | None = None, budget: TermBudget | None = None
) -> RowFilter:
    """The filter of a binding; `columns` (when given) are the only column names it may name. `budget`: the terms
    it may spend (`TooManyTerms` past it, raised without scanning the rest)."""
    if text is None or not text.strip():
        return MATCH_ALL
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"filter longer than {MAX_FILTER_CHARS} characters")
    return RowFilter(tuple(_condition(part, columns) for part in _split(text, budget)))
