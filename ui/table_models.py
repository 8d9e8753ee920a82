"""Passive Qt table models: the station hands them rows, they only display them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from kiosk.i18n import _
from kiosk.services.reception import CustomerHit

Index = QModelIndex | QPersistentModelIndex


class HitModel(QAbstractTableModel):
    """Search results at reception: what tells namesakes apart, masked."""

    NAME, PHONE, ID, BRANCH, RM, SLOT, STATUS = range(7)
    HitRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[CustomerHit] = []
        self._display: list[tuple[str, ...]] = []

    def set_rows(self, rows: list[CustomerHit]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        # Painting asks for every cell many times: answer from ready-made text.
        self._display = [self._texts(hit) for hit in self._rows]
        self.endResetModel()

    @staticmethod
    def _texts(hit: CustomerHit) -> tuple[str, ...]:
        if hit.checked_in:
            status = _("Checked in")
        elif hit.walk_in:
            status = _("Walk-in")
        elif not hit.invited:
            status = _("Not invited")
        else:
            status = ""
        return (
            hit.name,
            hit.masked_phone,
            hit.masked_id,
            hit.branch,
            hit.rm_name,
            hit.slot_label,
            status,
        )

    def hit(self, row: int) -> CustomerHit | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else 7

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return [
            _("Name"),
            _("Phone"),
            _("ID number"),
            _("Branch"),
            _("RM"),
            _("Slot"),
            _("Status"),
        ][section]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display[index.row()][index.column()]
        if role == self.HitRole:
            return self._rows[index.row()]
        return None
