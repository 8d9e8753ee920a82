"""The shape every station has (after Picard's option pages).

A station is one widget class with the ``Station`` it implements, a translated ``title()``, and
``load()`` to refresh from the services; it is registered once in ``ui.stations`` and the main
window shows it only when the signed-in role may open it (``kiosk.roles``).
"""

from __future__ import annotations

from typing import ClassVar

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

    @classmethod
    def title(cls) -> str:
        return station_label(cls.station)

    def load(self) -> None:
        """Refresh from the services; called when the station becomes visible."""
