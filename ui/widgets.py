"""Widgets shared by the stations: the scan field, the result banner, the scan sounds and the
PIN entry of the sign-in page, the lock screen and the supervisor dialog."""

from __future__ import annotations

import enum
import os
import time
from importlib import resources
from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import QEvent, QObject, QRegularExpression, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QKeyEvent, QRegularExpressionValidator, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from ui.theme import BANNER_COLOURS

if TYPE_CHECKING:
    from collections.abc import Callable

    from kiosk.scanning import WedgeDetector


def staff_no_field(object_name: str, example: str) -> QLineEdit:
    """Where a staff number is typed (sign-in, a supervisor's approval)."""
    field = QLineEdit()
    field.setObjectName(object_name)
    field.setPlaceholderText(example)
    field.setMaxLength(16)
    return field


def pin_field(object_name: str) -> QLineEdit:
    """A hidden field that takes up to 8 digits: every PIN is typed into one of these."""
    field = QLineEdit()
    field.setObjectName(object_name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(8)
    field.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,8}")))
    return field


def centred_card(page: QWidget, *, width: int = 640, compact: bool = False) -> QVBoxLayout:
    """Lay ``page`` out as one card in the middle (sign-in, lock screen); returns the card's
    layout to fill. ``width`` is the card's widest; ``compact`` tightens its margins and
    spacing (large print on a 768-pixel laptop)."""
    card = QFrame()
    card.setObjectName("card")
    card.setMaximumWidth(width)
    box = QVBoxLayout(card)
    box.setContentsMargins(*((28, 16, 28, 16) if compact else (36, 28, 36, 28)))
    box.setSpacing(6 if compact else 12)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(card, 6 if compact else 3)
    row.addStretch(1)
    outer = QVBoxLayout(page)
    outer.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)
    return box


class ElidedLabel(QLabel):
    """One line that shows as much of a long text as fits, "…" in the middle for the rest
    (a file path or server address); the whole text on hover. It asks for the whole text's
    width and takes less without widening the window."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
    ) -> None:
        super().__init__(text, parent)
        self.mode = mode
        self.whole = text
        self.setToolTip(text)
        self.setMinimumWidth(1)

    def set_whole(self, text: str) -> None:
        """A new text, shortened to the label's width as it is now."""
        self.whole = text
        self.setToolTip(text)
        self.setText(text)
        self._elide()
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self.whole) + 4, hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self.whole, self.mode, max(self.contentsRect().width() - 2, 0)
        )
        if shown != self.text():
            self.setText(shown)


def error_label() -> QLabel:
    """The red sentence under a form that says why it was refused."""
    label = QLabel("")
    label.setObjectName("error")
    label.setProperty("role", "error")
    label.setWordWrap(True)
    return label


