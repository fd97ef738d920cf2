"""The cook's window: status bar, banners, the ticket grid and the recall drawer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QMetaObject, QObject, QRect, QSize, Qt, QTimer, Signal
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
from api_client.order_machine import is_open
from sync import ConnectionState, OutboxEntry

from ..cards.ticket_delegate import TicketDelegate, format_age
from ..cards.ticket_grid import TicketGrid
from ..media.language import translate
from ..panels.all_day_panel import AllDayPanel
from ..panels.eighty_six_panel import EightySixPanel, EightySixStrip
from ..panels.fitted_label import FittedLabel, ShorteningLabel
from ..panels.prep_strip import PrepStrip
from ..panels.recall_drawer import RecallDrawer
from ..panels.station_picker import StationPicker
from ..viewmodel.engine_bridge import EngineBridge
from ..viewmodel.screen import Screen
from ..viewmodel.ticket_model import Ticket
from .pane import Pane, PanesTitle

TITLE_MAX_MIN_PX = 140  # the most of the top bar the screen's title keeps however narrow the screen
MOVE_TEXT = QT_TRANSLATE_NOOP("MainWindow", "MOVE")
MOVE_ARMED_TEXT = QT_TRANSLATE_NOOP("MainWindow", "MOVE: TAP A TICKET")  # or one of its items; MOVE again leaves
PREP_REFRESH_S = 5.0  # the TODAY strip, after a change
PREP_REFRESH_IDLE_S = 60.0  # ...and with no change at all (the kitchen day rolls over at its own hour)

CONNECTION_TEXT = {
    ConnectionState.CONNECTING: QT_TRANSLATE_NOOP("MainWindow", "● CONNECTING"),
    ConnectionState.JOINING: QT_TRANSLATE_NOOP("MainWindow", "● CONNECTING"),
    ConnectionState.LIVE: QT_TRANSLATE_NOOP("MainWindow", "● ONLINE"),
    ConnectionState.RECONNECTING: QT_TRANSLATE_NOOP("MainWindow", "● RECONNECTING"),
    ConnectionState.OFFLINE: QT_TRANSLATE_NOOP("MainWindow", "● OFFLINE"),
}

# A refused tap's kind, as the refusal bar names it; a kind not listed here shows its name with spaces.
INTENT_NAMES = {
    "start": QT_TRANSLATE_NOOP("Intent", "start"),
    "bump_item": QT_TRANSLATE_NOOP("Intent", "bump item"),
    "unbump_item": QT_TRANSLATE_NOOP("Intent", "unbump item"),
    "bump_ticket": QT_TRANSLATE_NOOP("Intent", "bump ticket"),
    "recall": QT_TRANSLATE_NOOP("Intent", "recall"),
    "serve": QT_TRANSLATE_NOOP("Intent", "serve"),
    "rush": QT_TRANSLATE_NOOP("Intent", "rush"),
    "hold": QT_TRANSLATE_NOOP("Intent", "hold"),
    "fire": QT_TRANSLATE_NOOP("Intent", "fire"),
    "ack_change": QT_TRANSLATE_NOOP("Intent", "ack change"),
    "transfer": QT_TRANSLATE_NOOP("Intent", "transfer"),
    "eighty_six": QT_TRANSLATE_NOOP("Intent", "eighty six"),
}
ITEM_STATUS_NAMES = {
    "new": QT_TRANSLATE_NOOP("ItemStatus", "new"),
    "cooking": QT_TRANSLATE_NOOP("ItemStatus", "cooking"),
    "done": QT_TRANSLATE_NOOP("ItemStatus", "done"),
    "voided": QT_TRANSLATE_NOOP("ItemStatus", "voided"),
}


def queue_text(depth: int, oldest_s: float | None) -> str:
    if depth == 0:
        return translate("MainWindow", "All synced")
    if oldest_s is None:
        return translate("MainWindow", "{depth} to sync").format(depth=depth)
    return translate("MainWindow", "{depth} to sync · oldest {age}").format(depth=depth, age=format_age(oldest_s))


def _waiting(depth: int, one: str, many: str) -> str:
    """How many taps wait, in words: `one` (already translated) for one, `many` ({depth}) for more; English needs
    the two, a translation may say both alike."""
    if depth == 0:
        return translate("MainWindow", "nothing waiting to sync")
    return one if depth == 1 else many.format(depth=depth)


def offline_text(depth: int, oldest_s: float | None) -> str:
    waiting = _waiting(depth, translate("MainWindow", "1 change waiting to sync"),
                       translate("MainWindow", "{depth} changes waiting to sync"))
    if depth and oldest_s is not None:
        waiting += translate("MainWindow", " (oldest {age})").format(age=format_age(oldest_s))
    # The counts first: on a narrow screen the line is cut at the end, and the reassurance can go, not them.
    return translate("MainWindow", "OFFLINE · {waiting} · keep working, taps are saved here").format(waiting=waiting)


def lan_only_text(link: UpstreamLink, now: float) -> str:
    """The kitchen hub serving this screen has lost the internet: the LAN screens stay in sync with each other,
    but orders made online cannot arrive and the kitchen's taps wait at the hub (issue 14)."""
    down = f" {format_age(now - link.down_since.timestamp())}" if link.down_since is not None else ""
    waiting = link.taps_waiting + link.pos_writes_waiting  # at the hub, for upstream
    text = translate("MainWindow", "no internet{down}").format(down=down)
    return text + (translate("MainWindow", " · {waiting} to sync").format(waiting=waiting) if waiting else "")


