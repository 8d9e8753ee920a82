"""The activation desk's cart, as a panel: the services put in it with a quantity each, the
total and what is left after the slips, the problems in words, and "Issue and print".

The panel reads nothing; the station owns the ``Cart`` (kept by the app across a rebuild) and
hands it over with the offers and the customer's balance (``kiosk.cart.check_cart``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.cart import Cart, check_cart
from kiosk.i18n import _
from kiosk.services.activation import CatalogOffer
from ui.theme import fit_rows, is_large_print


class CartPanel(QWidget):
    """Title and "Empty cart", the lines, the total, "Issue and print". A quantity changed in
    a line goes to ``on_quantity(code, quantity)``."""

    def __init__(
        self, on_quantity: Callable[[str, int], None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.on_quantity = on_quantity
        self.updating = False  # the table is being filled: a spin box's signal is not an edit
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("cart")
        self.table.setHorizontalHeaderLabels([_("Service"), _("Qty"), _("Points")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Its lines are changed by their quantity boxes, never chosen: a tap on a box's + must
        # not light up a cell beside it.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Each line as high as its quantity box (60 px in large print): else the boxes of
        # two lines are drawn over each other.
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(max(rows.defaultSectionSize(), QSpinBox().sizeHint().height()))
        fit_rows(self.table)
        # The quantity column as wide as a quantity box showing "99": a cell widget does not
        # widen its column, and in large print the box's − and + take 120 px of it.
        sample = QSpinBox()
        sample.setRange(0, 99)
        sample.ensurePolished()  # the style sheet's paddings and buttons count
        self.table.setColumnWidth(1, sample.sizeHint().width())
        # At least its titles and one line (less than a scroll area's own 70 px in normal
        # print: the desk's right column holds the cart and the slips under two banners).
        if not is_large_print():  # large print has no 30 px to spare: the 70 px stay
            self.table.setMinimumHeight(
                self.table.horizontalHeader().sizeHint().height() + rows.defaultSectionSize() + 4
            )
        self.total = QLabel("")
        self.total.setObjectName("cart_total")
        self.total.setWordWrap(True)
        self.issue_button = QPushButton(_("Issue and print slips (F9)"))
        self.issue_button.setObjectName("issue")
        self.issue_button.setProperty("role", "primary")
        self.clear_button = QPushButton(_("Empty cart"))

        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.title_row = QHBoxLayout()
        self.title = QLabel(_("Cart"))
        self.title_row.addWidget(self.title, 1)
        self.title_row.addWidget(self.clear_button)
        self.column.addLayout(self.title_row)
        self.column.addWidget(self.table, 1)
        self.column.addWidget(self.total)
        self.column.addWidget(self.issue_button)

    def fold_title(self) -> None:
        """In a tab titled "Cart" (large print): no title row; "Empty cart" goes beside
        "Issue and print", which saves a 60-px row."""
        self.title.hide()
        self.title_row.removeWidget(self.clear_button)
        self.column.removeWidget(self.issue_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.issue_button, 1)
        buttons.addWidget(self.clear_button)
        self.column.addLayout(buttons)

    def show_cart(
        self,
        cart: Cart,
        offers: dict[str, CatalogOffer],
        balance: int | None,
        more_problems: Sequence[str] = (),
    ) -> None:
        """The cart's lines; with a customer (``balance``), the total and its problems.

        ``offers`` are priced for the customer (their tier's price), so the total and the
        balance check say what the slips will charge; ``more_problems`` are the ones the
        plain cart cannot know (the places left for the customer's tier)."""
        self.updating = True
        for r in range(self.table.rowCount()):  # deleted later; hide them now
            old = self.table.cellWidget(r, 1)
            if old is not None:
                old.hide()
                self.table.removeCellWidget(r, 1)
        self.table.setRowCount(len(cart.lines))
        for r, (code, quantity) in enumerate(cart.lines.items()):
            offer = offers.get(code)
            name = f"{offer.merchant_name} · {offer.name}" if offer else code
            self.table.setItem(r, 0, QTableWidgetItem(name))
            spin = QSpinBox()
            spin.setRange(0, 99)
            spin.setValue(quantity)
            spin.setObjectName(f"qty_{code}")
            spin.valueChanged.connect(lambda value, c=code: self.on_quantity(c, value))
            self.table.setCellWidget(r, 1, spin)
            points = QTableWidgetItem(f"{offer.points_price * quantity:,}" if offer else "")
            points.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, 2, points)
        self.updating = False
        if balance is None:
            self.total.setText("")
            return
        check = check_cart(cart, offers, balance)
        text = _("Total {total:,} points · {left:,} left after the slips").format(
            total=check.total, left=check.left
        )
        problems = [p for p in check.problems if cart] + list(more_problems)
        self.total.setText("\n".join([text, *problems]))
        self.total.setProperty("role", "error" if problems else "")
        self.total.style().unpolish(self.total)
        self.total.style().polish(self.total)
        self.issue_button.setEnabled(check.ok and not more_problems)
