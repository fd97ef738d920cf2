"""The cook's window: status bar, banners, the ticket grid and the recall drawer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QMouseEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from api_client.hub_link import UpstreamLink
from sync.realtime.connection import ConnectionState
from sync.store.outbox_rows import OutboxEntry

from .all_day_panel import AllDayPanel
from .eighty_six_panel import EightySixPanel, EightySixStrip
from .prep_strip import PrepStrip
from .recall_drawer import RecallDrawer
from .screen import Screen
from .ticket_delegate import TicketDelegate, format_age
from .ticket_grid import TicketGrid
from .ticket_model import Ticket

PREP_REFRESH_S = 5.0  # the TODAY strip, after a change
PREP_REFRESH_IDLE_S = 60.0  # ...and with no change at all (the kitchen day rolls over at its own hour)

CONNECTION_TEXT = {
    ConnectionState.CONNECTING: "● CONNECTING",
    ConnectionState.JOINING: "● CONNECTING",
    ConnectionState.LIVE: "● ONLINE",
    ConnectionState.RECONNECTING: "● RECONNECTING",
    ConnectionState.OFFLINE: "● OFFLINE",
}


def queue_text(depth: int, oldest_s: float | None) -> str:
    if depth == 0:
        return "All synced"
    age = f" · oldest {format_age(oldest_s)}" if oldest_s is not None else ""
    return f"{depth} to sync{age}"


def offline_text(depth: int, oldest_s: float | None) -> str:
    if depth == 0:
        waiting = "nothing waiting to sync"
    else:
        age = f" (oldest {format_age(oldest_s)})" if oldest_s is not None else ""
        waiting = f"{depth} change{'s' if depth != 1 else ''} waiting to sync{age}"
    # The counts first: on a narrow screen the line is cut at the end, and the reassurance can go, not them.
    return f"OFFLINE · {waiting} · keep working, taps are saved here"


def lan_only_text(link: UpstreamLink, now: float) -> str:
    """The kitchen hub serving this screen has lost the internet: the LAN screens stay in sync with each other,
    but orders made online cannot arrive and the kitchen's taps wait at the hub (issue 14)."""
    down = f" {format_age(now - link.down_since.timestamp())}" if link.down_since is not None else ""
    waiting = link.taps_waiting + link.pos_writes_waiting  # at the hub, for upstream
    return f"no internet{down}" + (f" · {waiting} to sync" if waiting else "")


def sign_in_text(depth: int, account: str | None) -> str:
    """The server refused this screen and it cannot sign itself in again: what a person must do, in words."""
    waiting = f"{depth} tap{'s' if depth != 1 else ''} waiting, saved here" if depth else "nothing waiting to sync"
    whose = f"the password for {account}" if account else "this screen's password"
    return f"SIGN-IN NEEDED · {waiting} · tap SETTINGS and enter {whose}"


