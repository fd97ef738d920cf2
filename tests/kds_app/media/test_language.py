"""The translations as shipped: every string of the screen translated, the compiled `.qm` in step with its `.ts`,
placeholders kept, and the shipped font able to draw every character the translations use."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QFont, QFontInfo, QFontMetrics, QRawFont, QTextLayout
from PySide6.QtWidgets import QApplication

import resources
from kds_app.cards.card_layout import CardFonts
from kds_app.media.language import available_languages, load_fonts, native_name

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _messages(ts: Path) -> list[tuple[str, str, ET.Element]]:
    root = ET.parse(ts).getroot()
    return [
        (c.findtext("name") or "", m.findtext("source") or "", m)
        for c in root.iter("context")
        for m in c.iter("message")
    ]


def test_english_and_amharic_are_available() -> None:
    assert available_languages() == ("en", "am")
    assert native_name("am") == "አማርኛ" and native_name("en") == "English"


@pytest.mark.parametrize("code", [c for c in available_languages() if c != "en"])
def test_every_string_of_the_code_is_translated(code: str, tmp_path: Path) -> None:
    """lupdate run over the code now, into a copy of the shipped `.ts`: nothing new, nothing unfinished."""
    ts = tmp_path / f"kds_{code}.ts"
    shutil.copy(resources.I18N / ts.name, ts)
    sources = sorted(str(p) for p in (ROOT / "kds_app").rglob("*.py") if p.name != "pos_sim.py")
    subprocess.run(
        [str(BIN / "pyside6-lupdate"), "-silent", "-locations", "none", "-no-obsolete", *sources, "-ts", str(ts)],
        check=True,
        timeout=120,
    )
    unfinished = [(ctx, src) for ctx, src, m in _messages(ts) if m.find("translation").get("type") == "unfinished"]
    assert unfinished == []
    assert ts.read_text(encoding="utf-8") == (resources.I18N / ts.name).read_text(encoding="utf-8"), (
        "scripts/i18n was not run after the strings changed"
    )


@pytest.mark.parametrize("code", [c for c in available_languages() if c != "en"])
def test_the_compiled_file_is_the_translators_file(code: str, tmp_path: Path) -> None:
    qm = tmp_path / f"kds_{code}.qm"
    subprocess.run(
        [str(BIN / "pyside6-lrelease"), "-silent", str(resources.I18N / f"kds_{code}.ts"), "-qm", str(qm)],
        check=True,
        timeout=60,
    )
    assert qm.read_bytes() == (resources.I18N / qm.name).read_bytes(), "run scripts/i18n"


@pytest.mark.parametrize("code", [c for c in available_languages() if c != "en"])
def test_translations_keep_their_placeholders(code: str) -> None:
    for ctx, source, message in _messages(resources.I18N / f"kds_{code}.ts"):
        translation = message.findtext("translation") or ""
        assert sorted(PLACEHOLDER.findall(translation)) == sorted(PLACEHOLDER.findall(source)), (ctx, source)


def test_the_shipped_font_draws_every_ethiopic_character_in_the_app_font(qapp: QApplication) -> None:
    """Every Ethiopic character of the translations is drawn from the shipped Noto Sans Ethiopic when text is
    laid out in the application's own font (Qt's per-glyph fallback), with no tofu, on a machine with no Ethiopic
    font of its own (this one)."""
    added = load_fonts()
    assert "Noto Sans Ethiopic" in added
    assert (resources.FONTS / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE") >= 1
    used = {
        ch
        for _c, _s, m in _messages(resources.I18N / "kds_am.ts")
        for ch in m.findtext("translation") or ""
        if "\u1200" <= ch <= "\u139f"
    }
    assert len(used) > 100
    for weight in (QFont.Weight.Normal, QFont.Weight.Bold):
        font = QFont("Noto Sans Ethiopic")
        font.setWeight(weight)
        raw = QRawFont.fromFont(font)
        assert raw.familyName() == "Noto Sans Ethiopic"
        assert [ch for ch in sorted(used) if not raw.supportsCharacter(ord(ch))] == []
        app_font = QFont(QApplication.font())
        app_font.setWeight(weight)
        layout = QTextLayout("".join(sorted(used)), app_font)
        layout.beginLayout()
        layout.createLine()
        layout.endLayout()
        runs = layout.glyphRuns()
        assert {run.rawFont().familyName() for run in runs} == {"Noto Sans Ethiopic"}
        assert sum(len(run.glyphIndexes()) for run in runs) == len(used)
        assert all(index != 0 for run in runs for index in run.glyphIndexes()), "no missing-glyph box"


def test_the_shipped_font_leaves_latin_lines_their_height(qapp: QApplication) -> None:
    """Listed in the application font's families, Noto Sans Ethiopic made every line 17 % taller (Qt sizes a line
    by the tallest family of the list) and the 1366x768 station screen lost half its tickets. Loaded, it changes
    no Latin line's height: the cards' fonts measure as the system font alone does."""
    load_fonts()
    assert "Noto Sans Ethiopic" not in QApplication.font().families()
    fonts = CardFonts(18)
    for font in (fonts.number, fonts.item, fonts.modifier, fonts.meta):
        alone = QFont(font)
        alone.setFamilies([QFontInfo(font).family()])
        assert QFontMetrics(font).height() == QFontMetrics(alone).height()
