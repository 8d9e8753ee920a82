"""Key events as they arrive at a station: a keyboard-wedge scanner's burst (2–8 ms a key, then
Enter) and a person's typing (a key every 110 ms)."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot


def scanner_burst(qtbot: QtBot, widget: QWidget, text: str, *, seed: int = 7) -> None:
    """Every character as its own key event 2–8 ms apart, then Enter, as a USB scanner
    types a code into whatever has the keyboard."""
    pace = random.Random(seed)
    for char in text:
        qtbot.keyClick(widget, char)
        qtbot.wait(pace.randint(2, 8))
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
