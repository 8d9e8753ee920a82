"""A supervisor's approval on the spot: staff number and PIN typed at the clerk's station.

The service decides (``kiosk.permissions``); this dialog only collects the supervisor's PIN
and passes the resulting ``Approval`` on. A signed-in supervisor is never asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Role
from kiosk.permissions import Action, Approval, approval_sentence
from kiosk.services.approval import approve
from ui.context import StationContext
from ui.widgets import dialog_buttons, error_label, pin_field, staff_no_field


class SupervisorDialog(QDialog):
    """Staff number and PIN of a supervisor; Enter submits, Esc cancels, a refusal is shown
    in words and the dialog stays open for another try."""

    # Tests set this to answer the dialog (type into it with qtbot) instead of ``exec()``.
    answer: ClassVar[Callable[[SupervisorDialog], None] | None] = None

    def __init__(
        self,
        context: StationContext,
        action: Action,
        parent: QWidget | None = None,
        *,
        station: str = "",
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.action = action
        self.station = station
        self.approval: Approval | None = None
        self.setWindowTitle(_("Supervisor approval"))
        self.setObjectName("supervisor_dialog")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.setSpacing(10)
        what = QLabel(approval_sentence(action))
        what.setObjectName("approval_action")
        what.setProperty("role", "subtitle")
        what.setWordWrap(True)
        layout.addWidget(what)
        who = QLabel(
            _("{name} ({no}) asks. A supervisor types their own staff number and PIN.").format(
                name=context.staff.name, no=context.staff.staff_no
            )
        )
        who.setProperty("role", "hint")
        who.setWordWrap(True)
        layout.addWidget(who)
        layout.addWidget(QLabel(_("Supervisor's staff number")))
        self.staff_no = staff_no_field("supervisor_no", _("e.g. S001"))
        layout.addWidget(self.staff_no)
        layout.addWidget(QLabel(_("PIN")))
        self.pin = pin_field("supervisor_pin")
        layout.addWidget(self.pin)
        self.error = error_label()
        layout.addWidget(self.error)
        # Enter is handled below, field by field.
        buttons, self.cancel_button, self.ok_button = dialog_buttons(
            self, _("Approve"), "approve", self.submit
        )
        layout.addLayout(buttons)
        self.staff_no.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in the staff number goes to the PIN; Enter in the PIN submits; Esc cancels
        (QDialog's own)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.focusWidget() is self.staff_no:
                self.pin.setFocus()
            else:
                self.submit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        if not self.staff_no.text().strip():
            self.error.setText(_("Type the supervisor's staff number."))
            self.staff_no.setFocus()
            return
        if not self.pin.text():
            self.error.setText(_("Type the PIN."))
            self.pin.setFocus()
            return
        try:
            self.approval = approve(
                self.context.uow(),
                self.staff_no.text(),
                self.pin.text(),
                action=self.action,
                station=self.station,
                clock=self.context.app.clock,
            )
        except KioskError as error:
            self.pin.clear()
            # A wrong PIN's sentence says how long the next try waits (the service decides).
            self.error.setText(str(error))
            self.pin.setFocus()
            return
        self.accept()

    def run(self) -> Approval | None:
        if SupervisorDialog.answer is not None:
            SupervisorDialog.answer(self)
        else:
            self.exec()
        return self.approval if self.result() == QDialog.DialogCode.Accepted else None


def approval_for(
    parent: QWidget, context: StationContext, action: Action, *, station: str = ""
) -> tuple[bool, Approval | None]:
    """Whether to go ahead, and the approval to pass to the service: a signed-in supervisor
    goes ahead without one; anyone else asks a supervisor, and stops when they cancel."""
    if Role.SUPERVISOR in context.staff.roles:
        return True, None
    approval = SupervisorDialog(context, action, parent, station=station).run()
    return approval is not None, approval
