"""The answers the request limits give (issue 17), written into every operation of the OpenAPI document.

The limits are enforced below the routes (`http_protocol.py` for the head, the connection cap and silent
connections; `body_limits.py` for the body; the database error handler in `app.py`), so FastAPI never sees
them among a route's responses. Integrators and the schema fuzzer read the document: it must list them.
A route's own description of one of these codes (say /health's 503) is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

_REFUSAL = "PostgREST's error body `{code, message, details, hint}`"

EVERY_REQUEST: dict[str, dict[str, Any]] = {
    "408": {
        "description": (
            f"Request head not received within KDS_HEADER_TIMEOUT seconds, or its body within KDS_BODY_TIMEOUT "
            f"(KDS408, {_REFUSAL}); the connection is closed"
        )
    },
    "431": {
        "description": (
            f"Request line and headers over KDS_MAX_HEADER_BYTES (KDS431, {_REFUSAL}); the connection is closed"
        )
    },
    "503": {
        "description": (
            f"The server is at KDS_MAX_CONNECTIONS open connections (KDS503; the connection is closed), or the "
            f"database is unavailable (08006); {_REFUSAL}. Retry after Retry-After seconds"
        ),
        "headers": {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}},
    },
}

WITH_BODY: dict[str, dict[str, Any]] = {
    "413": {
        "description": (
            f"Request body over KDS_MAX_BODY_BYTES (KDS413, {_REFUSAL}): a declared Content-Length is refused before "
            "any of the body is read, a chunked body as soon as it passes the limit"
        )
    },
}
BODY_METHODS = frozenset({"post", "put", "patch"})


def add_limit_responses(document: dict[str, Any]) -> None:
    """Add the limits' answers to each operation of `document` that does not describe them itself."""
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = {**EVERY_REQUEST, **(WITH_BODY if method in BODY_METHODS else {})}
            for code, answer in answers.items():
                operation["responses"].setdefault(code, answer)


def document_request_limits(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json and docs/openapi.json) carry the limits' answers."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        document = generate()  # FastAPI keeps it in app.openapi_schema: completed once, served as is after
        if first:
            add_limit_responses(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
