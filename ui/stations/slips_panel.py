"""The activation desk's list of the customer's slips, as a panel: number, service, points,
status and copies printed, voided ones grey, with "Print again" and "Void" under it. It reads
nothing; the station hands it the rows (``slips.slips_of``) and acts on the selected one."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from kiosk.models import SlipStatus
from kiosk.services.slips import SlipRow
from ui.stations.catalog_panel import GREY
from ui.theme import fit_rows, is_large_print


class SlipsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("slips")
        self.table.setHorizontalHeaderLabels(
            [_("Slip"), _("Service"), _("Points"), _("Status"), _("Copies")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        fit_rows(self.table)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(24)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        if is_large_print():  # the service's whole name, on two lines, never "基础体…"
            self.table.setWordWrap(True)
            header.sectionResized.connect(lambda *_args: self.table.resizeRowsToContents())
        self.reprint_button = QPushButton(_("Print again (Ctrl+P)"))
        self.reprint_button.setObjectName("reprint")
        self.void_button = QPushButton(_("Void…"))
        self.void_button.setObjectName("void")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 4, 0, 0)
        column.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reprint_button)
        buttons.addWidget(self.void_button)
        column.addLayout(buttons)

    def show_rows(self, rows: list[SlipRow]) -> None:
        """The slips, the selected row kept (else the first selected)."""
        keep = self.table.currentRow()
        self.table.setRowCount(len(rows))
        for r, slip in enumerate(rows):
            status = {
                SlipStatus.ISSUED: _("issued"),
                SlipStatus.VOIDED: _("voided"),
                SlipStatus.REDEEMED: _("redeemed"),
            }.get(SlipStatus(slip.status), slip.status)
            for c, text in enumerate(
                (
                    f"{slip.serial:06d}",
                    f"{slip.merchant} · {slip.offer} × {slip.quantity}",
                    f"{slip.points:,}",
                    status,
                    str(slip.copies_printed),
                )
            ):
                item = QTableWidgetItem(text)
                if slip.status == SlipStatus.VOIDED:
                    item.setForeground(GREY)
                self.table.setItem(r, c, item)
        for column in (2, 4):  # points and copies only when there is room
            self.table.setColumnHidden(column, is_large_print())
        if is_large_print():
            self.table.resizeRowsToContents()
        if 0 <= keep < len(rows):
            self.table.selectRow(keep)
        elif rows:
            self.table.selectRow(0)
