"""The companion's HTTP/1.1 connections under limits: header size, time to send a request head, connection cap.

These must hold before the app sees a request, so they live in the server's protocol: uvicorn's httptools
protocol, subclassed. uvicorn itself bounds none of them with httptools: a 32 MiB header was read whole, a
connection that never sends a byte (or sends half a request head) was kept open for ever, and there was no cap
on connections. Refusals are PostgREST-shaped JSON (`{code, message, details, hint}`) followed by a close:

- a request head (request line plus headers) over `max_header_bytes` → 431 KDS431, checked on every read, so at
  most one read's worth past the limit is ever held;
- no whole head `header_timeout_s` after connecting, or after the first byte of a later request → 408 KDS408
  (a connection that sent nothing at all is just closed);
- a connection beyond `max_connections` (HTTP and websockets together) → 503 KDS503 as soon as it is accepted;
- a body nobody reads (answered before it, say a bad token) not all in `body_timeout_s` after its head → the
  connection is closed (a body the app reads is timed out by the app, with a 408).

Bodies (size, time) and auth-before-body are the app's, in `body_limits.py`, so they hold under any server.
`uvicorn_options(limits)` is what `kds-backend serve` passes to uvicorn.
"""

from __future__ import annotations

import logging
from asyncio import TimerHandle, Transport
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .errors import problem_body
from .realtime.protocol import MAX_FRAME_BYTES
from .settings import RequestLimits

log = logging.getLogger(__name__)


def raw_response(status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """A whole HTTP/1.1 response that closes the connection, for refusals made before the app runs."""
    head = [STATUS_LINE[status]]
    for name, value in [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *(extra_headers or []),
    ]:
        head.append(name + b": " + value + b"\r\n")
    return b"".join([*head, b"\r\n", body])


LINGER_S = 2.0
"""How long a refused connection is read (and discarded) after its answer, so the answer is not lost to a reset."""


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the refusal itself is in `_refusal`."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above. `limits` is set on a subclass (`protocol_class`)."""

    limits: ClassVar[RequestLimits] = RequestLimits()

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        self._head_timer: TimerHandle | None = None
        self._body_timer: TimerHandle | None = None
        self._in_head = True
        self._head_bytes = 0  # bytes read while a head was incomplete (a bound on what the parser holds)
        self._head_size = 0  # the current head's request line and headers, as parsed
        self._head_started = False  # some of a request head arrived (its timer then ends in a 408, not a close)
        self._refusal: bytes | None = None
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            log.warning("refused a connection: %d already open", len(self.connections) - 1)
            self._refuse(
                503,
                "KDS503",
                "too many connections",
                f"The server keeps at most {self.limits.max_connections} connections open; retry shortly.",
                [(b"retry-after", b"1")],
            )
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.limits.max_header_bytes and not self.transport.is_closing():
            self._refuse_head_too_large()

    # ------------------------------------------------------------ parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_started = True
        self._head_size = 0
        if self._head_timer is None:
            self._arm_head_timer()  # a later request on a kept-alive connection: its head has the same time

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = self._head_started = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()
        if any(name in (b"content-length", b"transfer-encoding") for name, _ in self.headers):
            self._arm_body_timer()

    def on_message_complete(self) -> None:
        self._cancel_body_timer()
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        if self._refusal is not None:  # a callback refused the request: answer that, not "Invalid HTTP request"
            self._write_and_close(self._refusal)
            return
        super().send_400_response(msg)

    # ------------------------------------------------------------ helpers

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.limits.max_header_bytes:
            self._refusal = self._head_too_large_response()
            raise _Refused

    def _head_too_large_response(self) -> bytes:
        body = problem_body(
            "KDS431",
            "request header fields too large",
            f"The request line and headers may take at most {self.limits.max_header_bytes} bytes.",
        )
        return raw_response(431, body)

    def _refuse_head_too_large(self) -> None:
        self._refusal = self._head_too_large_response()
        self._write_and_close(self._refusal)

    def _refuse(
        self, status: int, code: str, message: str, hint: str, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self._refusal = raw_response(status, problem_body(code, message, hint), extra)
        self._write_and_close(self._refusal)

    def _write_and_close(self, response: bytes) -> None:
        """Answer and close, gently: closing a socket with unread input makes the kernel reset it, and the client
        may then lose the answer. So: send it, half-close, discard what still arrives, and close when the client
        does or after LINGER_S. The connection no longer counts against the cap meanwhile."""
        self._cancel_head_timer()
        self.connections.discard(self)
        transport = self.transport
        if transport.is_closing():
            return
        transport.write(response)
        if transport.can_write_eof():
            transport.write_eof()
            self.loop.call_later(LINGER_S, transport.close)
        else:
            transport.close()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _arm_body_timer(self) -> None:
        self._cancel_body_timer()
        self._body_timer = self.loop.call_later(self.limits.body_timeout_s, self._body_timed_out)

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_timed_out(self) -> None:
        """A body still not in when its time is up. The app answers 408 itself if it was reading it (body_limits);
        this closes the connection when nobody reads it: one refused before its body (a bad token), or a route that
        ignores bodies. While the app is still answering, it is given another period."""
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_body_timer()
            return
        self.transport.close()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if not self._head_started and not self._head_bytes:
            # Nothing of a request was sent: a silent connection. Just close it, as other servers do.
            self.transport.close()
            return
        self._refuse(
            408,
            "KDS408",
            "request head not received in time",
            f"Send the request line and headers within {self.limits.header_timeout_s:g} s.",
        )


def protocol_class(limits: RequestLimits) -> type[LimitedHttpToolsProtocol]:
    """The protocol class for uvicorn's `http=`, bound to these limits."""
    return type("KdsHttpProtocol", (LimitedHttpToolsProtocol,), {"limits": limits})


def uvicorn_options(limits: RequestLimits) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run`/`uvicorn.Config` that put the server under `limits`."""
    return {
        "http": protocol_class(limits),
        "timeout_keep_alive": limits.keep_alive_timeout_s,
        # Only read if the h11 protocol is chosen instead; the same bound on a request head.
        "h11_max_incomplete_event_size": limits.max_header_bytes,
        # Realtime refuses bigger frames anyway (1009); this stops the server buffering one first (default 16 MiB).
        "ws_max_size": MAX_FRAME_BYTES,
    }
