"""The customer ready board opens on a second display when there is one, and the cook's window keeps its own
(issue 16). Qt reads its displays once, when the application starts, so each case is a child process on Qt's
offscreen platform given a set of screens (its configfile), running the real `Session.show`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHILD_TIMEOUT_S = 120.0  # a fresh interpreter importing Qt and the app, on a machine shared with other runs

ROOT = Path(__file__).parents[3]

# Never started: the closed port is never dialled; only where the windows open is under test.
CHILD = """
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication, QWidget
from api_client.models import DeviceRole
from kds_app.media.sound import AlertSound
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.windows.app import Session
from tests.kds_app.conftest import engine_config

app = QApplication([])
data = Path(sys.argv[1])
connection = Connection(engine_config("http://127.0.0.1:9", data, "r1-expo-1", DeviceRole.expo, ()))
session = Session.create(AppConfig(view="expo"), connection, sound=AlertSound(False), ready_board=True)
session.show(fullscreen=sys.argv[2] == "fullscreen")
app.processEvents()
board = session.board
print(json.dumps({
    "window": QWidget.screen(session.window).name(),  # `window.screen` is the ticket screen
    "board": board.screen().name(),
    "board_rect": list(board.geometry().getRect()),
    "screens": {s.name(): list(s.availableGeometry().getRect()) for s in app.screens()},
}))
session.window.detach()
board.detach()
session.engine.store.close()
"""


def _screen(name: str, x: int, width: int, height: int) -> dict[str, object]:
    return {"name": name, "x": x, "y": 0, "width": width, "height": height, "logicalDpi": 96,
            "logicalBaseDpi": 96, "dpr": 1}


def _open(tmp_path: Path, screens: list[dict[str, object]], mode: str) -> dict[str, object]:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": screens}), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "data"), mode],
        capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_S, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    placed: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return placed


@pytest.mark.parametrize("mode", ["fullscreen", "windowed"])
def test_the_ready_board_opens_on_the_second_display_and_the_cooks_window_keeps_its_own(
    tmp_path: Path, mode: str
) -> None:
    placed = _open(tmp_path, [_screen("kitchen", 0, 1366, 768), _screen("counter", 1366, 1920, 1080)], mode)
    assert placed["board"] != placed["window"], placed
    screens = placed["screens"]
    assert isinstance(screens, dict)
    x, y, width, height = placed["board_rect"]  # type: ignore[misc]
    sx, sy, swidth, sheight = screens[placed["board"]]
    # Its whole room (a window may sit a frame's width lower than the display's corner).
    assert (width, height) == (swidth, sheight) and sx <= x < sx + swidth and sy <= y < sy + sheight, placed


def test_with_one_display_the_board_is_a_window_beside_the_cooks(tmp_path: Path) -> None:
    placed = _open(tmp_path, [_screen("kitchen", 0, 1366, 768)], "windowed")
    assert placed["board"] == placed["window"] == "kitchen"
    rect = placed["board_rect"]
    assert isinstance(rect, list) and rect[2:] == [1280, 720], "a window, not over the whole display"
