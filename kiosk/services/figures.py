"""Event figures: the one set of definitions and queries behind every number on screen and
on paper.

The dashboard refreshes every few seconds and the reports are read by the branch group; the
overview, reception's slot panel and the service desk's own counts read the same functions, so
a figure cannot differ between the big screen, a desk and the paper. Every figure is
aggregated in SQL (a handful of GROUP BY queries, no loop over rows in Python), so a refresh
stays cheap on an event with tens of thousands of visits. The README's section "Figures: what
each number counts" says the same for the coordinator.

What counts:

- *invited*: every invitation of the event, declined ones included (they were invited);
  *confirmed*: status confirmed; *expected* in a slot: its confirmed invitations.
- *arrived*: a visit (check-in); walk-ins and invitees who never confirmed count as arrivals;
  walk-ins belong to no slot. *Confirmed and came*: confirmed invitations whose customer
  checked in.
- Two funnels, each a true funnel (every stage a subset of the one before, so it never
  rises): the invitations (invited -> confirmed -> confirmed and came) and the day (arrived
  -> customers with slips -> redeemed). They are two because the day's customers are not a
  subset of the confirmed: walk-ins and unconfirmed invitees come too.
- Steps done at the desks, each counted of the arrived and *not* a funnel stage, since they
  are not nested (a customer whose data was complete is never governed; most customers had
  mobile banking before, so more log in at the activation desk than open it at the service
  desk): *governed*, *mobile banking opened*, *mobile-banking login* (at the activation
  desk), *scan-pay*, and *let through by a supervisor* (the redemption gate overridden):
  visits with that step (``VisitStep``), each visit once.
- *customers with slips*: customers holding at least one slip that is not voided;
  *redeemed*: customers with at least one slip redeemed at a booth. Points issued are the
  points of slips not voided; points redeemed those of slips redeemed.
- Branch: the customer's branch. RM: the inviting RM of the invitation, else the customer's RM.
- The *invitees' points stock* is the sum of the invitees' ledger balances (the snapshot),
  and the invitees' redemption ratio is points redeemed against it. It is not the bank's
  ratio: the bank (its 8% figure) divides by the whole points stock, so the figures also give
  *the ratio against every customer's points* (``PointsFigures``): the points every customer
  in the event database could spend on the event day (the snapshot's lots not expired by
  then, plus what a pull already settled of this event's own reserves, so a pull during the
  event does not shrink it), and, when the ledger supplies it or the coordinator types it,
  against the bank's total stock (``Event.bank_points_stock``).
- *Points expiring before the next event*: the invitees' lots that expire from the event day
  up to the day before the next event (``Event.next_event_on``, else a year after this one),
  less what the event's reserves took from those very lots (``JournalLot``), plus what
  releases gave back.
- *Dormant customers reactivated*: mobile-banking logins at the activation desk by a customer
  the snapshot flagged dormant (the step's note says so, because the login clears the flag);
  of the dormant who came: those still flagged among the arrived, plus those reactivated.
- *Points redeemed per tier*: slips redeemed by the customer's event tier at issue
  (``Slip.tier``); slips without a tier are "no tier".
- Timelines use nearest-rank percentiles: the median is the value at rank ceil(n/2) of the
  sorted durations, the 90th percentile at rank ceil(0.9 n).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    func,
    join,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from kiosk.clock import Clock
from kiosk.i18n import _
from kiosk.models import (
    Branch,
    Customer,
    Event,
    EventTier,
    Invitation,
    InvitationStatus,
    JournalEntry,
    JournalKind,
    JournalLot,
    Merchant,
    MobileBanking,
    Offer,
    PointsLot,
    Queue,
    QueueEntry,
    QueueStatus,
    Redemption,
    Slip,
    SlipStatus,
    Staff,
    Visit,
    VisitStep,
)
from kiosk.services.activation import REACTIVATED_NOTE
from kiosk.services.arrival import against_window, window_end
from kiosk.services.customer_offers import months_after
from kiosk.services.events import current_event
from kiosk.services.gate import OVERRIDE_STEP
from kiosk.services.reception import ReceptionPolicy
from kiosk.uow import UnitOfWork

# -- the funnel ------------------------------------------------------------------------------


class Stage(enum.StrEnum):
    """The stages of the two funnels (``FUNNELS``), in order."""

    INVITED = "invited"
    CONFIRMED = "confirmed"
    CONFIRMED_ARRIVED = "confirmed_arrived"
    ARRIVED = "arrived"
    SLIPS_ISSUED = "slips_issued"
    REDEEMED = "redeemed"


class Funnel(enum.StrEnum):
    INVITATIONS = "invitations"  # every invitation of the event
    DAY = "day"  # everyone who checked in


# Each stage counts a subset of the customers of the stage before it.
FUNNELS: dict[Funnel, tuple[Stage, ...]] = {
    Funnel.INVITATIONS: (Stage.INVITED, Stage.CONFIRMED, Stage.CONFIRMED_ARRIVED),
    Funnel.DAY: (Stage.ARRIVED, Stage.SLIPS_ISSUED, Stage.REDEEMED),
}


class Step(enum.StrEnum):
    """Steps done at the desks, counted of the arrived; not nested, so not a funnel."""

    GOVERNED = "governed"
    MOBILE_BANKING_OPENED = "mobile_banking_opened"
    MOBILE_BANKING_ACTIVATED = "mobile_banking_activated"
    SCAN_PAY = "scan_pay"
    GATE_OVERRIDDEN = "gate_overridden"


def funnel_label(funnel: Funnel | str) -> str:
    return {
        Funnel.INVITATIONS: _("Invitations"),
        Funnel.DAY: _("On the day"),
    }[Funnel(funnel)]


def stage_label(stage: Stage | str) -> str:
    return {
        Stage.INVITED: _("Invited"),
        Stage.CONFIRMED: _("Confirmed"),
        Stage.CONFIRMED_ARRIVED: _("Confirmed and came"),
        Stage.ARRIVED: _("Arrived"),
        Stage.SLIPS_ISSUED: _("Customers with slips"),
        Stage.REDEEMED: _("Redeemed"),
    }[Stage(stage)]


def step_count_label(step: Step | str) -> str:
    return {
        Step.GOVERNED: _("Data governed"),
        Step.MOBILE_BANKING_OPENED: _("Mobile banking opened"),
        Step.MOBILE_BANKING_ACTIVATED: _("Mobile banking activated"),
        Step.SCAN_PAY: _("Charity scan-pay"),
        Step.GATE_OVERRIDDEN: _("Let through by a supervisor"),
    }[Step(step)]


@dataclass(frozen=True)
class Attendance:
    """The funnel for one group of customers (the event, a branch, an RM)."""

    code: str
    name: str
    branch: str  # the branch code (an RM's own branch for an RM row)
    invited: int = 0  # invitations, declined included
    confirmed: int = 0
    confirmed_arrived: int = 0  # confirmed invitations whose customer checked in
    arrived: int = 0  # visits: walk-ins and unconfirmed invitees included
    walk_ins: int = 0
    governed: int = 0
    mobile_banking_opened: int = 0
    mobile_banking_activated: int = 0
    scan_pay: int = 0
    gate_overridden: int = 0  # visits let past the redemption gate by a supervisor
    dormant_arrived: int = 0  # arrived customers the snapshot flagged dormant
    dormant_reactivated: int = 0  # of them, logged in to mobile banking at the event
    slips_issued: int = 0  # customers holding a slip that is not voided
    redeemed: int = 0  # customers with a slip redeemed
    slips: int = 0  # slips not voided
    slips_redeemed: int = 0
    points_issued: int = 0  # points of slips not voided
    points_redeemed: int = 0
    points_stock: int = 0  # the invitees' ledger balances (not the bank's stock)

    def stage(self, stage: Stage | str) -> int:
        return int(getattr(self, Stage(stage).value))

    def stages(self) -> list[tuple[Stage, int]]:
        """Every stage of both funnels, in order."""
        return [(stage, self.stage(stage)) for stage in Stage]

    def funnel(self, funnel: Funnel | str) -> list[tuple[Stage, int]]:
        return [(stage, self.stage(stage)) for stage in FUNNELS[Funnel(funnel)]]

    def steps(self) -> list[tuple[Step, int]]:
        """The steps done at the desks, each of the arrived."""
        return [(step, int(getattr(self, step.value))) for step in Step]

    @property
    def redemption_ratio(self) -> float | None:
        """Points redeemed as a share of the invitees' points stock: how much of what the
        invited held they spent. Not comparable with the bank's ratio, which divides by every
        customer's points (``PointsFigures.customers_ratio``)."""
        return self.points_redeemed / self.points_stock if self.points_stock else None

    @property
    def issued_ratio(self) -> float | None:
        """Points on slips (not voided) as a share of the points stock."""
        return self.points_issued / self.points_stock if self.points_stock else None