class TopBar(QFrame):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.setObjectName("TopBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(10)
        self.title = QLabel(title)
        self.title.setObjectName("ScreenTitle")
        self.title.setMinimumWidth(80)  # "GRILL · FRY · COLD" may be cut on a narrow screen; the status never is
        self.count = QLabel()
        # "12 open · 2 on hold" may be cut short on a narrow screen, so the buttons and the sync state never are.
        self.count.setMinimumWidth(60)
        self.connection = QLabel()
        self.connection.setObjectName("ConnectionPill")
        self.queue = QLabel()
        self.queue.setObjectName("QueueLabel")
        # Never squeezed: "3 to sync · oldest 1:20" cut short would hide the one number that matters offline.
        self.queue.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.clock = QLabel()
        self.clock.setObjectName("Clock")
        self.recall = QPushButton("RECALL")
        self.recall.setCheckable(True)
        self.settings = QPushButton("SETTINGS")
        self.all_day = QPushButton("ALL DAY")
        self.all_day.setCheckable(True)
        self.eighty_six = QPushButton("86")
        self.eighty_six.setCheckable(True)
        for widget in (self.title, self.count):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.buttons = (self.eighty_six, self.all_day, self.recall, self.settings)
        for widget in (
            self.connection,
            self.queue,
            self.clock,
            self.eighty_six,
            self.all_day,
            self.recall,
            self.settings,
        ):
            layout.addWidget(widget)

    def showEvent(self, event: QShowEvent) -> None:
        # A button is never narrower than its word (the style sheet's own minimum is padding only, so that the
        # buttons are not all as wide as the widest): on a narrow screen the title and the count give way.
        for button in self.buttons:
            button.ensurePolished()
            button.setMinimumWidth(button.sizeHint().width())
        super().showEvent(event)

    def set_connection(self, state: ConnectionState, *, signed_out: bool = False, lan_only: bool = False) -> None:
        """`lan_only`: live on a kitchen hub that has lost the internet (the LAN works; online orders cannot come)."""
        # Signed out, the socket may still be open on the last token: the screen is not syncing all the same.
        if signed_out:
            text, value = "● SIGNED OUT", ConnectionState.OFFLINE.value
        elif lan_only and state is ConnectionState.LIVE:
            text, value = "● LAN ONLY", "lan_only"
        else:
            text, value = CONNECTION_TEXT[state], state.value
        self.connection.setText(text)
        self.connection.setProperty("state", value)
        # A dynamic property only restyles after the style is re-applied.
        self.connection.style().unpolish(self.connection)
        self.connection.style().polish(self.connection)


class NoticeBanner(QLabel):
    """A one-off message the cook should read once (e.g. taps kept from before a re-point); a tap hides it."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("NoticeBanner")
        self.setWordWrap(True)
        self.setMinimumWidth(200)
        self.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()
        event.accept()


class RejectionBanner(QFrame):
    """A refusal, laid over the foot of the card area (a child of the grid, kept at its bottom edge) until the
    cook taps OK: it covers the last lines of the bottom cards for a moment instead of pushing every card down."""

    dismissed = Signal(object)  # OutboxEntry

    def __init__(self, over: TicketGrid) -> None:
        super().__init__(over)
        self._grid = over
        self.setObjectName("RejectionBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.ok = QPushButton("OK")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.ok)
        self.entry: OutboxEntry | None = None
        self.ok.clicked.connect(self._dismiss)
        over.installEventFilter(self)
        self.hide()

    def show_rejections(self, rejected: list[OutboxEntry]) -> None:
        if not rejected:
            self.entry = None
            self.hide()
            return
        self.entry = rejected[0]
        more = f"  (+{len(rejected) - 1} more)" if len(rejected) > 1 else ""
        kind = self.entry.intent.kind.value.replace("_", " ")
        self.label.setText(f"Not done: {kind}. {self.entry.reason or 'refused by the server'}{more}")
        self.place()
        self.show()
        self.raise_()

    def place(self) -> None:
        """Full width at the bottom of the card area, just above the page bar."""
        grid = self._grid
        bottom = grid.page_bar.geometry().top() if grid.page_bar.isVisible() else grid.height()
        height = self.heightForWidth(grid.width()) if self.hasHeightForWidth() else self.sizeHint().height()
        height = max(height, self.sizeHint().height())
        self.setGeometry(0, max(0, bottom - height), grid.width(), height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._grid and event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            self.place()
        return False

    def _dismiss(self) -> None:
        if self.entry is not None:
            self.dismissed.emit(self.entry)


class MainWindow(QMainWindow):
    settings_requested = Signal()
    closed = Signal()  # the cook (or the window manager) closed the window

    def __init__(
        self,
        screen: Screen,
        delegate: TicketDelegate,
        *,
        title: str,
        wall_clock: Callable[[], float] = time.time,
        scroll: bool = False,
    ) -> None:
        super().__init__()
        self.setWindowTitle(f"KDS · {title}")
        self.screen = screen
        self.engine = screen.engine
        self._wall_clock = wall_clock
        self._detached = False
        self.top = TopBar(title)
        self.notice = NoticeBanner()
        # In the page bar under the cards, in place of the day's prep figures: a strip above the grid would push
        # every card down under a cook's finger the moment the network drops (issue 16). One line, cut at the end
        # on a narrow screen (the counts come first), never what sets the window's minimum width.
        self.offline_banner = QLabel()
        self.offline_banner.setObjectName("OfflineBanner")
        self.offline_banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.offline_banner.hide()
        # The same red strip says so when the server refused this screen and a person must sign it in again.
        self._sign_in_needed = False
        self._sign_in_account: str | None = None
        self.grid = TicketGrid(screen.model, delegate, scroll=scroll)
        # Over the foot of the cards, not above them: a refusal arriving while a finger is down moves no card.
        self.rejection_banner = RejectionBanner(self.grid)
        self.drawer = RecallDrawer()
        self.drawer.hide()
        # Today's ticket times: this screen's stations, or every station on expo and all-stations screens.
        self.prep_strip = PrepStrip(self.engine.prep_times, screen.stations or None, delegate.fonts.base_pt)
        self.all_day = AllDayPanel(delegate.fonts.base_pt)
        self.all_day.hide()
        self.eighty_six_strip = EightySixStrip()
        self.eighty_six_panel = EightySixPanel()
        self.eighty_six_panel.hide()

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.grid, 1)
        body.addWidget(self.all_day)
        body.addWidget(self.eighty_six_panel)
        body.addWidget(self.drawer)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        strips = (self.notice,)
        # Today's prep times share the page bar under the cards (one bar at the foot instead of a strip on top):
        # the cards get its height (issue 16's density goal at 1366x768).
        self.grid.page_bar.add_beside(self.prep_strip)
        self.grid.page_bar.add_beside(self.offline_banner)
        for widget in (self.top, self.eighty_six_strip, *strips):
            column.addWidget(widget)
        column.addLayout(body, 1)
        self.setCentralWidget(central)

        self.grid.action_tapped.connect(screen.action)
        self.grid.item_tapped.connect(screen.item)
        self.grid.control_tapped.connect(screen.control)
        self.top.eighty_six.toggled.connect(self._toggle_eighty_six)
        self.eighty_six_panel.close_requested.connect(lambda: self.top.eighty_six.setChecked(False))
        self.eighty_six_panel.eighty_six_requested.connect(screen.eighty_six)
        self.eighty_six_panel.back_requested.connect(lambda name: screen.eighty_six(name, available=True))
        self.top.recall.toggled.connect(self._toggle_drawer)
        self.top.all_day.toggled.connect(self._toggle_all_day)
        self.all_day.close_requested.connect(lambda: self.top.all_day.setChecked(False))
        self.top.settings.clicked.connect(self.settings_requested)
        self.drawer.close_requested.connect(lambda: self.top.recall.setChecked(False))
        self.drawer.recall_requested.connect(self._recall)
        self.rejection_banner.dismissed.connect(screen.dismiss)
        screen.rejections_changed.connect(self.rejection_banner.show_rejections)
        screen.refreshed.connect(self._after_refresh)

        self._unsubscribe = [
            self.engine.connection_state.subscribe(lambda _s: self.update_status()),
            self.engine.queue_depth.subscribe(lambda _d: self.update_status()),
            self.engine.hub_upstream.subscribe(lambda _l: self.update_status()),
            self.engine.eighty_sixed.subscribe(self._menu_changed),
        ]
        self._menu_changed(self.engine.eighty_sixed.value)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.update_status()
        self.prep_strip.refresh()
        self._prep_dirty = False
        self._prep_refreshed_at = time.monotonic()
        self._update_clock()

    # ------------------------------------------------------------ periodic

    def tick(self) -> None:
        # The prep figures read the whole day's finished tickets: only after something changed (and at most
        # every PREP_REFRESH_S), or once a minute for the day's rollover; never on the path of a tap.
        now = time.monotonic()
        since = now - self._prep_refreshed_at
        if (self._prep_dirty and since >= PREP_REFRESH_S) or since >= PREP_REFRESH_IDLE_S:
            self._prep_dirty = False
            self._prep_refreshed_at = now
            self.prep_strip.refresh()
        self.screen.model.tick()
        self._update_clock()
        self.update_status()

    def _update_clock(self) -> None:
        self.top.clock.setText(datetime.fromtimestamp(self._wall_clock()).strftime("%H:%M"))

    def update_status(self) -> None:
        state = self.engine.connection_state.value
        depth = self.engine.queue_depth.value
        oldest = self.engine.oldest_pending_age()
        link = self.engine.hub_upstream.value
        lan_only = link is not None and not link.up and state is ConnectionState.LIVE
        self.top.set_connection(state, signed_out=self._sign_in_needed, lan_only=lan_only)
        if lan_only and depth == 0 and link is not None:
            self.top.queue.setText(lan_only_text(link, self._wall_clock()))
        else:
            self.top.queue.setText(queue_text(depth, oldest))
        if self._sign_in_needed:
            self._show_offline(sign_in_text(depth, self._sign_in_account))
        elif state is ConnectionState.OFFLINE:
            self._show_offline(offline_text(depth, oldest))
        else:
            self._show_offline(None)

    def _show_offline(self, text: str | None) -> None:
        """The red strip in the page bar, or the day's prep figures there when there is nothing to say."""
        if text is not None:
            self.offline_banner.setText(text)
        self.prep_strip.setVisible(text is None)
        self.offline_banner.setVisible(text is not None)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    def set_sign_in_needed(self, needed: bool, account: str | None = None) -> None:
        """Show (or clear) the sign-in strip: the screen keeps working and queueing taps until someone enters
        the device account's password in SETTINGS."""
        self._sign_in_needed, self._sign_in_account = needed, account
        self.update_status()

    def _after_refresh(self) -> None:
        self._prep_dirty = True
        tickets = self.screen.model.tickets()
        # A held-only ticket is on the rail (greyed) but is not work until its course is fired.
        held = sum(1 for t in tickets if t.on_hold)
        self.top.count.setText(f"{len(tickets) - held} open" + (f" · {held} on hold" if held else ""))
        if self.eighty_six_panel.isVisible():
            self._fill_eighty_six_panel()
        if self.drawer.isVisible():
            self.drawer.set_tickets(self.screen.recently_bumped())
        if self.top.all_day.isChecked():  # hidden, it is recounted when opened: no work for a panel nobody sees
            self.all_day.update_counts(self.screen.model.tickets())

    # ------------------------------------------------------------ all day

    def _toggle_all_day(self, shown: bool) -> None:
        if shown:
            self.all_day.update_counts(self.screen.model.tickets())
        self.all_day.setVisible(shown)

    def toggle_all_day(self) -> None:
        """The bump bar's all-day key: the same as the top bar's button, which shows the state."""
        self.top.all_day.toggle()

    # ------------------------------------------------------------ 86

    def _menu_changed(self, names: tuple[str, ...]) -> None:
        """The 86 list changed (here, on another screen, or offline here): strip, panel and ticket tags."""
        self.eighty_six_strip.set_names(names)
        if self.grid.delegate.set_eighty_sixed(names):
            self.grid.cards_changed()  # tags change line widths, so card heights may change
        if self.eighty_six_panel.isVisible():
            self._fill_eighty_six_panel()

    def _fill_eighty_six_panel(self) -> None:
        self.eighty_six_panel.set_items(self.engine.eighty_sixed.value, self.screen.menu_names())

    def _toggle_eighty_six(self, shown: bool) -> None:
        if shown:
            self._fill_eighty_six_panel()
        self.eighty_six_panel.setVisible(shown)

    # ------------------------------------------------------------ recall

    def _toggle_drawer(self, shown: bool) -> None:
        if shown:
            self.drawer.set_tickets(self.screen.recently_bumped())
        self.drawer.setVisible(shown)

    def _recall(self, ticket: Ticket) -> None:
        self.screen.recall(ticket)
        self.drawer.set_tickets(self.screen.recently_bumped())

    # ------------------------------------------------------------ teardown

    def detach(self) -> None:
        """Stop listening to the engine (before it stops, or before another engine replaces it)."""
        self._detached = True
        self.screen.detach()
        self.timer.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def closeEvent(self, event: QCloseEvent) -> None:
        by_user = not self._detached  # a session closing its own window is not the cook closing the app
        self.detach()
        super().closeEvent(event)
        if by_user:
            self.closed.emit()
