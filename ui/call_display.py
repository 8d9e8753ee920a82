"""The public call display beside a counter: "请 B002 号到 3 号柜台", readable across the room.

It shows what the event database says is called to this laptop's counter now (every desk of
the counter, the latest call first), not what a station remembers: the main window owns it,
so it stays open across a re-layout or a language switch, and it follows the database on
every change the window hears of (``ui.live``), so a call made on another laptop at this
counter, or a customer finished there, shows at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import desk
from ui.context import AppContext
from ui.settings import Settings


class CallDisplay(QWidget):
    def __init__(self, app: AppContext, settings: Settings) -> None:
        super().__init__()
        self.app = app
        self.settings = settings
        self.setObjectName("call_display")
        self.label = QLabel()
        self.label.setObjectName("call")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setStyleSheet("font-size: 64pt; font-weight: bold; color: #8a1c1c;")
        self.others = QLabel()
        self.others.setObjectName("other_calls")
        self.others.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.others.setWordWrap(True)
        self.others.setStyleSheet("font-size: 32pt; color: #333;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.others)
        self.resize(1000, 420)
        self.refresh()

    def refresh(self) -> None:
        """Show the counter's calls from the database (the database away: keep the last)."""
        self.setWindowTitle(_("Now calling"))
        counter = self.settings.counter_name
        try:
            calls = desk.counter_calls(self.app.uow(), counter)
        except KioskError:
            return
        if not calls:
            self.label.setText(_("Please wait to be called"))
            self.others.setText("")
            return
        where = desk.counter_label(counter)
        self.label.setText(
            _("Ticket {ticket}\nplease go to {counter}").format(
                ticket=calls[0].ticket, counter=where
            )
        )
        self.others.setText(
            _("Also called: {tickets}").format(tickets="  ".join(c.ticket for c in calls[1:]))
            if len(calls) > 1
            else ""
        )
