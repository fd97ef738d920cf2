"""The screen's log file answers "why didn't my bump reach the expo at 20:14?" on its own.

A real screen engine talks to a real `kds-backend serve` through a link that goes down: the cook bumps two tickets
while it is down, the POS voids one of the burgers meanwhile, the link comes back. The log file (written as the
screen writes it: `api_client.logs` with the session's context) must then tell, line by line and with times:
the connection going down and coming back, both taps, the upload failing and recovering, the bump that was
applied, and the bump that was refused with the ticket number, kind and reason, from which device and station.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from api_client.logs import CRASH_FILE, LOG_FILE, app_version, clear_context
from api_client.models import DeviceRole, OrderWithItems
from api_client.token_provider import StaticTokenProvider
from kds_app.startup.logging_setup import session_context, start_logging
from kds_backend.auth.tokens import issue_anon_key
from sync.engine.engine import EngineConfig, SyncEngine
from sync.realtime.connection import ConnectionState
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.helpers.timeouts import scaled
from tests.kds_backend.realtime.support import create_order
from tests.live_server import LiveServer
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

TIMEOUT_S = scaled(30.0)
DEVICE = "r1-kds-grill-7"
REPO = Path(__file__).resolve().parents[3]


class Link(TcpProxy):
    """The kitchen's network between the screen and the companion: `cut()` drops every connection and refuses new
    ones (a switch rebooting), `restore()` listens again on the same port."""

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    async def cut(self) -> None:
        port = self.port
        await self.stop()
        self._writers.clear()
        self._port = port

    async def restore(self) -> None:
        await self.start(self._port)


@pytest.fixture
def companion(tmp_path: Path) -> Iterator[LiveServer]:
    (tmp_path / "companion").mkdir()
    server = LiveServer(tmp_path / "companion", f"sqlite:///{tmp_path / 'companion.db'}", JWT_SECRET)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    """The screen's logging as `kds` sets it up (minus the crash hooks, which belong to the process)."""
    quieted = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "websockets", "qasync")}
    clear_context()
    files = start_logging(tmp_path / "screen", crash_handlers=False)
    try:
        yield files.path.parent
    finally:
        files.close()
        clear_context()
        for name, level in quieted.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
async def link(companion: LiveServer) -> AsyncIterator[Link]:
    proxy = Link("127.0.0.1", int(companion.url.rsplit(":", 1)[1]))
    await proxy.start()
    yield proxy
    await proxy.stop()


def read_log(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / LOG_FILE).read_text(encoding="utf-8").splitlines()]


def burger(order: OrderWithItems) -> UUID:
    return next(i.id for i in order.order_items if i.name == "Burger")


async def until(engine: SyncEngine, ready: Any) -> None:
    """Wait for change notifications until `ready()` holds; checked after each one, never by sleeping."""
    async with engine.changes() as changes, asyncio.timeout(TIMEOUT_S):
        while not ready():
            await changes.get()


def on_failures(engine: SyncEngine, count: int) -> asyncio.Event:
    """Set once the uploader has failed `count` times in a row."""
    reached = asyncio.Event()
    retries = engine.uploader.retries
    failed = retries.failed

    def counting(error: str, **fields: Any) -> None:
        failed(error, **fields)
        if retries.tries >= count:
            reached.set()

    retries.failed = counting  # type: ignore[method-assign]
    return reached