_COUNTS = [
    "invited",
    "confirmed",
    "points_stock",
    "confirmed_arrived",
    "arrived",
    "walk_ins",
    "governed",
    "mobile_banking_opened",
    "mobile_banking_activated",
    "scan_pay",
    "gate_overridden",
    "dormant_arrived",
    "dormant_reactivated",
    "slips_issued",
    "redeemed",
    "slips",
    "slips_redeemed",
    "points_issued",
    "points_redeemed",
]

# A dimension: the grouping column, built from the customer and invitation tables in a query.
Dimension = Callable[[Any, Any], ColumnElement[Any]]


def _reached(step: str) -> Any:
    """1 for each visit with this step, summed: an EXISTS per visit on the (visit, step)
    index, cheaper than grouping every step of the day."""
    found = (
        select(VisitStep.id).where(VisitStep.visit_id == Visit.id, VisitStep.step == step).exists()
    )
    return func.coalesce(func.sum(case((found, 1), else_=0)), 0)


def _grouped(
    s: Session, event_id: int, dimension: Dimension, *, by_invitation: bool = False
) -> dict[Any, dict[str, int]]:
    """Every funnel count per value of the dimension: three GROUP BY queries. The visits'
    and slips' invitations are joined only when the dimension reads them (the RM)."""
    queries = grouped_queries(event_id, dimension, by_invitation=by_invitation)
    return grouped_counts([s.execute(query) for query in queries])


def of_event(column: Any, event_id: int, by_customer: bool) -> ColumnElement[bool]:
    """``column == event_id``; when a few customers are read (``by_customer``), written so
    that no index leads with the event: SQLite would otherwise walk every ticket or slip of
    the event to find the customers' few, rather than take the customers' own index."""
    return (column + 0 == event_id) if by_customer else (column == event_id)


