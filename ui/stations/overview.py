"""Event overview: what every member of staff sees first after signing in.

The event, its slots, invitees per branch and slot, and the merchants' offers, so staff can
answer "which slot is my branch in?" and "what can I redeem?" without asking the coordinator.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from kiosk.labels import category_label
from kiosk.roles import Station
from kiosk.services.events import EventOverview, event_overview
from kiosk.services.figures import Stage, stage_label
from ui.context import StationContext
from ui.stations.base import StationPage
from ui.theme import is_large_print


def _label(text: str, role: str = "") -> QLabel:
    label = QLabel(text)
    if role:
        label.setProperty("role", role)
    label.setWordWrap(True)
    return label


def make_table(headers: list[str], rows: list[list[object]], numeric: set[int]) -> QTableWidget:
    """A read-only table; numbers right-aligned so columns of figures compare at a glance."""
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(f"{value:,}" if isinstance(value, int) else str(value))
            if c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    table.resizeRowsToContents()
    # Short tables show every row; the page scrolls, not the table.
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    height = header.sizeHint().height() + sum(table.rowHeight(r) for r in range(len(rows)))
    table.setFixedHeight(height + 2 * table.frameWidth())
    # Never narrower than its columns: a table that cannot scroll sideways would cut the last
    # ones at its edge ("Redeem by" at 1366 pixels in English).
    bold = header.font()
    bold.setBold(True)  # the theme's column titles
    titles = QFontMetrics(bold)
    widths = [
        max(table.sizeHintForColumn(c), titles.horizontalAdvance(headers[c]) + 16)
        for c in range(len(headers))
    ]
    table.setMinimumWidth(sum(widths) + 2 * table.frameWidth() + 2)
    return table


class OverviewStation(StationPage):
    station = Station.OVERVIEW

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.overview: EventOverview | None = None
        self.side_by_side = False  # slots and offers in two columns (``_fits_side_by_side``)
        self._needs = 0  # the width two columns need, from the last build
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroll)

    def refresh_live(self) -> None:
        """The figures move with every check-in and slip: redraw, keeping the scroll place."""
        position = self.scroll.verticalScrollBar().value()
        self.load()
        self.scroll.verticalScrollBar().setValue(position)

    def load(self) -> None:
        self.overview = event_overview(self.context.uow())
        self._show()

    def _show(self) -> None:
        assert self.overview is not None
        body = QWidget()
        body.setObjectName("page")
        self._build(body, self.overview)
        self.scroll.setWidget(body)

    def _fits_side_by_side(self) -> bool:
        """Slots and offers beside each other only in normal print and when both tables
        keep every column at the width the page has; else the offers go below."""
        return not is_large_print() and 0 < self._needs <= self.scroll.viewport().width()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.overview is not None and self._fits_side_by_side() != self.side_by_side:
            position = self.scroll.verticalScrollBar().value()
            self._show()  # no read: the same figures, laid out for the new width
            self.scroll.verticalScrollBar().setValue(position)

    def _build(self, body: QWidget, ov: EventOverview) -> None:
        zone = ZoneInfo(ov.timezone)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(24, 16, 24, 24)
        layout.setSpacing(14)
        layout.addWidget(_label(ov.name, "title"))
        layout.addWidget(
            _label(
                _("{date} · {venue} · event code {code}").format(
                    date=ov.event_date.strftime("%Y-%m-%d"), venue=ov.venue, code=ov.code
                ),
                "hint",
            )
        )

        figures = QHBoxLayout()
        # The dashboard's and the reports' figures, under the same names.
        for key, caption in (
            ("invitees", stage_label(Stage.INVITED)),
            ("confirmed", stage_label(Stage.CONFIRMED)),
            ("visits", stage_label(Stage.ARRIVED)),
            ("merchants", _("Merchants")),
            ("offers", _("Services")),
        ):
            card = QFrame()
            card.setObjectName("card")
            box = QVBoxLayout(card)
            figure = _label(f"{ov.counts[key]:,}", "figure")
            figure.setObjectName(f"figure_{key}")
            box.addWidget(figure)
            box.addWidget(_label(caption, "hint"))
            figures.addWidget(card)
        layout.addLayout(figures)

        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(8)
        slot_rows: list[list[object]] = [
            [
                s.label,
                f"{s.starts_at.astimezone(zone):%H:%M}–{s.ends_at.astimezone(zone):%H:%M}",
                s.invited,
                s.confirmed,
                s.capacity,
            ]
            for s in ov.slots
        ]
        self.slot_table = make_table(
            [
                _("Slot"),
                _("Time"),
                stage_label(Stage.INVITED),
                stage_label(Stage.CONFIRMED),
                _("Capacity"),
            ],
            slot_rows,
            numeric={2, 3, 4},
        )
        grid.addWidget(_label(_("Slots"), "subtitle"), 0, 0)
        grid.addWidget(self.slot_table, 1, 0)

        slot_codes = [s.code for s in ov.slots]
        branch_rows: list[list[object]] = [
            [b.name, *[b.per_slot.get(code, 0) for code in slot_codes], b.total]
            for b in ov.branches
        ]
        self.branch_table = make_table(
            [_("Branch"), *[s.label for s in ov.slots], _("Total")],
            branch_rows,
            numeric=set(range(1, len(slot_codes) + 2)),
        )
        grid.addWidget(_label(_("Invitations by branch and slot"), "subtitle"), 2, 0)
        grid.addWidget(self.branch_table, 3, 0)
        grid.setRowStretch(3, 1)

        offer_rows: list[list[object]] = [
            [
                o.merchant_name,
                o.name,
                category_label(o.category),
                o.points_price,
                f"{o.remaining:,} / {o.capacity:,}",
                o.redeem_by.strftime("%Y-%m-%d"),
            ]
            for o in ov.offers
        ]
        self.offer_table = make_table(
            [
                _("Merchant"),
                _("Service"),
                _("Category"),
                _("Points"),
                _("Left / capacity"),
                _("Redeem by"),
            ],
            offer_rows,
            numeric={3, 4},
        )
        margins = layout.contentsMargins()
        self._needs = (
            self.slot_table.minimumWidth()
            + self.offer_table.minimumWidth()
            + grid.horizontalSpacing()
            + margins.left()
            + margins.right()
        )
        self.side_by_side = self._fits_side_by_side()
        if not self.side_by_side:  # two columns do not fit: offers go below
            grid.addWidget(_label(_("Merchants and services"), "subtitle"), 4, 0)
            grid.addWidget(self.offer_table, 5, 0)
        else:
            grid.addWidget(_label(_("Merchants and services"), "subtitle"), 0, 1)
            grid.addWidget(self.offer_table, 1, 1, 3, 1, Qt.AlignmentFlag.AlignTop)
            grid.setColumnStretch(0, 4)
            grid.setColumnStretch(1, 5)
        layout.addLayout(grid)
        layout.addStretch(1)
