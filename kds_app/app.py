"""Running the screen: configuration → (embedded companion) → sync engine → window, and an orderly way out.

One `Session` is one engine and one window for one configuration; saving new settings ends the session and
starts the next with the new configuration. Shutdown (window closed, SIGTERM, Ctrl-C) always goes the same
way: the window stops listening, the engine stops (the batch in flight is answered or stays queued), the
auth client closes, the embedded companion stops. Nothing is half-written: every store write is one
transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from api_client.errors import ClientError
from sync.engine.engine import SyncEngine
from sync.store.claim import SetAside, claim

from . import theme
from .config import AppConfig, ConfigError, save_config
from .connect import Connection, SignInNeeded, build_engine_config
from .keymap import resolve_keymap
from .keys import BumpBarKeys
from .logging_setup import session_context
from .main_thread_gc import MainThreadGC
from .main_window import MainWindow
from .ready_board import ReadyBoard, show_on_second_display
from .screen import Screen
from .settings_dialog import SettingsDialog
from .sound import AlertSound
from .ticket_delegate import TicketDelegate
from .ticket_model import TicketModel

if TYPE_CHECKING:  # imported when first needed: the companion server costs ~400 ms of launch
    from .embedded import EmbeddedCompanion

log = logging.getLogger(__name__)

# The banner is up within 5 s of losing the server: a closed socket is seen at once and a silent loss (a
# pulled cable) by the second unanswered heartbeat, at most 2 * HEARTBEAT_S; then OFFLINE_AFTER_S of retrying.
HEARTBEAT_S = 1.5
OFFLINE_AFTER_S = 1.5
SWITCH_DRAIN_S = 10.0  # re-pointed in SETTINGS: how long queued taps get to reach the old server first


def set_aside_text(kept: SetAside) -> str:
    n = kept.unsent
    # The file's full name is in the log; the cook needs to know that nothing was thrown away.
    return (
        f"{n} tap{'s' if n != 1 else ''} from before this screen was re-pointed never reached the old server "
        f"· kept on this PC in {kept.path.parent.name}/ · tap to hide"
    )


@dataclass
class Session:
    """One configuration's engine, screen and window."""

    config: AppConfig
    connection: Connection
    engine: SyncEngine
    screen: Screen
    window: MainWindow
    sound: AlertSound
    keys: BumpBarKeys | None = None
    board: ReadyBoard | None = None  # the customer order-ready board, when configured
    _unwatch: Callable[[], None] | None = None

    @classmethod
    def create(
        cls, config: AppConfig, connection: Connection, *, sound: AlertSound | None = None, ready_board: bool = False
    ) -> Session:
        """`ready_board`: open the customer board even if the settings do not ask for it (`kds --ready-board`)."""
        engine_config = dataclasses.replace(
            connection.engine_config, offline_after_s=OFFLINE_AFTER_S, heartbeat_s=HEARTBEAT_S
        )
        # A store left by another device (the screen was moved to another server or account) is set aside,
        # never reused and never deleted: opening it would refuse to start, on every start.
        set_aside = claim(engine_config.data_path, engine_config.device_id)
        session_context(
            device=engine_config.device_id, restaurant=engine_config.restaurant_id, stations=config.stations,
            view=config.view,
        )
        engine = SyncEngine(engine_config)
        model = TicketModel()
        delegate = TicketDelegate(config.font_size, config.thresholds_for)
        delegate.allow_rush = config.allow_rush  # expo cards always carry RUSH
        expo = config.view == "expo"
        screen = Screen(engine, model, expo=expo, stations=config.stations, allow_rush=config.allow_rush)
        title = "EXPO" if expo else " · ".join(s.upper() for s in config.stations) or "ALL STATIONS"
        window = MainWindow(screen, delegate, title=title, scroll=config.layout == "scroll")
        session = cls(config, connection, engine, screen, window, sound or AlertSound(config.sound))
        session.keys = BumpBarKeys(window, resolve_keymap(config.keymap))  # the config was checked: it resolves
        if config.ready_board or ready_board:  # read-only, from the same store: no second device or token
            session.board = ReadyBoard(engine, show_names=config.ready_board_names)
        screen.new_tickets.connect(session._alert)
        engine.on_changes(screen.refresh)
        # The server refused this screen and it could not sign itself in again: the window says so, in words.
        needed, account = connection.sign_in_needed, connection.account
        session._unwatch = needed.subscribe(lambda reason: window.set_sign_in_needed(reason is not None, account))
        window.set_sign_in_needed(needed.value is not None, account)
        if set_aside is not None:
            log.warning(
                "this screen's store belonged to device %s; kept as %s (%d unsent, %d refused taps)",
                set_aside.device_id, set_aside.path, set_aside.unsent, set_aside.refused,
            )
            if set_aside.unsent:
                window.show_notice(set_aside_text(set_aside))
        return session

    def _alert(self, _new: list[object]) -> None:
        self.sound.play()

    async def start(self, *, fullscreen: bool) -> None:
        self.screen.refresh()  # what the store already holds shows before the network is asked anything
        if fullscreen:
            self.window.showFullScreen()
        else:
            # Never larger than the screen it is on (a 1366x768 kitchen PC must see SETTINGS).
            room = QWidget.screen(self.window).availableGeometry()  # `window.screen` is the ticket screen
            self.window.resize(min(1600, room.width()), min(900, room.height()))
            self.window.show()
        if self.board is not None:
            show_on_second_display(self.board, fullscreen=fullscreen)
        await self.engine.start()

    async def drain(self, within_s: float) -> bool:
        """Before the screen is re-pointed: give queued taps up to `within_s` to reach their server. True if none
        is left; those that are stay in this store, which the next device sets aside and names on screen."""
        depth = self.engine.queue_depth
        if depth.value == 0:
            return True
        try:
            await asyncio.wait_for(depth.wait_for(0), within_s)
        except TimeoutError:
            log.warning("%d taps did not reach the server before the screen was re-pointed", depth.value)
            return False
        return True

    async def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
        self.window.detach()
        if self.board is not None:
            self.board.detach()
            self.board.close()
            self.board.deleteLater()
        await self.engine.stop()
        await self.connection.aclose()
        self.window.close()
        self.window.deleteLater()


