"""What the admin tabs share: the file dialogs (``FileChooser``, which tests answer), table
helpers and the words for import kinds and cleaned text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from kiosk.services import tracking
from ui.language import FILE_DIALOG


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


def scroll_when_tall(page: QWidget) -> None:
    """Put what ``page`` lays out into a scroll area of its own, so a tall tab (the reports'
    list, the requirements with their explanations in large print) scrolls inside the page
    instead of making the window taller than a 768-px laptop screen. The page stays the
    tab's widget (code opens it by name); sideways the area scrolls only when the page
    truly needs more width, which the layout tests count as a fault."""
    inner = QWidget()
    inner.setObjectName(f"{page.objectName() or type(page).__name__}_contents")
    inner.setLayout(page.layout())  # takes the layout and its widgets from the page
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(inner)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
