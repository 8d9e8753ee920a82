"""Staff sign-in: staff number and PIN, keyboard only, errors in words."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.db import describe_url
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services.auth import sign_in
from ui.context import AppContext
from ui.theme import is_large_print
from ui.widgets import ElidedLabel, centred_card, error_label, pin_field, staff_no_field


class SignInPage(QWidget):
    """Emits ``signed_in(StaffSession)``; on failure shows why and keeps the staff number."""

    signed_in = Signal(object)

    def __init__(
        self,
        app: AppContext,
        event_name: str,
        timezone: str,
        is_demo: bool,
        parent: QWidget | None = None,
        on_choose_database: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.app = app
        self.timezone = timezone
        self.setObjectName("page")

        large = is_large_print()
        # Large print: a wider, tighter card, so the event's name stays on one line and the
        # page fits a 1366×768 laptop.
        box = centred_card(self, width=980 if large else 640, compact=large)
        title = QLabel(event_name)
        title.setProperty("role", "title")
        title.setWordWrap(True)
        box.addWidget(title)
        subtitle = QLabel(_("Staff sign-in"))
        subtitle.setProperty("role", "subtitle")
        box.addWidget(subtitle)

        # Each label beside its field: two lines fewer, so large print fits a 768-pixel
        # laptop with the demo's hint under the button.
        fields = QFormLayout()
        fields.setContentsMargins(0, 6, 0, 0)
        self.staff_no = staff_no_field("staff_no", _("e.g. R001"))
        self.pin = pin_field("pin")
        for words, field in ((_("Staff number"), self.staff_no), (_("PIN"), self.pin)):
            label = QLabel(words)
            label.setBuddy(field)
            field.ensurePolished()  # the theme's height (60 px in large print)
            label.setMinimumHeight(field.sizeHint().height())  # the words level with the field
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            fields.addRow(label, field)
        box.addLayout(fields)

        self.error = error_label()
        box.addWidget(self.error)

        self.button = QPushButton(_("Sign in"))
        self.button.setObjectName("sign_in")
        self.button.setProperty("role", "primary")
        self.button.setDefault(True)
        box.addWidget(self.button)

        if is_demo:
            from kiosk.demo import DEMO_PIN  # the generator: only for the demo event

            hint = QLabel(
                _(
                    "Demo event: sign in as S001 (supervisor), R001 (reception), RM001 "
                    "(relationship manager), A001 (activation) or M001 (merchant). "
                    "Every PIN is {pin}."
                ).format(pin=DEMO_PIN)
            )
            hint.setObjectName("demo_hint")
            hint.setProperty("role", "hint")
            hint.setWordWrap(True)
            box.addWidget(hint)

        if on_choose_database is not None:
            # Which event database this laptop joins: its own file or the venue's server.
            where = QHBoxLayout()
            # A long path or server address is shortened in the middle, never widens the
            # window past the screen; the whole of it on hover.
            self.database_label = ElidedLabel(
                _("Event database: {url}").format(url=describe_url(app.database.url))
            )
            self.database_label.setProperty("role", "hint")
            where.addWidget(self.database_label, 1)
            change = QPushButton(_("Event database…"))
            change.setObjectName("choose_database")
            change.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing goes to staff no. and PIN
            change.clicked.connect(on_choose_database)
            where.addWidget(change)
            outer = self.layout()  # the page's column, below the card
            assert isinstance(outer, QVBoxLayout)
            outer.addLayout(where)

        self.staff_no.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self.submit)
        self.button.clicked.connect(self.submit)
        self.staff_no.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        staff_no = self.staff_no.text().strip()
        if not staff_no:
            self.error.setText(_("Type your staff number."))
            self.staff_no.setFocus()
            return
        if not self.pin.text():
            self.error.setText(_("Type your PIN."))
            self.pin.setFocus()
            return
        try:
            session = sign_in(
                self.app.uow(),
                staff_no,
                self.pin.text(),
                station="app",
                clock=self.app.clock,
                timezone=self.timezone,
            )
        except KioskError as error:
            self.error.setText(str(error))
            self.pin.clear()
            self.pin.setFocus()
            return
        self.error.clear()
        self.pin.clear()
        self.signed_in.emit(session)

    def reset(self) -> None:
        self.staff_no.clear()
        self.pin.clear()
        self.error.clear()
        self.staff_no.setFocus()
