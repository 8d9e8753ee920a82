"""The queue panel of a desk: this laptop's counter, "call next", the public display and who is
waiting. The service desk and the activation desk both show it; each says which columns it
lists and adds its own widgets above the list (the activation desk's scan field) or below it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from ui.context import StationContext
from ui.counter import CounterBar


class QueuePanel(QWidget):
    """Counter, call button, display button, the waiting list. ``count_in_label`` shows the
    number waiting beside the list's title (the activation desk, whose list large print
    hides); ``display_name`` is the display button's object name, when it has one."""

    def __init__(
        self,
        context: StationContext,
        columns: Sequence[str],
        *,
        stacked: bool = False,
        count_in_label: bool = False,
        display_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.count_in_label = count_in_label
        self.counter = CounterBar(context, stacked=stacked)
        self.call_button = QPushButton(_("Call next (F5)"))
        self.call_button.setObjectName("call_next")
        self.call_button.setProperty("role", "primary")
        self.display_button = QPushButton(_("Public display"))
        if display_name:
            self.display_button.setObjectName(display_name)
        # The public display speaks each call once; Ctrl+R (the desks bind it to
        # ``replay_call``) says it again. A key, not one more button: in large print the
        # desk's column has no room for it at 1366 px; the display has its own button.
        self.display_button.setToolTip(_("Ctrl+R plays the latest call again"))
        self.waiting_label = QLabel(_("Waiting"))
        if count_in_label:
            self.waiting_label.setObjectName("waiting_count")
        self.queue = QTableWidget(0, len(columns))
        self.queue.setObjectName("queue")
        self.queue.setHorizontalHeaderLabels(list(columns))
        self.queue.verticalHeader().setVisible(False)
        self.queue.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Shown, not chosen: the desk calls the next customer with its button, so a row is no
        # target (and is not drawn as one that could be picked).
        self.queue.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.queue.horizontalHeader()
        if count_in_label:  # the activation desk: ticket and minutes narrow, the name wide
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        else:
            header.setStretchLastSection(True)

        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.addWidget(self.counter)
        self.column.addWidget(self.call_button)
        self.column.addWidget(self.display_button)
        self._above = self.column.count()  # where ``add_above`` inserts
        self.column.addWidget(self.waiting_label)
        self.column.addWidget(self.queue, 1)

    def replay_call(self) -> None:
        """The public display (the window's, opened if need be) says the latest call again."""
        if self.counter.ensure() is None:
            return
        replay = getattr(self.window(), "replay_call", None)
        if callable(replay):
            replay()

    def add_above(self, widget: QWidget) -> None:
        """A widget of the station's own between the buttons and the list."""
        self.column.insertWidget(self._above, widget)
        self._above += 1

    def take_out(self, widget: QWidget) -> None:
        """One of the panel's widgets goes to a place of the station's own (large print at
        the activation desk: the call key and the scan field in a row under the customer)."""
        index = self.column.indexOf(widget)
        if index < 0:
            return
        if index < self._above:
            self._above -= 1
        self.column.removeWidget(widget)

    def add_below(self, widget: QWidget) -> None:
        self.column.addWidget(widget)

    def hide_list(self) -> None:
        """Large print at the activation desk: the catalog needs the room; the count stays."""
        self.queue.setVisible(False)
        self.column.addStretch(1)

    def show_waiting(self, rows: Sequence[Sequence[str]]) -> None:
        """One row per ticket waiting, the texts of the panel's columns."""
        if self.count_in_label:
            self.waiting_label.setText(_("Waiting: {n}").format(n=len(rows)))
        self.queue.setRowCount(len(rows))
        for r, texts in enumerate(rows):
            for c, text in enumerate(texts):
                self.queue.setItem(r, c, QTableWidgetItem(text))
