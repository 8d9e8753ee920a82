"""Administration (the coordinator, before the event): imports with a preview and every
problem in one table, the templates to fill in, invitation progress, slot reminders and the
catalog booklet, what customers must do before slips, and where the automatic backups go.

Progress and reminders are read when their tab is opened (and on Refresh), not when the
station opens, so the import tab stays instant at any event size. Reminders show masked
phones; an export carries full numbers only when the supervisor types the event passphrase.

An import is checked as soon as a file is chosen; the Import button is enabled only when the
check found no problem, and the service checks again inside its transaction. ID numbers and
phones are masked in the preview; the problem table names the row and column, never an ID.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk import privacy
from kiosk.backup import backups as backup_files
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.imports import KINDS, ORDER, ImportCheck
from kiosk.imports.check import IGNORE, Cancelled
from kiosk.imports.reading import SheetChoice
from kiosk.imports.templates import write_templates
from kiosk.permissions import Action
from kiosk.roles import Station
from kiosk.services import imports, tracking
from kiosk.services.events import event_header
from kiosk.services.figures import Stage, stage_label
from printing.booklet import BookletPaper, render_booklet, render_html
from printing.invitations import percent_text, write_progress, write_reminders
from ui.approval import approval_for
from ui.audit_panel import AuditPanel
from ui.context import StationContext
from ui.language import FILE_DIALOG
from ui.reports_panel import ReportsPanel
from ui.requirements_panel import RequirementsPanel
from ui.stations.base import StationPage
from ui.widgets import ResultBanner, Tone


def kind_label(kind: str) -> str:
    return {
        "branches": _("Branches"),
        "staff": _("Staff"),
        "catalog": _("Catalog"),
        "invitees": _("Invitees"),
        "invitations": _("Invitation reports"),
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


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    return table


class AdminStation(StationPage):
    station = Station.ADMIN
    chooser = FileChooser

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.path: Path | None = None
        self.check: ImportCheck | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        title = QLabel(_("Before the event"))
        title.setProperty("role", "title")
        layout.addWidget(title)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._import_tab(), _("Import"))
        self.tabs.addTab(self._templates_tab(), _("Templates"))
        self.tabs.addTab(self._progress_tab(), _("Progress"))
        self.tabs.addTab(self._reminders_tab(), _("Reminders"))
        self.tabs.addTab(self._booklet_tab(), _("Booklet"))
        self.requirements = RequirementsPanel(context)
        self.tabs.addTab(self.requirements, _("Before slips"))
        self.reports = ReportsPanel(
            context, lambda parent, title: self.chooser.directory(parent, title)
        )
        self.tabs.addTab(self.reports, _("Reports"))
        self.tabs.addTab(self._backups_tab(), _("Backups"))
        self.audit_panel = AuditPanel(context)
        self.tabs.addTab(self.audit_panel, _("Audit"))
        self.tabs.currentChanged.connect(self._tab_opened)
        layout.addWidget(self.tabs, 1)

    def _tab_opened(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.progress_tab:
            self.refresh_progress()
        elif widget is self.reminders_tab:
            self.refresh_reminders()
        elif widget is self.booklet_tab:
            self.refresh_booklet()
        elif widget is self.requirements:
            self.requirements.refresh()
        elif widget is self.backups_tab:
            self.refresh_backups()
        elif widget is self.audit_panel:
            self.audit_panel.refresh()

    # -- import -----------------------------------------------------------------------------

    def _import_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.kind = QComboBox()
        for kind in ORDER:
            self.kind.addItem(kind_label(kind), kind)
        self.kind.setCurrentIndex(ORDER.index("invitees"))
        self.kind.currentIndexChanged.connect(self._kind_changed)
        row.addWidget(QLabel(_("Import")))
        row.addWidget(self.kind)
        self.choose_button = QPushButton(_("Choose file…"))
        self.choose_button.clicked.connect(self.choose_file)
        row.addWidget(self.choose_button)
        self.file_label = QLabel(_("No file chosen."))
        self.file_label.setProperty("role", "hint")
        row.addWidget(self.file_label, 1)
        self.recheck_button = QPushButton(_("Check again"))
        self.recheck_button.clicked.connect(self._recheck)
        self.recheck_button.setEnabled(False)
        row.addWidget(self.recheck_button)
        self.import_button = QPushButton(_("Import"))
        self.import_button.setProperty("role", "primary")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.run_import)
        row.addWidget(self.import_button)
        layout.addLayout(row)
        # Which sheet, which header row: nothing about the file is decided silently.
        where = QHBoxLayout()
        self.sheet_label = QLabel(_("Sheet"))
        where.addWidget(self.sheet_label)
        self.sheet = QComboBox()
        self.sheet.setMinimumContentsLength(12)
        self.sheet.activated.connect(self._sheet_chosen)
        where.addWidget(self.sheet)
        self.found_label = QLabel("")
        self.found_label.setProperty("role", "hint")
        self.found_label.setWordWrap(True)
        where.addWidget(self.found_label, 1)
        layout.addLayout(where)
        # Progress of a long check or import, with Cancel (nothing is imported then).
        running = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        running.addWidget(self.progress, 1)
        self.cancel_button = QPushButton(_("Cancel"))
        self.cancel_button.clicked.connect(self._cancel)
        running.addWidget(self.cancel_button)
        self._running_row = running
        layout.addLayout(running)
        self._set_running(False)
        self._cancelled = False
        self.banner = ResultBanner()
        layout.addWidget(self.banner)
        issues_box = self.issues_box = QWidget()
        issues_layout = QVBoxLayout(issues_box)
        issues_layout.setContentsMargins(0, 0, 0, 0)
        self.issues_title = QLabel(_("Problems: fix them in the file, save it and check again"))
        self.issues_title.setProperty("role", "subtitle")
        issues_layout.addWidget(self.issues_title)
        self.issues = _table([_("Row"), _("Column"), _("Problem")])
        header = self.issues.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.issues.setWordWrap(True)
        self.issues.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        issues_layout.addWidget(self.issues, 1)
        below = QSplitter(Qt.Orientation.Horizontal)
        columns_box = QWidget()
        columns_layout = QVBoxLayout(columns_box)
        columns_layout.setContentsMargins(0, 0, 0, 0)
        self.columns_title = QLabel(_("Columns"))
        self.columns_title.setProperty("role", "subtitle")
        columns_layout.addWidget(self.columns_title)
        self.columns = _table([_("Column in the file"), _("Imported as")])
        self.columns.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.columns.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.columns.horizontalHeader().setStretchLastSection(True)
        columns_layout.addWidget(self.columns, 1)
        below.addWidget(columns_box)
        # Wide enough for a Chinese header and its drop-down, in large print too.
        columns_box.setMinimumWidth(self.fontMetrics().horizontalAdvance("客") * 20)
        below.setCollapsible(0, False)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        self.preview_title = QLabel(_("Preview"))
        self.preview_title.setProperty("role", "subtitle")
        preview_layout.addWidget(self.preview_title)
        self.preview = _table([])
        preview_layout.addWidget(self.preview, 1)
        below.addWidget(preview_box)
        below.setStretchFactor(0, 2)
        below.setStretchFactor(1, 3)
        self.below = below
        # Problems above, columns and preview below; the coordinator drags the line between.
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(issues_box)
        self.split.addWidget(below)
        self.split.setChildrenCollapsible(False)
        layout.addWidget(self.split, 1)
        self._import_layout = layout
        self.sheet_choice: str | None = None
        self.overrides: dict[str, str] = {}
        self._show(None)
        return tab

    def choose_file(self) -> None:
        path = self.chooser.open_file(self, _("Choose the file to import"))
        if path is None:
            return
        self.path = path
        self.sheet_choice = None
        self.overrides = {}
        self.file_label.setText(path.name)
        self.recheck_button.setEnabled(True)
        self._recheck(remember=True)

    def _kind(self) -> str:
        return str(self.kind.currentData())

    def _kind_changed(self) -> None:
        self.overrides = {}  # another import has other fields
        self._recheck(remember=True)

    def _sheet_chosen(self) -> None:
        chosen = self.sheet.currentData()
        if chosen and chosen != self.sheet_choice:
            self.sheet_choice = str(chosen)
            self.overrides = {}
            self._recheck(remember=True)

    def _column_chosen(self, header: str, combo: QComboBox) -> None:
        self.overrides[header] = str(combo.currentData())
        self._recheck()

    # A long file is checked and written on this thread; the progress callback lets Qt
    # paint the bar and deliver the Cancel click between two batches of rows.

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        for widget in (self.kind, self.choose_button, self.recheck_button, self.sheet):
            widget.setEnabled(
                not running and (widget is not self.recheck_button or bool(self.path))
            )
        if running:
            self.import_button.setEnabled(False)

    def _cancel(self) -> None:
        self._cancelled = True
        self.cancel_button.setEnabled(False)

    def _report(self, stage: str, done: int, total: int) -> None:
        if stage == "checked":
            self.progress.setRange(0, 0)  # the length of a streamed file is not known yet
            self.progress.setFormat(_("{n:,} rows checked").format(n=done))
        else:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
            self.progress.setFormat(
                _("{n:,} of {total:,} rows written").format(n=done, total=total)
            )
        QApplication.processEvents()

    def _running(self, work: Callable[[], object]) -> object:
        self._cancelled = False
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat(_("Reading the file…"))
        self._set_running(True)
        QApplication.processEvents()
        try:
            return work()
        finally:
            self._set_running(False)

    def _choices(self) -> imports.Choices:
        return imports.Choices(self.sheet_choice, dict(self.overrides))

    def _recheck(self, *, remember: bool = False) -> None:
        if self.path is None:
            return
        self.banner.clear()
        path = self.path
        try:
            check = self._running(
                lambda: imports.check_file(
                    self.context.uow(),
                    self._kind(),
                    path,
                    self._choices(),
                    progress=self._report,
                    cancelled=lambda: self._cancelled,
                )
            )
        except SheetChoice as choice:
            self._show(None)
            self._offer_sheets(choice.sheets)
            self.banner.show_result(
                Tone.WARN,
                _("Several sheets hold data: choose the sheet to import"),
                str(choice),
            )
            return
        except Cancelled:
            self._show(None)
            self.banner.show_result(Tone.INFO, _("Check cancelled"), _("Nothing was imported."))
            return
        except KioskError as error:
            self._show(None)
            self.banner.show_result(Tone.ERROR, _("Cannot read the file"), str(error))
            return
        assert isinstance(check, ImportCheck)
        if remember and check.branch and not self.overrides:
            saved = self.context.preferences().import_mapping(self._kind(), check.branch)
            usable = {h: f for h, f in saved.items() if h in check.headers}
            if usable:  # this branch's spellings, as mapped in its last file
                self.overrides = usable
                self._recheck()
                return
        self._show(check)
        if check.issues:
            self.banner.show_result(
                Tone.ERROR,
                _("{n} problem(s); nothing can be imported yet").format(n=len(check.issues)),
                _("Every problem is listed with its row and column."),
            )
        else:
            self.banner.show_result(
                Tone.OK,
                _("{n} rows are ready to import").format(n=check.rows),
                " ".join([_("Check the columns and the preview, then press Import."),
                          *check.normalised_sentences()]),
            )  # fmt: skip

    def _offer_sheets(self, sheets: list[str]) -> None:
        self.sheet.clear()
        self.sheet.addItem(_("Choose…"), "")
        for name in sheets:
            self.sheet.addItem(name, name)
        self.sheet.setCurrentIndex(0)
        self.sheet.setEnabled(True)
        self.sheet.setVisible(True)
        self.sheet_label.setVisible(True)

    def _show(self, check: ImportCheck | None) -> None:
        self.check = check
        issues = check.issues if check else []
        self.issues.setRowCount(len(issues))
        for r, issue in enumerate(issues):
            for c, value in enumerate((str(issue.row), issue.column, issue.message)):
                self.issues.setItem(r, c, QTableWidgetItem(value))
        self.issues.resizeRowsToContents()
        self.issues.setVisible(bool(issues))
        self.issues_title.setVisible(bool(issues))
        self.issues_box.setVisible(bool(issues))
        # The problems matter most while there are any, but a question about a column is
        # answered in the columns below: those keep room.
        if issues:
            self._fit_issues()
            QTimer.singleShot(0, self._fit_issues)  # again once the layout has its widths
        self._show_where(check)
        self._show_columns(check)
        columns = check.columns if check else []
        preview = check.preview if check else []
        self.preview.clear()
        self.preview.setColumnCount(len(columns) + 1)
        self.preview.setHorizontalHeaderLabels([_("Row"), *columns])
        self.preview.setRowCount(len(preview))
        for r, (number, values) in enumerate(preview):
            self.preview.setItem(r, 0, QTableWidgetItem(str(number)))
            for c, value in enumerate(values, start=1):
                self.preview.setItem(r, c, QTableWidgetItem(value))
        self.preview.resizeColumnsToContents()
        self.import_button.setEnabled(check is not None and check.ok)

    def _fit_issues(self) -> None:
        """Give the problems the height their wrapped rows need, at most half."""
        self.issues.resizeRowsToContents()
        total = max(self.split.height(), 300)
        wanted = (
            self.issues_title.sizeHint().height()
            + self.issues.horizontalHeader().height()
            + sum(self.issues.rowHeight(r) for r in range(self.issues.rowCount()))
            + 16
        )
        top = min(wanted, total // 2)
        self.split.setSizes([top, total - top])

    def _show_where(self, check: ImportCheck | None) -> None:
        if check is None:
            self.found_label.setText("")
            if self.sheet.count() <= 1:
                self.sheet.setVisible(False)
                self.sheet_label.setVisible(False)
            return
        if check.sheet and self.sheet.findData(check.sheet) < 0:
            self.sheet.clear()
            self.sheet.addItem(check.sheet, check.sheet)
        if check.sheet:
            self.sheet.setCurrentIndex(self.sheet.findData(check.sheet))
        self.sheet.setVisible(bool(check.sheet))
        self.sheet_label.setVisible(bool(check.sheet))
        parts = []
        if check.header_row:
            parts.append(_("Header in row {row}.").format(row=check.header_row))
        for hidden in check.skipped_sheets:
            parts.append(_("Hidden sheet “{sheet}” skipped.").format(sheet=hidden))
        self.found_label.setText(" ".join(parts))

    def _show_columns(self, check: ImportCheck | None) -> None:
        """Each column of the file with a drop-down of the fields it can be imported as."""
        headers = check.headers if check else []
        used = dict(check.mapping) if check else {}
        fields = KINDS[self._kind()].fields
        self.columns.setRowCount(len(headers))
        for r, header in enumerate(headers):
            self.columns.setItem(r, 0, QTableWidgetItem(header))
            combo = QComboBox()
            combo.addItem(_("— not imported —"), IGNORE)
            for f in fields:
                combo.addItem(_(f.header), f.name)
            combo.setCurrentIndex(max(0, combo.findData(used.get(header, IGNORE))))
            combo.activated.connect(lambda _i, h=header, c=combo: self._column_chosen(h, c))
            self.columns.setCellWidget(r, 1, combo)
        self.columns.resizeColumnsToContents()
        self.columns_title.setVisible(bool(headers))
        self.columns.setVisible(bool(headers))

    def run_import(self) -> None:
        if self.path is None or self.check is None or not self.check.ok:
            return
        go, approval = approval_for(self, self.context, Action.IMPORT_FILE, station="admin")
        if not go:
            return
        path, branch, kind = self.path, self.check.branch, self._kind()
        try:
            result = self._running(
                lambda: imports.import_file(
                    self.context.uow(),
                    kind,
                    path,
                    self.context.staff,
                    approval=approval,
                    station="admin",
                    clock=self.context.app.clock,
                    choices=self._choices(),
                    progress=self._report,
                    cancelled=lambda: self._cancelled,
                )
            )
        except imports.ImportRefused as refused:  # the file changed since the check
            self._show(refused.check)
            self.banner.show_result(Tone.ERROR, str(refused))
            return
        except Cancelled:
            self.import_button.setEnabled(True)
            self.banner.show_result(
                Tone.INFO, _("Import cancelled"), _("Nothing was imported; the file is as it was.")
            )
            return
        except KioskError as error:
            self.import_button.setEnabled(self.check.ok)
            self.banner.show_result(Tone.ERROR, _("Not imported"), str(error))
            return
        assert isinstance(result, imports.ImportResult)
        if branch:  # the next file of this branch is read the same way
            self.context.preferences().set_import_mapping(kind, branch, dict(self.overrides))
        self.import_button.setEnabled(False)
        self.banner.show_result(
            Tone.OK,
            result.summary(path.name),
            " ".join([_("Importing the same file again changes nothing; a corrected file "
                        "updates."), *result.check.normalised_sentences()]),
        )  # fmt: skip

    # -- templates --------------------------------------------------------------------------

    def _templates_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        intro = QLabel(
            _(
                "One Excel template per import, numbered in the order to import them. Row 1 "
                "names the columns, row 2 says what goes in them; fill in from row 3. Columns "
                "in any order, headers in Chinese or English."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.templates_button = QPushButton(_("Write templates to a folder…"))
        self.templates_button.setProperty("role", "primary")
        self.templates_button.clicked.connect(self.write_templates)
        row = QHBoxLayout()
        row.addWidget(self.templates_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.templates_banner = ResultBanner()
        layout.addWidget(self.templates_banner)
        layout.addStretch(1)
        return tab

    def write_templates(self) -> None:
        directory = self.chooser.directory(self, _("Folder for the templates"))
        if directory is None:
            return
        try:
            branches, slots = imports.template_choices(self.context.uow())
            paths = write_templates(directory, branches=branches, slots=slots)
        except (KioskError, OSError) as error:
            self.templates_banner.show_result(Tone.ERROR, _("Templates not written"), str(error))
            return
        self.templates_banner.show_result(
            Tone.OK,
            _("{n} templates written to {folder}").format(n=len(paths), folder=directory),
            "\n".join(p.name for p in paths),
        )

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
        self.branch_table = _table(
            [_("Branch"), _("Branch name"), *figures, _("Target"), _("% of target")]
        )
        self.rm_table = _table([_("RM staff no."), _("RM"), _("Branch"), *figures])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.branch_table)
        splitter.addWidget(self.rm_table)
        layout.addWidget(splitter, 1)
        return tab

    def refresh_progress(self) -> None:
        try:
            progress = tracking.progress(self.context.uow())
        except KioskError as error:
            self.progress_banner.show_result(Tone.ERROR, _("No progress yet"), str(error))
            return
        rows = [
            [r.code, r.name, *_counts(r), _number(r.target), percent_text(r)]
            for r in progress.branches
        ]
        total = progress.total
        rows.append([_("Total"), "", *_counts(total), _number(total.target), percent_text(total)])
        _fill(self.branch_table, rows)
        _fill(
            self.rm_table,
            [[r.code or _("(no RM)"), r.name, r.branch, *_counts(r)] for r in progress.rms],
        )
        self.progress_banner.clear()

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

    # -- reminders --------------------------------------------------------------------------

    def _reminders_tab(self) -> QWidget:
        tab = self.reminders_tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        hint = QLabel(
            _(
                "One text per confirmed customer for their RM to send. Phones are masked; "
                "type the event passphrase to export full numbers, and give each RM only "
                "theirs."
            )
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        row.addWidget(hint, 1)
        self.reminders_passphrase = QLineEdit()
        self.reminders_passphrase.setObjectName("reminders_passphrase")
        self.reminders_passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.reminders_passphrase.setPlaceholderText(_("Passphrase (full phones)"))
        row.addWidget(self.reminders_passphrase)
        self.reminders_refresh = QPushButton(_("Refresh"))
        self.reminders_refresh.clicked.connect(self.refresh_reminders)
        row.addWidget(self.reminders_refresh)
        self.reminders_xlsx = QPushButton(_("Export .xlsx…"))
        self.reminders_xlsx.setProperty("role", "primary")
        self.reminders_xlsx.clicked.connect(lambda: self.export_reminders(".xlsx"))
        row.addWidget(self.reminders_xlsx)
        self.reminders_txt = QPushButton(_("Export .txt…"))
        self.reminders_txt.clicked.connect(lambda: self.export_reminders(".txt"))
        row.addWidget(self.reminders_txt)
        layout.addLayout(row)
        self.reminders_banner = ResultBanner()
        layout.addWidget(self.reminders_banner)
        self.slot_title = QLabel(_("Confirmed customers per branch and slot"))
        self.slot_title.setProperty("role", "subtitle")
        self.slot_title.setWordWrap(True)
        layout.addWidget(self.slot_title)
        self.slot_table = _table([])
        self.reminder_table = _table(
            [_("RM"), _("Customer"), _("Mobile phone"), _("Slot"), _("Reminder text")]
        )
        self.reminder_table.horizontalHeader().setStretchLastSection(True)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.slot_table)
        splitter.addWidget(self.reminder_table)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        return tab

    def refresh_reminders(self) -> None:
        try:
            reminders = tracking.reminders(self.context.uow())
            load = tracking.slot_load(self.context.uow())
        except KioskError as error:
            self.reminders_banner.show_result(Tone.ERROR, _("No reminders yet"), str(error))
            return
        labels = [label for _code, label, _capacity in load.slots]
        self.slot_table.setColumnCount(2 + len(labels))
        self.slot_table.setHorizontalHeaderLabels([_("Branch"), _("Branch name"), *labels])
        codes = [code for code, _label, _capacity in load.slots]
        rows = [
            [b.branch, b.branch_name, *[_people(b.per_slot, b.people, c) for c in codes]]
            for b in load.branches
        ]
        rows.append(
            [
                _("Total"),
                "",
                *[
                    _("{n} of {capacity}").format(
                        n=_people({c: load.total(c)}, {c: load.total_people(c)}, c),
                        capacity=capacity,
                    )
                    for c, _label, capacity in load.slots
                ],
            ]
        )
        _fill(self.slot_table, rows)
        _fill(
            self.reminder_table,
            [
                [f"{r.rm_no} {r.rm_name}", r.masked_name, r.masked_phone, r.slot, r.text]
                for r in reminders
            ],
        )
        for r, reminder in enumerate(reminders):
            self.reminder_table.item(r, 4).setToolTip(reminder.text)
        self.slot_title.setText(
            _(
                "{n} reminders. Confirmed customers per branch and slot (people with companions):"
            ).format(n=len(reminders))
        )
        self.reminders_banner.clear()

    def export_reminders(self, suffix: str) -> None:
        filters = {".xlsx": _("Excel (*.xlsx)"), ".txt": _("Text (*.txt)")}
        path = self.chooser.save_file(
            self, _("Export the reminders"), f"reminders{suffix}", filters[suffix]
        )
        if path is None:
            return
        passphrase = self.reminders_passphrase.text()
        self.reminders_passphrase.clear()  # typed for one export, never kept
        try:
            opener = privacy.unlock(self.context.uow(), passphrase) if passphrase else None
            reminders = tracking.reminders(self.context.uow(), opener)
            write_reminders(reminders, tracking.slot_load(self.context.uow()), path)
        except (KioskError, OSError) as error:
            self.reminders_banner.show_result(Tone.ERROR, _("Not exported"), str(error))
            return
        self.reminders_banner.show_result(
            Tone.OK,
            _("{n} reminders written to {path}.").format(n=len(reminders), path=path),
            _("With full phone numbers: keep the file safe.") if opener else _("Phones masked."),
        )

    # -- backups ----------------------------------------------------------------------------

    def _backups_tab(self) -> QWidget:
        tab = self.backups_tab = QWidget()
        layout = QVBoxLayout(tab)
        intro = QLabel(
            _(
                "Every few minutes the app copies the event database to this folder, "
                "a USB stick best, and keeps the newest. The copies hold personal data "
                "sealed and masked, as the database does. To restore one: "
                "kiosk restore FILE --db URL."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Backup folder")))
        self.backup_folder = QLineEdit()
        self.backup_folder.setObjectName("backup_folder")
        self.backup_folder.setPlaceholderText(_("No folder: no automatic backups"))
        row.addWidget(self.backup_folder, 1)
        self.backup_choose = QPushButton(_("Choose…"))
        self.backup_choose.clicked.connect(self.choose_backup_folder)
        row.addWidget(self.backup_choose)
        layout.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Every (minutes)")))
        self.backup_minutes = QSpinBox()
        self.backup_minutes.setRange(1, 24 * 60)
        row.addWidget(self.backup_minutes)
        row.addWidget(QLabel(_("Keep the newest")))
        self.backup_keep = QSpinBox()
        self.backup_keep.setRange(1, 10_000)
        row.addWidget(self.backup_keep)
        row.addStretch(1)
        self.backup_save = QPushButton(_("Save"))
        self.backup_save.clicked.connect(self.save_backup_settings)
        row.addWidget(self.backup_save)
        self.backup_button = QPushButton(_("Back up now"))
        self.backup_button.setProperty("role", "primary")
        self.backup_button.clicked.connect(self.backup_now)
        row.addWidget(self.backup_button)
        layout.addLayout(row)
        # Not a backup setting as such, but the backup folder's disk is one it watches; saved
        # with the same button.
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Warn below (MB free)")))
        self.low_space = QSpinBox()
        self.low_space.setObjectName("low_space_mb")
        self.low_space.setRange(0, 1_000_000)
        self.low_space.setToolTip(
            _(
                "Every station warns when a disk it writes to (event database, print spool, "
                "backups) has less free space than this; 0 = never."
            )
        )
        row.addWidget(self.low_space)
        row.addStretch(1)
        layout.addLayout(row)
        self.backup_banner = ResultBanner()
        layout.addWidget(self.backup_banner)
        self.backup_list = _table([_("Backup"), _("Size")])
        self.backup_list.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.backup_list, 1)
        return tab

    def _backup_widgets(self):  # type: ignore[no-untyped-def]
        """The window's settings and header indicator, which run the automatic backups."""
        window = self.window()
        return getattr(window, "settings", None), getattr(window, "backup_status", None)

    def refresh_backups(self) -> None:
        settings, _status = self._backup_widgets()
        if settings is None:
            return
        self.backup_folder.setText(settings.backup_folder)
        self.backup_minutes.setValue(settings.backup_minutes)
        self.backup_keep.setValue(settings.backup_keep)
        self.low_space.setValue(settings.low_space_mb)
        self._list_backups()

    def _list_backups(self) -> None:
        folder = self.backup_folder.text().strip()
        code = event_header(self.context.uow())
        found = backup_files(Path(folder), code.code if code else "event") if folder else []
        _fill(
            self.backup_list,
            [[p.name, f"{p.stat().st_size / 1024:,.0f} KB"] for p in reversed(found)],
        )

    def choose_backup_folder(self) -> None:
        path = self.chooser.directory(self, _("Choose the backup folder"))
        if path is not None:
            self.backup_folder.setText(str(path))
            self.save_backup_settings()

    def save_backup_settings(self) -> None:
        settings, status = self._backup_widgets()
        if settings is None:
            return
        settings.backup_folder = self.backup_folder.text().strip()
        settings.backup_minutes = self.backup_minutes.value()
        settings.backup_keep = self.backup_keep.value()
        settings.low_space_mb = self.low_space.value()
        if status is not None:
            status.configure()
        watch = getattr(self.window(), "disk_watch", None)
        if watch is not None:
            watch.check()  # the banner follows the new limit at once
        self.backup_banner.show_result(
            Tone.OK,
            _("Backups every {n} minutes to {folder}.").format(
                n=settings.backup_minutes, folder=settings.backup_folder
            )
            if settings.backup_folder
            else _("Automatic backups are off."),
        )
        self._list_backups()

    def backup_now(self) -> None:
        self.save_backup_settings()
        settings, status = self._backup_widgets()
        if settings is None or status is None or not settings.backup_folder:
            self.backup_banner.show_result(Tone.WARN, _("Choose a backup folder first."))
            return
        result = status.backup_now()
        if result is None:
            self.backup_banner.show_result(Tone.ERROR, _("Backup failed"), status.toolTip())
            return
        self.backup_banner.show_result(
            Tone.OK,
            _("Backed up in {ms} ms.").format(ms=round(result.seconds * 1000)),
            _("{path} ({size:,} bytes)").format(path=result.path, size=result.size),
        )
        self._list_backups()

    # -- booklet ----------------------------------------------------------------------------

    def _booklet_tab(self) -> QWidget:
        tab = self.booklet_tab = QWidget()
        layout = QVBoxLayout(tab)
        intro = QLabel(
            _(
                "The printable catalog (PDF) goes out with the invitations; the e-catalog is "
                "one HTML file for any web server. Every service has a QR code: its place in "
                "the e-catalog, or its name and price when no address is set."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        url_row = QHBoxLayout()
        url_row.addWidget(QLabel(_("E-catalog address")))
        self.catalog_url = QLineEdit()
        self.catalog_url.setPlaceholderText("https://…/catalog.html")
        url_row.addWidget(self.catalog_url, 1)
        self.url_button = QPushButton(_("Save address"))
        self.url_button.clicked.connect(self.save_catalog_url)
        url_row.addWidget(self.url_button)
        layout.addLayout(url_row)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Paper")))
        self.paper = QComboBox()
        self.paper.addItem("A4", BookletPaper.A4.value)
        self.paper.addItem("A5", BookletPaper.A5.value)
        row.addWidget(self.paper)
        self.booklet_button = QPushButton(_("Write booklet PDF…"))
        self.booklet_button.setProperty("role", "primary")
        self.booklet_button.clicked.connect(self.write_booklet)
        row.addWidget(self.booklet_button)
        self.html_button = QPushButton(_("Write e-catalog HTML…"))
        self.html_button.clicked.connect(self.write_html)
        row.addWidget(self.html_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.booklet_banner = ResultBanner()
        layout.addWidget(self.booklet_banner)
        layout.addStretch(1)
        return tab

    def refresh_booklet(self) -> None:
        try:
            content = tracking.booklet(self.context.uow())
        except KioskError as error:
            self.booklet_banner.show_result(Tone.ERROR, _("No catalog yet"), str(error))
            return
        self.catalog_url.setText(content.catalog_url)
        self.booklet_banner.show_result(
            Tone.OK if content.offers else Tone.ERROR,
            _("{n} services in the catalog").format(n=len(content.offers)),
            "" if content.offers else _("Import the catalog first."),
        )

    def save_catalog_url(self) -> None:
        try:
            url = tracking.set_catalog_url(
                self.context.uow(),
                self.catalog_url.text(),
                self.context.staff,
                station="admin",
                clock=self.context.app.clock,
            )
        except KioskError as error:
            self.booklet_banner.show_result(Tone.ERROR, _("Address not saved"), str(error))
            return
        self.booklet_banner.show_result(
            Tone.OK,
            _("Address saved") if url else _("Address removed"),
            _("Write the booklet again so its QR codes use it."),
        )

    def write_booklet(self) -> None:
        paper = BookletPaper(self.paper.currentData())
        path = self.chooser.save_file(
            self, _("Write the booklet"), f"catalog-{paper.value}.pdf", _("PDF (*.pdf)")
        )
        if path is None:
            return
        self._write(lambda content: render_booklet(content, path, paper))

    def write_html(self) -> None:
        path = self.chooser.save_file(
            self, _("Write the e-catalog"), "catalog.html", _("Web page (*.html)")
        )
        if path is None:
            return
        self._write(lambda content: render_html(content, path))

    def _write(self, render: Callable[[tracking.Booklet], Path]) -> None:
        try:
            content = tracking.booklet(self.context.uow())
            if not content.offers:
                raise KioskError(_("The catalog is empty: import the catalog first."))
            path = render(content)
        except (KioskError, OSError) as error:
            self.booklet_banner.show_result(Tone.ERROR, _("Not written"), str(error))
            return
        self.booklet_banner.show_result(
            Tone.OK,
            _("Written to {path}.").format(path=path),
            ""
            if content.catalog_url
            else _("No address is set: the QR codes name each service and its price."),
        )


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _counts(row: tracking.ProgressRow) -> list[str]:
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


def _people(customers: dict[str, int], people: dict[str, int], code: str) -> str:
    n = customers.get(code, 0)
    return f"{n} ({people.get(code, 0)})" if n else "0"


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem(value)
            if value[:1].isdigit() and c >= 2:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
