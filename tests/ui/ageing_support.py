"""MIIT 2021 ageing-friendly targets measured on real widgets: contrast, type size, targets.

Contrast is WCAG's: relative luminance of the text's colour against what it is drawn on.
The text's colour is the one Qt paints with: the widget's palette after the style sheet is
polished (Qt copies a rule's ``color`` into the palette, its ``:disabled`` rule into the
Disabled group, ``placeholder-text-color`` into PlaceholderText), a table item's own brush,
a rich text's inline colours. What it is drawn on is read from the rendered window: the
most common colour in the part of the window the widget covers (text is the minority of a
widget's pixels). A checked button, whose ``:checked`` colours have no palette group, has its
text colour read from the pixels too.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterator

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollBar,
    QStyle,
    QStyleOptionButton,
    QStyleOptionComboBox,
    QStyleOptionSpinBox,
    QStyleOptionViewItem,
    QTabBar,
    QTableView,
    QTextEdit,
    QToolButton,
    QTreeView,
    QWidget,
)

from .layout_support import describe

MIN_CONTRAST = 4.5  # WCAG AA for body text, MIIT 2021
MIN_PT = 18  # main text
TARGET_PX = 60  # touch targets
MIN_BOX_PX = 30  # a check box's box, in large print
ROWS = 20  # table rows looked at per view


def luminance(colour: QColor) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * linear(colour.red())
        + 0.7152 * linear(colour.green())
        + 0.0722 * linear(colour.blue())
    )


def contrast(first: QColor, second: QColor) -> float:
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(colour: QColor, background: QColor) -> QColor:
    """A translucent colour as drawn on ``background`` (Qt's default placeholder is half
    the text colour)."""
    a = colour.alphaF()
    return QColor(
        round(colour.red() * a + background.red() * (1 - a)),
        round(colour.green() * a + background.green() * (1 - a)),
        round(colour.blue() * a + background.blue() * (1 - a)),
    )


def point_size(widget: QWidget) -> float:
    font = widget.font()
    return font.pointSizeF() if font.pointSizeF() > 0 else font.pixelSize() * 72 / 96


class Shot:
    """One rendering of a window, to read what text is drawn on."""

    def __init__(self, window: QWidget) -> None:
        self.window = window
        image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        self.width = image.width()
        self.height = image.height()
        self.line = image.bytesPerLine() // 4
        self.pixels = array("I", bytes(image.constBits()))  # type: ignore[arg-type]

    def rect_of(self, widget: QWidget, inner: QRect | None = None) -> QRect:
        """``widget``'s part (or ``inner``, in its coordinates) in the window, clipped by
        its parents as the screen clips it."""
        part = inner if inner is not None else widget.rect()
        rect = QRect(widget.mapTo(self.window, part.topLeft()), part.size())
        parent = widget.parentWidget()
        while parent is not None and parent is not self.window:
            rect = rect.intersected(
                QRect(parent.mapTo(self.window, parent.rect().topLeft()), parent.size())
            )
            parent = parent.parentWidget()
        return rect.intersected(QRect(0, 0, self.width, self.height))

    def colours(self, rect: QRect) -> Counter[int]:
        found: Counter[int] = Counter()
        if rect.isEmpty():
            return found
        step = 2 if rect.width() * rect.height() > 40_000 else 1
        for y in range(rect.top(), rect.bottom() + 1, step):
            start = y * self.line + rect.left()
            found.update(self.pixels[start : start + rect.width() : step])
        return found

    def background(self, rect: QRect) -> QColor | None:
        found = self.colours(rect)
        if not found:
            return None
        return QColor.fromRgb(found.most_common(1)[0][0] & 0xFFFFFF)

    def ink(self, rect: QRect, background: QColor) -> QColor:
        """The text's colour read from the pixels: the colour of at least a few pixels that
        stands out most from the background (its strokes' cores)."""
        inside = rect.adjusted(4, 4, -4, -4)
        found = self.colours(inside if inside.isValid() else rect)
        best, best_ratio = background, 1.0
        for value, count in found.items():
            if count < 4:
                continue
            colour = QColor.fromRgb(value & 0xFFFFFF)
            ratio = contrast(colour, background)
            if ratio > best_ratio:
                best, best_ratio = colour, ratio
        return best


def _group(widget: QWidget) -> QPalette.ColorGroup:
    return QPalette.ColorGroup.Disabled if not widget.isEnabled() else QPalette.ColorGroup.Active


def _fg(widget: QWidget, role: QPalette.ColorRole | None = None) -> QColor:
    return widget.palette().color(_group(widget), role or widget.foregroundRole())


def shown(window: QWidget) -> Iterator[QWidget]:
    """Widgets on screen now: visible, of this window, with a size, not scrolled away."""
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.width() <= 0 or widget.height() <= 0:
            continue
        if widget.window() is not window:
            continue
        yield widget


_INLINE = re.compile(r"color:\s*(#[0-9a-fA-F]{3,6}\b)")


def texts(widget: QWidget, shot: Shot) -> Iterator[tuple[str, QColor, QRect]]:
    """(what, colour it is painted in, where in the window) for each text ``widget`` shows."""
    name = describe(widget)
    if isinstance(widget, QLabel):
        if widget.text():
            yield name, _fg(widget), shot.rect_of(widget)
            for colour in _INLINE.findall(widget.text()):  # rich text's own colours
                yield f"{name} (inline {colour})", QColor(colour), shot.rect_of(widget)
    elif isinstance(widget, QAbstractButton):
        if not widget.text() or isinstance(widget.parentWidget(), QLineEdit):
            return
        rect = shot.rect_of(widget)
        if isinstance(widget, QCheckBox | QRadioButton):
            option = QStyleOptionButton()
            option.initFrom(widget)
            text = widget.style().subElementRect(
                QStyle.SubElement.SE_CheckBoxContents
                if isinstance(widget, QCheckBox)
                else QStyle.SubElement.SE_RadioButtonContents,
                option,
                widget,
            )
            rect = shot.rect_of(widget, text)
        if widget.isCheckable() and widget.isChecked() and isinstance(widget, QPushButton):
            background = shot.background(rect)
            if background is not None:  # ":checked" colours are in no palette group
                yield f"{name} (checked)", shot.ink(rect, background), rect
            return
        yield name, _fg(widget), rect
    elif isinstance(widget, QLineEdit):
        if isinstance(widget.parentWidget(), QAbstractSpinBox | QComboBox):
            return
        rect = shot.rect_of(widget)
        if widget.text():
            yield name, _fg(widget), rect
        elif widget.placeholderText():
            colour = _fg(widget, QPalette.ColorRole.PlaceholderText)
            yield f"{name} (placeholder)", colour, rect
    elif isinstance(widget, QComboBox | QAbstractSpinBox):
        yield name, _fg(widget, QPalette.ColorRole.Text), shot.rect_of(widget)
        if isinstance(widget, QComboBox):
            yield f"{name} (button text)", _fg(widget), shot.rect_of(widget)
    elif isinstance(widget, QTabBar):
        for i in range(widget.count()):
            colour = widget.tabTextColor(i)
            if not colour.isValid():
                colour = _fg(widget)
            yield f"tab {widget.tabText(i)!r}", colour, shot.rect_of(widget, widget.tabRect(i))
    elif isinstance(widget, QHeaderView):
        yield f"{name} titles", _fg(widget), shot.rect_of(widget)
    elif isinstance(widget, QTextEdit | QPlainTextEdit):
        view = widget.viewport()
        document = widget.document()
        if document.isEmpty():
            if widget.placeholderText():
                colour = _fg(widget, QPalette.ColorRole.PlaceholderText)
                yield f"{name} (placeholder)", colour, shot.rect_of(view)
            return
        yield name, _fg(widget, QPalette.ColorRole.Text), shot.rect_of(view)
        block = document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                brush = fragment.charFormat().foreground()
                if brush.style() != Qt.BrushStyle.NoBrush and fragment.text().strip():
                    yield (
                        f"{name} {fragment.text()[:30]!r}",
                        brush.color(),
                        shot.rect_of(view),
                    )
                it += 1
            block = block.next()


def item_texts(view: QAbstractItemView, shot: Shot) -> Iterator[tuple[str, QColor, QRect]]:
    """The rows a table or list shows: each cell's own brush, or the view's text colour."""
    model = view.model()
    if model is None:
        return
    selection = view.selectionModel()

    def rows(parent: QModelIndex) -> Iterator[QModelIndex]:
        """Row indexes shown: the top rows, and those under an expanded branch of a tree."""
        for row in range(model.rowCount(parent)):
            first = model.index(row, 0, parent)
            yield first
            if isinstance(view, QTreeView) and view.isExpanded(first):
                yield from rows(first)

    columns = 1 if isinstance(view, QListWidget) else model.columnCount(view.rootIndex())
    for seen, first in enumerate(rows(view.rootIndex())):
        if seen >= ROWS * 5:
            break
        for column in range(columns):
            index = first.siblingAtColumn(column)
            text = index.data(Qt.ItemDataRole.DisplayRole)
            if not text or (selection is not None and selection.isSelected(index)):
                continue  # a selected row: the highlight's colours
            rect = view.visualRect(index)
            if rect.isEmpty():
                continue
            where = shot.rect_of(view.viewport(), rect)
            if where.isEmpty():
                continue
            brush = index.data(Qt.ItemDataRole.ForegroundRole)
            if isinstance(brush, QBrush):
                colour = brush.color()
            elif isinstance(brush, QColor):
                colour = brush
            else:
                colour = _fg(view, QPalette.ColorRole.Text)
            yield f"{describe(view)} cell {str(text)[:30]!r}", colour, where


def contrast_faults(window: QWidget) -> list[str]:
    """Every text on screen under 4.5:1 against what it is drawn on, one sentence each."""
    shot = Shot(window)
    found = []
    for widget in shown(window):
        found_texts = list(texts(widget, shot))
        if isinstance(widget, QAbstractItemView) and not isinstance(widget, QHeaderView):
            found_texts += list(item_texts(widget, shot))
        for what, colour, rect in found_texts:
            background = shot.background(rect)
            if background is None:  # scrolled away
                continue
            drawn = over(colour, background) if colour.alpha() < 255 else colour
            ratio = contrast(drawn, background)
            if ratio < MIN_CONTRAST:
                state = " (disabled)" if not widget.isEnabled() else ""
                found.append(
                    f"{what}{state}: {drawn.name()} on {background.name()} is "
                    f"{ratio:.2f}:1, under {MIN_CONTRAST}:1"
                )
    return found


def _text_widget(widget: QWidget) -> bool:
    if isinstance(widget, QLabel):
        return bool(widget.text())
    if isinstance(widget, QAbstractButton):
        return bool(widget.text())
    if isinstance(widget, QLineEdit):
        return bool(widget.text() or widget.placeholderText())
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return not widget.document().isEmpty() or bool(widget.placeholderText())
    return isinstance(
        widget, QComboBox | QAbstractSpinBox | QTabBar | QHeaderView | QAbstractItemView
    )


def _clickable(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    if isinstance(parent, QLineEdit | QAbstractSpinBox | QComboBox | QTabBar | QScrollBar):
        return False  # parts of a bigger target: a field's clear button, a tab bar's arrows
    if (
        isinstance(widget, QToolButton)
        and parent is not None
        and parent.inherits("QCalendarWidget")
    ):
        return False
    return isinstance(widget, QAbstractButton | QLineEdit | QComboBox | QAbstractSpinBox)


def size_faults(window: QWidget, pt: float = MIN_PT, target: int = TARGET_PX) -> list[str]:
    """Text under ``pt`` points and targets under ``target`` px high, one sentence each."""
    found = []
    for widget in shown(window):
        name = describe(widget)
        if _text_widget(widget) and point_size(widget) + 0.01 < pt:
            found.append(f"{name}: text {point_size(widget):g} pt, under {pt} pt")
        if _clickable(widget) and widget.height() < target:
            found.append(f"{name}: {widget.height()} px high, under {target} px")
        if isinstance(widget, QCheckBox | QRadioButton):
            option = QStyleOptionButton()
            option.initFrom(widget)
            box = widget.style().subElementRect(
                QStyle.SubElement.SE_CheckBoxIndicator
                if isinstance(widget, QCheckBox)
                else QStyle.SubElement.SE_RadioButtonIndicator,
                option,
                widget,
            )
            if box.height() < MIN_BOX_PX:
                found.append(f"{name}: its box is {box.width()}×{box.height()} px")
        if isinstance(widget, QTabBar):
            for i in range(widget.count()):
                high = widget.tabRect(i).height()
                if high < target:
                    found.append(f"tab {widget.tabText(i)!r}: {high} px high, under {target}")
        if isinstance(widget, QListWidget):
            for i in range(widget.count()):
                high = widget.visualItemRect(widget.item(i)).height()
                if 0 < high < target:
                    found.append(
                        f"{name} item {widget.item(i).text()!r}: {high} px high, under {target}"
                    )
        found += _item_faults(widget, name, target)
    return found


def _item_faults(widget: QWidget, name: str, target: int) -> list[str]:
    """Targets inside a control: a table's rows (where a row can be chosen), a combo box's
    choices in its pop-up, a spin box's step buttons, a list's check boxes."""
    found = []
    if isinstance(widget, QTableView) and (
        widget.selectionMode() != QAbstractItemView.SelectionMode.NoSelection
    ):
        rows = widget.verticalHeader()
        high = [rows.defaultSectionSize()] + [
            widget.rowHeight(row) for row in range(min(widget.model().rowCount(), ROWS))
        ]
        if min(high) < target:
            found.append(f"{name}: rows {min(high)} px high, under {target}")
    if isinstance(widget, QComboBox) and widget.count():
        view = widget.view()
        view.ensurePolished()
        high = min(view.sizeHintForRow(i) for i in range(min(widget.count(), ROWS)))
        if high < target:
            found.append(f"{name}: its pop-up's choices {high} px high, under {target}")
    if isinstance(widget, QComboBox) and widget.isEditable():  # only its opener opens it
        option = QStyleOptionComboBox()
        option.initFrom(widget)
        option.editable = True
        option.subControls = QStyle.SubControl.SC_All
        rect = widget.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxArrow, widget
        )
        if min(rect.width(), rect.height()) < target:
            found.append(f"{name}: its opener is {rect.width()}×{rect.height()} px, under {target}")
    if isinstance(widget, QAbstractSpinBox) and (
        widget.buttonSymbols() != QAbstractSpinBox.ButtonSymbols.NoButtons
    ):
        option = QStyleOptionSpinBox()
        option.initFrom(widget)
        option.subControls = (
            QStyle.SubControl.SC_SpinBoxUp
            | QStyle.SubControl.SC_SpinBoxDown
            | QStyle.SubControl.SC_SpinBoxFrame
            | QStyle.SubControl.SC_SpinBoxEditField
        )
        option.buttonSymbols = widget.buttonSymbols()
        option.frame = widget.hasFrame()
        for part, word in (
            (QStyle.SubControl.SC_SpinBoxUp, "up"),
            (QStyle.SubControl.SC_SpinBoxDown, "down"),
        ):
            rect = widget.style().subControlRect(
                QStyle.ComplexControl.CC_SpinBox, option, part, widget
            )
            if min(rect.width(), rect.height()) < target:
                found.append(
                    f"{name}: its {word} button is {rect.width()}×{rect.height()} px, "
                    f"under {target}"
                )
    if isinstance(widget, QAbstractItemView) and not isinstance(widget, QHeaderView):
        model = widget.model()
        for row in range(min(model.rowCount() if model else 0, ROWS)):
            index = model.index(row, 0)
            if index.data(Qt.ItemDataRole.CheckStateRole) is None:
                continue
            option = QStyleOptionViewItem()
            option.initFrom(widget)
            option.rect = widget.visualRect(index)
            option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
            box = widget.style().subElementRect(
                QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, widget
            )
            if box.height() < MIN_BOX_PX:
                found.append(f"{name}: the check box of row {row} is {box.height()} px")
                break
    return found
