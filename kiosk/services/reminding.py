"""Reminders sent (issue #20): an RM ticks the customers they reminded, or the SMS platform's
send report is imported (``kiosk.services.imports``, kind ``reminder_report``); each becomes an
``InvitationContact`` of purpose *reminder* through ``kiosk.contacts`` (appended, never
overwritten, fingerprinted: the same tick on the same day, or the same report imported again,
adds nothing).

A tick is the RM's for their own customers (the invitation's RM, ``rm_id``, or the RM it is
credited to, ``invited_by``); a supervisor may tick anyone's. It records channel SMS unless
said otherwise, the day in the event's time zone and the RM as the one who made the contact.

Per RM (the invitation's RM, ``rm_id``, as the reminder list groups them): of their confirmed
customers, the share reminded (at least one reminder recorded), and of those who arrived with
a planned window, the share arriving in it (``kiosk.services.arrival.against_window``, the
rule reception shows). These figures are kept here, apart from ``services.reports``, so a
report can take them as columns of their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from kiosk import audit, contacts
from kiosk.changeset import Changes
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import (
    ContactChannel,
    ContactPurpose,
    Customer,
    Invitation,
    InvitationContact,
    InvitationStatus,
    Role,
    Staff,
    TimeSlot,
    Visit,
)
from kiosk.permissions import Action, require
from kiosk.services.arrival import against_window, window_end
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.services.tracking import Reminder, reminders
from kiosk.uow import UnitOfWork


@dataclass(frozen=True)
class Marked:
    recorded: int  # reminders added to the history
    already: int  # ticked already today (nothing added)
    changes: Changes = field(default_factory=Changes, compare=False)

    def summary(self) -> str:
        text = _("{n} reminder(s) recorded.").format(n=self.recorded)
        if self.already:
            text += " " + _("{n} already recorded today.").format(n=self.already)
        return text


def mark_reminded(
    uow: UnitOfWork,
    staff: StaffSession,
    customers: list[str],
    *,
    channel: ContactChannel | str = ContactChannel.SMS,
    clock: Clock | None = None,
    station: str = "station",
) -> Marked:
    """Record that ``staff`` reminded these customers (customer numbers or invitation codes)
    today; all or nothing, refused in a sentence naming the first customer that cannot be."""
    require(staff, Action.RECORD_REMINDER)
    try:
        channel = ContactChannel(channel)
    except ValueError:
        raise KioskError(
            _("“{value}” is not a channel: use one of {allowed}.").format(
                value=channel, allowed=" / ".join(ContactChannel)
            )
        ) from None
    wanted = [c.strip() for c in customers if c.strip()]
    if not wanted:
        raise KioskError(_("Choose the customers you reminded first."))
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        today = now.astimezone(ZoneInfo(event.timezone)).date()
        rows = s.execute(
            select(Invitation, Customer.customer_no)
            .join(Customer, Customer.id == Invitation.customer_id)
            .where(
                Invitation.event_id == event.id,
                or_(
                    Customer.customer_no.in_(wanted),
                    Invitation.code.in_([w.upper() for w in wanted]),
                ),
            )
        ).all()
        found: dict[str, tuple[Invitation, str]] = {}
        for invitation, number in rows:
            found[number] = (invitation, number)
            found[invitation.code] = (invitation, number)
        supervisor = Role.SUPERVISOR in staff.roles
        chosen: dict[int, Invitation] = {}
        for key in wanted:
            hit = found.get(key) or found.get(key.upper())
            if hit is None:
                raise KioskError(
                    _("{customer} is not an invitee of this event; nothing was recorded.").format(
                        customer=key
                    )
                )
            invitation, number = hit
            if invitation.status != InvitationStatus.CONFIRMED:
                raise KioskError(
                    _(
                        "Customer {customer} has not confirmed: reminders go to confirmed "
                        "customers. Nothing was recorded."
                    ).format(customer=number)
                )
            if not supervisor and staff.staff_id not in (invitation.rm_id, invitation.invited_by):
                raise KioskError(
                    _(
                        "Customer {customer} is not yours: only their RM or a supervisor "
                        "records their reminder. Nothing was recorded."
                    ).format(customer=number)
                )
            chosen[invitation.id] = invitation
        new = contacts.record(
            s,
            [
                contacts.Contact(
                    invitation_id=invitation_id,
                    purpose=ContactPurpose.REMINDER,
                    channel=channel,
                    contacted_on=today,
                    staff_id=staff.staff_id,
                    at=now,
                )
                for invitation_id in chosen
            ],
            source=station or "station",
            now=now,
            recorded_by=staff.staff_id,
        )
        result = Marked(
            new,
            len(chosen) - new,
            Changes.of(customers=[i.customer_id for i in chosen.values()]) if new else Changes(),
        )
        if new:
            audit.append(
                s,
                at=now,
                action="reminders_recorded",
                staff_id=staff.staff_id,
                station=station,
                entity="event",
                entity_id=event.id,
                details={"customers": len(chosen), "new": new, "channel": str(channel)},
            )
            uow.commit()
        return result


def reminded(uow: UnitOfWork) -> dict[str, date]:
    """Customer number -> the last day a reminder was recorded for them."""
    with uow:
        s = uow.session
        event = current_event(s)
        return {
            number: day
            for number, day in s.execute(
                select(Customer.customer_no, func.max(InvitationContact.contacted_on))
                .join(Invitation, Invitation.customer_id == Customer.id)
                .join(InvitationContact, InvitationContact.invitation_id == Invitation.id)
                .where(
                    Invitation.event_id == event.id,
                    InvitationContact.purpose == ContactPurpose.REMINDER,
                )
                .group_by(Customer.customer_no)
            )
        }


@dataclass(frozen=True)
class MyCustomer:
    """One confirmed customer on an RM's list: their reminder and the last day one was
    recorded (None: not reminded yet)."""

    reminder: Reminder
    last_reminded: date | None


@dataclass(frozen=True)
class MyCustomers:
    """The list the station 我的客户 shows: an RM's confirmed customers (their own and those
    credited to them), or for a supervisor everyone's or one RM's."""

    rm_no: str  # whose list: the RM's staff number; "" for everyone (a supervisor's)
    customers: list[MyCustomer]
    rms: list[tuple[str, str]]  # a supervisor's filter: (staff no, name) of every RM; [] else

    @property
    def reminded(self) -> int:
        return sum(1 for c in self.customers if c.last_reminded is not None)


def my_customers(uow: UnitOfWork, staff: StaffSession, rm_no: str = "") -> MyCustomers:
    """The confirmed customers ``staff`` reminds: an RM's own (the invitation's RM or the RM
    it is credited to), never another RM's; a supervisor's choice of RM (``rm_no``, by the
    same rule) or, without one, everyone's. Phones masked."""
    require(staff, Action.RECORD_REMINDER)
    supervisor = Role.SUPERVISOR in staff.roles
    rm_no = rm_no.strip()
    with uow:
        s = uow.session
        current_event(s)
        rms = (
            [
                (m.staff_no, m.name)
                for m in s.scalars(select(Staff).order_by(Staff.staff_no))
                if Role.RM in m.role_set
            ]
            if supervisor
            else []
        )
        if not supervisor:
            if rm_no and rm_no != staff.staff_no:
                raise KioskError(_("You see your own customers only."))
            rm_id: int | None = staff.staff_id
            rm_no = staff.staff_no
        elif rm_no:
            rm_id = s.scalar(select(Staff.id).where(Staff.staff_no == rm_no))
            if rm_id is None:
                raise KioskError(_("There is no member of staff “{value}”.").format(value=rm_no))
        else:
            rm_id = None
    listed = reminders(uow, rm_id=rm_id)
    with uow:
        s = uow.session
        event = current_event(s)
        query = (
            select(Customer.customer_no, func.max(InvitationContact.contacted_on))
            .join(Invitation, Invitation.customer_id == Customer.id)
            .join(InvitationContact, InvitationContact.invitation_id == Invitation.id)
            .where(
                Invitation.event_id == event.id,
                InvitationContact.purpose == ContactPurpose.REMINDER,
            )
            .group_by(Customer.customer_no)
        )
        if rm_id is not None:  # the same customers as the list
            query = query.where(or_(Invitation.rm_id == rm_id, Invitation.invited_by == rm_id))
        last: dict[str, date] = {number: day for number, day in s.execute(query)}
    return MyCustomers(rm_no, [MyCustomer(r, last.get(r.customer_no)) for r in listed], rms)


