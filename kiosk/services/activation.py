"""The activation desk: mobile-banking login, charity scan-pay and prize, the catalog and cart.

Each activation step is a timestamped visit step with the member of staff, recorded once: a
second press says when and by whom it was already done, so two desks (or a double click) never
count a prize twice. The catalog shows what is left for the event now; issuing checks capacity
and balance again (``kiosk.services.slips``), because another desk may have sold the last one
in between.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select

from kiosk import audit, outbox
from kiosk.changeset import Changes
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.masking import mask_name
from kiosk.models import (
    Customer,
    Invitation,
    Merchant,
    MobileBanking,
    Offer,
    Preselection,
    QueueEntry,
    QueueStatus,
    Staff,
    Visit,
    VisitStep,
)
from kiosk.permissions import Action, require
from kiosk.points import available_points
from kiosk.services.auth import StaffSession
from kiosk.services.desk import counter_label
from kiosk.services.events import current_event
from kiosk.services.gate import Gate, check, event_today
from kiosk.services.slips import CartLine
from kiosk.theme_scope import customer_scope, named_scope
from kiosk.tiers import shown_tier
from kiosk.uow import UnitOfWork


class ActivationError(KioskError):
    """An activation step that cannot be recorded; nothing was written."""


# The note on a mobile-banking login by a customer the snapshot flagged dormant: the login
# clears ``Customer.dormant``, so the step keeps the fact for the figures (dormant customers
# reactivated at the event, ``kiosk.services.figures``), whatever a later pull says.
REACTIVATED_NOTE = "reactivated"


class Step(enum.StrEnum):
    MOBILE_BANKING_LOGIN = "mobile_banking_login"
    CHARITY_PAID = "charity_paid"
    PRIZE_GIVEN = "prize_given"


@dataclass(frozen=True)
class StepDone:
    at: datetime
    staff_name: str


@dataclass(frozen=True)
class DeskCustomer:
    """The customer in front of the activation desk."""

    customer_id: int
    visit_id: int
    masked_name: str
    tier: str
    balance: int
    balance_as_of: datetime | None
    mobile_banking: str
    steps: dict[Step, StepDone]
    timezone: str
    gate: Gate  # what the event requires before slips, and what this customer still lacks


@dataclass(frozen=True)
class CatalogOffer:
    code: str
    name: str
    category: str
    merchant_code: str
    merchant_name: str
    booth: str
    points_price: int
    remaining: int
    redeem_by: date
    description: str


def desk_customer(uow: UnitOfWork, customer_id: int, *, clock: Clock | None = None) -> DeskCustomer:
    """The customer with balance, activation steps and the redemption gate; only a
    checked-in customer."""
    with uow:
        s = uow.session
        event = current_event(s)
        customer = s.get(Customer, customer_id)
        if customer is None:
            raise ActivationError(_("This customer no longer exists."))
        visit = s.scalar(
            select(Visit).where(Visit.customer_id == customer.id, Visit.event_id == event.id)
        )
        if visit is None:
            raise ActivationError(
                _("{name} has not checked in; send the customer to reception first.").format(
                    name=mask_name(customer.name)
                )
            )
        steps: dict[Step, StepDone] = {}
        for step, at, name in s.execute(
            select(VisitStep.step, VisitStep.at, Staff.name)
            .join(Staff, Staff.id == VisitStep.staff_id)
            .where(VisitStep.visit_id == visit.id, VisitStep.step.in_(list(Step)))
            .order_by(VisitStep.at)
        ):
            steps.setdefault(Step(step), StepDone(at, name))
        return DeskCustomer(
            customer_id=customer.id,
            visit_id=visit.id,
            masked_name=mask_name(customer.name),
            tier=shown_tier(s, event.id, customer),
            balance=available_points(s, customer, event_today(event, clock)),
            balance_as_of=customer.balance_as_of,
            mobile_banking=customer.mobile_banking,
            steps=steps,
            timezone=event.timezone,
            gate=check(s, event, customer, visit.id, event_today(event, clock)),
        )


def record_step(
    uow: UnitOfWork,
    customer_id: int,
    step: Step,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "activation",
) -> Changes:
    """Record one activation step for the customer's visit, once."""
    require(staff, Action.RECORD_STEP)
    now = (clock or Clock()).now()
    step = Step(step)
    with uow:
        s = uow.session
        event = current_event(s)
        # Lock the customer: two desks pressing "prize given" at once record it once.
        customer = s.scalar(select(Customer).where(Customer.id == customer_id).with_for_update())
        if customer is None:
            raise ActivationError(_("This customer no longer exists."))
        visit = s.scalar(
            select(Visit).where(Visit.customer_id == customer.id, Visit.event_id == event.id)
        )
        if visit is None:
            raise ActivationError(_("The customer has not checked in."))
        done = {
            name: (at, staff_name)
            for name, at, staff_name in s.execute(
                select(VisitStep.step, VisitStep.at, Staff.name)
                .join(Staff, Staff.id == VisitStep.staff_id)
                .where(VisitStep.visit_id == visit.id)
            )
        }
        if step in done:
            at, by = done[step]
            raise ActivationError(
                _("Already recorded at {time} by {name}.").format(
                    time=_local_time(at, event.timezone), name=by
                )
            )
        note = ""
        if step == Step.MOBILE_BANKING_LOGIN:
            if customer.mobile_banking == MobileBanking.NONE:
                raise ActivationError(
                    _("The customer has no mobile banking yet: the service desk opens it first.")
                )
            customer.mobile_banking = MobileBanking.ACTIVE
            customer.last_activity_on = now.astimezone(ZoneInfo(event.timezone)).date()
            if customer.dormant:
                note = REACTIVATED_NOTE
            customer.dormant = False
        if step == Step.PRIZE_GIVEN and Step.CHARITY_PAID not in done:
            raise ActivationError(_("The prize is handed out after the charity scan-pay."))
        s.add(VisitStep(visit_id=visit.id, step=step, at=now, staff_id=staff.staff_id, note=note))
        outbox.enqueue(
            s,
            event_id=event.id,
            kind=step.value,
            at=now,
            payload={
                "event": event.code,
                "customer_no": customer.customer_no,
                "at": now.isoformat(),
            },
        )
        audit.append(
            s,
            at=now,
            action=step.value,
            staff_id=staff.staff_id,
            station=station,
            entity="visit",
            entity_id=visit.id,
        )
        uow.commit()
        return Changes.of(customers=[customer.id], visits=[visit.id])


