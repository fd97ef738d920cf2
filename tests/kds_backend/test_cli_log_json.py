"""`kds-backend serve --log-json`: every line on stderr is one JSON object in the screens' format, uvicorn's too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import JWT_SECRET
from tests.live_server import free_port, wait_healthy

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def test_serve_log_json_writes_json_lines_on_stderr(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env |= {"KDS_DATA_DIR": str(tmp_path), "KDS_JWT_SECRET": JWT_SECRET}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kds_backend.cli", "serve", "--port", str(port), "--log-json"],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr,
        )
        try:
            wait_healthy(proc, url, stderr_path.read_text, 30)
            assert httpx.get(f"{url}/no-such-page", timeout=5).status_code == 404
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    lines = [json.loads(line) for line in stderr_path.read_text().splitlines() if line.strip()]  # all JSON
    assert lines
    for line in lines:
        assert {"ts", "level", "logger", "msg", "version"} <= line.keys(), line
        assert line["service"] == "kds-backend" and line["role"] == "companion"
    loggers = {line["logger"] for line in lines}
    assert "uvicorn.error" in loggers, "uvicorn's start-up lines are JSON too"
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any("/no-such-page" in line["msg"] and "404" in line["msg"] for line in access)
