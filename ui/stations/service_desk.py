"""Service desk: call the next customer, govern their KYC data, open mobile banking, route on.

Keyboard first: F5 calls the next customer, Ctrl+S saves the form (after the customer has
confirmed the before / after summary), F8 opens mobile banking, F9 sends the customer on to
activation. ID number, phone and address only ever show masked (the full values are sealed
in the event database); a field left alone keeps the value on record, a new value is typed
from the customer's card or phone. Every invalid value is explained under its own field and
nothing is saved until all are valid. The marks beside the fields follow what is typed
(``kiosk.governance.field_states``); dates are typed as the card prints them, an emptied
date is no date, and ticking 长期 empties and locks the end date.

The desk is this laptop's counter (``ui.counter``) at the service-desk queue; the customer it
has called comes from the event database (``desk.current_call``) whenever the station loads
or the database changes, so a re-layout, a restart, a sign-out or another laptop given the
counter's name shows the same customer.
"""

from __future__ import annotations

import contextlib
from dataclasses import fields, replace
from datetime import date
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
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
from kiosk.governance import (
    ID_TYPES,
    TAX_RESIDENCIES,
    KycForm,
    field_states,
    is_long_term_text,
    read_date,
    summary,
    validate,
)
from kiosk.i18n import _
from kiosk.kyc import OCCUPATIONS
from kiosk.labels import (
    gap_label,
    id_type_label,
    kyc_field_label,
    step_label,
    tax_residency_label,
)
from kiosk.masking import mask_address, mask_id, mask_phone
from kiosk.models import Queue
from kiosk.roles import Station
from kiosk.services import desk
from kiosk.services.desk import (
    Called,
    DeskBusy,
    DeskError,
    FormContext,
    GovernanceInvalid,
    counter_label,
)
from ui.context import StationContext
from ui.counter import CounterBar
from ui.stations.base import StationPage
from ui.timing import every
from ui.widgets import ResultBanner, Sounds, Tone, mark_invalid

NO_DATE = QDate(1900, 1, 1)


