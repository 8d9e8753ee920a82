"""The Administration station's Audit tab: the newest audit records and a "Verify chain" button.

Records show staff numbers, never names, with the action in words (``kiosk.labels``) and the
time on the venue's clock. The check says in plain words whether the chain is intact and,
when it is not, which records; it compares the chain with its signed checkpoints (the
database's, and the backup folder's when this laptop backs up: issue #26), names every money
row no audit record accounts for, and shows the count and head to note down.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk import netwait
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.labels import audit_action_label, station_label
from kiosk.roles import Station
from kiosk.services import audit_trail, desk
from ui.context import StationContext
from ui.theme import fit_rows
from ui.widgets import ResultBanner, Tone

SHOWN = 200
PROBLEMS_SHOWN = 8


def _station(code: str) -> str:
    """Where an action was taken, in words: a station, the sign-in screen, the command line,
    or the counter a desk called to (a call is recorded with its counter's name, "3")."""
    try:
        return station_label(Station(code))
    except ValueError:
        others = {"app": _("Sign-in screen"), "cli": _("Command line"), "sync": _("Ledger sync")}
        return others.get(code) or desk.counter_label(code)


class AuditPanel(QWidget):
    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "Every change is recorded with who, where and when, each record sealed to the "
                "one before it. Verify the chain to see whether any record was changed, "
                "removed or moved."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.verify_button = QPushButton(_("Verify chain"))
        self.verify_button.setProperty("role", "primary")
        self.verify_button.clicked.connect(self.verify)
        row.addWidget(self.verify_button)
        self.refresh_button = QPushButton(_("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        # A preference of this laptop (QSettings), like the backup folder: read on every tick
        # of the idle watcher, so it applies at once.
        row.addWidget(QLabel(_("Lock an idle station after")))
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(0, 240)
        self.idle_minutes.setSpecialValueText(_("never"))
        self.idle_minutes.setSuffix(_(" min"))
        seconds = context.preferences().idle_lock_seconds
        self.idle_minutes.setValue(0 if seconds == 0 else max(1, round(seconds / 60)))
        self.idle_minutes.valueChanged.connect(self._idle_changed)
        row.addWidget(self.idle_minutes)
        layout.addLayout(row)
        self.banner = ResultBanner()
        layout.addWidget(self.banner)
        headers = [_("Time"), _("Staff"), _("Station"), _("Action"), _("Record"), _("Approved by")]
        self.table = QTableWidget(0, len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        fit_rows(self.table)
        layout.addWidget(self.table, 1)

    def _idle_changed(self, minutes: int) -> None:
        self.context.preferences().idle_lock_seconds = minutes * 60

    def refresh(self) -> None:
        """Read the newest records (when the tab opens and on Refresh)."""
        try:
            zone = ZoneInfo(audit_trail.event_timezone(self.context.uow()))
            rows = audit_trail.recent(self.context.uow(), limit=SHOWN)
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Cannot read the audit records"), str(error))
            return
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            values = (
                row.at.astimezone(zone).strftime("%m-%d %H:%M:%S"),
                row.staff_no,
                _station(row.station),
                audit_action_label(row.action),
                str(row.id),
                row.approved_by,
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 3:
                    item.setToolTip(row.action)  # the raw code, as `kiosk audit list` prints it
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

    def verify(self) -> None:
        """The chain, checked against its signed checkpoints (the database's and, when this
        laptop backs up, the backup folder's) and the money rows it must account for
        (issue #26)."""
        from pathlib import Path

        from kiosk import checkpoint
        from kiosk.services import checkpoints

        try:
            found = checkpoint.Found()
            folder = self.context.preferences().backup_folder
            if folder and Path(folder).is_dir():
                found = checkpoint.read_folder(Path(folder))
            with netwait.patient():  # every record of the day, hashed: no desk action's bound
                verification = checkpoints.verify(self.context.uow(), found)
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Cannot read the audit records"), str(error))
            return
        report = verification.chain
        note = _("{n} records; chain head {head}. Note these down to compare later.").format(
            n=report.count, head=report.head[:16]
        )
        newest, uncovered = verification.checkpoints.newest, verification.checkpoints.not_covered
        if newest is None:
            note += "\n" + _("No signed checkpoint was found yet.")
        elif uncovered is not None:
            note += "\n" + _(
                "Newest signed checkpoint: {n} records; {k} written since are not yet covered."
            ).format(n=newest.count, k=uncovered[2])
        if verification.intact:
            self.banner.show_result(
                Tone.OK,
                _("The audit chain is intact: no record was changed, removed or moved."),
                note,
            )
            return
        problems = [
            *report.problems,
            *verification.checkpoints.problems,
            *verification.coverage.problems,
        ]
        lines = [p.reason for p in problems[:PROBLEMS_SHOWN]]
        if len(problems) > PROBLEMS_SHOWN:
            lines.append(_("… and {n} more.").format(n=len(problems) - PROBLEMS_SHOWN))
        self.banner.show_result(
            Tone.ERROR,
            _("The audit chain is broken: {n} problem(s). Tell the risk officer.").format(
                n=len(problems)
            ),
            "\n".join([*lines, note]),
        )
