"""Small bar charts drawn with QPainter, for the dashboard.

PySide6-Essentials has no QtCharts, and a funnel, expected-against-arrived bars and a column
per branch need little: bars, a hollow bar for the target, the value written at the end of
each bar, and labels big enough to read across a room. Sizes follow the widget's font, so
large print scales the charts too, and the bars stretch with the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.theme import HINT

BLUE = QColor("#0b4f8a")
AMBER = QColor("#c77d00")
GREEN = QColor("#1e7b34")
RED = QColor("#b00020")
GREY = QColor("#9aa3ad")
INK = QColor("#1b1f24")


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value, optional target (drawn hollow behind it) and the text
    written at its end (the value when empty)."""

    label: str
    value: float
    target: float | None = None
    colour: QColor | None = None
    text: str = ""


class BarChart(QWidget):
    """Horizontal bars (labels on the left) or vertical columns (labels below).

    ``bars`` holds what is drawn, so tests read the figures a person sees.
    """

    def __init__(
        self,
        *,
        vertical: bool = False,
        colour: QColor = BLUE,
        legend: Sequence[tuple[str, QColor]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.vertical = vertical
        self.colour = colour
        self.legend = list(legend)
        self.bars: list[Bar] = []
        self.empty_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 120)

    def set_bars(self, bars: Sequence[Bar], empty_text: str = "") -> None:
        self.bars = list(bars)
        self.empty_text = empty_text
        self.setToolTip("\n".join(f"{b.label}: {b.text or _number(b.value)}" for b in self.bars))
        self.update()

    def sizeHint(self) -> QSize:
        line = QFontMetricsF(self.font()).height()
        if self.vertical:
            return QSize(420, int(line * 9))
        return QSize(420, int(line * 1.5 * max(3, len(self.bars)) + line))

    # -- painting ---------------------------------------------------------------------------

    def _scale(self) -> float:
        top = max((max(b.value, b.target or 0) for b in self.bars), default=0)
        return top if top > 0 else 1

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self.font())
        area = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        if self.legend:
            area.setTop(area.top() + self._draw_legend(painter, area))
        if not self.bars:
            painter.setPen(QColor(HINT))  # words, not a bar: 7.2:1 (the bars' grey was 2.5:1)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        if self.vertical:
            self._paint_columns(painter, area)
        else:
            self._paint_bars(painter, area)
        painter.end()

    def _draw_legend(self, painter: QPainter, area: QRectF) -> float:
        metrics = QFontMetricsF(painter.font())
        x = area.left()
        height = metrics.height()
        for text, colour in self.legend:
            box = QRectF(x, area.top() + height * 0.2, height * 0.8, height * 0.6)
            if colour == GREY:  # the hollow target
                painter.setPen(QPen(GREY, 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
            painter.drawRect(box)
            painter.setPen(INK)
            painter.drawText(QRectF(x + height, area.top(), 1000, height), text)
            x += height * 1.5 + metrics.horizontalAdvance(text) + height
        return height * 1.3

    def _paint_bars(self, painter: QPainter, area: QRectF) -> None:
        regular, bold = _fonts(painter)
        metrics = QFontMetricsF(regular)
        value_width = max(metrics.horizontalAdvance(b.text or _number(b.value)) for b in self.bars)
        # Whole labels first (a stage's name is what staff read), as long as the bars keep a
        # third of the width; only then is a label cut with "…".
        label_width = min(
            max(metrics.horizontalAdvance(b.label) for b in self.bars) + 12,
            max(area.width() * 0.45, area.width() - value_width - 12 - area.width() / 3),
        )
        plot = QRectF(
            area.left() + label_width,
            area.top(),
            max(10.0, area.width() - label_width - value_width - 12),
            area.height(),
        )
        row = plot.height() / len(self.bars)
        thickness = min(row * 0.72, metrics.height() * 1.6)
        scale = self._scale()
        for index, bar in enumerate(self.bars):
            y = plot.top() + index * row + (row - thickness) / 2
            painter.setPen(INK)
            label = metrics.elidedText(bar.label, Qt.TextElideMode.ElideRight, label_width - 10)
            painter.drawText(
                QRectF(area.left(), plot.top() + index * row, label_width - 10, row),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            end = plot.left()
            if bar.target:
                width = plot.width() * bar.target / scale
                painter.setPen(QPen(GREY, 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(QRectF(plot.left(), y, width, thickness))
                end = max(end, plot.left() + width)
            width = plot.width() * max(bar.value, 0) / scale
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bar.colour or self.colour)
            painter.drawRect(QRectF(plot.left(), y, width, thickness))
            end = max(end, plot.left() + width)
            painter.setFont(bold)
            painter.setPen(INK)
            painter.drawText(
                QRectF(end + 6, plot.top() + index * row, value_width + 12, row),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                bar.text or _number(bar.value),
            )
            painter.setFont(regular)

    def _paint_columns(self, painter: QPainter, area: QRectF) -> None:
        regular, bold = _fonts(painter)
        metrics = QFontMetricsF(regular)
        label_height = metrics.height() * 1.2
        value_height = metrics.height() * 1.1
        plot = QRectF(
            area.left(),
            area.top() + value_height,
            area.width(),
            max(10.0, area.height() - label_height - value_height),
        )
        column = plot.width() / len(self.bars)
        thickness = min(column * 0.7, metrics.height() * 3)
        scale = self._scale()
        painter.setPen(QPen(GREY, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        for index, bar in enumerate(self.bars):
            x = plot.left() + index * column + (column - thickness) / 2
            top = plot.bottom()
            if bar.target:
                height = plot.height() * bar.target / scale
                painter.setPen(QPen(GREY, 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(QRectF(x, plot.bottom() - height, thickness, height))
                top = min(top, plot.bottom() - height)
            height = plot.height() * max(bar.value, 0) / scale
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bar.colour or self.colour)
            painter.drawRect(QRectF(x, plot.bottom() - height, thickness, height))
            top = min(top, plot.bottom() - height)
            painter.setPen(INK)
            painter.setFont(bold)
            painter.drawText(
                QRectF(x - column, top - value_height, thickness + 2 * column, value_height),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                bar.text or _number(bar.value),
            )
            painter.setFont(regular)
            label = metrics.elidedText(bar.label, Qt.TextElideMode.ElideRight, column - 2)
            painter.drawText(
                QRectF(plot.left() + index * column, plot.bottom() + 2, column, label_height),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                label,
            )


def _fonts(painter: QPainter) -> tuple[QFont, QFont]:
    """The label font and the bold one for values."""
    regular = QFont(painter.font())
    bold = QFont(regular)
    bold.setBold(True)
    return regular, bold


def _number(value: float) -> str:
    return f"{value:,.0f}"
