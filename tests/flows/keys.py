"""Key events as they reach a station, at the two speeds of an event day, and the modal
dialogs staff answer with the keyboard.

A USB keyboard-wedge scanner types a whole code in one burst, 2–8 ms a key, and ends it with
Enter; a person types a key every 80–150 ms and Chinese arrives from the input method as
committed text. ``keys`` sends either to whatever widget has the keyboard focus at each key,
as the keyboard does, so a field that moves the focus on (a dialog's Enter, the booth's name
field) is followed rather than bypassed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot


@dataclass(frozen=True)
class Pace:
    """Milliseconds between two keys, drawn at random in [fastest, slowest]."""

    fastest: int
    slowest: int


SCANNER = Pace(2, 8)
HUMAN = Pace(80, 150)


def focused(top: QWidget) -> QWidget:
    """The widget of ``top``'s window that has the keyboard now (offscreen windows are never
    active, so ask the window rather than the application)."""
    window = top.window()
    modal = QApplication.activeModalWidget()
    if modal is not None and modal.isVisible() and modal is not window:
        window = modal
    return window.focusWidget() or window


def keys(
    qtbot: QtBot,
    top: QWidget,
    text: str,
    pace: Pace,
    *,
    enter: bool = True,
    seed: int = 16,
) -> None:
    """Type ``text`` into the focused widget of ``top``'s window at ``pace``, then Enter."""
    rng = random.Random(seed)
    for char in text:
        target = focused(top)
        if char.isascii():
            qtbot.keyClick(target, char)
        else:  # the input method commits the character
            event = QInputMethodEvent()
            event.setCommitString(char)
            QApplication.sendEvent(target, event)
        qtbot.wait(rng.randint(pace.fastest, pace.slowest))
    if enter:
        qtbot.keyClick(focused(top), Qt.Key.Key_Return)


def press(
    qtbot: QtBot,
    top: QWidget,
    key: Qt.Key,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """One key (F5, Esc, Ctrl+S…) to the focused widget; unused keys bubble up to the station."""
    qtbot.keyClick(focused(top), key, modifiers)


@contextmanager
def answering(*answers: Callable[[QDialog], None]) -> Iterator[list[QDialog]]:
    """Answer the next modal dialogs (real ``exec()`` calls), one answer each in the order
    they open; an answer types into its dialog. Fails unless every answer was used."""
    answered: list[QDialog] = []
    timer = QTimer()
    timer.setInterval(20)

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog) or not dialog.isVisible():
            return
        if answered and dialog is answered[-1]:
            return  # still closing
        answered.append(dialog)
        if len(answered) == len(answers):
            timer.stop()
        answers[len(answered) - 1](dialog)

    timer.timeout.connect(poll)
    timer.start()
    try:
        yield answered
    finally:
        timer.stop()
    assert len(answered) == len(answers), f"{len(answered)} of {len(answers)} dialogs opened"
