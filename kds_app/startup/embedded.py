"""The embedded default: the companion backend served in-process, on SQLite in the screen's data directory.

uvicorn runs in a daemon thread with its own asyncio loop, so the server never competes with the UI thread's
(qasync) loop. The listening socket is bound by `start()` in the caller's thread: a port in use fails right
there with the real `OSError`, and with port 0 the actual port is known before the server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from api_client.data_dir import persisted_secret
from api_client.models import DeviceRole
from api_client.token_minting import MINTED_TTL_S, MintingTokenProvider, issue_anon_key
from kds_backend.env import SettingsError, read_env
from kds_backend.settings import Settings

from .config import LOCAL_RESTAURANT, ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

# The one door from the screen into `kds_backend` (tests/kds_app/test_layers.py holds every other module to it).
# `kds_backend.app` (FastAPI and the database layer) is imported when a companion starts, not here: a screen on a
# remote server never starts one.
__all__ = [
    "EmbeddedCompanion",
    "EmbeddedStartError",
    "MintingTokenProvider",
]

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


class EmbeddedStartError(RuntimeError):
    """The embedded companion did not start; the cause (`__cause__`) is the real exception when there is one."""


class _Server(uvicorn.Server):
    """Tells the starting thread as soon as startup finished (or failed)."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._ready.set()


class EmbeddedCompanion:
    """`start()` / `stop()`, or `with EmbeddedCompanion(dir) as companion:`. Not restartable: make a new one."""

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        try:
            read_env()  # every KDS_* variable checked before anything is made, as `kds-backend serve` does
        except SettingsError as exc:
            # A ConfigError: the screen opens its settings with the reason (and logs it) instead of going dark.
            problems = "; ".join(exc.problems)
            raise ConfigError(f"the built-in server cannot start: {problems}", field="server") from None
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._requested_port = port
        self.settings = Settings(
            database_url=f"sqlite:///{self.data_dir / 'companion.db'}",
            jwt_secret=persisted_secret(self.data_dir),
        )
        self.anon_key = issue_anon_key(self.settings.jwt_secret)
        self._port: int | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._failure: BaseException | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ where it is

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the embedded companion is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        server, thread = self._server, self._thread
        return (
            server is not None
            and thread is not None
            and server.started
            and not server.should_exit
            and thread.is_alive()
        )

    def token_provider(
        self,
        role: DeviceRole | str,
        device_id: str,
        stations: Sequence[str] = (),
        *,
        restaurant_id: str = LOCAL_RESTAURANT,
        ttl_s: int = MINTED_TTL_S,
    ) -> MintingTokenProvider:
        return MintingTokenProvider(
            self.settings.jwt_secret,
            restaurant_id=restaurant_id,
            role=DeviceRole(role),
            device_id=device_id,
            stations=stations,
            ttl_s=ttl_s,
        )

    # ------------------------------------------------------------ lifecycle

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Blocks until the server accepts connections (migrations done). `EmbeddedStartError` otherwise; a port
        in use raises the `OSError` itself."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("the embedded companion was already started")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if os.name != "nt":  # as uvicorn does: a restart may rebind a port in TIME_WAIT (never a listening one)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, self._requested_port))
            except OSError:
                sock.close()
                raise
            self._socket = sock
            self._port = sock.getsockname()[1]
            app = self._app()
            config = uvicorn.Config(
                app,
                host=HOST,
                port=self._port,
                ws="websockets-sansio",
                ws_per_message_deflate=False,  # as Supabase: frames are small, and the screen is on this machine
                log_level="warning",
                log_config=None,  # leave the app's logging alone; warnings propagate to its root logger
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
            ready = threading.Event()
            self._server = _Server(config, ready)
            self._thread = threading.Thread(target=self._run, args=(sock, ready), name="kds-companion", daemon=True)
            self._thread.start()
        if not ready.wait(timeout_s):
            self.stop()
            raise EmbeddedStartError(f"the embedded companion did not start within {timeout_s:g} s")
        if not self._server.started:
            self._thread.join(STOP_TIMEOUT_S)
            self._close_socket()
            failure = self._failure
            detail = f": {type(failure).__name__}: {failure}" if failure is not None else " (see the log)"
            raise EmbeddedStartError(f"the embedded companion failed to start{detail}") from failure

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Asks the server to exit and waits for its thread. Safe to call twice, or before `start()`."""
        with self._lock:
            server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                server.force_exit = True  # type: ignore[union-attr]
                thread.join(timeout_s)
        self._close_socket()

    def __enter__(self) -> EmbeddedCompanion:
        self.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ the thread

    def _app(self) -> FastAPI:
        from kds_backend.app import create_app

        app = create_app(self.settings)
        inner = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def recording(application: FastAPI) -> AsyncIterator[Any]:
            # uvicorn only logs a failing startup; keep the exception so start() can raise it.
            started = False
            try:
                async with inner(application) as state:
                    started = True
                    yield state
            except BaseException as exc:
                if not started:
                    self._failure = exc
                raise

        app.router.lifespan_context = recording
        return app

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        assert self._server is not None
        try:
            # A plain asyncio loop, whatever the process-wide policy says: under the app, qasync's policy
            # would hand this thread a Qt loop, which can only run on the GUI thread.
            with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
                runner.run(self._server.serve(sockets=[sock]))
        except BaseException as exc:  # SystemExit from uvicorn included: report it, never kill the app
            if self._failure is None:
                self._failure = exc
        finally:
            ready.set()

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
