"""`kds --demo`: a working kitchen in one command, for a newcomer.

Everything is the real thing: the companion runs in-process (the embedded default) on SQLite in a temporary
directory (or `--data-dir`), a simulated POS (`pos_sim.PosSimulator`, the same sender as `kds-pos-sim`)
sends a realistic service over HTTP to its POS intake, and two screens, a station (grill) and the expo,
sync it over the websocket like any kitchen's. A burst of a few orders goes first so the screens are never
empty; now and then a table adds a dish to an order the kitchen already has, so "changed after send" shows.

Closing either window, Ctrl-C or SIGTERM stops everything in order: the screens (their engines finish the
batch in flight), the POS, then the companion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from PySide6.QtCore import QRect, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QTabWidget

from api_client.client import KdsApiClient
from api_client.models import DeviceRole

from ..media import theme
from ..startup.config import AppConfig
from ..startup.connect import build_engine_config
from ..startup.embedded import EmbeddedCompanion
from ..startup.main_thread_gc import MainThreadGC
from ..windows.app import Session
from .demo_recipes import put_recipes
from .pos_sim import PosSimError, PosSimulator, Schedule, Sent

__all__ = ["DEFAULT_RATE", "Demo", "DemoTabs", "run_demo", "side_by_side"]

log = logging.getLogger(__name__)

DEFAULT_RATE = 4.0  # orders per minute: a steady lunch, slow enough to follow a ticket by eye
BURST = 4  # orders at once when the demo opens, so the screens are not empty
POS_STOP_TIMEOUT_S = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def side_by_side(area: QRect, min_width: int) -> bool:
    """Whether two windows of at least `min_width` fit next to each other in `area`; else they go in tabs."""
    return area.width() // 2 >= min_width


class DemoTabs(QTabWidget):
    """The two screens as tabs of one window, filling the screen, when half of it is too narrow for either."""

    closed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("KDS demo · grill and expo")
        self.setObjectName("DemoTabs")
        self.setStyleSheet("QTabBar::tab { min-height: 48px; min-width: 200px; font-size: 20px; font-weight: bold; }")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)


class Demo:
    """The demo's life on the Qt loop: `start()`, `stop()`, or `run()` for both plus signals and windows."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        rate: float = DEFAULT_RATE,
        burst: int = BURST,
        seed: int = 7,
        stations: tuple[str, ...] = ("grill",),
        sound: bool = True,
        report: Callable[[Sent], None] | None = None,
    ) -> None:
        self.schedule = Schedule(rate, burst=burst, jitter=0.3, seed=seed)  # bad numbers fail here, at once
        self.seed = seed
        self.stations = stations
        self.sound = sound
        self.report = report
        self._data_dir = data_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.companion: EmbeddedCompanion | None = None
        self.station: Session | None = None
        self.expo: Session | None = None
        self.pos: PosSimulator | None = None
        self.pos_task: asyncio.Task[Any] | None = None
        self._api: KdsApiClient | None = None
        self._gc = MainThreadGC()
        self._gc_timer: QTimer | None = None
        self.stopping = asyncio.Event()
        self.running = asyncio.Event()  # set by run() once everything is up
        self.stopped = False
        self._quit_on_last_closed: bool | None = None
        self.tabs: DemoTabs | None = None  # when the screen is too narrow for the two windows side by side

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            # ignore_cleanup_errors: a store file still held open must not turn a clean exit into a traceback.
            self._tmp = tempfile.TemporaryDirectory(prefix="kds-demo-", ignore_cleanup_errors=True)
            self._data_dir = Path(self._tmp.name)
        return self._data_dir

    @property
    def sessions(self) -> list[Session]:
        return [s for s in (self.station, self.expo) if s is not None]

    # ------------------------------------------------------------ life

    async def start(self) -> None:
        """Companion, both screens, then the POS. On failure, what was started is stopped again."""
        qapp = QApplication.instance()
        assert isinstance(qapp, QApplication)
        # Closing a window ends the demo through `stopping`, in order; Qt quitting by itself would stop the loop
        # under the shutdown.
        self._quit_on_last_closed = qapp.quitOnLastWindowClosed()
        qapp.setQuitOnLastWindowClosed(False)
        qapp.setStyleSheet(theme.style_sheet(AppConfig().font_size))
        # The companion's thread must never run Python's cyclic GC over Qt objects: collect on this thread.
        self._gc.start()
        self._gc_timer = QTimer()
        self._gc_timer.setInterval(500)
        self._gc_timer.timeout.connect(self._gc.tick)
        self._gc_timer.start()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.companion = EmbeddedCompanion(self.data_dir / "companion")
            await asyncio.get_running_loop().run_in_executor(None, self.companion.start)
            station_config = AppConfig(view="station", stations=self.stations)
            self.station = await self._session(station_config, "station", sound=self.sound)
            self.expo = await self._session(AppConfig(view="expo"), "expo", sound=False)  # one chime is enough
            self._place_windows()
            await put_recipes(self.companion)  # ALL DAY counts patties and buns too
            self._start_pos(self.companion)
        except BaseException:
            await self.stop()
            raise

    async def _session(self, config: AppConfig, name: str, *, sound: bool) -> Session:
        assert self.companion is not None
        connection = await build_engine_config(config, self.data_dir / name, embedded=self.companion)
        session = Session.create(config, connection)
        session.sound.enabled = sound
        session.window.closed.connect(self.stopping.set)
        if name == "station":
            self.station = session  # known before start(): a failing start still stops it
        else:
            self.expo = session
        await session.start(fullscreen=False)
        return session

    def _place_windows(self) -> None:
        """Side by side, each half of the screen (the cook's view on the left, the expeditor's on the right) when
        both fit; otherwise (1366 and 1920 pixels: a screen's top bar needs more than half) as two tabs of one
        window that fills the screen, so neither hangs off the glass or hides the other."""
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        half = area.width() // 2
        if side_by_side(area, max(s.window.minimumSizeHint().width() for s in self.sessions)):
            for i, session in enumerate(self.sessions):
                session.window.setGeometry(area.left() + i * half, area.top(), half, area.height())
            return
        self.tabs = DemoTabs()
        for session in self.sessions:
            label = "EXPO" if session is self.expo else " · ".join(s.upper() for s in self.stations) or "STATION"
            self.tabs.addTab(session.window, label)  # a child page now, no longer a window of its own
        self.tabs.closed.connect(self.stopping.set)
        self.tabs.setGeometry(area)
        self.tabs.show()

    def _start_pos(self, companion: EmbeddedCompanion) -> None:
        tokens = companion.token_provider(DeviceRole.pos, "pos-demo")  # minted, refreshed before it expires
        self._api = KdsApiClient(companion.url, companion.anon_key, tokens)
        self.pos = PosSimulator(
            # Half of the orders bring an addition to an older one: a newcomer should see "changed" soon.
            self._api, seed=self.seed, add_chance=0.5, report=self.report,
            on_failure=lambda message: log.warning("simulated POS: %s", message),
        )
        self.pos_task = asyncio.ensure_future(self.pos.run(self.schedule))
        self.pos_task.add_done_callback(self._pos_done)

    @staticmethod
    def _pos_done(task: asyncio.Task[Any]) -> None:
        # The POS stopping on its own must not take the screens down: they still show what arrived.
        if not task.cancelled() and (exc := task.exception()) is not None:
            level = logging.WARNING if isinstance(exc, PosSimError) else logging.ERROR
            log.log(level, "the simulated POS stopped: %s", exc, exc_info=not isinstance(exc, PosSimError))

    async def stop(self) -> None:
        """Screens, then the POS, then the companion. Safe to call twice."""
        if self.stopped:
            return
        self.stopped = True
        self.stopping.set()
        for session in self.sessions:
            await session.stop()
        if self.tabs is not None:
            tabs, self.tabs = self.tabs, None
            tabs.closed.disconnect()
            tabs.close()
            tabs.deleteLater()
        if self.pos is not None and self.pos_task is not None:
            self.pos.stop()  # an order in flight is finished, not cut off half-sent
            try:
                await asyncio.wait_for(asyncio.shield(self.pos_task), POS_STOP_TIMEOUT_S)
            except Exception:  # a timeout, or its failure (already logged by _pos_done)
                self.pos_task.cancel()
                with contextlib.suppress(BaseException):
                    await self.pos_task
        if self._api is not None:
            await self._api.aclose()
        if self.companion is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.companion.stop)
        if self._gc_timer is not None:
            self._gc_timer.stop()
            self._gc_timer.deleteLater()
            self._gc_timer = None
        self._gc.stop()
        qapp = QApplication.instance()
        if isinstance(qapp, QApplication) and self._quit_on_last_closed is not None:
            qapp.setQuitOnLastWindowClosed(self._quit_on_last_closed)
        if self._tmp is not None:
            self._tmp.cleanup()

    async def run(self) -> int:
        """Until a window is closed, SIGINT or SIGTERM; the exit code."""
        restore = self._install_signal_handlers()
        try:
            try:
                await self.start()
            except (OSError, RuntimeError) as exc:  # EmbeddedStartError is a RuntimeError
                print(f"kds --demo: could not start: {exc}", file=sys.stderr)  # noqa: T201
                return 1
            assert self.companion is not None
            print(  # noqa: T201 - the command's output; tests and scripts wait for this line
                f"demo running: companion at {self.companion.url}, data in {self.data_dir}; "
                f"POS sends {self.schedule.rate_per_min:g} orders/min. Close a window or press Ctrl-C to stop.",
                file=sys.stderr,
                flush=True,
            )
            self.running.set()
            await self.stopping.wait()
            return 0
        finally:
            await self.stop()
            restore()

    def _install_signal_handlers(self) -> Callable[[], None]:
        """Ctrl-C and SIGTERM end the demo; the returned function puts the previous handlers back."""
        loop = asyncio.get_running_loop()
        try:
            for sig in STOP_SIGNALS:
                loop.add_signal_handler(sig, self.stopping.set)
        except (NotImplementedError, RuntimeError, ValueError):
            # Not the main thread, or a loop without signal support: Python's own handler still reaches us.
            def handler(_sig: int, _frame: FrameType | None) -> None:
                loop.call_soon_threadsafe(self.stopping.set)

            previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}

            def restore_python() -> None:
                for sig, old in previous.items():
                    signal.signal(sig, old)

            return restore_python

        def restore_loop() -> None:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

        return restore_loop


def run_demo(*, data_dir: Path | None = None, rate: float = DEFAULT_RATE) -> int:
    """Start Qt and asyncio (qasync) and run the demo until a window is closed or it is told to stop."""
    import qasync

    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("kds-demo")
    demo = Demo(data_dir, rate=rate, report=lambda sent: print(sent.line(), flush=True))  # noqa: T201
    with contextlib.suppress(asyncio.CancelledError):
        return qasync.run(demo.run())
    return 0
