"""PostgREST's request headers (Prefer, Accept, profiles) and response framing (Content-Range, bodies)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response

from ..errors import ApiError

OBJECT = "application/vnd.pgrst.object+json"
_OBJECT_TYPES = {OBJECT, "application/vnd.pgrst.object"}
ARRAY = "application/vnd.pgrst.array+json"
_ARRAY_TYPES = {"application/json", ARRAY, "*/*", "application/*"}
SCHEMA = "public"


@dataclass(frozen=True)
class Prefer:
    representation: bool = False
    count: bool = False
    resolution: str | None = None


@dataclass(frozen=True)
class Accept:
    single: bool = False
    """`application/vnd.pgrst.object+json`: exactly one row, as an object."""
    strip_nulls: bool = False


def prefer(headers: Headers) -> Prefer:
    """`Prefer: return=representation, count=exact` (several headers or comma lists alike)."""
    values: dict[str, str] = {}
    for header in headers.getlist("prefer"):
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            values[key.strip().lower()] = value.strip().lower()
    # planned/estimated counts are exact here: the tables are small enough to count.
    return Prefer(
        representation=values.get("return") == "representation",
        count=values.get("count") in ("exact", "planned", "estimated"),
        resolution=values.get("resolution"),
    )


def accept(headers: Headers) -> Accept:
    header = headers.get("accept", "")
    if not header.strip():
        return Accept()
    offered = []
    for item in header.split(","):
        media, *params = (p.strip().lower() for p in item.split(";"))
        strip = "nulls=stripped" in params
        if media in _OBJECT_TYPES:
            return Accept(single=True, strip_nulls=strip)
        if media in _ARRAY_TYPES:
            return Accept(strip_nulls=strip and media == ARRAY)
        offered.append(media)
    raise ApiError(406, "PGRST107", f"None of these media types are available: {', '.join(offered)}")


def check_profile(headers: Headers) -> None:
    """Only the `public` schema exists here (Accept-Profile on reads, Content-Profile on writes)."""
    for name in ("accept-profile", "content-profile"):
        profile = headers.get(name)
        if profile is not None and profile != SCHEMA:
            raise ApiError(406, "PGRST106", f"The schema must be one of the following: {SCHEMA}")


def single_row_error(count: int) -> ApiError:
    return ApiError(
        406,
        "PGRST116",
        "JSON object requested, multiple (or no) rows returned",
        details=f"The result contains {count} rows",
    )


def content_range(offset: int, returned: int, total: int | None) -> str:
    """`0-9/42`; `*/0` when nothing is returned; `/*` when the total was not counted."""
    size = "*" if total is None else str(total)
    if returned == 0:
        return f"*/{size}"
    return f"{offset}-{offset + returned - 1}/{size}"


def _strip(row: Any) -> Any:
    if isinstance(row, dict):
        return {k: _strip(v) for k, v in row.items() if v is not None}
    if isinstance(row, list):
        return [_strip(v) for v in row]
    return row


def rows_response(
    rows: list[dict[str, Any]],
    how: Accept,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    body: bool = True,
) -> Response:
    """Rows as a JSON array, or as one object when asked for (406 PGRST116 unless exactly one)."""
    if how.single and len(rows) != 1:
        raise single_row_error(len(rows))
    data: Any = rows[0] if how.single else rows
    if how.strip_nulls:
        data = _strip(data)
    media = OBJECT if how.single else "application/json"
    content = json.dumps(data, separators=(",", ":")).encode() if body else b""
    return Response(content, status_code=status, headers=dict(headers or {}), media_type=f"{media}; charset=utf-8")
