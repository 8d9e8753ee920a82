"""Key events as they arrive at a station: a keyboard-wedge scanner's burst (2–8 ms a key, then
Enter) and a person's typing (a key every 110 ms)."""

from __future__ import annotations

import random
import time

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QInputMethodEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot


def scanner_burst(qtbot: QtBot, widget: QWidget, text: str, *, seed: int = 7) -> None:
    """Every character as its own key event 2–8 ms apart, then Enter, as a USB scanner
    types a code into whatever has the keyboard.

    Each key carries its own time, as X11, Wayland and Windows stamp a key when it happened
    (ui/widgets.py reads that stamp): a busy moment of the test machine, which holds up the
    events between the keys, does not turn the burst into a person's typing."""
    pace = random.Random(seed)
    stamp = int(time.monotonic() * 1000)  # milliseconds, on the clock an unstamped key uses
    for char in text:
        gap = pace.randint(2, 8)
        stamp += gap
        key = Qt.Key(ord(char.upper())) if char.isascii() and char.isalnum() else Qt.Key.Key_unknown
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char)
            event.setTimestamp(stamp)
            QApplication.sendEvent(widget, event)
        qtbot.wait(gap)  # the clock keeps up with the stamps
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def type_like_a_person(qtbot: QtBot, widget: QWidget, text: str, *, enter: bool = True) -> None:
    """A key every 110 ms, then Enter; Chinese arrives from the input method as committed
    text, as on a real laptop."""
    for char in text:
        if char.isascii():
            qtbot.keyClick(widget, char)
        else:
            event = QInputMethodEvent()
            event.setCommitString(char)
            QApplication.sendEvent(widget, event)
        qtbot.wait(110)
    if enter:
        qtbot.keyClick(widget, Qt.Key.Key_Return)
