"""The counter this laptop stands at: asked once per laptop, shown on every desk station.

A desk is a counter name at one queue (``kiosk.services.desk``): the name is what the public
display calls customers to ("请 B002 号到 3 号柜台") and what finds the customer the desk has
called in the event database. It is a per-laptop setting (``Settings.counter_name``), asked
the first time a desk calls someone and changed with the button beside it. A laptop that
takes over a counter (the old one broke, or moved) is given the same name and shows the
customer called there; the dialog lists the counters in use with their called tickets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import desk
from ui.context import StationContext
from ui.widgets import dialog_buttons, error_label


class CounterDialog(QDialog):
    """Type or pick the counter's name; Enter saves, Esc cancels, a bad name is said in words
    and the dialog stays open with what was typed."""

    # Tests set this to answer the dialog (type into it with qtbot) instead of ``exec()``.
    answer: ClassVar[Callable[[CounterDialog], None] | None] = None

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.chosen: str | None = None
        self.setWindowTitle(_("This laptop's counter"))
        self.setObjectName("counter_dialog")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.setSpacing(10)
        what = QLabel(_("Which counter is this laptop at?"))
        what.setProperty("role", "subtitle")
        what.setWordWrap(True)
        layout.addWidget(what)
        why = QLabel(
            _(
                "The public display calls customers to this counter. It is set once on this "
                "laptop. A laptop taking over a counter gets the same name and shows the "
                "customer called there."
            )
        )
        why.setProperty("role", "hint")
        why.setWordWrap(True)
        layout.addWidget(why)
        self.name = QComboBox()
        self.name.setObjectName("counter_name")
        self.name.setEditable(True)
        self.name.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.name.lineEdit()
        line.setMaxLength(desk.COUNTER_MAX)
        line.setPlaceholderText(_("e.g. Counter 3"))
        in_use: list[desk.CounterInUse] = []
        with contextlib.suppress(KioskError):  # the database is away: still typed
            in_use = desk.counters(context.uow())
        for counter in in_use:
            self.name.addItem(counter.name)
        # No item chosen (a new laptop must not take another counter by accident); Down or
        # the arrow picks one of those in use, for a laptop taking a counter over.
        self.name.setCurrentIndex(-1)
        self.name.setEditText(context.preferences().counter_name)
        layout.addWidget(self.name)
        busy = [c for c in in_use if c.called]
        self.in_use = QLabel(
            _("Called now: {list}").format(
                list="; ".join(f"{c.name} {', '.join(c.called)}" for c in busy)
            )
            if busy
            else ""
        )
        self.in_use.setObjectName("counters_in_use")
        self.in_use.setProperty("role", "hint")
        self.in_use.setWordWrap(True)
        self.in_use.setVisible(bool(busy))
        layout.addWidget(self.in_use)
        self.error = error_label()
        layout.addWidget(self.error)
        # Enter is handled below.
        buttons, _cancel, self.ok_button = dialog_buttons(
            self, _("Save"), "save_counter", self.submit
        )
        layout.addLayout(buttons)
        line.selectAll()
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        try:
            self.chosen = desk.counter_name(self.name.currentText())
        except KioskError as error:
            self.error.setText(str(error))
            self.name.setFocus()
            return
        self.accept()

    def run(self) -> str | None:
        if CounterDialog.answer is not None:
            CounterDialog.answer(self)
        else:
            self.exec()
        return self.chosen if self.result() == QDialog.DialogCode.Accepted else None


class CounterBar(QWidget):
    """ "Counter: 3 号柜台 [Change…]" at the top of a desk station."""

    changed = Signal(str)

    def __init__(
        self, context: StationContext, parent: QWidget | None = None, *, stacked: bool = False
    ) -> None:
        """``stacked``: the button under the name, for a narrow column (large print)."""
        super().__init__(parent)
        self.context = context
        self.label = QLabel()
        self.label.setObjectName("counter")
        self.label.setWordWrap(True)
        self.button = QPushButton(_("Change…"))
        self.button.setObjectName("change_counter")
        self.button.setToolTip(_("The counter this laptop is at"))
        self.button.clicked.connect(self.ask)
        row = QVBoxLayout(self) if stacked else QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.refresh()

    def name(self) -> str:
        return self.context.preferences().counter_name

    def refresh(self) -> None:
        name = self.name()
        self.label.setText(
            _("At {counter}").format(counter=desk.counter_label(name))
            if name
            else _("Counter not set")
        )
        self.label.setProperty("role", "" if name else "error")
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)

    def ask(self) -> str | None:
        """Ask for the counter's name; the new name (kept for this laptop), or None."""
        dialog = CounterDialog(self.context, self.window())
        chosen = dialog.run()
        dialog.deleteLater()  # a child of the window: not kept for the rest of the day
        if chosen is None:
            return None
        changed = chosen != self.name()
        self.context.preferences().counter_name = chosen
        self.refresh()
        if changed:
            self.changed.emit(chosen)
        return chosen

    def ensure(self) -> str | None:
        """The counter's name, asked now when this laptop has none yet (None: cancelled)."""
        return self.name() or self.ask()
