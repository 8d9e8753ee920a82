"""The activation desk's catalog, as a panel: the event's services grouped by merchant, what is
left of each, and grey what the customer cannot take with the cart as it is.

With a customer at the desk the panel shows the catalog as that customer sees it
(``kiosk.services.customer_offers``): their own price (their tier's), and it opens on their
short list ("少即是多": the bank's review found customers lost before a long catalog). The
whole catalog is one key away (F3, on the button) and back. In both views what they cannot
take stays visible, grey, with the reason in words (points short, fully booked, their tier's
places taken), measured against the cart as it is, so the screen never promises what the
issue would refuse. With nobody at the desk it is the plain catalog at the offers' own prices.

The panel reads nothing: the station hands it the offers it read (``activation.catalog``, or
``customer_offers.offers_for`` for the customer), the balance and the cart (``kiosk.cart``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.cart import Cart
from kiosk.i18n import _
from kiosk.labels import category_label
from kiosk.services.activation import CatalogOffer
from kiosk.services.customer_offers import CustomerOffers, OfferFor, blocked_reason
from ui.theme import MUTED, is_large_print

GREY = QBrush(QColor(MUTED))  # out of reach, said in words too: 5.8:1, not 3.45:1
SHORT = "short"  # the short list's group, in the layout key
COLUMNS = 5  # service, points, left, for this customer, category


def as_catalog(offer: OfferFor, *, own_price: bool = False) -> CatalogOffer:
    """An offer for the customer as the desk's catalog row, at their price (or the offer's
    own ``own_price``): the cart and its checks price it as the slip will be charged."""
    return CatalogOffer(
        code=offer.code,
        name=offer.name,
        category=offer.category,
        merchant_code=offer.merchant_code,
        merchant_name=offer.merchant_name,
        booth=offer.booth,
        points_price=offer.list_price if own_price else offer.price,
        remaining=offer.remaining,
        redeem_by=offer.redeem_by,
        description=offer.description,
    )


def view_button_label(short: bool) -> str:
    return _("All services (F3)") if short else _("Recommended (F3)")


class CatalogPanel(QWidget):
    """Title and the view key, the tree of offers, "Add to cart". ``offers`` is what was
    shown last, by code, at the customer's prices when ``mine`` (their catalog) is set."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offers: dict[str, CatalogOffer] = {}
        self.mine: CustomerOffers | None = None
        self.terms: dict[str, OfferFor] = {}
        self.short_view = True  # with a customer: their short list, else everything
        self._layout: tuple[bool, list[tuple[str, str]]] | None = None  # view, (group, code)
        self._items: dict[str, QTreeWidgetItem] = {}
        self.tree = QTreeWidget()
        self.tree.setObjectName("catalog")
        self.tree.setColumnCount(COLUMNS)
        self.tree.setHeaderLabels(
            [_("Service"), _("Points"), _("Left"), _("For this customer"), _("Category")]
        )
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self._indentation = self.tree.indentation()
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        self.add_button = QPushButton(_("Add to cart (Enter)"))
        self.add_button.setObjectName("add_to_cart")
        self.view_button = QPushButton(view_button_label(True))
        self.view_button.setObjectName("catalog_view")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = QLabel(_("Catalog: services by merchant"))
        self.title.setObjectName("catalog_title")
        self.title.setWordWrap(True)
        # Wrapped to whatever the view key leaves: the row never widens the desk (1366 px in
        # large print, English).
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addWidget(self.title, 1)
        top.addWidget(self.view_button)
        column.addLayout(top)
        column.addWidget(self.tree, 1)
        column.addWidget(self.add_button)
        self.column, self.top = column, top
        self.folded = False  # large print: no title row (``fold_title``)
        self.on_count: Callable[[str], None] | None = None

    def fold_title(self, on_count: Callable[[str], None]) -> None:
        """Large print, in a tab: no title row and no column titles, so the tree keeps room
        for three services under a gate warning and two banners at 1366×768. How many
        services are shown goes to ``on_count`` (the tab's title says it), the view key
        goes beside "Add to cart", and each price says "points" itself. A themed session's
        name still shows above the tree (it explains a shorter catalog)."""
        self.folded = True
        self.on_count = on_count
        self.top.removeWidget(self.view_button)
        self.column.removeWidget(self.add_button)
        keys = QHBoxLayout()
        keys.addWidget(self.add_button, 1)
        keys.addWidget(self.view_button)
        self.column.addLayout(keys)
        self.title.hide()
        self.tree.setHeaderHidden(True)

    # -- what the station read -------------------------------------------------------------

    def take_catalog(self, offers: list[CatalogOffer]) -> None:
        """The plain catalog (nobody at the desk)."""
        self.mine, self.terms = None, {}
        self.offers = {o.code: o for o in offers}

    def take_customer(self, mine: CustomerOffers) -> None:
        """The catalog as this customer sees it."""
        self.mine = mine
        self.terms = {o.code: o for o in mine.offers}
        self.offers = {o.code: as_catalog(o) for o in mine.offers}

    def forget_customer(self) -> None:
        """The customer left: the offers at their own prices until the next read."""
        if self.mine is not None:
            self.offers = {o.code: as_catalog(o, own_price=True) for o in self.mine.offers}
            self.mine, self.terms = None, {}

    @property
    def showing_short(self) -> bool:
        return self.mine is not None and self.short_view

    # -- why not ---------------------------------------------------------------------------

    def why_not(self, code: str, cart: Cart, balance: int | None) -> str:
        """Why one more of this offer cannot go in the cart now ("" when it can)."""
        offer = self.offers[code]
        in_cart = cart.lines.get(code, 0)
        if balance is None:
            return _("Fully booked") if offer.remaining <= in_cart else ""
        term = self.terms.get(code)
        return blocked_reason(
            offer.points_price,
            in_cart + 1,
            balance - cart.total(self.offers),
            offer.remaining,
            term.quota_left if term else None,
            self.mine.tier if self.mine else None,
        )

    def quota_problems(self, cart: Cart) -> list[str]:
        """Lines of the cart beyond the places left for the customer's tier, in words."""
        if self.mine is None or self.mine.tier is None:
            return []
        problems = []
        for code, quantity in cart.lines.items():
            term = self.terms.get(code)
            if term is not None and term.quota_left is not None and quantity > term.quota_left:
                problems.append(
                    _("{offer}: only {n} places left for {tier} customers.").format(
                        offer=term.name, n=max(term.quota_left, 0), tier=self.mine.tier.name
                    )
                )
        return problems

    # -- showing ---------------------------------------------------------------------------

    def toggle_view(self) -> None:
        self.short_view = not self.short_view

    def show_offers(
        self, offers: list[CatalogOffer] | None, balance: int | None, cart: Cart
    ) -> None:
        """The offers (None: the ones shown, again with another balance or cart).

        The tree is built once and then updated in place on every live refresh (only a new
        or removed offer, or the other view, rebuilds it): the selection and the scroll
        position stay where staff left them, and no item is created and destroyed once a
        second all day.
        """
        if offers is not None:
            self.take_catalog(offers)
        if balance is None:
            self.forget_customer()
        short = self.showing_short
        if short:
            assert self.mine is not None
            layout = [(SHORT, o.code) for o in self.mine.short]
        else:
            layout = [(o.merchant_code, o.code) for o in self.offers.values()]
        if (short, layout) != self._layout:
            self._build(short, layout)
            self._layout = (short, layout)
        self._titles(short)
        left = None if balance is None else balance - cart.total(self.offers)
        # A column of its own for what is left after (or why not) squeezed the service's name
        # to "基…" beside it, at 1366 px even in normal print: it goes under the name, where
        # the customer reads it; in large print the places left are said there only when
        # there are none ("fully booked").
        # Large print without a customer: the "left" column squeezed the names ("一年期意…");
        # the places left go under the name too.
        two_lines = balance is not None or is_large_print()
        for code, item in self._items.items():
            offer = self.offers[code]
            reason = self.why_not(code, cart, balance)
            in_cart = cart.lines.get(code, 0)
            if left is None:  # no customer: the places left, under the name in large print
                note = (
                    (
                        _("{n} places left").format(n=offer.remaining)
                        if offer.remaining > 0
                        else _("sold out")
                    )
                    if two_lines
                    else ""
                )
            elif in_cart:  # what is left after the cart: under the cart
                note = _("In cart ×{n}").format(n=in_cart)
            elif reason:
                note = reason
            elif is_large_print():  # under the name: as short as it can be said
                note = _("After: {points:,} points").format(points=left - offer.points_price)
            else:
                note = _("{points:,} points left after").format(points=left - offer.points_price)
            texts = (
                f"{offer.name}\n{note}" if two_lines else offer.name,
                # No column titles when folded: the price says what it is.
                _("{points:,} points").format(points=offer.points_price)
                if self.folded
                else f"{offer.points_price:,}",
                str(offer.remaining) if offer.remaining > 0 else _("sold out"),
                note,
                category_label(offer.category),
            )
            for column, text in enumerate(texts):
                if item.text(column) != text:
                    item.setText(column, text)
            for column in range(COLUMNS):
                item.setData(column, Qt.ItemDataRole.ForegroundRole, GREY if reason else None)
            where = offer.merchant_name + (
                "  · " + _("booth {booth}").format(booth=offer.booth) if offer.booth else ""
            )
            tips = (
                "\n".join(t for t in (where if short else "", reason) if t),
                self._price_tip(code),
            )
            for column, tip in enumerate(tips):
                if item.toolTip(column) != tip:  # set once, not on every live refresh
                    item.setToolTip(column, tip)
        self.tree.setUniformRowHeights(not two_lines)
        self.tree.setIndentation(4 if two_lines else self._indentation)  # bold groups suffice
        # "fully booked" says it under the name in large print
        self.tree.setColumnHidden(2, two_lines and is_large_print())
        self.tree.setColumnHidden(3, balance is None or two_lines)
        # The category only if it fits: not in large print, nor beside the customer's column.
        self.tree.setColumnHidden(4, is_large_print() or balance is not None)
        for column in (1, 2, 3):
            self.tree.resizeColumnToContents(column)

    def _price_tip(self, code: str) -> str:
        term = self.terms.get(code)
        if term is None or self.mine is None or self.mine.tier is None:
            return ""
        if term.price == term.list_price:
            return ""
        return _("{tier} price; the service's own price is {points:,} points.").format(
            tier=self.mine.tier.name, points=term.list_price
        )

    def _titles(self, short: bool) -> None:
        # Short, beside the view key: the group's header says "Recommended for you".
        tip = ""
        count = ""
        if self.mine is None:
            title = _("Catalog: services by merchant")
        elif short:
            title = _("{n} of {total} services").format(
                n=len(self.mine.short), total=len(self.mine.offers)
            )
            tip = _("The customer's short list, at their prices. F3 shows every service.")
        else:
            title = _("All {total} services").format(total=len(self.mine.offers))
            tip = _("Every service, at this customer's prices. F3 goes back to the short list.")
        count = title
        if self.mine is not None and self.mine.theme:
            # A themed session offers part of the catalog: say which, so nobody looks for
            # the missing services.
            title = _("{theme} (themed session) · {title}").format(
                theme=self.mine.theme, title=title
            )
            tip = _("This customer's session offers its own services only.")
        if self.title.text() != title:
            self.title.setText(title)
            self.title.setToolTip(tip)
        if self.folded and self.on_count is not None:
            self.title.setVisible(bool(self.mine and self.mine.theme))
            self.on_count(count if self.mine is not None else "")
        label = view_button_label(short)
        if self.view_button.text() != label:
            self.view_button.setText(label)
        self.view_button.setEnabled(self.mine is not None)

    def _group(self, title: str) -> QTreeWidgetItem:
        group = QTreeWidgetItem([title])
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        self.tree.addTopLevelItem(group)
        # Only takes effect once in the tree. (PySide6 6.11 keeps a reference to None per
        # call: one more reason to build the tree once, not on every refresh.)
        group.setFirstColumnSpanned(True)
        return group

    def _build(self, short: bool, layout: list[tuple[str, str]]) -> None:
        current = self.tree.currentItem()
        keep = current.data(0, Qt.ItemDataRole.UserRole) if current else None
        self.tree.clear()
        self._items = {}
        groups: dict[str, QTreeWidgetItem] = {}
        first: QTreeWidgetItem | None = None
        for key, code in layout:
            offer = self.offers[code]
            group = groups.get(key)
            if group is None:
                if key == SHORT:
                    title = _("Recommended for you")
                else:
                    title = offer.merchant_name + (
                        "  · " + _("booth {booth}").format(booth=offer.booth) if offer.booth else ""
                    )
                group = groups[key] = self._group(title)
            item = QTreeWidgetItem([""] * COLUMNS)
            item.setData(0, Qt.ItemDataRole.UserRole, code)
            for column in (1, 2):
                item.setTextAlignment(
                    column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
            group.addChild(item)
            self._items[code] = item
            first = first or item
            if code == keep:
                self.tree.setCurrentItem(item)
        if short and self.tree.currentItem() is None and first:
            self.tree.setCurrentItem(first)  # Enter adds the first recommendation
        if short and not layout:
            group = self._group(_("Recommended for you"))
            empty = QTreeWidgetItem([_("Nothing fits this customer's points now: F3 shows all.")])
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            group.addChild(empty)
        self.tree.expandAll()
