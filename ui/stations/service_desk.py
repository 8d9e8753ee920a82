"""Service desk: call the next customer, govern their KYC data, open mobile banking, route on.

Keyboard first: F5 calls the next customer, Ctrl+S saves the form (after the customer has
confirmed the before / after summary), F8 opens mobile banking, F9 sends the customer on to
activation. ID number, phone and address only ever show masked (the full values are sealed
in the event database); a field left alone keeps the value on record, a new value is typed
from the customer's card or phone. Every invalid value is explained under its own field and
nothing is saved until all are valid.
"""

from __future__ import annotations

import contextlib
from dataclasses import fields, replace
from datetime import date
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.governance import ID_TYPES, TAX_RESIDENCIES, KycForm
from kiosk.i18n import _
from kiosk.kyc import OCCUPATIONS
from kiosk.labels import gap_label, kyc_field_label, step_label
from kiosk.masking import mask_address, mask_id, mask_phone
from kiosk.roles import Station
from kiosk.services import desk
from kiosk.services.desk import Called, GovernanceInvalid
from ui.context import StationContext
from ui.stations.base import StationPage
from ui.timing import every
from ui.widgets import ResultBanner, Sounds, Tone

NO_DATE = QDate(1900, 1, 1)


class MaskedLineEdit(QLineEdit):
    """A sealed field (ID number, phone, address): shows the mask on record, never the full
    value, which is sealed in the event database. On focus it empties for the new value
    from the customer's card or phone (the mask stays as the placeholder); what was typed
    shows masked once the field loses focus. Untouched, ``value()`` is None: keep it."""

    def __init__(self, masker, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self._masker = masker
        self._recorded = ""
        self._typed = ""
        # What the user typed is the value, whatever happens to focus afterwards.
        self.textEdited.connect(lambda text: setattr(self, "_typed", text.strip()))

    def set_value(self, recorded_mask: str) -> None:
        """The mask on record; anything typed before is dropped."""
        self._recorded = recorded_mask
        self._typed = ""
        self.setPlaceholderText(recorded_mask)
        self.setText("" if self.hasFocus() else recorded_mask)

    def value(self) -> str | None:
        return self._typed or None

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.setText(self._typed)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.setText(self._masker(self._typed) if self._typed else self._recorded)
        super().focusOutEvent(event)


class ConfirmChanges(QDialog):
    """The before / after summary the customer reads and confirms."""

    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Please check your changed details"))
        layout = QVBoxLayout(self)
        table = QTableWidget(len(rows), 3)
        table.setHorizontalHeaderLabels([_("Item"), _("Before"), _("After")])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout.addWidget(table)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(720, 120 + 40 * len(rows))

    @classmethod
    def ask(cls, parent: QWidget, rows: list[tuple[str, str, str]]) -> bool:
        """True when the customer confirmed. Tests replace this."""
        return cls(rows, parent).exec() == QDialog.DialogCode.Accepted


class CallDisplay(QWidget):
    """The public screen: the called ticket and the desk, readable across the room."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(_("Now calling"))
        self.label = QLabel(_("Please wait to be called"))
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("font-size: 64pt; font-weight: bold; color: #8a1c1c;")
        QVBoxLayout(self).addWidget(self.label)
        self.resize(1000, 400)

    def show_call(self, ticket: str, desk_name: str) -> None:
        self.label.setText(
            _("Ticket {ticket}\nplease go to desk {desk}").format(ticket=ticket, desk=desk_name)
        )


class ServiceDeskStation(StationPage):
    station = Station.SERVICE_DESK

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.sounds = Sounds(self)
        self.called: Called | None = None
        self.display: CallDisplay | None = None

        self.desk_name = QLineEdit(context.staff.staff_no)
        self.desk_name.setObjectName("desk_name")
        self.desk_name.setMaximumWidth(160)
        self.call_button = QPushButton(_("Call next (F5)"))
        self.call_button.setObjectName("call_next")
        self.call_button.setProperty("role", "primary")
        self.display_button = QPushButton(_("Public display"))
        self.queue = QTableWidget(0, 4)
        self.queue.setObjectName("queue")
        self.queue.setHorizontalHeaderLabels([_("Ticket"), _("Name"), _("Waiting"), _("For")])
        self.queue.verticalHeader().setVisible(False)
        self.queue.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.queue.horizontalHeader().setStretchLastSection(True)
        self.banner = ResultBanner()

        self.header = QLabel(_("No customer called"))
        self.header.setObjectName("called_header")
        self.header.setProperty("role", "title")
        self.form_box = QFrame()
        self.form_box.setObjectName("card")
        form = QFormLayout(self.form_box)
        form.setVerticalSpacing(3)
        self.inputs: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.statuses: dict[str, QLabel] = {}
        for field in (f.name for f in fields(KycForm)):
            widget = self._input_for(field)
            widget.setObjectName(f"field_{field}")
            if isinstance(widget, QComboBox):  # long occupation names must not widen the window
                widget.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                )
                widget.setMinimumContentsLength(8)
            self.inputs[field] = widget
            error = QLabel("")
            error.setObjectName(f"error_{field}")
            error.setProperty("role", "error")
            error.setWordWrap(True)
            error.setVisible(False)
            self.errors[field] = error
            status = QLabel("")
            status.setObjectName(f"status_{field}")
            status.setMinimumWidth(70)
            self.statuses[field] = status
            line = QHBoxLayout()
            line.addWidget(widget, 1)
            line.addWidget(status)
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addLayout(line)
            box.addWidget(error)
            form.addRow(kyc_field_label(field), box)

        self.save_button = QPushButton(_("Save details (Ctrl+S)"))
        self.save_button.setObjectName("save")
        self.mobile_button = QPushButton(_("Open mobile banking (F8)"))
        self.mobile_button.setObjectName("mobile_banking")
        self.route_button = QPushButton(_("Done: to activation (F9)"))
        self.route_button.setObjectName("route_on")
        self.route_button.setProperty("role", "primary")
        self.skip_button = QPushButton(_("No-show"))
        self.requeue_button = QPushButton(_("Back in queue"))
        self.transfer_button = QPushButton(_("Transfer…"))
        self.my_counts = QLabel("")
        self.my_counts.setObjectName("my_counts")
        self.my_counts.setProperty("role", "hint")
        self.my_counts.setWordWrap(True)
        self.timeline = QListWidget()
        self.timeline.setObjectName("timeline")
        self.timeline.setMaximumHeight(96)

        left = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Desk")))
        row.addWidget(self.desk_name, 1)
        left.addLayout(row)
        left.addWidget(self.call_button)
        left.addWidget(self.display_button)
        left.addWidget(QLabel(_("Waiting")))
        left.addWidget(self.queue, 1)
        left.addWidget(self.my_counts)
        right = QVBoxLayout()
        right.addWidget(self.header)
        # The form scrolls inside its panel, so large print still fits a 1366x768 laptop.
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        form_scroll.setWidget(self.form_box)
        right.addWidget(form_scroll, 1)
        # Two columns of actions: wide enough in large print on a 1366-pixel laptop.
        actions = QGridLayout()
        for index, button in enumerate(
            (
                self.save_button,
                self.mobile_button,
                self.route_button,
                self.transfer_button,
                self.skip_button,
                self.requeue_button,
            )
        ):
            actions.addWidget(button, index // 2, index % 2)
        right.addLayout(actions)
        right.addWidget(QLabel(_("Visit timeline")))
        right.addWidget(self.timeline)
        body = QHBoxLayout()
        body.addLayout(left, 4)
        body.addLayout(right, 7)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)

        self.call_button.clicked.connect(self.call_next)
        self.display_button.clicked.connect(self.open_display)
        self.save_button.clicked.connect(self.save)
        self.mobile_button.clicked.connect(self.open_mobile_banking)
        self.route_button.clicked.connect(self.route_on)
        self.skip_button.clicked.connect(self.skip)
        self.requeue_button.clicked.connect(self.requeue)
        self.transfer_button.clicked.connect(self.transfer)
        self.bind(Qt.Key.Key_F5, self.call_next)
        self.bind(Qt.Key.Key_F8, self.open_mobile_banking)
        self.bind(Qt.Key.Key_F9, self.route_on)
        self.bind(Qt.Key.Key_S, self.save, Qt.KeyboardModifier.ControlModifier)
        self.refresh_timer = QTimer(self)
        # Other desks and reception change the queue: ``refresh_live`` follows them at once;
        # this timer only keeps the waiting minutes current.
        self.refresh_timer.setInterval(every(60_000))
        self.refresh_timer.timeout.connect(self.refresh_queue)
        self._set_enabled(False)

    # -- building ------------------------------------------------------------------------------

    def _input_for(self, field: str) -> QWidget:
        if field == "gender":
            box = QComboBox()
            box.addItem("", None)
            box.addItem(_("male"), "M")
            box.addItem(_("female"), "F")
            return box
        if field == "occupation_code":
            box = QComboBox()
            box.addItem("", None)
            for code, label in OCCUPATIONS.items():
                box.addItem(f"{code} {label}", code)
            return box
        if field in ("id_type", "tax_residency"):
            box = QComboBox()
            box.addItem("", None)
            for value in ID_TYPES if field == "id_type" else TAX_RESIDENCIES:
                box.addItem(self._choice_label(value), value)
            return box
        if field in ("id_valid_from", "id_valid_to"):
            edit = QDateEdit()
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setMinimumDate(NO_DATE)
            edit.setSpecialValueText("—")
            edit.setDate(NO_DATE)  # shows "—" until a date is set
            return edit
        if field == "id_long_term":
            return QCheckBox(_("Long-term (长期)"))
        if field == "id_number":
            return MaskedLineEdit(mask_id)
        if field == "phone":
            return MaskedLineEdit(mask_phone)
        if field == "address":
            return MaskedLineEdit(mask_address)
        return QLineEdit()

    @staticmethod
    def _choice_label(value: str) -> str:
        return {
            "resident_id": _("Resident ID card"),
            "passport": _("Passport"),
            "hk_macao_permit": _("HK/Macao permit"),
            "taiwan_permit": _("Taiwan permit"),
            "foreign_permanent": _("Foreign permanent residence"),
            "CN": _("Tax resident of China only"),
            "CN_AND_OTHER": _("China and another country"),
            "OTHER": _("Another country only"),
        }[value]

    def _set_enabled(self, on: bool) -> None:
        for widget in (
            self.form_box,
            self.save_button,
            self.mobile_button,
            self.route_button,
            self.skip_button,
            self.transfer_button,
        ):
            widget.setEnabled(on)
        self.requeue_button.setEnabled(self.called is not None)

    # -- the form ----------------------------------------------------------------------------

    def show_form(self, form: KycForm) -> None:
        for field, widget in self.inputs.items():
            value = getattr(form, field)
            if isinstance(widget, MaskedLineEdit):
                widget.set_value(value or "")
            elif isinstance(widget, QLineEdit):
                widget.setText(value or "")
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findData(value), 0))
            elif isinstance(widget, QDateEdit):
                widget.setDate(QDate(value.year, value.month, value.day) if value else NO_DATE)
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            self.errors[field].setVisible(False)

    def show_status(self, status: dict[str, str]) -> None:
        """Ok / missing / expired / invalid beside each field, in words and colour."""
        for field, label in self.statuses.items():
            state = status.get(field, "")
            label.setText("✓ " + _("ok") if state == "ok" else gap_label(state) if state else "")
            label.setStyleSheet(
                "color: #1e7b34;" if state == "ok" else "color: #b00020; font-weight: bold;"
            )

    def read_form(self) -> KycForm:
        values: dict[str, object] = {}
        for field, widget in self.inputs.items():
            if isinstance(widget, MaskedLineEdit):
                values[field] = widget.value()  # None: the sealed value on record stays
            elif isinstance(widget, QLineEdit):
                values[field] = widget.text().strip() or None
            elif isinstance(widget, QComboBox):
                values[field] = widget.currentData()
            elif isinstance(widget, QDateEdit):
                qdate = widget.date()
                values[field] = (
                    None if qdate == NO_DATE else date(qdate.year(), qdate.month(), qdate.day())
                )
            elif isinstance(widget, QCheckBox):
                values[field] = widget.isChecked()
        values["name"] = values["name"] or ""
        values["id_type"] = values["id_type"] or "resident_id"
        return KycForm(**values)  # type: ignore[arg-type]

    def show_errors(self, errors: dict[str, str]) -> None:
        for field, label in self.errors.items():
            label.setText(errors.get(field, ""))
            label.setVisible(field in errors)
        first = next((f for f in self.inputs if f in errors), None)
        if first:
            self.inputs[first].setFocus()

    # -- actions -------------------------------------------------------------------------------

    def load(self) -> None:
        self.refresh_counts()
        self.refresh_queue()
        self.call_button.setFocus()
        self.refresh_timer.start()

    def refresh_live(self) -> None:
        self.refresh_queue()
        self.refresh_counts()

    def refresh_queue(self) -> None:
        try:
            rows = desk.waiting(self.context.uow(), clock=self.context.app.clock)
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self.queue.setRowCount(len(rows))
        for r, item in enumerate(rows):
            reason = "、".join(kyc_field_label(f) for f in item.reason.split(",") if f)
            for c, text in enumerate(
                (
                    item.ticket,
                    item.masked_name,
                    _("{n} min").format(n=item.waited_minutes),
                    item.preferred_rm or reason,
                )
            ):
                self.queue.setItem(r, c, QTableWidgetItem(text))

    def _act(self, action, success: str) -> bool:  # type: ignore[no-untyped-def]
        try:
            action()
        except GovernanceInvalid as error:
            self.show_errors(error.errors)
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            return False
        except KioskError as error:
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            return False
        self.sounds.play(Tone.OK)
        self.banner.show_result(Tone.OK, success)
        with contextlib.suppress(KioskError):  # done; the lists catch up on the next change
            self.refresh_timeline()
            self.refresh_counts()
        return True

    def call_next(self) -> None:
        try:
            called = desk.call_next(
                self.context.uow(),
                self.context.staff,
                desk=self.desk_name.text().strip() or self.context.staff.staff_no,
                clock=self.context.app.clock,
            )
        except KioskError as error:  # the database is away: F5 again once it is back
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self.refresh_queue()
        if called is None:
            self.sounds.play(Tone.WARN)
            self.banner.show_result(Tone.WARN, _("Nobody is waiting for this desk."))
            return
        self.called = called
        self.header.setText(
            _("{ticket} · {name} · waited {n} min").format(
                ticket=called.ticket, name=called.masked_name, n=called.waited_minutes
            )
        )
        self._set_enabled(True)
        if not self._reload_form():
            return
        self.refresh_timeline()
        self.sounds.play(Tone.OK)
        self.banner.show_result(
            Tone.OK,
            _("Calling {ticket} to desk {desk}").format(
                ticket=called.ticket, desk=self.desk_name.text()
            ),
        )
        if self.display is not None:
            self.display.show_call(called.ticket, self.desk_name.text())

    def _reload_form(self) -> bool:
        """The called customer's stored details into the form (after a call or a save)."""
        assert self.called is not None
        customer_id = self.called.customer_id
        try:
            form = desk.current_form(self.context.uow(), customer_id)
            status = desk.field_status(
                self.context.uow(), customer_id, clock=self.context.app.clock
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return False
        self.show_form(form)
        self.show_status(status)
        return True

    def save(self) -> None:
        if self.called is None:
            return
        after = self.read_form()
        try:
            before = desk.current_form(self.context.uow(), self.called.customer_id)
            errors = desk.check_form(
                self.context.uow(),
                after,
                customer_id=self.called.customer_id,
                clock=self.context.app.clock,
            )
        except KioskError as error:
            # The database is away: what was typed stays in the form; Ctrl+S again later.
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            return
        rows = []
        maskers = {"id_number": mask_id, "phone": mask_phone, "address": mask_address}
        for field in (f.name for f in fields(KycForm)):
            old, new = getattr(before, field), getattr(after, field)
            if field in maskers and new is None:
                continue  # kept: the sealed value on record
            if old != new:
                shown = maskers.get(field, str)
                rows.append(
                    (
                        kyc_field_label(field),
                        (old if field in maskers else shown(old)) if old is not None else "—",
                        shown(new) if new is not None else "—",
                    )
                )
        if errors:
            self.show_errors(errors)
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, _("Some fields are not valid; nothing was saved."))
            return
        self.show_errors({})
        if rows and not ConfirmChanges.ask(self, rows):
            self.banner.show_result(Tone.WARN, _("Not saved: the customer did not confirm."))
            return
        called = self.called
        # The same request until the outcome is known: Ctrl+S again after "not known whether
        # it was saved" records the changes once (kiosk.idempotency).
        subject = ("governance", called.customer_id, called.visit_id)
        changed: list[str] = []
        try:
            changed = desk.save_governance(
                self.context.uow(),
                called.customer_id,
                after,
                self.context.staff,
                visit_id=called.visit_id,
                clock=self.context.app.clock,
                request_id=self.context.requests.id_for(subject),
            )
        except OutcomeUnknown as error:
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            return
        except GovernanceInvalid as error:
            self.context.requests.settle(subject)
            self.show_errors(error.errors)
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            return
        except KioskError as error:
            self.context.requests.settle(subject)
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self.context.requests.settle(subject)
        self.sounds.play(Tone.OK)
        self.banner.show_result(Tone.OK, _("Details saved ({n} changed).").format(n=len(changed)))
        with contextlib.suppress(KioskError):  # done; the lists catch up on the next change
            self.refresh_timeline()
            self.refresh_counts()
        self._reload_form()  # only after a save: a refusal keeps what was typed

    def open_mobile_banking(self) -> None:
        if self.called is None:
            return
        called = self.called
        self._act(
            lambda: desk.open_mobile_banking(
                self.context.uow(),
                called.customer_id,
                self.context.staff,
                visit_id=called.visit_id,
                clock=self.context.app.clock,
            ),
            _("Mobile banking opened."),
        )

    def route_on(self) -> None:
        if self.called is None:
            return
        called = self.called
        result: list[desk.RoutedOn] = []
        if self._act(
            lambda: result.append(
                desk.route_on(
                    self.context.uow(),
                    called.entry_id,
                    self.context.staff,
                    clock=self.context.app.clock,
                )
            ),
            "",
        ):
            routed = result[0]
            self.banner.show_result(
                Tone.OK,
                _("{name}: now ticket {ticket} for activation, {n} ahead.").format(
                    name=called.masked_name, ticket=routed.ticket, n=routed.waiting_ahead
                ),
            )
            self._finish()

    def skip(self) -> None:
        if self.called is None:
            return
        called = self.called
        if self._act(
            lambda: desk.skip(
                self.context.uow(),
                called.entry_id,
                self.context.staff,
                clock=self.context.app.clock,
            ),
            _("{ticket} set aside as a no-show.").format(ticket=called.ticket),
        ):
            self._set_enabled(False)
            self.requeue_button.setEnabled(True)

    def requeue(self) -> None:
        if self.called is None:
            return
        called = self.called
        if self._act(
            lambda: desk.requeue(
                self.context.uow(),
                called.entry_id,
                self.context.staff,
                clock=self.context.app.clock,
            ),
            _("{ticket} is back in the queue.").format(ticket=called.ticket),
        ):
            self._finish()

    def transfer(self) -> None:
        if self.called is None:
            return
        staff_no, ok = QInputDialog.getText(self, _("Transfer"), _("Staff number of the RM"))
        if not ok or not staff_no.strip():
            return
        called = self.called
        if self._act(
            lambda: desk.transfer(
                self.context.uow(),
                called.entry_id,
                staff_no,
                self.context.staff,
                clock=self.context.app.clock,
            ),
            _("{ticket} now waits for {no}.").format(ticket=called.ticket, no=staff_no.upper()),
        ):
            self._finish()

    def _finish(self) -> None:
        self.called = None
        self.header.setText(_("No customer called"))
        self.show_form(
            replace(
                KycForm(**{f.name: None for f in fields(KycForm)}),
                name="",
                id_type="resident_id",
                id_long_term=False,
            )
        )
        self.show_status({})
        self._set_enabled(False)
        self.timeline.clear()
        self.refresh_queue()

    def refresh_counts(self) -> None:
        """What the bank measures an RM on: customers governed and mobile banking opened."""
        mine = next(
            (
                c
                for c in desk.rm_counts(self.context.uow())
                if c.staff_no == self.context.staff.staff_no
            ),
            None,
        )
        self.my_counts.setText(
            _("Today: {governed} governed, {opened} mobile banking opened").format(
                governed=mine.governed if mine else 0,
                opened=mine.mobile_banking_opened if mine else 0,
            )
        )

    def refresh_timeline(self) -> None:
        self.timeline.clear()
        if self.called is None:
            return
        for step in desk.timeline(self.context.uow(), self.called.visit_id):
            local = step.at.astimezone(ZoneInfo(self.called.timezone)).strftime("%H:%M")
            self.timeline.addItem(f"{local}  {step_label(step.step)}  · {step.staff_name}")

    def open_display(self) -> None:
        if self.display is None:
            self.display = CallDisplay()
        if self.called is not None:  # opened mid-call: show who is being called now
            self.display.show_call(self.called.ticket, self.desk_name.text())
        self.display.show()
