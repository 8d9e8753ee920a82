"""Reception: scan or search, see the customer card, check in with one key, print a ticket.

The scan field never loses focus: results follow the arrow keys, Enter checks in the selected
customer, a scanner burst checks in at once. Every outcome is a coloured banner with words and
a sound. All rules live in ``kiosk.services.reception``; this module only shows and asks.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.i18n import _
from kiosk.labels import gap_label, kyc_field_label, queue_label, tier_label
from kiosk.models import Queue
from kiosk.permissions import Action
from kiosk.roles import Station
from kiosk.search import SearchError
from kiosk.services import reception
from kiosk.services.events import branches
from kiosk.services.reception import Arrival, CheckInResult, CustomerCard
from kiosk.storage import file_error
from printing.printer import Printer
from printing.tickets import render_queue_ticket
from ui.approval import approval_for
from ui.camera import CameraScanner
from ui.context import StationContext
from ui.models import HitModel
from ui.stations.base import StationPage
from ui.theme import is_large_print
from ui.timing import every
from ui.widgets import KeepFocus, ResultBanner, ScanField, Sounds, Tone

SEARCH_DELAY_MS = 60  # lets a scanner burst finish before searching


class WalkInDialog(QDialog):
    """Name, phone and branch of a customer who was not invited."""

    def __init__(self, branch_choices: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Register a walk-in customer"))
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setObjectName("walk_in_name")
        self.phone = QLineEdit()
        self.phone.setObjectName("walk_in_phone")
        self.branch = QComboBox()
        self.branch.setObjectName("walk_in_branch")
        for code, name in branch_choices:
            self.branch.addItem(name, code)
        form.addRow(_("Name"), self.name)
        form.addRow(_("Mobile phone"), self.phone)
        form.addRow(_("Branch"), self.branch)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @classmethod
    def ask(
        cls, parent: QWidget, branch_choices: list[tuple[str, str]]
    ) -> tuple[str, str, str] | None:
        """(name, phone, branch code), or None when cancelled. Tests replace this."""
        dialog = cls(branch_choices, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.name.text(), dialog.phone.text(), str(dialog.branch.currentData())


class CustomerCardView(QFrame):
    """The selected customer: slot and arrival, points, pending steps, RM, companions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        self.name = QLabel("")
        self.name.setObjectName("card_name")
        self.name.setProperty("role", "title")
        self.identity = QLabel("")
        self.identity.setProperty("role", "hint")
        self.slot = QLabel("")
        self.slot.setObjectName("card_slot")
        self.points = QLabel("")
        self.points.setObjectName("card_points")
        self.pending = QLabel("")
        self.pending.setObjectName("card_pending")
        self.pending.setWordWrap(True)
        self.rm = QLabel("")
        self.rm.setObjectName("card_rm")
        self.visit = QLabel("")
        self.visit.setObjectName("card_visit")
        self.visit.setProperty("role", "subtitle")
        self.labels = (
            self.name,
            self.identity,
            self.slot,
            self.points,
            self.pending,
            self.rm,
            self.visit,
        )
        for label in self.labels:
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addStretch(1)

    def show_card(self, card: CustomerCard | None) -> None:
        if card is None:
            for label in self.labels:
                label.clear()
            self.name.setText(_("No customer selected"))
            return
        zone = ZoneInfo(card.timezone)
        hit = card.hit
        self.name.setText(hit.name + (_(" (walk-in)") if hit.walk_in else ""))
        self.identity.setText(
            " · ".join(
                x
                for x in (
                    hit.customer_no,
                    hit.masked_phone,
                    hit.masked_id,
                    hit.branch,
                    tier_label(card.tier),
                )
                if x
            )
        )
        if card.slot_start and card.slot_end:
            times = (
                f"{card.slot_start.astimezone(zone):%H:%M}–{card.slot_end.astimezone(zone):%H:%M}"
            )
            arrival = {
                Arrival.ON_TIME: _("on time"),
                Arrival.EARLY: _("{n} min early").format(n=card.minutes_off),
                Arrival.LATE: _("{n} min late").format(n=card.minutes_off),
            }[card.arrival]
            self.slot.setText(
                _("Slot: {label} {times} · {arrival}").format(
                    label=card.slot_label, times=times, arrival=arrival
                )
            )
        else:
            self.slot.setText(_("Slot: none (not invited)"))
        as_of = (
            card.balance_as_of.astimezone(zone).strftime("%m-%d %H:%M")
            if (card.balance_as_of)
            else "—"
        )
        self.points.setText(
            _("Points: {points:,} (ledger as of {as_of})").format(points=card.points, as_of=as_of)
        )
        steps = []
        if card.gaps:
            fields = "、".join(
                _("{field} {problem}").format(field=kyc_field_label(f), problem=gap_label(p))
                for f, p in card.gaps.items()
            )
            steps.append(_("information governance ({fields})").format(fields=fields))
        if card.needs_mobile_banking:
            steps.append(_("open mobile banking"))
        steps.append(_("activation and redemption"))
        extra = [_("dormant customer")] if card.dormant else []
        self.pending.setText(_("To do: {steps}").format(steps="; ".join(steps + extra)))
        if hit.rm_name:
            here = _("at the event") if card.rm_signed_in else _("not signed in")
            rm_text = _("RM: {name} ({here})").format(name=hit.rm_name, here=here)
        else:
            rm_text = _("RM: none")
        if card.companions:
            rm_text += " · " + _("{n} companions").format(n=card.companions)
        self.rm.setText(rm_text)
        if card.visit:
            self.visit.setText(
                _("Checked in at {time}: ticket {ticket}, {place}").format(
                    time=card.visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                    ticket=card.visit.ticket,
                    place=queue_label(card.visit.route),
                )
            )
        else:
            self.visit.setText(
                _("Suggested: {place}").format(place=queue_label(card.suggested_route))
            )
        self.layout().activate()  # wrapped lines re-flow now, not on a later pass


