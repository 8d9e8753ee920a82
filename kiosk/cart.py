"""The activation desk's cart: what the customer chose, checked against balance and capacity.

Pure rules, so the desk can show at every click what is affordable and what is left; the
same conditions are enforced again in the issuing transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kiosk.i18n import _


class Priced(Protocol):
    code: str
    name: str
    points_price: int
    remaining: int


@dataclass
class Cart:
    """Offer code -> quantity, in the order the services were added."""

    lines: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, lines: Iterable[tuple[str, int]]) -> Cart:
        cart = cls()
        for code, quantity in lines:
            cart.add(code, quantity)
        return cart

    def add(self, code: str, quantity: int = 1) -> None:
        code = code.upper()
        self.lines[code] = self.lines.get(code, 0) + quantity
        if self.lines[code] <= 0:
            del self.lines[code]

    def set(self, code: str, quantity: int) -> None:
        code = code.upper()
        if quantity <= 0:
            self.lines.pop(code, None)
        else:
            self.lines[code] = quantity

    def clear(self) -> None:
        self.lines.clear()

    def __bool__(self) -> bool:
        return bool(self.lines)

    def total(self, offers: Mapping[str, Priced]) -> int:
        return sum(offers[c].points_price * q for c, q in self.lines.items() if c in offers)


@dataclass(frozen=True)
class CartCheck:
    total: int
    left: int  # balance after the cart; negative when over
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_cart(cart: Cart, offers: Mapping[str, Priced], balance: int) -> CartCheck:
    """Total, balance left and every reason the cart cannot be issued, in words."""
    problems = []
    if not cart:
        problems.append(_("The cart is empty."))
    for code, quantity in cart.lines.items():
        offer = offers.get(code)
        if offer is None:
            problems.append(_("No offer has the code {code}.").format(code=code))
        elif quantity > offer.remaining:
            problems.append(
                _("{offer}: only {n} left.").format(offer=offer.name, n=max(offer.remaining, 0))
            )
    total = cart.total(offers)
    if total > balance:
        problems.append(
            _("Not enough points: the cart needs {total:,}, the customer has {balance:,}.").format(
                total=total, balance=balance
            )
        )
    return CartCheck(total, balance - total, problems)


def affordable(offer: Priced, cart: Cart, offers: Mapping[str, Priced], balance: int) -> bool:
    """Can one more of this offer still go in the cart?"""
    in_cart = cart.lines.get(offer.code, 0)
    return offer.points_price <= balance - cart.total(offers) and in_cart < offer.remaining