def grouped_queries(
    event_id: int, dimension: Dimension, *, by_invitation: bool = False, among: Any = None
) -> tuple[Any, Any, Any]:
    """The three queries of ``_grouped``: invitations, visits, slips per dimension value,
    each restricted by ``among`` (a condition on ``Customer``) when given; built once, a
    caller may run them again with new parameters (the dashboard's per-customer figures)."""
    by_customer = among is not None
    if among is None:
        among = true()
    key = dimension(Customer, Invitation).label("key")
    invitations = (
        select(
            key,
            func.count(Invitation.id),
            func.count(Invitation.id).filter(Invitation.status == InvitationStatus.CONFIRMED),
            func.coalesce(func.sum(Customer.points_balance), 0),
        )
        .join(Customer, Customer.id == Invitation.customer_id)
        .where(Invitation.event_id == event_id, among)
        .group_by(key)
    )

    # Whether the visit's invitation was confirmed, without joining it for every dimension
    # (an alias: the RM dimension joins the invitation already).
    own = aliased(Invitation)
    confirmed_visit = (
        select(own.id)
        .where(own.id == Visit.invitation_id, own.status == InvitationStatus.CONFIRMED)
        .exists()
    )
    reactivated = (
        select(VisitStep.id)
        .where(
            VisitStep.visit_id == Visit.id,
            VisitStep.step == "mobile_banking_login",
            VisitStep.note == REACTIVATED_NOTE,
        )
        .exists()
    )
    visits = (
        select(
            key,
            func.count(Visit.id),
            func.coalesce(func.sum(case((confirmed_visit, 1), else_=0)), 0),
            func.count(Visit.id).filter(Visit.invitation_id.is_(None)),
            _reached("governance"),
            _reached("mobile_banking_opened"),
            _reached("mobile_banking_login"),
            _reached("charity_paid"),
            _reached(OVERRIDE_STEP),
            # Still flagged, or the login here cleared the flag (once, even if a later pull
            # flags the customer again).
            func.coalesce(
                func.sum(case((or_(Customer.dormant.is_(True), reactivated), 1), else_=0)), 0
            ),
            func.coalesce(func.sum(case((reactivated, 1), else_=0)), 0),
        )
        .select_from(_joined(Visit, Visit.invitation_id, by_invitation))
        .where(Visit.event_id == event_id, among)
        .group_by(key)
    )

    live = Slip.status != SlipStatus.VOIDED
    redeemed = Slip.status == SlipStatus.REDEEMED
    slips = (
        select(
            key,
            func.count(func.distinct(Slip.customer_id)).filter(live),
            func.count(func.distinct(Slip.customer_id)).filter(redeemed),
            func.count(Slip.id).filter(live),
            func.count(Slip.id).filter(redeemed),
            func.coalesce(func.sum(Slip.points).filter(live), 0),
            func.coalesce(func.sum(Slip.points).filter(redeemed), 0),
        )
        .select_from(_joined(Slip, None, by_invitation))
        .where(of_event(Slip.event_id, event_id, by_customer), among)
        .group_by(key)
    )
    return invitations, visits, slips


def grouped_counts(results: list[Any]) -> dict[Any, dict[str, int]]:
    """The rows of ``grouped_queries`` as every funnel count per dimension value."""
    result: dict[Any, dict[str, int]] = {}

    def add(key: Any, **values: Any) -> None:
        row = result.setdefault(key, dict.fromkeys(_COUNTS, 0))
        for name, value in values.items():
            row[name] += int(value or 0)

    invitations, visits, slips = results
    for k, invited, confirmed, stock in invitations:
        add(k, invited=invited, confirmed=confirmed, points_stock=stock)
    for (
        k,
        arrived,
        came,
        walk_ins,
        governed,
        opened,
        activated,
        scan_pay,
        let_through,
        dormant,
        woken,
    ) in visits:
        add(
            k,
            arrived=arrived,
            confirmed_arrived=came,
            walk_ins=walk_ins,
            governed=governed,
            mobile_banking_opened=opened,
            mobile_banking_activated=activated,
            scan_pay=scan_pay,
            gate_overridden=let_through,
            dormant_arrived=dormant,
            dormant_reactivated=woken,
        )
    for k, holders, redeemers, n_slips, slips_redeemed, points, points_redeemed in slips:
        add(
            k,
            slips_issued=holders,
            redeemed=redeemers,
            slips=n_slips,
            slips_redeemed=slips_redeemed,
            points_issued=points,
            points_redeemed=points_redeemed,
        )
    return result


def _joined(table: Any, invitation_id: Any, by_invitation: bool) -> Any:
    """The visit or slip table joined to its customer, and to its invitation when asked."""
    joined = join(table, Customer, Customer.id == table.customer_id)
    if not by_invitation:
        return joined
    if invitation_id is None:  # a slip: through its visit
        joined = joined.outerjoin(Visit, Visit.id == Slip.visit_id)
        invitation_id = Visit.invitation_id
    return joined.outerjoin(Invitation, Invitation.id == invitation_id)


def _sum(rows: list[Attendance]) -> Attendance:
    """The event's total: every customer belongs to exactly one branch (and one RM row), so
    the rows add up to it, also for the counts of distinct customers."""
    return Attendance(
        "", _("Total"), "", **{name: sum(getattr(r, name) for r in rows) for name in _COUNTS}
    )


def customer_dimension(customer: Any, invitation: Any) -> ColumnElement[Any]:
    """Per customer: what the dashboard keeps, and adds up per branch as ``_branch`` does."""
    return customer.id  # type: ignore[no-any-return]


def _branch(customer: Any, invitation: Any) -> ColumnElement[Any]:
    return customer.branch_id  # type: ignore[no-any-return]


def _rm(customer: Any, invitation: Any) -> ColumnElement[Any]:
    """The RM credited (issue #20): the inviting RM when another RM made the invitation
    (``invited_by``), else the invitation's RM, else the customer's (a walk-in)."""
    return func.coalesce(invitation.invited_by, invitation.rm_id, customer.rm_id)


def event_attendance(s: Session, event: Event) -> Attendance:
    return _sum(branch_attendance(s, event))


def branch_attendance(s: Session, event: Event) -> list[Attendance]:
    """Per branch, in branch order; branches with neither invitees nor visits are left out."""
    per = _grouped(s, event.id, _branch)
    return [
        Attendance(b.code, b.name, b.code, **per[b.id])
        for b in s.scalars(select(Branch).order_by(Branch.code))
        if b.id in per
    ]


def rm_attendance(s: Session, event: Event) -> list[Attendance]:
    """Per RM (the inviting RM, else the customer's RM), by branch and staff number; the
    customers without any RM (walk-ins) come last with an empty code."""
    per = _grouped(s, event.id, _rm, by_invitation=True)
    staff = {
        m.id: (m.staff_no, m.name, code or "")
        for m, code in s.execute(
            select(Staff, Branch.code).outerjoin(Branch, Branch.id == Staff.branch_id)
        )
    }
    rows = [
        Attendance(*staff.get(rm_id, ("", "", "")), **counts)
        for rm_id, counts in per.items()
        if rm_id is not None
    ]
    rows.sort(key=lambda r: (r.branch, r.code))
    if None in per:
        rows.append(Attendance("", _("(no RM)"), "", **per[None]))
    return rows


