"""The queue invariant: every checked-in customer is in exactly one state.

A customer who checked in is, at every moment, exactly one of: waiting in a queue, called at
a named desk, done, or set aside as a no-show. A screen can only show what the database says,
so the database must never say two of these at once (waiting for the service desk and called
at activation), nothing at all (a visit without a ticket), or something no screen can show (a
ticket called with no desk, two customers called to one desk, where one is lost from sight).

``violations`` reads the event database and returns every break of the rule in words, so a
test can call it after every step of a flow and say exactly what went wrong. It checks what
the services write; the partial unique indexes on ``queue_entry`` hold the two worst breaks
(two open tickets for one visit, two customers called to one desk) in the database itself.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kiosk.i18n import _
from kiosk.labels import queue_label
from kiosk.masking import mask_name
from kiosk.models import Customer, QueueEntry, QueueStatus, Visit
from kiosk.services.reception import ticket_label
from kiosk.uow import UnitOfWork


class CustomerState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class Ticket:
    """What the rule needs of one queue entry, as plain values."""

    ticket: str
    queue: str
    status: str
    desk: str | None
    called_by: int | None
    called_at: datetime | None
    finished_at: datetime | None


OPEN = (QueueStatus.WAITING, QueueStatus.CALLED)


def _ticket_problems(t: Ticket) -> list[str]:
    """What is wrong with one ticket on its own: each status has its own facts."""
    problems = []
    if t.status == QueueStatus.CALLED:
        if not (t.desk or "").strip():
            problems.append(_("{ticket} is called at no named desk").format(ticket=t.ticket))
        if t.called_by is None or t.called_at is None:
            problems.append(
                _("{ticket} is called without who called it or when").format(ticket=t.ticket)
            )
    elif t.status == QueueStatus.WAITING:
        if t.desk is not None or t.called_by is not None:
            problems.append(
                _("{ticket} is waiting but still names desk {desk}").format(
                    ticket=t.ticket, desk=t.desk or "?"
                )
            )
    elif t.status in (QueueStatus.DONE, QueueStatus.SKIPPED):
        if t.finished_at is None:
            problems.append(_("{ticket} is closed without a time").format(ticket=t.ticket))
    else:
        problems.append(
            _("{ticket} has the status {status}, which no desk shows").format(
                ticket=t.ticket, status=t.status
            )
        )
    return problems


def state_of(tickets: Sequence[Ticket]) -> tuple[CustomerState | None, list[str]]:
    """The one state of a checked-in customer with these tickets (oldest first), and what
    breaks the rule. Only the newest ticket may be open or a no-show: every earlier one was
    done when the next was issued."""
    if not tickets:
        return None, [_("checked in but holds no queue ticket")]
    problems = [p for t in tickets for p in _ticket_problems(t)]
    open_tickets = [t for t in tickets if t.status in OPEN]
    if len(open_tickets) > 1:
        problems.append(
            _("in several states at once: {tickets}").format(
                tickets=", ".join(f"{t.ticket} {t.status}" for t in open_tickets)
            )
        )
    for earlier in tickets[:-1]:
        if earlier.status != QueueStatus.DONE and earlier not in open_tickets:
            problems.append(
                _("{ticket} is {status} although a later ticket was issued").format(
                    ticket=earlier.ticket, status=earlier.status
                )
            )
    last = tickets[-1]
    state = {
        QueueStatus.WAITING: CustomerState.WAITING,
        QueueStatus.CALLED: CustomerState.CALLED,
        QueueStatus.DONE: CustomerState.DONE,
        QueueStatus.SKIPPED: CustomerState.NO_SHOW,
    }.get(QueueStatus(last.status) if last.status in set(QueueStatus) else None)
    if open_tickets and last not in open_tickets:
        problems.append(
            _("{ticket} is still open behind the newer {last}").format(
                ticket=open_tickets[0].ticket, last=last.ticket
            )
        )
    return (state if not problems else None), problems


def violations(uow: UnitOfWork) -> list[str]:
    """Every break of the queue invariant in the event database, one sentence each (an empty
    list when every checked-in customer is in exactly one state and every desk shows at most
    one customer)."""
    with uow:
        s = uow.session
        customers = {
            visit_id: (customer_no, name)
            for visit_id, customer_no, name in s.execute(
                select(Visit.id, Customer.customer_no, Customer.name)
                .join(Customer, Customer.id == Visit.customer_id)
                .order_by(Visit.id)
            )
        }
        tickets: dict[int, list[Ticket]] = defaultdict(list)
        desks: dict[tuple[int, str, str], list[str]] = defaultdict(list)
        orphans: list[str] = []
        for entry in s.scalars(select(QueueEntry).order_by(QueueEntry.visit_id, QueueEntry.id)):
            ticket = Ticket(
                ticket_label(entry.queue, entry.ticket_no),
                entry.queue,
                entry.status,
                entry.desk,
                entry.called_by,
                entry.called_at,
                entry.finished_at,
            )
            if entry.visit_id not in customers:
                orphans.append(ticket.ticket)
            tickets[entry.visit_id].append(ticket)
            if entry.status == QueueStatus.CALLED and entry.desk:
                desks[(entry.event_id, entry.queue, entry.desk)].append(ticket.ticket)
    found: list[str] = []
    for visit_id, (customer_no, name) in customers.items():
        _state, problems = state_of(tickets.get(visit_id, []))
        who = _("Customer {customer_no} ({name})").format(
            customer_no=customer_no, name=mask_name(name)
        )
        found.extend(f"{who}: {problem}" for problem in problems)
    for (_event, queue, desk), called in sorted(desks.items()):
        if len(called) > 1:
            found.append(
                _("Desk {desk} ({queue}) has called {n} customers at once: {tickets}").format(
                    desk=desk, queue=queue_label(queue), n=len(called), tickets=", ".join(called)
                )
            )
    found.extend(
        _("Ticket {ticket} belongs to no checked-in customer").format(ticket=t) for t in orphans
    )
    return found
