"""`GET /health`: is the companion up and its database reachable."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api_client.models import SCHEMA_VERSION

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "Database unreachable"}})
async def health(request: Request) -> JSONResponse:
    db = request.app.state.db
    try:
        await db.aread(lambda c: c.execute(sa.text("SELECT 1")).scalar_one())
    except Exception as exc:
        body = {"status": "unavailable", "error": type(exc).__name__}
        return JSONResponse(body, status_code=503)
    body = {"status": "ok", "database": db.engine.dialect.name, "schema_version": SCHEMA_VERSION}
    mirror = request.app.state.upstream
    if mirror is not None:
        # A hub: whether the internet link works and what waits for it (the LAN is served either way).
        body["upstream"] = await mirror.status()
    return JSONResponse(body)
