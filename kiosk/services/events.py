"""The event itself: which one is open, and the overview every station starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.current_event import find_current_event
from kiosk.errors import NoEventError
from kiosk.i18n import _
from kiosk.models import (
    Branch,
    Customer,
    Event,
    Merchant,
    Offer,
    Staff,
)
from kiosk.uow import UnitOfWork

_find_current = find_current_event  # the services' name for it (kiosk.services.imports)


def current_event(session: Session) -> Event:
    """The event this database runs: the newest one not closed, else the newest."""
    event = _find_current(session)
    if event is None:
        raise NoEventError(_("This database holds no event yet. Run “kiosk demo” or import one."))
    return event


@dataclass(frozen=True)
class EventHeader:
    """What the window needs before anyone signs in: cheap at any event size."""

    code: str
    name: str
    timezone: str
    is_demo: bool


def event_header(uow: UnitOfWork) -> EventHeader | None:
    """The current event's name and timezone, or None when the database holds no event."""
    with uow:
        event = _find_current(uow.session)
        if event is None:
            return None
        return EventHeader(event.code, event.name, event.timezone, event.is_demo)


@dataclass(frozen=True)
class SlotSummary:
    code: str
    label: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    invited: int
    confirmed: int


@dataclass(frozen=True)
class BranchSummary:
    code: str
    name: str
    per_slot: dict[str, int]  # slot code -> invitations (declined included)
    total: int


@dataclass(frozen=True)
class OfferSummary:
    merchant_code: str
    merchant_name: str
    code: str
    name: str
    category: str
    points_price: int
    capacity: int
    remaining: int
    redeem_by: date


@dataclass(frozen=True)
class EventOverview:
    code: str
    name: str
    venue: str
    event_date: date
    timezone: str
    is_demo: bool
    slots: list[SlotSummary]
    branches: list[BranchSummary]
    offers: list[OfferSummary]
    counts: dict[str, int]


def event_overview(uow: UnitOfWork) -> EventOverview:
    """The event with its slots, invitations per branch and slot, offers and the headline
    counts. Every count is the definition of ``kiosk.services.figures`` (the dashboard's and
    the reports'): *invited* includes declined invitations, *arrived* every check-in."""
    from kiosk.services import figures  # figures reads the current event from here

    with uow:
        s = uow.session
        event = current_event(s)
        per_slot = figures.slot_invitations(s, event)
        slots = [
            SlotSummary(
                code=slot.code,
                label=slot.label,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                capacity=slot.capacity,
                invited=per_slot.get(slot.id, (0, 0))[0],
                confirmed=per_slot.get(slot.id, (0, 0))[1],
            )
            for slot in event.slots
        ]
        branches = [
            BranchSummary(b.code, b.name, b.per_slot, b.total)
            for b in figures.branch_slots(s, event)
        ]
        offers = [
            OfferSummary(
                merchant_code=m.code,
                merchant_name=m.name,
                code=o.code,
                name=o.name,
                category=o.category,
                points_price=o.points_price,
                capacity=o.capacity,
                remaining=o.remaining,
                redeem_by=o.redeem_by,
            )
            for o, m in s.execute(
                select(Offer, Merchant)
                .join(Merchant, Merchant.id == Offer.merchant_id)
                .where(Offer.event_id == event.id)
                .order_by(Merchant.code, Offer.code)
            )
        ]
        total = figures.event_attendance(s, event)

        def count(column: object, *where: object) -> int:
            return s.scalar(select(func.count(column)).where(*where)) or 0

        counts = {
            "invitees": total.invited,
            "confirmed": total.confirmed,
            "customers": count(Customer.id),
            "branches": len(branches),
            "staff": count(Staff.id, Staff.active.is_(True)),
            "merchants": count(Merchant.id, Merchant.event_id == event.id),
            "offers": len(offers),
            "visits": total.arrived,
            "slips": total.slips,
        }
        return EventOverview(
            code=event.code,
            name=event.name,
            venue=event.venue,
            event_date=event.event_date,
            timezone=event.timezone,
            is_demo=event.is_demo,
            slots=slots,
            branches=branches,
            offers=offers,
            counts=counts,
        )


def branches(uow: UnitOfWork) -> list[tuple[str, str]]:
    """(code, name) of every branch, for choosing one (walk-in registration)."""
    with uow:
        return [(b.code, b.name) for b in uow.session.scalars(select(Branch).order_by(Branch.code))]