# -- staff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffSteps:
    """What one member of staff did at the service desk: visits governed and mobile-banking
    accounts opened at this event, each visit once (as the event's own counts)."""

    staff_no: str
    name: str
    governed: int
    mobile_banking_opened: int


def staff_steps(s: Session, event: Event) -> list[StaffSteps]:
    """Per member of staff, by staff number. A visit two RMs both governed counts once for
    each of them, so the rows may add up to more than the event's count."""
    return [
        StaffSteps(no, name, int(governed), int(opened))
        for no, name, governed, opened in s.execute(
            select(
                Staff.staff_no,
                Staff.name,
                func.count(func.distinct(VisitStep.visit_id)).filter(
                    VisitStep.step == "governance"
                ),
                func.count(func.distinct(VisitStep.visit_id)).filter(
                    VisitStep.step == "mobile_banking_opened"
                ),
            )
            .join(VisitStep, VisitStep.staff_id == Staff.id)
            .join(Visit, Visit.id == VisitStep.visit_id)
            .where(
                Visit.event_id == event.id,
                VisitStep.step.in_(("governance", "mobile_banking_opened")),
            )
            .group_by(Staff.staff_no, Staff.name)
            .order_by(Staff.staff_no)
        )
    ]


# -- invitations per branch and slot ----------------------------------------------------------


@dataclass(frozen=True)
class BranchSlots:
    code: str
    name: str
    per_slot: dict[str, int]  # slot code -> invitations (declined included, as *invited*)
    total: int


def branch_slots(s: Session, event: Event) -> list[BranchSlots]:
    """Invitations per branch and slot, in branch order; every row adds up to the branch's
    *invited* and the rows to the event's."""
    codes = {slot.id: slot.code for slot in event.slots}
    per_branch: dict[int, dict[str, int]] = {}
    for branch_id, slot_id, n in s.execute(
        select(Customer.branch_id, Invitation.slot_id, func.count(Invitation.id))
        .join(Customer, Customer.id == Invitation.customer_id)
        .where(Invitation.event_id == event.id)
        .group_by(Customer.branch_id, Invitation.slot_id)
    ):
        per_branch.setdefault(branch_id, {})[codes[slot_id]] = int(n)
    return [
        BranchSlots(b.code, b.name, per_branch[b.id], sum(per_branch[b.id].values()))
        for b in s.scalars(select(Branch).order_by(Branch.code))
        if b.id in per_branch
    ]


# -- slots ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotFigures:
    code: str
    label: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    invited: int  # invitations, declined included
    expected: int  # confirmed invitations
    arrived: int
    early: int  # came before their window, else before the slot (beyond the grace)
    on_time: int  # in their window, else in the slot
    late: int  # came after their window ended, else after the slot
    companions: int  # companions of the customers who arrived
    is_current: bool

    @property
    def percent_of_capacity(self) -> int | None:
        return round(100 * self.arrived / self.capacity) if self.capacity else None

    @property
    def percent_of_expected(self) -> int | None:
        return round(100 * self.arrived / self.expected) if self.expected else None


def slot_invitations(s: Session, event: Event) -> dict[int, tuple[int, int]]:
    """Per slot id: (invited, expected), i.e. every invitation and the confirmed ones. They
    change with imports, not with check-ins: reception reads them less often."""
    return {
        slot_id: (int(n), int(confirmed))
        for slot_id, n, confirmed in s.execute(
            select(
                Invitation.slot_id,
                func.count(Invitation.id),
                func.count(Invitation.id).filter(Invitation.status == InvitationStatus.CONFIRMED),
            )
            .where(Invitation.event_id == event.id)
            .group_by(Invitation.slot_id)
        )
    }


def slot_arrived(s: Session, event: Event) -> dict[int, int]:
    """Per slot id: the visits of its invitations (walk-ins belong to no slot)."""
    return {
        slot_id: int(n)
        for slot_id, n in s.execute(
            select(Invitation.slot_id, func.count(Visit.id))
            .join(Invitation, Invitation.id == Visit.invitation_id)
            .where(Visit.event_id == event.id)
            .group_by(Invitation.slot_id)
        )
    }


def is_current_slot(slot: Any, now: datetime) -> bool:
    """The slot being served now: from its start less reception's grace to its end."""
    return bool(slot.starts_at - ReceptionPolicy().early_grace <= now <= slot.ends_at)


def arrival_side(
    slot: Any, window_minutes: int, checked_in_at: datetime, window_starts_at: datetime | None
) -> int:
    """-1 early, 0 on time, 1 late: one check-in judged as ``slot_figures`` counts it (the
    dashboard's per-customer figures judge each check-in with this)."""
    if window_starts_at is None:
        if checked_in_at < slot.starts_at - ReceptionPolicy().early_grace:
            return -1
        return 1 if checked_in_at > slot.ends_at else 0
    ends_at = window_end(slot.ends_at, window_starts_at, window_minutes)
    return against_window(checked_in_at, window_starts_at, ends_at)[0]


def slot_figures(s: Session, event: Event, now: datetime) -> list[SlotFigures]:
    """Arrivals per slot against the confirmed invitations, early / on time / late as
    reception judges them: against the customer's arrival window when one is planned
    (``arrival.against_window``: in the window counts as on time), else against the slot
    (``ReceptionPolicy.early_grace``)."""
    grace = ReceptionPolicy().early_grace
    invited = slot_invitations(s, event)
    result = []
    for slot in event.slots:
        no_window = Invitation.window_starts_at.is_(None)
        arrived, early, late, companions = s.execute(
            select(
                func.count(Visit.id),
                func.count(Visit.id).filter(
                    no_window, Visit.checked_in_at < slot.starts_at - grace
                ),
                func.count(Visit.id).filter(no_window, Visit.checked_in_at > slot.ends_at),
                func.coalesce(func.sum(Visit.companions), 0),
            )
            .join(Invitation, Invitation.id == Visit.invitation_id)
            .where(Visit.event_id == event.id, Invitation.slot_id == slot.id)
        ).one()
        # Customers with a window: judged one by one, as reception did (a window's end is
        # its start plus the window's length, cut at the slot's end).
        for checked_in_at, starts_at in s.execute(
            select(Visit.checked_in_at, Invitation.window_starts_at)
            .join(Invitation, Invitation.id == Visit.invitation_id)
            .where(
                Visit.event_id == event.id,
                Invitation.slot_id == slot.id,
                Invitation.window_starts_at.is_not(None),
            )
        ):
            ends_at = window_end(slot.ends_at, starts_at, event.window_minutes)
            side, _minutes = against_window(checked_in_at, starts_at, ends_at)
            early += side < 0
            late += side > 0
        n, confirmed = invited.get(slot.id, (0, 0))
        result.append(
            SlotFigures(
                code=slot.code,
                label=slot.label,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                capacity=slot.capacity,
                invited=n,
                expected=confirmed,
                arrived=arrived,
                early=early,
                on_time=arrived - early - late,
                late=late,
                companions=int(companions),
                is_current=is_current_slot(slot, now),
            )
        )
    return result


