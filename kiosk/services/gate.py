"""The redemption gate: what a customer must have done before any slip is issued.

The bank's rule is that points are redeemed only by customers whose data is complete and
valid and whose mobile banking is active; an event may also require the mobile-banking login
and the charity scan-pay at the activation desk. The event keeps its requirements
(``Event.redeem_requires``, set by the coordinator: ``kiosk event create --requires``,
``kiosk event requires``, Administration -> Event); ``kiosk.services.slips.issue_slips``
checks them inside its transaction, so no station, script or command line issues past it.
The activation desk shows the same check in words before F9: what is missing and where to
send the customer. A supervisor may let a customer through on the spot; that is audited
(``gate_overridden``, naming the supervisor) and kept as a visit step, so the figures count
it.

Requirements:

- ``data``: no KYC gap (``kiosk.kyc.governance_gaps``) on the event's day: every field
  present, the ID number valid, the ID not expired.
- ``mobile_banking``: the customer's mobile banking is *active* (used, or logged in at the
  activation desk with F6, which makes an opened account active).
- ``login``: the mobile-banking login was recorded at this visit (F6), even for a customer
  whose account was already active.
- ``scan_pay``: the charity scan-pay was recorded at this visit (F7).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.kyc import governance_gaps
from kiosk.labels import gap_label, kyc_field_label
from kiosk.models import Customer, Event, MobileBanking, Visit, VisitStep
from kiosk.permissions import Action, require
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork


class Requirement(enum.StrEnum):
    """A step the event may require before slips, in the order a customer does them."""

    DATA = "data"
    MOBILE_BANKING = "mobile_banking"
    LOGIN = "login"
    SCAN_PAY = "scan_pay"


DEFAULT_REQUIREMENTS: tuple[Requirement, ...] = (Requirement.DATA, Requirement.MOBILE_BANKING)

# The visit steps that fulfil the per-visit requirements (``kiosk.services.activation.Step``).
_STEP = {Requirement.LOGIN: "mobile_banking_login", Requirement.SCAN_PAY: "charity_paid"}
OVERRIDE_STEP = "gate_overridden"
# Where a customer goes for a missing step.
SERVICE_DESK = "service_desk"
HERE = "here"


def requirement_label(requirement: Requirement | str) -> str:
    return {
        Requirement.DATA: _("Data complete and valid"),
        Requirement.MOBILE_BANKING: _("Mobile banking active"),
        Requirement.LOGIN: _("Mobile-banking login at the event"),
        Requirement.SCAN_PAY: _("Charity scan-pay"),
    }[Requirement(requirement)]


def sentences(parts: Iterable[str]) -> str:
    """Clauses as sentences of a paragraph, with the language's full stop and spacing."""
    text = ""
    for part in parts:
        sentence = _("{sentence}.").format(sentence=part)
        text = _("{first} {second}").format(first=text, second=sentence) if text else sentence
    return text


def listing(items: Iterable[str]) -> str:
    """Items of a sentence's list: "a, b" in English, "a、b" in Chinese."""
    return _(", ").join(items)


def ordered(requirements: Iterable[Requirement | str]) -> tuple[Requirement, ...]:
    """The requirements once each, in the order of ``Requirement``."""
    chosen = {Requirement(r) for r in requirements}
    return tuple(r for r in Requirement if r in chosen)


def parse(text: str) -> tuple[Requirement, ...]:
    """Requirement codes as typed ("data,mobile_banking", "data scan_pay", "none"); an
    unknown code is refused in one sentence naming the known ones."""
    codes = [c.strip().lower().replace("-", "_") for c in text.replace(",", " ").split()]
    if codes == ["none"]:
        return ()
    unknown = [c for c in codes if c not in {r.value for r in Requirement}]
    if unknown:
        raise KioskError(
            _("Unknown requirement {codes}; use {known}, or none.").format(
                codes=", ".join(unknown), known=", ".join(r.value for r in Requirement)
            )
        )
    return ordered(codes)


def stored(event: Event) -> tuple[Requirement, ...]:
    """The event's requirements; codes a newer kiosk wrote and this one does not know are
    ignored rather than blocking every slip."""
    known = {r.value for r in Requirement}
    return ordered(c for c in (event.redeem_requires or "").split() if c in known)


@dataclass(frozen=True)
class Missing:
    """One requirement not met: what is missing (short, and in detail: the fields), and where
    the customer goes for it."""

    requirement: Requirement
    what: str
    where: str
    place: str  # SERVICE_DESK or HERE (the activation desk)
    details: tuple[str, ...] = ()  # e.g. each KYC field with its problem

    @property
    def sentence(self) -> str:
        what = (
            _("{what} ({detail})").format(what=self.what, detail=listing(self.details))
            if self.details
            else self.what
        )
        return _("{what}: {where}").format(what=what, where=self.where)

    @property
    def short_what(self) -> str:
        """What is missing with the details counted, not listed."""
        if not self.details:
            return self.what
        return _("{what} ({n} items)").format(what=self.what, n=len(self.details))


