"""Event figures: the one set of queries behind the dashboard and every event report.

The dashboard refreshes every few seconds and the reports are read by the branch group; both
call these functions, so a figure cannot differ between the big screen and the paper. Every
figure is aggregated in SQL (a handful of GROUP BY queries, no loop over rows in Python), so a
refresh stays cheap on an event with tens of thousands of visits.

What counts:

- *invited*: every invitation of the event; *confirmed*: status confirmed; *expected* in a
  slot: its confirmed invitations.
- *arrived*: a visit (check-in); walk-ins count as arrivals but belong to no slot.
- *governed*, *mobile banking opened*, *activated* (the mobile-banking login at the activation
  desk), *scan-pay*: visits with that step (``VisitStep``), each visit once.
- *slips issued*: customers holding at least one slip that is not voided; *redeemed*:
  customers with at least one slip redeemed at a booth. Points issued are the points of slips
  not voided; points redeemed those of slips redeemed.
- Branch: the customer's branch. RM: the inviting RM of the invitation, else the customer's RM.
- The *points stock* is the sum of the invitees' ledger balances (the snapshot), and the
  redemption ratio is points redeemed against it.
- Timelines use nearest-rank percentiles: the median is the value at rank ceil(n/2) of the
  sorted durations, the 90th percentile at rank ceil(0.9 n).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from kiosk.clock import Clock
from kiosk.i18n import _
from kiosk.models import (
    Branch,
    Customer,
    Event,
    Invitation,
    InvitationStatus,
    Merchant,
    MobileBanking,
    Offer,
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
from kiosk.services.events import current_event
from kiosk.services.reception import ReceptionPolicy
from kiosk.uow import UnitOfWork

# -- the funnel ------------------------------------------------------------------------------


class Stage(enum.StrEnum):
    """The stages of the event-day funnel, in order."""

    INVITED = "invited"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    GOVERNED = "governed"
    MOBILE_BANKING_OPENED = "mobile_banking_opened"
    MOBILE_BANKING_ACTIVATED = "mobile_banking_activated"
    SCAN_PAY = "scan_pay"
    SLIPS_ISSUED = "slips_issued"
    REDEEMED = "redeemed"


def stage_label(stage: Stage | str) -> str:
    return {
        Stage.INVITED: _("Invited"),
        Stage.CONFIRMED: _("Confirmed"),
        Stage.ARRIVED: _("Arrived"),
        Stage.GOVERNED: _("Data governed"),
        Stage.MOBILE_BANKING_OPENED: _("Mobile banking opened"),
        Stage.MOBILE_BANKING_ACTIVATED: _("Mobile banking activated"),
        Stage.SCAN_PAY: _("Charity scan-pay"),
        Stage.SLIPS_ISSUED: _("Slips issued"),
        Stage.REDEEMED: _("Redeemed"),
    }[Stage(stage)]


@dataclass(frozen=True)
class Attendance:
    """The funnel for one group of customers (the event, a branch, an RM)."""

    code: str
    name: str
    branch: str  # the branch code (an RM's own branch for an RM row)
    invited: int = 0
    confirmed: int = 0
    arrived: int = 0
    walk_ins: int = 0
    governed: int = 0
    mobile_banking_opened: int = 0
    mobile_banking_activated: int = 0
    scan_pay: int = 0
    slips_issued: int = 0  # customers holding a slip that is not voided
    redeemed: int = 0  # customers with a slip redeemed
    slips: int = 0  # slips not voided
    slips_redeemed: int = 0
    points_issued: int = 0  # points of slips not voided
    points_redeemed: int = 0
    points_stock: int = 0  # the invitees' ledger balances

    def stage(self, stage: Stage | str) -> int:
        return int(getattr(self, Stage(stage).value))

    def stages(self) -> list[tuple[Stage, int]]:
        return [(stage, self.stage(stage)) for stage in Stage]

    @property
    def redemption_ratio(self) -> float | None:
        """Points redeemed as a share of the invitees' points stock."""
        return self.points_redeemed / self.points_stock if self.points_stock else None

    @property
    def issued_ratio(self) -> float | None:
        """Points on slips (not voided) as a share of the points stock."""
        return self.points_issued / self.points_stock if self.points_stock else None


