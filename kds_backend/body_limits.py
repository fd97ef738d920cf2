"""Request bodies under limits, and a route's token checked before its body is read (an ASGI middleware).

Before this, every body was read whole and parsed before anything else was looked at: a 24 MB body sent
without any key cost the server about 620 MiB. Now, for every HTTP request:

1. A declared `Content-Length` over `max_body_bytes` is answered 413 KDS413 at once; nothing of the body is
   read, and the connection is closed.
2. A request with a body to a route that needs a device token is authenticated (and rate-limited) when the app
   first asks for the body, before a byte of it is read: a missing, forged or expired token is answered without
   it. The route's `current_caller` then reuses that result, so the work is done once. (FastAPI reads and parses
   a declared body before it runs a route's dependencies; this puts the token first.)
3. While the app reads the body: past `max_body_bytes` (a chunked body declares no length) → 413 KDS413; not
   all there `body_timeout_s` after the head → 408 KDS408. Either way the connection is closed, since the
   rest of the body may still be on its way.

The header size, the time to send a head and the connection cap are the HTTP server's (`http_protocol.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth.deps import PREAUTHENTICATED, current_caller
from .errors import ApiError, problem_body
from .settings import RequestLimits

log = logging.getLogger(__name__)

SMALL_BODY = 65_536
"""A refusal before reading a body at most this big keeps the connection (the server skips the body); a bigger
or chunked one closes it, so nobody makes the server read megabytes it has already refused."""


class _Refused(Exception):
    """Raised from `receive` to stop the app reading a body it may not have."""


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    close: bool = True
    headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclass
class _Exchange:
    refusal: _Answer | None = None
    response_started: bool = False
    replaced: bool = False


def _needs_caller(route: APIRoute) -> bool:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is current_caller:
            return True
        pending.extend(dependant.dependencies)
    return False


class BodyLimitsMiddleware:
    def __init__(self, app: ASGIApp, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits
        self._routes_needing_caller: dict[int, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _body_framing(scope)
        if declared is not None and declared > self.limits.max_body_bytes:
            await _send_answer(send, self._too_large())
            return
        if not declared and not chunked:  # no body (HTTP/1.1 has one only with a length or chunks)
            await self.app(scope, receive, send)
            return
        await self._guarded(scope, receive, send, keep_alive=not chunked and (declared or 0) <= SMALL_BODY)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, *, keep_alive: bool) -> None:
        exchange = _Exchange()
        limit = self.limits.max_body_bytes
        deadline = asyncio.get_running_loop().time() + self.limits.body_timeout_s
        received = 0
        first = True
        complete = False

        async def limited_receive() -> Message:
            nonlocal received, first, complete
            if exchange.refusal is not None:
                raise _Refused
            if first:
                # The first read of the body: routing has picked the route, its dependencies have not run yet.
                first = False
                exchange.refusal = await self._authenticate(scope, keep_alive)
                if exchange.refusal is not None:
                    raise _Refused
            if complete:
                return await receive()  # after the body: only a disconnect is left to wait for
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                exchange.refusal = self._too_slow()
                raise _Refused from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exchange.refusal = self._too_large()
                    raise _Refused
                complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            if exchange.refusal is not None and not exchange.response_started:
                # The app answered a body it could not read (FastAPI turns the failed read into a 400): ours instead.
                if not exchange.replaced:
                    exchange.replaced = True
                    await _send_answer(send, exchange.refusal)
                return
            if message["type"] == "http.response.start":
                exchange.response_started = True
            await send(message)

        with contextlib.suppress(_Refused):  # raised by limited_receive, the refusal recorded
            await self.app(scope, limited_receive, guarded_send)
        if exchange.refusal is not None and not exchange.response_started and not exchange.replaced:
            await _send_answer(send, exchange.refusal)

    async def _authenticate(self, scope: Scope, keep_alive: bool) -> _Answer | None:
        """For a route that needs a device token: check it (and rate-limit it) now, before its body is read, and
        leave the caller for the route's `current_caller`. The refusal if the token is not good."""
        route = scope.get("route")
        if not isinstance(route, APIRoute) or PREAUTHENTICATED in scope:
            return None
        needed = self._routes_needing_caller.get(id(route))
        if needed is None:
            needed = self._routes_needing_caller[id(route)] = _needs_caller(route)
        if not needed:
            return None
        try:
            scope[PREAUTHENTICATED] = await current_caller(Request(scope))
        except ApiError as exc:
            headers = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items())
            return _Answer(exc.status, json.dumps(exc.body).encode(), close=not keep_alive, headers=headers)
        return None

    def _too_large(self) -> _Answer:
        limit = self.limits.max_body_bytes
        hint = f"Send at most {limit} bytes (KDS_MAX_BODY_BYTES on the server); split large batches."
        return _Answer(413, problem_body("KDS413", "request body too large", hint))

    def _too_slow(self) -> _Answer:
        hint = f"Send the whole body within {self.limits.body_timeout_s:g} s of the headers."
        return _Answer(408, problem_body("KDS408", "request body not received in time", hint))


def _body_framing(scope: Scope) -> tuple[int | None, bool]:
    """(declared Content-Length or None, chunked)."""
    declared: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = None  # the HTTP server refuses a malformed length before the app runs
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return declared, chunked


async def _send_answer(send: Send, answer: _Answer) -> None:
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(answer.body)).encode()),
        *answer.headers,
    ]
    if answer.close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})
