"""A one-line label that says what fits the room its bar leaves it, never a character cut in half.

A QLabel clips its text at its edge: on a 1366-pixel kitchen screen the 86 strip read "86⁝" and the offline
strip "... waiting to syr". This one draws its whole text when it fits and else the text cut short with an
ellipsis (a subclass may say something shorter instead, and in a smaller font); `text()` keeps the whole text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QLabel


class FittedLabel(QLabel):
    def shown_text(self) -> str:
        """The text as drawn in the room there is: whole, or cut short with "…"."""
        room = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, room)

    def shown_font(self, text: str) -> QFont:
        """The font `text` is drawn in: the label's own."""
        del text
        return QFont(self.font())

    def shrunk_font(self, text: str, down_to: float) -> QFont:
        """The label's font made smaller a point at a time (down to `down_to` of its size) until `text` fits."""
        font = QFont(self.font())
        room = self.contentsRect().width()
        smallest = down_to * self.font().pointSizeF()
        while QFontMetrics(font).horizontalAdvance(text) > room and font.pointSizeF() - 1 >= smallest:
            font.setPointSizeF(font.pointSizeF() - 1)
        return font

    def paintEvent(self, event: QPaintEvent) -> None:
        QFrame.paintEvent(self, event)  # the style sheet's box; the text is ours, fitted
        painter = QPainter(self)
        try:
            text = self.shown_text()
            painter.setFont(self.shown_font(text))
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.contentsRect(), int(self.alignment()) | Qt.AlignmentFlag.AlignVCenter, text)
        finally:
            painter.end()


class ShorteningLabel(FittedLabel):
    """A `FittedLabel` with shorter ways to say the same thing: the first that fits is drawn whole, and only the
    shortest is ever cut. "12 open · 2 on hold" in too little room reads "12 open", then "12", not "12 o…"."""

    def set_forms(self, whole: str, *shorter: str) -> None:
        self._shorter = shorter
        self.setText(whole)
        self.update()

    def shown_text(self) -> str:
        room = self.contentsRect().width()
        metrics = self.fontMetrics()
        forms = (self.text(), *getattr(self, "_shorter", ()))
        for form in forms:
            if metrics.horizontalAdvance(form) <= room:
                return form
        return metrics.elidedText(forms[-1], Qt.TextElideMode.ElideRight, room)
