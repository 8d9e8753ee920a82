"""What the event reports contain, as plain figures; ``printing.event_reports`` lays them out.

Every count comes from ``kiosk.services.figures``, the same queries the dashboard shows, so
the summary on paper and the big screen agree. Customer names are masked here already: a
report leaves the venue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select

from kiosk.clock import Clock
from kiosk.masking import mask_name
from kiosk.models import (
    Branch,
    Customer,
    Invitation,
    Merchant,
    Offer,
    Redemption,
    Slip,
    SlipStatus,
    Staff,
    Visit,
)
from kiosk.services.events import current_event
from kiosk.services.figures import (
    Attendance,
    EventFigures,
    OfferFigures,
    event_attendance,
    event_figures,
    offer_figures,
    rm_attendance,
)
from kiosk.services.tracking import Progress, progress
from kiosk.uow import UnitOfWork


@dataclass(frozen=True)
class EventHeading:
    """What every report names at its top."""

    code: str
    name: str
    event_date: date
    venue: str
    timezone: str
    at: datetime  # when the figures were read
    closed_at: datetime | None = None  # when the event was closed (slips released), if it was


def heading(uow: UnitOfWork, clock: Clock | None = None) -> EventHeading:
    """The event's name, date and venue, when the figures are read and whether it is closed:
    a report read before and after the close must not look the same."""
    now = (clock or Clock()).now()
    with uow:
        event = current_event(uow.session)
        return EventHeading(
            event.code,
            event.name,
            event.event_date,
            event.venue,
            event.timezone,
            now,
            event.closed_at,
        )


_heading = heading


def event_summary(uow: UnitOfWork, *, clock: Clock | None = None) -> EventFigures:
    """The funnel, attendance by slot and branch, points, coverage and timelines."""
    return event_figures(uow, clock=clock)


@dataclass(frozen=True)
class InvitationProgress:
    heading: EventHeading
    progress: Progress


def invitation_progress(uow: UnitOfWork, *, clock: Clock | None = None) -> InvitationProgress:
    return InvitationProgress(_heading(uow, clock), progress(uow))


@dataclass(frozen=True)
class RmPerformance:
    heading: EventHeading
    rms: list[Attendance]
    total: Attendance


def rm_performance(uow: UnitOfWork, *, clock: Clock | None = None) -> RmPerformance:
    """Per RM: their customers invited, arrived, governed, mobile banking, points redeemed."""
    heading = _heading(uow, clock)
    with uow:
        s = uow.session
        event = current_event(s)
        return RmPerformance(heading, rm_attendance(s, event), event_attendance(s, event))


@dataclass(frozen=True)
class RedemptionRow:
    """One redemption a booth reported (conflicts included, with their kind)."""

    redeemed_at: datetime
    merchant_code: str
    merchant_name: str
    booth_id: str
    booth_seq: int
    serial: int
    offer_code: str
    offer_name: str
    quantity: int
    points: int
    staff_name: str
    conflict: str | None
    booth_label: str = ""  # the merchant's booth as the venue map names it (A1)


@dataclass(frozen=True)
class MerchantRedemptions:
    heading: EventHeading
    offers: list[OfferFigures]
    redemptions: list[RedemptionRow]


def merchant_redemptions(uow: UnitOfWork, *, clock: Clock | None = None) -> MerchantRedemptions:
    """Per offer: capacity, taken, redeemed; and every redemption the booths reported."""
    heading = _heading(uow, clock)
    with uow:
        s = uow.session
        event = current_event(s)
        rows = [
            RedemptionRow(
                r.redeemed_at,
                m.code,
                m.name,
                r.booth_id,
                r.booth_seq,
                r.slip_serial,
                o_code or "",
                o_name or "",
                quantity or 0,
                points or 0,
                r.staff_name,
                r.conflict,
                m.booth,
            )
            for r, m, o_code, o_name, quantity, points in s.execute(
                select(Redemption, Merchant, Offer.code, Offer.name, Slip.quantity, Slip.points)
                .join(Merchant, Merchant.id == Redemption.merchant_id)
                .outerjoin(
                    Slip,
                    and_(
                        Slip.event_id == Redemption.event_id, Slip.serial == Redemption.slip_serial
                    ),
                )
                .outerjoin(Offer, Offer.id == Slip.offer_id)
                .where(Redemption.event_id == event.id)
                .order_by(Merchant.code, Redemption.redeemed_at, Redemption.id)
            )
        ]
        return MerchantRedemptions(heading, offer_figures(s, event), rows)


@dataclass(frozen=True)
class UnredeemedSlip:
    serial: int
    status: str  # issued (still open) or released (given back at close)
    customer_no: str
    masked_name: str
    branch: str
    rm: str
    merchant: str
    offer: str
    quantity: int
    points: int
    issued_at: datetime
    redeem_by: date


@dataclass(frozen=True)
class Unredeemed:
    heading: EventHeading
    slips: list[UnredeemedSlip]

    @property
    def points(self) -> int:
        return sum(slip.points for slip in self.slips)


def unredeemed_slips(uow: UnitOfWork, *, clock: Clock | None = None) -> Unredeemed:
    """Slips issued and not redeemed (still open, or released at close), for the RMs to
    follow up; names masked."""
    heading = _heading(uow, clock)
    with uow:
        s = uow.session
        event = current_event(s)
        rows = s.execute(
            select(Slip, Customer, Branch.code, Staff.name, Merchant.name, Offer.name)
            .join(Customer, Customer.id == Slip.customer_id)
            .join(Branch, Branch.id == Customer.branch_id)
            .join(Merchant, Merchant.id == Slip.merchant_id)
            .join(Offer, Offer.id == Slip.offer_id)
            .outerjoin(Visit, Visit.id == Slip.visit_id)
            .outerjoin(Invitation, Invitation.id == Visit.invitation_id)
            .outerjoin(Staff, Staff.id == func.coalesce(Invitation.rm_id, Customer.rm_id))
            .where(
                Slip.event_id == event.id,
                Slip.status.in_((SlipStatus.ISSUED, SlipStatus.RELEASED)),
            )
            .order_by(Branch.code, Staff.name, Slip.serial)
        ).all()
        return Unredeemed(
            heading,
            [
                UnredeemedSlip(
                    slip.serial,
                    slip.status,
                    customer.customer_no,
                    mask_name(customer.name),
                    branch,
                    rm or "",
                    merchant,
                    offer,
                    slip.quantity,
                    slip.points,
                    slip.issued_at,
                    slip.redeem_by,
                )
                for slip, customer, branch, rm, merchant, offer in rows
            ],
        )
