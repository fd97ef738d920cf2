"""The screen in Amharic through a live embedded companion: every word on the cook's window, its side panels,
the cards it paints, SETTINGS (and after pairing), the PIN prompt, the station picker, the not-connected window
and the customer board is in Ethiopic script; only what the orders and the server name (dishes, modifiers,
allergens, stations, numbers) and technical tokens stay as they are. And the picker in SETTINGS switches the
screen's language, which the next start keeps."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget

from kds_app.cards.ticket_grid import TicketGrid
from kds_app.media.language import use_language
from kds_app.panels.pin_prompt import PinPrompt
from kds_app.startup.config import AppConfig, load_config
from kds_app.startup.pin import hash_pin
from kds_app.windows.app import App
from kds_app.windows.not_connected import NotConnectedWindow
from kds_backend.auth.pairing import create_code, format_code
from kds_backend.db.engine import make_engine
from kds_backend.db.writer import write_transaction
from tests.helpers.app_screens import pos_order, screen
from tests.helpers.app_sessions import post_order, session_up
from tests.kds_app.conftest import TIMEOUT_S, signal_emitted, tap, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Technical tokens an installer types or reads as they are, in any language.
TECHNICAL = (
    "kds-backend pair --restaurant … --station grill",
    "kitchen-hub.local:8000",
    "ABCD-EFGH",
    "grill@kitchen.example",
    "https://",
    "http://",
    "anon",
    "Supabase",
    "KDS",
)


@pytest.fixture
def amharic(qapp: QApplication) -> Iterator[None]:
    yield
    use_language("en")  # the next test's windows in English again


def _english(text: str, allowed: set[str]) -> list[str]:
    text = unescape(re.sub(r"<[^>]+>", " ", text))
    # A line cut short ends in "…" (a name cut to "Pri…"): the cut word counts as the name it starts.
    text = re.sub(r"([A-Za-z]+)…", lambda m: " " if _starts_a_word(m.group(1), allowed) else m.group(0), text)
    for token in sorted(allowed | set(TECHNICAL), key=len, reverse=True):
        text = text.replace(token, " ")
    return LATIN_WORD.findall(text)


def _starts_a_word(cut: str, allowed: set[str]) -> bool:
    return any(re.search(rf"\b{re.escape(cut)}", token) for token in allowed)


def _shown_texts(top: QWidget) -> list[str]:
    texts = [top.windowTitle()]
    for widget in [top, *top.findChildren(QWidget)]:
        if not widget.isVisibleTo(top) and widget is not top:
            continue
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QLineEdit):
            texts.append(widget.placeholderText())
    return [t for t in texts if t]


def _painted(grid: TicketGrid, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every string the grid's painting code draws (the cards, the page's bands), from a fresh render: the cards'
    layouts are dropped first, so no card is a cached picture drawn before the recording started."""
    grid.delegate.set_font_size(grid.delegate.fonts.base_pt)
    grid.relayout(remeasure=True)
    drawn: list[str] = []
    real = QPainter.drawText

    def record(self: QPainter, *args: object) -> None:
        drawn.append(str(args[-1]))
        real(self, *args)  # type: ignore[call-overload]

    with monkeypatch.context() as patch:
        patch.setattr(QPainter, "drawText", record)
        grid.grab()
    return drawn


def _order_words(app: App) -> set[str]:
    """What the orders and the server say: dish and modifier names, notes, allergens, people, stations."""
    assert app.session is not None
    words: set[str] = set()
    for ticket in app.session.screen.model.tickets():
        order = ticket.order
        words |= {w for w in (order.customer_name, order.server_name, order.notes) if w}
        for item in order.order_items:
            words |= {item.name, item.station, item.station.upper(), *item.modifiers, *item.allergens}
            words |= {a.upper() for a in item.allergens} | {f"“{item.notes}”" if item.notes else ""}
    words |= {s for s in app.session.known_stations or ()} | {s.upper() for s in app.session.known_stations or ()}
    return {w for w in words if w}


def _check(where: str, texts: list[str], allowed: set[str]) -> None:
    left = {text: found for text in texts if (found := _english(text, allowed))}
    assert left == {}, f"English left on {where}"


