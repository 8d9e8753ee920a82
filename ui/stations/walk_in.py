"""The walk-in form of reception: name, phone and branch of a customer who was not invited,
each problem said under its field (``reception.walk_in_problems``), nothing written until all
are right; the station checks the new customer in."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import reception
from kiosk.services.reception import WalkInInvalid
from ui.theme import is_large_print
from ui.widgets import (
    dialog_buttons,
    error_label,
    mark_invalid,
)


class WalkInDialog(QDialog):
    """Name, phone and branch of a customer who was not invited.

    The dialog registers the customer itself (through ``register``, the service) and stays
    open until that succeeds: a problem is marked at its field with its sentence and
    everything typed stays, so nothing has to be asked twice. Enter moves on from the name
    to the phone to the branch, then registers; Esc cancels.
    """

    # Tests set this to answer the dialog (type into it with qtbot) instead of ``exec()``.
    answer: ClassVar[Callable[[WalkInDialog], None] | None] = None

    def __init__(
        self,
        branch_choices: list[tuple[str, str]],
        register: Callable[[str, str, str], int],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.register = register
        self.customer_id: int | None = None
        self.setWindowTitle(_("Register a walk-in customer"))
        self.setObjectName("walk_in_dialog")
        self.setMinimumWidth(720 if is_large_print() else 560)
        form = QFormLayout(self)
        form.setVerticalSpacing(4)
        self.name = QLineEdit()
        self.name.setObjectName("walk_in_name")
        self.name.setMaxLength(80)
        self.phone = QLineEdit()
        self.phone.setObjectName("walk_in_phone")
        self.phone.setPlaceholderText(_("11 digits, e.g. 13800001234"))
        self.phone.setMaxLength(24)
        self.branch = QComboBox()
        self.branch.setObjectName("walk_in_branch")
        self.branch.addItem(_("— choose the branch —"), None)
        for code, name in branch_choices:
            self.branch.addItem(name, code)
        self.inputs: dict[str, QWidget] = {
            "name": self.name,
            "phone": self.phone,
            "branch": self.branch,
        }
        self.errors: dict[str, QLabel] = {}
        for field, label in (
            ("name", _("Name")),
            ("phone", _("Mobile phone")),
            ("branch", _("Branch")),
        ):
            error = error_label()
            error.setObjectName(f"walk_in_error_{field}")
            error.setVisible(False)
            self.errors[field] = error
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(self.inputs[field])
            box.addWidget(error)
            form.addRow(label, box)
        self.error = error_label()  # a problem of the whole form (already registered, offline)
        self.error.setVisible(False)
        form.addRow(self.error)
        # Enter is handled below, field by field.
        buttons, self.cancel_button, self.ok_button = dialog_buttons(
            self, _("Register and check in"), "register", self.submit
        )
        form.addRow(buttons)
        self.name.textEdited.connect(lambda _text: self._clear_error("name"))
        self.phone.textEdited.connect(lambda _text: self._clear_error("phone"))
        self.branch.currentIndexChanged.connect(lambda _index: self._clear_error("branch"))
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            focus = self.focusWidget()
            if focus is self.name and self.name.text().strip():
                self.phone.setFocus()
            elif focus is self.phone and self.branch.currentData() is None:
                self.branch.setFocus()
            else:
                self.submit()
            return
        super().keyPressEvent(event)

    def values(self) -> tuple[str, str, str]:
        return self.name.text(), self.phone.text(), str(self.branch.currentData() or "")

    def submit(self) -> None:
        name, phone, branch = self.values()
        errors = reception.walk_in_problems(name, phone, branch)
        if not errors:
            try:
                self.customer_id = self.register(name, phone, branch)
            except WalkInInvalid as invalid:
                errors = invalid.errors
            except KioskError as error:  # the database is away: keep everything, try again
                errors = {"form": str(error)}
        if errors:
            self.show_errors(errors)
            return
        self.accept()

    def show_errors(self, errors: dict[str, str]) -> None:
        for field, label in self.errors.items():
            label.setText(errors.get(field, ""))
            label.setVisible(field in errors)
            mark_invalid(self.inputs[field], field in errors)
        general = [text for field, text in errors.items() if field not in self.errors]
        self.error.setText(" ".join(general))
        self.error.setVisible(bool(general))
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))  # room for them
        first = next((f for f in self.inputs if f in errors), None)
        if first is not None:
            self.inputs[first].setFocus()
            if isinstance(self.inputs[first], QLineEdit):  # ready to add what is missing
                self.inputs[first].end(False)  # type: ignore[attr-defined]

    def _clear_error(self, field: str) -> None:
        self.errors[field].setVisible(False)
        mark_invalid(self.inputs[field], False)

    def run(self) -> int | None:
        """The registered customer's id, or None when cancelled."""
        if WalkInDialog.answer is not None:
            WalkInDialog.answer(self)
        else:
            self.exec()
        return self.customer_id if self.result() == QDialog.DialogCode.Accepted else None
