"""The event itself: which one is open, and the overview every station starts from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.errors import NoEventError
from kiosk.i18n import _
from kiosk.models import (
    Branch,
    Customer,
    Event,
    Invitation,
    InvitationStatus,
    Merchant,
    Offer,
    Slip,
    Staff,
    Visit,
)
from kiosk.uow import UnitOfWork


def _find_current(session: Session) -> Event | None:
    return session.scalar(
        select(Event).order_by(Event.closed_at.is_not(None), Event.id.desc()).limit(1)
    )


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
    per_slot: dict[str, int]  # slot code -> invitees (declined excluded)
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
    with uow:
        s = uow.session
        event = current_event(s)
        active = Invitation.status != InvitationStatus.DECLINED
        slot_counts: dict[int, tuple[int, int]] = {}
        for slot_id, invited, confirmed in s.execute(
            select(
                Invitation.slot_id,
                func.count(Invitation.id),
                func.count(Invitation.id).filter(Invitation.status == InvitationStatus.CONFIRMED),
            )
            .where(Invitation.event_id == event.id, active)
            .group_by(Invitation.slot_id)
        ):
            slot_counts[slot_id] = (invited, confirmed)
        slots = [
            SlotSummary(
                code=slot.code,
                label=slot.label,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                capacity=slot.capacity,
                invited=slot_counts.get(slot.id, (0, 0))[0],
                confirmed=slot_counts.get(slot.id, (0, 0))[1],
            )
            for slot in event.slots
        ]
        slot_code = {slot.id: slot.code for slot in event.slots}
        per_branch: dict[int, dict[str, int]] = defaultdict(dict)
        for branch_id, slot_id, n in s.execute(
            select(Customer.branch_id, Invitation.slot_id, func.count(Invitation.id))
            .join(Customer, Customer.id == Invitation.customer_id)
            .where(Invitation.event_id == event.id, active)
            .group_by(Customer.branch_id, Invitation.slot_id)
        ):
            per_branch[branch_id][slot_code[slot_id]] = n
        branches = [
            BranchSummary(b.code, b.name, per_branch[b.id], sum(per_branch[b.id].values()))
            for b in s.scalars(select(Branch).order_by(Branch.code))
            if b.id in per_branch
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

        def count(column: object, *where: object) -> int:
            return s.scalar(select(func.count(column)).where(*where)) or 0

        counts = {
            "invitees": count(Invitation.id, Invitation.event_id == event.id, active),
            "confirmed": count(
                Invitation.id,
                Invitation.event_id == event.id,
                Invitation.status == InvitationStatus.CONFIRMED,
            ),
            "customers": count(Customer.id),
            "branches": len(branches),
            "staff": count(Staff.id, Staff.active.is_(True)),
            "merchants": count(Merchant.id, Merchant.event_id == event.id),
            "offers": len(offers),
            "visits": count(Visit.id, Visit.event_id == event.id),
            "slips": count(Slip.id, Slip.event_id == event.id),
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
