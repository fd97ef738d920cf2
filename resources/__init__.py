"""Files shipped with the app and the frozen bundle: the theme, the alert sound, translations and fonts.

Resolved from this package's own location, so the same code finds them in a source checkout, an installed
wheel and a PyInstaller bundle (where they are collected under `resources/`).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
THEME_QSS = ROOT / "theme.qss"
NEW_TICKET_SOUND = ROOT / "sounds" / "new_ticket.wav"
I18N = ROOT / "i18n"  # kds_<language>.ts (the translators' file) and .qm (compiled, what the app loads)
FONTS = ROOT / "fonts"  # fonts for scripts a kitchen PC may lack (Noto Sans Ethiopic), with their licence
