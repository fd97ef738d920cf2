"""A throwaway PostgreSQL 15 cluster for the test suite: a temp directory, loopback only, non-root."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.live_server import free_port

SUPERUSER = "kds"


def find_pg_bin() -> Path | None:
    """The newest installed server's bin directory (`KDS_PG_BIN` overrides)."""
    override = os.environ.get("KDS_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("postgres")
    return Path(found).parent if found else None


class PgCluster:
    """initdb + postgres as an unprivileged user (the server refuses to run as root).

    The server is this object's own child (no `runuser` in between), so `stop()` signals postgres itself: a fast
    shutdown (SIGINT) that ends any session still open, instead of a smart one that waits for the last client.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="kds-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            entry = pwd.getpwnam(os.environ.get("KDS_PG_USER", "nobody"))
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            os.chmod(self.root, 0o700)
            self._as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _run(self, *args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, cwd=self.root, **self._as_user)

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.root),
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "log_directory": str(self.root),
        }
        args = [str(self.bindir / "postgres"), "-D", str(self.datadir), "-p", str(self.port)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        with (self.root / "server.log").open("wb") as log:  # the server keeps its own descriptor
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.root, **self._as_user)
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start (exit {self.proc.poll()})") from None
                time.sleep(0.05)

    def dsn(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str, template: str | None = None) -> str:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            # A plain file copy of a small template is about twice as fast as PostgreSQL 15's default WAL_LOG
            # strategy, and with fsync off its checkpoints cost next to nothing.
            strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
            suffix = f" TEMPLATE {template}{strategy}" if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a test's database once it is done with it, so the cluster does not grow with the suite."""
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: roll back open sessions, checkpoint, exit
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
