"""Administration -> Arrival windows (issue #20): the window length and the customers the
desks handle per window, the plan per slot (each window with its customers against the
throughput and the branches in it, then who has no window yet), planning, and moving a branch
of a slot to another window. Every change goes through ``kiosk.services.arrival`` (a
supervisor's, audited); a refusal is said in the banner in words.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import arrival
from kiosk.services.arrival import ArrivalPlan
from ui.context import StationContext
from ui.stations.admin.common import fill_table, keep_rows, make_table
from ui.theme import is_large_print
from ui.widgets import ResultBanner, Tone


class ArrivalWindowsPanel(QWidget):
    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.plan: ArrivalPlan | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "Each slot is cut into arrival windows, and each branch's confirmed customers "
                "get one window (consecutive windows when a branch alone brings more than the "
                "desks handle), so they do not all come at the opening. Customers are counted, "
                "not companions. The reminder text then gives the window."
            )
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        layout.addWidget(intro)
        settings = QHBoxLayout()
        settings.addWidget(QLabel(_("Minutes per window")))
        self.minutes = QSpinBox()
        self.minutes.setObjectName("window_minutes")
        self.minutes.setRange(arrival.MIN_MINUTES, arrival.MAX_MINUTES)
        settings.addWidget(self.minutes)
        if is_large_print():  # each number on its own line: its − and + buttons are 60 px
            settings.addStretch(1)
            layout.addLayout(settings)
            settings = QHBoxLayout()
        settings.addWidget(QLabel(_("Customers per window")))
        self.throughput = QSpinBox()
        self.throughput.setObjectName("window_throughput")
        self.throughput.setRange(0, arrival.MAX_THROUGHPUT)
        self.throughput.setSpecialValueText(_("not set"))
        settings.addWidget(self.throughput)
        self.save_button = QPushButton(_("Save"))
        self.save_button.setObjectName("save_window_settings")
        self.save_button.clicked.connect(self.save)
        settings.addWidget(self.save_button)
        settings.addStretch(1)
        if is_large_print():  # the planning buttons on their own line: 1366 px wide at most
            layout.addLayout(settings)
            settings = QHBoxLayout()
            settings.addStretch(1)
        self.plan_button = QPushButton(_("Plan windows"))
        self.plan_button.setObjectName("plan_windows")
        self.plan_button.setProperty("role", "primary")
        self.plan_button.setToolTip(
            _("Gives a window to everyone without one; the windows given are kept.")
        )
        self.plan_button.clicked.connect(lambda: self.run_plan(fresh=False))
        settings.addWidget(self.plan_button)
        self.fresh_button = QPushButton(_("Plan afresh"))
        self.fresh_button.setObjectName("plan_windows_fresh")
        self.fresh_button.clicked.connect(lambda: self.run_plan(fresh=True))
        settings.addWidget(self.fresh_button)
        layout.addLayout(settings)
        self.banner = ResultBanner()
        layout.addWidget(self.banner)
        self.table = make_table([_("Slot"), _("Window"), _("Customers"), _("Branches")])
        self.table.setObjectName("window_plan")
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(True)
        self.table.itemSelectionChanged.connect(self._row_chosen)
        layout.addWidget(self.table, 1)
        move = QHBoxLayout()
        move.addWidget(QLabel(_("Move branch")))
        self.move_branch = QComboBox()
        self.move_branch.setObjectName("move_branch")
        move.addWidget(self.move_branch)
        move.addWidget(QLabel(_("of slot")))
        self.move_slot = QComboBox()
        self.move_slot.setObjectName("move_slot")
        self.move_slot.currentIndexChanged.connect(self._slot_chosen)
        move.addWidget(self.move_slot)
        if is_large_print():  # the whole sentence needs 1,100 px in English: two lines
            move.addStretch(1)
            layout.addLayout(move)
            move = QHBoxLayout()
        move.addWidget(QLabel(_("to the window")))
        self.move_window = QComboBox()
        self.move_window.setObjectName("move_window")
        move.addWidget(self.move_window)
        self.move_button = QPushButton(_("Move"))
        self.move_button.setObjectName("move_branch_button")
        self.move_button.clicked.connect(self.move)
        move.addWidget(self.move_button)
        move.addStretch(1)
        layout.addLayout(move)
        self.rows: list[tuple[str, int | None]] = []  # table row -> (slot code, window index)

    # -- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        try:
            plan = arrival.arrival_plan(self.context.uow())
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("No plan yet"), str(error))
            return
        self.show_plan(plan)
        settings = arrival.WindowSettings(plan.minutes, plan.throughput)
        overflow = [s.overflow for s in plan.slots if s.overflow]
        if overflow:
            self.banner.show_result(Tone.ERROR, arrival.describe_settings(settings), overflow[0])
        elif plan.throughput and plan.unplanned:
            self.banner.show_result(
                Tone.WARN,
                arrival.describe_settings(settings),
                _("{n} confirmed customers have no window yet: plan the windows.").format(
                    n=plan.unplanned
                ),
            )
        else:
            self.banner.show_result(Tone.INFO, arrival.describe_settings(settings))

    def show_plan(self, plan: ArrivalPlan) -> None:
        self.plan = plan
        self.minutes.setValue(plan.minutes)
        self.throughput.setValue(plan.throughput or 0)
        zone = ZoneInfo(plan.timezone)
        rows: list[list[str]] = []
        self.rows = []
        for slot in plan.slots:
            for i, w in enumerate(slot.windows):
                count = (
                    _("{n} of {limit}").format(n=w.total, limit=plan.throughput)
                    if plan.throughput
                    else str(w.total)
                )
                if plan.over(w):
                    count += " " + _("(over the throughput)")
                rows.append(
                    [
                        slot.label,
                        arrival.window_text(w.starts_at, w.ends_at, zone),
                        count,
                        self._branches(w.branches, plan),
                    ]
                )
                self.rows.append((slot.code, i))
            if slot.unplanned:
                rows.append(
                    [
                        slot.label,
                        _("no window yet"),
                        str(sum(slot.unplanned.values())),
                        self._branches(slot.unplanned, plan),
                    ]
                )
                self.rows.append((slot.code, None))
        fill_table(self.table, rows)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        keep_rows(self.table)  # the rows as wrapped: three in sight under the titles
        current = self.move_slot.currentData()
        self.move_slot.blockSignals(True)
        self.move_slot.clear()
        for slot in plan.slots:
            self.move_slot.addItem(slot.label, slot.code)
        index = self.move_slot.findData(current)
        self.move_slot.setCurrentIndex(max(index, 0))
        self.move_slot.blockSignals(False)
        self._slot_chosen()

    @staticmethod
    def _branches(counts: dict[str, int], plan: ArrivalPlan) -> str:
        return "、".join(
            f"{plan.branch_names.get(b, b)} ({b}) {n}" for b, n in sorted(counts.items())
        )

    def _slot(self, code: str | None) -> arrival.SlotPlan | None:
        if self.plan is None:
            return None
        return next((s for s in self.plan.slots if s.code == code), None)

    def _slot_chosen(self) -> None:
        slot = self._slot(self.move_slot.currentData())
        branch, window = self.move_branch.currentData(), self.move_window.currentData()
        self.move_branch.clear()
        self.move_window.clear()
        if slot is None or self.plan is None:
            return
        zone = ZoneInfo(self.plan.timezone)
        for code in slot.branches():
            self.move_branch.addItem(f"{code} {self.plan.branch_names.get(code, '')}", code)
        for w in slot.windows:
            text = arrival.window_text(w.starts_at, w.ends_at, zone)
            self.move_window.addItem(text, arrival.time_text(w.starts_at, zone))
        self.move_branch.setCurrentIndex(max(self.move_branch.findData(branch), 0))
        self.move_window.setCurrentIndex(max(self.move_window.findData(window), 0))

    def _row_chosen(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.plan is None:
            return
        code, index = self.rows[rows[0].row()]
        self.move_slot.setCurrentIndex(self.move_slot.findData(code))
        slot = self._slot(code)
        if index is not None and slot is not None:
            self.move_window.setCurrentIndex(index)
            branches = sorted(slot.windows[index].branches)
            if branches:
                self.move_branch.setCurrentIndex(self.move_branch.findData(branches[0]))

    # -- changing --------------------------------------------------------------------------

    def save(self) -> None:
        try:
            settings = arrival.set_window_settings(
                self.context.uow(),
                self.context.staff,
                minutes=self.minutes.value(),
                throughput=self.throughput.value() or None,
                clock=self.context.app.clock,
                station="admin",
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Not saved"), str(error))
            return
        self.refresh()
        detail = (
            _("{n} planned windows cleared (the length changed): plan again.").format(
                n=settings.cleared
            )
            if settings.cleared
            else ""
        )
        self.banner.show_result(
            Tone.OK,
            _("Saved. {settings}").format(settings=arrival.describe_settings(settings)),
            detail,
        )

    def run_plan(self, *, fresh: bool) -> None:
        try:
            result = arrival.plan_windows(
                self.context.uow(),
                self.context.staff,
                fresh=fresh,
                clock=self.context.app.clock,
                station="admin",
            )
        except KioskError as error:
            self.refresh()
            self.banner.show_result(Tone.ERROR, _("Not planned"), str(error))
            return
        self.refresh()
        self.banner.show_result(
            Tone.OK,
            result.summary(),
            _("The reminder texts now give each customer's window."),
        )

    def move(self) -> None:
        slot, branch = self.move_slot.currentData(), self.move_branch.currentData()
        window = self.move_window.currentData()
        if not (slot and branch and window):
            return
        try:
            moved = arrival.move_branch(
                self.context.uow(),
                self.context.staff,
                slot=slot,
                branch=branch,
                starts_at=window,
                clock=self.context.app.clock,
                station="admin",
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Not moved"), str(error))
            return
        self.refresh()
        self.banner.show_result(
            Tone.OK,
            _("{n} customers of {branch} now come at {window}.").format(
                n=moved.customers, branch=branch, window=moved.window
            ),
            _("Export the reminders again so the texts carry the new window."),
        )
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