@dataclass(frozen=True)
class ArrivalBucket:
    """Check-ins in one stretch of the day (e.g. 30 minutes)."""

    starts_at: datetime
    arrivals: int


def arrivals_over_time(
    s: Session, event: Event, *, step: timedelta = timedelta(minutes=30)
) -> list[ArrivalBucket]:
    """Check-ins per stretch of the day from the first slot's start (less the grace) to the
    last slot's end: one query with one count per stretch. Earlier and later check-ins are
    counted in the first and last stretch."""
    if not event.slots:
        return []
    start = min(slot.starts_at for slot in event.slots) - ReceptionPolicy().early_grace
    end = max(slot.ends_at for slot in event.slots)
    edges = []
    at = start
    while at < end:
        edges.append(at)
        at += step
    columns = []
    for index, edge in enumerate(edges):
        conditions = []
        if index:
            conditions.append(Visit.checked_in_at >= edge)
        if index + 1 < len(edges):
            conditions.append(Visit.checked_in_at < edges[index + 1])
        count = func.count(Visit.id)
        columns.append(count.filter(and_(*conditions)) if conditions else count)
    counts = s.execute(select(*columns).where(Visit.event_id == event.id)).one()
    return [ArrivalBucket(edge, int(n)) for edge, n in zip(edges, counts, strict=True)]


# -- queues -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFigures:
    queue: Queue
    waiting: int
    in_service: int  # called and not finished yet
    served: int  # finished
    oldest_waiting_since: datetime | None
    wait_minutes: int  # how long the longest-waiting customer has waited so far


def oldest_waiting(s: Session, event: Event) -> dict[str, datetime | None]:
    """Per queue: since when its first customer waits; only the waiting tickets are read
    (the (event, queue, status) index), however long the day has been."""
    # One subquery per queue, each a seek on all three columns of the index: a GROUP BY over
    # the queues would walk every ticket of the event to reach the waiting ones.
    oldest = s.execute(
        select(
            *(
                select(func.min(QueueEntry.enqueued_at))
                .where(
                    QueueEntry.event_id == event.id,
                    QueueEntry.queue == queue,
                    QueueEntry.status == QueueStatus.WAITING,
                )
                .scalar_subquery()
                for queue in Queue
            )
        )
    ).one()
    return {queue.value: _as_datetime(at) for queue, at in zip(Queue, oldest, strict=True)}


