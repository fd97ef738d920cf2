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
from uuid import UUID

from PySide6.QtCore import QRect, QSize, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from api_client.errors import ClientError
from api_client.escpos.address import parse_address
from sync import SetAside, SyncEngine, claim

from ..cards.ticket_delegate import TicketDelegate
from ..input.bump_bar import BumpBarKeys
from ..input.key_map import resolve_keymap
from ..media import theme
from ..media.language import translate, use_language
from ..media.sound import AlertSound
from ..panels.first_run import FirstRunHint
from ..panels.pin_prompt import PinPrompt
from ..panels.ready_board import ReadyBoard, show_on_second_display
from ..panels.settings_dialog import SettingsDialog
from ..printing.own_printer import OwnPrinter
from ..printing.printed import printed_path
from ..startup.config import AppConfig, ConfigError, save_config
from ..startup.connect import Connection, SignInNeeded, build_engine_config
from ..startup.logging_setup import session_context
from ..startup.main_thread_gc import MainThreadGC
from ..startup.probe import check_connection, fetch_known_stations
from ..viewmodel.engine_bridge import EngineBridge
from ..viewmodel.screen import Screen
from ..viewmodel.ticket_model import TicketModel
from .main_window import MainWindow
from .not_connected import NotConnectedWindow
from .pane import SEPARATOR, pane_filters

if TYPE_CHECKING:  # imported when first needed: the companion server costs ~400 ms of launch
    from ..startup.embedded import EmbeddedCompanion

log = logging.getLogger(__name__)

# The banner is up within 5 s of losing the server: a closed socket is seen at once and a silent loss (a
# pulled cable) by the second unanswered heartbeat, at most 2 * HEARTBEAT_S; then OFFLINE_AFTER_S of retrying.
HEARTBEAT_S = 1.5
OFFLINE_AFTER_S = 1.5
SWITCH_DRAIN_S = 10.0  # re-pointed in SETTINGS: how long queued taps get to reach the old server first
CONNECTING_NOTICE_S = 0.5  # a start that takes longer than this says what it waits for
WINDOWED = QSize(1600, 900)  # a windowed start's size, when the screen it opens on has room for it


