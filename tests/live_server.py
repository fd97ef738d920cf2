"""A real `kds-backend serve` process on loopback, for tests that use other clients over real HTTP."""

from __future__ import annotations

import itertools
import os
import random
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import httpx

from tests.helpers.server_zygote import ServerProcess
from tests.helpers.timeouts import scaled

_PORTS_FROM = 10_000


def _port_candidates() -> Iterator[int]:
    """This process's ports, each in turn: its pytest-xdist worker's own slice of the ports below the kernel's
    ephemeral range, from a random point. A port found free is handed to a server that binds it a second or two
    later (after its imports); a port from bind(0) could meanwhile go to another worker's server, or to an outgoing
    connection, whereas these are never handed out by the kernel nor by another worker."""
    try:
        ephemeral_from = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_from = 0
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = (ephemeral_from - _PORTS_FROM) // max(workers, 1)
    if size < 100:
        return
    ports = range(_PORTS_FROM + worker * size, _PORTS_FROM + (worker + 1) * size)
    start = random.randrange(len(ports))
    while True:
        yield from ports[start:]
        yield from ports[:start]


_candidates = _port_candidates()


def free_port() -> int:
    """A loopback port nothing listens on now, and that this process hands out once per cycle of its slice."""
    for port in itertools.islice(_candidates, 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # no slice of our own (a small port range): let the kernel choose
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Process(Protocol):
    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...


def wait_healthy(proc: _Process, url: str, log: Callable[[], str], timeout_s: float) -> None:
    """Until `url/health` answers 200; an error naming the log if the process exits or the time runs out."""
    deadline = time.monotonic() + scaled(timeout_s)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kds-backend exited {proc.returncode}: {log()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling a process that is starting up, with a deadline
    raise TimeoutError(f"kds-backend not ready: {log()}")


class LiveServer:
    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        jwt_secret: str,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir, self.database_url, self.jwt_secret = data_dir, database_url, jwt_secret
        self.extra_env = dict(env or {})
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        env = {
            **os.environ,
            "KDS_DATA_DIR": str(data_dir),
            "KDS_DATABASE_URL": database_url,
            "KDS_JWT_SECRET": jwt_secret,
            **self.extra_env,
        }
        self.log_path.touch()  # here, so a missing data_dir fails in the test, not in the server
        # `kds-backend serve` in a process of its own, forked from a zygote that has the server's modules imported
        # (a fresh interpreter spends over a second of CPU on them); its log appended: a restart keeps the first.
        self.proc = ServerProcess(["serve", "--port", str(self.port), "--log-level", "warning"], env, self.log_path)

    def wait_ready(self, timeout_s: float = 30) -> None:
        wait_healthy(self.proc, self.url, lambda: self.log_path.read_text(), timeout_s)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """`kill -9`: no shutdown, no close frames; clients see their sockets die."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restarted(self) -> LiveServer:
        """A new process on the same port and database (call `stop()` or `kill()` on this one first)."""
        return LiveServer(self.data_dir, self.database_url, self.jwt_secret, port=self.port, env=self.extra_env)


def serving_sqlite(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """A fixture's body: `kds-backend serve` on a SQLite file in `data_dir`, with `env` set, stopped after."""
    from tests.conftest import JWT_SECRET

    server = LiveServer(data_dir, f"sqlite:///{data_dir / 'companion.db'}", JWT_SECRET, env=env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
