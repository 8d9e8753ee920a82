"""The Progress tab: invitation progress by branch and slot, read when the tab is opened.

A mixin of ``AdminStation``: the tab's widgets are the station's attributes, as before the
split, so the station reads the same from outside.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import tracking
from kiosk.services.coverage import Coverage, CoverageRow
from kiosk.services.figures import Stage, stage_label
from kiosk.services.followup import FollowupCoverage
from printing.followup import coverage_headers as followup_coverage_headers
from printing.followup import coverage_rows as followup_coverage_rows
from printing.invitations import (
    call_rule_text,
    coverage_figures,
    coverage_headers,
    percent_text,
    write_progress,
)
from printing.reports import Percent
from ui.stations.admin.common import (
    LESSER,
    fill_table,
    make_table,
    number_text,
    progress_counts,
)
from ui.widgets import ResultBanner, Tone


class ProgressTab:
    """The Progress tab: invitation progress by branch and slot, read when the tab is opened."""

    # -- progress ---------------------------------------------------------------------------

    def _progress_tab(self) -> QWidget:
        tab = self.progress_tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        hint = QLabel(
            _(
                "From the branches' daily invitation reports: invited (every invitation, as "
                "on the dashboard), in a daily report (a report named the customer), reached "
                "(answered), confirmed against the branch's target."
            )
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        row.addWidget(hint, 1)
        self.progress_refresh = QPushButton(_("Refresh"))
        self.progress_refresh.clicked.connect(self.refresh_progress)
        row.addWidget(self.progress_refresh)
        self.progress_export = QPushButton(_("Export .xlsx…"))
        self.progress_export.setProperty("role", "primary")
        self.progress_export.clicked.connect(self.export_progress)
        row.addWidget(self.progress_export)
        layout.addLayout(row)
        self.progress_banner = ResultBanner()
        layout.addWidget(self.progress_banner)
        figures = [
            stage_label(Stage.INVITED),
            _("In a daily report"),
            _("Reached"),
            _("Unreachable"),
            _("Confirmed"),
            _("Declined"),
            _("Companions"),
        ]
        self.branch_table = make_table(
            [_("Branch"), _("Branch name"), *figures, _("Target"), _("% of target")]
        )
        self.rm_table = make_table([_("RM staff no."), _("RM"), _("Branch"), *figures])
        # Where the columns do not fit (large print): the name, invited, confirmed and the
        # target's share stay; the export has them all.
        self.branch_table.setProperty(LESSER, [3, 5, 8, 7, 4, 0, 9])
        self.rm_table.setProperty(LESSER, [4, 6, 9, 8, 5, 2, 0])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.branch_table)
        splitter.addWidget(self.rm_table)
        # Contact coverage (issue #20): per branch and RM, and who the call rule misses.
        coverage = QWidget()
        coverage_layout = QVBoxLayout(coverage)
        coverage_layout.setContentsMargins(0, 0, 0, 0)
        self.call_rule_label = QLabel("")
        self.call_rule_label.setObjectName("call_rule")
        self.call_rule_label.setWordWrap(True)
        coverage_layout.addWidget(self.call_rule_label)
        self.coverage_table = make_table(
            [_("Branch / RM"), _("Name"), _("Branch"), *coverage_headers(None)]
        )
        self.coverage_table.setObjectName("coverage_table")
        coverage_layout.addWidget(self.coverage_table, 1)
        splitter.addWidget(coverage)
        self.uncalled_table = make_table(
            [_("Customer no."), _("Customer"), _("Branch"), _("RM staff no."), _("RM"), _("Points")]
        )
        self.uncalled_table.setObjectName("uncalled_table")
        splitter.addWidget(self.uncalled_table)
        # After the event (issue #21): the RMs' follow-up per RM, once anyone checked in.
        self.followup_table = make_table(followup_coverage_headers())
        self.followup_table.setObjectName("followup_coverage_table")
        self.followup_table.setVisible(False)
        splitter.addWidget(self.followup_table)
        layout.addWidget(splitter, 1)
        return tab

    def refresh_progress(self) -> None:
        try:
            progress = tracking.progress(self.context.uow())
        except KioskError as error:
            self.progress_banner.show_result(Tone.ERROR, _("No progress yet"), str(error))
            return
        rows = [
            [r.code, r.name, *progress_counts(r), number_text(r.target), percent_text(r)]
            for r in progress.branches
        ]
        total = progress.total
        rows.append(
            [
                _("Total"),
                "",
                *progress_counts(total),
                number_text(total.target),
                percent_text(total),
            ]
        )
        fill_table(self.branch_table, rows)
        fill_table(
            self.rm_table,
            [[r.code or _("(no RM)"), r.name, r.branch, *progress_counts(r)] for r in progress.rms],
        )
        self._show_coverage(progress.coverage)
        self._show_followup(progress.followup)
        self.progress_banner.clear()

    def _show_coverage(self, coverage: Coverage | None) -> None:
        if coverage is None:
            return
        floor = coverage.floor
        headers = [_("Branch / RM"), _("Name"), _("Branch"), *coverage_headers(floor)]
        self.coverage_table.setColumnCount(len(headers))
        self.coverage_table.setHorizontalHeaderLabels(headers)

        def cells(row: CoverageRow) -> list[str]:
            return [_cell(value) for value in coverage_figures(row, floor)]

        rows = [[r.code, r.name, r.branch, *cells(r)] for r in coverage.branches]
        rows.append([_("Total"), "", "", *cells(coverage.total)])
        rows += [[r.code or _("(no RM)"), r.name, r.branch, *cells(r)] for r in coverage.rms]
        fill_table(self.coverage_table, rows)
        fill_table(
            self.uncalled_table,
            [
                [m.customer_no, m.masked_name, m.branch, m.rm_no, m.rm_name, f"{m.points:,}"]
                for m in coverage.missing
            ],
        )
        self.call_rule_label.setText(call_rule_text(coverage))

    def _show_followup(self, coverage: FollowupCoverage | None) -> None:
        self.followup_table.setVisible(coverage is not None)
        if coverage is None:
            return
        fill_table(
            self.followup_table,
            [[_cell(v) for v in row] for row in followup_coverage_rows(coverage)[1:]],
        )

    def export_progress(self) -> None:
        path = self.chooser.save_file(
            self, _("Export the progress"), "progress.xlsx", _("Excel (*.xlsx)")
        )
        if path is None:
            return
        try:
            write_progress(tracking.progress(self.context.uow()), path)
        except (KioskError, OSError) as error:
            self.progress_banner.show_result(Tone.ERROR, _("Not exported"), str(error))
            return
        self.progress_banner.show_result(Tone.OK, _("Written to {path}.").format(path=path))


def _cell(value: object) -> str:
    if isinstance(value, Percent):
        return f"{round(100 * value)}%"
    return "" if value is None else str(value)
