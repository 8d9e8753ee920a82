"""Idle stations lock themselves: a public venue, and personal data on every desk's screen.

``IdleWatcher`` sees every key press, click, wheel turn, touch and mouse move anywhere in the
application (an event filter on ``QApplication``) and notes the time; a QTimer ticks once a
second and says ``idle`` when nobody touched the station for ``Settings.idle_lock_seconds``
(0 = never, re-read on every tick so a change applies at once). The main window then covers
the station with ``LockPage``: the station's content is hidden, not just dimmed, and only the
same member of staff's PIN (``auth.sign_in``, with its wrong-PIN lock-out) or signing out
leaves it. Lock and unlock are audited. The merchant booth's window has no watcher: a booth
shows no personal data and must stay ready to scan.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from kiosk.i18n import _
from ui.timing import every
from ui.widgets import centred_card, error_label, pin_field

ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class IdleWatcher(QObject):
    """Emits ``idle`` once when no input came for ``seconds()`` seconds (0 = never)."""

    idle = Signal()

    def __init__(self, seconds: Callable[[], int], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.seconds = seconds
        self.last_input = QElapsedTimer()
        self.last_input.start()
        self.armed = False
        self.tick = QTimer(self)
        self.tick.setInterval(every(1000))
        self.tick.timeout.connect(self._check)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY:
            self.last_input.restart()
        return False  # only watching: every event goes on to its widget

    def arm(self) -> None:
        """Start counting from now (after a sign-in or an unlock).

        The filter sees every event of the application, so it is installed only while a
        station is signed in and unlocked, and removed as soon as it is not: a filter left
        behind by a closed window would cost a Python call on every event.
        """
        self.last_input.restart()
        app = QApplication.instance()
        if app is not None and not self.armed:
            app.installEventFilter(self)
        self.armed = True
        self.tick.start()

    def disarm(self) -> None:
        app = QApplication.instance()
        if app is not None and self.armed:
            app.removeEventFilter(self)
        self.armed = False
        self.tick.stop()

    def idle_ms(self) -> int:
        return int(self.last_input.elapsed())

    def _check(self) -> None:
        seconds = self.seconds()
        if self.armed and seconds > 0 and self.idle_ms() >= seconds * 1000:
            self.disarm()
            self.idle.emit()


class LockPage(QWidget):
    """What a locked station shows: whose station it is, a PIN field, unlock or sign out."""

    def __init__(
        self,
        name: str,
        staff_no: str,
        on_unlock: Callable[[str], str | None],
        on_sign_out: Callable[[], None],
        parent: QWidget | None = None,
        *,
        title: str | None = None,
        text: str | None = None,
    ) -> None:
        """``title`` and ``text`` replace the idle lock's words (the page that brings a
        station back after the app closed unexpectedly uses the same PIN check)."""
        super().__init__(parent)
        self.setObjectName("page")
        self.on_unlock = on_unlock
        box = centred_card(self)
        heading = QLabel(title or _("Screen locked"))
        heading.setObjectName("lock_title")
        heading.setProperty("role", "title")
        heading.setWordWrap(True)  # "The app closed unexpectedly" in large print: 640 px card
        box.addWidget(heading)
        words = QLabel(
            text
            or _(
                "Nobody used this station for a while, so its screen was covered. "
                "{name} ({no}): type your PIN to go on."
            ).format(name=name, no=staff_no)
        )
        words.setObjectName("lock_text")
        words.setWordWrap(True)
        box.addWidget(words)
        box.addWidget(QLabel(_("PIN")))
        self.pin = pin_field("lock_pin")
        box.addWidget(self.pin)
        self.error = error_label()
        box.addWidget(self.error)
        buttons = QHBoxLayout()
        self.unlock_button = QPushButton(_("Unlock"))
        self.unlock_button.setObjectName("unlock")
        self.unlock_button.setProperty("role", "primary")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.submit)
        buttons.addWidget(self.unlock_button)
        self.sign_out_button = QPushButton(_("Sign out"))
        self.sign_out_button.setObjectName("lock_sign_out")
        self.sign_out_button.clicked.connect(on_sign_out)
        buttons.addWidget(self.sign_out_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        hint = QLabel(_("Someone else? Sign out, then sign in with your own number."))
        hint.setProperty("role", "hint")
        hint.setWordWrap(True)
        box.addWidget(hint)
        self.pin.returnPressed.connect(self.submit)

    def submit(self) -> None:
        if not self.pin.text():
            self.error.setText(_("Type your PIN."))
            self.pin.setFocus()
            return
        problem = self.on_unlock(self.pin.text())
        self.pin.clear()
        if problem:
            self.error.setText(problem)
            self.pin.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.error.clear()
