"""The activation desk's catalog, as a panel: the event's services grouped by merchant, what is
left of each, and grey what the customer cannot afford with the cart as it is or is gone.

The panel reads nothing: the station hands it the offers it read (``activation.catalog``),
the customer's balance and the cart (``kiosk.cart``), and it shows them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.cart import Cart, affordable
from kiosk.i18n import _
from kiosk.labels import category_label
from kiosk.services.activation import CatalogOffer
from ui.theme import is_large_print

GREY = QBrush(QColor("#8a8a8a"))


class CatalogPanel(QWidget):
    """Title, the tree of offers, "Add to cart". ``offers`` is what was shown last, by code."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offers: dict[str, CatalogOffer] = {}
        self._layout: list[tuple[str, str]] = []  # (merchant, offer) as built
        self._items: dict[str, QTreeWidgetItem] = {}
        self.tree = QTreeWidget()
        self.tree.setObjectName("catalog")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels([_("Service"), _("Points"), _("Left"), _("Category")])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        self.add_button = QPushButton(_("Add to cart (Enter)"))
        self.add_button.setObjectName("add_to_cart")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        title = QLabel(_("Catalog: services by merchant"))
        title.setWordWrap(True)
        column.addWidget(title)
        column.addWidget(self.tree, 1)
        column.addWidget(self.add_button)

    def show_offers(
        self, offers: list[CatalogOffer] | None, balance: int | None, cart: Cart
    ) -> None:
        """The offers (None: the ones shown, again with another balance or cart).

        The tree is built once and then updated in place on every live refresh (only a new
        or removed offer rebuilds it): the selection and the scroll position stay where
        staff left them, and no item is created and destroyed once a second all day.
        """
        if offers is not None:
            self.offers = {o.code: o for o in offers}
        layout = [(o.merchant_code, o.code) for o in self.offers.values()]
        if layout != self._layout:
            self._build()
            self._layout = layout
        for offer in self.offers.values():
            item = self._items[offer.code]
            texts = (
                offer.name,
                f"{offer.points_price:,}",
                str(offer.remaining) if offer.remaining > 0 else _("sold out"),
                category_label(offer.category),
            )
            for column, text in enumerate(texts):
                if item.text(column) != text:
                    item.setText(column, text)
            can = offer.remaining > 0 and (
                balance is None or affordable(offer, cart, self.offers, balance)
            )
            for column in range(4):
                item.setData(column, Qt.ItemDataRole.ForegroundRole, None if can else GREY)
            tip = ""
            if not can:
                tip = _("Sold out") if offer.remaining <= 0 else _("Not enough points left")
            item.setToolTip(0, tip)
        self.tree.setColumnHidden(3, is_large_print())  # the category only if it fits
        self.tree.resizeColumnToContents(1)
        self.tree.resizeColumnToContents(2)

    def _build(self) -> None:
        current = self.tree.currentItem()
        keep = current.data(0, Qt.ItemDataRole.UserRole) if current else None
        self.tree.clear()
        self._items = {}
        groups: dict[str, QTreeWidgetItem] = {}
        for offer in self.offers.values():
            group = groups.get(offer.merchant_code)
            if group is None:
                title = offer.merchant_name + (
                    "  · " + _("booth {booth}").format(booth=offer.booth) if offer.booth else ""
                )
                group = QTreeWidgetItem([title])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                groups[offer.merchant_code] = group
                self.tree.addTopLevelItem(group)
                # Only takes effect once in the tree. (PySide6 6.11 keeps a reference to None
                # per call: one more reason to build the tree once, not on every refresh.)
                group.setFirstColumnSpanned(True)
            item = QTreeWidgetItem(["", "", "", ""])
            item.setData(0, Qt.ItemDataRole.UserRole, offer.code)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            group.addChild(item)
            self._items[offer.code] = item
            if offer.code == keep:
                self.tree.setCurrentItem(item)
        self.tree.expandAll()
