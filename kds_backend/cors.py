"""CORS: which browser pages of another origin may call the companion (`KDS_CORS_ORIGINS`).

A restaurant's website or a manager's dashboard using supabase-js runs in a browser, which first asks (an
OPTIONS preflight) whether a page of its origin may send `apikey`, `authorization` and the rest, and then
reads a response only if it names that origin. Closed by default: with no origins configured every preflight
is refused and no response carries `Access-Control-Allow-Origin`, so no other origin's page can use the
companion (the screens, Python and Node clients are not browsers and are not affected).

Credentials (cookies) are never allowed: Supabase's clients send their tokens in headers, so no page gets
anything by riding on a browser's cookies, and `*` stays a valid answer. Websockets are not subject to CORS
in browsers; a Realtime socket is authorised by its token like every other client's.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

SUPABASE_REQUEST_HEADERS = (
    # What the Supabase clients send (supabase-js's own `@supabase/supabase-js/cors` list, plus postgrest-js's
    # and auth-js's headers), and the companion's own idempotency key.
    "apikey",
    "authorization",
    "content-type",
    "accept",
    "x-client-info",
    "x-retry-count",
    "x-supabase-api-version",
    "traceparent",
    "tracestate",
    "baggage",
    "prefer",
    "range",
    "range-unit",
    "accept-profile",
    "content-profile",
    "idempotency-key",
    "x-api-key",
)

EXPOSED_HEADERS = (
    # What the clients read from a response: postgrest-js the row count in `content-range`, auth-js the API
    # version, everyone `retry-after` on 429 and 503.
    "content-range",
    "content-profile",
    "range-unit",
    "preference-applied",
    "location",
    "retry-after",
    "x-supabase-api-version",
    "x-total-count",
)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

PREFLIGHT_MAX_AGE_S = 600
"""A browser reuses a preflight answer this long (Chromium caps it at 7,200 s)."""


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Outermost, so a preflight is answered before the body limits and auth look at it, and every answer
    (a refusal, a 429) carries the headers a page needs to read it."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=METHODS,
        allow_headers=SUPABASE_REQUEST_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_S,
    )
