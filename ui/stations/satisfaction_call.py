"""The satisfaction call (满意度回访) at the service desk, issue #21: find a redeemed slip
(its number typed or its QR scanned, or one of the called customer's slips), then record what
the customer said: a score 1–5, and a complaint with what it is about. A thin face over
``kiosk.services.feedback.record_feedback``, which checks the role (RM or supervisor) and
that the slip was redeemed."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import FeedbackCategory
from kiosk.services import feedback
from kiosk.services.feedback import SlipAfter, feedback_category_label
from ui.operations import run
from ui.stations.base import StationPage
from ui.theme import is_large_print
from ui.widgets import ScanField


class SatisfactionCallDialog(QDialog):
    """One call's outcome for one redeemed slip."""

    def __init__(
        self, station: StationPage, customer_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent or station)
        self.station = station
        self.found: SlipAfter | None = None
        self.request_id = uuid.uuid4().hex  # saving twice records the call once
        self.setWindowTitle(_("Satisfaction call"))
        self.setMinimumWidth(720 if is_large_print() else 560)
        layout = QVBoxLayout(self)
        find = QHBoxLayout()
        self.slip = ScanField()
        self.slip.setObjectName("call_slip")
        self.slip.setPlaceholderText(_("Slip number (No. 000123) or scan the slip"))
        self.slip.submitted.connect(lambda _text: self.find())
        self.slip.scanned.connect(lambda _text: self.find())
        find.addWidget(self.slip, 1)
        self.find_button = QPushButton(_("Find"))
        self.find_button.setObjectName("call_find")
        self.find_button.clicked.connect(self.find)
        find.addWidget(self.find_button)
        layout.addLayout(find)
        self.mine = QComboBox()
        self.mine.setObjectName("call_customer_slips")
        self.mine.setVisible(False)
        if customer_id is not None:
            try:
                slips = feedback.customer_slips(station.context.uow(), customer_id)
            except KioskError:
                slips = []
            if slips:
                self.mine.addItem(_("The called customer's slips…"), None)
                for serial, label in slips:
                    self.mine.addItem(label, serial)
                self.mine.setVisible(True)
                self.mine.activated.connect(self._chose_mine)
        layout.addWidget(self.mine)
        self.details = QLabel(_("Find the slip first."))
        self.details.setObjectName("call_details")
        self.details.setWordWrap(True)
        layout.addWidget(self.details)

        form = QFormLayout()
        scores = QHBoxLayout()
        self.scores = QButtonGroup(self)
        self.scores.setExclusive(True)
        self.score_buttons: dict[int, QPushButton] = {}
        for score in range(1, 6):
            button = QPushButton(str(score))
            button.setObjectName(f"score_{score}")
            button.setCheckable(True)
            button.ensurePolished()  # the theme's padding: large print needs more than 48 px
            button.setMinimumWidth(max(48, button.sizeHint().width()))
            self.scores.addButton(button, score)
            self.score_buttons[score] = button
            scores.addWidget(button)
        scores.addStretch(1)
        # What the numbers mean, under them: beside them it was cut in large print.
        meaning = QLabel(_("1 very unhappy · 5 very happy"))
        meaning.setObjectName("call_score_meaning")
        meaning.setProperty("role", "hint")
        meaning.setWordWrap(True)
        score_box = QVBoxLayout()
        score_box.addLayout(scores)
        score_box.addWidget(meaning)
        form.addRow(_("Score"), score_box)
        self.category = QComboBox()
        self.category.setObjectName("call_category")
        self.category.addItem(_("(no complaint)"), None)
        for category in FeedbackCategory:
            self.category.addItem(feedback_category_label(category), category.value)
        form.addRow(_("Complaint about"), self.category)
        self.complaint = QPlainTextEdit()
        self.complaint.setObjectName("call_complaint")
        self.complaint.setPlaceholderText(_("The customer's words"))
        self.complaint.setMaximumHeight(90)
        form.addRow(_("Complaint"), self.complaint)
        layout.addLayout(form)
        self.message = QLabel("")
        self.message.setObjectName("call_message")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("call_save")
        self.save_button.setEnabled(False)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _chose_mine(self, index: int) -> None:
        serial = self.mine.itemData(index)
        if serial is not None:
            self.slip.setText(feedback.slip_number(int(serial)))
            self.find()

    def find(self) -> None:
        """Look the slip up; only a redeemed one can be saved."""
        self.found = None
        self.save_button.setEnabled(False)
        serial = feedback.parse_serial(self.slip.text())
        if serial is None:
            self.message.setText(_("That is not a slip number or a slip's code."))
            return
        try:
            found = feedback.feedback_for_slip(self.station.context.uow(), serial)
        except KioskError as error:
            self.message.setText(str(error))
            self.details.setText("")
            return
        zone = ZoneInfo(found.timezone)

        def at(moment: object) -> str:
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"  # type: ignore[attr-defined]

        lines = [
            _("{number} · {service} · {merchant} · {name}").format(
                number=feedback.slip_number(serial),
                service=found.offer_name,
                merchant=found.merchant_name,
                name=found.masked_name,
            ),
            _("Redeemed {redeemed} · delivered {delivered}").format(
                redeemed=at(found.redeemed_at), delivered=at(found.delivered_at)
            ),
        ]
        for entry in found.feedback:
            lines.append(
                _("Earlier: {score} {category} {complaint}")
                .format(
                    score=_("score {n}").format(n=entry.score) if entry.score else "",
                    category=feedback_category_label(entry.category),
                    complaint=entry.complaint,
                )
                .strip()
            )
        self.details.setText("\n".join(lines))
        if not found.redeemed:
            self.message.setText(feedback.not_redeemed(serial, found.status))
            return
        self.message.setText("")
        self.found = found
        self.save_button.setEnabled(True)

    def save(self) -> None:
        if self.found is None:
            return
        found = self.found
        score = self.scores.checkedId()
        category = self.category.currentData()
        text = self.complaint.toPlainText()

        def failed(error: KioskError) -> bool:
            self.message.setText(str(error))
            return False  # the station's banner says it too

        run(
            self.station,
            lambda: feedback.record_feedback(
                self.station.context.uow(),
                found.serial,
                self.station.context.staff,
                score=score if score > 0 else None,
                category=category,
                complaint=text,
                request_id=self.request_id,
                clock=self.station.context.app.clock,
            ),
            success=_("Call recorded for slip {number}.").format(
                number=feedback.slip_number(found.serial)
            ),
            failed=failed,
            then=lambda ran: self.accept() if ran.ok else None,
        )

    @classmethod
    def open(cls, station: StationPage, customer_id: int | None = None) -> None:
        """Show the dialog (modal). Tests drive an instance instead."""
        cls(station, customer_id).exec()