_COUNTS = [
    "invited",
    "confirmed",
    "points_stock",
    "arrived",
    "walk_ins",
    "governed",
    "mobile_banking_opened",
    "mobile_banking_activated",
    "scan_pay",
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
    result: dict[Any, dict[str, int]] = {}

    def add(key: Any, **values: Any) -> None:
        row = result.setdefault(key, dict.fromkeys(_COUNTS, 0))
        for name, value in values.items():
            row[name] += int(value or 0)

    key = dimension(Customer, Invitation).label("key")
    for k, invited, confirmed, stock in s.execute(
        select(
            key,
            func.count(Invitation.id),
            func.count(Invitation.id).filter(Invitation.status == InvitationStatus.CONFIRMED),
            func.coalesce(func.sum(Customer.points_balance), 0),
        )
        .join(Customer, Customer.id == Invitation.customer_id)
        .where(Invitation.event_id == event_id)
        .group_by(key)
    ):
        add(k, invited=invited, confirmed=confirmed, points_stock=stock)

    for k, arrived, walk_ins, governed, opened, activated, scan_pay in s.execute(
        select(
            key,
            func.count(Visit.id),
            func.count(Visit.id).filter(Visit.invitation_id.is_(None)),
            _reached("governance"),
            _reached("mobile_banking_opened"),
            _reached("mobile_banking_login"),
            _reached("charity_paid"),
        )
        .select_from(_joined(Visit, Visit.invitation_id, by_invitation))
        .where(Visit.event_id == event_id)
        .group_by(key)
    ):
        add(
            k,
            arrived=arrived,
            walk_ins=walk_ins,
            governed=governed,
            mobile_banking_opened=opened,
            mobile_banking_activated=activated,
            scan_pay=scan_pay,
        )

    live = Slip.status != SlipStatus.VOIDED
    redeemed = Slip.status == SlipStatus.REDEEMED
    for k, holders, redeemers, slips, slips_redeemed, points, points_redeemed in s.execute(
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
        .where(Slip.event_id == event_id)
        .group_by(key)
    ):
        add(
            k,
            slips_issued=holders,
            redeemed=redeemers,
            slips=slips,
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


def _branch(customer: Any, invitation: Any) -> ColumnElement[Any]:
    return customer.branch_id  # type: ignore[no-any-return]


def _rm(customer: Any, invitation: Any) -> ColumnElement[Any]:
    return func.coalesce(invitation.rm_id, customer.rm_id)


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


# -- slots ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotFigures:
    code: str
    label: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    invited: int  # invitations not declined
    expected: int  # confirmed invitations
    arrived: int
    early: int  # came before the slot (more than the reception's grace early)
    on_time: int
    late: int  # came after the slot ended
    companions: int  # companions of the customers who arrived
    is_current: bool

    @property
    def percent_of_capacity(self) -> int | None:
        return round(100 * self.arrived / self.capacity) if self.capacity else None

    @property
    def percent_of_expected(self) -> int | None:
        return round(100 * self.arrived / self.expected) if self.expected else None


def slot_figures(s: Session, event: Event, now: datetime) -> list[SlotFigures]:
    """Arrivals per slot against the confirmed invitations, early / on time / late as
    reception judges them (``ReceptionPolicy.early_grace``)."""
    grace = ReceptionPolicy().early_grace
    invited = {
        slot_id: (n, confirmed)
        for slot_id, n, confirmed in s.execute(
            select(
                Invitation.slot_id,
                func.count(Invitation.id),
                func.count(Invitation.id).filter(Invitation.status == InvitationStatus.CONFIRMED),
            )
            .where(Invitation.event_id == event.id, Invitation.status != InvitationStatus.DECLINED)
            .group_by(Invitation.slot_id)
        )
    }
    result = []
    for slot in event.slots:
        arrived, early, late, companions = s.execute(
            select(
                func.count(Visit.id),
                func.count(Visit.id).filter(Visit.checked_in_at < slot.starts_at - grace),
                func.count(Visit.id).filter(Visit.checked_in_at > slot.ends_at),
                func.coalesce(func.sum(Visit.companions), 0),
            )
            .join(Invitation, Invitation.id == Visit.invitation_id)
            .where(Visit.event_id == event.id, Invitation.slot_id == slot.id)
        ).one()
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
                is_current=slot.starts_at - grace <= now <= slot.ends_at,
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
        oldest = _as_datetime(oldest)
        wait = max(0, int((now - oldest).total_seconds() // 60)) if oldest else 0
        result.append(QueueFigures(queue, waiting, called, done, oldest, wait))
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
    invitees_arrived = total.arrived - total.walk_ins
    return [
        Ratio("attendance", _("Confirmed invitees who came"), _confirmed_arrived(s, event),
              total.confirmed),
        Ratio("turnout", _("Invitees who came"), invitees_arrived, total.invited),
        Ratio("governance", _("Governed, of those who needed it"), total.governed, needed),
        Ratio("mobile_banking", _("Have mobile banking now"), with_mobile,
              total.arrived),
        Ratio("activated", _("Logged in to mobile banking at the desk"),
              total.mobile_banking_activated, total.arrived),
        Ratio("scan_pay", _("Did the charity scan-pay"), total.scan_pay, total.arrived),
        Ratio("slips", _("Left with slips"), total.slips_issued, total.arrived),
        Ratio("redeemed", _("Redeemed a slip, of those with slips"), total.redeemed,
              total.slips_issued),
    ]  # fmt: skip


def _confirmed_arrived(s: Session, event: Event) -> int:
    return (
        s.scalar(
            select(func.count(Visit.id))
            .join(Invitation, Invitation.id == Visit.invitation_id)
            .where(Visit.event_id == event.id, Invitation.status == InvitationStatus.CONFIRMED)
        )
        or 0
    )


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


def timelines(s: Session, event: Event) -> list[Timeline]:
    """Per interval, per slot and for all visits: nearest-rank median and 90th percentile,
    ranked by window functions in SQL (one query per interval and grouping)."""
    first_call = {
        queue: (
            select(
                QueueEntry.visit_id.label("visit_id"),
                func.min(QueueEntry.called_at).label("at"),
            )
            .where(
                QueueEntry.event_id == event.id,
                QueueEntry.queue == queue,
                QueueEntry.called_at.is_not(None),
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
        .where(Slip.event_id == event.id, Redemption.conflict.is_(None))
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
    result = []
    for interval, (start_sub, end_sub) in pairs.items():
        # Each visit's duration once (a CTE), ranked per slot and, as slot -1, for all.
        start = Visit.checked_in_at if start_sub is None else start_sub.c.at
        source: Any = Visit.__table__.outerjoin(
            Invitation, Invitation.id == Visit.invitation_id
        ).join(end_sub, end_sub.c.visit_id == Visit.id)
        if start_sub is not None:
            source = source.join(start_sub, start_sub.c.visit_id == Visit.id)
        durations = (
            select(
                func.coalesce(Invitation.slot_id, 0).label("slot"),
                seconds_between(start, end_sub.c.at).label("s"),
            )
            .select_from(source)
            .where(Visit.event_id == event.id)
            .cte(f"durations_{interval.value}")
        )
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
    coverage: list[Ratio]
    timelines: list[Timeline]

    def slot_label(self, code: str) -> str:
        if code == ALL_SLOTS:
            return _("All slots")
        if code == WALK_INS:
            return _("Walk-ins")
        return next((slot.label for slot in self.slots if slot.code == code), code)


def event_figures(
    uow: UnitOfWork, *, clock: Clock | None = None, with_timelines: bool = True
) -> EventFigures:
    """The figures the dashboard shows and the event summary prints."""
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
            coverage=coverage(s, event, total),
            timelines=timelines(s, event) if with_timelines else [],
        )
