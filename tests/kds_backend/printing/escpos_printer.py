"""A stand-in ESC/POS network printer for tests: a loopback TCP listener that decodes what it is sent (the commands
python-escpos emits for text slips) into lines of text with their style, one slip per cut. An unknown command is an
error: the test then fails instead of reading garbage."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

ESC, GS, LF = 0x1B, 0x1D, 0x0A
CODE_PAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858"}
ONE_ARG_ESC = {ord(c) for c in "!E-atdMG{"}  # ESC x n


@dataclass
class Line:
    text: str
    bold: bool = False
    double_height: bool = False
    underline: bool = False


@dataclass
class Slip:
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def line(self, starting: str) -> Line:
        found = [line for line in self.lines if line.text.strip().startswith(starting)]
        assert found, f"no line starting {starting!r} in:\n{self.text}"
        return found[0]


def decode(data: bytes) -> list[Slip]:
    """The slips in `data`: text between cuts, with bold, double height and underline per line."""
    slips: list[Slip] = []
    slip, text = Slip(), bytearray()
    bold = dh = ul = False
    line_bold = line_dh = line_ul = False
    page = "cp437"
    i = 0

    def flush_text() -> None:
        nonlocal text
        if text:
            current.append(text.decode(page))
            text = bytearray()

    current: list[str] = []

    def end_line() -> None:
        nonlocal current, line_bold, line_dh, line_ul
        flush_text()
        slip.lines.append(Line("".join(current), line_bold, line_dh, line_ul))
        current, line_bold, line_dh, line_ul = [], bold, dh, ul

    while i < len(data):
        b = data[i]
        if b == ESC:
            cmd = data[i + 1]
            if cmd == ord("@"):
                bold = dh = ul = False
                page = "cp437"
                i += 2
                continue
            if cmd not in ONE_ARG_ESC:
                raise ValueError(f"unknown ESC command 0x{cmd:02x} at byte {i}")
            n = data[i + 2]
            flush_text()
            if cmd == ord("!"):
                bold, dh = bool(n & 0x08), bool(n & 0x10)
            elif cmd == ord("E"):
                bold = bool(n)
            elif cmd == ord("-"):
                ul = bool(n)
            elif cmd == ord("t"):
                page = CODE_PAGES[n]
            elif cmd == ord("d"):
                pass  # paper feed before the cut
            i += 3
        elif b == GS:
            cmd = data[i + 1]
            if cmd == ord("!"):
                dh = bool(data[i + 2] & 0x0F)
                i += 3
            elif cmd == ord("V"):
                m = data[i + 2]
                i += 4 if m in (65, 66) else 3
                if current or text:
                    end_line()
                slips.append(slip)
                slip = Slip()
            else:
                raise ValueError(f"unknown GS command 0x{cmd:02x} at byte {i}")
        elif b == LF:
            end_line()
            i += 1
        else:
            if b < 0x20:
                raise ValueError(f"unexpected control byte 0x{b:02x} at byte {i}")
            text.append(b)
            line_bold, line_dh, line_ul = line_bold or bold, line_dh or dh, line_ul or ul
            i += 1
    if slip.lines or current or text:
        raise ValueError("bytes after the last cut: a slip without its cut")
    return slips


class LoopbackPrinter:
    """Port 9100's stand-in on 127.0.0.1. Made refusing (bound, not listening: a connection is refused as by a
    printer that is off); `listen()` opens it, `refuse()` closes it again on the same port."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.slips: list[Slip] = []
        self.connections = 0
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None

    async def listen(self) -> None:
        if self._server is None:
            if self.sock.fileno() == -1:  # refuse() closed it: bind the same port again
                self.sock = socket.socket()
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.sock.bind(("127.0.0.1", self.port))
            self._server = await asyncio.start_server(self._serve, sock=self.sock)

    def refuse(self) -> None:
        """Stop accepting (new connections are refused) without waiting for the ones open."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # a job is one connection: everything until the companion closes it
        writer.close()
        async with self._changed:
            self.connections += 1
            self.slips.extend(decode(data))
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Slip]:
        """Once at least `count` slips have printed: all of them."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: len(self.slips) >= count)
        return list(self.slips)

    def close(self) -> None:
        self.refuse()
        self.sock.close()
