"""Headless Chromium driven over its DevTools protocol (a websocket, with the `websockets` package we have).

`Chromium.start()` runs Debian's `chromium` with `--remote-debugging-port=0`, reads the browser's websocket
address from the line Chromium prints on stderr, and `new_page()` opens a tab attached in "flat" mode, so
every command and event of that tab is tagged with its session id on the one browser socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.helpers.timeouts import scaled

TIMEOUT_S = scaled(30.0)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """`KDS_CHROMIUM` names the binary; else the first of Debian's and the usual names on PATH."""
    named = os.environ.get("KDS_CHROMIUM")
    if named:
        return named
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class DevToolsError(RuntimeError):
    pass


class Page:
    def __init__(self, browser: Chromium, session_id: str) -> None:
        self.browser, self.session_id = browser, session_id
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.console: list[str] = []
        """Console messages and browser log entries (where Chromium reports a request blocked by CORS)."""

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, self.session_id)

    async def goto(self, url: str) -> None:
        """Navigate and wait for the page's load event (its scripts have run)."""
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Log.enable")
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise DevToolsError(f"navigating to {url}: {result['errorText']}")
        await self.wait_event("Page.loadEventFired")

    async def wait_event(self, method: str) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                event = await self.events.get()
                if event["method"] == method:
                    return event.get("params", {})

    async def evaluate(self, expression: str) -> Any:
        """The value of a JS expression in the page, awaited if it is a promise (JSON-serialisable values)."""
        result = await self.send(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise DevToolsError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    def _event(self, message: dict[str, Any]) -> None:
        params = message.get("params", {})
        if message["method"] == "Runtime.consoleAPICalled":
            self.console.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"]))
        elif message["method"] == "Log.entryAdded":
            self.console.append(params["entry"]["text"])
        self.events.put_nowait(message)


class Chromium:
    def __init__(self, proc: asyncio.subprocess.Process, socket: ClientConnection) -> None:
        self.proc, self.socket = proc, socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._pages: dict[str, Page] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, binary: str, profile: Path) -> AsyncIterator[Chromium]:
        args = [
            "--headless",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",  # small /dev/shm in containers
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--password-store=basic",
            "--use-mock-keychain",
        ]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run its sandbox as root (containers, CI)
        proc = await asyncio.create_subprocess_exec(
            binary, *args, "about:blank", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        drain: asyncio.Task[None] | None = None
        try:
            address = await asyncio.wait_for(_devtools_address(proc), TIMEOUT_S)
            assert proc.stderr is not None
            drain = asyncio.create_task(_drain(proc.stderr))  # else Chromium blocks once the pipe is full
            async with connect(address, max_size=None, open_timeout=TIMEOUT_S) as socket:
                browser = cls(proc, socket)
                try:
                    yield browser
                finally:
                    browser._reader.cancel()
        finally:
            if drain is not None:
                drain.cancel()
            if proc.returncode is None:
                proc.kill()
            await proc.wait()

    async def new_page(self) -> Page:
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        page = Page(self, attached["sessionId"])
        self._pages[page.session_id] = page
        return page

    async def send(self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None) -> Any:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        answer = self._waiting[ident] = asyncio.get_running_loop().create_future()
        await self.socket.send(json.dumps(message))
        try:
            reply = await asyncio.wait_for(answer, TIMEOUT_S)
        finally:
            self._waiting.pop(ident, None)
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message:
                waiting = self._waiting.get(message["id"])
                if waiting is not None and not waiting.done():
                    waiting.set_result(message)
            elif (page := self._pages.get(message.get("sessionId", ""))) is not None:
                page._event(message)


async def _devtools_address(proc: asyncio.subprocess.Process) -> str:
    """Chromium prints `DevTools listening on ws://127.0.0.1:PORT/devtools/browser/<id>` once it listens."""
    assert proc.stderr is not None
    seen: list[str] = []
    async for raw in proc.stderr:
        line = raw.decode(errors="replace").strip()
        seen.append(line)
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
    raise DevToolsError("chromium exited before listening: " + "\n".join(seen[-20:]))


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65_536):
        pass
