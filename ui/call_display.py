"""The public call display beside a counter: "请 B002 号到 3 号柜台", readable across the room.

It shows what the event database says is called to this laptop's counter now (every desk of
the counter, the latest call first), not what a station remembers: the main window owns it,
so it stays open across a re-layout or a language switch, and it follows the database on
every change the window hears of (``ui.live``), so a call made on another laptop at this
counter, or a customer finished there, shows at once.

A new call is also spoken: a chime and "请 B002 号 到 3 号柜台", joined from phrase clips
(``kiosk.callvoice``) and played by ``ui.call_voice``. What is new is what the database did not
show at the last reading: a refresh that finds the same calls says nothing, a call made on
another laptop at this counter is spoken like one made here, and the calls already there when
the display is opened are not (they were called before). Staff set the volume on the display
(0: shown only) and replay the latest call with its button, R, or Ctrl+R at the desks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from kiosk import callvoice
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import desk
from ui.call_voice import CallPlayer
from ui.context import AppContext
from ui.settings import Settings

# The staff's row (volume, play again) and the voice's problems are read on the public
# screen too: the size and targets the ageing-friendly guidance asks of what customers read.
STAFF_PT = 18
TARGET_PX = 60

CallKey = tuple[int, datetime | None]  # a call: its queue entry and when it was called


class CallDisplay(QWidget):
    def __init__(
        self, app: AppContext, settings: Settings, player: CallPlayer | None = None
    ) -> None:
        super().__init__()
        self.app = app
        self.settings = settings
        self.player = player or CallPlayer(self)
        self.bank = callvoice.ClipBank(self.voice_folder())
        self.latest: desk.Called | None = None  # what "play again" says
        self._seen: set[CallKey] | None = None  # the calls at the last reading
        self._seen_counter = ""
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
        layout.addLayout(self._staff_row())
        self.voice_status = QLabel("")
        self.voice_status.setObjectName("voice_status")
        self.voice_status.setWordWrap(True)
        self.voice_status.setStyleSheet(f"font-size: {STAFF_PT}pt; color: #5c3c00;")
        layout.addWidget(self.voice_status)
        self.resize(1000, 480)
        self.refresh()
        self._say_status(self.bank.problems())

    def _staff_row(self) -> QHBoxLayout:
        """The volume and "play again", small at the bottom: the staff's, not the hall's."""
        row = QHBoxLayout()
        volume = self.volume_label = QLabel(_("Call volume"))
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setObjectName("call_volume")
        self.volume.setRange(0, 100)
        self.volume.setSingleStep(10)
        self.volume.setPageStep(20)
        self.volume.setValue(self.settings.call_volume)
        self.volume.setMinimumWidth(160)
        self.volume.setToolTip(_("0: the call is shown, not spoken"))
        self.volume.valueChanged.connect(self._on_volume)
        volume.setBuddy(self.volume)
        self.volume_value = QLabel()
        self.volume_value.setObjectName("call_volume_value")
        self.volume_value.setMinimumWidth(60)
        self._show_volume(self.settings.call_volume)
        self.replay_button = QPushButton(_("Play again (R)"))
        self.replay_button.setObjectName("replay_call")
        self.replay_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # R stays the window's
        self.replay_button.clicked.connect(self.replay)
        for widget in (volume, self.volume_value, self.replay_button):
            widget.setStyleSheet(f"font-size: {STAFF_PT}pt;")
        self.volume.setMinimumHeight(TARGET_PX)
        # A handle big enough to take with a finger (the slider's own is 14 px high).
        self.volume.setStyleSheet(
            "QSlider::groove:horizontal { height: 12px; background: #d5d9e0; border-radius: 6px; }"
            "QSlider::sub-page:horizontal { background: #0b4f8a; border-radius: 6px; }"
            f"QSlider::handle:horizontal {{ width: {TARGET_PX - 16}px; height: {TARGET_PX - 16}px;"
            f" margin: -{(TARGET_PX - 16 - 12) // 2}px 0; border-radius: {(TARGET_PX - 16) // 2}px;"
            " background: white; border: 2px solid #0b4f8a; }"
        )
        self.replay_button.setMinimumHeight(TARGET_PX)
        row.addStretch(1)
        row.addWidget(volume)
        row.addWidget(self.volume)
        row.addWidget(self.volume_value)
        row.addWidget(self.replay_button)
        return row

    def _on_volume(self, value: int) -> None:
        self.settings.call_volume = value
        self._show_volume(value)

    def _show_volume(self, value: int) -> None:
        self.volume_value.setText(str(value) if value else _("Silent"))

    def voice_folder(self) -> Path:
        """Where the bank's own recordings are: the laptop's setting, else the default."""
        chosen = self.settings.voice_folder.strip()
        return Path(chosen).expanduser() if chosen else callvoice.default_voice_folder()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_R:
            event.accept()
            self.replay()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.player.stop()
        super().closeEvent(event)

    def replay(self) -> bool:
        """Say the latest call again (the customer did not hear it); False: nothing said."""
        if self.latest is None:
            return False
        return self.speak(self.latest)

    def speak(self, called: desk.Called) -> bool:
        """Chime and call ``called`` at the volume set; False when nothing was played (volume
        0, or the voice cannot be joined: the display says why and shows the call)."""
        volume = self.settings.call_volume
        if volume <= 0:
            return False
        self.bank.override = self.voice_folder()
        try:
            steps = callvoice.call_steps(called.ticket, called.desk or self.settings.counter_name)
            clips = self.bank.load(step.clip for step in steps)
            samples = callvoice.scaled(callvoice.join(steps, clips.samples), volume)
        except (KioskError, OSError) as error:
            self._say_status((str(error),))
            return False
        self._say_status(clips.problems)
        self.player.play(callvoice.wav_bytes(samples), callvoice.seconds(samples))
        return True

    def _say_status(self, problems: tuple[str, ...]) -> None:
        """The refused recordings, or that this laptop cannot speak: for the staff."""
        lines = list(problems)
        cannot = self.player.describe()
        if cannot:
            lines.append(cannot)
        self.voice_status.setText("\n".join(lines))
        self.voice_status.setVisible(bool(lines))

    def _announce(self, calls: list[desk.Called], counter: str) -> None:
        """Speak the calls the last reading did not have, the oldest first. A reading while
        the display is hidden (before it is shown) only takes note: those were called
        before anyone could hear."""
        keys = {(c.entry_id, c.called_at) for c in calls}
        fresh = (
            [c for c in reversed(calls) if (c.entry_id, c.called_at) not in self._seen]
            if self._seen is not None and counter == self._seen_counter and self.isVisible()
            else []
        )
        self._seen, self._seen_counter = keys, counter
        for called in fresh:
            self.speak(called)

    def _retranslate(self) -> None:
        """The staff's row in the language of the moment (the display outlives a switch)."""
        self.volume_label.setText(_("Call volume"))
        self.volume.setToolTip(_("0: the call is shown, not spoken"))
        self.replay_button.setText(_("Play again (R)"))
        self._show_volume(self.volume.value())

    def refresh(self) -> None:
        """Show the counter's calls from the database (the database away: keep the last)."""
        self.setWindowTitle(_("Now calling"))
        self._retranslate()
        counter = self.settings.counter_name
        try:
            calls = desk.counter_calls(self.app.uow(), counter)
        except KioskError:
            return
        self.latest = calls[0] if calls else None
        if not calls:
            self.label.setText(_("Please wait to be called"))
            self.others.setText("")
        else:
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
        self._announce(calls, counter)  # shown first, then said