class App:
    """The whole program's life on the Qt loop; `run()` returns the exit code."""

    def __init__(
        self,
        config: AppConfig,
        *,
        config_file: Path,
        data_dir: Path,
        fullscreen: bool = False,
        ready_board: bool = False,
    ) -> None:
        self.config = config
        self.config_file = config_file
        self.data_dir = data_dir
        self.fullscreen = fullscreen
        self.ready_board = ready_board  # kds --ready-board: this run only, never saved
        self.embedded: EmbeddedCompanion | None = None
        self.session: Session | None = None
        self.stopping = asyncio.Event()
        self.session_started = asyncio.Event()  # set while a session runs (for whoever drives the app)
        self._next: tuple[AppConfig, str | None] | None = None
        self._changed = asyncio.Event()
        self.dialog: SettingsDialog | None = None

    # ------------------------------------------------------------ life

    async def run(self) -> int:
        qapp = QApplication.instance()
        assert isinstance(qapp, QApplication)
        qapp.setQuitOnLastWindowClosed(False)  # closing the window ends `run` through `stopping` instead
        self._install_signal_handlers()
        gc = MainThreadGC()
        gc.start()
        gc_timer = QTimer()
        gc_timer.setInterval(500)
        gc_timer.timeout.connect(gc.tick)
        gc_timer.start()
        password: str | None = None
        try:
            while not self.stopping.is_set():
                qapp.setStyleSheet(theme.style_sheet(self.config.font_size))
                try:
                    connection = await self._connect(password)
                except (ConfigError, SignInNeeded, ClientError) as exc:
                    # Never a dead end: the settings open with the reason, and the screen waits for a fix.
                    log.warning("cannot start the screen: %s", exc)
                    await self._wait_for_settings(str(exc))
                    if self._next is None:
                        break
                    self.config, password = self._next
                    continue
                self.session = Session.create(self.config, connection, ready_board=self.ready_board)
                self.session.window.settings_requested.connect(lambda: self.open_settings(self._sign_in_needed()))
                self.session.window.closed.connect(self.stopping.set)
                await self.session.start(fullscreen=self.fullscreen)
                self.session_started.set()
                await self._until_stop_or_change()
                self.session_started.clear()
                session, self.session = self.session, None
                if self._next is not None:
                    await session.drain(SWITCH_DRAIN_S)  # taps go to the server they were made for, if it answers
                await session.stop()
                if self._next is None:
                    break
                self.config, password = self._next
                self._next = None
        finally:
            if self.session is not None:
                await self.session.stop()
            self._stop_embedded()
            gc_timer.stop()
            gc.stop()
        return 0

    async def _connect(self, password: str | None) -> Connection:
        if self.config.server == "embedded":
            wanted = self.config.embedded_port  # 0: any port, so a running companion serves as it is
            if self.embedded is None or (wanted and wanted != self.embedded.port):
                self._stop_embedded()
                from .embedded import EmbeddedCompanion

                self.embedded = EmbeddedCompanion(self.data_dir, self.config.embedded_port)
                await asyncio.get_running_loop().run_in_executor(None, self.embedded.start)
        else:
            self._stop_embedded()
        return await build_engine_config(self.config, self.data_dir, embedded=self.embedded, password=password)

    def _stop_embedded(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    async def _until_stop_or_change(self, *, clear: bool = True) -> None:
        if clear:
            self._changed.clear()
        stop = asyncio.ensure_future(self.stopping.wait())
        change = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({stop, change}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            change.cancel()

    def request_stop(self) -> None:
        self._next = None
        self.stopping.set()

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError, ValueError):
                # Not the main thread, or a loop without signal support: Python's handler still reaches us.
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(self.request_stop))

    # ------------------------------------------------------------ settings

    def open_settings(self, error: str | None = None) -> SettingsDialog:
        if self.dialog is None:
            parent = self.session.window if self.session is not None else None
            self.dialog = SettingsDialog(self.config, parent)
            self.dialog.saved.connect(self._saved)
            self.dialog.rejected.connect(self._dialog_closed)
        if error:
            self.dialog.show_error(error)
        self.dialog.show()  # never exec(): a modal loop would stall the engine and every test
        self.dialog.raise_()
        return self.dialog

    def _sign_in_needed(self) -> str | None:
        """Why the running screen needs its password entered (shown at the top of the settings), or None."""
        return self.session.connection.sign_in_needed.value if self.session is not None else None

    def _saved(self, result: tuple[AppConfig, str | None]) -> None:
        config, password = result
        try:
            save_config(self.config_file, config)
        except (ConfigError, OSError) as exc:
            if self.dialog is not None:
                self.dialog.show_error(f"Could not save the settings: {exc}")
            return
        self._next = (config, password)
        if self.dialog is not None:
            self.dialog.hide()
            self.dialog.deleteLater()
            self.dialog = None
        self._changed.set()

    def _dialog_closed(self) -> None:
        self.dialog = None
        # Cancelled while there is no session (sign-in failed): nothing to go back to, so stop.
        if self.session is None:
            self._next = None
            self._changed.set()

    async def _wait_for_settings(self, error: str) -> None:
        self._next = None
        self._changed.clear()
        self.open_settings(error)
        await self._until_stop_or_change(clear=False)
        if self.stopping.is_set():
            self._next = None


def run_app(
    config: AppConfig, *, config_file: Path, data_dir: Path, fullscreen: bool, ready_board: bool = False
) -> int:
    """Start Qt and asyncio (qasync) and run the screen until it is closed or told to stop."""
    import sys

    import qasync

    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("kds")
    app = App(config, config_file=config_file, data_dir=data_dir, fullscreen=fullscreen, ready_board=ready_board)
    with contextlib.suppress(asyncio.CancelledError):
        return qasync.run(app.run())
    return 0
