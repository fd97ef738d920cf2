"""What every backend can store: text without NUL or lone surrogates, timestamps with a UTC instant, shallow JSON.

PostgreSQL's text cannot hold NUL (`\\u0000`), UTF-8 cannot encode a lone surrogate (`"\\ud800"` is valid JSON
and a valid Python str, but no database driver can write it), and a timestamp such as
`0001-01-01T00:00:00+01:00` has no UTC instant Python can hold. The wire models refuse them up front, so a
client gets a 4xx naming the field instead of a driver error (a 500) or, on one backend only, a stored row
the other could never hold.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
"""A day inside Python's range at each end: any such instant can be shown in any time zone (offsets reach 14 h)."""


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return "text must not contain NUL (\\u0000)"
    if not value.isascii() and _SURROGATE.search(value):
        return "text must not contain a lone surrogate (\\ud800-\\udfff); send valid Unicode"
    return None


def storable_text(value: str) -> str:
    """A pydantic `AfterValidator`: the text itself, or a ValueError saying what is wrong with it."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def timestamp_problem(value: datetime) -> str | None:
    """Why an aware `value` is out of range, or None. Compared, not converted: conversion is what overflows."""
    if value.tzinfo is None:
        return None
    if not EARLIEST <= value <= LATEST:
        return "timestamp out of range: it must fall between 0001-01-02 and 9999-12-30 (UTC)"
    return None


def in_range(value: datetime) -> datetime:
    """A pydantic `AfterValidator` for aware timestamps (see `timestamp_problem`)."""
    problem = timestamp_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def json_problem(value: Any, max_depth: int) -> str | None:
    """Why parsed JSON cannot be stored (unstorable text in a key or value, or nesting deeper than `max_depth`
    arrays and objects), or None. Iterative, so no input, however deep, can exhaust the interpreter's stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return problem
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return f"JSON nested more than {max_depth} levels deep"
            if isinstance(item, dict):
                for key, child in item.items():
                    stack.append((key, depth + 1))
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
    return None