def stale_text(silent_s: float) -> str:
    """The socket looks fine but the server's heartbeat stopped (sync/realtime/watchdog.py): orders may be stuck
    on the way, and the cook must know the rail may be missing some (Square's screens said nothing for 45 min)."""
    text = translate("MainWindow", "No new orders heard for {seconds} s — reconnecting")
    return text.format(seconds=f"{silent_s:.0f}")


def sign_in_text(depth: int, account: str | None) -> str:
    """The server refused this screen and it cannot sign itself in again: what a person must do, in words."""
    waiting = _waiting(depth, translate("MainWindow", "1 tap waiting, saved here"),
                       translate("MainWindow", "{depth} taps waiting, saved here"))
    if account:
        whose = translate("MainWindow", "the password for {account}").format(account=account)
    else:
        whose = translate("MainWindow", "this screen's password")
    return translate("MainWindow", "SIGN-IN NEEDED · {waiting} · tap SETTINGS and enter {whose}").format(
        waiting=waiting, whose=whose
    )


class TopBar(QFrame):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.setObjectName("TopBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 4)  # the buttons' own height is the finger's; the rest is the cards'
        layout.setSpacing(10)
        self.title = PanesTitle(title)  # a split screen's "GRILL | EXPO" keeps both names readable
        self.title.setObjectName("ScreenTitle")
        self.title.setMinimumWidth(80)  # "GRILL · FRY · COLD" may be cut on a narrow screen; the status never is
        self.count = ShorteningLabel()
        # "12 open · 2 on hold" gives way on a narrow screen (to "12 open", then "12"), so the buttons and the sync
        # state never do.
        self.count.setMinimumWidth(1)  # 0 would mean "its whole text" to the layout
        self.connection = QLabel()
        self.connection.setObjectName("ConnectionPill")
        self.queue = QLabel()
        self.queue.setObjectName("QueueLabel")
        # Never squeezed: "3 to sync · oldest 1:20" cut short would hide the one number that matters offline.
        self.queue.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.clock = QLabel()
        self.clock.setObjectName("Clock")
        self.recall = QPushButton(translate("MainWindow", "RECALL"))
        self.recall.setCheckable(True)
        self.settings = QPushButton(translate("MainWindow", "SETTINGS"))
        self.all_day = QPushButton(translate("MainWindow", "ALL DAY"))
        self.all_day.setCheckable(True)
        self.eighty_six = QPushButton(translate("MainWindow", "86"))
        self.eighty_six.setCheckable(True)
        for widget in (self.title, self.count):
            layout.addWidget(widget)
        layout.addStretch(0)  # the room a strip takes (`add_strip`); with none showing, the gap before the status
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

    def add_strip(self, strip: QLabel) -> None:
        """Put a strip (the 86 list) in the bar, between the count and the status, taking the room there: in the
        bar, not under it, so it appearing moves no card under a cook's finger (issue 16). One line, cut at
        the end when long; the panel behind the 86 button has the whole list."""
        layout = self.layout()
        assert isinstance(layout, QHBoxLayout)
        strip.setWordWrap(False)
        strip.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # Never what sets the window's minimum width: on a 1366-pixel screen with a long sync line it gets what
        # is left (the panel behind the 86 button has the whole list), and at least its `least_width` ("86" and
        # the count) where the title and the ticket count can give that up (`_keep_strip_room`).
        strip.setMinimumWidth(0)
        layout.insertWidget(layout.indexOf(self.count) + 1, strip, 1)
        self._strip = strip

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize, QEvent.Type.Show):
            self._keep_strip_room()
        return handled

    def minimumSizeHint(self) -> QSize:
        # The strip's room is kept only out of the width the bar has: it never holds a window wider than the
        # screen it is moved to (1920 -> 1366), where the room is worked out again.
        hint = super().minimumSizeHint()
        strip = getattr(self, "_strip", None)
        return hint if strip is None else QSize(max(0, hint.width() - strip.minimumWidth()), hint.height())

    def _keep_strip_room(self) -> None:
        """Offline at 1366 pixels the status left the 86 strip nothing and it vanished (issue 16): the strip keeps
        the room for "86" and the count that the title and the count can give it within the bar's width now. A minimum
        only where the bar has that room, so the strip never widens the window past the screen."""
        strip, layout = getattr(self, "_strip", None), self.layout()
        least = getattr(strip, "least_width", None)
        if strip is None or least is None or layout is None:
            return
        others = layout.minimumSize().width() - strip.minimumWidth()
        wanted = least() if strip.isVisibleTo(self) and others + least() <= self.contentsRect().width() else 0
        if wanted != strip.minimumWidth():
            strip.setMinimumWidth(wanted)

    def showEvent(self, event: QShowEvent) -> None:
        # A button is never narrower than its word (the style sheet's own minimum is padding only, so that the
        # buttons are not all as wide as the widest): on a narrow screen the title and the count give way.
        for button in self.buttons:
            button.ensurePolished()
            button.setMinimumWidth(button.sizeHint().width())
        # A one-station title ("GRILL") whole, a long one ("GRILL · FRY · COLD") cut to 140 px with "…"; the
        # count ("12 open · 2 on hold", cut with "…") gives way first.
        self.title.ensurePolished()
        self.title.setMinimumWidth(min(self.title.sizeHint().width(), TITLE_MAX_MIN_PX))
        super().showEvent(event)

    def set_connection(self, state: ConnectionState, *, signed_out: bool = False, lan_only: bool = False) -> None:
        """`lan_only`: live on a kitchen hub that has lost the internet (the LAN works; online orders cannot come)."""
        # Signed out, the socket may still be open on the last token: the screen is not syncing all the same.
        if signed_out:
            text, value = translate("MainWindow", "● SIGNED OUT"), ConnectionState.OFFLINE.value
        elif lan_only and state is ConnectionState.LIVE:
            text, value = translate("MainWindow", "● LAN ONLY"), "lan_only"
        else:
            text, value = translate("MainWindow", CONNECTION_TEXT[state]), state.value
        self.connection.setText(text)
        self.connection.setProperty("state", value)
        # A dynamic property only restyles after the style is re-applied.
        self.connection.style().unpolish(self.connection)
        self.connection.style().polish(self.connection)


