"""After the event (issue #21): each RM's follow-up list, and how far the RMs followed up.

The event's purpose for the bank is what happens next: every invitee (and every walk-in) is
followed up by their RM according to where they stand after the day. The groups are
``FollowupStage``; a customer may be in more than one (redeemed, and opened mobile banking):

- *no_show*: invited (whatever they answered) and never checked in;
- *no_slip*: checked in and holds no slip that is not voided, with the reason: *governance*
  (the redemption gate, ``services.gate.judge``, was still closed for them and no supervisor
  let them through), else *unaffordable* (their points on the event day are below the
  cheapest service at their tier's price), else *left*;
- *unredeemed*: holds slips still issued (not redeemed, not given back), each with its
  redeem-by date;
- *redeemed*: at least one slip redeemed at a booth;
- *reactivated*: the dormant customers the event woke (the figures' definition: a
  mobile-banking login at the activation desk noted as a reactivation);
- *mobile_banking*: mobile banking opened at the service desk at this visit.

Whose list: the invitation's RM, else the customer's own RM (a walk-in's); customers without
either are the coordinator's ("no RM"). The lists are read in a handful of queries over the
whole event (invitees, visitors, slips, desk steps, and the gate's data for those without a
slip), never a query per customer.

The RMs' outcomes come back in their filled workbooks (import kind ``followup``) as
``FollowupContact`` rows (``kiosk.contacts.record_followups``); ``coverage`` counts, per RM,
the customers on the list, those contacted, and their latest outcome.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from kiosk.i18n import _
from kiosk.masking import mask_name
from kiosk.models import (
    Branch,
    Customer,
    Event,
    FollowupContact,
    FollowupOutcome,
    FollowupStage,
    Invitation,
    InvitationStatus,
    Merchant,
    Offer,
    Slip,
    SlipStatus,
    Staff,
    Visit,
    VisitStep,
)
from kiosk.services.activation import REACTIVATED_NOTE
from kiosk.services.events import current_event
from kiosk.services.gate import OVERRIDE_STEP, VISIT_STEPS, judge, stored
from kiosk.services.themes import available_points_sql, tier_sql
from kiosk.tiers import event_tiers, offer_terms
from kiosk.uow import UnitOfWork

STAGES: tuple[FollowupStage, ...] = tuple(FollowupStage)
OUTCOMES: tuple[FollowupOutcome, ...] = tuple(FollowupOutcome)
OPENED_STEP = "mobile_banking_opened"  # ``services.desk.open_mobile_banking``
LOGIN_STEP = "mobile_banking_login"  # ``services.activation``: REACTIVATED_NOTE on the dormant
_BATCH = 2000


class NoSlipReason(enum.StrEnum):
    """Why a customer who came left without a slip."""

    GOVERNANCE = "governance"  # the redemption gate was still closed
    UNAFFORDABLE = "unaffordable"  # points below the cheapest service at their price
    LEFT = "left"  # could have, did not


def stage_label(stage: FollowupStage | str) -> str:
    return {
        FollowupStage.NO_SHOW: _("Invited, did not come"),
        FollowupStage.NO_SLIP: _("Came, no slip"),
        FollowupStage.UNREDEEMED: _("Slips not yet redeemed"),
        FollowupStage.REDEEMED: _("Redeemed"),
        FollowupStage.REACTIVATED: _("Dormant, reactivated"),
        FollowupStage.MOBILE_BANKING: _("Mobile banking opened at the event"),
    }[FollowupStage(stage)]


def next_action(stage: FollowupStage | str) -> str:
    """The suggested next step for the group, a sentence for the RM."""
    return {
        FollowupStage.NO_SHOW: _(
            "Call to ask what kept them away; offer a branch visit or the next event."
        ),
        FollowupStage.NO_SLIP: _(
            "Help with what stopped them: finish their data or mobile banking at the branch, "
            "or show what their points buy at the next event."
        ),
        FollowupStage.UNREDEEMED: _(
            "Remind them to use their slips before the redeem-by date, and where."
        ),
        FollowupStage.REDEEMED: _(
            "Ask how the service was, thank them, and talk about the bank's products."
        ),
        FollowupStage.REACTIVATED: _(
            "Keep them active: a first transaction in mobile banking or a product suited to them."
        ),
        FollowupStage.MOBILE_BANKING: _(
            "Help with the first use of mobile banking within a week (log-in, a transfer)."
        ),
    }[FollowupStage(stage)]


def outcome_label(outcome: FollowupOutcome | str) -> str:
    return {
        FollowupOutcome.REACHED: _("Spoke with the customer"),
        FollowupOutcome.APPOINTMENT: _("Appointment made"),
        FollowupOutcome.BUSINESS: _("Business done"),
        FollowupOutcome.DECLINED: _("Not interested"),
        FollowupOutcome.UNREACHABLE: _("Could not reach"),
    }[FollowupOutcome(outcome)]


def reason_label(reason: NoSlipReason | str) -> str:
    return {
        NoSlipReason.GOVERNANCE: _("governance unfinished"),
        NoSlipReason.UNAFFORDABLE: _("no affordable service"),
        NoSlipReason.LEFT: _("left without redeeming"),
    }[NoSlipReason(reason)]


def invitation_label(status: str | None) -> str:
    return {
        InvitationStatus.INVITED: _("no answer"),
        InvitationStatus.CONFIRMED: _("had confirmed"),
        InvitationStatus.DECLINED: _("had declined"),
    }.get(status or "", "")


@dataclass(frozen=True)
class DueSlip:
    """A slip still to redeem."""

    serial: int
    offer: str
    merchant: str
    quantity: int
    redeem_by: date


@dataclass(frozen=True)
class FollowupEntry:
    """One customer in one group of an RM's list; personal data masked."""

    customer_id: int
    customer_no: str
    masked_name: str
    masked_phone: str
    branch: str  # branch code
    stage: FollowupStage
    reason: NoSlipReason | None = None  # no_slip only
    invitation: str | None = None  # no_show: the invitation's status
    slips: tuple[DueSlip, ...] = ()  # unredeemed only
    last_contacted: date | None = None  # the latest follow-up recorded for this group
    last_outcome: str | None = None

    @property
    def redeem_by(self) -> date | None:
        """The earliest redeem-by of the slips still to redeem."""
        return min((s.redeem_by for s in self.slips), default=None)

    def detail(self) -> str:
        """What the group means for this customer, in words."""
        if self.stage == FollowupStage.NO_SLIP and self.reason is not None:
            return reason_label(self.reason)
        if self.stage == FollowupStage.NO_SHOW:
            return invitation_label(self.invitation)
        if self.slips:
            return _("; ").join(
                _("{offer} ×{n} at {merchant}, redeem by {day}").format(
                    offer=s.offer, n=s.quantity, merchant=s.merchant, day=s.redeem_by.isoformat()
                )
                for s in self.slips
            )
        return ""


