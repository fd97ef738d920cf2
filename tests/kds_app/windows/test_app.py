"""The whole program's life: `App.run` on the embedded default, and an orderly way out whether the cook
closes the window, the system sends SIGTERM, or someone presses Ctrl-C.

"Orderly" means: the engine stops (the batch in flight is answered or stays queued), the embedded companion
stops, the window goes, the exit code is 0, and the screen's database is whole with nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import shiboken6

from api_client.models import ItemStatus
from kds_app.startup.config import AppConfig, load_config
from kds_app.windows.app import App
from tests.helpers.app_sessions import post_order, session_up
from tests.kds_app.conftest import TIMEOUT_S, tap, until
from tests.live_server import free_port

pytestmark = pytest.mark.slow






def _outbox(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT kind, state FROM outbox ORDER BY seq").fetchall()


@pytest.mark.parametrize("how", ["stop request (SIGTERM, Ctrl-C)", "window closed"])
async def test_the_app_stops_in_order_and_keeps_every_tap(tmp_path: Path, how: str) -> None:
    app = App(AppConfig(sound=False), config_file=tmp_path / "config.json", data_dir=tmp_path / "data")
    running = asyncio.ensure_future(app.run())
    try:
        await session_up(app)
        session, embedded = app.session, app.embedded
        assert session is not None and embedded is not None and embedded.running
        order_id = await post_order(app, "501")
        # An all-stations screen: the order's first station gets a ticket for it.
        await until(session.engine, lambda: any(t.order.id == order_id for t in session.screen.model.tickets()))
        ticket = next(t for t in session.screen.model.tickets() if t.order.id == order_id)
        key, station = ticket.key, ticket.station
        session.screen.action(key)
        session.screen.action(key)  # bumped: durable locally, the upload may be in flight as we stop
        if how == "window closed":
            session.window.close()
        else:
            app.request_stop()
        async with asyncio.timeout(TIMEOUT_S):
            assert await running == 0
    finally:
        if not running.done():
            app.request_stop()
            await asyncio.wait_for(running, TIMEOUT_S)
    assert not embedded.running and app.embedded is None
    assert not shiboken6.isValid(session.window)  # closed and deleted, not just hidden
    assert all(task.done() for task in session.engine._tasks)
    # The bump is either answered by the server or still queued here: never lost, never half-written.
    pending = _outbox(tmp_path / "data" / "screen.sqlite3")
    assert pending in ([], [("bump_ticket", "pending")]), pending
    if not pending:
        from sync.engine.engine import SyncEngine  # the store as the next start would read it

        engine = SyncEngine(session.engine.config)
        try:
            done = [o for o, _ in engine.recently_bumped(station) if o.id == order_id]
            assert done and all(i.status is ItemStatus.done for i in done[0].order_items)
        finally:
            engine.store.close()


def test_kds_stops_cleanly_on_sigterm_with_its_database_whole(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"embedded_port": port, "sound": False}))
    data = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KDS_CONFIG": str(config), "KDS_DATA_DIR": str(data)}
    proc = subprocess.Popen([sys.executable, "-m", "kds_app"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # Up when the embedded companion answers and the screen has its database.
        for _attempt in range(int(TIMEOUT_S * 10)):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200 and (
                    data / "screen.sqlite3"
                ).exists():
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.communicate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)  # waiting on the process, not sleeping: it must not exit early
        else:
            pytest.fail("kds did not come up")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "ERROR" not in err, err
    assert _outbox(data / "screen.sqlite3") == []
    with sqlite3.connect(data / "companion.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_ready_board_flag_opens_the_board_for_this_run_and_is_never_saved(tmp_path: Path) -> None:
    config_file = tmp_path / "config.json"
    app = App(AppConfig(sound=False), config_file=config_file, data_dir=tmp_path / "data", ready_board=True)
    running = asyncio.ensure_future(app.run())
    try:
        await session_up(app)
        assert app.session is not None and app.session.board is not None
        dialog = app.open_settings()
        dialog.font_size_spin.setValue(dialog.font_size_spin.value() + 2)
        app.session_started.clear()
        await tap(dialog.save_button, dialog.save_button.rect().center())
        await session_up(app)  # the saved settings start a new session...
        assert app.session is not None and app.session.board is not None  # ...still with the board, this run
        saved = load_config(config_file)
        assert saved.font_size == AppConfig().font_size + 2 and saved.ready_board is False
    finally:
        app.request_stop()
        await asyncio.wait_for(running, TIMEOUT_S)