def dialog_buttons(
    dialog: QDialog, ok_text: str, ok_name: str, on_ok: Callable[[], object]
) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    """A dialog's button row as the app's dialogs have it: "Cancel (Esc)" then the primary
    button, on the right, words with their key and no stock icons. Neither is an auto-default
    button: each dialog handles Enter itself (field by field, or wherever the focus is).
    Returns the row, the cancel button and the primary one."""
    row = QHBoxLayout()
    row.addStretch(1)
    cancel = QPushButton(_("Cancel (Esc)"))
    cancel.setObjectName("cancel")
    cancel.setAutoDefault(False)
    cancel.clicked.connect(dialog.reject)
    row.addWidget(cancel)
    ok = QPushButton(ok_text)
    ok.setObjectName(ok_name)
    ok.setProperty("role", "primary")
    ok.setAutoDefault(False)
    ok.clicked.connect(on_ok)
    row.addWidget(ok)
    return row, cancel, ok


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    """A red frame on a field with a problem (its sentence is beside it, never colour
    alone)."""
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Tone(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    ERROR = "error"
    INFO = "info"  # neither success nor trouble: waiting for a person, a note; no sound


class Sounds(QObject):
    """Plays the result sounds when the machine has an audio output.

    ``last`` keeps what was asked for, so tests can check the sound without speakers.
    ``KIOSK_SOUND=0`` silences a station (a quiet back office).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.last: Tone | None = None
        self._effects: dict[Tone, object] = {}
        self._enabled = os.environ.get("KIOSK_SOUND", "1") != "0" and self._has_output()

    @staticmethod
    def _has_output() -> bool:
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            return False
        try:
            from PySide6.QtMultimedia import QMediaDevices
        except ImportError:  # Qt Multimedia's system libraries are missing
            return False
        return bool(QMediaDevices.audioOutputs())

    def play(self, tone: Tone) -> None:
        self.last = tone
        if not self._enabled or tone == Tone.INFO:
            return
        from PySide6.QtMultimedia import QSoundEffect

        effect = self._effects.get(tone)
        if effect is None:
            effect = QSoundEffect(self)
            path = str(resources.files("assets") / "sounds" / f"{tone.value}.wav")
            effect.setSource(QUrl.fromLocalFile(path))
            self._effects[tone] = effect
        assert isinstance(effect, QSoundEffect)
        effect.play()


class ResultBanner(QFrame):
    """Green, amber or red with big words: never colour alone, readable from a step back."""

    # The theme's colours, 4.5:1 or better (ui.theme.BANNER_COLOURS).
    COLOURS: ClassVar[dict[Tone, tuple[str, str]]] = {t: BANNER_COLOURS[t.value] for t in Tone}

    headline_pt = 22  # the merchant booth's banner is read from further away
    detail_pt = 0  # 0: the theme's size

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.row = QHBoxLayout(self)  # the words; a banner may add a button at the right
        self.row.setContentsMargins(16, 10, 16, 10)
        layout = QVBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        self.row.addLayout(layout, 1)
        self.words = layout
        self.headline = QLabel("")
        self.headline.setObjectName("banner_headline")
        self.headline.setWordWrap(True)
        self.detail = QLabel("")
        self.detail.setObjectName("banner_detail")
        self.detail.setWordWrap(True)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        self.tone: Tone | None = None
        self._styled: Tone | None = None
        self.setVisible(False)

    def show_result(self, tone: Tone, headline: str, detail: str = "") -> None:
        self.tone = tone
        if tone != self._styled:  # re-polishing costs milliseconds; a booth scans in a row
            self._styled = tone
            self._style(tone)
        self.headline.setText(headline)
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.setVisible(True)
        self._fit_height()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()

    def _headline_width(self, inner: int) -> int:
        return inner

    def _fit_height(self) -> None:
        """Tall enough for every wrapped line at the width the banner has. Layouts do not
        ask a word-wrapped label nested this deep for its height at a width, so a long
        headline on two lines (a 1366-px screen, large print) was cut at top and bottom."""
        margins = self.row.contentsMargins()
        inner = self.width() - margins.left() - margins.right() - 2 * self.frameWidth()
        if inner <= 0:
            return
        height = self.headline.heightForWidth(self._headline_width(inner))
        if self.detail.isVisibleTo(self):
            height += self.words.spacing() + self.detail.heightForWidth(inner)
        self._grow_to(height + margins.top() + margins.bottom() + 2 * self.frameWidth())

    def _grow_to(self, height: int) -> None:
        """At least ``height`` high, the words laid out again in it. A banner filled while
        its page is hidden (an Administration tab refreshed as it opens) grew, but its own
        layout kept the old height and cut the headline by a line's leading (28 px of 36,
        large print) until something else moved it."""
        if height == self.minimumHeight():
            return
        self.setMinimumHeight(height)
        self.row.invalidate()  # laid out again at the new size: now, or when it is shown

    def _style(self, tone: Tone) -> None:
        background, foreground = self.COLOURS[tone]
        detail = f" QLabel#banner_detail {{ font-size: {self.detail_pt}pt; }}"
        line = "dashed" if tone == Tone.INFO else "solid"  # waiting, not done: more than colour
        self.setStyleSheet(
            f"QFrame#banner {{ background: {background}; border: 3px {line} {foreground};"
            f" border-radius: 8px; }} QLabel {{ color: {foreground}; }}"
            f" QLabel#banner_headline {{ font-size: {self.headline_pt}pt; font-weight: bold; }}"
            + (detail if self.detail_pt else "")
        )

    def clear(self) -> None:
        self.tone = None
        self.setVisible(False)


class PrintBanner(ResultBanner):
    """What became of the printout, shown beside the action's own result and as large:
    a check-in or a slip stands whatever the printer does, so the two are never one message.
    A failure is amber, in words, with the station's retry key on a button."""

    retry = Signal()

    def __init__(self, retry_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.retry_button = QPushButton(retry_text)
        self.retry_button.setObjectName("retry_print")
        self.retry_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps keys
        self.retry_button.clicked.connect(self.retry.emit)
        self.retry_button.setVisible(False)
        # The button on the title's line: the words below keep the banner's whole width.
        self.words.removeWidget(self.headline)
        top = QHBoxLayout()
        top.addWidget(self.headline, 1)
        top.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        self.words.insertLayout(0, top)

    def printing(self, headline: str) -> None:
        self.retry_button.setVisible(False)
        self.show_result(Tone.INFO, headline)

    def outcome(self, tone: Tone, headline: str, detail: str = "", *, retry: bool) -> None:
        self.retry_button.setVisible(retry)
        self.show_result(tone, headline, detail)

    def _headline_width(self, inner: int) -> int:
        if self.retry_button.isVisibleTo(self):
            return inner - self.retry_button.sizeHint().width() - self.words.spacing()
        return inner


def side_by_side(result: ResultBanner, printing: PrintBanner) -> QHBoxLayout:
    """The action's result and the printing's, side by side and the same size: two messages
    read at one glance, and a 768-pixel screen keeps its height for the lists below. Either
    takes the whole width while the other is hidden."""
    row = QHBoxLayout()
    for banner in (result, printing):
        banner.words.addStretch(1)  # the words at the top when the other banner is taller
        row.addWidget(banner, 1)
    return row


class ScanField(QLineEdit):
    """The always-ready input: a wedge scanner's burst is a scan, slow typing is a search.

    Emits ``scanned(code)`` for a scanner burst ending in Enter (the burst alone, without
    what a person typed before it), ``submitted(text)`` for Enter after typing, ``moved(+1/-1)``
    for the arrow keys so the result list follows the keyboard without the field losing
    focus, and ``escaped`` when Esc has cleared the field.
    """

    scanned = Signal(str)
    submitted = Signal(str)
    moved = Signal(int)
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Here, not at the top: the sign-in window uses this module's fields before the
        # stations exist, and the detector's tables (pinyin, slip codes) are not needed there.
        from kiosk.scanning import WedgeDetector

        self.detector: WedgeDetector = WedgeDetector()
        self.setObjectName("scan_field")
        self.setClearButtonEnabled(True)

    def event(self, event: QEvent) -> bool:
        # The window's Ctrl shortcuts (switch station, undo check-in, reprint) win over the
        # line edit's own editing keys; only copy, paste, cut and select-all stay with it.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
            and event.key() not in (Qt.Key.Key_A, Qt.Key.Key_C, Qt.Key.Key_V, Qt.Key.Key_X)
        ):
            event.ignore()
            return False
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            text = self.text()
            if self.detector.finish():
                burst = self.detector.burst
                self.scanned.emit(burst if burst and text.endswith(burst) else text)
            else:
                self.submitted.emit(text)
            return
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.moved.emit(-1 if key == Qt.Key.Key_Up else 1)
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and key not in (
            Qt.Key.Key_A,
            Qt.Key.Key_C,
            Qt.Key.Key_V,
            Qt.Key.Key_X,
        ):
            event.ignore()  # a station or window key (Ctrl+Z, Ctrl+1, ...): let it bubble up
            return
        if key == Qt.Key.Key_Escape:
            self.clear()
            self.detector.reset()
            self.escaped.emit()
            return
        if event.text() and event.text().isprintable():
            # The key's own time (X11, Wayland, Windows stamp it when it happened), else now.
            at = event.timestamp() / 1000 if event.timestamp() else time.monotonic()
            self.detector.key(at, event.text())
        super().keyPressEvent(event)


class KeepFocus(QObject):
    """Puts the focus back on the scan field whenever the station becomes active again."""

    def __init__(self, field: QLineEdit) -> None:
        super().__init__(field)
        self.field = field

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Show, QEvent.Type.WindowActivate):
            self.field.setFocus()
        return False
