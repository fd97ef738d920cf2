"""Errors in the dialect's shape: PostgREST's `{code, message, details, hint}` with its status codes."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """An error answered as PostgREST would: status code plus `{code, message, details, hint}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "details": details, "hint": hint, "message": message}
        self.headers = headers or {}


def problem_body(code: str, message: str, hint: str | None = None, details: str | None = None) -> bytes:
    """The JSON of an error answered below the app's exception handlers (request limits)."""
    return json.dumps({"code": code, "details": details, "hint": hint, "message": message}).encode()


def unauthorized(message: str, hint: str | None = None) -> ApiError:
    # PGRST301: JWT could not be decoded / is invalid; PGRST303 expired (PostgREST 12).
    code = "PGRST303" if "expired" in message else "PGRST301"
    return ApiError(401, code, message, hint=hint, headers={"WWW-Authenticate": "Bearer"})


def forbidden(message: str, hint: str | None = None) -> ApiError:
    return ApiError(403, "42501", message, hint=hint)


def bad_request(code: str, message: str, details: str | None = None, hint: str | None = None) -> ApiError:
    return ApiError(400, code, message, details=details, hint=hint)


def validation_details(errors: list[Any]) -> list[dict[str, Any]]:
    """pydantic errors reduced to what a caller needs: where, what, why (no echo of large inputs)."""
    out = []
    for err in errors:
        out.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return out


def _not_json() -> dict[str, Any]:
    return {"code": "PGRST102", "message": "Empty or invalid json", "details": None, "hint": None}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(list(exc.errors()))
        if any(d["type"] == "json_invalid" for d in details):
            # Not JSON at all: PostgREST's 400, whatever the bytes were.
            return JSONResponse(_not_json(), status_code=400)
        body = {
            "code": "PGRST102",
            "message": "Invalid request body",
            "details": "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details),
            "hint": None,
            "detail": details,
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's own "error parsing the body": the same answer as any other non-JSON body.
            return JSONResponse(_not_json(), status_code=400)
        code = {404: "PGRST125", 405: "PGRST117"}.get(exc.status_code, f"HTTP{exc.status_code}")
        body = {"code": code, "message": str(exc.detail), "details": None, "hint": None}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))