def fit_to(room: QRect, wanted: QSize) -> QRect:
    """A window of at most `wanted`, inside `room` (the screen's available area), centred in it."""
    width, height = min(wanted.width(), room.width()), min(wanted.height(), room.height())
    return QRect(room.x() + (room.width() - width) // 2, room.y() + (room.height() - height) // 2, width, height)


def unknown_station_text(unknown: tuple[str, ...], known: tuple[str, ...]) -> str:
    names = ", ".join(s.upper() for s in unknown)
    text = translate(
        "App", "{names}: not a station this server knows, so no ticket will come here · it knows {known} · "
        "choose in SETTINGS · tap to hide"
    )
    return text.format(names=names, known=", ".join(known))


def set_aside_text(kept: SetAside) -> str:
    n = kept.unsent
    # The file's full name is in the log; the cook needs to know that nothing was thrown away.
    if n == 1:
        text = translate("App", "1 tap from before this screen was re-pointed never reached the old server "
                         "· kept on this PC in {folder}/ · tap to hide")
    else:
        text = translate("App", "{n} taps from before this screen was re-pointed never reached the old server "
                         "· kept on this PC in {folder}/ · tap to hide")
    return text.format(n=n, folder=kept.path.parent.name)


@dataclass
class Session:
    """One configuration's engine, screen and window."""

    config: AppConfig
    connection: Connection
    engine: SyncEngine
    screen: Screen
    window: MainWindow
    sound: AlertSound
    bridge: EngineBridge  # the one hub of the engine's reports: the window, screens and board listen to it
    keys: BumpBarKeys | None = None
    board: ReadyBoard | None = None  # the customer order-ready board, when configured
    first_run: FirstRunHint | None = None  # what to do next, on the empty screen of a first start
    printer: OwnPrinter | None = None  # the screen's own printer, when configured (issue 19 item 3)
    known_stations: tuple[str, ...] | None = None  # what the server says it knows, once asked
    _asking: asyncio.Task[tuple[str, ...] | None] | None = None
    _unwatch_printed: Callable[[], None] | None = None

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
        # The only subscriber to the engine's (and the sign-in's) observables on the Qt side (issue 18).
        bridge = EngineBridge(engine, connection.sign_in_needed)
        # One pane, or two side by side (`split`, issue 19, item 5): each its own screen and model, one engine.
        panes: list[tuple[Screen, TicketDelegate]] = []
        for pane in (filters := pane_filters(config)):
            delegate = TicketDelegate(config.font_size, config.thresholds_for)
            delegate.allow_rush = config.allow_rush  # expo cards always carry RUSH
            screen = Screen(bridge, TicketModel(), expo=pane.expo, stations=pane.stations,
                            allow_rush=config.allow_rush, status=pane.status)
            panes.append((screen, delegate))
        (screen, delegate), second = panes[0], (panes[1] if len(panes) > 1 else None)
        stations = " · ".join(s.upper() for s in config.stations)
        title = translate("App", "EXPO") if config.view == "expo" else stations or translate("App", "ALL STATIONS")
        if config.split is not None and config.split != "status":
            title = SEPARATOR.join(f.name() for f in filters)
        window = MainWindow(screen, delegate, title=title, scroll=config.layout == "scroll",
                            compact=config.expo_compact, second=second,
                            names=(filters[0].name(), filters[-1].name()), bridge=bridge)
        session = cls(config, connection, engine, screen, window, sound or AlertSound(config.sound), bridge)
        session.keys = BumpBarKeys(window, resolve_keymap(config.keymap))  # the config was checked: it resolves
        if config.ready_board or ready_board:  # read-only, from the same store: no second device or token
            session.board = ReadyBoard(bridge, show_names=config.ready_board_names)
        for pane in window.panes:  # after the board: on a change the board redraws first, as before the bridge
            pane.screen.new_tickets.connect(session._alert)
            bridge.changes.connect(pane.screen.refresh)
        # The server refused this screen and it could not sign itself in again: the window says so, in words.
        bridge.sign_in_needed_changed.connect(session._sign_in_needed)
        window.set_sign_in_needed(bridge.sign_in_needed is not None, connection.account)
        if config.printer is not None:
            session.printer = OwnPrinter(
                engine, session.printed_stations, parse_address(config.printer),
                after_s=config.offline_print_after_s, path=printed_path(engine_config.data_path),
            )
            session._unwatch_printed = session.printer.printed_items.subscribe(session._printed_here)
            session._printed_here(session.printer.printed_items.value)
        if set_aside is not None:
            log.warning(
                "this screen's store belonged to device %s; kept as %s (%d unsent, %d refused taps)",
                set_aside.device_id, set_aside.path, set_aside.unsent, set_aside.refused,
            )
            if set_aside.unsent:
                window.show_notice(set_aside_text(set_aside))
        return session

    def printed_stations(self) -> tuple[str | None, ...]:
        """The tickets the own printer prints: what the panes list, each once; a station pane beside expo's
        (split "expo") prints the stations' tickets, not the whole orders as well."""
        listed = dict.fromkeys(s for pane in self.window.panes for s in pane.screen.station_list())
        stations = tuple(s for s in listed if s is not None)
        return stations or tuple(listed)

    def _printed_here(self, items: frozenset[UUID]) -> None:
        """The own printer printed: those items' cards carry the PRINTED tag, on this screen, until done."""
        for pane in self.window.panes:
            if pane.grid.delegate.set_printed_here(items):
                pane.grid.cards_changed()

    def _sign_in_needed(self, reason: str | None) -> None:
        self.window.set_sign_in_needed(reason is not None, self.connection.account)

    def _alert(self, _new: list[object]) -> None:
        self.sound.play()

    def show_first_run(self) -> None:
        """Say what to do next over the empty grid (the first start of a screen: no settings saved yet)."""
        if self.first_run is None:
            self.first_run = FirstRunHint(self.window.grid, self.screen.model)

    async def start(self, *, fullscreen: bool) -> None:
        for pane in self.window.panes:  # what the store already holds shows before the network is asked anything
            pane.screen.refresh()
        self.show(fullscreen=fullscreen)
        await self.engine.start()
        if self.printer is not None:
            self.printer.start()
        self._asking = asyncio.ensure_future(self.ask_stations())

    def show(self, *, fullscreen: bool) -> None:
        """The cook's window on the screen it opens on, and the customer board (if any) on another display."""
        show_window(self.window, fullscreen=fullscreen)
        if self.board is not None:
            show_on_second_display(self.board, QWidget.screen(self.window), fullscreen=fullscreen)

    async def ask_stations(self) -> tuple[str, ...] | None:
        """The stations the server knows; a configured one it does not know is said on screen (its tickets would
        never come: an empty screen and no reason). None when the server cannot say (a Supabase project)."""
        config = self.connection.engine_config
        try:
            token = await config.token_provider.get_token()
        except ClientError:
            return None
        known = await fetch_known_stations(config.url, config.anon_key, token)
        if known is None:
            return None
        self.known_stations = known
        for pane in self.window.panes:
            pane.screen.known_stations = known  # where MOVE may send a ticket
        unknown = tuple(s for s in self.config.stations if s not in known)
        if unknown:
            log.warning("stations %s are not known to the server (it knows %s)", unknown, known)
            self.window.show_notice(unknown_station_text(unknown, known))
        return known

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
        if self._asking is not None:
            self._asking.cancel()
        if self.printer is not None:
            if self._unwatch_printed is not None:
                self._unwatch_printed()
            await self.printer.stop()
        self.window.detach()
        self.bridge.detach()  # nothing the engine reports from here on reaches the window, screens or board
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
        self.not_connected_shown = asyncio.Event()  # set while the screen waits, not connected, for its settings
        self.connecting_shown = asyncio.Event()  # set while the screen says it is still connecting
        self._next: tuple[AppConfig, str | None] | None = None
        self._changed = asyncio.Event()
        self.dialog: SettingsDialog | None = None
        self.pin_prompt: PinPrompt | None = None
        self.not_connected: NotConnectedWindow | None = None  # what Cancel returns to when there is no screen yet
        self.first_run = not config_file.exists()  # no settings saved yet: the empty screen says what to do next

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
                use_language(self.config.language)  # before any window: each is built in the language it shows
                try:
                    connection = await self._connect_saying_so(password)
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
                if self.first_run:
                    self.session.show_first_run()
                await self.session.start(fullscreen=self.fullscreen)
                self._close_not_connected()
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
            self._close_not_connected()
            self._stop_embedded()
            gc_timer.stop()
            gc.stop()
        return 0

    async def _connect_saying_so(self, password: str | None) -> Connection:
        """`_connect`, with a window saying what the screen waits for when that takes more than a moment: a hub that
        takes connections but does not answer kept the glass black for the sign-in's whole timeout (10 s)."""
        connecting = asyncio.ensure_future(self._connect(password))
        try:
            done, _ = await asyncio.wait({connecting}, timeout=CONNECTING_NOTICE_S)
            if not done:
                self._show_not_connected(None).connecting(
                    self.config.url if self.config.server != "embedded" else None
                )
                self.connecting_shown.set()
            return await connecting
        except asyncio.CancelledError:
            connecting.cancel()
            raise
        finally:
            self.connecting_shown.clear()

    async def _connect(self, password: str | None) -> Connection:
        if self.config.server == "embedded":
            wanted = self.config.embedded_port  # 0: any port, so a running companion serves as it is
            if self.embedded is None or (wanted and wanted != self.embedded.port):
                self._stop_embedded()
                from ..startup.embedded import EmbeddedCompanion

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

    def open_settings(self, error: str | None = None) -> SettingsDialog | PinPrompt:
        """The settings, or first the PIN that locks them (then the settings once it is entered)."""
        if self.dialog is None and self.config.settings_pin is not None:
            if self.pin_prompt is None:
                self.pin_prompt = PinPrompt(self.config.settings_pin, self._parent())
                self.pin_prompt.unlocked.connect(lambda: self._open_dialog(error))
                self.pin_prompt.finished.connect(self._prompt_closed)
            self.pin_prompt.show()  # never exec(), as for the settings
            self.pin_prompt.raise_()
            return self.pin_prompt
        return self._open_dialog(error)

    def _open_dialog(self, error: str | None) -> SettingsDialog:
        if self.dialog is None:
            known = self.session.known_stations if self.session is not None else None
            self.dialog = SettingsDialog(self.config, self._parent(), known_stations=known, checker=check_connection)
            self.dialog.saved.connect(self._saved)
            self.dialog.rejected.connect(self._dialog_closed)
        if error:
            self.dialog.show_error(error)
        self.dialog.show()  # never exec(): a modal loop would stall the engine and every test
        self.dialog.raise_()
        return self.dialog

    def _parent(self) -> QWidget | None:
        return self.session.window if self.session is not None else self.not_connected

    def _prompt_closed(self) -> None:
        if self.pin_prompt is not None:
            self.pin_prompt.deleteLater()
            self.pin_prompt = None

    def _sign_in_needed(self) -> str | None:
        """Why the running screen needs its password entered (shown at the top of the settings), or None."""
        return self.session.connection.sign_in_needed.value if self.session is not None else None

    def _saved(self, result: tuple[AppConfig, str | None]) -> None:
        config, password = result
        try:
            save_config(self.config_file, config)
        except (ConfigError, OSError) as exc:
            if self.dialog is not None:
                self.dialog.show_error(translate("App", "Could not save the settings: {reason}").format(reason=exc))
            return
        self._next = (config, password)
        if self.dialog is not None:
            self.dialog.hide()
            self.dialog.deleteLater()
            self.dialog = None
        self._changed.set()

    def _dialog_closed(self) -> None:
        self.dialog = None
        # Cancelled while there is no session (the first sign-in failed): back to the screen that says why and
        # offers SETTINGS and Try again; the program goes on until that window is closed.

    def _retry(self) -> None:
        self._next = (self.config, None)
        self._changed.set()

    def _close_not_connected(self) -> None:
        if self.not_connected is not None:
            window, self.not_connected = self.not_connected, None
            # The settings (or their PIN) opened from this window outlive it: kept open over the tickets, not
            # deleted with it (a SETTINGS tap while connecting left a deleted dialog behind, and SETTINGS broken).
            for child in (self.dialog, self.pin_prompt):
                if child is not None and child.parent() is window:
                    shown = child.isVisible()
                    child.setParent(self._parent(), child.windowFlags())
                    if shown:
                        child.show()
                        child.raise_()
            window.closed.disconnect()
            window.close()
            window.deleteLater()

    async def _wait_for_settings(self, error: str) -> None:
        self._next = None
        self._changed.clear()
        self._show_not_connected(error)
        self.open_settings(error)
        self.not_connected_shown.set()
        await self._until_stop_or_change(clear=False)
        self.not_connected_shown.clear()
        if self.stopping.is_set():
            self._next = None

    def _show_not_connected(self, error: str | None) -> NotConnectedWindow:
        """The not-connected window, shown (once), saying `error` (None: leave what it says)."""
        if self.not_connected is None:
            self.not_connected = NotConnectedWindow(error or "")
            self.not_connected.settings_requested.connect(lambda: self.open_settings(self._not_connected_reason()))
            self.not_connected.retry_requested.connect(self._retry)
            self.not_connected.closed.connect(self.request_stop)
            show_window(self.not_connected, fullscreen=self.fullscreen)
        elif error is not None:
            self.not_connected.set_reason(error)
        return self.not_connected

    def _not_connected_reason(self) -> str | None:
        if self.not_connected is None or self.not_connected.is_connecting:
            return None  # still signing in: no error for the settings to show
        return self.not_connected.reason_label.text()


def show_window(window: QWidget, *, fullscreen: bool) -> None:
    """`window` on the whole screen it opens on, or windowed, never larger than that screen and on it (a 1366x768
    kitchen PC must see SETTINGS)."""
    screen = QWidget.screen(window)  # `window.screen` is the ticket screen
    if fullscreen:
        # The whole screen first: a kiosk X session has no window manager to honour the full-screen request, and
        # the window would open at its minimum size (found under Xvfb: a 1110x135 strip with no cards; the
        # not-connected window with its text cut).
        window.setGeometry(screen.geometry())
        window.showFullScreen()
    else:
        window.setGeometry(fit_to(screen.availableGeometry(), WINDOWED))
        window.show()


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
