"""What can go wrong talking to the companion or Supabase, classified so the sync engine can decide.

    ClientError
    ├── TransportFailure    no HTTP answer: connect, timeout, network, protocol   retry with backoff
    ├── InvalidResponse     an answer that is not the dialect (proxy page, bad JSON) retry with backoff
    └── ApiError            an HTTP error answer, PostgREST's `{code, message, details, hint}`
        ├── AuthError       401 after one refresh attempt, or refresh refused     sign in again
        ├── RateLimited     429, `retry_after` from Retry-After                    wait, then retry
        └── ServerError     5xx (503 may carry Retry-After)                        retry with backoff

Any other `ApiError` (400, 403, 404, 409, 422) is permanent for that request: retrying sends the same
thing and gets the same answer. `retryable` says which is which.
"""

from __future__ import annotations

import json
import math
import time
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx

__all__ = [
    "ApiError",
    "AuthError",
    "ClientError",
    "InvalidResponse",
    "RateLimited",
    "ServerError",
    "TransportFailure",
    "error_from_response",
    "parse_retry_after",
]

_MAX_MESSAGE = 300


class ClientError(Exception):
    """Base of every error the API client raises."""

    retryable: ClassVar[bool] = False


class TransportFailure(ClientError):
    """The request got no usable HTTP answer (refused, DNS, timeout, reset, garbled). Wraps the httpx error."""

    retryable = True

    def __init__(self, message: str, *, cause: httpx.RequestError) -> None:
        super().__init__(message)
        self.cause = cause
        self.timed_out = isinstance(cause, httpx.TimeoutException)


class InvalidResponse(ClientError):
    """A 2xx answer that is not what the dialect promises: not JSON, or not the expected shape.

    Retryable because it is what a captive portal, a half-deployed server or a proxy error page looks like.
    """

    retryable = True

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class ApiError(ClientError):
    """An HTTP error answer. Fields are PostgREST's; GoTrue's and FastAPI's bodies are mapped onto them."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        hint: str | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = headers if headers is not None else httpx.Headers()


class AuthError(ApiError):
    """The device is not (or no longer) signed in: a 401 that one refresh did not cure, or a refused refresh.

    `status` is the answer that said so: 401 from the API, or GoTrue's 400 for a revoked refresh token.
    """


class RateLimited(ApiError):
    """429. `retry_after` is the wait in seconds the server asked for, or None if it did not say."""

    retryable = True

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the server (or its database) failed; the request may or may not have been applied."""

    retryable = True

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _body_fields(response: httpx.Response) -> tuple[str | None, str | None, Any, str | None]:
    """(code, message, details, hint) from the body, whichever dialect wrote it; Nones if unreadable."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip()[:_MAX_MESSAGE] if response.content else None
        return None, text or None, None, None
    if not isinstance(body, dict):
        return None, None, body, None
    # PostgREST / the companion: {code, message, details, hint}
    # GoTrue: {error, error_description} (old) or {code: 400, error_code, msg} (new)
    # FastAPI default: {detail}
    code = body.get("error_code") or body.get("code") or body.get("error")
    message = body.get("message") or body.get("msg") or body.get("error_description")
    details = body.get("details")
    if message is None and "detail" in body:
        detail = body["detail"]
        message, details = (detail, None) if isinstance(detail, str) else ("Request failed", detail)
    hint = body.get("hint")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
        details,
        str(hint) if hint is not None else None,
    )


def error_from_response(response: httpx.Response) -> ApiError:
    """The typed error for a non-2xx response."""
    status = response.status_code
    code, message, details, hint = _body_fields(response)
    code = code or f"HTTP{status}"
    message = message or response.reason_phrase or "HTTP error"
    args = (status, code, message, details, hint, response.headers)
    if status == 401:
        return AuthError(*args)
    if status == 429:
        return RateLimited(*args, retry_after=parse_retry_after(response.headers.get("retry-after")))
    if status >= 500:
        return ServerError(*args, retry_after=parse_retry_after(response.headers.get("retry-after")))
    return ApiError(*args)
