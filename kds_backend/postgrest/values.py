"""Text from a URL turned into a typed value for a column, with PostgreSQL's own error codes.

PostgREST hands filter values to PostgreSQL as text and lets the column's input function parse them;
the companion parses them here instead, before any SQL exists, and fails the way PostgreSQL would
(22P02 invalid input syntax, 22003 out of range) so clients see the same errors from both backends.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

from ..errors import ApiError
from .schema import ColumnType

Scalar = UUID | int | bool | datetime | str | None

_INTEGER = re.compile(r"[+-]?\d+")
_RANGES = {ColumnType.integer: 2**31, ColumnType.bigint: 2**63}
# PostgreSQL's boolean input spellings (it also takes unique prefixes; the full words are enough here).
_BOOLEANS = {
    **dict.fromkeys(("t", "true", "y", "yes", "on", "1"), True),
    **dict.fromkeys(("f", "false", "n", "no", "off", "0"), False),
}


def invalid_input(column_type: ColumnType, raw: str) -> ApiError:
    return ApiError(400, "22P02", f'invalid input syntax for type {column_type.value}: "{raw}"')


def _integer(column_type: ColumnType, raw: str) -> int:
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        raise invalid_input(column_type, raw)
    value = int(text)
    bound = _RANGES[column_type]
    if not -bound <= value < bound:
        raise ApiError(400, "22003", f'value "{raw}" is out of range for type {column_type.value}')
    return value


def _timestamp(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise invalid_input(ColumnType.timestamptz, raw) from None
    # A timestamp without an offset is read in the session time zone, which is UTC on Supabase.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before the first representable UTC instant
        raise ApiError(400, "22008", f'timestamp out of range: "{raw}"') from None


def coerce(column_type: ColumnType, raw: str) -> Scalar:
    """`raw` as a value of `column_type`, or the error PostgreSQL would give for it."""
    if column_type is ColumnType.uuid:
        try:
            return UUID(raw.strip())
        except ValueError:
            raise invalid_input(column_type, raw) from None
    if column_type in _RANGES:
        return _integer(column_type, raw)
    if column_type is ColumnType.boolean:
        try:
            return _BOOLEANS[raw.strip().lower()]
        except KeyError:
            raise invalid_input(column_type, raw) from None
    if column_type is ColumnType.timestamptz:
        return _timestamp(raw)
    if "\x00" in raw:
        # PostgreSQL text cannot hold NUL; SQLite could, so refuse it here for both.
        raise ApiError(400, "22021", 'invalid byte sequence for encoding "UTF8": 0x00')
    return raw