class DateField(QLineEdit):
    """A date typed as the ID card prints it (2016.05.03, 20160503 or 2016-05-03); an
    empty field is no date, so clearing the text clears the value. ``setDate`` / ``date``
    answer as a QDateEdit does (``NO_DATE`` for none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMaxLength(20)
        self.setPlaceholderText(_("e.g. 2016.05.03"))

    def set_value(self, value: date | None) -> None:
        self.setText(value.isoformat() if value else "")

    def value(self) -> date | None:
        """The date typed; raises ``ValueError`` with the sentence for text that is none."""
        return read_date(self.text())

    def setDate(self, qdate: QDate) -> None:  # QDateEdit's name, for callers of either
        valid = qdate.isValid() and qdate != NO_DATE
        self.set_value(date(qdate.year(), qdate.month(), qdate.day()) if valid else None)

    def date(self) -> QDate:
        try:
            value = self.value()
        except ValueError:
            return NO_DATE
        return QDate(value.year, value.month, value.day) if value else NO_DATE


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


class StationKeysFirst(QObject):
    """Ctrl+S and the other station keys while a choice box has the keyboard: a combo box
    takes every key with text for its type-to-find, and Ctrl+S has one ("\x13"), so the
    station is asked first."""

    def __init__(self, page: StationPage) -> None:
        super().__init__(page)
        self.page = page

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            return self.page.handle_key(event)
        return False


class ConfirmChanges(QDialog):
    """The before / after summary the customer reads and confirms."""

    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Please check your changed details"))
        layout = QVBoxLayout(self)
        table = QTableWidget(len(rows), 3)
        table.setObjectName("changes")
        table.setHorizontalHeaderLabels([_("Item"), _("Before"), _("After")])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.setWordWrap(True)  # long occupation names wrap instead of being cut
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table = table
        layout.addWidget(table)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(880, 140 + 56 * len(rows))
        table.resizeRowsToContents()

    @classmethod
    def ask(cls, parent: QWidget, rows: list[tuple[str, str, str]]) -> bool:
        """True when the customer confirmed. Tests replace this."""
        return cls(rows, parent).exec() == QDialog.DialogCode.Accepted


class ServiceDeskStation(StationPage):
    station = Station.SERVICE_DESK

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.sounds = Sounds(self)
        self.draft_timer = QTimer(self)
        self.draft_timer.setSingleShot(True)
        self.draft_timer.setInterval(1000)
        self.draft_timer.timeout.connect(self._save_draft)
        self.called: Called | None = None  # called at this counter's service desk
        self.no_show: Called | None = None  # just set aside here: "Back in queue" still works
        self.form_context: FormContext | None = None  # the called customer's, for live marks
        self._loading = False  # filling the form in: not an edit
        self._errors_shown = False  # after a refused save the sentences follow the typing
        self._end_before_long_term = ""

        self.counter = CounterBar(context)
        self.counter.changed.connect(lambda _name: self.sync_called())
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
        self.station_keys = StationKeysFirst(self)
        self.inputs: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.statuses: dict[str, QLabel] = {}
        for field in (f.name for f in fields(KycForm)):
            widget = self._input_for(field)
            widget.setObjectName(f"field_{field}")
            if isinstance(widget, QComboBox):  # long occupation names must not widen the window
                widget.installEventFilter(self.station_keys)
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

        for widget in self.inputs.values():
            if isinstance(widget, QLineEdit):
                widget.textChanged.connect(self._on_form_changed)
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._on_form_changed)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self._on_form_changed)
        long_term = self.inputs["id_long_term"]
        assert isinstance(long_term, QCheckBox)
        long_term.toggled.connect(self._on_long_term)
        valid_to = self.inputs["id_valid_to"]
        assert isinstance(valid_to, DateField)
        valid_to.textEdited.connect(self._on_end_date_typed)

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
        left.addWidget(self.counter)
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
                box.addItem(
                    id_type_label(value) if field == "id_type" else tax_residency_label(value),
                    value,
                )
            return box
        if field in ("id_valid_from", "id_valid_to"):
            edit = DateField()
            if field == "id_valid_to":
                edit.setPlaceholderText(_("e.g. 2036.05.03"))
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
        self.requeue_button.setEnabled(self.called is not None or self.no_show is not None)

    # -- the form ----------------------------------------------------------------------------

    def show_form(self, form: KycForm) -> None:
        self._loading = True
        try:
            for field, widget in self.inputs.items():
                value = getattr(form, field)
                if isinstance(widget, MaskedLineEdit):
                    widget.set_value(value or "")
                elif isinstance(widget, DateField):
                    widget.set_value(value)
                elif isinstance(widget, QLineEdit):
                    widget.setText(value or "")
                elif isinstance(widget, QComboBox):
                    widget.setCurrentIndex(max(widget.findData(value), 0))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
            self._end_before_long_term = ""
            self._lock_end_date(bool(form.id_long_term))
        finally:
            self._loading = False
        self._errors_shown = False
        self.show_errors({}, focus=False)

    def show_status(self, status: dict[str, str]) -> None:
        """Ok / missing / expired / invalid beside each field, in words and colour."""
        for field, label in self.statuses.items():
            state = status.get(field, "")
            label.setText("✓ " + _("ok") if state == "ok" else gap_label(state) if state else "")
            label.setStyleSheet(
                "color: #1e7b34;" if state == "ok" else "color: #b00020; font-weight: bold;"
            )

    def read_form(self) -> KycForm:
        """The form as typed; a date that cannot be read counts as none here and is
        explained by ``date_errors``."""
        values: dict[str, object] = {}
        for field, widget in self.inputs.items():
            if isinstance(widget, MaskedLineEdit):
                values[field] = widget.value()  # None: the sealed value on record stays
            elif isinstance(widget, DateField):
                try:
                    values[field] = widget.value()
                except ValueError:
                    values[field] = None
            elif isinstance(widget, QLineEdit):
                values[field] = widget.text().strip() or None
            elif isinstance(widget, QComboBox):
                values[field] = widget.currentData()
            elif isinstance(widget, QCheckBox):
                values[field] = widget.isChecked()
        values["name"] = values["name"] or ""
        values["id_type"] = values["id_type"] or "resident_id"
        return KycForm(**values)  # type: ignore[arg-type]

    def date_errors(self) -> dict[str, str]:
        """The date fields whose text is no date, with the sentence to show."""
        errors: dict[str, str] = {}
        for field, widget in self.inputs.items():
            if isinstance(widget, DateField) and widget.isEnabled():
                try:
                    widget.value()
                except ValueError as error:
                    errors[field] = str(error)
        return errors

    def show_errors(self, errors: dict[str, str], *, focus: bool = True) -> None:
        for field, label in self.errors.items():
            label.setText(errors.get(field, ""))
            label.setVisible(field in errors)
            mark_invalid(self.inputs[field], field in errors)
        first = next((f for f in self.inputs if f in errors), None)
        if first and focus:
            self.inputs[first].setFocus()

    def _on_form_changed(self) -> None:
        """An edit: the marks (and, after a refused save, the sentences) follow at once,
        judged without the database from what the form was loaded with."""
        if self._loading or self.form_context is None:
            return
        if self.context.recovery is not None and self.called is not None:
            self.draft_timer.start()  # kept a second after the last key, not on every key
        form = self.read_form()
        context = self.form_context
        date_errors = self.date_errors()
        states = field_states(form, context.today, context.record)
        states.update(dict.fromkeys(date_errors, "invalid"))
        self.show_status(states)
        if self._errors_shown:
            errors = validate(form, context.today, context.record)
            errors.update(date_errors)
            self.show_errors(errors, focus=False)

    def _on_long_term(self, on: bool) -> None:
        if not self._loading:
            self._lock_end_date(on)

    def _lock_end_date(self, long_term: bool) -> None:
        """长期: a long-term ID has no end date, so the field empties (its date is kept in
        case the tick was a slip) and takes no input; unticked, the date comes back."""
        end = self.inputs["id_valid_to"]
        assert isinstance(end, DateField)
        if long_term:
            if end.text() and not is_long_term_text(end.text()):
                self._end_before_long_term = end.text()
            end.clear()
            end.setPlaceholderText(_("long-term"))
        else:
            end.setPlaceholderText(_("e.g. 2036.05.03"))
            if not end.text() and self._end_before_long_term:
                end.setText(self._end_before_long_term)
        end.setEnabled(not long_term)

    def _on_end_date_typed(self, text: str) -> None:
        """长期 typed in the end date, as the card prints it, ticks long-term."""
        if is_long_term_text(text):
            long_term = self.inputs["id_long_term"]
            assert isinstance(long_term, QCheckBox)
            long_term.setChecked(True)

    # -- a draft of what is typed, for the start after a crash ------------------------------

    def _draft_name(self) -> str:
        return f"governance-{self.counter.name() or self.context.staff.staff_no}"

    def _save_draft(self) -> None:
        """What the form holds for the called customer, kept on this laptop (``ui.recovery``)
        so an unexpected close does not lose it. ID number, phone and address are personal
        data the laptop keeps sealed only: the draft notes that they were retyped, never
        what was typed."""
        recovery = self.context.recovery
        if recovery is None or self.called is None:
            return
        values: dict[str, object] = {}
        retyped = []
        for field, widget in self.inputs.items():
            if isinstance(widget, MaskedLineEdit):
                if widget.value():
                    retyped.append(field)
            elif isinstance(widget, QLineEdit):
                values[field] = widget.text()
            elif isinstance(widget, QComboBox):
                values[field] = widget.currentData()
            elif isinstance(widget, QCheckBox):
                values[field] = widget.isChecked()
        recovery.save_draft(
            self._draft_name(),
            {
                "entry_id": self.called.entry_id,
                "ticket": self.called.ticket,
                "values": values,
                "retyped": retyped,
            },
        )

    def _restore_draft(self) -> None:
        """The called customer's form as it was typed before the app closed, if it was."""
        recovery = self.context.recovery
        if recovery is None or self.called is None:
            return
        draft = recovery.load_draft(self._draft_name())
        if not draft:
            return
        if draft.get("entry_id") != self.called.entry_id:  # that customer is gone from here
            recovery.clear_draft(self._draft_name())
            return
        values = draft.get("values") or {}
        self._loading = True
        try:
            for field, value in values.items():
                widget = self.inputs.get(field)
                if isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QComboBox):
                    widget.setCurrentIndex(max(widget.findData(value), 0))
                elif isinstance(widget, QLineEdit) and not isinstance(widget, MaskedLineEdit):
                    widget.setText(str(value or ""))
            long_term = self.inputs["id_long_term"]
            assert isinstance(long_term, QCheckBox)
            self._lock_end_date(long_term.isChecked())
        finally:
            self._loading = False
        self._on_form_changed()
        words = _(
            "Restored what was typed for {ticket} before the app closed; check it and save "
            "with Ctrl+S."
        ).format(ticket=self.called.ticket)
        retyped = [kyc_field_label(f) for f in draft.get("retyped") or [] if f in self.inputs]
        if retyped:
            words += " " + _("Type again: {fields} (not kept on this laptop).").format(
                fields="、".join(retyped)
            )
        self.banner.show_result(Tone.WARN, words)

    def _drop_draft(self) -> None:
        self.draft_timer.stop()
        if self.context.recovery is not None:
            self.context.recovery.clear_draft(self._draft_name())

    # -- actions -------------------------------------------------------------------------------

    def load(self) -> None:
        self.counter.refresh()  # renamed at the other desk station of this window, maybe
        self.refresh_counts()
        self.refresh_queue()
        self.sync_called()
        self.call_button.setFocus()
        self.refresh_timer.start()

    def refresh_live(self) -> None:
        self.refresh_queue()
        self.refresh_counts()
        self.sync_called()

    def sync_called(self) -> None:
        """Show the customer this counter's service desk has called, as the database says:
        the same after a re-layout or a restart, and on every laptop given this counter's
        name. A form being typed in stays as it is while it is the same customer."""
        try:
            current = desk.current_call(
                self.context.uow(), desk=self.counter.name(), queue=Queue.SERVICE_DESK
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        if current is None:
            if self.called is not None:  # finished on another laptop at this counter
                self._finish()
            return
        if self.called is not None and current.entry_id == self.called.entry_id:
            return
        self._show_called(current)

    def _show_called(self, called: Called) -> None:
        self.called = called
        self.no_show = None
        self.header.setText(
            _("{ticket} · {name} · waited {n} min").format(
                ticket=called.ticket, name=called.masked_name, n=called.waited_minutes
            )
        )
        self._set_enabled(True)
        if self._reload_form():
            self._restore_draft()
            with contextlib.suppress(KioskError):
                self.refresh_timeline()

    def _announce(self) -> None:
        """The public display (the window's) shows this counter's calls now."""
        refresh = getattr(self.window(), "refresh_call_display", None)
        if callable(refresh):
            refresh()

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
        except DeskError as error:
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            self.sync_called()  # another laptop acted on this ticket: show where things are
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
        name = self.counter.ensure()
        if name is None:
            return
        self.sync_called()
        if self.called is not None:  # one customer at a time: call them again, not another
            self.sounds.play(Tone.WARN)
            self.banner.show_result(
                Tone.WARN,
                _("{ticket} is still called at {counter}: finish that customer first.").format(
                    ticket=self.called.ticket, counter=counter_label(name)
                ),
            )
            self._announce()
            return
        try:
            called = desk.call_next(
                self.context.uow(),
                self.context.staff,
                desk=name,
                clock=self.context.app.clock,
            )
        except DeskBusy as busy:  # another laptop at this counter called someone just now
            self._show_called(busy.called)
            self.sounds.play(Tone.WARN)
            self.banner.show_result(Tone.WARN, str(busy))
            return
        except KioskError as error:  # the database is away: F5 again once it is back
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self.refresh_queue()
        if called is None:
            self.sounds.play(Tone.WARN)
            self.banner.show_result(Tone.WARN, _("Nobody is waiting for this desk."))
            return
        self._show_called(called)
        self.sounds.play(Tone.OK)
        self.banner.show_result(
            Tone.OK,
            _("Calling {ticket} to {counter}").format(
                ticket=called.ticket, counter=counter_label(called.desk)
            ),
        )
        self._announce()

    def _reload_form(self) -> bool:
        """The called customer's stored details into the form (after a call or a save)."""
        assert self.called is not None
        try:
            context = desk.form_context(
                self.context.uow(), self.called.customer_id, clock=self.context.app.clock
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return False
        self.form_context = context
        self.show_form(context.form)
        self.show_status(field_states(context.form, context.today, context.record))
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
        errors.update(self.date_errors())
        if errors:
            self._errors_shown = True
            self.show_errors(errors)
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, _("Some fields are not valid; nothing was saved."))
            return
        self.show_errors({})
        record = self.form_context.record if self.form_context else None
        rows = summary(before, after, record)
        if rows and not ConfirmChanges.ask(self, rows):
            self.banner.show_result(Tone.WARN, _("Not saved: the customer did not confirm."))
            return
        called = self.called
        # The same request until the outcome is known: Ctrl+S again after "not known whether
        # it was saved" records the changes once (kiosk.idempotency).
        subject = ("governance", called.customer_id, called.visit_id)
        try:
            desk.save_governance(
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
            if isinstance(error, DeskError):
                self.sync_called()  # another laptop acted on this ticket: show where things are
            return
        self.context.requests.settle(subject)
        self.sounds.play(Tone.OK)
        # The count the customer confirmed: lines of the summary, not fields.
        self.banner.show_result(Tone.OK, _("Details saved ({n} changed).").format(n=len(rows)))
        with contextlib.suppress(KioskError):  # done; the lists catch up on the next change
            self.refresh_timeline()
            self.refresh_counts()
        self._drop_draft()
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
                    desk=called.desk,
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
                desk=called.desk,
            ),
            _("{ticket} set aside as a no-show.").format(ticket=called.ticket),
        ):
            self._finish()
            self.no_show = called
            self.header.setText(_("{ticket} set aside as a no-show.").format(ticket=called.ticket))
            self._set_enabled(False)
            self._announce()

    def requeue(self) -> None:
        called = self.called or self.no_show
        if called is None:
            return
        if self._act(
            lambda: desk.requeue(
                self.context.uow(),
                called.entry_id,
                self.context.staff,
                clock=self.context.app.clock,
                desk=called.desk,
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
                desk=called.desk,
            ),
            _("{ticket} now waits for {no}.").format(ticket=called.ticket, no=staff_no.upper()),
        ):
            self._finish()

    def _finish(self) -> None:
        self._drop_draft()
        self.called = None
        self.no_show = None
        self.form_context = None
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
        self._announce()

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
        """The public display of this counter: the window's, so it outlives a re-layout."""
        if self.counter.ensure() is None:
            return
        opener = getattr(self.window(), "open_call_display", None)
        if callable(opener):
            opener()