@dataclass(frozen=True)
class RmFollowup:
    """One RM's follow-up list ("" staff number: the customers without an RM)."""

    rm_no: str
    rm_name: str
    branch: str
    entries: list[FollowupEntry]

    def count(self, stage: FollowupStage | str) -> int:
        return sum(1 for e in self.entries if e.stage == stage)

    @property
    def customers(self) -> int:
        return len({e.customer_id for e in self.entries})


@dataclass
class _Person:
    customer_no: str
    name: str
    phone: str
    branch: str
    rm_id: int | None
    invitation: str | None  # the invitation's status; None: a walk-in
    visit_id: int | None


def _people(s: Session, event: Event) -> dict[int, _Person]:
    """Every invitee and every visitor of the event, with the RM whose list they are on."""
    people: dict[int, _Person] = {}
    for cid, number, name, phone, branch, rm_id, status, visit_id in s.execute(
        select(
            Customer.id,
            Customer.customer_no,
            Customer.name,
            Customer.phone_masked,
            Branch.code,
            Invitation.rm_id,
            Invitation.status,
            Visit.id,
        )
        .select_from(Invitation)
        .join(Customer, Customer.id == Invitation.customer_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .outerjoin(Visit, and_(Visit.customer_id == Customer.id, Visit.event_id == event.id))
        .where(Invitation.event_id == event.id)
    ):
        people[cid] = _Person(number, name, phone or "", branch, rm_id, status, visit_id)
    invited = exists().where(
        Invitation.customer_id == Visit.customer_id, Invitation.event_id == event.id
    )
    for cid, number, name, phone, branch, visit_id in s.execute(
        select(
            Customer.id,
            Customer.customer_no,
            Customer.name,
            Customer.phone_masked,
            Branch.code,
            Visit.id,
        )
        .select_from(Visit)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .where(Visit.event_id == event.id, ~invited)
    ):
        people[cid] = _Person(number, name, phone or "", branch, None, None, visit_id)
    # The invitation's RM, else the customer's own: read once for those without one.
    missing = [cid for cid, p in people.items() if p.rm_id is None]
    for start in range(0, len(missing), _BATCH):
        for cid, rm_id in s.execute(
            select(Customer.id, Customer.rm_id).where(
                Customer.id.in_(missing[start : start + _BATCH]), Customer.rm_id.is_not(None)
            )
        ):
            people[cid].rm_id = rm_id
    return people


def _cheapest(s: Session, event: Event) -> tuple[int | None, dict[str, int]]:
    """The cheapest service's price for a customer without a tier, and per tier."""
    offers = list(s.scalars(select(Offer).where(Offer.event_id == event.id)))
    tiers = event_tiers(s, event.id)

    def lowest(tier: object) -> int | None:
        terms = offer_terms(s, offers, tier)  # type: ignore[arg-type]
        return min((t.price for t in terms.values()), default=None)

    own = lowest(None)
    return own, {t.code: p for t in tiers if (p := lowest(t)) is not None}


def _reasons(
    s: Session, event: Event, without: list[int], steps: dict[int, set[str]]
) -> dict[int, NoSlipReason]:
    """Why each of these customers (checked in, no slip) left without one."""
    required = stored(event)
    tiers = event_tiers(s, event.id)
    own, by_tier = _cheapest(s, event)
    points = available_points_sql(event.event_date).label("points")
    tier = tier_sql(tiers).label("tier")
    reasons: dict[int, NoSlipReason] = {}
    for start in range(0, len(without), _BATCH):
        batch = without[start : start + _BATCH]
        for customer, available, code in s.execute(
            select(Customer, points, tier).where(Customer.id.in_(batch))
        ):
            done = steps.get(customer.id, set())
            gate = judge(required, customer, event.event_date, done)
            if not gate.open and OVERRIDE_STEP not in done:
                reasons[customer.id] = NoSlipReason.GOVERNANCE
                continue
            price = by_tier.get(code, own) if code else own
            if price is None or int(available or 0) < price:
                reasons[customer.id] = NoSlipReason.UNAFFORDABLE
            else:
                reasons[customer.id] = NoSlipReason.LEFT
    return reasons


def compute(s: Session, event: Event) -> list[RmFollowup]:
    """Every RM's list, by staff number, the customers without an RM last (if any)."""
    people = _people(s, event)
    # Slips: any not voided means "got a slip"; issued ones are still to redeem.
    got_slip: set[int] = set()
    redeemed: set[int] = set()
    due: dict[int, list[DueSlip]] = defaultdict(list)
    for cid, status, serial, offer, merchant, quantity, redeem_by in s.execute(
        select(
            Slip.customer_id,
            Slip.status,
            Slip.serial,
            Offer.name,
            Merchant.name,
            Slip.quantity,
            Slip.redeem_by,
        )
        .join(Offer, Offer.id == Slip.offer_id)
        .join(Merchant, Merchant.id == Slip.merchant_id)
        .where(Slip.event_id == event.id, Slip.status != SlipStatus.VOIDED)
        .order_by(Slip.serial)
    ):
        got_slip.add(cid)
        if status == SlipStatus.REDEEMED:
            redeemed.add(cid)
        elif status == SlipStatus.ISSUED:
            due[cid].append(DueSlip(serial, offer, merchant, quantity, redeem_by))
    # The desk steps that place a customer (and the gate's per-visit steps).
    steps: dict[int, set[str]] = defaultdict(set)
    woken: set[int] = set()
    for cid, step, note in s.execute(
        select(Visit.customer_id, VisitStep.step, VisitStep.note)
        .join(Visit, Visit.id == VisitStep.visit_id)
        .where(
            Visit.event_id == event.id,
            VisitStep.step.in_([OPENED_STEP, LOGIN_STEP, OVERRIDE_STEP, *VISIT_STEPS]),
        )
    ):
        steps[cid].add(step)
        if step == LOGIN_STEP and note == REACTIVATED_NOTE:
            woken.add(cid)
    without = sorted(
        cid for cid, p in people.items() if p.visit_id is not None and cid not in got_slip
    )
    reasons = _reasons(s, event, without, steps)
    last = _last_contacts(s, event)

    per_rm: dict[int | None, list[FollowupEntry]] = defaultdict(list)
    for cid, p in sorted(people.items(), key=lambda item: item[1].customer_no):
        stages: list[tuple[FollowupStage, dict[str, object]]] = []
        if p.visit_id is None:
            stages.append((FollowupStage.NO_SHOW, {"invitation": p.invitation}))
        else:
            if cid not in got_slip:
                stages.append((FollowupStage.NO_SLIP, {"reason": reasons.get(cid)}))
            if due.get(cid):
                stages.append((FollowupStage.UNREDEEMED, {"slips": tuple(due[cid])}))
            if cid in redeemed:
                stages.append((FollowupStage.REDEEMED, {}))
            if cid in woken:
                stages.append((FollowupStage.REACTIVATED, {}))
            if OPENED_STEP in steps.get(cid, ()):
                stages.append((FollowupStage.MOBILE_BANKING, {}))
        for stage, extra in stages:
            contacted, outcome = last.get((cid, stage), (None, None))
            per_rm[p.rm_id].append(
                FollowupEntry(
                    cid,
                    p.customer_no,
                    mask_name(p.name),
                    p.phone,
                    p.branch,
                    stage,
                    last_contacted=contacted,
                    last_outcome=outcome,
                    **extra,  # type: ignore[arg-type]
                )
            )
    order = {stage: i for i, stage in enumerate(STAGES)}
    staff = {
        m.id: (m.staff_no, m.name, code or "")
        for m, code in s.execute(
            select(Staff, Branch.code)
            .outerjoin(Branch, Branch.id == Staff.branch_id)
            .where(Staff.id.in_([k for k in per_rm if k is not None]))
        )
    }
    lists = []
    for rm_id, entries in per_rm.items():
        entries.sort(key=lambda e: (order[e.stage], e.customer_no))
        no, name, branch = staff.get(rm_id, ("", "", "")) if rm_id is not None else ("", "", "")
        lists.append(RmFollowup(no, name, branch, entries))
    lists.sort(key=lambda r: (r.rm_no == "", r.rm_no))
    return lists


def _last_contacts(s: Session, event: Event) -> dict[tuple[int, str], tuple[date, str]]:
    """(customer, stage) -> the latest follow-up recorded: day and outcome."""
    last: dict[tuple[int, str], tuple[date, str]] = {}
    for cid, stage, day, outcome in s.execute(
        select(
            FollowupContact.customer_id,
            FollowupContact.stage,
            FollowupContact.contacted_on,
            FollowupContact.outcome,
        )
        .where(FollowupContact.event_id == event.id)
        .order_by(FollowupContact.contacted_on, FollowupContact.id)
    ):
        last[(cid, stage)] = (day, outcome)
    return last


# -- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RmCoverage:
    """One RM's follow-up so far (or the total): customers on the list, those contacted at
    least once, and each contacted customer's latest outcome."""

    rm_no: str  # "" for the customers without an RM, and for the total
    rm_name: str
    branch: str
    customers: int
    contacted: int
    outcomes: dict[str, int] = field(default_factory=dict)  # FollowupOutcome -> customers

    @property
    def share(self) -> float | None:
        return self.contacted / self.customers if self.customers else None

    def outcome(self, outcome: FollowupOutcome | str) -> int:
        return self.outcomes.get(str(outcome), 0)


@dataclass(frozen=True)
class FollowupCoverage:
    rms: list[RmCoverage]
    total: RmCoverage


def coverage_of(
    s: Session, event: Event, lists: Iterable[RmFollowup] | None = None
) -> FollowupCoverage:
    """Per RM, from the lists (computed here unless given) and the contacts recorded."""
    lists = list(compute(s, event) if lists is None else lists)
    latest: dict[int, str] = {}
    for cid, outcome in s.execute(
        select(FollowupContact.customer_id, FollowupContact.outcome)
        .where(FollowupContact.event_id == event.id)
        .order_by(FollowupContact.contacted_on, FollowupContact.id)
    ):
        latest[cid] = outcome
    rows = []
    for rm in lists:
        ids = {e.customer_id for e in rm.entries}
        outcomes: dict[str, int] = {}
        for cid in ids:
            if cid in latest:
                outcomes[latest[cid]] = outcomes.get(latest[cid], 0) + 1
        rows.append(
            RmCoverage(
                rm.rm_no,
                rm.rm_name,
                rm.branch,
                len(ids),
                sum(outcomes.values()),
                outcomes,
            )
        )
    total_outcomes: dict[str, int] = {}
    for row in rows:
        for key, n in row.outcomes.items():
            total_outcomes[key] = total_outcomes.get(key, 0) + n
    total = RmCoverage(
        "",
        "",
        "",
        sum(r.customers for r in rows),
        sum(r.contacted for r in rows),
        total_outcomes,
    )
    return FollowupCoverage(rows, total)


@dataclass(frozen=True)
class FollowupLists:
    event_code: str
    event_date: date  # a follow-up is dated from this day on
    rms: list[RmFollowup]
    coverage: FollowupCoverage  # of these lists


def followup_lists(uow: UnitOfWork, rm_no: str | None = None) -> FollowupLists:
    """Every RM's follow-up list and how far each is followed up (a read), or one RM's
    (``rm_no``; "" for the customers without an RM)."""
    with uow:
        s = uow.session
        event = current_event(s)
        lists = compute(s, event)
        if rm_no is not None:
            lists = [r for r in lists if r.rm_no == rm_no]
        return FollowupLists(event.code, event.event_date, lists, coverage_of(s, event, lists))


def followup_coverage(uow: UnitOfWork) -> FollowupCoverage:
    """How far the RMs followed up, per RM and in total (a read)."""
    with uow:
        s = uow.session
        return coverage_of(s, current_event(s))


def event_held(s: Session, event: Event) -> bool:
    """Whether anyone checked in: before that there is nothing to follow up."""
    return s.scalar(select(Visit.id).where(Visit.event_id == event.id).limit(1)) is not None


def percent_text(share: float | None) -> str:
    return "—" if share is None else f"{round(100 * share)}%"
