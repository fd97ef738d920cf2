"""The app's tests: async tests run on qasync's Qt event loop, the way the app runs, against a real companion.

Inside a test coroutine never use `qtbot.waitSignal`/`waitUntil` (they spin a nested Qt loop under a
running task); await `signal_emitted` or an engine condition instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QPoint, SignalInstance
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from api_client.models import DeviceRole
from api_client.token_provider import StaticTokenProvider
from kds_app.startup.main_thread_gc import MainThreadGC
from kds_backend.auth.tokens import issue_anon_key
from sync.engine.engine import EngineConfig
from tests.conftest import JWT_SECRET, token_for
from tests.helpers.engine_live import until  # noqa: F401  (the app tests import it from here)
from tests.helpers.timeouts import scaled
from tests.live_server import LiveServer

TIMEOUT_S = scaled(20.0)
APIKEY = issue_anon_key(JWT_SECRET)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Callable[[], Any]]:
    def qt_loop() -> asyncio.AbstractEventLoop:
        app = QApplication.instance() or QApplication([])
        return qasync.QEventLoop(app)

    return {"qt": qt_loop}


async def signal_emitted(signal: SignalInstance, timeout_s: float = TIMEOUT_S) -> tuple[Any, ...]:
    """The arguments of the next emission of `signal`."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def emitted(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    signal.connect(emitted)
    try:
        return await asyncio.wait_for(future, timeout_s)
    finally:
        signal.disconnect(emitted)


async def tap(widget: QWidget, pos: QPoint) -> None:
    """A finger on the glass: touch press and release at `pos` (Qt turns it into a click).

    Qt's touch commit flushes the event dispatcher, which would run other tasks inside this one; so the
    touch is sent from a plain loop callback, outside any task, and the test awaits its completion.

    On a ticket grid the finger waits, as a cook's does, until the cards under it have settled: an item tap
    where the cards just moved is ignored on purpose (`TAP_GUARD_S`, tested on its own in test_ticket_grid).
    """
    await _settled_under(widget, pos)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def touch() -> None:
        try:
            device = QTest.createTouchDevice()
            # Sent to the widget's own native window: with two screens in one test, routing by position
            # could hand the touch to the other window.
            window = widget.window().windowHandle()
            at = widget.mapTo(widget.window(), pos)
            QTest.touchEvent(window, device).press(0, at, window).commit()
            QTest.touchEvent(window, device).release(0, at, window).commit()
        except BaseException as exc:
            done.set_exception(exc)
        else:
            done.set_result(None)

    asyncio.get_running_loop().call_soon(touch)
    await done


async def _settled_under(widget: QWidget, pos: QPoint) -> None:
    grid = widget.parent()
    moved_under = getattr(grid, "moved_under", None)  # the grid's canvas: `pos` is in its coordinates
    if moved_under is None:
        return
    async with asyncio.timeout(TIMEOUT_S):
        # The guard is a span of real time with no event at its end: polled, under the deadline above.
        while moved_under(pos):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@pytest.fixture(autouse=True)
def main_thread_gc() -> Iterator[None]:
    """The app's rule while an embedded companion thread runs: Qt objects are only collected on this thread."""
    with MainThreadGC():
        yield


@pytest.fixture
def companion(tmp_path: Path) -> Iterator[LiveServer]:
    """`kds-backend serve` on SQLite in its own process, so a test can kill it."""
    (tmp_path / "server").mkdir()
    server = LiveServer(tmp_path / "server", f"sqlite:///{tmp_path / 'server' / 'kds.db'}", JWT_SECRET)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def engine_config(url: str, data_dir: Path, device: str, role: DeviceRole, stations: tuple[str, ...]) -> EngineConfig:
    return EngineConfig(
        url=url,
        anon_key=APIKEY,
        restaurant_id="r1",
        device_id=device,
        role=role,
        stations=stations,
        token_provider=StaticTokenProvider(token_for(role, device=device, stations=list(stations))),
        data_path=data_dir / f"{device}.sqlite3",
        offline_after_s=2.0,
        coalesce_s=0.02,
    )
