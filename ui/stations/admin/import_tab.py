"""The Import tab: a file checked as soon as it is chosen, every problem in one table, the
Import button enabled only when the check found none (the service checks again inside its
transaction). ID numbers and phones are masked in the preview.

A mixin of ``AdminStation``: the tab's widgets are the station's attributes, as before the
split, so the station reads the same from outside.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk import netwait
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.imports import IMPORTABLE, KINDS, ORDER, ImportCheck
from kiosk.imports.check import IGNORE, Cancelled
from kiosk.imports.reading import SheetChoice
from kiosk.permissions import Action
from kiosk.services import imports
from ui.approval import approval_for
from ui.stations.admin.common import (
    kind_label,
    make_table,
)
from ui.theme import is_large_print
from ui.widgets import ResultBanner, Tone


class ImportTab:
    """The Import tab: a file checked as soon as it is chosen, every problem in one table, the"""

    # -- import -----------------------------------------------------------------------------

    def _import_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.kind = QComboBox()
        for kind in IMPORTABLE:
            self.kind.addItem(kind_label(kind), kind)
        self.kind.setCurrentIndex(ORDER.index("invitees"))
        # The longest kind's name must not widen the tab past a 1366 laptop in large print:
        # the closed box shows about ten characters, the open list every name whole.
        self.kind.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.kind.setMinimumContentsLength(14)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        row.addWidget(QLabel(_("Import")))
        row.addWidget(self.kind)
        self.choose_button = QPushButton(_("Choose file…"))
        self.choose_button.clicked.connect(self.choose_file)
        row.addWidget(self.choose_button)
        self.file_label = QLabel(_("No file chosen."))
        self.file_label.setProperty("role", "hint")
        if is_large_print():  # the file and its keys on a line of their own: 1,014 px
            row.addStretch(1)
            layout.addLayout(row)
            row = QHBoxLayout()
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
        self.issues = make_table([_("Row"), _("Column"), _("Problem")])
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
        self.columns = make_table([_("Column in the file"), _("Imported as")])
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
        self.preview = make_table([])
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
            with netwait.patient():  # a long file is no desk action: no 3-second bound
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