def finish(
    uow: UnitOfWork,
    entry_id: int,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "activation",
    desk: str | None = None,
) -> Changes:
    """The customer leaves the activation desk: the ticket is done, the visit step recorded.
    With ``desk``, only a ticket called at that desk (a stale screen never finishes a
    customer another counter has called since)."""
    require(staff, Action.FINISH_ACTIVATION)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        # Locked: a double press (or two desks) finishes the ticket once.
        entry = s.scalar(_entry_locked(), {"entry_id": entry_id})
        if entry is None:
            raise ActivationError(_("This queue ticket no longer exists."))
        if entry.status != QueueStatus.CALLED:
            raise ActivationError(_("Only a called ticket can be finished."))
        if desk is not None and entry.desk != desk:
            raise ActivationError(
                _("This ticket is now called at {counter}; it is finished there.").format(
                    counter=counter_label(entry.desk or "")
                )
            )
        # A Core INSERT and UPDATE noted for the audit as the flush would note them (issue
        # #23: the flush was two fifths of a finish's CPU on the station, then a third with
        # the ticket alone in it); nothing reads the step back. Sent in the flush's order.
        audit.insert_noted(
            s,
            VisitStep,
            {
                "visit_id": entry.visit_id,
                "step": "activation_done",
                "at": now,
                "staff_id": staff.staff_id,
            },
        )
        audit.update_noted(s, entry, {"status": QueueStatus.DONE, "finished_at": now})
        audit.append(
            s,
            at=now,
            action="activation_done",
            staff_id=staff.staff_id,
            station=station,
            entity="visit",
            entity_id=entry.visit_id,
        )
        uow.commit()
        return Changes.of(queues=[entry.queue], visits=[entry.visit_id])


@functools.cache
def _entry_locked() -> Select[tuple[QueueEntry]]:
    """``finish``'s ticket, locked and read afresh, built once with the ticket as a bound
    parameter (issue #23: building it each time cost the station more than its answer)."""
    return (
        select(QueueEntry)
        .where(QueueEntry.id == bindparam("entry_id"))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _local_time(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def catalog(
    uow: UnitOfWork, customer_id: int | None = None, *, theme: str | None = None
) -> list[CatalogOffer]:
    """Every offer of the event with what is left, by merchant, category and code: the ones
    of the customer's themed session, or with nobody named of the event's own theme, or of
    the theme coded ``theme`` (``kiosk.theme_scope``)."""
    with uow:
        s = uow.session
        event = current_event(s)
        scope = (
            named_scope(s, event.id, theme) if theme else customer_scope(s, event.id, customer_id)
        )
        return [
            CatalogOffer(
                code=offer.code,
                name=offer.name,
                category=offer.category,
                merchant_code=merchant.code,
                merchant_name=merchant.name,
                booth=merchant.booth,
                points_price=offer.points_price,
                remaining=offer.remaining,
                redeem_by=offer.redeem_by,
                description=offer.description,
            )
            for offer, merchant in s.execute(
                select(Offer, Merchant)
                .join(Merchant, Merchant.id == Offer.merchant_id)
                .where(Offer.event_id == event.id)
                .order_by(Merchant.code, Offer.category, Offer.code)
            )
            if scope.allows(offer.category, merchant.code, offer.code)
        ]


def preselected_cart(uow: UnitOfWork, customer_id: int) -> list[CartLine]:
    """The services chosen with the invitation, to start the cart with (those of the
    customer's themed session: one chosen before the theme was set is left out)."""
    with uow:
        s = uow.session
        event = current_event(s)
        scope = customer_scope(s, event.id, customer_id)
        return [
            CartLine(code, quantity)
            for code, quantity, category, merchant in s.execute(
                select(Offer.code, Preselection.quantity, Offer.category, Merchant.code)
                .join(Merchant, Merchant.id == Offer.merchant_id)
                .join(Preselection, Preselection.offer_id == Offer.id)
                .join(Invitation, Invitation.id == Preselection.invitation_id)
                .where(Invitation.customer_id == customer_id, Invitation.event_id == event.id)
                .order_by(Preselection.id)
            )
            if scope.allows(category, merchant, code)
        ]
