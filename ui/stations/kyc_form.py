"""The KYC form of the service desk, as a panel: one input per field of ``KycForm`` with its
mark (ok / missing / expired / invalid) and its sentence under it.

ID number, phone and address only ever show masked (the full values are sealed in the event
database); a field left alone keeps the value on record, a new value is typed from the
customer's card or phone. Dates are typed as the card prints them, an emptied date is no
date, and ticking 长期 empties and locks the end date. The panel knows nothing of the
database: the station fills it, reads it and judges it (``kiosk.governance``).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.governance import ID_TYPES, TAX_RESIDENCIES, KycForm, is_long_term_text, read_date
from kiosk.i18n import _
from kiosk.kyc import OCCUPATIONS
from kiosk.labels import gap_label, id_type_label, kyc_field_label, tax_residency_label
from kiosk.masking import mask_address, mask_id, mask_phone
from ui.stations.base import StationPage
from ui.theme import CUSTOMER
from ui.widgets import dialog_buttons, mark_invalid

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
        self.setProperty(CUSTOMER, True)  # the customer reads it: large type in both modes
        layout = QVBoxLayout(self)
        # What to do with the table, said first: staff turn the screen to the customer.
        self.prompt = QLabel(
            _("Please let the customer check the changes below; press “Confirm” if correct.")
        )
        self.prompt.setObjectName("confirm_prompt")
        self.prompt.setWordWrap(True)
        layout.addWidget(self.prompt)
        table = QTableWidget(len(rows), 3)
        table.setObjectName("changes")
        table.setHorizontalHeaderLabels([_("Item"), _("Before"), _("After")])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.setWordWrap(True)  # long occupation names wrap instead of being cut
        # Read, not chosen: no row lights up under a customer's finger.
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table = table
        layout.addWidget(table)
        # Buttons as the app's others: words with their key, no stock icons.
        # Enter is handled below, wherever the focus is.
        buttons, self.cancel_button, self.ok_button = dialog_buttons(
            self, _("Confirm (Enter)"), "confirm", self.accept
        )
        layout.addLayout(buttons)
        self.resize(880, 190 + 56 * len(rows))
        table.resizeRowsToContents()
        self.ok_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter confirms (Esc cancels, as in every dialog)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept()
            return
        super().keyPressEvent(event)

    @classmethod
    def ask(cls, parent: QWidget, rows: list[tuple[str, str, str]]) -> bool:
        """True when the customer confirmed. Tests replace this."""
        return cls(rows, parent).exec() == QDialog.DialogCode.Accepted


class KycFormPanel(QFrame):
    """The form's fields, marks and sentences. ``edited`` after every change typed (not
    while the form is being filled in)."""

    edited = Signal()

    def __init__(self, page: StationPage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.loading = False  # filling the form in: not an edit
        self._end_before_long_term = ""
        # A grid of label | field rows, in one column or two as the width allows
        # (``fit_to``): large print on a wide screen shows every field at once.
        self.grid = QGridLayout(self)
        self.grid.setVerticalSpacing(3)
        self.grid.setHorizontalSpacing(12)
        self.columns = 0
        self.rows: list[tuple[QLabel, QVBoxLayout]] = []
        self.station_keys = StationKeysFirst(page)
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
            label = QLabel(kyc_field_label(field))
            label.setObjectName(f"label_{field}")
            label.setBuddy(widget)
            # As tall as its field, the words in the middle of the field's line.
            label.setMinimumHeight(widget.sizeHint().height())
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            self.rows.append((label, box))
        self.fit_to(0)

        for widget in self.inputs.values():
            if isinstance(widget, QLineEdit):
                widget.textChanged.connect(self._on_changed)
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._on_changed)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self._on_changed)
        long_term = self.inputs["id_long_term"]
        assert isinstance(long_term, QCheckBox)
        long_term.toggled.connect(self._on_long_term)
        valid_to = self.inputs["id_valid_to"]
        assert isinstance(valid_to, DateField)
        valid_to.textEdited.connect(self._on_end_date_typed)

    def column_width(self) -> int:
        """The least width one column of label, field and mark reads well in."""
        metrics = self.fontMetrics()
        label = max(row[0].sizeHint().width() for row in self.rows)
        field = metrics.horizontalAdvance("440106********001X") + 40  # a masked ID number
        mark = max(metrics.horizontalAdvance(f"✓ {_('ok')}"), 70) + 24  # "expired" and such
        return label + field + mark + 2 * self.grid.horizontalSpacing()

    def fit_to(self, width: int) -> None:
        """Two columns when ``width`` (what the form's place shows) has room for them, else
        one; the fields keep their order, down the first column then the second."""
        margins = self.grid.contentsMargins()
        room = width - margins.left() - margins.right() - 2 * self.frameWidth()
        columns = 2 if room >= 2 * self.column_width() + 3 * self.grid.horizontalSpacing() else 1
        if columns == self.columns:
            return
        self.columns = columns
        for label, box in self.rows:
            self.grid.removeWidget(label)
            self.grid.removeItem(box)
        per_column = -(-len(self.rows) // columns)
        for index, (label, box) in enumerate(self.rows):
            row, column = index % per_column, index // per_column
            self.grid.addWidget(label, row, 2 * column, Qt.AlignmentFlag.AlignTop)
            # At the top of its row: a sentence under the field beside it makes rows taller.
            self.grid.addLayout(box, row, 2 * column + 1, Qt.AlignmentFlag.AlignTop)
        for column in range(4):
            self.grid.setColumnStretch(column, 1 if column % 2 and column // 2 < columns else 0)
        for row in range(len(self.rows) + 1):  # short columns stay at the top
            self.grid.setRowStretch(row, 1 if row == per_column else 0)

    def _on_changed(self) -> None:
        if not self.loading:
            self.edited.emit()

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

    def show_form(self, form: KycForm) -> None:
        self.loading = True
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
            self.loading = False
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

    def _on_long_term(self, on: bool) -> None:
        if not self.loading:
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

    # -- a draft of what is typed (``ui.recovery``) -------------------------------------------

    def draft_values(self) -> tuple[dict[str, object], list[str]]:
        """What is typed, for a draft kept on this laptop, and which sealed fields were
        retyped: ID number, phone and address are never kept, only that they were typed."""
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
        return values, retyped

    def restore_values(self, values: dict[str, object]) -> None:
        """A draft's values back in the fields (the sealed ones stay as on record)."""
        self.loading = True
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
            self.loading = False
