"""What the customer at a desk may see on the screen turned to them (issue #24, item 3).

A desk publishes a ``CustomerView``: plain values, masked already, so the customer screen
(``ui.customer_screen``) only lays them out and cannot show what it was never given. The
builders here take what the stations already hold from the services (the called customer's
masked name, the KYC form as loaded and as typed, the slips issued) and keep only what the
customer may read: their own masked name, their ticket, their points, the before / after of
their changes (phone, ID number and address masked as ``kiosk.governance.summary`` masks
them, the name masked too, since a stranger behind them reads the screen as well), the
services chosen for them with the points they add up to and what their points would leave,
and the services and points of their slips. Never the waiting list, other customers, staff numbers,
internal notes or risk flags: there is no field for them.

Words are built in the language current when the view is built; a desk builds its view again
after the language switch (the screen asks it to), so nothing here needs translating later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from kiosk.governance import KycForm, OnRecord, summary
from kiosk.i18n import _
from kiosk.labels import kyc_field_label
from kiosk.masking import mask_name
from kiosk.models import SlipStatus

# A slip in these states is the customer's (a voided or released one gave its points back).
_KEPT_STATES = frozenset({SlipStatus.ISSUED.value, SlipStatus.REDEEMED.value})


@dataclass(frozen=True)
class ChangeLine:
    """One line of the before / after summary: the item, what it was, what it becomes."""

    item: str
    before: str
    after: str


@dataclass(frozen=True)
class SlipLine:
    """A slip issued to the customer: the service, its merchant, how many, its points."""

    serial: int
    service: str
    merchant: str
    quantity: int
    points: int


@dataclass(frozen=True)
class ChosenLine:
    """A service in the cart, not issued yet: what the customer is about to receive."""

    service: str
    quantity: int
    points: int


@dataclass(frozen=True)
class CartSums:
    """The chosen services added up against the customer's points, so a customer watching
    the desk fill the cart reads what issuing it would charge and leave before any slip is
    printed (issue #24), and sees it when the cart is over their points. The figures are the
    desk's own (``kiosk.cart.check_cart``: the same tier prices, the same sum), so the
    customer and the staff read one number."""

    total: int  # points the chosen services cost together
    balance: int  # points the customer can spend now (issued slips taken off already)

    @property
    def left(self) -> int:
        """Points left once the chosen services are issued; negative when over."""
        return self.balance - self.total

    @property
    def short(self) -> int:
        """Points missing for the chosen services (0 when their points cover them)."""
        return max(self.total - self.balance, 0)


@dataclass(frozen=True)
class CustomerView:
    """Everything the customer screen shows of the customer at the desk (masked values)."""

    masked_name: str
    ticket: str = ""
    points: int | None = None  # points they can spend, where the desk knows them
    changes: tuple[ChangeLine, ...] = ()
    confirming: bool = False  # the summary is the one they are asked to confirm now
    saved: int | None = None  # changes just saved (how many), until the next edit
    chosen: tuple[ChosenLine, ...] = ()
    sums: CartSums | None = None  # with ``chosen``: their total against the points
    slips: tuple[SlipLine, ...] = ()

    def texts(self) -> list[str]:
        """Every value the view carries, as text: what a check for leaks reads."""
        out = [self.masked_name, self.ticket, str(self.points or "")]
        for change in self.changes:
            out += [change.item, change.before, change.after]
        for chosen in self.chosen:
            out.append(chosen.service)
        for slip in self.slips:
            out += [slip.service, slip.merchant]
        return out


class SlipLike(Protocol):
    """A slip as a service lists it (``kiosk.services.slips.SlipRow``)."""

    @property
    def serial(self) -> int: ...
    @property
    def offer(self) -> str: ...
    @property
    def merchant(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def points(self) -> int: ...
    @property
    def status(self) -> str: ...


class OfferLike(Protocol):
    """A service as the catalog lists it (``kiosk.services.activation.CatalogOffer``)."""

    @property
    def name(self) -> str: ...
    @property
    def points_price(self) -> int: ...


def changes_shown(
    before: KycForm, after: KycForm, record: OnRecord | None = None
) -> tuple[ChangeLine, ...]:
    """The before / after summary the desk asks the customer to confirm, with the name
    masked on both sides (the desk's own dialog shows it whole, to the customer beside the
    staff; this screen faces the hall). A new name whose mask is the old one's says that
    it changed, so the line never looks unchanged."""
    rows = [
        ChangeLine(*row)
        for row in summary(before, replace(after, name=before.name or after.name), record)
    ]
    old, new = (before.name or "").strip(), (after.name or "").strip()
    if new and new != old:
        shown = mask_name(new)
        if shown == mask_name(old):
            shown = _("{masked} (changed)").format(masked=shown)
        rows.insert(0, ChangeLine(kyc_field_label("name"), mask_name(old) if old else "—", shown))
    return tuple(rows)


def desk_view(
    masked_name: str,
    ticket: str,
    *,
    points: int | None = None,
    changes: Iterable[ChangeLine] = (),
    confirming: bool = False,
    saved: int | None = None,
) -> CustomerView:
    """The service desk's customer: name, ticket, points and their changes."""
    return CustomerView(
        masked_name=masked_name,
        ticket=ticket,
        points=points,
        changes=tuple(changes),
        confirming=confirming,
        saved=saved,
    )


def activation_view(
    masked_name: str,
    ticket: str,
    points: int,
    slips: Iterable[SlipLike],
    cart: Mapping[str, int],
    offers: Mapping[str, OfferLike],
) -> CustomerView:
    """The activation desk's customer: their points to spend, the services chosen for them
    and not issued yet (with points, added up against their points), and the slips issued
    (voided ones gave the points back and are left out).

    ``offers`` are priced for the customer (their tier's price), as the desk's cart prices
    them: a code the catalog no longer lists is left out of the lines and of the total
    alike, as ``kiosk.cart.Cart.total`` leaves it out, so the lines add up to the total."""
    chosen = tuple(
        ChosenLine(offers[code].name, quantity, offers[code].points_price * quantity)
        for code, quantity in cart.items()
        if code in offers and quantity > 0
    )
    issued = tuple(
        SlipLine(slip.serial, slip.offer, slip.merchant, slip.quantity, slip.points)
        for slip in sorted(slips, key=lambda slip: slip.serial)  # in the order issued
        if str(slip.status) in _KEPT_STATES
    )
    sums = CartSums(sum(line.points for line in chosen), points) if chosen else None
    return CustomerView(
        masked_name=masked_name,
        ticket=ticket,
        points=points,
        chosen=chosen,
        sums=sums,
        slips=issued,
    )
