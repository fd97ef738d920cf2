"""The suite's `kds-backend serve` processes are forks of a zygote (tests/helpers/server_zygote.py): what makes a fork
as good as a fresh `python -m kds_backend.cli serve`, checked."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from tests.conftest import JWT_SECRET
from tests.helpers.timeouts import scaled
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = scaled(20.0)


def test_the_preloaded_modules_start_no_thread_loop_socket_or_process_at_import() -> None:
    # A fork copies only the thread that forks: a thread started at import would be missing in every server, and a
    # lock it held stuck; a socket or engine would be shared by all the servers.
    probe = textwrap.dedent(
        """
        import asyncio, json, os, stat, threading
        from tests.helpers.server_zygote import PRELOAD
        before = set(os.listdir("/proc/self/fd"))
        for name in PRELOAD:
            __import__(name)
        opened = [os.readlink(f"/proc/self/fd/{fd}") for fd in set(os.listdir("/proc/self/fd")) - before]
        print(json.dumps({
            "threads": [t.name for t in threading.enumerate()],
            "opened": [path for path in opened if not path.startswith("/proc/")],
            "loop": asyncio.get_event_loop_policy()._local._loop is not None,
            "children": open(f"/proc/self/task/{os.getpid()}/children").read().split(),
        }))
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"threads": ["MainThread"], "opened": [], "loop": False, "children": []}


def test_a_server_reads_its_own_env_and_writes_its_log_and_its_exit_status(tmp_path: Path) -> None:
    # A bad variable in this server's env only: its settings are read in the child, its error reaches its log (fd 2),
    # and its status 2 reaches the test, as from the CLI.
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'companion.db'}", JWT_SECRET, env={"KDS_DAY_END_HOUR": "99"})
    assert server.proc.wait(timeout=TIMEOUT_S) == 2
    assert "kds-backend: error:" in server.log_path.read_text()
    assert "KDS_DAY_END_HOUR" in server.log_path.read_text()


def test_a_killed_server_reports_its_signal_and_its_restart_serves(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'companion.db'}", JWT_SECRET)
    server.wait_ready()
    server.kill()
    assert server.proc.returncode == -signal.SIGKILL
    again = server.restarted()
    try:
        again.wait_ready()
        assert httpx.get(f"{again.url}/health").json()["status"] == "ok"
    finally:
        again.stop()
    assert "KDS companion on" in server.log_path.read_text()


def _gone(pid: int) -> bool:
    """Exited (a zombie counts: a container's init may reap it late)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_a_worker_killed_with_9_leaves_no_server_behind(tmp_path: Path) -> None:
    worker = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from tests.live_server import LiveServer
        d = Path({str(tmp_path)!r})
        server = LiveServer(d, f"sqlite:///{{d / 'companion.db'}}", {JWT_SECRET!r})
        server.wait_ready()
        print(server.proc.pid, server.port, flush=True)
        sys.stdin.read()  # until killed
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", worker], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            pid, port = map(int, proc.stdout.readline().split())
            assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        finally:
            proc.kill()
    deadline = time.monotonic() + TIMEOUT_S
    while not _gone(pid):
        assert time.monotonic() < deadline, f"server {pid} outlived its killed worker"
        time.sleep(0.05)  # polling for the kernel's SIGKILL, with a deadline
