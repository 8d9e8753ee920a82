"""The personal points statement (个人积分说明): one customer's points, in words they read.

The bank's review of its last event: customers did not understand the points rules, stood
lost before a long catalog and redeemed in a hurry. The statement answers their questions on
one page, on screen at reception and the activation desk and on paper on request: what they
can spend today, which points expire soon (each lot's date and points), their tier and what
it means, how points are earned, and the three to five services that fit them best with what
would be left. Its figures and short list are ``customer_offers.offers_for``'s, so the
statement, the activation desk and the slip never disagree.

Only the customer's own data, and masked as on every paper (``kiosk.masking``): the name's
first character, the customer number's ends; never an ID number, a phone or an address.
Printing is audited (``record_statement_print``), without personal data in the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.masking import mask_id, mask_name
from kiosk.models import Customer
from kiosk.permissions import Action, Actor, require
from kiosk.services.customer_offers import SOON, YEAR, months_after, offers_for
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork


@dataclass(frozen=True)
class StatementLot:
    """A lot that expires within twelve months: its date and the points still on it."""

    expires_on: date
    points: int
    soon: bool  # within three months


@dataclass(frozen=True)
class StatementOffer:
    """One service of the short list, at the customer's own price."""

    merchant: str
    booth: str
    name: str
    price: int  # the customer's price (their tier's, else the offer's own)
    list_price: int  # the offer's own price, shown when the tier's differs
    left_after: int  # the customer's points after taking it
    preselected: int  # quantity chosen with the invitation (0: none)
    blocked: str  # why it cannot be taken now ("" when it can)


@dataclass(frozen=True)
class Statement:
    """Everything the statement shows, already masked and in the current language."""

    customer_id: int
    event_name: str
    event_date: date
    today: date
    masked_name: str
    masked_customer_no: str
    balance: int  # spendable today
    expiring_3m: int
    expiring_12m: int
    lots: list[StatementLot]  # expiring within twelve months, soonest first
    soon_until: date  # the last day of "within three months"
    year_until: date  # the last day of "within twelve months"
    tier_name: str  # "" when the customer is in no tier
    tier_meaning: str  # what the tier means, or that the offers' own prices apply
    how_earned: str
    offers: list[StatementOffer]  # the short list, best first


def how_points_are_earned() -> str:
    """The fixed paragraph the statement prints about earning and expiry."""
    return _(
        "Points come from your assets, deposits, wealth products and credit card spending"
        " with the bank and are credited every month. Each batch of points has its own expiry"
        " date; when you redeem, the points that expire first are used first."
    )


def no_tier_sentence() -> str:
    return _("You are not in one of this event's tiers: every service is at its own price.")


def customer_id_for(uow: UnitOfWork, customer_no: str) -> int:
    """The customer with this customer number, or a sentence saying there is none."""
    number = customer_no.strip()
    with uow:
        customer_id = uow.session.scalar(
            select(Customer.id).where(Customer.customer_no == number).limit(1)
        )
    if customer_id is None:
        raise KioskError(_("No customer has the customer number {no}.").format(no=number))
    return customer_id


def statement(
    uow: UnitOfWork, customer_id: int, staff: Actor | None, *, clock: Clock | None = None
) -> Statement:
    """The customer's statement as of today (a read; reception, activation, supervisor)."""
    require(staff, Action.PRINT_STATEMENT)
    offers = offers_for(uow, customer_id, clock=clock)
    with uow:
        s = uow.session
        event = current_event(s)
        customer = s.get(Customer, customer_id)
        if customer is None:
            raise KioskError(_("This customer no longer exists."))
        event_name, event_date = event.name, event.event_date
        name, number = customer.name, customer.customer_no
    soon_until = months_after(offers.today, SOON)
    lots = [
        StatementLot(lot.expires_on, lot.spendable, lot.expires_on <= soon_until)
        for lot in offers.expiring_lots(YEAR)
        if lot.expires_on is not None
    ]
    tier = offers.tier
    return Statement(
        customer_id=customer_id,
        event_name=event_name,
        event_date=event_date,
        today=offers.today,
        masked_name=mask_name(name),
        masked_customer_no=mask_id(number),
        balance=offers.balance,
        expiring_3m=offers.expiring_3m,
        expiring_12m=offers.expiring_12m,
        lots=lots,
        soon_until=soon_until,
        year_until=months_after(offers.today, YEAR),
        tier_name=tier.name if tier is not None else "",
        tier_meaning=no_tier_sentence() if tier is None else tier.meaning,
        how_earned=how_points_are_earned(),
        offers=[
            StatementOffer(
                merchant=o.merchant_name,
                booth=o.booth,
                name=o.name,
                price=o.price,
                list_price=o.list_price,
                left_after=o.left_after,
                preselected=o.preselected,
                blocked=o.blocked,
            )
            for o in offers.short
        ],
    )


def record_statement_print(
    uow: UnitOfWork,
    customer_id: int,
    staff: Actor | None,
    *,
    printed: bool,
    paper: str,
    detail: str = "",
    clock: Clock | None = None,
    station: str = "",
) -> None:
    """Audit a statement that came out of the printer (or was written to a file), or its
    failure. The record names the customer by id and the paper: no name, no figures."""
    require(staff, Action.PRINT_STATEMENT)
    assert staff is not None
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        current_event(s)
        if s.get(Customer, customer_id) is None:
            raise KioskError(_("This customer no longer exists."))
        audit.append(
            s,
            at=now,
            action="statement_printed" if printed else "statement_print_failed",
            staff_id=staff.staff_id,
            station=station,
            entity="customer",
            entity_id=customer_id,
            details={"paper": paper} if printed else {"paper": paper, "error": detail[:200]},
        )
        uow.commit()
