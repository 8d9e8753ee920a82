"""Administration -> Before slips: what a customer must have done before slips are issued.

The coordinator ticks the event's requirements (``kiosk.services.gate``); the bank's default
is complete data and active mobile banking. The slip service enforces them at every desk and
on the command line, the activation desk explains them, and only a supervisor saves them
(audited). Read when the tab is opened, so another laptop's change shows.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import gate
from kiosk.services.gate import Requirement, listing, requirement_label
from ui.context import StationContext
from ui.widgets import ResultBanner, Tone


def requirement_hint(requirement: Requirement) -> str:
    """What the requirement asks of the customer, and where it is done."""
    return {
        Requirement.DATA: _(
            "Every KYC field present and valid, the ID not expired (the service desk completes it)."
        ),
        Requirement.MOBILE_BANKING: _(
            "The customer's mobile banking is active: opened at the service desk, logged in at "
            "the activation desk (F6) unless already in use."
        ),
        Requirement.LOGIN: _(
            "The mobile-banking login is done at the activation desk (F6) at this event, even "
            "for customers who already use it."
        ),
        Requirement.SCAN_PAY: _("The charity scan-pay is done at the activation desk (F7)."),
    }[requirement]


class RequirementsPanel(QWidget):
    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "What a customer must have done before any slip is issued. Every activation "
                "desk and the command line check it; the desk says what is missing and where "
                "to send the customer. A supervisor may let a customer through on the spot, "
                "which is recorded."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.boxes: dict[Requirement, QCheckBox] = {}
        for requirement in Requirement:
            box = QCheckBox(requirement_label(requirement))
            box.setObjectName(f"requires_{requirement.value}")
            hint = QLabel(requirement_hint(requirement))
            hint.setProperty("role", "hint")
            hint.setWordWrap(True)
            hint.setContentsMargins(28, 0, 0, 6)
            layout.addWidget(box)
            layout.addWidget(hint)
            self.boxes[requirement] = box
        row = QHBoxLayout()
        self.save_button = QPushButton(_("Save"))
        self.save_button.setObjectName("save_requirements")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.banner = ResultBanner()
        layout.addWidget(self.banner)
        layout.addStretch(1)

    def refresh(self) -> None:
        try:
            required = gate.requirements(self.context.uow())
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        for requirement, box in self.boxes.items():
            box.setChecked(requirement in required)
        self.banner.show_result(Tone.OK, self.describe(required))

    def chosen(self) -> list[Requirement]:
        return [r for r, box in self.boxes.items() if box.isChecked()]

    @staticmethod
    def describe(required: tuple[Requirement, ...]) -> str:
        if not required:
            return _("Before slips: nothing is required.")
        return _("Before slips: {steps}.").format(
            steps=listing(requirement_label(r) for r in required)
        )

    def save(self) -> None:
        try:
            required = gate.set_requirements(
                self.context.uow(),
                self.chosen(),
                self.context.staff,
                clock=self.context.app.clock,
                station="admin",
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Not saved"), str(error))
            return
        self.banner.show_result(
            Tone.OK,
            _("Saved. {rule}").format(rule=self.describe(required)),
            _("Customers at the activation desk now are checked against it at their next F9."),
        )