def _foot_rect(grid: TicketGrid, widget: QWidget, bottom: int) -> QRect:
    """Full width of the card area, ending at `bottom` (grid coordinates), as tall as `widget` wants."""
    height = widget.heightForWidth(grid.width()) if widget.hasHeightForWidth() else -1
    height = max(height, widget.sizeHint().height())
    return QRect(0, max(0, bottom - height), grid.width(), height)


class NoticeBanner(QLabel):
    """A one-off message the cook should read once (e.g. taps kept from before a re-point); a tap hides it.

    Laid over the foot of the card area (above a refusal, when one shows), like the refusal: it appearing
    moves no card under a cook's finger (issue 16)."""

    def __init__(self, over: TicketGrid) -> None:
        super().__init__(over)
        self._grid = over
        self._below: QWidget | None = None
        self.setObjectName("NoticeBanner")
        self.setWordWrap(True)
        self.setMinimumWidth(200)
        over.installEventFilter(self)
        self.hide()

    def stack_over(self, below: QWidget) -> None:
        """Stand above `below` (the refusal bar) while it shows."""
        self._below = below
        below.installEventFilter(self)

    def place(self) -> None:
        grid = self._grid
        bottom = grid.page_bar.geometry().top() if grid.page_bar.isVisible() else grid.height()
        if self._below is not None and self._below.isVisible():
            bottom = self._below.geometry().top()
        self.setGeometry(_foot_rect(grid, self, bottom))
        self.raise_()

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.show()
        self.place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest, QEvent.Type.Show, QEvent.Type.Hide,
                            QEvent.Type.Move) and self.isVisible():
            self.place()
        return False

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
        self.ok = QPushButton(translate("MainWindow", "OK"))
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
        more = translate("MainWindow", "  (+{n} more)").format(n=len(rejected) - 1) if len(rejected) > 1 else ""
        kind_value = self.entry.intent.kind.value
        kind = translate("Intent", INTENT_NAMES.get(kind_value, kind_value.replace("_", " ")))
        # The reason is the server's own words: shown as it came.
        reason = self.entry.reason or translate("MainWindow", "refused by the server")
        text = translate("MainWindow", "Not done: {what}. {reason}").format(what=kind, reason=reason)
        self.label.setText(text + more)
        self.place()
        self.show()
        self.raise_()

    def place(self) -> None:
        """Full width at the bottom of the card area, just above the page bar."""
        grid = self._grid
        bottom = grid.page_bar.geometry().top() if grid.page_bar.isVisible() else grid.height()
        self.setGeometry(_foot_rect(grid, self, bottom))

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
        compact: bool = False,
        second: tuple[Screen, TicketDelegate] | None = None,
        names: tuple[str, str] = ("", ""),
        bridge: EngineBridge | None = None,
    ) -> None:
        """`compact`: expo starts in compact rows (the top bar's COMPACT button switches). `second`: a split
        screen's second pane beside the first (issue 19, item 5), its screen and its cards' delegate; `names`:
        the two panes' names, shown in their page bars. `bridge`: the session's hub for its engine's reports,
        which the window listens to (default: the one its screen was given)."""
        super().__init__()
        self.setWindowTitle(translate("MainWindow", "KDS · {title}").format(title=title))
        self.screen = screen
        self.bridge = bridge or screen.bridge
        self.engine = self.bridge.engine
        self._wall_clock = wall_clock
        self._detached = False
        self.top = TopBar(title)
        # In the page bar under the cards, in place of the day's prep figures: a strip above the grid would push
        # every card down under a cook's finger the moment the network drops (issue 16). One line, cut at the end
        # on a narrow screen (the counts come first) with "…", never what sets the window's minimum width.
        self.offline_banner = FittedLabel()
        self.offline_banner.setObjectName("OfflineBanner")
        self.offline_banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.offline_banner.hide()
        # The same red strip says so when the server refused this screen and a person must sign it in again.
        self._sign_in_needed = False
        self._sign_in_account: str | None = None
        # The first pane's screen and grid: the refusals, notices, prep times and MOVE's picker are its.
        self.grid = TicketGrid(screen.model, delegate, scroll=scroll)
        self.panes = [Pane(screen, self.grid, names[0] if second is not None else None)]
        if second is not None:
            self.panes.append(Pane(second[0], TicketGrid(second[0].model, second[1], scroll=scroll), names[1]))
        self._active = 0  # the pane the bump bar's keys act on
        # Over the foot of the cards, not above them: a refusal arriving while a finger is down moves no card.
        self.rejection_banner = RejectionBanner(self.grid)
        self.notice = NoticeBanner(self.grid)  # over the foot of the cards too, above a refusal
        self.notice.stack_over(self.rejection_banner)
        self.drawer = RecallDrawer()
        self.drawer.hide()
        # Today's ticket times: this screen's stations, or every station on expo and all-stations screens.
        # Today's ticket times of the stations shown (every station's where a pane is expo or all stations).
        prep = {s for p in self.panes for s in p.screen.stations}
        if any(not p.screen.stations for p in self.panes):
            prep = set()
        self.prep_strip = PrepStrip(self.engine.prep_times, tuple(sorted(prep)) or None, delegate.fonts.base_pt)
        self.all_day = AllDayPanel(delegate.fonts.base_pt)
        self.all_day.hide()
        self.eighty_six_strip = EightySixStrip()
        self.eighty_six_panel = EightySixPanel()
        self.eighty_six_panel.hide()

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.grid, 1)
        for pane in self.panes[1:]:
            separator = QFrame()
            separator.setObjectName("PaneSeparator")
            separator.setFixedWidth(4)
            body.addWidget(separator)
            body.addWidget(pane.grid, 1)
        body.addWidget(self.all_day)
        body.addWidget(self.eighty_six_panel)
        body.addWidget(self.drawer)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        # Today's prep times share the page bar under the cards (one bar at the foot instead of a strip on top):
        # the cards get its height (issue 16's density goal at 1366x768).
        self.grid.page_bar.add_beside(self.prep_strip)
        self.grid.page_bar.add_beside(self.offline_banner)
        # The 86 list in the top bar, not a strip under it: nothing above the grid comes or goes (issue 16).
        self.top.add_strip(self.eighty_six_strip)
        column.addWidget(self.top)
        column.addLayout(body, 1)
        self.setCentralWidget(central)

        for pane in self.panes:
            self._connect_pane(pane)
        self.top.eighty_six.toggled.connect(self._toggle_eighty_six)
        self.eighty_six_panel.close_requested.connect(lambda: self.top.eighty_six.setChecked(False))
        self.eighty_six_panel.eighty_six_requested.connect(screen.eighty_six)
        self.eighty_six_panel.back_requested.connect(lambda name: screen.eighty_six(name, available=True))
        self.top.recall.toggled.connect(self._toggle_drawer)
        # Expo only: one row an order with a chip a station, or whole cards. In the page bar beside NEXT, where
        # there is room at 1366 pixels (the top bar has none to spare).
        self.compact_button = QPushButton(translate("MainWindow", "COMPACT"))
        self.compact_button.setCheckable(True)
        self.compact_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the bump bar's keys stay with the cards
        (self._expo_panes() or self.panes)[0].grid.page_bar.add_button(self.compact_button)
        self.compact_button.setVisible(self._expo_panes() != [])
        self.compact_button.setChecked(compact and self._expo_panes() != [])
        self.set_compact(self.compact_button.isChecked())
        self.compact_button.toggled.connect(self.set_compact)
        # MOVE (issue 19, item 2): the next tap on a ticket, or on one item of it, asks which station it goes to.
        self.move_button = QPushButton(translate("MainWindow", MOVE_TEXT))
        self.move_button.setCheckable(True)
        self.move_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.grid.page_bar.add_button(self.move_button)
        self.move_button.toggled.connect(self._move_mode)
        self.picker = StationPicker(self.grid)
        self.picker.chosen.connect(self._move_to)
        self.picker.cancelled.connect(lambda: self.move_button.setChecked(False))
        # The pane, the ticket's key and the item (None: the ticket).
        self._moving: tuple[Pane, str, UUID | None] | None = None
        self.top.all_day.toggled.connect(self._toggle_all_day)
        self.all_day.close_requested.connect(lambda: self.top.all_day.setChecked(False))
        self.top.settings.clicked.connect(self.settings_requested)
        self.drawer.close_requested.connect(lambda: self.top.recall.setChecked(False))
        self.drawer.recall_requested.connect(self._recall)
        self.rejection_banner.dismissed.connect(screen.dismiss)
        screen.rejections_changed.connect(self.rejection_banner.show_rejections)  # one engine: one list of refusals
        for pane in self.panes:
            pane.screen.refreshed.connect(self._after_refresh)
        self.panes[0].set_active(True)
        self._name_stations()

        # Bound methods of this window, not lambdas: Qt drops each connection when the window is deleted.
        bridge = self.bridge
        self._listening: list[QMetaObject.Connection] = [
            bridge.connection_changed.connect(self._status_changed),
            bridge.queue_depth_changed.connect(self._status_changed),
            bridge.hub_upstream_changed.connect(self._status_changed),
            bridge.stale_changed.connect(self._status_changed),
            bridge.eighty_sixed_changed.connect(self._menu_changed),
            bridge.recipes_changed.connect(self._recipes_changed),
        ]
        self._menu_changed(bridge.eighty_sixed)
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
        for pane in self.panes:
            pane.screen.model.tick()
        self._update_count()
        self._update_clock()
        self.update_status()

    def _update_clock(self) -> None:
        self.top.clock.setText(datetime.fromtimestamp(self._wall_clock()).strftime("%H:%M"))

    def _status_changed(self, _value: object) -> None:
        self.update_status()

    def update_status(self) -> None:
        # The bridge's last values: the ones its signals carried, so the bar shows what was announced.
        state = self.bridge.connection_state
        depth = self.bridge.queue_depth
        oldest = self.engine.oldest_pending_age()
        link = self.bridge.hub_upstream
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
        elif (silent := self.engine.realtime.silent_for()) is not None:
            self._show_offline(stale_text(silent))  # the same slot: no card moves (counted up by the 1 s tick)
        else:
            self._show_offline(None)

    def _show_offline(self, text: str | None) -> None:
        """The red strip in the page bar, or the day's prep figures there when there is nothing to say."""
        if text is not None:
            self.offline_banner.setText(text)
        self.prep_strip.setVisible(text is None)
        self.offline_banner.setVisible(text is not None)

    def show_notice(self, text: str) -> None:
        self.notice.show_text(text)

    def set_sign_in_needed(self, needed: bool, account: str | None = None) -> None:
        """Show (or clear) the sign-in strip: the screen keeps working and queueing taps until someone enters
        the device account's password in SETTINGS."""
        self._sign_in_needed, self._sign_in_account = needed, account
        self.update_status()

    def _after_refresh(self) -> None:
        self._prep_dirty = True
        self._name_stations()
        self._update_count()
        if self.eighty_six_panel.isVisible():
            self._fill_eighty_six_panel()
        if self.drawer.isVisible():
            self.drawer.set_tickets(self.recently_bumped())
        if self.top.all_day.isChecked():  # hidden, it is recounted when opened: no work for a panel nobody sees
            self._count_all_day()

    def _update_count(self) -> None:
        """The top bar's "12 open · 2 on hold": after each change, and on the tick (a ticket waiting on fire timing
        becomes open work when its first item fires, with nothing changing on the server)."""
        shown = {t.key: (t, pane.screen.model) for pane in self.panes for t in pane.screen.model.tickets()}
        # A held-only ticket is on the rail (greyed) but is not work until its course is fired; nor is a ticket
        # whose every item waits on fire timing (HELD, FIRE NOW) until its first item fires.
        held = sum(1 for t, m in shown.values() if t.on_hold or (t.fires and t.fires_in(m.waits(t)) is not None))
        count = translate("MainWindow", "{n} open").format(n=len(shown) - held)
        if held:
            # On a narrow screen with a long sync line: "12 open", then "12" (a number cut to "12 o…" says less).
            whole = count + translate("MainWindow", " · {n} on hold").format(n=held)
            self.top.count.set_forms(whole, count, str(len(shown) - held))
        else:
            self.top.count.set_forms(count, str(len(shown)))

    def _name_stations(self) -> None:
        """A screen listing several stations (an all-stations screen, or a list of them) shows one card per
        station of an order, all with the same number and age: each header names its station ("#101 · GRILL")."""
        for pane in self.panes:
            several = not pane.screen.expo and len(pane.screen.station_list()) > 1
            if pane.grid.delegate.set_show_station(several):
                pane.grid.cards_changed()

    # ------------------------------------------------------------ panes (split screen)

    @property
    def active(self) -> Pane:
        """The pane the bump bar's keys act on: the one last touched, or chosen by the pane key."""
        return self.panes[self._active]

    def activate(self, pane: Pane) -> None:
        self._active = self.panes.index(pane)
        for each in self.panes:
            each.set_active(each is pane)
        pane.grid.setFocus()

    def switch_pane(self) -> None:
        """The bump bar's pane key: the keys act on the other pane (one pane: nothing to switch)."""
        self.activate(self.panes[(self._active + 1) % len(self.panes)])

    def _connect_pane(self, pane: Pane) -> None:
        grid = pane.grid
        grid.action_tapped.connect(lambda key: self._action_tapped(key, pane))
        grid.item_tapped.connect(lambda key, item_id: self._item_tapped(key, item_id, pane))
        grid.card_tapped.connect(lambda key: self._card_tapped(key, pane))
        grid.control_tapped.connect(lambda key, control: self._control_tapped(key, control, pane))
        grid.viewport().installEventFilter(self)
        # A tap on one pane changes what the other shows (a ticket bumped on the grill is done on expo; started, it
        # moves from NEW to IN PROGRESS) at once, offline too: the engine reports only the server's changes.
        pane.screen.intent_submitted.connect(lambda intent: self._tapped_elsewhere(pane, intent))

    def _tapped_elsewhere(self, tapped: Pane, intent: object) -> None:
        order_id = getattr(intent, "order_id", None)
        for pane in self.panes:
            if pane is not tapped:
                pane.screen.refresh(None if order_id is None else {order_id}, tapped=True)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress:
            pane = next((p for p in self.panes if p.grid.viewport() is watched), None)
            if pane is not None and pane is not self.active:
                self.activate(pane)  # the bump bar's keys follow the cook's finger
        return False

    def _expo_panes(self) -> list[Pane]:
        return [p for p in self.panes if p.screen.expo]

    def work_tickets(self) -> list[Ticket]:
        """The tickets on this window, each once: what the all-day counts are of. Beside a station pane, expo's
        whole orders would count that station's dishes twice, so expo counts only when alone."""
        panes = [p for p in self.panes if not p.screen.expo] or self.panes
        return list({t.key: t for p in panes for t in p.screen.model.tickets()}.values())

    def recently_bumped(self) -> list[tuple[Ticket, datetime]]:
        """What RECALL lists: the tickets bumped on any pane lately, each once, the latest first."""
        found = {t.key: (t, when) for p in self.panes for t, when in p.screen.recently_bumped()}
        return sorted(found.values(), key=lambda pair: pair[1], reverse=True)

    # ------------------------------------------------------------ expo's compact rows

    def set_compact(self, compact: bool) -> None:
        """Expo: one row an order ("#1042 · GRILL ✓ · FRY 2/3 · 04:12 · SERVE") or whole cards; the ticket at the
        top of the page stays in view."""
        expo = self._expo_panes()
        compact = compact and expo != []
        if self.compact_button.isChecked() != compact:
            self.compact_button.setChecked(compact)  # toggled comes back here
            return
        for pane in expo:
            if pane.grid.delegate.set_compact(compact):
                pane.grid.reflow()  # another card width: other columns
                pane.grid.cards_changed()

    # ------------------------------------------------------------ move (transfer)

    def _action_tapped(self, key: str, pane: Pane) -> None:
        if self.move_button.isChecked():
            self.pick_station(key, pane=pane)
        else:
            pane.screen.action(key)

    def _item_tapped(self, key: str, item_id: UUID, pane: Pane) -> None:
        if self.move_button.isChecked():
            self.pick_station(key, item_id, pane=pane)
        else:
            pane.screen.item(key, item_id)

    def _control_tapped(self, key: str, control: str, pane: Pane) -> None:
        if self.move_button.isChecked():
            self.pick_station(key, pane=pane)
        else:
            pane.screen.control(key, control)

    def _card_tapped(self, key: str, pane: Pane) -> None:
        # MOVE says "tap a ticket": its header (number, table) is where a cook taps. Otherwise a header does nothing.
        if self.move_button.isChecked():
            self.pick_station(key, pane=pane)

    def _move_mode(self, on: bool) -> None:
        self.move_button.setText(translate("MainWindow", MOVE_ARMED_TEXT if on else MOVE_TEXT))
        if not on:
            self._moving = None
            self.picker.hide()

    def pick_station(self, key: str, item_id: UUID | None = None, *, pane: Pane | None = None) -> None:
        """MOVE, then a tap on a ticket (or one item): the stations it can go to, as buttons over the cards.
        `pane`: where the ticket is (default: the pane the bump bar's keys act on)."""
        pane = pane or self.active
        ticket = pane.screen.ticket(key)
        if ticket is None:
            return
        number = ticket.order.number
        if item_id is not None:
            item = next((i for i in ticket.order.order_items if i.id == item_id), None)
            if item is None:
                return
            if not is_open(item):
                status = translate("ItemStatus", ITEM_STATUS_NAMES.get(item.status.value, item.status.value))
                text = translate("MainWindow", "{item} is {status}: only items still to cook can move")
                self.show_notice(text.format(item=item.name, status=status))
                return
            title = translate("MainWindow", "Move {item} of #{number} from {station} to:").format(
                item=item.name, number=number, station=item.station.upper())
        elif ticket.station is None:
            title = translate("MainWindow", "Move the open items of #{number} to:").format(number=number)
        else:
            title = translate("MainWindow", "Move #{number} from {station} to:").format(
                number=number, station=ticket.station.upper())
        self._moving = (pane, key, item_id)
        self.picker.ask(title, pane.screen.transfer_choices(ticket, item_id))

    def _move_to(self, station: str) -> None:
        moving, self._moving = self._moving, None
        self.move_button.setChecked(False)  # hides the picker
        if moving is not None and (ticket := moving[0].screen.ticket(moving[1])) is not None:
            moving[0].screen.transfer(ticket, station, moving[2])

    # ------------------------------------------------------------ all day

    def _toggle_all_day(self, shown: bool) -> None:
        if shown:
            self._count_all_day()
        self.all_day.setVisible(shown)

    def _count_all_day(self) -> None:
        self.all_day.update_counts(self.work_tickets(), self.bridge.recipes)

    def _recipes_changed(self, _recipes: object) -> None:
        """A recipe changed (an admin, pushed live): the ingredient counts follow without waiting for a ticket."""
        if self.top.all_day.isChecked():
            self._count_all_day()

    def toggle_all_day(self) -> None:
        """The bump bar's all-day key: the same as the top bar's button, which shows the state."""
        self.top.all_day.toggle()

    # ------------------------------------------------------------ 86

    def _menu_changed(self, names: tuple[str, ...]) -> None:
        """The 86 list changed (here, on another screen, or offline here): strip, panel and ticket tags."""
        self.eighty_six_strip.set_names(names)
        for pane in self.panes:
            if pane.grid.delegate.set_eighty_sixed(names):
                pane.grid.cards_changed()  # tags change line widths, so card heights may change
        if self.eighty_six_panel.isVisible():
            self._fill_eighty_six_panel()

    def _fill_eighty_six_panel(self) -> None:
        self.eighty_six_panel.set_items(self.bridge.eighty_sixed, self.menu_names())

    def menu_names(self) -> list[str]:
        """The dishes still to cook on any pane, for the 86 panel."""
        return sorted({n: None for p in self.panes for n in p.screen.menu_names()}, key=str.lower)

    def _toggle_eighty_six(self, shown: bool) -> None:
        if shown:
            self._fill_eighty_six_panel()
        self.eighty_six_panel.setVisible(shown)

    # ------------------------------------------------------------ recall

    def _toggle_drawer(self, shown: bool) -> None:
        if shown:
            self.drawer.set_tickets(self.recently_bumped())
        self.drawer.setVisible(shown)

    def _recall(self, ticket: Ticket) -> None:
        self.screen.recall(ticket)
        self.drawer.set_tickets(self.recently_bumped())

    # ------------------------------------------------------------ teardown

    def detach(self) -> None:
        """Stop listening to the engine (before it stops, or before another engine replaces it)."""
        self._detached = True
        for pane in self.panes:
            pane.screen.detach()
        self.timer.stop()
        for connection in self._listening:
            QObject.disconnect(connection)
        self._listening = []

    def closeEvent(self, event: QCloseEvent) -> None:
        by_user = not self._detached  # a session closing its own window is not the cook closing the app
        self.detach()
        super().closeEvent(event)
        if by_user:
            self.closed.emit()