async def test_every_visible_word_is_amharic(tmp_path: Path, amharic: None, monkeypatch: pytest.MonkeyPatch) -> None:
    config = AppConfig(sound=False, language="am", allow_rush=True)
    app = App(config, config_file=tmp_path / "config.json", data_dir=tmp_path / "data", ready_board=True)
    running = asyncio.ensure_future(app.run())
    try:
        await session_up(app)
        session = app.session
        assert session is not None and app.embedded is not None
        for number in ("501", "502", "503", "504"):
            await post_order(app, number)
        await until(session.engine, lambda: session.screen.model.rowCount() >= 4)
        await session.ask_stations()
        window, screen = session.window, session.screen
        tickets = screen.model.tickets()
        screen.action(tickets[0].key)
        screen.action(tickets[0].key)  # bumped: the recall drawer has a row
        screen.action(tickets[1].key)  # touched once: TAP AGAIN TO BUMP
        screen.control(tickets[2].key, "RUSH")
        screen.control(tickets[2].key, "RUSH")
        screen.eighty_six(tickets[3].order.order_items[0].name)
        await session.engine.queue_depth.wait_for(0)
        await session.engine.eighty_sixed.wait_for(lambda names: len(names) == 1)
        allowed = _order_words(app)

        assert window.top.settings.text() == "ቅንብሮች"
        _check("the cook's window", _shown_texts(window), allowed)
        _check("the cards", _painted(window.grid, monkeypatch), allowed)
        for button, panel in (
            (window.top.all_day, window.all_day),
            (window.top.recall, window.drawer),
            (window.top.eighty_six, window.eighty_six_panel),
        ):
            button.setChecked(True)
            assert panel.isVisible()
            _check(panel.objectName(), _shown_texts(window) + _painted(window.grid, monkeypatch), allowed)
            button.setChecked(False)
        window.move_button.setChecked(True)
        window.pick_station(screen.model.tickets()[0].key)
        assert window.picker.isVisible()
        _check("the station picker", _shown_texts(window.picker), allowed)
        window.move_button.setChecked(False)
        assert session.board is not None
        _check("the ready board", _shown_texts(session.board), allowed)

        dialog = app.open_settings()
        allowed.add("English")  # the picker names each language in itself
        _check("SETTINGS", _shown_texts(dialog), allowed)
        assert dialog.language_buttons["am"].isChecked() and dialog.language_buttons["am"].text() == "አማርኛ"
        code = _pairing_code(app.embedded.data_dir / "companion.db")
        dialog.pair_code_edit.setText(f"{app.embedded.url.removeprefix('http://')} {code}")
        dialog.pair_button.click()
        (outcome,) = await signal_emitted(dialog.checked)
        assert isinstance(outcome, str) and outcome.startswith("ተጣምሯል"), outcome
        _check("SETTINGS after pairing", _shown_texts(dialog), allowed | {"local"})  # the restaurant's id
        dialog.reject()

        prompt = PinPrompt(hash_pin("1234"), window)
        prompt.show()
        prompt.submit()  # wrong (empty): the error line too
        _check("the PIN prompt", _shown_texts(prompt), allowed)
        prompt.close()
        prompt.deleteLater()
        lost = NotConnectedWindow("")
        _check("the not-connected window", _shown_texts(lost), allowed)
        lost.deleteLater()
    finally:
        app.request_stop()
        await asyncio.wait_for(running, TIMEOUT_S)


async def test_expo_cards_and_compact_rows_are_amharic(
    companion: LiveServer, tmp_path: Path, amharic: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_language("am")
    ready = await pos_order(companion.url, "601", [("Burger", "grill"), ("Fries", "fry")])
    await pos_order(companion.url, "602", [("Burger", "grill"), ("Fries", "fry")])
    await pos_order(
        companion.url,
        "603",
        [
            {"name": "Soup", "station": "saute", "course": 1},
            {"name": "Steak", "station": "grill", "course": 2, "held": True},
        ],
    )
    async with screen(companion, tmp_path / "expo", "expo-1", expo=True) as expo:
        await until(expo.engine, lambda: expo.screen.model.rowCount() == 3)
        card = next(t for t in expo.screen.model.tickets() if t.order.id == ready)
        for item in card.order.order_items:
            expo.screen.item(card.key, item.id)  # every station done: SERVE
        await expo.engine.queue_depth.wait_for(0)
        card = next(t for t in expo.screen.model.tickets() if t.order.id == ready)
        expo.screen.action(card.key)  # touched once: TAP AGAIN TO SERVE
        allowed = {"Burger", "Fries", "Soup", "Steak", "GRILL", "FRY", "SAUTE"}
        painted = _painted(expo.window.grid, monkeypatch)
        assert {"#601", "#602", "#603"} <= set(painted)  # every card drawn afresh while recorded
        assert "ለማቅረብ እንደገና ንካ" in painted  # TAP AGAIN TO SERVE
        assert {"ዙር 2 ጀምር", "ዙር 2"} & set(painted)  # FIRE COURSE 2, or FIRE C2 on a narrow card
        _check("expo's cards", _shown_texts(expo.window) + painted, allowed)
        expo.window.set_compact(True)
        _check("expo's compact rows", _shown_texts(expo.window) + _painted(expo.window.grid, monkeypatch), allowed)


def _pairing_code(database: Path) -> str:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with write_transaction(engine) as w:
            code = create_code(
                w.conn,
                "local",
                role="kds",
                stations=["grill"],
                name="grill screen",
                now=datetime.now(UTC),
                valid_for=timedelta(minutes=10),
            )
    finally:
        engine.dispose()
    return format_code(code)


async def test_the_picker_switches_the_language_and_the_next_start_keeps_it(tmp_path: Path, amharic: None) -> None:
    config_file = tmp_path / "config.json"
    app = App(AppConfig(sound=False), config_file=config_file, data_dir=tmp_path / "data")
    running = asyncio.ensure_future(app.run())
    try:
        await session_up(app)
        assert app.session is not None and app.session.window.top.settings.text() == "SETTINGS"
        dialog = app.open_settings()
        assert dialog.language_buttons["en"].isChecked()
        app.session_started.clear()
        for _ in range(3):  # a few turns of the event loop (no time passes): the shown dialog lays itself out,
            await asyncio.sleep(0)  # so the scroll below is to where the button stays
        dialog.fields_area.ensureWidgetVisible(dialog.language_buttons["am"])
        await tap(dialog.language_buttons["am"], dialog.language_buttons["am"].rect().center())
        assert dialog.language_buttons["am"].isChecked()
        await tap(dialog.save_button, dialog.save_button.rect().center())
        await session_up(app)  # Save starts the screen again, in Amharic
        assert app.session is not None and app.session.window.top.settings.text() == "ቅንብሮች"
        assert app.session.window.top.recall.text() == "መልስ"
    finally:
        app.request_stop()
        await asyncio.wait_for(running, TIMEOUT_S)
    assert load_config(config_file).language == "am"
    use_language("en")
    again = App(load_config(config_file), config_file=config_file, data_dir=tmp_path / "data")
    running = asyncio.ensure_future(again.run())
    try:
        await session_up(again)
        assert again.session is not None and again.session.window.top.settings.text() == "ቅንብሮች"
    finally:
        again.request_stop()
        await asyncio.wait_for(running, TIMEOUT_S)
