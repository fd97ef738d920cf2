"""`kds --demo`: in-process on the test's Qt loop (tickets reach both windows, a tap on the grill shows on
the expo, everything stops in order), and as a user starts it (a process, stopped with SIGTERM)."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import shiboken6

from api_client.models import ItemStatus
from kds_app.demo.kitchen import Demo
from kds_app.demo.pos_sim import Sent
from kds_app.viewmodel.ticket_model import ticket_key
from tests.kds_app.conftest import TIMEOUT_S, tap, until

pytestmark = pytest.mark.slow


async def test_tickets_reach_both_windows_and_a_grill_bump_shows_on_the_expo(tmp_path: Path) -> None:
    sent: list[Sent] = []
    burst_sent = asyncio.Event()

    def report(one: Sent) -> None:
        sent.append(one)
        if len(sent) == 3:
            burst_sent.set()

    # 1 order a minute after a burst of 3: nothing else arrives while the test looks.
    demo = Demo(tmp_path / "demo", rate=1, burst=3, sound=False, report=report)
    await demo.start()
    try:
        assert demo.station is not None and demo.expo is not None and demo.companion is not None
        grill, expo = demo.station, demo.expo
        if demo.tabs is None:
            assert grill.window.isVisible() and expo.window.isVisible()
            assert grill.window.x() != expo.window.x()  # side by side, not on top of each other
        else:  # half the screen is too narrow for a screen's top bar: two tabs of one window filling the screen
            assert demo.tabs.isVisible() and demo.tabs.count() == 2 and grill.window.isVisible()
            assert demo.tabs.frameGeometry().width() <= demo.tabs.screen().availableGeometry().width() + 16
        await until(grill.engine, lambda: grill.screen.model.rowCount() >= 1)
        await until(expo.engine, lambda: expo.screen.model.rowCount() == 3)
        # The expo may show the last order before the POS has read the server's answer to it.
        await asyncio.wait_for(burst_sent.wait(), TIMEOUT_S)
        assert [s.number for s in sent] == ["101", "102", "103"]

        ticket = grill.screen.model.tickets()[0]
        order_id = ticket.order.id
        assert all(i.station == "grill" for i in ticket.order.order_items)
        grid = grill.window.grid
        await tap(grid.viewport(), grid.point_of(ticket.key))  # arms...
        await tap(grid.viewport(), grid.point_of(ticket.key))  # ...and bumps
        assert grill.screen.model.row_of(ticket.key) is None

        def grill_done_on_expo() -> bool:
            shown = expo.screen.ticket(ticket_key(order_id, None))
            assert shown is not None
            return all(i.status is ItemStatus.done for i in shown.order.order_items if i.station == "grill")

        await until(expo.engine, grill_done_on_expo)
        shown = expo.screen.ticket(ticket_key(order_id, None))
        assert shown is not None and any(i.station != "grill" for i in shown.order.order_items)
        assert not all(i.status is ItemStatus.done for i in shown.order.order_items)  # the other stations still cook
    finally:
        await demo.stop()
    assert demo.pos_task is not None and demo.pos_task.done() and not demo.pos_task.cancelled()
    assert demo.pos_task.result().orders == 3  # the POS was asked to stop, not cut off
    assert not demo.companion.running
    for window in (grill.window, expo.window):  # closed, and handed to Qt to delete
        assert not shiboken6.isValid(window) or not window.isVisible()
    assert (tmp_path / "demo" / "companion" / "companion.db").exists()  # --data-dir keeps the kitchen
    await demo.stop()  # twice is harmless


async def test_closing_either_window_ends_the_demo(tmp_path: Path) -> None:
    demo = Demo(rate=1, burst=1, sound=False)  # no directory: a temporary one, removed at the end
    run = asyncio.ensure_future(demo.run())
    running = asyncio.ensure_future(demo.running.wait())
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await asyncio.wait({run, running}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        running.cancel()  # never left pending: the demo may have ended (or the wait timed out) first
    assert demo.running.is_set(), run.result()
    data_dir = demo.data_dir
    assert demo.expo is not None and demo.companion is not None
    demo.expo.window.close()  # as the window manager's close button does
    async with asyncio.timeout(TIMEOUT_S):
        assert await run == 0
    assert demo.stopped and not demo.companion.running
    assert not data_dir.exists()


def test_kds_demo_runs_as_a_command_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kds_app", "--demo", "--rate", "30", "--data-dir", str(tmp_path / "demo")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # Read both pipes in threads so the wait below has a timeout (and a full pipe never blocks the demo).
    lines: queue.Queue[tuple[str, str]] = queue.Queue()
    seen: dict[str, list[str]] = {"out": [], "err": []}

    def pump(name: str, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            seen[name].append(line)
            lines.put((name, line))

    threads = [threading.Thread(target=pump, args=(n, s), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in threads:
        t.start()
    try:
        running = orders = False
        while not (running and orders):
            try:
                name, line = lines.get(timeout=TIMEOUT_S)
            except queue.Empty:
                pytest.fail(f"the demo did not start: {''.join(seen['err'])}")
            running = running or line.startswith("demo running: companion at http://127.0.0.1:")
            orders = orders or (name == "out" and " order #101 " in line)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for t in threads:
        t.join(10)
    for stream in (proc.stdout, proc.stderr):
        assert stream is not None
        stream.close()
    stderr = "".join(seen["err"])
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
    assert (tmp_path / "demo" / "companion" / "companion.db").exists()
