"""Request bodies of PostgREST writes, validated with the wire models and failed in PostgREST's terms.

- not JSON, or not an object / array of objects → 400 PGRST102 "Empty or invalid json";
- a key that is no column of the table → 400 PGRST204 "Could not find the 'x' column of 't' in the
  schema cache" (what PostgREST says);
- a real column the caller may not write (`version`, `change_seq`, `updated_at`, and on PATCH the
  columns that identify a row, like `id` or `restaurant_id`) → 403 42501 "permission denied", as a
  column privilege would answer in PostgreSQL;
- a value the model refuses → 400 PGRST102 "Invalid request body", `details` naming each field
  (`1.quantity: Input should be greater than or equal to 1`), and the same list structured under
  `detail` as the POS intake gives it;
- on PATCH, null for a NOT NULL column → 400 23502, PostgreSQL's not-null violation;
- text PostgreSQL cannot store (NUL, lone surrogates) → 400 22021, and a timestamp with no UTC instant
  (`0001-01-01T00:00:00+01:00`) → 400 22008, on SQLite too, rather than a driver error (500);
- JSON nested more than `MAX_JSON_DEPTH` levels → 400 54001 (PostgreSQL's "stack depth limit exceeded").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from api_client.models import OrderInsert, OrderItemInsert, OrderItemUpdate, OrderUpdate
from api_client.storable import json_problem

from ..db.tables import EXPOSED_TABLES
from ..errors import ApiError, validation_details

MAX_JSON_DEPTH = 32
"""Arrays and objects nested in a write body (a real one nests 3 deep); deeper is 400 54001, never a 500."""
MAX_INSERT_ROWS = 1000
"""Rows per insert request: a whole day's orders fit; a runaway integration does not hold the write lock."""
INSERT_MODELS: dict[str, type[BaseModel]] = {"orders": OrderInsert, "order_items": OrderItemInsert}
UPDATE_MODELS: dict[str, type[BaseModel]] = {"orders": OrderUpdate, "order_items": OrderItemUpdate}


def _invalid_json(details: str) -> ApiError:
    return ApiError(400, "PGRST102", "Empty or invalid json", details=details)


def _load(raw: bytes) -> Any:
    try:
        data = json.loads(raw)
    except RecursionError:  # `[[[[...` deeper than the parser's own stack: hostile, not a crash
        raise ApiError(400, "54001", f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid_json(str(exc)) from None
    problem = json_problem(data, MAX_JSON_DEPTH)
    if problem is not None:
        # Refuse text PostgreSQL cannot store (NUL, lone surrogates), on SQLite too, before it reaches a driver.
        if problem.startswith("JSON nested"):
            raise ApiError(400, "54001", problem)
        raise ApiError(400, "22021", 'invalid byte sequence for encoding "UTF8"', details=problem)
    return data


def _check_keys(table: str, model: type[BaseModel], obj: dict[str, Any]) -> None:
    columns = EXPOSED_TABLES[table].c
    for key in obj:
        if key in model.model_fields:
            continue
        if key not in columns:
            raise ApiError(400, "PGRST204", f"Could not find the '{key}' column of '{table}' in the schema cache")
        writable = ", ".join(model.model_fields)
        raise ApiError(
            403,
            "42501",
            f'permission denied for column "{key}" of table "{table}"',
            hint=f"Writable columns: {writable}. The server sets the others.",
        )


def _check_timestamps(model: BaseModel) -> None:
    for name in model.model_fields_set:
        value = getattr(model, name)
        if isinstance(value, datetime):
            try:
                value.astimezone(UTC)
            except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC instant Python can hold
                raise ApiError(400, "22008", f"timestamp out of range in {name}") from None


def _validate(model: type[BaseModel], obj: dict[str, Any], index: int | None) -> BaseModel:
    try:
        validated = model.model_validate(obj)
        _check_timestamps(validated)
        return validated
    except ValidationError as exc:
        detail = validation_details(list(exc.errors()))
        if index is not None:
            for d in detail:
                d["loc"] = [str(index), *d["loc"]]
        err = ApiError(
            400,
            "PGRST102",
            "Invalid request body",
            details="; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in detail),
        )
        err.body["detail"] = detail
        raise err from None


def parse_insert(table: str, raw: bytes, columns: tuple[str, ...] | None) -> list[BaseModel]:
    """The rows of an insert body (one object or an array). `columns` (bulk `?columns=`) picks the keys used."""
    model = INSERT_MODELS[table]
    data = _load(raw)
    is_array = isinstance(data, list)
    objects = data if is_array else [data]
    if not all(isinstance(o, dict) for o in objects):
        raise _invalid_json("expected a JSON object or an array of objects")
    if len(objects) > MAX_INSERT_ROWS:
        raise ApiError(400, "54000", f"too many rows in one insert: {len(objects)} (at most {MAX_INSERT_ROWS})")
    rows = []
    for index, obj in enumerate(objects):
        if columns is not None:
            # As PostgREST: keys outside `columns` are ignored, missing ones take the column default.
            obj = {k: v for k, v in obj.items() if k in columns}
        _check_keys(table, model, obj)
        rows.append(_validate(model, obj, index if is_array else None))
    return rows


def parse_update(table: str, raw: bytes) -> BaseModel:
    """The body of a PATCH: one object; only the keys it holds are written."""
    model = UPDATE_MODELS[table]
    data = _load(raw)
    if not isinstance(data, dict):
        raise _invalid_json("expected a JSON object")
    _check_keys(table, model, data)
    update = _validate(model, data, None)
    columns = EXPOSED_TABLES[table].c
    for name in update.model_fields_set:
        if getattr(update, name) is None and not columns[name].nullable:
            raise ApiError(
                400,
                "23502",
                f'null value in column "{name}" of relation "{table}" violates not-null constraint',
            )
    return update