@dataclass(frozen=True)
class Gate:
    """The event's requirements and, for one customer now, those not met."""

    required: tuple[Requirement, ...]
    missing: tuple[Missing, ...]

    @property
    def open(self) -> bool:
        return not self.missing

    @property
    def met(self) -> tuple[Requirement, ...]:
        missing = {m.requirement for m in self.missing}
        return tuple(r for r in self.required if r not in missing)

    def compact(self) -> list[str]:
        """One line per place the customer goes, details counted (large print, little
        room): "Data incomplete (7 items), no mobile banking: send the customer to the
        service desk"."""
        lines = []
        for place in (SERVICE_DESK, HERE):
            items = [m for m in self.missing if m.place == place]
            if not items:
                continue
            where = (
                _("send the customer to the service desk")
                if place == SERVICE_DESK
                else listing(m.where for m in items)
            )
            what = listing(m.short_what for m in items)
            lines.append(_("{what}: {where}").format(what=what, where=where))
        return lines

    def explanation(self) -> str:
        """One paragraph for a refusal: every missing step with where to send the customer."""
        return _("Not ready for slips. {missing}").format(
            missing=sentences(m.sentence for m in self.missing)
        )


def check(session: Session, event: Event, customer: Customer, visit_id: int, today: date) -> Gate:
    """The gate for this customer's visit, read in the caller's transaction."""
    done = set(
        session.scalars(
            select(VisitStep.step).where(
                VisitStep.visit_id == visit_id, VisitStep.step.in_(list(_STEP.values()))
            )
        )
    )
    return judge(stored(event), customer, today, done)


# The visit steps ``judge`` reads: a caller judging many customers at once (the follow-up
# lists) reads these for every visit in one query.
VISIT_STEPS: tuple[str, ...] = tuple(_STEP.values())


def judge(
    required: tuple[Requirement, ...], customer: Customer, today: date, done: set[str]
) -> Gate:
    """The gate from what is known already (the visit's steps ``done``): no query, so the
    activation desk and a list of thousands judge by the same rule."""
    service_desk = _("send the customer to the service desk")
    missing: list[Missing] = []
    for requirement in required:
        if requirement == Requirement.DATA:
            gaps = governance_gaps(customer, today)
            if gaps:
                fields = tuple(
                    _("{field} {problem}").format(
                        field=kyc_field_label(field), problem=gap_label(problem)
                    )
                    for field, problem in gaps.items()
                )
                missing.append(
                    Missing(requirement, _("Data incomplete"), service_desk, SERVICE_DESK, fields)
                )
        elif requirement == Requirement.MOBILE_BANKING:
            if customer.mobile_banking == MobileBanking.NONE:
                missing.append(
                    Missing(
                        requirement,
                        _("No mobile banking"),
                        _("send the customer to the service desk to open it"),
                        SERVICE_DESK,
                    )
                )
            elif customer.mobile_banking != MobileBanking.ACTIVE:
                missing.append(
                    Missing(
                        requirement,
                        _("Mobile banking opened but not active yet"),
                        _("log in with the customer here (F6)"),
                        HERE,
                    )
                )
        elif _STEP[requirement] not in done:
            if requirement == Requirement.LOGIN:
                if customer.mobile_banking == MobileBanking.NONE:
                    where, place = (
                        _("send the customer to the service desk to open it"),
                        SERVICE_DESK,
                    )
                else:
                    where, place = _("log in with the customer here (F6)"), HERE
                missing.append(
                    Missing(requirement, _("Mobile-banking login not done"), where, place)
                )
            else:
                missing.append(
                    Missing(
                        requirement,
                        _("Charity scan-pay not done"),
                        _("do the scan-pay with the customer here (F7)"),
                        HERE,
                    )
                )
    return Gate(required, tuple(missing))


def event_today(event: Event, clock: Clock | None) -> date:
    return (clock or Clock()).now().astimezone(ZoneInfo(event.timezone)).date()


def gate_for(uow: UnitOfWork, customer_id: int, *, clock: Clock | None = None) -> Gate:
    """The gate for a checked-in customer now, as the activation desk shows it."""
    with uow:
        s = uow.session
        event = current_event(s)
        customer = s.get(Customer, customer_id)
        if customer is None:
            raise KioskError(_("This customer no longer exists."))
        visit_id = s.scalar(
            select(Visit.id).where(Visit.customer_id == customer.id, Visit.event_id == event.id)
        )
        if visit_id is None:
            raise KioskError(_("The customer has not checked in."))
        return check(s, event, customer, visit_id, event_today(event, clock))


def requirements(uow: UnitOfWork) -> tuple[Requirement, ...]:
    with uow:
        return stored(current_event(uow.session))


def set_requirements(
    uow: UnitOfWork,
    required: Iterable[Requirement | str],
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "",
) -> tuple[Requirement, ...]:
    """Set what the event requires before slips (a supervisor's decision, audited). Slips
    already issued stay; the new rule applies from the next issue on."""
    require(staff, Action.SET_REDEEM_REQUIREMENTS)
    chosen = ordered(required)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        before = stored(event)
        if before == chosen:
            return chosen
        event.redeem_requires = " ".join(r.value for r in chosen)
        audit.append(
            s,
            at=now,
            action="redeem_requirements_set",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={"requires": [r.value for r in chosen], "was": [r.value for r in before]},
        )
        uow.commit()
        return chosen
