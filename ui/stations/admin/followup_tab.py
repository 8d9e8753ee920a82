"""Administration -> Follow-up (跟进, issue #21): after the event, each RM's follow-up list in
numbers (customers per group, how many followed up, their latest outcomes), and the export
of one workbook per RM into a folder. The RMs' filled workbooks come back through the Import
tab (kind 跟进反馈). A thin face over ``kiosk.services.followup``; read when the tab opens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import followup
from kiosk.services.followup import STAGES, FollowupLists, stage_label
from printing.followup import coverage_headers, coverage_values, write_followup
from printing.reports import Percent
from ui.context import StationContext
from ui.stations.admin.common import fill_table, make_table
from ui.widgets import ResultBanner, Tone


def cell_text(value: object) -> str:
    if isinstance(value, Percent):
        return f"{round(100 * value)}%"
    return "" if value is None else str(value)


def headers() -> list[str]:
    """RM, branch, the customers per group, then the coverage (``printing.followup``)."""
    first, rest = coverage_headers()[:3], coverage_headers()[3:]
    return [*first, *[stage_label(s) for s in STAGES], *rest]


class FollowupPanel(QWidget):
    def __init__(
        self,
        context: StationContext,
        choose_folder: Callable[[QWidget, str], Path | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.choose_folder = choose_folder
        self.lists: FollowupLists | None = None
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        hint = QLabel(
            _(
                "After the event every invitee is followed up by their RM, by where they "
                "stand: one workbook per RM with the groups, a suggested next action and "
                "the columns to fill in. Import the filled workbooks on the Import tab "
                "(Follow-up workbooks)."
            )
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        row.addWidget(hint, 1)
        self.refresh_button = QPushButton(_("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        self.export_button = QPushButton(_("Export per RM…"))
        self.export_button.setObjectName("export_followup")
        self.export_button.setProperty("role", "primary")
        self.export_button.clicked.connect(self.export)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        self.banner = ResultBanner()
        layout.addWidget(self.banner)
        self.table = make_table(headers())
        self.table.setObjectName("followup_table")
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        try:
            self.lists = followup.followup_lists(self.context.uow())
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("No follow-up lists yet"), str(error))
            return
        by_rm = {r.rm_no: r for r in self.lists.coverage.rms}
        rows = []
        for rm in self.lists.rms:
            cover = by_rm[rm.rm_no]
            rows.append(
                [
                    rm.rm_no or _("(no RM)"),
                    rm.rm_name,
                    rm.branch,
                    *[str(rm.count(s)) for s in STAGES],
                    *[cell_text(v) for v in coverage_values(cover)],
                ]
            )
        total = self.lists.coverage.total
        rows.append(
            [
                _("Total"),
                "",
                "",
                *[str(sum(rm.count(s) for rm in self.lists.rms)) for s in STAGES],
                *[cell_text(v) for v in coverage_values(total)],
            ]
        )
        fill_table(self.table, rows)
        self.banner.clear()

    def export(self) -> None:
        folder = self.choose_folder(self, _("Choose the folder for the follow-up workbooks"))
        if folder is None:
            return
        try:
            lists = followup.followup_lists(self.context.uow())
            if not lists.rms:
                raise KioskError(_("Nobody is on a follow-up list: the event has no invitees yet."))
            paths = write_followup(lists.rms, folder, lists.event_date)
        except (KioskError, OSError) as error:
            self.banner.show_result(Tone.ERROR, _("Not exported"), str(error))
            return
        self.refresh()
        self.banner.show_result(
            Tone.OK,
            _("{n} follow-up workbooks written to {path}.").format(n=len(paths), path=folder),
        )