def queue_wait(
    queue: Queue, counts: tuple[int, int, int], oldest: datetime | None, now: datetime
) -> QueueFigures:
    """One queue's figures from its (waiting, called, done) counts and oldest ticket."""
    wait = max(0, int((now - oldest).total_seconds() // 60)) if oldest else 0
    return QueueFigures(queue, *counts, oldest, wait)


def queue_figures(s: Session, event: Event, now: datetime) -> list[QueueFigures]:
    """Per queue: who waits, who is being served, and the current wait (oldest waiting
    ticket), from the partial index on (event, queue, status)."""
    rows = {
        queue: (waiting, called, done, oldest)
        for queue, waiting, called, done, oldest in s.execute(
            select(
                QueueEntry.queue,
                func.count(QueueEntry.id).filter(QueueEntry.status == QueueStatus.WAITING),
                func.count(QueueEntry.id).filter(QueueEntry.status == QueueStatus.CALLED),
                func.count(QueueEntry.id).filter(QueueEntry.status == QueueStatus.DONE),
                func.min(QueueEntry.enqueued_at).filter(QueueEntry.status == QueueStatus.WAITING),
            )
            .where(QueueEntry.event_id == event.id)
            .group_by(QueueEntry.queue)
        )
    }
    result = []
    for queue in Queue:
        waiting, called, done, oldest = rows.get(queue, (0, 0, 0, None))
        result.append(queue_wait(queue, (waiting, called, done), _as_datetime(oldest), now))
    return result


def _as_datetime(value: object) -> datetime | None:
    """An aggregate's datetime: SQLite hands MIN() back as text, without the zone."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- offers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferFigures:
    merchant_code: str
    merchant_name: str
    booth: str
    code: str
    name: str
    points_price: int
    capacity: int
    reserved: int  # quantity on slips that are not voided
    redeemed: int  # quantity on slips redeemed
    redeemed_points: int

    @property
    def remaining(self) -> int:
        return self.capacity - self.reserved

    @property
    def percent_taken(self) -> int:
        return round(100 * self.reserved / self.capacity) if self.capacity else 100


def offer_figures(s: Session, event: Event) -> list[OfferFigures]:
    """Every offer with what is taken and redeemed, by merchant and offer code."""
    redeemed = (
        select(
            Slip.offer_id.label("offer_id"),
            func.sum(Slip.quantity).label("quantity"),
            func.sum(Slip.points).label("points"),
        )
        .where(Slip.event_id == event.id, Slip.status == SlipStatus.REDEEMED)
        .group_by(Slip.offer_id)
        .subquery()
    )
    return [
        OfferFigures(m_code, m_name, booth, code, name, price, capacity, reserved, int(q), int(p))
        for m_code, m_name, booth, code, name, price, capacity, reserved, q, p in s.execute(
            select(
                Merchant.code,
                Merchant.name,
                Merchant.booth,
                Offer.code,
                Offer.name,
                Offer.points_price,
                Offer.capacity,
                Offer.reserved,
                func.coalesce(redeemed.c.quantity, 0),
                func.coalesce(redeemed.c.points, 0),
            )
            .join(Merchant, Merchant.id == Offer.merchant_id)
            .outerjoin(redeemed, redeemed.c.offer_id == Offer.id)
            .where(Offer.event_id == event.id)
            .order_by(Merchant.code, Offer.code)
        )
    ]


# -- points as the bank counts them -----------------------------------------------------------


def next_event_day(event_date: date, next_event_on: date | None = None) -> date:
    """The day of the next event: as the coordinator set it, else a year after this one
    (28 February after a 29 February)."""
    if next_event_on is not None:
        return next_event_on
    return months_after(event_date, 12)


NO_TIER = ""  # the code of slips issued without a tier


@dataclass(frozen=True)
class TierRedeemed:
    """Slips redeemed by the customers of one event tier (the tier at issue)."""

    code: str  # NO_TIER for slips without one
    name: str
    customers: int
    slips: int
    points: int


@dataclass(frozen=True)
class PointsStock:
    """Every customer's points and the invitees' points expiring before the next event: a
    pass over every customer and lot, so the dashboard reads them with its timelines (every
    sixth refresh); they move only with a pull, an import, or a slip's lots."""

    customers: int  # every customer in the event database (pulled or imported)
    customers_stock: int  # their points spendable on the event day (see the module)
    expiring_from: date  # the event day
    expiring_before: date  # the next event's day (not included)
    expiring_points: int  # the invitees' points left in lots expiring in that window
    expiring_customers: int  # invitees with points left in such a lot


@dataclass(frozen=True)
class PointsFigures:
    """The points as the bank counts them, beside the invitees' own ratio."""

    redeemed: int  # points of slips redeemed (as ``Attendance.points_redeemed``)
    invitee_stock: int  # the invitees' ledger balances (``Attendance.points_stock``)
    bank_stock: int | None  # the bank's whole stock, when known
    tiers: list[TierRedeemed]
    stock: PointsStock | None  # None: not read this time (``event_figures(with_stock=False)``)

    @property
    def invitee_ratio(self) -> float | None:
        """Redeemed of the invitees' points: the event's own measure, not the bank's."""
        return self.redeemed / self.invitee_stock if self.invitee_stock else None

    @property
    def customers_ratio(self) -> float | None:
        """Redeemed of every customer's points: the ratio as the bank counts it."""
        return ratio_of(self.redeemed, self.stock.customers_stock if self.stock else None)

    @property
    def bank_ratio(self) -> float | None:
        """Redeemed of the bank's whole stock, when the ledger or the coordinator gave it."""
        return ratio_of(self.redeemed, self.bank_stock)


def ratio_of(part: int, whole: int | None) -> float | None:
    return part / whole if whole else None


def _signed_lot_points() -> Any:
    """A journal lot's points as they move the lot: a reserve takes, a release gives back."""
    return case(
        (JournalEntry.kind == JournalKind.RELEASE, JournalLot.points), else_=-JournalLot.points
    )


def points_stock(s: Session, event: Event) -> PointsStock:
    """Two aggregate queries: every customer's points (scalar subqueries in one statement)
    and the invitees' lots expiring before the next event. No loop over customers."""
    day = event.event_date
    settled_net = (
        select(
            func.coalesce(
                func.sum(
                    case(
                        (JournalEntry.kind == JournalKind.RELEASE, -JournalEntry.points),
                        else_=JournalEntry.points,
                    )
                ),
                0,
            )
        )
        .where(JournalEntry.event_id == event.id, JournalEntry.settled_at.is_not(None))
        .scalar_subquery()
    )
    customers, balances, expired, settled = s.execute(
        select(
            select(func.count(Customer.id)).scalar_subquery(),
            select(func.coalesce(func.sum(Customer.points_balance), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(PointsLot.points), 0))
            .where(PointsLot.expires_on < day)
            .scalar_subquery(),
            settled_net,
        )
    ).one()

    # The invitees' lots in the window, each with what the event's open (unsettled) journal
    # moved on it; a settled entry is in the lot's points already.
    before = next_event_day(day, event.next_event_on)
    moved = (
        select(JournalLot.lot_id.label("lot_id"), func.sum(_signed_lot_points()).label("n"))
        .join(JournalEntry, JournalEntry.id == JournalLot.journal_entry_id)
        .where(JournalEntry.settled_at.is_(None))
        .group_by(JournalLot.lot_id)
        .subquery()
    )
    left = PointsLot.points + func.coalesce(moved.c.n, 0)
    expiring, holders = s.execute(
        select(
            func.coalesce(func.sum(left), 0),
            func.count(func.distinct(PointsLot.customer_id)).filter(left > 0),
        )
        .select_from(PointsLot)
        .outerjoin(moved, moved.c.lot_id == PointsLot.id)
        .where(
            PointsLot.expires_on >= day,
            PointsLot.expires_on < before,
            # An invitee: the (event, customer) unique index answers each lot.
            select(Invitation.id)
            .where(Invitation.customer_id == PointsLot.customer_id, Invitation.event_id == event.id)
            .exists(),
        )
    ).one()

    return PointsStock(
        customers=int(customers),
        customers_stock=int(balances) - int(expired) + int(settled),
        expiring_from=day,
        expiring_before=before,
        expiring_points=int(expiring),
        expiring_customers=int(holders),
    )


def tiers_redeemed(s: Session, event: Event) -> list[TierRedeemed]:
    """Points redeemed per tier at issue: one GROUP BY over the event's slips."""
    return named_tiers(
        s,
        event,
        s.execute(
            select(
                Slip.tier,
                func.count(func.distinct(Slip.customer_id)),
                func.count(Slip.id),
                func.coalesce(func.sum(Slip.points), 0),
            )
            .where(Slip.event_id == event.id, Slip.status == SlipStatus.REDEEMED)
            .group_by(Slip.tier)
        ).all(),
    )


def named_tiers(s: Session, event: Event, counts: list[Any]) -> list[TierRedeemed]:
    """(tier code, customers, slips, points) rows named and in the bank's order."""
    names = {
        code: (name, floor)
        for code, name, floor in s.execute(
            select(EventTier.code, EventTier.name, EventTier.aum_floor).where(
                EventTier.event_id == event.id
            )
        )
    }
    tiers = [
        TierRedeemed(
            code or NO_TIER,
            names[code][0] if code in names else (code or _("No tier")),
            int(n_customers),
            int(n_slips),
            int(points),
        )
        for code, n_customers, n_slips, points in counts
    ]
    # Highest band first, as the bank lists them; unknown codes after, "no tier" last.
    tiers.sort(
        key=lambda t: (
            t.code == NO_TIER,
            t.code not in names,
            -names[t.code][1] if t.code in names else 0,
            t.code,
        )
    )
    return tiers


def points_figures(
    s: Session, event: Event, total: Attendance, *, with_stock: bool = True
) -> PointsFigures:
    return PointsFigures(
        redeemed=total.points_redeemed,
        invitee_stock=total.points_stock,
        bank_stock=event.bank_points_stock,
        tiers=tiers_redeemed(s, event),
        stock=points_stock(s, event) if with_stock else None,
    )


# -- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    key: str
    label: str
    numerator: int
    denominator: int

    @property
    def percent(self) -> float | None:
        return 100 * self.numerator / self.denominator if self.denominator else None


def coverage(s: Session, event: Event, total: Attendance) -> list[Ratio]:
    """How far the event reached its goals: attendance, and of those who came, governance
    where it was needed, mobile banking, the scan-pay, slips and redemption."""
    needed = (
        s.scalar(
            select(func.count(func.distinct(QueueEntry.visit_id))).where(
                QueueEntry.event_id == event.id, QueueEntry.reason != ""
            )
        )
        or 0
    )
    with_mobile = (
        s.scalar(
            select(func.count(Visit.id))
            .join(Customer, Customer.id == Visit.customer_id)
            .where(Visit.event_id == event.id, Customer.mobile_banking != MobileBanking.NONE)
        )
        or 0
    )
    return coverage_of(total, int(needed), int(with_mobile))


def coverage_of(total: Attendance, needed: int, with_mobile: int) -> list[Ratio]:
    """The ratios from the totals and the two counts ``coverage`` reads: visits that needed
    governance (a service-desk ticket with a reason) and visits of customers with mobile
    banking."""
    invitees_arrived = total.arrived - total.walk_ins
    return [
        Ratio("attendance", _("Confirmed invitees who came"), total.confirmed_arrived,
              total.confirmed),
        Ratio("turnout", _("Invitees who came"), invitees_arrived, total.invited),
        Ratio("governance", _("Governed, of those who needed it"), total.governed, needed),
        Ratio("mobile_banking", _("Have mobile banking now"), with_mobile,
              total.arrived),
        Ratio("activated", _("Logged in to mobile banking at the desk"),
              total.mobile_banking_activated, total.arrived),
        Ratio("scan_pay", _("Did the charity scan-pay"), total.scan_pay, total.arrived),
        Ratio("reactivated", _("Dormant customers reactivated (mobile-banking login here)"),
              total.dormant_reactivated, total.dormant_arrived),
        Ratio("gate_overridden", _("Let through by a supervisor before the required steps"),
              total.gate_overridden, total.arrived),
        Ratio("slips", _("Left with slips"), total.slips_issued, total.arrived),
        Ratio("redeemed", _("Redeemed a slip, of those with slips"), total.redeemed,
              total.slips_issued),
    ]  # fmt: skip


# -- timelines --------------------------------------------------------------------------------


class seconds_between(FunctionElement[int]):
    """Whole seconds from the first time to the second, on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"CAST(ROUND((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400) AS INTEGER)"
    )


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"CAST(ROUND(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)}))) AS INTEGER)"
    )


class Interval(enum.StrEnum):
    """Steps of a visit the timelines measure between."""

    ARRIVAL_TO_DESK = "arrival_to_desk"  # check-in -> called at the service desk
    DESK_TO_ACTIVATION = "desk_to_activation"  # called at the desk -> called at activation
    ARRIVAL_TO_ACTIVATION = "arrival_to_activation"  # check-in -> called at activation
    ACTIVATION_TO_REDEMPTION = "activation_to_redemption"  # called at activation -> 1st redeemed


def interval_label(interval: Interval | str) -> str:
    return {
        Interval.ARRIVAL_TO_DESK: _("Arrival → service desk"),
        Interval.DESK_TO_ACTIVATION: _("Service desk → activation"),
        Interval.ARRIVAL_TO_ACTIVATION: _("Arrival → activation"),
        Interval.ACTIVATION_TO_REDEMPTION: _("Activation → first redemption"),
    }[Interval(interval)]


@dataclass(frozen=True)
class Timeline:
    """Median and 90th percentile of one interval for one slot (or all, ``slot`` empty)."""

    interval: Interval
    slot: str  # slot code; "" for every visit together
    count: int
    median_s: int | None
    p90_s: int | None


ALL_SLOTS = ""
WALK_INS = "-"  # visits without a slot


def visit_durations(event: Event, customers: Any = None) -> dict[Interval, Any]:
    """Per interval, a query of each visit's customer, its slot (0: a walk-in) and the
    interval's duration in whole seconds, for the visits that have both ends; ``customers``
    (ids, or an expanding bound parameter): only theirs. The one definition behind the
    timelines, whole or per customer."""
    # Restricted to the customers' visits inside each subquery too, so that recomputing a
    # few customers reads only their tickets and slips.
    theirs = (
        select(Visit.id).where(Visit.event_id == event.id, Visit.customer_id.in_(customers))
        if customers is not None
        else None
    )
    first_call = {
        queue: (
            select(
                QueueEntry.visit_id.label("visit_id"),
                func.min(QueueEntry.called_at).label("at"),
            )
            .where(
                of_event(QueueEntry.event_id, event.id, theirs is not None),
                QueueEntry.queue == queue,
                QueueEntry.called_at.is_not(None),
                QueueEntry.visit_id.in_(theirs) if theirs is not None else true(),
            )
            .group_by(QueueEntry.visit_id)
            .subquery()
        )
        for queue in Queue
    }
    first_redemption = (
        select(Slip.visit_id.label("visit_id"), func.min(Redemption.redeemed_at).label("at"))
        .join(
            Redemption,
            and_(Redemption.event_id == Slip.event_id, Redemption.slip_serial == Slip.serial),
        )
        .where(
            of_event(Slip.event_id, event.id, customers is not None),
            Redemption.conflict.is_(None),
            Slip.customer_id.in_(customers) if customers is not None else true(),
        )
        .group_by(Slip.visit_id)
        .subquery()
    )
    desk = first_call[Queue.SERVICE_DESK]
    activation = first_call[Queue.ACTIVATION]
    pairs = {
        Interval.ARRIVAL_TO_DESK: (None, desk),
        Interval.DESK_TO_ACTIVATION: (desk, activation),
        Interval.ARRIVAL_TO_ACTIVATION: (None, activation),
        Interval.ACTIVATION_TO_REDEMPTION: (activation, first_redemption),
    }
    queries = {}
    for interval, (start_sub, end_sub) in pairs.items():
        start = Visit.checked_in_at if start_sub is None else start_sub.c.at
        source: Any = Visit.__table__.outerjoin(
            Invitation, Invitation.id == Visit.invitation_id
        ).join(end_sub, end_sub.c.visit_id == Visit.id)
        if start_sub is not None:
            source = source.join(start_sub, start_sub.c.visit_id == Visit.id)
        queries[interval] = (
            select(
                Visit.customer_id.label("customer_id"),
                func.coalesce(Invitation.slot_id, 0).label("slot"),
                seconds_between(start, end_sub.c.at).label("s"),
            )
            .select_from(source)
            .where(
                Visit.event_id == event.id,
                Visit.customer_id.in_(customers) if customers is not None else true(),
            )
        )
    return queries


def nearest_rank(n: int, percent: int) -> int:
    """The 1-based rank of the percentile among n sorted values (nearest rank)."""
    return (n * percent + 99) // 100


def timelines(s: Session, event: Event) -> list[Timeline]:
    """Per interval, per slot and for all visits: nearest-rank median and 90th percentile,
    ranked by window functions in SQL (one query per interval and grouping)."""
    result = []
    for interval, query in visit_durations(event).items():
        # Each visit's duration once (a CTE), ranked per slot and, as slot -1, for all.
        durations = query.cte(f"durations_{interval.value}")
        keyed = union_all(
            select(durations.c.slot.label("k"), durations.c.s),
            select(literal(-1).label("k"), durations.c.s),
        ).subquery()
        ranked = select(
            keyed.c.k,
            keyed.c.s,
            func.row_number().over(partition_by=keyed.c.k, order_by=keyed.c.s).label("rn"),
            func.count().over(partition_by=keyed.c.k).label("n"),
        ).subquery()
        found: dict[Any, dict[str, int]] = {}
        for k, seconds, rank, n in s.execute(
            select(ranked.c.k, ranked.c.s, ranked.c.rn, ranked.c.n).where(
                or_(
                    ranked.c.rn == (ranked.c.n * 50 + 99) // 100,
                    ranked.c.rn == (ranked.c.n * 90 + 99) // 100,
                )
            )
        ):
            entry = found.setdefault(k, {"n": n})
            if rank == (n * 50 + 99) // 100:
                entry["median"] = seconds
            if rank == (n * 90 + 99) // 100:
                entry["p90"] = seconds

        groups = [(slot.id, slot.code) for slot in event.slots]
        groups += [(0, WALK_INS)] if 0 in found else []
        for key, code in [*groups, (-1, ALL_SLOTS)]:
            entry = found.get(key, {"n": 0})
            result.append(
                Timeline(interval, code, entry["n"], entry.get("median"), entry.get("p90"))
            )
    return result


# -- everything at once -----------------------------------------------------------------------


@dataclass(frozen=True)
class EventFigures:
    """Every figure of the event at one moment, read in one transaction."""

    at: datetime
    event_code: str
    event_name: str
    event_date: Any
    venue: str
    timezone: str
    total: Attendance
    slots: list[SlotFigures]
    arrivals: list[ArrivalBucket]
    queues: list[QueueFigures]
    branches: list[Attendance]
    offers: list[OfferFigures]
    points: PointsFigures
    coverage: list[Ratio]
    timelines: list[Timeline]

    def slot_label(self, code: str) -> str:
        if code == ALL_SLOTS:
            return _("All slots")
        if code == WALK_INS:
            return _("Walk-ins")
        return next((slot.label for slot in self.slots if slot.code == code), code)


def event_figures(
    uow: UnitOfWork,
    *,
    clock: Clock | None = None,
    with_timelines: bool = True,
    with_stock: bool | None = None,
) -> EventFigures:
    """The figures the dashboard shows and the event summary prints. ``with_stock`` (by
    default as ``with_timelines``): every customer's points and the expiring ones, which
    read every customer and lot."""
    if with_stock is None:
        with_stock = with_timelines
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        branches = branch_attendance(s, event)
        total = _sum(branches)
        return EventFigures(
            at=now,
            event_code=event.code,
            event_name=event.name,
            event_date=event.event_date,
            venue=event.venue,
            timezone=event.timezone,
            total=total,
            slots=slot_figures(s, event, now),
            arrivals=arrivals_over_time(s, event),
            queues=queue_figures(s, event, now),
            branches=branches,
            offers=offer_figures(s, event),
            points=points_figures(s, event, total, with_stock=with_stock),
            coverage=coverage(s, event, total),
            timelines=timelines(s, event) if with_timelines else [],
        )