class SlotPanel(QFrame):
    """Arrivals against expectation per slot, with a warning when the current one is full."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(14, 8, 14, 8)
        self.rows: dict[str, tuple[QLabel, QProgressBar]] = {}
        self.warning = QLabel("")
        self.warning.setObjectName("slot_warning")
        self.warning.setProperty("role", "error")
        self.warning.setVisible(False)

    def show_slots(self, slots: list[reception.SlotArrivals]) -> None:
        warnings = []
        for row, slot in enumerate(slots):
            if slot.code not in self.rows:
                label, bar = QLabel(""), QProgressBar()
                bar.setTextVisible(False)
                self.grid.addWidget(label, row, 0)
                self.grid.addWidget(bar, row, 1)
                self.rows[slot.code] = (label, bar)
            label, bar = self.rows[slot.code]
            text = _("{label}: {arrived} arrived of {expected} expected (capacity {capacity})")
            text = text.format(
                label=slot.label,
                arrived=slot.arrived,
                expected=slot.expected,
                capacity=slot.capacity,
            )
            label.setText(("▶ " + text) if slot.is_current else text)
            label.setProperty("role", "subtitle" if slot.is_current else "")
            label.style().polish(label)
            bar.setRange(0, max(slot.capacity, slot.arrived, 1))
            bar.setValue(slot.arrived)
            if slot.is_current and slot.over_capacity:
                warnings.append(
                    _(
                        "{label} is over capacity: {arrived} arrived, capacity "
                        "{capacity}. Ask early arrivals to wait."
                    ).format(label=slot.label, arrived=slot.arrived, capacity=slot.capacity)
                )
        self.grid.addWidget(self.warning, len(slots), 0, 1, 2)
        self.warning.setText(" ".join(warnings))
        self.warning.setVisible(bool(warnings))
        self.grid.setColumnStretch(1, 1)


class ReceptionStation(StationPage):
    station = Station.RECEPTION

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.sounds = Sounds(self)
        self.printer = Printer.from_environment()
        self.card: CustomerCard | None = None
        self.last_print = ""

        self.field = ScanField()
        self.field.setPlaceholderText(
            _("Scan the invitation, or type a name, initials, phone last 4, customer no.")
        )
        self.field.installEventFilter(KeepFocus(self.field))
        self.hint = QLabel("")
        self.hint.setObjectName("search_hint")
        self.hint.setProperty("role", "hint")
        self.walk_in_button = QPushButton(_("Walk-in (F2)"))
        self.walk_in_button.setObjectName("walk_in")
        self.camera = CameraScanner(self)
        self.camera_button = QPushButton(_("Camera"))
        self.camera_button.setObjectName("camera")
        self.camera_button.setCheckable(True)
        self.camera_button.setVisible(CameraScanner.available())
        self.banner = ResultBanner()

        self.model = HitModel()
        self.table = QTableView()
        self.table.setObjectName("results")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)

        self.card_view = CustomerCardView()
        self.route = QComboBox()
        self.route.setObjectName("route")
        self.route.addItem(_("Route: as suggested"), None)
        self.route.addItem(queue_label(Queue.SERVICE_DESK), Queue.SERVICE_DESK)
        self.route.addItem(queue_label(Queue.ACTIVATION), Queue.ACTIVATION)
        self.route.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.check_in_button = QPushButton(_("Check in (Enter)"))
        self.check_in_button.setObjectName("check_in")
        self.check_in_button.setProperty("role", "primary")
        self.undo_button = QPushButton(_("Undo check-in (Ctrl+Z)"))
        self.undo_button.setObjectName("undo")
        self.reprint_button = QPushButton(_("Print ticket again (Ctrl+P)"))
        self.reprint_button.setObjectName("reprint")
        for button in (
            self.check_in_button,
            self.undo_button,
            self.reprint_button,
            self.walk_in_button,
        ):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slots = SlotPanel()

        top = QHBoxLayout()
        top.addWidget(self.field, 1)
        top.addWidget(self.camera_button)
        top.addWidget(self.walk_in_button)
        actions = QHBoxLayout()
        actions.addWidget(self.route, 1)
        actions.addWidget(self.check_in_button, 1)
        more = QHBoxLayout()
        more.addWidget(self.undo_button)
        more.addWidget(self.reprint_button)
        right = QVBoxLayout()
        right.addWidget(self.card_view, 1)
        right.addLayout(actions)
        right.addLayout(more)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 14)
        middle.addLayout(right, 7)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.banner)
        layout.addLayout(middle, 1)
        layout.addWidget(self.slots)

        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.run_search)
        self._card_row = -1
        self.card_timer = QTimer(self)
        self.card_timer.setSingleShot(True)
        self.card_timer.setInterval(0)
        self.card_timer.timeout.connect(lambda: self._show_customer_now(self._card_row))
        self.slot_timer = QTimer(self)
        # Other reception laptops check people in too: ``refresh_live`` follows them at once;
        # this timer moves the current slot along with the clock.
        self.slot_timer.setInterval(every(60_000))
        self.slot_timer.timeout.connect(self.refresh_slots)
        self.expected: dict[str, int] | None = None  # invitees per slot: changes with imports
        self.expected_timer = QTimer(self)
        self.expected_timer.setInterval(every(300_000))
        self.expected_timer.timeout.connect(lambda: self.refresh_slots(recount_expected=True))

        self.field.textEdited.connect(lambda _text: self.search_timer.start())
        self.field.scanned.connect(self.on_scanned)
        self.field.submitted.connect(self.on_submitted)
        self.field.moved.connect(self.move_selection)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.show_customer(current.row())
        )
        self.table.clicked.connect(lambda _index: self.field.setFocus())
        self.check_in_button.clicked.connect(self.check_in_selected)
        self.undo_button.clicked.connect(self.undo)
        self.reprint_button.clicked.connect(self.reprint)
        self.walk_in_button.clicked.connect(self.walk_in)
        self.camera_button.toggled.connect(self.toggle_camera)
        self.camera.decoded.connect(self.on_scanned)
        self.camera.failed.connect(self.fail)
        self.bind(Qt.Key.Key_F2, self.walk_in)
        self.bind(Qt.Key.Key_Z, self.undo, Qt.KeyboardModifier.ControlModifier)
        self.bind(Qt.Key.Key_P, self.reprint, Qt.KeyboardModifier.ControlModifier)
        self._update_buttons()

    # -- loading -----------------------------------------------------------------------------

    def _size_columns(self) -> None:
        # Large print: name, phone, branch and status only; the card shows the rest.
        for column in (HitModel.ID, HitModel.RM, HitModel.SLOT):
            self.table.setColumnHidden(column, is_large_print())
        self._set_widths()

    def _set_widths(self) -> None:
        """Column widths from the font once (after the style sheet applied), not measured from
        the rows on every keystroke."""
        self.table.ensurePolished()
        metrics = self.table.fontMetrics()
        samples = (
            "欧阳娜娜",
            "138****0000",
            "440000********000X",
            "珠江新城支行",
            "李梓云",
            "下午场",
        )
        for column, sample in enumerate(samples):
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            width = max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(title))
            self.table.horizontalHeader().resizeSection(column, width + 14)

    def load(self) -> None:
        self._size_columns()
        self.refresh_slots(recount_expected=True)
        self.slot_timer.start()
        self.expected_timer.start()
        self.card_view.show_card(None)
        self.field.setFocus()

    def refresh_live(self) -> None:
        """Slot counts, and the card on screen (checked in elsewhere meanwhile?); the search
        field and its results stay as they are."""
        self.refresh_slots()
        if self.card is not None:
            self.card = reception.customer_card(
                self.context.uow(), self.card.hit.customer_id, clock=self.context.app.clock
            )
            self.card_view.show_card(self.card)
            self._update_buttons()

    def refresh_slots(self, *, recount_expected: bool = False) -> None:
        try:
            if recount_expected or self.expected is None:
                self.expected = reception.slot_expected(self.context.uow())
            slots = reception.slot_arrivals(
                self.context.uow(), clock=self.context.app.clock, expected=self.expected
            )
        except (KioskError, SQLAlchemyError) as error:
            # A periodic refresh must never take the station down; say why and try again.
            self.slots.warning.setText(
                _("Cannot refresh the slots: {reason}").format(reason=str(error).splitlines()[0])
            )
            self.slots.warning.setVisible(True)
            return
        self.slots.show_slots(slots)

    def toggle_camera(self, on: bool) -> None:
        if on and not self.camera.running:
            self.camera.start()
        elif not on:
            self.camera.stop()
        self.field.setFocus()

    # -- searching ---------------------------------------------------------------------------

    def run_search(self) -> None:
        self.search_timer.stop()
        text = self.field.text()
        if not text.strip():
            self.model.set_rows([])
            self.hint.clear()
            self.show_customer(-1)
            return
        try:
            hits = reception.search(self.context.uow(), text)
        except SearchError as error:
            self.model.set_rows([])
            self.hint.setText(str(error))
            self.show_customer(-1)
            return
        except KioskError as error:  # the database is away: say so, keep what was typed
            self.hint.setText(str(error))
            return
        self.model.set_rows(hits)
        self.hint.setText(_("{n} found").format(n=len(hits)) if hits else _("Nobody found."))
        if hits:
            self.table.selectRow(0)
        else:
            self.show_customer(-1)

    def move_selection(self, step: int) -> None:
        if not self.model.rowCount():
            return
        row = self.table.currentIndex().row()
        row = min(max(row + step, 0), self.model.rowCount() - 1)
        self.table.selectRow(row)

    def show_customer(self, row: int) -> None:
        """Load the card just after the list has painted; Enter loads it at once."""
        self._card_row = row
        self.card_timer.start()

    def _load_pending_card(self) -> None:
        if self.card_timer.isActive():
            self.card_timer.stop()
            self._show_customer_now(self._card_row)

    def _show_customer_now(self, row: int) -> None:
        hit = self.model.hit(row)
        try:
            self.card = (
                None
                if hit is None
                else reception.customer_card(
                    self.context.uow(), hit.customer_id, clock=self.context.app.clock
                )
            )
        except KioskError as error:
            self.card = None
            self.hint.setText(str(error))
        self.card_view.show_card(self.card)
        self._update_buttons()

    def _update_buttons(self) -> None:
        card = self.card
        self.check_in_button.setEnabled(card is not None and card.visit is None)
        self.undo_button.setEnabled(
            card is not None and card.visit is not None and card.visit.can_undo
        )
        self.reprint_button.setEnabled(card is not None and card.visit is not None)

    # -- checking in -------------------------------------------------------------------------

    def on_scanned(self, text: str) -> None:
        self.search_timer.stop()
        try:
            customer_id = reception.resolve_code(self.context.uow(), text)
        except KioskError as error:
            self.fail(str(error))
            return
        self.check_in(customer_id)

    def on_submitted(self, text: str) -> None:
        if self.search_timer.isActive() or (text.strip() and not self.model.rowCount()):
            self.run_search()
        self._load_pending_card()
        if self.card is None:
            if text.strip():
                self.fail(self.hint.text() or _("Nobody found."))
            return
        self.check_in_selected()

    def check_in_selected(self) -> None:
        self._load_pending_card()
        if self.card is not None:
            self.check_in(self.card.hit.customer_id)

    def check_in(self, customer_id: int) -> None:
        self.card_timer.stop()  # a card still pending from the last search is stale now
        route = self.route.currentData()
        # The same request until its outcome is known (kiosk.idempotency): the next try
        # after "not known whether it was saved" answers with the first check-in.
        subject = ("check_in", customer_id)
        try:
            result = reception.check_in(
                self.context.uow(),
                customer_id,
                self.context.staff,
                route=route,
                clock=self.context.app.clock,
                request_id=self.context.requests.id_for(subject),
            )
        except OutcomeUnknown as error:
            self.fail(str(error))
            return
        except KioskError as error:
            self.context.requests.settle(subject)
            self.fail(str(error))
            return
        self.context.requests.settle(subject)
        self.route.setCurrentIndex(0)
        self.card = result.card
        self.card_view.show_card(result.card)
        self._update_buttons()
        if result.created:
            self.sounds.play(Tone.OK)
            detail = " · ".join(
                x
                for x in (
                    _("please wait at {place}, {n} ahead").format(
                        place=queue_label(result.queue), n=result.waiting_ahead
                    ),
                    self._arrival_note(result.card),
                )
                if x
            )
            self.banner.show_result(
                Tone.OK,
                _("Checked in: {name} · ticket {ticket}").format(
                    name=result.card.hit.name, ticket=result.ticket
                ),
                detail + " · " + _("printing the ticket…"),
            )
            # The card first, the printer after: a slow printer never holds up the screen.
            QTimer.singleShot(0, self, lambda: self._print_then_report(result, detail))
        else:
            assert result.card.visit is not None
            zone = ZoneInfo(result.card.timezone)
            self.sounds.play(Tone.WARN)
            self.banner.show_result(
                Tone.WARN,
                _("Already checked in at {time}: {name} · ticket {ticket}").format(
                    time=result.card.visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                    name=result.card.hit.name,
                    ticket=result.ticket,
                ),
                _("No new visit was created. Send the customer to {place}.").format(
                    place=queue_label(result.queue)
                ),
            )
        # The list is done with: the card stays, the field is ready for the next customer.
        self.field.clear()
        self.model.set_rows([])
        self.hint.clear()
        self.field.setFocus()
        self.refresh_slots()

    @staticmethod
    def _arrival_note(card: CustomerCard) -> str:
        if card.arrival == Arrival.EARLY:
            return _("{n} min before the {slot} slot").format(
                n=card.minutes_off, slot=card.slot_label
            )
        if card.arrival == Arrival.LATE:
            return _("{n} min after the {slot} slot").format(
                n=card.minutes_off, slot=card.slot_label
            )
        if card.arrival == Arrival.NO_SLOT:
            return _("no slot")
        return ""

    def _print_then_report(self, result: CheckInResult, detail: str) -> None:
        self.banner.detail.setText(detail + " · " + self.print_ticket(result))

    def print_ticket(self, result: CheckInResult) -> str:
        # The check-in stands whatever happens here: a full disk is said in words.
        path = self.printer.spool_dir / f"ticket-{result.ticket}.pdf"
        try:
            ticket = reception.queue_ticket(self.context.uow(), result)
            path = render_queue_ticket(ticket, self.printer.path_for(path.name))
        except OSError as error:
            return _("the ticket could not be saved: {reason}").format(
                reason=file_error(error, path)
            )
        except KioskError as error:
            return _("the ticket could not be saved: {reason}").format(reason=error)
        outcome = self.printer.send(path)
        self.last_print = str(outcome.path)
        return outcome.message

    def fail(self, message: str) -> None:
        self.sounds.play(Tone.ERROR)
        self.banner.show_result(Tone.ERROR, message)
        self.field.selectAll()
        self.field.setFocus()

    def undo(self) -> None:
        card = self.card
        if card is None or card.visit is None:
            return
        go, approval = approval_for(
            self, self.context, Action.UNDO_CHECK_IN, station=Station.RECEPTION
        )
        if not go:
            self.field.setFocus()
            return
        try:
            reception.undo_check_in(
                self.context.uow(),
                card.visit.visit_id,
                self.context.staff,
                approval=approval,
                clock=self.context.app.clock,
            )
        except KioskError as error:
            self.fail(str(error))
            return
        self.sounds.play(Tone.WARN)
        self.banner.show_result(
            Tone.WARN, _("Check-in of {name} undone.").format(name=card.hit.name)
        )
        self.card = reception.customer_card(
            self.context.uow(), card.hit.customer_id, clock=self.context.app.clock
        )
        self.card_view.show_card(self.card)
        self._update_buttons()
        self.refresh_slots()
        self.field.setFocus()

    def reprint(self) -> None:
        card = self.card
        if card is None or card.visit is None:
            return
        result = reception.check_in(
            self.context.uow(),
            card.hit.customer_id,
            self.context.staff,
            clock=self.context.app.clock,
        )
        self.banner.show_result(
            Tone.OK,
            _("Ticket {ticket} printed again.").format(ticket=result.ticket),
            self.print_ticket(result),
        )
        self.field.setFocus()

    def walk_in(self) -> None:
        answer = WalkInDialog.ask(self, branches(self.context.uow()))
        if answer is None:
            self.field.setFocus()
            return
        name, phone, branch_code = answer
        try:
            customer_id = reception.register_walk_in(
                self.context.uow(),
                name=name,
                phone=phone,
                branch_code=branch_code,
                staff=self.context.staff,
                clock=self.context.app.clock,
            )
        except KioskError as error:
            self.fail(str(error))
            return
        self.check_in(customer_id)
