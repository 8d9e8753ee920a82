"""What the event reports contain, as plain figures; ``printing.event_reports`` lays them out.

Every count comes from ``kiosk.services.figures``, the same queries the dashboard shows, so
the summary on paper and the big screen agree. Customer names are masked here already: a
report leaves the venue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from kiosk.clock import Clock
from kiosk.masking import mask_name
from kiosk.models import (
    Branch,
    Customer,
    Event,
    Invitation,
    Merchant,
    Offer,
    Redemption,
    Role,
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
class RmRank:
    """One RM in the ranking (issue #20): credited with the invitations they made, also of
    another RM's customers (``Invitation.invited_by``), else with their own customers'."""

    staff_no: str
    name: str
    branch: str
    invited: int
    confirmed: int
    arrived: int
    redeemed: int
    for_others: int  # of the invited, customers of another RM (or of none) this RM invited
    by_others: int  # this RM's own customers another RM invited (credited to them)
    ranks: tuple[int, int, int, int]  # the rank by invited, confirmed, arrived, redeemed


@dataclass(frozen=True)
class CreditedInvitation:
    """An invitation credited to an RM who is not the customer's own."""

    customer_no: str
    masked_name: str
    branch: str
    inviting_no: str
    inviting_name: str
    owning_no: str  # "" when the customer has no RM
    owning_name: str
    status: str
    arrived: bool
    redeemed: bool


@dataclass(frozen=True)
class RmPerformance:
    heading: EventHeading
    rms: list[Attendance]
    total: Attendance
    ranking: list[RmRank] = field(default_factory=list)
    credited: list[CreditedInvitation] = field(default_factory=list)


def _ranks(values: list[int]) -> list[int]:
    """Competition ranks, highest first: 10, 7, 7, 3 rank 1, 2, 2, 4."""
    return [1 + sum(1 for other in values if other > value) for value in values]


def rm_ranking(s: Session, event: Event, rows: list[Attendance]) -> list[RmRank]:
    """The RMs ranked by invited, confirmed, arrived and redeemed (in that order of
    precedence), each credited as ``rm_attendance`` credits them."""
    ids = {no: id_ for no, id_ in s.execute(select(Staff.staff_no, Staff.id))}
    lent: dict[int, int] = {}
    borrowed: dict[int, int] = {}
    others = and_(
        Invitation.event_id == event.id,
        Invitation.invited_by.is_not(None),
        or_(Invitation.rm_id.is_(None), Invitation.invited_by != Invitation.rm_id),
    )
    for rm_id, n in s.execute(
        select(Invitation.invited_by, func.count()).where(others).group_by(Invitation.invited_by)
    ):
        lent[rm_id] = int(n)
    for rm_id, n in s.execute(
        select(Invitation.rm_id, func.count())
        .where(others, Invitation.rm_id.is_not(None))
        .group_by(Invitation.rm_id)
    ):
        borrowed[rm_id] = int(n)
    rms = [r for r in rows if r.code]
    listed = {r.code for r in rms}
    for member, branch in s.execute(  # an RM credited with nothing ranks last, not nowhere
        select(Staff, Branch.code)
        .outerjoin(Branch, Branch.id == Staff.branch_id)
        .where(Staff.active.is_(True))
        .order_by(Staff.staff_no)
    ):
        if Role.RM in member.roles.split() and member.staff_no not in listed:
            rms.append(Attendance(member.staff_no, member.name, branch or ""))
    columns = [
        _ranks([r.invited for r in rms]),
        _ranks([r.confirmed for r in rms]),
        _ranks([r.arrived for r in rms]),
        _ranks([r.redeemed for r in rms]),
    ]
    ranking = [
        RmRank(
            r.code,
            r.name,
            r.branch,
            r.invited,
            r.confirmed,
            r.arrived,
            r.redeemed,
            lent.get(ids.get(r.code, -1), 0),
            borrowed.get(ids.get(r.code, -1), 0),
            (columns[0][n], columns[1][n], columns[2][n], columns[3][n]),
        )
        for n, r in enumerate(rms)
    ]
    ranking.sort(key=lambda r: (-r.invited, -r.confirmed, -r.arrived, -r.redeemed, r.staff_no))
    return ranking


def credited_invitations(s: Session, event: Event) -> list[CreditedInvitation]:
    """Every invitation credited to an RM who is not the customer's own, by inviting RM."""
    inviting, owning = aliased(Staff), aliased(Staff)
    arrived = select(Visit.id).where(Visit.invitation_id == Invitation.id).exists()
    redeemed = (
        select(Slip.id)
        .where(
            Slip.event_id == event.id,
            Slip.customer_id == Invitation.customer_id,
            Slip.status == SlipStatus.REDEEMED,
        )
        .exists()
    )
    rows = s.execute(
        select(
            Customer.customer_no,
            Customer.name,
            Branch.code,
            inviting.staff_no,
            inviting.name,
            owning.staff_no,
            owning.name,
            Invitation.status,
            arrived,
            redeemed,
        )
        .select_from(Invitation)
        .join(Customer, Customer.id == Invitation.customer_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .join(inviting, inviting.id == Invitation.invited_by)
        .outerjoin(owning, owning.id == Invitation.rm_id)
        .where(
            Invitation.event_id == event.id,
            or_(Invitation.rm_id.is_(None), Invitation.invited_by != Invitation.rm_id),
        )
        .order_by(inviting.staff_no, Customer.customer_no)
    )
    return [
        CreditedInvitation(
            row[0],
            mask_name(row[1]),
            row[2],
            row[3],
            row[4],
            row[5] or "",
            row[6] or "",
            row[7],
            bool(row[8]),
            bool(row[9]),
        )
        for row in rows
    ]


def rm_performance(uow: UnitOfWork, *, clock: Clock | None = None) -> RmPerformance:
    """Per RM: the customers credited to them (those they invited, also another RM's, else
    their own) invited, arrived, governed, mobile banking, points redeemed; the ranking; and
    every invitation credited to an RM who is not the customer's own."""
    heading = _heading(uow, clock)
    with uow:
        s = uow.session
        event = current_event(s)
        rows = rm_attendance(s, event)
        return RmPerformance(
            heading,
            rows,
            event_attendance(s, event),
            rm_ranking(s, event, rows),
            credited_invitations(s, event),
        )


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
