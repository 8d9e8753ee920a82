"""The sign-in window while the event database opens (issue #23 item 5).

A laptop restarted in front of a queue should take the staff number at once. Importing
SQLAlchemy and the models and opening the database take about a second, so ``ui.app`` shows
this window first, with only Qt and this module loaded, and opens the database in the event
loop right after (``ui.app``). Staff can type their staff number and PIN meanwhile; the button
stays off and one line says the database is opening. When the main window is ready it takes
what was typed (``hand_over``), and an Enter pressed on the PIN signs in then.

Only light imports here (Qt, ``kiosk.i18n``, ``ui.widgets``): everything this module imports is
paid for before the first window shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from ui.widgets import centred_card, pin_field, staff_no_field

if TYPE_CHECKING:
    from ui.signin import SignInPage


class StartingWindow(QMainWindow):
    """The sign-in form without the database: fields that take typing, a button that is off."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(_("Points redemption event"))
        self.resize(1366, 800)  # as the main window, which replaces it at the same size
        self.submitted = False  # Enter on the PIN with both fields filled: sign in when open
        root = QWidget()
        root.setObjectName("page")
        layout = QVBoxLayout(root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QFrame()  # the main window's header band, without its controls yet
        header.setObjectName("header")
        row = QHBoxLayout(header)
        row.setContentsMargins(16, 8, 16, 8)
        name = QLabel(_("Points redemption event"))
        name.setProperty("role", "subtitle")
        row.addWidget(name)
        row.addStretch(1)
        layout.addWidget(header)
        page = QWidget()
        page.setObjectName("page")
        layout.addWidget(page, 1)
        self.setCentralWidget(root)

        box = centred_card(page)
        subtitle = QLabel(_("Staff sign-in"))
        subtitle.setProperty("role", "subtitle")
        box.addWidget(subtitle)
        box.addWidget(QLabel(_("Staff number")))
        self.staff_no = staff_no_field("staff_no", _("e.g. R001"))
        box.addWidget(self.staff_no)
        box.addWidget(QLabel(_("PIN")))
        self.pin = pin_field("pin")
        box.addWidget(self.pin)
        self.opening = QLabel(_("Opening the event database…"))
        self.opening.setObjectName("opening")
        self.opening.setProperty("role", "hint")
        self.opening.setWordWrap(True)
        box.addWidget(self.opening)
        self.button = QPushButton(_("Sign in"))
        self.button.setObjectName("sign_in")
        self.button.setProperty("role", "primary")
        self.button.setEnabled(False)  # nothing to check a PIN against yet
        box.addWidget(self.button)

        self.staff_no.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self._enter)
        self.staff_no.textEdited.connect(self._edited)
        self.pin.textEdited.connect(self._edited)
        self.staff_no.setFocus(Qt.FocusReason.OtherFocusReason)

    def _enter(self) -> None:
        if not self.staff_no.text().strip():
            self.staff_no.setFocus()
            return
        self.submitted = bool(self.pin.text())

    def _edited(self, _text: str) -> None:
        self.submitted = False  # typed on after Enter: wait for the next Enter

    def hand_over(self, signin: SignInPage) -> None:
        """Put what was typed here into the main window's sign-in page, focus where it was;
        an Enter already pressed on the PIN signs in now (the page says why if refused)."""
        signin.staff_no.setText(self.staff_no.text())
        signin.pin.setText(self.pin.text())
        # The window's focus field, whether or not the window manager has activated it yet.
        (signin.pin if self.focusWidget() is self.pin else signin.staff_no).setFocus()
        if self.submitted:
            signin.submit()
