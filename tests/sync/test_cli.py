"""`kds-sync --headless` as a subprocess: it reaches "live", counts the tickets, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from queue import Empty, Queue
from threading import Thread
from typing import IO, Any

import httpx
import pytest

from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.helpers.timeouts import scaled
from tests.kds_backend.device_accounts import PASSWORD
from tests.kds_backend.realtime.support import order_body
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = scaled(20.0)


def test_console_script_is_declared() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["kds-sync"] == "sync.cli:main"


def _pump(stream: IO[str], lines: Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def next_state(lines: Queue[str], want: Any) -> dict[str, Any]:
    """JSON lines until one satisfies `want` (a blocking read with a deadline, not a sleep)."""
    while True:
        try:
            state = json.loads(lines.get(timeout=TIMEOUT_S))
        except Empty:
            raise AssertionError("kds-sync printed no matching state line in time") from None
        if want(state):
            return state


def run_headless(url: str, data_dir: Path, auth: list[str]) -> None:
    """Start `kds-sync --headless`, see it live with no tickets, see a POS order counted, SIGTERM it: exit 0."""
    command = [
        sys.executable,
        "-m",
        "sync.cli",
        "--headless",
        "--url",
        url,
        "--anon-key",
        issue_anon_key(JWT_SECRET),
        *auth,
        "--restaurant",
        "r1",
        "--station",
        "grill",
        "--data-dir",
        str(data_dir),
    ]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        lines: Queue[str] = Queue()
        Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        try:
            live = next_state(lines, lambda s: s["connection"] == "live" and s["caught_up"])
            assert live["queue_depth"] == 0 and live["open_tickets"] == 0
            headers = {**auth_headers(token_for("pos")), "Idempotency-Key": str(uuid.uuid4())}
            made = httpx.post(f"{url}/api/v1/orders", json=order_body("H1"), headers=headers)
            assert made.status_code == 201, made.text
            next_state(lines, lambda s: s["open_tickets"] == 1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=TIMEOUT_S) == 0, proc.stderr.read() if proc.stderr else ""
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_headless_with_a_token_prints_live_state_and_exits_on_sigterm(live_server: LiveServer, tmp_path: Path) -> None:
    device = "r1-kds-grill-9"
    token = token_for("kds", device=device, stations=["grill"])
    run_headless(live_server.url, tmp_path / "screen", ["--token", token, "--device", device])


def test_headless_signs_in_with_email_and_password(live_server: LiveServer, tmp_path: Path) -> None:
    body = {"name": "Grill", "email": "grill@kitchen.test", "password": PASSWORD, "role": "kds", "stations": ["grill"]}
    r = httpx.post(f"{live_server.url}/api/v1/devices", json=body, headers=auth_headers(token_for("admin")))
    assert r.status_code == 201, r.text
    run_headless(live_server.url, tmp_path / "screen", ["--email", "grill@kitchen.test", "--password", PASSWORD])


def test_headless_on_broadcast_from_database(live_server: LiveServer, tmp_path: Path) -> None:
    """`--realtime broadcast`: the restaurant's private topic brings the POS order (issue 17, item 14)."""
    device = "r1-kds-grill-8"
    token = token_for("kds", device=device, stations=["grill"])
    run_headless(
        live_server.url, tmp_path / "screen", ["--token", token, "--device", device, "--realtime", "broadcast"]
    )
