"""The shape every station has (after Picard's option pages).

A station is one widget class with the ``Station`` it implements, a translated ``title()``, and
``load()`` to refresh from the services; it is registered once in ``ui.stations`` and the main
window shows it only when the signed-in role may open it (``kiosk.roles``). Its actions run
through ``ui.operations.run``, which shows errors with ``show_error`` and, once the service
said what changed, has the window call ``after`` on the stations that show it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from kiosk.changeset import Changes
from kiosk.customer_view import CustomerView
from kiosk.errors import KioskError
from kiosk.labels import station_label
from kiosk.roles import Station
from ui.context import StationContext


class StationPage(QWidget):
    station: ClassVar[Station]
    # Its work is long (exports of the whole event, imports, reports): no desk action's
    # bound on its waits for the database (``StationContext.patient``).
    patient: ClassVar[bool] = False
    # The kinds of records the station lists ("queues", "slips", ... of ``Changes``): what
    # another station's action must have touched for this one to refresh while on screen.
    shows: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("page")
        self._keys: dict[tuple[int, int], Callable[[], None]] = {}
        self.busy = False  # a service call of this station is running (``ui.operations``)

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

    def keep(self) -> object | None:
        """What staff have in hand here that the database does not hold (a search typed, a
        customer selected), for the same station rebuilt in another language
        (``MainWindow.rebuild``); None: nothing to keep."""
        return None

    def restore(self, kept: object) -> None:
        """``keep``'s answer back in the rebuilt station, after its ``load``."""

    def show_error(self, error: KioskError) -> None:
        """An action was refused or failed: say so in words (the red banner and its sound,
        where the station has them)."""
        from ui.widgets import Tone

        sounds = getattr(self, "sounds", None)
        if sounds is not None:
            sounds.play(Tone.ERROR)
        banner = getattr(self, "banner", None)
        if banner is not None:
            banner.show_result(Tone.ERROR, str(error))

    def show_done(self, text: str) -> None:
        """An action went through: the green banner and its sound."""
        from ui.widgets import Tone

        sounds = getattr(self, "sounds", None)
        if sounds is not None:
            sounds.play(Tone.OK)
        banner = getattr(self, "banner", None)
        if banner is not None:
            banner.show_result(Tone.OK, text)

    def after(self, changes: Changes) -> None:
        """This station (or another one in the window) changed ``changes``: show it, with one
        read. Stations refine it; the default is the live refresh."""
        self.refresh_live()

    def refresh_live(self) -> None:
        """Another station changed the event (``ui.live``): refresh the lists and figures on
        screen, never a field being typed in. Stations without shared lists do nothing."""

    def customer_view(self) -> CustomerView | None:
        """What the customer at this desk may see on the screen turned to them
        (``ui.customer_screen``): masked values only; None for no customer (the welcome).
        Desks with a customer in front of them refine it."""
        return None

    def customer_changed(self) -> None:
        """The customer at this desk, or what they may see, changed: the window's customer
        screen shows it now (only while this station is the one on screen)."""
        changed = getattr(self.window(), "customer_changed_at", None)
        if callable(changed):
            changed(self)
