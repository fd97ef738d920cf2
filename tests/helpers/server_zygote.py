"""`kds-backend serve` processes forked from a zygote that has already imported the server's modules.

A fresh `python -m kds_backend.cli serve` spends over a second of CPU on its imports (FastAPI, SQLAlchemy, pydantic,
uvicorn, alembic, psycopg) before it serves, and the suite starts hundreds of them. Here each pytest(-xdist) worker
keeps one multiprocessing forkserver that imported them once; each server is a fork of it: still a process of its
own (its own env, its log on fd 1 and 2, killed with -9 by the tests that mean it), started in a few milliseconds.

What makes the fork equal to a fresh process for the server:
- nothing in `PRELOAD` starts a thread, an event loop, an engine or a socket at import (checked by
  tests/test_live_server.py), so the fork copies no half-held lock nor a shared connection;
- no module in it reads the environment at import (kds_backend.cli reads its settings when it serves), so the
  child's env, set before `main()`, is the one the server sees;
- the child asks the kernel for SIGKILL when its parent (the forkserver) dies, and the forkserver exits when the
  worker that started it does: a killed worker leaves no server behind.
What differs, and nothing here reads: /proc/PID/cmdline and /proc/PID/environ show the forkserver's, and all the
servers of a worker share its hash seed.

The CLI's own start (argument parsing, a fresh interpreter) stays covered by the tests that run `kds_backend.cli` as
a real subprocess (tests/helpers/companion_cli.py, test_cli_log_json.py, test_settings_env.py).
"""

from __future__ import annotations

import atexit
import ctypes
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from multiprocessing import forkserver, popen_forkserver, reduction, resource_tracker, spawn, util
from multiprocessing.context import set_spawning_popen
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

__all__ = ["PRELOAD", "ServerProcess"]

# What a served process imports before and while it starts (measured with -X importtime and its sys.modules once
# healthy), minus what `import kds_backend.cli` already brings.
PRELOAD = [
    "kds_backend.cli",
    "kds_backend.cli_load_routing",
    "kds_backend.printing.presence",
    "kds_backend.app",
    "kds_backend.http_protocol",
    "kds_backend.ws_protocol",
    "kds_backend.db.engine",
    "uvicorn",
    "uvicorn.main",
    "uvicorn.config",
    "uvicorn.server",
    "uvicorn.lifespan.on",
    "uvicorn.loops.auto",
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.websockets.websockets_sansio_impl",
    "logging.config",
    "alembic",
    "sqlalchemy",
    "psycopg",
]

_PR_SET_PDEATHSIG = 1

_context = multiprocessing.get_context("forkserver")
# The preload list is the process's (one forkserver per process); nothing else in the suite uses a forkserver.
_context.set_forkserver_preload(PRELOAD)


class _Popen(popen_forkserver.Popen):
    def _launch(self, process_obj: Any) -> None:
        """Python 3.11's `popen_forkserver.Popen._launch`, but the child does not import the parent's `__main__`:
        `python bench/intake.py` would be run again in each server (as `__mp_main__`) for nothing `_serve` needs."""
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)  # the child's sentinel of this process
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(_context.Process):  # type: ignore[name-defined,misc]
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


def _die_with_parent() -> None:
    """SIGKILL when the forkserver exits (it does when the worker that started it dies, even by kill -9)."""
    # multiprocessing hands each child the worker's end of the pipe whose EOF tells the forkserver its worker is
    # gone, and the resource tracker's: held here, they would keep both alive (and so this server) after the worker.
    if forkserver._forkserver._forkserver_alive_fd is not None:
        os.close(forkserver._forkserver._forkserver_alive_fd)
        forkserver._forkserver._forkserver_alive_fd = None
    tracker = resource_tracker._resource_tracker
    if tracker._fd is not None:
        os.close(tracker._fd)
        tracker._fd = None
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() == 1:  # the forkserver died before the request took effect
        os._exit(1)


def _serve(env: dict[str, str], log_path: str, argv: list[str]) -> None:
    """The child: what `python -m kds_backend.cli <argv>` with `env` and stdout/stderr on `log_path` would do."""
    _die_with_parent()
    # The env first: the server reads its settings (and TZ, via the time module) only when it starts.
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    sys.stdout.flush()
    sys.stderr.flush()
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # appended: a restart keeps the first log
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    import kds_backend.cli

    sys.argv = [kds_backend.cli.__file__, *argv]
    try:
        code = kds_backend.cli.main(argv)
    finally:
        # A fresh interpreter runs these at exit (logging's flush among them); the forked child ends in os._exit.
        atexit._run_exitfuncs()
    sys.exit(code)


class ServerProcess:
    """One forked server, with the part of `subprocess.Popen`'s interface the tests use on a server."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        # daemon: a server a test leaked is terminated when the worker exits, not waited for.
        self._process: BaseProcess = _Process(
            target=_serve, args=(env, str(log_path), argv), name=f"kds-backend {' '.join(argv)}", daemon=True
        )
        self._process.start()
        assert self._process.pid is not None
        self.pid: int = self._process.pid
        self.args = argv

    @property
    def returncode(self) -> int | None:
        """As Popen's: None while it runs, its exit status, or -N if signal N ended it."""
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code

    def send_signal(self, sig: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
