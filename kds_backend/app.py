"""The companion's FastAPI application. One `lifespan` owns the engine and background work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError

from . import __doc__ as description
from .body_limits import BodyLimitsMiddleware
from .changes import ChangeHub
from .cors import install_cors
from .day_end import day_end_task
from .db.database import Database
from .db.engine import make_engine, migrate
from .errors import install_error_handlers
from .hub.mirror import upstream_mirror
from .openapi_limits import document_request_limits
from .printing.worker import backup_printing
from .ratelimit import RateLimiter
from .realtime.server import realtime_lifespan
from .realtime.server import router as realtime_router
from .routes import (
    auth,
    devices,
    health,
    intake,
    load_routing,
    prep_times,
    printers,
    recipes,
    reports,
    rest,
    rest_delete,
    rpc,
)
from .settings import Settings

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        try:
            await asyncio.to_thread(migrate, engine)
            app.state.db = Database(engine, ChangeHub(asyncio.get_running_loop()))
            async with (
                realtime_lifespan(app),
                day_end_task(app.state.db, settings),
                upstream_mirror(settings.upstream, app.state.db, app.state.realtime.broadcast) as app.state.upstream,
                backup_printing(app),
            ):
                yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="KDS companion",
        description=description or "",
        version=API_VERSION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.upstream = None  # the hub's mirror of its upstream, when it has one (kds_backend/hub)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    install_error_handlers(app)
    app.add_middleware(intake.IntakeFastPath)  # POS orders without FastAPI's machinery; inside the body limits
    app.add_middleware(BodyLimitsMiddleware, limits=settings.limits)  # body size and time; auth before the body
    install_cors(app, settings.cors_origins)  # added last: outermost

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", exc.orig)
        body = {
            "code": "23505",
            "message": "duplicate or conflicting row",
            "details": "A row with that id already exists or a referenced row is missing.",
            "hint": None,
        }
        return JSONResponse(body, status_code=409)

    @app.exception_handler(OperationalError)
    async def _unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        body = {"code": "08006", "message": "database unavailable", "details": None, "hint": "Retry later."}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    app.include_router(health.router)
    app.include_router(intake.router)
    app.include_router(load_routing.router)
    app.include_router(rpc.router)
    app.include_router(rest.router)
    app.include_router(auth.router)
    app.include_router(devices.router)
    app.include_router(realtime_router)
    app.include_router(rest_delete.router)
    app.include_router(reports.router)
    app.include_router(printers.router)
    app.include_router(recipes.router)
    app.include_router(prep_times.router)
    document_request_limits(app)  # the head, body and connection limits' answers, which no route declares
    return app
