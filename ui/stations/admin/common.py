"""What the admin tabs share: the file dialogs (``FileChooser``, which tests answer), table
helpers and the words for import kinds and cleaned text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHeaderView,
    QScrollArea,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from kiosk.services import tracking
from ui.language import FILE_DIALOG
from ui.theme import fit_rows


def kind_label(kind: str) -> str:
    return {
        "branches": _("Branches"),
        "staff": _("Staff"),
        "tiers": _("Event tiers"),
        "catalog": _("Catalog"),
        "customers": _("Customer list"),
        "invitees": _("Invitees"),
        "invitations": _("Invitation reports"),
        "reminder_report": _("SMS send reports"),
        "deliveries": _("Services delivered (merchant's file)"),
        "feedback": _("Satisfaction calls (call list filled in)"),
        "followup": _("Follow-up workbooks"),
    }[kind]


class FileChooser:
    """The file dialogs, in one place so tests can replace them."""

    @classmethod
    def open_file(cls, parent: QWidget, title: str) -> Path | None:
        name, _filter = QFileDialog.getOpenFileName(
            parent, title, "", _("Spreadsheets (*.xlsx *.csv)"), options=FILE_DIALOG
        )
        return Path(name) if name else None

    @classmethod
    def save_file(cls, parent: QWidget, title: str, name: str, filter_: str) -> Path | None:
        chosen, _filter = QFileDialog.getSaveFileName(
            parent, title, name, filter_, options=FILE_DIALOG
        )
        return Path(chosen) if chosen else None

    @classmethod
    def directory(cls, parent: QWidget, title: str) -> Path | None:
        name = QFileDialog.getExistingDirectory(parent, title, options=FILE_DIALOG)
        return Path(name) if name else None


def make_table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    fit_rows(table)
    return table


def number_text(value: int | None) -> str:
    return "" if value is None else str(value)


def progress_counts(row: tracking.ProgressRow) -> list[str]:
    return [
        str(v)
        for v in (
            row.invitees,
            row.invited,
            row.reached,
            row.unreachable,
            row.confirmed,
            row.declined,
            row.companions,
        )
    ]


def people_text(customers: dict[str, int], people: dict[str, int], code: str) -> str:
    n = customers.get(code, 0)
    return f"{n} ({people.get(code, 0)})" if n else "0"


def fill_table(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem(value)
            if value[:1].isdigit() and c >= 2:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    fit_columns(table)
    keep_rows(table)


def keep_rows(view: QAbstractItemView, rows: int = 3) -> None:
    """Tall enough for ``rows`` of the rows it holds (all of them when fewer), under its
    column titles. Squeezed lower, a list that scrolls shows a row and a half and reads as
    one line or an empty box; a tab too tall for the screen scrolls as a whole instead
    (``scroll_when_tall``). Called once the rows are in: their height is measured (a wrapped
    row is taller, large print's are 60 px), the view's median row counts."""
    view.ensurePolished()
    model = view.model()
    count = min(model.rowCount() if model is not None else 0, 200)
    if count == 0:
        return
    if isinstance(view, QTableView):
        heights = sorted(view.rowHeight(r) for r in range(count))
        header = view.horizontalHeader()
        titles = 0 if header.isHidden() else header.sizeHint().height()
    else:
        # A list that wraps its words: a long name takes two lines once drawn in its
        # column, though asked before it is laid out, every row is one line.
        wrapped = 2 * view.fontMetrics().lineSpacing() + 6 if view.wordWrap() else 0
        heights = sorted(max(view.sizeHintForRow(r), wrapped) for r in range(count))
        titles = 0
    row = heights[len(heights) // 2]
    view.setMinimumHeight(titles + min(rows, count) * row + 2 * view.frameWidth())


LESSER = "lesser_columns"  # a table's property: the columns that may go, first to go first


def fit_columns(table: QTableView) -> None:
    """Hide a table's lesser columns, first to go first, while its columns need more than its
    width; show them again when there is room. A table never scrolls sideways (large print,
    English): the key columns stay, the lesser ones are in the export. Without its own list a
    table keeps its first two columns (the code and the name) and gives up the last first."""
    header = table.horizontalHeader()
    count = header.count()
    lesser = table.property(LESSER)
    order = [int(c) for c in lesser] if lesser else list(range(count - 1, 1, -1))
    order = [c for c in order if 0 <= c < count]
    if table.property("fitting"):
        return
    table.setProperty("fitting", True)
    try:
        for column in order:
            if header.isSectionHidden(column):
                header.setSectionHidden(column, False)
                if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Interactive:
                    table.resizeColumnToContents(column)  # hidden, it was not measured
        for column in range(count):  # a title is never cut: at least its own width
            if (
                not header.isSectionHidden(column)
                and header.sectionResizeMode(column) == QHeaderView.ResizeMode.Interactive
            ):
                title = header.sectionSizeFromContents(column).width()
                if header.sectionSize(column) < title:
                    header.resizeSection(column, title)
        room = table.viewport().width()
        bar = table.verticalScrollBar()
        if not bar.isVisible():  # rows added later bring the bar: its width is kept free
            room -= bar.sizeHint().width()
        need = sum(header.sectionSize(c) for c in range(count) if not header.isSectionHidden(c))
        for column in order:
            if need <= room:
                break
            need -= header.sectionSize(column)
            header.setSectionHidden(column, True)
    finally:
        table.setProperty("fitting", False)


class _ColumnFitter(QObject):
    """Fits a table's columns again whenever the table changes size."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QTableView):
            fit_columns(watched)
        return False


def fit_columns_always(table: QTableView) -> None:
    """``fit_columns`` now and after every resize of the table."""
    fitter = _ColumnFitter(table)
    table.installEventFilter(fitter)
    # New contents (a refresh, sized to its contents by the tab's own code): fitted again
    # once the event loop is back, after that code has sized the columns.
    later = QTimer(table)
    later.setSingleShot(True)
    later.setInterval(0)
    later.timeout.connect(lambda: fit_columns(table))
    model = table.model()
    for signal in (model.modelReset, model.rowsInserted, model.columnsInserted):
        signal.connect(later.start)
    model.headerDataChanged.connect(later.start)
    fit_columns(table)


class _Contents(QWidget):
    """A tab's contents in its scroll area. The scroll area asks it for its height at the
    viewport's width and sizes it no shorter: the *least* height its layout needs at that
    width (wrapped texts whole, tables at their minimum), not the preferred one, which
    counts every table's full length and would scroll a page that fits."""

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        if layout is None:
            return super().heightForWidth(width)
        return layout.totalMinimumHeightForWidth(width)


# A page's property: it scrolls in a scroll area of its own already, with its result banner
# kept in sight outside it (the merchant review, the themes), so ``scroll_when_tall`` leaves
# it as it is.
SCROLLS_ITSELF = "scrolls_itself"


def scroll_when_tall(page: QWidget) -> None:
    """Put what ``page`` lays out into a scroll area of its own, so a tall tab (the reports'
    list, the requirements with their explanations in large print) scrolls inside the page
    instead of making the window taller than a 768-px laptop screen. The page stays the
    tab's widget (code opens it by name); sideways the area scrolls only when the page
    truly needs more width, which the layout tests count as a fault.

    A page marked ``SCROLLS_ITSELF`` is left alone: wrapped again, its scroll area would sit
    inside this one, two bars side by side and the wheel turning whichever is under the
    pointer (the themes tab in large print, issue #24)."""
    if page.property(SCROLLS_ITSELF):
        return
    inner = _Contents()
    inner.setObjectName(f"{page.objectName() or type(page).__name__}_contents")
    inner.setLayout(page.layout())  # takes the layout and its widgets from the page
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(inner)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
