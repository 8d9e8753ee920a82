"""Event reports from the app: one button per report, written as .xlsx and PDF to a folder.

The reports are the same as ``kiosk report NAME`` (``printing.event_reports``); the folder is
asked once and kept while the station is open. Writing runs in the main thread (a report
takes well under a second on a demo-sized event); the outcome is shown in words.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk import netwait
from kiosk.errors import KioskError
from kiosk.i18n import _
from printing.event_reports import REPORTS, write_event_report
from printing.merchant_statement import write_merchant_statements
from ui.context import StationContext
from ui.widgets import ResultBanner, Tone

DESCRIPTIONS = {
    "summary": lambda: _(
        "The funnel, attendance by slot and branch, points and the redemption ratio, "
        "coverage, visit timelines."
    ),
    "progress": lambda: _("Invitation progress per branch (against its target) and per RM."),
    "rm": lambda: _(
        "Per RM: customers invited, arrived, governed, mobile banking opened and activated, "
        "points redeemed."
    ),
    "merchants": lambda: _("Per service: capacity, taken, redeemed; every redemption."),
    "unredeemed": lambda: _("Slips not redeemed, per branch and RM, names masked."),
    "settlement": lambda: _(
        "What each merchant is paid, in points and yuan, with subtotals; the points returned."
    ),
}


class ReportsPanel(QWidget):
    def __init__(
        self,
        context: StationContext,
        choose_folder: Callable[[QWidget, str], Path | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.choose_folder = choose_folder
        self.folder: Path | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "Each report is written as an Excel workbook and a PDF with charts, with the "
                "figures the dashboard shows. Names are masked."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.folder_label = QLabel(_("No folder chosen yet."))
        self.folder_label.setObjectName("report_folder")
        self.folder_label.setProperty("role", "hint")
        change = QPushButton(_("Choose folder…"))
        change.clicked.connect(self.ask_folder)
        row.addWidget(self.folder_label, 1)
        row.addWidget(change)
        layout.addLayout(row)
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for index, kind in enumerate(REPORTS):
            button = QPushButton(kind.title())
            button.setObjectName(f"report_{kind.name}")
            button.clicked.connect(lambda _checked=False, name=kind.name: self.write([name]))
            self.buttons[kind.name] = button
            grid.addWidget(button, index, 0)
            text = QLabel(DESCRIPTIONS[kind.name]())
            text.setWordWrap(True)
            grid.addWidget(text, index, 1)
        every = QPushButton(_("All reports"))
        every.setObjectName("report_all")
        every.setProperty("role", "primary")
        every.clicked.connect(lambda: self.write([kind.name for kind in REPORTS]))
        self.buttons["all"] = every
        grid.addWidget(every, len(REPORTS), 0)
        statements = QPushButton(_("Merchant statements"))
        statements.setObjectName("report_merchant_statements")
        statements.clicked.connect(self.write_statements)
        self.buttons["merchant_statements"] = statements
        grid.addWidget(statements, len(REPORTS) + 1, 0)
        statements_text = QLabel(
            _(
                "One PDF per merchant to sign: its services in points and yuan, the total in "
                "figures and in words (as the settlement report)."
            )
        )
        statements_text.setWordWrap(True)
        grid.addWidget(statements_text, len(REPORTS) + 1, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        self.banner = ResultBanner()
        layout.addWidget(self.banner)
        layout.addStretch(1)

    def ask_folder(self) -> bool:
        folder = self.choose_folder(self, _("Folder for the reports"))
        if folder is None:
            return False
        self.folder = folder
        self.folder_label.setText(str(folder))
        return True

    def write_statements(self) -> list[Path]:
        """The merchant statements (``kiosk report merchant-statements``) into a folder
        asked for each time: they are signed and filed apart from the reports."""
        folder = self.choose_folder(self, _("Folder for the merchant statements"))
        if folder is None:
            return []
        try:
            with netwait.patient():  # many reads in a row: no desk action's bound
                written = write_merchant_statements(
                    self.context.uow, folder, clock=self.context.app.clock
                )
        except (KioskError, OSError) as error:
            self.banner.show_result(
                Tone.ERROR, _("The merchant statements were not written."), str(error)
            )
            return []
        self.banner.show_result(
            Tone.OK,
            _("{n} files written to {folder}").format(n=len(written), folder=folder),
            "\n".join(p.name for p in written),
        )
        return written

    def write(self, names: list[str]) -> list[Path]:
        if self.folder is None and not self.ask_folder():
            return []
        assert self.folder is not None
        written: list[Path] = []
        try:
            with netwait.patient():  # many reads in a row: no desk action's bound
                for name in names:
                    written += write_event_report(
                        name, self.context.uow, self.folder, clock=self.context.app.clock
                    )
        except (KioskError, OSError) as error:
            self.banner.show_result(Tone.ERROR, _("The report was not written."), str(error))
            return written
        self.banner.show_result(
            Tone.OK,
            _("{n} files written to {folder}").format(n=len(written), folder=self.folder),
            "\n".join(p.name for p in written),
        )
        return written
