"""Run thousands of Qt -> Python calls of one kind and print the refcounts of None, True and
False before and after, as JSON (``python -m tests.qt_refcount_probe KIND COUNT``).

A separate process, because the binding bug it looks for (PySide6 6.12.0 on Python 3.11
drops a reference to None on every call from Qt into Python code that returns None) ends in
``Fatal Python error: none_dealloc``, which would take the test runner down with it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QListView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)


def counts() -> list[int]:
    return [sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)]


def timer_slot(app: QApplication, n: int) -> None:
    """A QTimer's timeout calling a Python slot that returns None (the live link, the
    dashboard refresh, the idle watch)."""
    calls = [0]

    def slot() -> None:
        calls[0] += 1

    timer = QTimer()
    timer.timeout.connect(slot)
    timer.start(0)
    while calls[0] < n:
        app.processEvents()
    timer.stop()


class _Emitter(QObject):
    fired = Signal(int)
    flag = Signal(bool)


def signal(app: QApplication, n: int) -> None:
    """A Python Signal emitted to Python slots, with an int and a bool (LiveLink.changed,
    reachability)."""
    emitter = _Emitter()
    seen = [0]

    def on_fired(value: int) -> None:
        seen[0] += 1

    def on_flag(value: bool) -> None:
        seen[0] += 1

    emitter.fired.connect(on_fired)
    emitter.flag.connect(on_flag)
    for i in range(n):
        emitter.fired.emit(i)
        emitter.flag.emit(i % 2 == 0)
    assert seen[0] == 2 * n


class _Painted(QWidget):
    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.drawLine(0, 0, 10, 10)
        painter.end()


def paint_event(app: QApplication, n: int) -> None:
    """A paintEvent override (ui.charts draws the dashboard's charts this way)."""
    widget = _Painted()
    widget.resize(60, 40)
    widget.show()
    for _ in range(n):
        widget.repaint()
    widget.close()


class _Filter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        self.seen += 1
        return False


def event_filter(app: QApplication, n: int) -> None:
    """An eventFilter returning False for events it lets through (the idle watch)."""
    target = QObject()
    watcher = _Filter()
    target.installEventFilter(watcher)
    for _ in range(n):
        QCoreApplication.sendEvent(target, QEvent(QEvent.Type.User))
    assert watcher.seen >= n


class _Model(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 20

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        self.calls += 1
        if role == Qt.ItemDataRole.DisplayRole:
            return f"row {index.row()}"
        return None  # most roles: nothing, which is where None's count went


def model_data(app: QApplication, n: int) -> None:
    """Model data() called by a view painting it (ui.table_models feeds every list this way)."""
    model = _Model()
    view = QListView()
    view.setModel(model)
    view.resize(200, 400)
    view.show()
    model.calls = 0
    while model.calls < n:
        view.viewport().repaint()
        app.processEvents()  # the view lays its items out in a posted event
    view.close()


class _Delegate(QStyledItemDelegate):
    def __init__(self) -> None:
        super().__init__()
        self.painted = 0

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        self.painted += 1
        super().paint(painter, option, index)


def delegate_paint(app: QApplication, n: int) -> None:
    """A delegate's paint() override, called by the view for every visible row."""
    model = _Model()
    view = QListView()
    view.setModel(model)
    delegate = _Delegate()
    view.setItemDelegate(delegate)
    view.resize(200, 400)
    view.show()
    while delegate.painted < n:
        view.viewport().repaint()
        app.processEvents()
    view.close()


KINDS: dict[str, Callable[[QApplication, int], None]] = {
    "timer_slot": timer_slot,
    "signal": signal,
    "paint_event": paint_event,
    "event_filter": event_filter,
    "model_data": model_data,
    "delegate_paint": delegate_paint,
}


def main() -> None:
    kind, n = sys.argv[1], int(sys.argv[2])
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    KINDS[kind](app, 50)  # warm up: first calls create caches that are not a leak
    before = counts()
    KINDS[kind](app, n)
    after = counts()
    print(json.dumps({"kind": kind, "calls": n, "before": before, "after": after}), flush=True)


if __name__ == "__main__":
    main()
