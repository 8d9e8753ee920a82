"""The shape every station has (after Picard's option pages).

A station is one widget class with the ``Station`` it implements, a translated ``title()``, and
``load()`` to refresh from the services; it is registered once in ``ui.stations`` and the main
window shows it only when the signed-in role may open it (``kiosk.roles``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from kiosk.labels import station_label
from kiosk.roles import Station
from ui.context import StationContext


class StationPage(QWidget):
    station: ClassVar[Station]

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("page")
        self._keys: dict[tuple[int, int], Callable[[], None]] = {}

    def bind(
        self,
        key: Qt.Key,
        action: Callable[[], None],
        modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
    ) -> None:
        """A station key (F2, F5, Ctrl+S, ...). Keys a field does not use bubble up to the
        station, so this works wherever the focus is, without QShortcut's window-activation
        rules."""
        self._keys[(int(key), int(modifiers.value))] = action

    def handle_key(self, event: QKeyEvent) -> bool:
        """Run the station action bound to this key; False when there is none."""
        mods = event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier
            | Qt.KeyboardModifier.ShiftModifier
            | Qt.KeyboardModifier.AltModifier
        )
        action = self._keys.get((int(event.key()), int(mods.value)))
        if action is None:
            return False
        event.accept()
        action()
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.handle_key(event):
            super().keyPressEvent(event)

    @classmethod
    def title(cls) -> str:
        return station_label(cls.station)

    def load(self) -> None:
        """Refresh from the services; called when the station becomes visible."""

    def refresh_live(self) -> None:
        """Another station changed the event (``ui.live``): refresh the lists and figures on
        screen, never a field being typed in. Stations without shared lists do nothing."""