async def test_the_log_file_tells_why_a_bump_did_not_reach_the_expo(
    companion: LiveServer, link: Link, log_dir: Path, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=companion.url) as pos:
        a7, b8 = [UUID((await create_order(pos, "r1", n))["id"]) for n in ("A7", "B8")]
    config = EngineConfig(
        url=link.url,
        anon_key=issue_anon_key(JWT_SECRET),
        restaurant_id="r1",
        device_id=DEVICE,
        role=DeviceRole.kds,
        stations=("grill",),
        token_provider=StaticTokenProvider(token_for("kds", device=DEVICE, stations=["grill"])),
        data_path=tmp_path / "screen" / "screen.sqlite3",
        offline_after_s=0.5,
        heartbeat_s=1.0,
    )
    session_context(device=DEVICE, restaurant="r1", stations=("grill",), view="station")  # as Session.create does
    engine = SyncEngine(dataclasses.replace(config))
    engine.uploader.retries.every_s = 0.5  # "still failing" at most every 0.5 s here (a minute in a kitchen)
    three_failures = on_failures(engine, 3)
    await engine.start()
    try:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        await until(engine, lambda: {a7, b8} <= {o.id for o in engine.open_tickets("grill")})
        orders = {o.id: o for o in engine.open_tickets("grill")}

        await link.cut()
        await asyncio.wait_for(engine.connection_state.wait_for(ConnectionState.OFFLINE), TIMEOUT_S)
        bump_a7 = engine.submit("bump_item", a7, burger(orders[a7]), "grill")
        bump_b8 = engine.submit("bump_item", b8, burger(orders[b8]), "grill")
        async with httpx.AsyncClient(base_url=companion.url) as pos:  # meanwhile the POS voids A7's burger
            r = await pos.patch(
                "/rest/v1/order_items", params={"id": f"eq.{burger(orders[a7])}"}, json={"status": "voided"},
                headers=auth_headers(token_for("pos")),
            )
            assert r.status_code in (200, 204), r.text
        await asyncio.wait_for(three_failures.wait(), TIMEOUT_S)
        await link.restore()

        await asyncio.wait_for(engine.queue_depth.wait_for(0), TIMEOUT_S)
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        [refused] = engine.rejected()
        assert refused.intent.id == bump_a7.id
    finally:
        await engine.stop()

    lines = read_log(log_dir)
    assert lines[0]["event"] == "start" and "device" not in lines[0]  # before sign-in, nobody yet
    # From the session on, every line says who and what wrote it, and when (local time, with its offset).
    [session] = [n for n, line in enumerate(lines) if line.get("event") == "session"]
    lines = lines[session:]
    for line in lines:
        assert line["device"] == DEVICE and line["restaurant"] == "r1" and line["station"] == "grill", line
        assert line["version"] == app_version() and datetime.fromisoformat(line["ts"]).tzinfo is not None
    ts = {id(line): datetime.fromisoformat(line["ts"]) for line in lines}

    def find(**fields: Any) -> list[dict[str, Any]]:
        return [line for line in lines if all(line.get(k) == v for k, v in fields.items())]

    # The taps, named as the cook sees them.
    [tap_a7] = find(event="tap", intent_id=str(bump_a7.id))
    [tap_b8] = find(event="tap", intent_id=str(bump_b8.id))
    assert (tap_a7["order_number"], tap_a7["item"], tap_a7["kind"]) == ("A7", "Burger", "bump_item")
    assert tap_b8["order_number"] == "B8" and "tap queued: bump_item on #B8 Burger" in tap_b8["msg"]

    # The refusal: which ticket, which tap, why.
    [refusal] = find(event="rejected")
    assert refusal["level"] == "WARNING"
    assert refusal["intent_id"] == str(bump_a7.id) and refusal["order_id"] == str(a7)
    assert (refusal["order_number"], refusal["kind"], refusal["item"]) == ("A7", "bump_item", "Burger")
    assert refusal["reason"] == "Burger was voided" and refusal["tap_station"] == "grill"
    assert refusal["msg"] == "refused: bump_item on #A7 Burger: Burger was voided"

    # The retried tap: the upload failed while the link was down, was retried (summarised), then recovered.
    retries = find(event="upload_retry")
    outcomes = [line["outcome"] for line in retries]
    assert outcomes[0] == "failing" and outcomes[-1] == "recovered", outcomes
    tries = retries[-1]["tries"]
    assert tries >= 3 and retries[-1]["failing_s"] > 0
    assert set(outcomes[1:-1]) <= {"still_failing"} and len(retries) < 2 + tries, "one line per try is a storm"
    [applied] = [line for line in find(event="applied") if str(bump_b8.id) in line.get("intent_ids", [])]

    # The connection: down when the link was cut, back when it returned, each change with its reason.
    changes = find(event="connection")
    states = [line["state"] for line in changes]
    assert states[:2] == ["joining", "live"]
    down = next(i for i, line in enumerate(changes) if line["state"] == "reconnecting")
    assert "offline" in states[down:]
    assert changes[down]["level"] == "WARNING" and changes[down]["previous"] == "live"
    back = next(i for i in range(down, len(changes)) if changes[i]["state"] == "live")
    assert states[-1] == "offline" and changes[-1]["reason"] == "closed by this screen"
    assert all(line["reason"] for line in changes)

    # Catch-up after the link came back.
    assert find(event="catchup", phase="live", trigger="reconnected")

    # The story in order: link down, taps, failures, recovery with the refusal and the applied bump; link back.
    story = [changes[down], tap_a7, tap_b8, retries[0], refusal, retries[-1]]
    assert [ts[id(x)] for x in story] == sorted(ts[id(x)] for x in story)
    assert ts[id(changes[down])] < ts[id(changes[back])] and ts[id(applied)] >= ts[id(retries[0])]


def test_an_uncaught_exception_lands_in_the_crash_log_and_the_log(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from api_client.logs import install_file_logging, set_context\n"
        f"install_file_logging(Path({str(tmp_path)!r})); set_context(device='d1')\n"
        "raise RuntimeError('the fryer is on fire')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "the fryer is on fire" in done.stderr  # the usual traceback still shows
    crash = (tmp_path / CRASH_FILE).read_text()
    assert "uncaught exception" in crash and "RuntimeError: the fryer is on fire" in crash
    [line] = [json.loads(x) for x in (tmp_path / LOG_FILE).read_text().splitlines()]
    assert line["level"] == "CRITICAL" and line["event"] == "crash" and line["device"] == "d1"
    assert "RuntimeError: the fryer is on fire" in line["exc"]


def test_a_hard_crash_is_dumped_by_faulthandler(tmp_path: Path) -> None:
    code = (
        "import faulthandler; from pathlib import Path; from api_client.logs import install_file_logging\n"
        f"install_file_logging(Path({str(tmp_path)!r}))\n"
        "faulthandler._sigsegv()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    crash = (tmp_path / CRASH_FILE).read_text()
    assert "Fatal Python error" in crash and "Current thread" in crash
