"""Bytes to a network printer: a raw TCP socket on its port (9100, "JetDirect"/AppSocket), as ESC/POS printers take
them. asyncio's own streams rather than python-escpos's `Network` printer, whose socket calls block: the companion's
event loop must never wait on a printer that is off or out of paper."""

from __future__ import annotations

import asyncio

CONNECT_TIMEOUT_S = 5.0
SEND_TIMEOUT_S = 10.0


class NotSent(Exception):
    """No byte can have reached the printer (it refused or never answered the connection)."""


class MaybeSent(Exception):
    """The connection broke after bytes went out: part of the slip, or all of it, may have printed."""


async def send(host: str, port: int, data: bytes) -> None:
    """Deliver `data`; returns once the printer's end has taken every byte (written, drained, closed cleanly)."""
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT_S)
    except TimeoutError:
        raise NotSent(f"{host}:{port} did not answer within {CONNECT_TIMEOUT_S:g} s") from None
    except OSError as exc:
        raise NotSent(f"{host}:{port}: {exc.strerror or exc}") from None
    try:
        writer.write(data)
        await asyncio.wait_for(writer.drain(), SEND_TIMEOUT_S)
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), SEND_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        writer.transport.abort()
        raise MaybeSent(f"{host}:{port}: the connection broke while sending ({exc!r})") from None
