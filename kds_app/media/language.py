"""The screen's languages: Qt translation files in `resources/i18n`, and the fonts their scripts need.

English is the source text and needs no file. Every other language is `resources/i18n/kds_<code>.qm`, compiled
from the `.ts` beside it with pyside6-lrelease and committed (a fresh clone and the frozen bundle need no Qt
tools; a test keeps the `.qm` in step with its `.ts`). A language names itself: its translation of "English" in
the "Language" context is what the SETTINGS picker shows, so adding one is adding its two files.

The fonts in `resources/fonts` (Noto Sans Ethiopic for Amharic) are registered at start: Latin text keeps the
usual face and size, and a script that face lacks is drawn in the shipped one by Qt's per-glyph fallback instead
of as empty boxes, on a kitchen PC that has no such font installed.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtGui import QFontDatabase

import resources

SOURCE = "en"  # the language the code is written in

_installed: QTranslator | None = None
_fonts_loaded: tuple[str, ...] | None = None


def available_languages() -> tuple[str, ...]:
    """Codes of the languages this build can show: English and each compiled translation. Qt-free (the config
    checks a saved `language` with it)."""
    return (SOURCE, *sorted(path.stem.removeprefix("kds_") for path in resources.I18N.glob("kds_*.qm")))


def native_name(code: str) -> str:
    """The language's name in itself ("አማርኛ"), from its own translation file."""
    if code == SOURCE:
        return "English"
    translator = QTranslator()
    if not translator.load(str(resources.I18N / f"kds_{code}.qm")):
        return code
    return translator.translate("Language", "English", "this language's own name, in the SETTINGS picker") or code


def use_language(code: str) -> None:
    """Show every string from now on in `code` (windows built before keep theirs: the app builds the window
    again when the settings are saved). Loads the shipped fonts first."""
    global _installed
    load_fonts()
    app = QCoreApplication.instance()
    assert app is not None, "a QApplication must exist before a language is chosen"
    if _installed is not None:
        app.removeTranslator(_installed)
        _installed = None
    if code == SOURCE:
        return
    translator = QTranslator(app)
    path = resources.I18N / f"kds_{code}.qm"
    if not translator.load(str(path)):
        raise FileNotFoundError(f"no translation for {code!r} at {path}")
    app.installTranslator(translator)
    _installed = translator


def load_fonts() -> tuple[str, ...]:
    """Register the shipped fonts once; Qt's per-glyph fallback finds them for a script the application font
    lacks (Ethiopic). Returns the families registered.

    Not added to the application font's family list: Qt then sizes every line by the tallest family in the list,
    and Noto Sans Ethiopic made each Latin line 17 % taller (an item line 39 -> 45 px), which cost the 1366x768
    station screen half its tickets (found by a CI run: six typical tickets became three)."""
    global _fonts_loaded
    if _fonts_loaded is not None:
        return _fonts_loaded
    added: list[str] = []
    for path in sorted(resources.FONTS.glob("*.ttf")):
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            raise RuntimeError(f"Qt cannot load the font {path}")
        added += [f for f in QFontDatabase.applicationFontFamilies(font_id) if f not in added]
    _fonts_loaded = tuple(added)
    return _fonts_loaded


# The one name for Qt's lookup that lupdate finds in the code: `translate("Context", "text")`. A string shown on
# screen goes through it where it is shown (never at import: the language is chosen later); a table of strings
# built at import marks each with QT_TRANSLATE_NOOP and is looked up where it is shown.
translate = QCoreApplication.translate