@dataclass(frozen=True)
class RmReminders:
    """One RM (or the total): their confirmed customers reminded, and arriving in their
    window."""

    rm_no: str  # "" for customers without an RM, and for the total
    rm_name: str
    confirmed: int
    reminded: int
    arrived: int  # confirmed customers who checked in
    with_window: int  # of those, who had a planned window
    in_window: int  # of those, who arrived in it

    @property
    def reminded_share(self) -> float | None:
        return self.reminded / self.confirmed if self.confirmed else None

    @property
    def in_window_share(self) -> float | None:
        return self.in_window / self.with_window if self.with_window else None


@dataclass(frozen=True)
class ReminderFigures:
    rms: list[RmReminders]
    total: RmReminders


def rm_reminder_figures(uow: UnitOfWork) -> ReminderFigures:
    """Per RM: the share of their confirmed customers reminded, and of those who arrived with
    a window, the share arriving in it."""
    with uow:
        s = uow.session
        event = current_event(s)
        minutes = event.window_minutes
        reminded_ids = set(
            s.scalars(
                select(InvitationContact.invitation_id)
                .join(Invitation, Invitation.id == InvitationContact.invitation_id)
                .where(
                    Invitation.event_id == event.id,
                    InvitationContact.purpose == ContactPurpose.REMINDER,
                )
                .distinct()
            )
        )
        rows = s.execute(
            select(
                Invitation.id,
                Invitation.rm_id,
                Invitation.window_starts_at,
                TimeSlot.ends_at,
                Visit.checked_in_at,
            )
            .join(TimeSlot, TimeSlot.id == Invitation.slot_id)
            .outerjoin(
                Visit,
                (Visit.customer_id == Invitation.customer_id) & (Visit.event_id == event.id),
            )
            .where(
                Invitation.event_id == event.id,
                Invitation.status == InvitationStatus.CONFIRMED,
            )
        ).all()
        counts: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for invitation_id, rm_id, starts, slot_ends, arrived_at in rows:
            c = counts[rm_id]
            c[0] += 1
            c[1] += invitation_id in reminded_ids
            if arrived_at is None:
                continue
            c[2] += 1
            if starts is None:
                continue
            c[3] += 1
            ends = window_end(slot_ends, starts, minutes)
            c[4] += against_window(arrived_at, starts, ends)[0] == 0
        staff = {m.id: m for m in s.scalars(select(Staff).where(Staff.id.in_(list(counts))))}
        result = [
            RmReminders(
                staff[rm_id].staff_no if rm_id in staff else "",
                staff[rm_id].name if rm_id in staff else "",
                *c,
            )
            for rm_id, c in counts.items()
        ]
        result.sort(key=lambda r: (r.rm_no == "", r.rm_no))
        total = RmReminders("", "", *[sum(c[k] for c in counts.values()) for k in range(5)])
        return ReminderFigures(result, total)


def percent_text(share: float | None) -> str:
    return "—" if share is None else f"{round(100 * share)}%"
