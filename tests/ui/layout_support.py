"""What a person would see as broken on a screen: text cut off, parts on top of each other,
parts pushed out of the window, a window larger than the laptop's screen, a button squeezed
lower than itself, a list that scrolls in a box too short for three of its rows, a scroll
area inside another.

Used by the screenshot tests (tests/ui/test_layouts_desks.py, test_layouts_stations.py,
test_layouts_booth.py) on every station, in normal and large print, at 1366×768 and
1920×1080, in both languages. It measures the real widgets
after layout, the way the offscreen grab draws them, so a failure names the widget, its
text and by how many pixels it does not fit.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6 import QtGui
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QTableView,
    QTabWidget,
    QTextEdit,
    QWidget,
)

SLACK = 2  # pixels of anti-aliasing and rounding a fit may miss by

# The room a maximised window has on each screen: 1366×768 less a 40 px taskbar and a 28 px
# title bar (Windows 10 at 100 %, the staff laptops), and 1920×1080 likewise.
ROOMS = {"1366x768": QSize(1366, 700), "1920x1080": QSize(1920, 1012)}


def open_station(window: QWidget, station: object) -> QWidget:
    """Switch ``window`` (a MainWindow) to ``station`` as a click in its station list does."""
    switcher = window.switcher  # type: ignore[attr-defined]
    for row in range(switcher.count()):
        if switcher.item(row).data(Qt.ItemDataRole.UserRole) == station:
            switcher.setCurrentRow(row)
    page = window.current_station()  # type: ignore[attr-defined]
    assert page is not None and page.station == station
    return page


def keep_grab(widget: QWidget, name: str) -> None:
    """Save what ``widget`` shows as ``name``.png in ``KIOSK_LAYOUT_SHOTS``, when that names a
    folder: the layout tests' grabs, to look at."""
    import os
    from pathlib import Path

    folder = os.environ.get("KIOSK_LAYOUT_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def fitted(window: QWidget, room: QSize) -> list[str]:
    """Resize ``window`` to the room a screen gives it, let the layouts settle, and say what
    is wrong with what it then shows."""
    from PySide6.QtWidgets import QApplication

    window.resize(room)
    for _ in range(3):
        QApplication.processEvents()
    return problems(window, room)


def problems(window: QWidget, room: QSize | None = None) -> list[str]:
    """Every visible fault in ``window`` as one sentence each (empty when it looks right).

    ``room`` is what the screen gives the window (the test resizes the window to it first);
    a window whose parts ask for more than that grows past the screen's edge.
    """
    found: list[str] = []
    if room is not None and (
        window.width() > room.width() + SLACK or window.height() > room.height() + SLACK
    ):
        found.append(
            f"window is {window.width()}×{window.height()}, larger than the room the screen "
            f"gives it, {room.width()}×{room.height()} (its parts ask for more)"
        )
    for widget in _shown(window):
        found.extend(_cut_text(widget))
        found.extend(_outside_parent(window, widget))
    found.extend(_overlaps(window))
    found.extend(_cramped_scrolling(window))
    found.extend(scroll_in_scroll(window))
    found.extend(_too_few_rows(window))
    return found


def _shown(window: QWidget) -> Iterator[QWidget]:
    """Widgets the person can see now: visible, not on a hidden page, with a real size."""
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.width() <= 0 or widget.height() <= 0:
            continue
        if widget.window() is not window:
            continue
        yield widget


def describe(widget: QWidget) -> str:
    """A widget as a sentence names it: its object name (or type) and the start of its text."""
    text = ""
    for attribute in ("text", "placeholderText", "currentText", "windowTitle"):
        getter = getattr(widget, attribute, None)
        if callable(getter):
            text = getter()
            if text:
                break
    name = widget.objectName() or type(widget).__name__
    text = text.replace("\n", " ")
    return f"{name} {text[:40]!r}" if text else name


def _cut_text(widget: QWidget) -> list[str]:
    metrics = QFontMetrics(widget.font())
    if isinstance(widget, QLabel):
        return _cut_label(widget, metrics)
    if isinstance(widget, QAbstractButton) and not isinstance(widget, QCheckBox | QRadioButton):
        if isinstance(widget, QPushButton) and widget.text():
            return _squeezed_button(widget)
        return []
    if isinstance(widget, QCheckBox | QRadioButton) and widget.text():
        need = widget.sizeHint().width()
        if widget.width() + SLACK < need:
            return [f"{describe(widget)}: {widget.width()} px wide, its text needs {need} px"]
        return []
    if isinstance(widget, QLineEdit):
        text = widget.text() or widget.placeholderText()
        room = widget.width() - 2 * 8 - 4  # the theme's padding and border
        need = metrics.horizontalAdvance(text)
        if text and not widget.text() and need > room + SLACK:
            return [f"{describe(widget)}: hint needs {need} px, the field shows {room} px"]
        return []
    if isinstance(widget, QComboBox):
        text = widget.currentText()
        # Where the style draws the choice: the box less its arrow, border and padding.
        option = QStyleOptionComboBox()
        widget.initStyleOption(option)
        room = (
            widget.style()
            .subControlRect(
                QStyle.ComplexControl.CC_ComboBox,
                option,
                QStyle.SubControl.SC_ComboBoxEditField,
                widget,
            )
            .width()
        )
        need = metrics.horizontalAdvance(text)
        if text and need > room + SLACK:
            return [f"{describe(widget)}: choice needs {need} px, the box shows {room} px"]
        return []
    if isinstance(widget, QHeaderView):
        return _cut_header(widget)
    if isinstance(widget, QTabBar) and not isinstance(widget.parentWidget(), QTabWidget):
        # A bar of its own (a row of sections over a page): its tabs scroll just the same.
        if widget.sizeHint().width() > widget.width() + SLACK:
            return [
                f"{describe(widget)}: its tabs need {widget.sizeHint().width()} px, "
                f"the bar has {widget.width()} px (they scroll)"
            ]
        return []
    if isinstance(widget, QTabWidget):
        bar = widget.tabBar()
        if bar.isVisible() and bar.sizeHint().width() > bar.width() + SLACK:
            return [
                f"{describe(widget)}: its tabs need {bar.sizeHint().width()} px, "
                f"the bar has {bar.width()} px (they scroll)"
            ]
    return []


def _squeezed_button(button: QPushButton) -> list[str]:
    """A button narrower than its text, or lower than its own size hint.

    The height counts too: a button squeezed into a row lower than itself (a tab bar's
    corner, 31 px for a 38-px button) loses its padding and border first, so its words touch
    the frame or are clipped at top and bottom, and it is a smaller target than the theme
    promises (38 px normal, 60 px large print); the grab hides this unless one looks hard.
    """
    hint = button.sizeHint()
    if button.width() + SLACK < hint.width():
        return [
            f"{describe(button)}: button {button.width()} px wide, its text needs {hint.width()} px"
        ]
    if button.height() + SLACK < hint.height():
        return [
            f"{describe(button)}: button squeezed to {button.height()} px high, "
            f"it needs {hint.height()} px"
        ]
    return []


def _cut_label(label: QLabel, metrics: QFontMetrics) -> list[str]:
    text = label.text()
    if not text or label.textFormat() == Qt.TextFormat.RichText or QtGui.Qt.mightBeRichText(text):
        return []
    room = label.contentsRect()
    margin = label.margin() * 2 + max(label.indent(), 0)
    if label.wordWrap():
        need = metrics.boundingRect(
            QRect(0, 0, max(room.width() - margin, 1), 100000),
            int(Qt.TextFlag.TextWordWrap) | int(label.alignment()),
            text,
        )
        if need.height() > room.height() + SLACK:
            return [
                f"{describe(label)}: wrapped text needs {need.height()} px high, "
                f"the label is {room.height()} px"
            ]
        # One word longer than the line (a long number, an English word) is cut too.
        if need.width() > room.width() - margin + SLACK:
            return [
                f"{describe(label)}: a word needs {need.width()} px, the line has {room.width()}"
            ]
        return []
    widest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
    if widest > room.width() - margin + SLACK:
        return [f"{describe(label)}: text needs {widest} px, the label shows {room.width()} px"]
    lines = text.count("\n") + 1
    high = metrics.lineSpacing() * lines
    if high > room.height() + metrics.leading() + SLACK + 2:
        return [f"{describe(label)}: text needs {high} px high, the label is {room.height()} px"]
    return []


def _cut_header(header: QHeaderView) -> list[str]:
    """Column titles cut off, and key columns scrolled out of a table that has room."""
    model = header.model()
    if model is None or header.orientation() != Qt.Orientation.Horizontal:
        return []
    metrics = QFontMetrics(header.font())
    found = []
    table = header.parentWidget()
    scrolls = isinstance(table, QAbstractScrollArea) and (
        table.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    )
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        title = str(model.headerData(section, Qt.Orientation.Horizontal) or "")
        need = metrics.horizontalAdvance(title) + 8
        size = header.sectionSize(section)
        if title and size + SLACK < need:
            found.append(f"column {title!r}: {size} px wide, its title needs {need} px")
        # A table that cannot scroll sideways cuts a column at its right edge instead.
        end = header.sectionViewportPosition(section) + size
        if not scrolls and end > header.viewport().width() + SLACK:
            found.append(
                f"column {title!r}: cut by the table's edge, it ends at {end} px "
                f"of {header.viewport().width()}"
            )
    return found


def _visible_rect(window: QWidget, widget: QWidget) -> QRect:
    """The part of ``widget`` its ancestors leave on screen, in window coordinates (a scroll
    area's viewport clips like any parent: what is scrolled away is checked separately)."""
    rect = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        rect = rect.intersected(QRect(parent.mapTo(window, parent.rect().topLeft()), parent.size()))
        parent = parent.parentWidget()
    return rect.intersected(window.rect())


def _inside_scroll_area(widget: QWidget, window: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _outside_parent(window: QWidget, widget: QWidget) -> list[str]:
    """A part cut by the edge of what holds it (not by a scroll area, which scrolls)."""
    if _inside_scroll_area(widget, window):
        return []
    whole = widget.width() * widget.height()
    shown = _visible_rect(window, widget)
    seen = shown.width() * shown.height() if shown.isValid() else 0
    if seen + SLACK * max(widget.width(), widget.height()) < whole:
        at = widget.mapTo(window, widget.rect().topLeft())
        return [
            f"{describe(widget)}: only {seen * 100 // whole}% of it is on screen "
            f"({widget.width()}×{widget.height()} at {at.x()},{at.y()})"
        ]
    return []


def _overlaps(window: QWidget) -> list[str]:
    """Two visible siblings drawn over each other (a squeezed layout does that)."""
    found = []
    for parent in [window, *window.findChildren(QWidget)]:
        if parent is not window and not parent.isVisibleTo(window):
            continue
        if isinstance(parent, QStackedWidget | QAbstractScrollArea):
            continue
        children = [
            c
            for c in parent.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
            if c.isVisibleTo(window) and not c.isWindow() and c.width() > 0 and c.height() > 0
        ]
        for i, first in enumerate(children):
            for second in children[i + 1 :]:
                common = first.geometry().intersected(second.geometry())
                if common.width() > SLACK and common.height() > SLACK:
                    found.append(
                        f"{describe(first)} and {describe(second)} overlap by "
                        f"{common.width()}×{common.height()} px"
                    )
    return found


def _cramped_scrolling(window: QWidget) -> list[str]:
    """Sideways scrolling anywhere, or a scroll area too short to show a few rows."""
    found = []
    for area in window.findChildren(QAbstractScrollArea):
        if not area.isVisibleTo(window):
            continue
        bar = area.horizontalScrollBar()
        if bar.isVisible() and bar.maximum() > 0:
            what = "its columns scroll" if isinstance(area, QTableView) else "scrolls"
            # An item view scrolling per item counts columns, not pixels ("by 2 px" was
            # two whole columns out of sight).
            per_item = (
                isinstance(area, QAbstractItemView)
                and area.horizontalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem
            )
            unit = "columns" if per_item else "px"
            found.append(f"{describe(area)}: {what} sideways by {bar.maximum()} {unit}")
        if (
            isinstance(area, QScrollArea)
            and area.verticalScrollBar().isVisible()
            and area.viewport().height() < 0.4 * window.height()
        ):
            found.append(
                f"{describe(area)}: scrolls in a viewport {area.viewport().height()} px high "
                f"(under 40% of the window's {window.height()} px)"
            )
    return found


def _scrolls_vertically(area: QAbstractScrollArea) -> bool:
    """Whether ``area`` may scroll up and down, at this size or another (a banner shown, a
    longer list): its vertical bar is not switched off."""
    return area.verticalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def scroll_in_scroll(window: QWidget) -> list[str]:
    """A scroll area (a page, a form: not a list, table or text, which scroll their own
    rows) inside another scroll area, both able to scroll vertically: two bars side by side,
    and the wheel turns whichever is under the pointer, so half a turn scrolls the page and
    the next the form in it (the themes tab in large print, issue #24). Counted whether or
    not either scrolls at this size: a banner or a longer list makes them scroll."""
    found = []
    for area in window.findChildren(QAbstractScrollArea):
        if (
            not area.isVisibleTo(window)
            or area.window() is not window
            or isinstance(area, QAbstractItemView | QTextEdit | QPlainTextEdit)
            or not _scrolls_vertically(area)
        ):
            continue
        parent = area.parentWidget()
        while parent is not None and parent is not window:
            if isinstance(parent, QAbstractScrollArea) and _scrolls_vertically(parent):
                inside = _named_area(area)
                outside = _named_area(parent)
                found.append(
                    f"{inside} scrolls inside {outside}, which scrolls too: two scroll bars, "
                    "the wheel turns the one under the pointer"
                )
                break
            parent = parent.parentWidget()
    return found


def _named_area(area: QAbstractScrollArea) -> str:
    """A scroll area named by what it scrolls (an area seldom has a name of its own)."""
    if isinstance(area, QScrollArea) and area.widget() is not None and not area.objectName():
        return f"the scroll area of {describe(area.widget())}"
    return describe(area)


# How many rows a list, table or tree that scrolls must show at least. Three: the row staff
# are on with one above and one below, so the arrow keys and the wheel move through a list
# that visibly goes on; with one or two (the activation desk's catalog showed 1.5 services
# under a gate warning and two banners in large print) a list reads as a single line or an
# empty box, and a customer cannot compare two services at a glance.
MIN_ROWS = 3
ROWS_MEASURED = 400  # enough to know a list is longer than its box, cheap on the audit log


def _too_few_rows(window: QWidget) -> list[str]:
    """A visible list, table or tree holding more rows than it shows, whose box shows fewer
    than ``MIN_ROWS`` of them (or than all it holds, when that is fewer).

    A row is the view's typical row (the median height of its rows: a tree's bold group
    lines are lower than its two-line services), so the box must be ``MIN_ROWS`` of those
    high below its header. A list that shows all it holds is never too short, however small
    (an empty waiting list, one line of slips): only one that makes staff scroll is.
    """
    found = []
    for view in window.findChildren(QAbstractItemView):
        if not view.isVisibleTo(window) or view.window() is not window:
            continue
        heights = _row_heights(view)
        if not heights:
            continue
        box = view.viewport().height()
        if sum(heights) <= box + SLACK:
            continue  # it shows every row it holds
        row = sorted(heights)[len(heights) // 2]
        rows = min(MIN_ROWS, len(heights))  # a list of two needs room for two
        if box + SLACK < rows * row:
            found.append(
                f"{describe(view)}: shows {box / row:.1f} rows of {row} px in a {box}-px box "
                f"and scrolls for the rest ({'over ' if len(heights) >= ROWS_MEASURED else ''}"
                f"{len(heights)} rows); it needs {rows} rows, {rows * row} px"
            )
    return found


def _row_heights(view: QAbstractItemView) -> list[int]:
    """The heights of the rows ``view`` can show (a tree's expanded ones, none hidden), up to
    ``ROWS_MEASURED``; empty for views that are not one column of rows (icon grids)."""
    from PySide6.QtWidgets import QListView, QTreeView

    model = view.model()
    if model is None:
        return []
    root = view.rootIndex()
    heights: list[int] = []
    if isinstance(view, QTreeView):
        index = model.index(0, 0, root)
        while index.isValid() and len(heights) < ROWS_MEASURED:
            heights.append(view.visualRect(index).height())
            index = view.indexBelow(index)
    elif isinstance(view, QTableView):
        for row in range(min(model.rowCount(root), ROWS_MEASURED)):
            if not view.isRowHidden(row):
                heights.append(view.rowHeight(row))
    elif isinstance(view, QListView):
        if view.viewMode() != QListView.ViewMode.ListMode:
            return []
        for row in range(min(model.rowCount(root), ROWS_MEASURED)):
            if not view.isRowHidden(row):
                heights.append(view.visualRect(model.index(row, view.modelColumn(), root)).height())
    return [h for h in heights if h > 0]
