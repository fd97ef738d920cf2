"""The PyInstaller bundle, built from this tree and run the way an installer and a kitchen PC run it.

Builds `packaging/kds.spec` with `packaging/build.sh` into a temporary directory (about 30 s on 2 cores), then:
`kds --self-test` must pass every step with nothing unexpected on stderr, and a plain `kds` must open the screen
on its embedded default and stop cleanly on SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kds_app.tools.self_test import STEP_TIMEOUTS_S

from .output_check import clean_env, report_steps, unexpected_stderr

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 900

# Under pytest-xdist this module runs on one worker, so the bundle is built once (tests/conftest.py, WHOLE_MODULES).
pytestmark = [pytest.mark.slow, pytest.mark.frozen, pytest.mark.timeout(BUILD_TIMEOUT_S + 120)]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dist/kds/kds`, freshly built: a cache keyed on anything less than every input (sources, hooks,
    installed packages) could test a bundle that no longer matches the tree."""
    out = tmp_path_factory.mktemp("pyinstaller")
    env = {**os.environ, "PYTHON": sys.executable, "KDS_DIST_DIR": str(out / "dist"), "KDS_WORK_DIR": str(out / "work")}
    result = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build.sh")],
        env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False,
    )
    assert result.returncode == 0, f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    exe = out / "dist" / "kds" / "kds"
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe


def test_bundle_has_what_the_app_needs_and_nothing_it_does_not(bundle: Path) -> None:
    internal = bundle.parent / "_internal"
    assert (internal / "resources" / "theme.qss").is_file()
    assert (internal / "resources" / "sounds" / "new_ticket.wav").is_file()
    assert (internal / "resources" / "i18n" / "kds_am.qm").is_file()  # Amharic, and the font it is drawn in
    assert {p.name for p in (internal / "resources" / "fonts").iterdir()} >= {
        "NotoSansEthiopic-Regular.ttf", "NotoSansEthiopic-Bold.ttf", "OFL.txt"}
    assert (internal / "kds_backend" / "migrations" / "env.py").is_file()
    assert sorted(p.name for p in (internal / "kds_backend" / "migrations" / "versions").glob("*.py"))
    qt_modules = {p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.so")}
    assert qt_modules == {"QtCore", "QtGui", "QtWidgets"}  # Essentials only; QtTest is the suite's
    assert not list(internal.glob("PyQt*")) and not (internal / "pytest").exists()


def test_frozen_self_test_passes_cleanly(bundle: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [str(bundle), "--self-test"], env=clean_env(str(tmp_path)), cwd=tmp_path,
        capture_output=True, text=True, timeout=90, check=False,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert time.monotonic() - started < 60
    expected = [*STEP_TIMEOUTS_S, "screen stopped", "companion stopped"]
    assert report_steps(result.stdout) == dict.fromkeys(expected, "ok"), result.stdout
    assert result.stdout.splitlines()[-1] == "self-test passed"
    # The theme and the sound come from the bundle, not from a source tree that happens to be around.
    assert str(bundle.parent / "_internal" / "resources") in result.stdout
    assert unexpected_stderr(result.stderr) == [], result.stderr


def caught_up_live(log_file: Path) -> bool:
    """The screen's log (JSON lines) has the end of a catch-up that left it live."""
    if not log_file.exists():
        return False
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):  # a line still being written
            record = json.loads(line)
            if record.get("event") == "catchup" and record.get("phase") == "live":
                return True
    return False


def test_frozen_app_opens_the_embedded_default_and_stops_on_sigterm(bundle: Path, tmp_path: Path) -> None:
    env = clean_env(str(tmp_path))
    data = Path(env["XDG_DATA_HOME"]) / "kds"
    process = subprocess.Popen(
        [str(bundle)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # Running, not merely started: the screen's own log says its first catch-up ended on a live realtime
        # connection to the companion the app embedded (the log file is the only thing it announces that on).
        deadline = time.monotonic() + 45
        while not caught_up_live(data / "logs" / "kds.jsonl"):
            assert process.poll() is None, f"kds exited early ({process.returncode}): {process.communicate()}"
            assert time.monotonic() < deadline, "the screen was not live within 45 s"
            time.sleep(0.2)
        assert (data / "screen.sqlite3").exists() and (data / "companion.db").exists()
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert unexpected_stderr(stderr) == [], stderr


def test_frozen_self_test_fails_on_a_broken_bundle(bundle: Path, tmp_path: Path) -> None:
    # A bundle missing its migrations (what a spec without the datas would produce) must fail the self-test
    # at the companion, with the reason, not pass or hang. Hard links: a copy without copying 190 MB.
    broken = tmp_path / "kds"
    shutil.copytree(bundle.parent, broken, copy_function=os.link, symlinks=True)
    shutil.rmtree(broken / "_internal" / "kds_backend" / "migrations")
    result = subprocess.run(
        [str(broken / "kds"), "--self-test"], env=clean_env(str(tmp_path)), cwd=tmp_path,
        capture_output=True, text=True, timeout=90, check=False,
    )
    assert result.returncode == 1, result.stdout
    steps = report_steps(result.stdout)
    assert steps["resources"] == "ok" and steps["companion started"] == "FAILED", result.stdout
    assert "ticket received over realtime" not in steps  # nothing after the failed step runs
    assert result.stdout.splitlines()[-1].startswith("self-test FAILED: companion started: ")
    assert "migrations" in result.stdout.splitlines()[-1]
