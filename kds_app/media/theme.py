"""Colours of the dark high-contrast theme, shared by the painted cards and the widgets' style sheet.

Chosen to be told apart from two metres under kitchen light: age states differ in hue *and* brightness,
allergens have a colour of their own (a light violet, dark text, used for nothing else), red means only late,
86 and offline, amber means a change to acknowledge, and nothing relies on colour alone (states also change
text: "TAP AGAIN TO BUMP", "VOID", "ADDED", "⚠ ALLERGY").
"""

from __future__ import annotations

from PySide6.QtGui import QColor

import resources

BACKGROUND = QColor("#0b0d10")
CARD = QColor("#1c2128")
CARD_BORDER = QColor("#39424e")
TEXT = QColor("#f5f7fa")
MUTED = QColor("#a9b4c2")
DONE_TEXT = QColor("#6f7b89")

AGE_OK = QColor("#1e6b45")
AGE_WARN = QColor("#f2c200")
AGE_LATE = QColor("#d32f2f")
AGE_OK_TEXT = QColor("#ffffff")
AGE_WARN_TEXT = QColor("#111111")
AGE_LATE_TEXT = QColor("#ffffff")

# Allergens: violet, not red (late, 86, offline) nor amber (changes) nor orange (rush); bright against the dark
# card (6.9:1) with near-black text on it (8.1:1), and told from red by hue and brightness, colour-blind too.
ALLERGEN = QColor("#ea80fc")
ALLERGEN_TEXT = QColor("#111111")
CHANGED = QColor("#ffb300")
CHANGED_TEXT = QColor("#111111")
HELD = QColor("#546e7a")
EIGHTY_SIX = QColor("#c62828")  # an 86'd item: the strip in the top bar and the tag on a ticket
RUSH = QColor("#ff6d00")
NEW_HIGHLIGHT = QColor("#4fc3f7")
MOVED = QColor("#90caf9")  # an item's "← GRILL": it came by a transfer (the MOVE button's light blue)
SELECTED = QColor("#ffffff")  # the bump bar's selected ticket

BUMP = QColor("#1565c0")
BUMP_ARMED = QColor("#ffb300")
BUMP_ARMED_TEXT = QColor("#111111")
SERVE_READY = QColor("#2e7d32")
SERVE_WAITING = QColor("#37414d")


def style_sheet(font_pt: int) -> str:
    """The widgets' style sheet with the configured base font size filled in."""
    return resources.THEME_QSS.read_text(encoding="utf-8").replace("@FONT_PT@", str(font_pt))
