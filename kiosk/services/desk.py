"""The service desk: call the next customer, govern their data, open mobile banking, route on.

"Call next" must give a customer to exactly one desk, even when two desks press it at once:
each candidate is claimed with a conditional UPDATE (``... WHERE status = 'waiting'``); on
PostgreSQL a second desk racing for the same row waits for the first, sees the row no longer
waiting and moves on to the next candidate, and on SQLite ``BEGIN IMMEDIATE`` serialises the
two. A customer routed to their RM waits for that RM first and falls back to any desk after
``DeskPolicy.rm_fallback``.

A desk is a counter (``counter_name``: "3 号柜台", set once per laptop) at one queue: the
service desk and the activation desk at one counter are two desks. What a desk has called is
the ticket in the database whose status is ``called`` with that counter in ``desk``, never
what a screen remembers, so a re-layout, a restart, a sign-out or another laptop given the
same counter name all show the same customer (``current_call``). A desk calls one customer
at a time: ``call_next`` refuses while its ticket is still called (``DeskBusy``), under a
lock per desk, and a partial unique index holds it in the database too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    case,
    column,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from kiosk import audit, idempotency, outbox, privacy
from kiosk.changeset import NOTHING, ChangedList, Changes
from kiosk.clock import Clock
from kiosk.current_event import CURRENT, guess, keep
from kiosk.errors import KioskError
from kiosk.governance import FIELDS, KycForm, OnRecord, normalized, validate
from kiosk.i18n import _
from kiosk.kyc import governance_gaps
from kiosk.locks import lock_columns, transaction_lock
from kiosk.masking import mask_name
from kiosk.models import (
    Customer,
    Event,
    GovernanceChange,
    Invitation,
    MobileBanking,
    Queue,
    QueueEntry,
    QueueStatus,
    Staff,
    Visit,
    VisitStep,
)
from kiosk.permissions import Action, require
from kiosk.points import available_points
from kiosk.privacy import SEALED_FIELDS
from kiosk.search import index_customer
from kiosk.search_keys import customer_keys
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.services.gate import event_today
from kiosk.services.reception import insert_ticket_locked, ticket_label, ticket_lock
from kiosk.uow import UnitOfWork


class DeskError(KioskError):
    """A desk action that cannot go ahead; the message says why."""


class GovernanceInvalid(DeskError):
    """The form has invalid fields; ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Some fields are not valid; nothing was saved."))
        self.errors = errors


class DeskBusy(DeskError):
    """The desk still has a customer called: finish, set aside or put them back first."""

    def __init__(self, called: Called) -> None:
        super().__init__(
            _("{ticket} is still called at {counter}: finish that customer first.").format(
                ticket=called.ticket, counter=counter_label(called.desk)
            )
        )
        self.called = called


COUNTER_MAX = 16  # queue_entry.desk is VARCHAR(16)


def counter_name(text: str | None) -> str:
    """A counter's name as stored: spaces trimmed and collapsed, 1 to 16 characters."""
    name = " ".join((text or "").split())
    if not name:
        raise DeskError(_('Name this laptop\'s counter first (for example "Counter 3").'))
    if len(name) > COUNTER_MAX:
        raise DeskError(
            _("A counter name has at most {n} characters: {name}").format(n=COUNTER_MAX, name=name)
        )
    return name


def counter_label(name: str) -> str:
    """The counter as the public display and the banners say it: a bare number such as "3"
    reads "3 号柜台" ("counter 3"); any other name (such as "3 号柜台" itself) as it is."""
    return _("counter {number}").format(number=name) if name.isdigit() else name


@dataclass(frozen=True)
class DeskPolicy:
    rm_fallback: timedelta = timedelta(minutes=10)  # then any desk may call the customer


@dataclass(frozen=True)
class Called:
    entry_id: int
    visit_id: int
    customer_id: int
    ticket: str
    masked_name: str
    reason: str
    waited_minutes: int
    timezone: str = "Asia/Shanghai"
    desk: str = ""  # the counter it is called to
    queue: str = Queue.SERVICE_DESK
    called_at: datetime | None = None
    # What the call changed (nothing when only read); not part of which call it is.
    changes: Changes = field(default=NOTHING, compare=False)


def _visit_and_customer(s: Session, visit_id: int) -> tuple[Visit, Customer]:
    """The visit and its customer: from the session when it holds them, else in one query
    (a join, not two reads: one round trip on the venue LAN instead of two)."""
    visit = s.get(Visit, visit_id) if (Visit, (visit_id,), None) in s.identity_map else None
    customer = s.get(Customer, visit.customer_id) if visit is not None else None
    if visit is None or customer is None:
        row = s.execute(_visit_and_customer_query(), {"visit_id": visit_id}).one()
        visit, customer = row[0], row[1]
    return visit, customer


@functools.cache
def _visit_and_customer_query() -> Select[tuple[Visit, Customer]]:
    """``_visit_and_customer``'s query, built once with the visit as a bound parameter: every
    call at a desk sends it, and building it and its cache key anew cost more of the
    station's CPU than its answer (issue #23)."""
    return (
        select(Visit, Customer)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(Visit.id == bindparam("visit_id"))
    )


def _called(
    s: Session, entry: QueueEntry, timezone: str, *, customer: tuple[int, str] | None = None
) -> Called:
    """The call as a desk shows it. ``customer``: the visit's customer's id and name when the
    caller read them already (call next, in its claim); else they are read here."""
    if customer is None:
        _visit, found = _visit_and_customer(s, entry.visit_id)
        customer = (found.id, found.name)
    called_at = entry.called_at or entry.enqueued_at
    return Called(
        entry_id=entry.id,
        visit_id=entry.visit_id,
        customer_id=customer[0],
        ticket=ticket_label(entry.queue, entry.ticket_no),
        masked_name=mask_name(customer[1]),
        reason=entry.reason,
        waited_minutes=int((called_at - entry.enqueued_at).total_seconds() // 60),
        timezone=timezone,
        desk=entry.desk or "",
        queue=entry.queue,
        called_at=entry.called_at,
    )


def _called_at_desk_query(event_id: int, queue: str, desk: str, entry=QueueEntry):  # type: ignore[no-untyped-def]
    return select(entry).where(
        entry.event_id == event_id,
        entry.queue == queue,
        entry.desk == desk,
        entry.status == QueueStatus.CALLED,
    )


def _called_at_desk(s: Session, event_id: int, queue: str, desk: str) -> QueueEntry | None:
    return s.scalar(
        _called_at_desk_query(event_id, queue, desk)
        .order_by(QueueEntry.called_at.desc(), QueueEntry.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )


def current_call(uow: UnitOfWork, *, desk: str, queue: Queue = Queue.SERVICE_DESK) -> Called | None:
    """The customer this desk has called and not yet finished, from the database: what every
    laptop set to this counter shows, whatever happened to the screen that called them."""
    name = " ".join(desk.split())
    if not name:
        return None
    with uow:
        s = uow.session
        event = current_event(s)
        entry = _called_at_desk(s, event.id, queue, name)
        return _called(s, entry, event.timezone) if entry is not None else None


def counter_calls(uow: UnitOfWork, desk: str) -> list[Called]:
    """Every customer called to this counter now, at any of its desks, the latest first:
    what the public display beside the counter shows."""
    name = " ".join(desk.split())
    if not name:
        return []
    with uow:
        s = uow.session
        event = current_event(s)
        entries = s.scalars(
            select(QueueEntry)
            .where(
                QueueEntry.event_id == event.id,
                QueueEntry.desk == name,
                QueueEntry.status == QueueStatus.CALLED,
            )
            .order_by(QueueEntry.called_at.desc(), QueueEntry.id.desc())
        ).all()
        return [_called(s, entry, event.timezone) for entry in entries]


@dataclass(frozen=True)
class CounterInUse:
    name: str
    called: tuple[str, ...]  # the tickets called to it now


def counters(uow: UnitOfWork) -> list[CounterInUse]:
    """Every counter the event's desks have called customers to, with the tickets called to
    each now: a laptop taking over a counter picks its name from these."""
    with uow:
        s = uow.session
        event = current_event(s)
        rows = s.execute(
            select(QueueEntry.desk, QueueEntry.queue, QueueEntry.ticket_no, QueueEntry.status)
            .where(QueueEntry.event_id == event.id, QueueEntry.desk.is_not(None))
            .order_by(QueueEntry.desk, QueueEntry.called_at, QueueEntry.id)
        ).all()
    called: dict[str, list[str]] = {}
    for name, queue, number, status in rows:
        tickets = called.setdefault(name, [])
        if status == QueueStatus.CALLED:
            tickets.append(ticket_label(queue, number))
    return [CounterInUse(name, tuple(tickets)) for name, tickets in sorted(called.items())]


def _lock_desk(s: Session, event: Event, queue: str, desk: str) -> None:
    """Take this desk's turn (PostgreSQL: an advisory lock until commit; SQLite's BEGIN
    IMMEDIATE already serialises), first in the transaction, before any ticket's row lock."""
    transaction_lock(s, _desk_lock(event.id, queue, desk))


def _desk_lock(event_id: int, queue: str, desk: str) -> str:
    return f"desk:{event_id}:{queue}:{desk}"


def _event_and_desk_turn(s: Session, queue: str, desk: str) -> Event:
    """The current event, and this desk's turn taken (``_lock_desk``), in one round trip on
    PostgreSQL when the event last seen current still is (issue #23): the lock's key names
    the event, so it is the guessed one's, and taken only when the row proves the guess
    (``kiosk.current_event``); otherwise the event is asked first, then the lock taken."""
    hint = guess(s)
    if hint is not None:
        columns = lock_columns(s, _desk_lock(hint.id, queue, desk))
        if columns:  # PostgreSQL; SQLite has no lock to fold
            found = s.execute(
                select(CURRENT, *columns).where(CURRENT.id == bindparam("guess")),
                {"guess": hint.id},
            ).first()
            if found is not None:
                return keep(s, found[0])
    event = current_event(s)
    _lock_desk(s, event, queue, desk)
    return event


def _claim_desk(s: Session, event: Event, queue: str, desk: str) -> None:
    """Take this desk's turn and refuse when it still has a customer called, so two laptops
    set to one counter cannot call two customers to it at once."""
    _lock_desk(s, event, queue, desk)
    _refuse_if_busy(s, event, queue, desk)


def _refuse_if_busy(s: Session, event: Event, queue: str, desk: str) -> None:
    busy = _called_at_desk(s, event.id, queue, desk)
    if busy is not None:
        raise DeskBusy(_called(s, busy, event.timezone))


def _entry_order(staff_id: Any, fallback_before: Any, entry=QueueEntry):  # type: ignore[no-untyped-def]
    """This RM's own customers first, then unassigned ones, then others' past the fallback
    (queued at or before ``fallback_before``)."""
    mine = entry.preferred_staff_id == staff_id
    free = entry.preferred_staff_id.is_(None) | (entry.enqueued_at <= fallback_before)
    return mine | free, case((mine, 0), else_=1)


@functools.cache
def _claim_statement(skip_locked: bool) -> Select[tuple[QueueEntry, int, str]]:
    """Find, claim and read the next entry in one statement (one round trip on the venue LAN
    instead of three): ``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``,
    the entry with its customer's id and name (``_CALLED_CUSTOMER``).

    Built once per process with every value a bound parameter (``in_event``, ``in_queue``,
    ``to_desk``, ``staff_id``, ``now``, ``fallback_before``): call next is pressed all day at
    every desk, and building this statement anew each time cost the station more CPU than
    sending it (issue #23: 8 stations share two cores with the server); SQLAlchemy memoises
    a statement object's cache key, so a reused one skips that too.

    ``skip_locked`` (PostgreSQL): the queue pattern, each desk locks the best entry no other
    desk is claiming right now, so desks pressing F5 together get different customers at
    once instead of queueing behind one row; SQLite's BEGIN IMMEDIATE serialises anyway. The
    status condition again in the UPDATE, so that even without the row lock a customer is
    claimed once; the busy desk's check inside it, so a free desk (the common case) asks
    nothing more."""
    # Aliases: subqueries of the UPDATE of queue_entry, never correlated with its row.
    waiting, busy = aliased(QueueEntry, name="waiting"), aliased(QueueEntry, name="busy")
    # Not the columns' names: an UPDATE reserves those for its SET clause.
    event_id, queue, desk = bindparam("in_event"), bindparam("in_queue"), bindparam("to_desk")
    eligible, priority = _entry_order(bindparam("staff_id"), bindparam("fallback_before"), waiting)
    desk_busy = _called_at_desk_query(event_id, queue, desk, busy).exists()
    candidate = (
        select(waiting.id)
        .where(
            waiting.event_id == event_id,
            waiting.queue == queue,
            waiting.status == QueueStatus.WAITING,
            eligible,
            ~desk_busy,
        )
        .order_by(priority, waiting.enqueued_at, waiting.ticket_no)
        .limit(1)
    )
    if skip_locked:
        candidate = candidate.with_for_update(skip_locked=True)
    claim = (
        update(QueueEntry)
        .where(
            QueueEntry.id == candidate.scalar_subquery(),
            QueueEntry.status == QueueStatus.WAITING,
        )
        .values(
            status=QueueStatus.CALLED,
            called_at=bindparam("now"),
            called_by=bindparam("staff_id"),
            desk=desk,
        )
        .returning(QueueEntry, *_CALLED_CUSTOMER)
    )
    # Sent as a select of the entry from the UPDATE's RETURNING: the ORM's own UPDATE path
    # annotates the statement anew on every execution, so its cache key (some 250 µs of a
    # call's CPU) was derived again each time; a select's is derived once (issue #23).
    return select(QueueEntry, *_CALLED_COLUMNS).from_statement(claim)


# The called customer's id and name, read in the claim's RETURNING (issue #23: the card's
# customer was a query of its own, one round trip more on every call). Written out, as a
# RETURNING's subqueries must be on SQLite (``reception._ticket_insert``), and correlated by
# the claimed row's own visit.
_CALLED_CUSTOMER = (
    literal_column(
        "(SELECT visit.customer_id FROM visit WHERE visit.id = queue_entry.visit_id)", Integer
    ).label("called_customer_id"),
    literal_column(
        "(SELECT customer.name FROM visit JOIN customer ON customer.id = visit.customer_id"
        " WHERE visit.id = queue_entry.visit_id)",
        String,
    ).label("called_customer_name"),
)
_CALLED_COLUMNS = (column("called_customer_id", Integer), column("called_customer_name", String))


def call_next(
    uow: UnitOfWork,
    staff: StaffSession,
    *,
    desk: str,
    queue: Queue = Queue.SERVICE_DESK,
    clock: Clock | None = None,
    policy: DeskPolicy | None = None,
) -> Called | None:
    """Claim the next waiting customer for this desk, or None when nobody may be called.

    ``desk`` is the counter's name; a desk that still has a customer called gets
    ``DeskBusy`` (which carries that customer) instead of a second one."""
    require(staff, Action.CALL_QUEUE)
    desk = counter_name(desk)
    now = (clock or Clock()).now()
    policy = policy or DeskPolicy()
    with uow:
        s = uow.session
        # The desk's turn first: two laptops set to one counter never both call.
        event = _event_and_desk_turn(s, queue, desk)
        claimed = s.execute(
            _claim_statement(s.get_bind().dialect.name == "postgresql"),
            {
                "in_event": event.id,
                "in_queue": queue,
                "to_desk": desk,
                "staff_id": staff.staff_id,
                "now": now,
                "fallback_before": now - policy.rm_fallback,
            },
            execution_options={"populate_existing": True},
        ).first()
        if claimed is None:
            _refuse_if_busy(s, event, queue, desk)  # nobody claimed: say why if it is busy
            return None
        entry, customer_id, customer_name = claimed
        result = _record_call(
            s, entry, staff, desk, now, event.timezone, customer=(customer_id, customer_name)
        )
        uow.commit()
        return result


def _record_call(
    s: Session,
    entry: QueueEntry,
    staff: StaffSession,
    desk: str,
    now: datetime,
    timezone: str,
    *,
    customer: tuple[int, str] | None = None,
) -> Called:
    # A Core INSERT noted for the audit as the ORM's flush would note it: sparing the flush
    # (issue #23); nothing in the call reads the step back.
    audit.insert_noted(
        s,
        VisitStep,
        {
            "visit_id": entry.visit_id,
            "step": "called",
            "at": now,
            "staff_id": staff.staff_id,
            "note": desk,
        },
    )
    audit.append(
        s,
        at=now,
        action="called",
        staff_id=staff.staff_id,
        station=desk,
        entity="queue_entry",
        entity_id=entry.id,
    )
    return replace(
        _called(s, entry, timezone, customer=customer),
        changes=Changes.of(queues=[entry.queue], visits=[entry.visit_id]),
    )


def call_customer(
    uow: UnitOfWork,
    staff: StaffSession,
    customer_id: int,
    *,
    desk: str,
    queue: Queue = Queue.ACTIVATION,
    clock: Clock | None = None,
) -> Called:
    """Call this customer to this desk: they stand at it (their invitation or customer number
    was scanned there). Their ticket for this queue must be waiting or set aside as a no-show;
    already called here, it is simply returned. Anything else is a ``DeskError`` saying where
    the customer is, and nothing changes."""
    require(staff, Action.CALL_QUEUE)
    desk = counter_name(desk)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = _event_and_desk_turn(s, queue, desk)
        visit = s.scalar(
            select(Visit).where(Visit.customer_id == customer_id, Visit.event_id == event.id)
        )
        if visit is None:
            raise DeskError(_("The customer has not checked in; send them to reception first."))
        entry = s.scalar(
            select(QueueEntry)
            .where(QueueEntry.visit_id == visit.id)
            .order_by(QueueEntry.id.desc())
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if entry is None:
            raise DeskError(_("The customer has no queue ticket; ask reception."))
        ticket = ticket_label(entry.queue, entry.ticket_no)
        if entry.status == QueueStatus.CALLED and entry.queue == queue and entry.desk == desk:
            return _called(s, entry, event.timezone)
        if entry.status == QueueStatus.CALLED:
            raise DeskError(
                _("{ticket} is being served at {counter}.").format(
                    ticket=ticket, counter=counter_label(entry.desk or "")
                )
            )
        if entry.queue != queue and entry.status in (QueueStatus.WAITING, QueueStatus.SKIPPED):
            raise DeskError(
                _("{ticket} waits for the service desk first.").format(ticket=ticket)
                if entry.queue == Queue.SERVICE_DESK
                else _("{ticket} waits for the activation desk.").format(ticket=ticket)
            )
        if entry.status not in (QueueStatus.WAITING, QueueStatus.SKIPPED):
            raise DeskError(_("{ticket} is already done.").format(ticket=ticket))
        _refuse_if_busy(s, event, queue, desk)
        entry.status = QueueStatus.CALLED
        entry.called_at = now
        entry.called_by = staff.staff_id
        entry.desk = desk
        entry.finished_at = None
        s.flush()
        result = _record_call(s, entry, staff, desk, now, event.timezone)
        uow.commit()
        return result


def _entry(
    uow: UnitOfWork, entry_id: int, *, called: bool = False, desk: str | None = None
) -> QueueEntry:
    """The ticket, locked until commit (``_entry_row``)."""
    return _entry_row(uow, entry_id, called=called, desk=desk)[0]  # type: ignore[no-any-return]


def _entry_row(
    uow: UnitOfWork,
    entry_id: int,
    *,
    called: bool = False,
    desk: str | None = None,
    with_visit: bool = False,
) -> Any:
    """The ticket (with ``with_visit``: and its visit and event, as a row), locked until
    commit: two desks acting on one ticket take turns, and the
    second sees what the first did (the status checks below are made on the fresh row).
    With ``desk``, a called ticket must be called at that desk: a screen that still shows a
    customer another counter has called since never acts on them."""
    row = uow.session.execute(
        _entry_query(with_visit),
        {"entry_id": entry_id},
        execution_options={"populate_existing": True},
    ).first()
    entry = row[0] if row is not None else None
    if entry is None:
        raise DeskError(_("This queue ticket no longer exists."))
    if called and entry.status != QueueStatus.CALLED:
        raise DeskError(
            _("Ticket {ticket} is no longer called at a desk; refresh the queue.").format(
                ticket=ticket_label(entry.queue, entry.ticket_no)
            )
        )
    if desk is not None and entry.status == QueueStatus.CALLED and entry.desk != desk:
        raise DeskError(
            _("Ticket {ticket} is now called at {counter}; refresh the queue.").format(
                ticket=ticket_label(entry.queue, entry.ticket_no),
                counter=counter_label(entry.desk or ""),
            )
        )
    return row


@functools.cache
def _entry_query(with_visit: bool) -> Select[Any]:
    """``_entry_row``'s statement, built once per process (every desk action locks its
    ticket first); ``entry_id`` is its bound parameter."""
    query = select(QueueEntry).where(QueueEntry.id == bindparam("entry_id"))
    if with_visit:
        # The visit and event come along in the same query (one round trip on the venue LAN,
        # not three); only the ticket's row is locked, as before.
        query = query.add_columns(Visit, Event).join(Visit, Visit.id == QueueEntry.visit_id)
        query = query.join(Event, Event.id == QueueEntry.event_id)
    return query.with_for_update(of=QueueEntry)


def _queue_changes(entry: QueueEntry) -> Changes:
    return Changes.of(queues=[entry.queue], visits=[entry.visit_id])


def _back_to_waiting(entry: QueueEntry, now: datetime) -> None:
    entry.status = QueueStatus.WAITING
    entry.enqueued_at = now
    entry.called_at = entry.called_by = entry.desk = entry.finished_at = None


def skip(
    uow: UnitOfWork,
    entry_id: int,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    desk: str | None = None,
) -> Changes:
    """The called customer did not come: set the ticket aside until re-queued."""
    require(staff, Action.CALL_QUEUE)
    now = (clock or Clock()).now()
    with uow:
        entry = _entry(uow, entry_id, called=True, desk=desk)
        entry.status = QueueStatus.SKIPPED
        entry.finished_at = now
        audit.append(
            uow.session,
            at=now,
            action="no_show",
            staff_id=staff.staff_id,
            entity="queue_entry",
            entity_id=entry.id,
        )
        uow.commit()
        return _queue_changes(entry)


def requeue(
    uow: UnitOfWork,
    entry_id: int,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    desk: str | None = None,
) -> Changes:
    """A skipped customer turned up: back in the queue, behind those waiting now."""
    require(staff, Action.CALL_QUEUE)
    now = (clock or Clock()).now()
    with uow:
        entry = _entry(uow, entry_id, desk=desk)
        if entry.status not in (QueueStatus.SKIPPED, QueueStatus.CALLED):
            raise DeskError(_("Only a called or skipped ticket can be put back in the queue."))
        _back_to_waiting(entry, now)
        audit.append(
            uow.session,
            at=now,
            action="requeued",
            staff_id=staff.staff_id,
            entity="queue_entry",
            entity_id=entry.id,
        )
        uow.commit()
        return _queue_changes(entry)


def transfer(
    uow: UnitOfWork,
    entry_id: int,
    to_staff_no: str,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    desk: str | None = None,
) -> Changes:
    """Hand a called customer to another RM: they wait for that RM first."""
    require(staff, Action.TRANSFER)
    now = (clock or Clock()).now()
    with uow:
        target = uow.session.scalar(select(Staff).where(Staff.staff_no == to_staff_no.upper()))
        if target is None:
            raise DeskError(_("No staff member has the number {no}.").format(no=to_staff_no))
        entry = _entry(uow, entry_id, desk=desk)
        if entry.status in (QueueStatus.DONE, QueueStatus.CANCELLED):
            raise DeskError(_("This customer has already left the queue."))
        _back_to_waiting(entry, now)
        entry.preferred_staff_id = target.id
        audit.append(
            uow.session,
            at=now,
            action="transferred",
            staff_id=staff.staff_id,
            entity="queue_entry",
            entity_id=entry.id,
            details={"to": target.staff_no},
        )
        uow.commit()
        return _queue_changes(entry)


def _form_value(customer: Customer, field: str) -> object:
    if field in SEALED_FIELDS:
        return getattr(customer, "id_masked" if field == "id_number" else f"{field}_masked")
    return getattr(customer, field)


def current_form(uow: UnitOfWork, customer_id: int) -> KycForm:
    """The customer's KYC fields as the form starts; phone, ID number and address masked."""
    with uow:
        c = uow.session.get(Customer, customer_id)
        if c is None:
            raise DeskError(_("This customer no longer exists."))
        return KycForm(**{f.name: _form_value(c, f.name) for f in fields(KycForm)})


@dataclass(frozen=True)
class FormContext:
    """What the form needs to judge itself while it is typed, without asking the database
    on every keystroke: the form as stored, what is on record of the sealed fields, and
    the event's date."""

    form: KycForm
    record: OnRecord
    today: date


def form_context(uow: UnitOfWork, customer_id: int, *, clock: Clock | None = None) -> FormContext:
    now = (clock or Clock()).now()
    with uow:
        event = current_event(uow.session)
        c = uow.session.get(Customer, customer_id)
        if c is None:
            raise DeskError(_("This customer no longer exists."))
        return FormContext(
            KycForm(**{f.name: _form_value(c, f.name) for f in fields(KycForm)}),
            _on_record(c),
            now.astimezone(ZoneInfo(event.timezone)).date(),
        )


def _on_record(customer: Customer) -> OnRecord:
    return OnRecord(
        customer.phone_masked,
        customer.id_masked,
        customer.id_number_valid,
        customer.address_masked,
        customer.id_type,
        customer.id_valid_from,
        customer.id_valid_to,
        customer.id_long_term,
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def check_form(
    uow: UnitOfWork,
    form: KycForm,
    *,
    customer_id: int | None = None,
    clock: Clock | None = None,
) -> dict[str, str]:
    """The form's errors by field, judged on the event's own date (and, for the sealed
    fields the form keeps, on what the customer's record holds)."""
    now = (clock or Clock()).now()
    with uow:
        event = current_event(uow.session)
        customer = uow.session.get(Customer, customer_id) if customer_id is not None else None
        record = _on_record(customer) if customer is not None else None
        return validate(form, now.astimezone(ZoneInfo(event.timezone)).date(), record)


def _event_and_locked_customer(s: Session, customer_id: int) -> tuple[Event, Customer]:
    """The current event and the customer row, locked until commit, in one round trip
    (issue #23): two desks governing or opening mobile banking for one customer take turns,
    so neither overwrites the other's change unseen and the bank hears of one opening, not
    two. Only the customer's row is locked (the event is read, as ``current_event`` reads
    it); no row back means no event or no such customer, told apart the old way."""
    found = s.execute(_CUSTOMER_LOCKED, {"customer_id": customer_id}).first()
    if found is None:
        event = current_event(s)  # says there is no event, in words
        customer = s.scalar(
            select(Customer)
            .where(Customer.id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if customer is None:
            raise DeskError(_("This customer no longer exists."))
        return event, customer
    customer, event = found
    return keep(s, event), customer


_CUSTOMER_LOCKED = (
    select(Customer, CURRENT)
    .join(CURRENT, true())
    .where(Customer.id == bindparam("customer_id"))
    .with_for_update(of=Customer)
    .execution_options(populate_existing=True)
)


def save_governance(
    uow: UnitOfWork,
    customer_id: int,
    form: KycForm,
    staff: StaffSession,
    *,
    visit_id: int | None = None,
    clock: Clock | None = None,
    station: str = "service_desk",
    request_id: str | None = None,
) -> ChangedList[str]:
    """Validate and save the form; returns the fields that changed (``changes`` says which
    customer and visit).

    With a ``request_id`` (``kiosk.idempotency``) the save is recorded under it: a commit
    whose reply was lost is found out, and the same request again returns the first answer
    instead of recording the changes (and the ledger's outbox entry) twice.

    Nothing is saved when any field is invalid (``GovernanceInvalid``); otherwise every change
    is recorded per field, the ledger learns it through the outbox, and all of it commits in
    one transaction. A phone, ID number or address the form keeps (None or its mask) is left
    as it is; a typed one is sealed and recorded masked, even when it equals the old value,
    which only the passphrase could tell.
    """
    require(staff, Action.SAVE_GOVERNANCE)
    now = (clock or Clock()).now()
    # What was asked, without the sealed fields' values: a digest of a phone whose mask is
    # known would give the number away in 10,000 guesses.
    asked = idempotency.fingerprint(
        customer_id=customer_id,
        visit_id=visit_id,
        form={
            f: (getattr(form, f) is not None) if f in SEALED_FIELDS else getattr(form, f)
            for f in FIELDS
        },
    )
    with uow:
        s = uow.session
        event, customer = _event_and_locked_customer(s, customer_id)
        today = now.astimezone(ZoneInfo(event.timezone)).date()
        first = idempotency.replay(s, request_id, "governance", asked)
        touched = Changes.of(customers=[customer_id], visits=[visit_id])
        if first is not None:
            return ChangedList((str(field) for field in first["changed"]), touched)
        record = _on_record(customer)
        form = normalized(form)  # a long-term ID keeps no end date, and so on
        errors = validate(form, today, record)
        if errors:
            raise GovernanceInvalid(errors)
        sealer = privacy.sealer(s)
        changed: list[str] = []
        full: dict[str, str | None] = {}
        for field in FIELDS:
            new = getattr(form, field)
            if field == "id_number" and new:
                new = new.strip().upper()
            if field in SEALED_FIELDS:
                if record.kept(form, field):
                    continue
                old = _form_value(customer, field)
                full[field] = new or None
                privacy.store(customer, sealer, **{field: new or None})
                new = _form_value(customer, field)  # recorded masked
            else:
                old = getattr(customer, field)
                if old == new:
                    continue
                setattr(customer, field, new)
                full[field] = _text(new)
            changed.append(field)
            s.add(
                GovernanceChange(
                    customer_id=customer.id,
                    visit_id=visit_id,
                    field=field,
                    old_value=_text(old),
                    new_value=_text(new),
                    staff_id=staff.staff_id,
                    at=now,
                )
            )
        if {"name", "phone"} & set(changed):
            codes = s.scalars(
                select(Invitation.code).where(Invitation.customer_id == customer.id)
            ).all()
            index_customer(
                s,
                customer.id,
                customer_keys(customer.name, customer.phone_masked, customer.customer_no, codes),
            )
        if visit_id is not None:
            s.add(
                VisitStep(
                    visit_id=visit_id,
                    step="governance",
                    at=now,
                    staff_id=staff.staff_id,
                    note=",".join(changed),
                )
            )
        if changed:
            # The ledger needs the full values: sealed, so only a push given the passphrase
            # sends them (kiosk event encrypt not run yet: in clear, as before).
            payload: dict[str, object] = {
                "event": event.code,
                "customer_no": customer.customer_no,
                "at": now.isoformat(),
            }
            if sealer is not None:
                payload["sealed_changes"] = privacy.seal_json(sealer, "changes", full)
            else:
                payload["changes"] = full
            outbox.enqueue(
                s,
                event_id=event.id,
                kind="governance",
                at=now,
                payload=payload,
                sealed=sealer is not None,
            )
        audit.append(
            s,
            at=now,
            action="governance",
            staff_id=staff.staff_id,
            station=station,
            entity="customer",
            entity_id=customer.id,
            details={"fields": changed},
        )
        idempotency.record(
            s,
            request_id,
            "governance",
            asked,
            {"changed": changed},
            staff_id=staff.staff_id,
            at=now,
        )
        uow.commit()
        return ChangedList(changed, touched)


def open_mobile_banking(
    uow: UnitOfWork,
    customer_id: int,
    staff: StaffSession,
    *,
    visit_id: int | None = None,
    clock: Clock | None = None,
    station: str = "service_desk",
) -> Changes:
    """Record that mobile banking was opened; an expired ID must be governed first."""
    require(staff, Action.OPEN_MOBILE_BANKING)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event, customer = _event_and_locked_customer(s, customer_id)
        today = now.astimezone(ZoneInfo(event.timezone)).date()
        gaps = governance_gaps(customer, today)
        if gaps.get("id_valid_to") == "expired" or "id_number" in gaps:
            raise DeskError(
                _(
                    "The ID has expired or is invalid: govern it first. The bank "
                    "blocks mobile banking on an expired ID."
                )
            )
        if customer.mobile_banking != MobileBanking.NONE:
            raise DeskError(_("This customer already has mobile banking."))
        customer.mobile_banking = MobileBanking.OPENED
        if visit_id is not None:
            s.add(
                VisitStep(
                    visit_id=visit_id, step="mobile_banking_opened", at=now, staff_id=staff.staff_id
                )
            )
        outbox.enqueue(
            s,
            event_id=event.id,
            kind="mobile_banking_opened",
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
            action="mobile_banking_opened",
            staff_id=staff.staff_id,
            station=station,
            entity="customer",
            entity_id=customer.id,
        )
        uow.commit()
        return Changes.of(customers=[customer.id], visits=[visit_id])


@dataclass(frozen=True)
class RoutedOn:
    ticket: str
    waiting_ahead: int
    changes: Changes = field(default=NOTHING, compare=False)


def route_on(
    uow: UnitOfWork,
    entry_id: int,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "service_desk",
    desk: str | None = None,
) -> RoutedOn:
    """Done at the desk: the customer joins the activation queue with a new ticket."""
    require(staff, Action.ROUTE_ON)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        entry, visit, event = _entry_row(uow, entry_id, called=True, desk=desk, with_visit=True)
        # A Core INSERT noted for the audit as the flush would note it (issue #23: one object
        # less in the flush); nothing in the transaction reads the step back. It also takes
        # the activation queue's ticket lock once its row is in (one round trip less, as at
        # check-in); the next statement reads the tickets, and everyone waiting then is ahead
        # of the new ticket.
        audit.insert_noted(
            s,
            VisitStep,
            {
                "visit_id": visit.id,
                "step": "service_desk_done",
                "at": now,
                "staff_id": staff.staff_id,
            },
            also=lock_columns(s, ticket_lock(event, Queue.ACTIVATION)),
        )
        # The ticket done and the visit routed on: Core UPDATEs noted as the flush would note
        # them, where the flush sent them (before the tickets are read).
        audit.update_noted(s, entry, {"status": QueueStatus.DONE, "finished_at": now})
        audit.update_noted(s, visit, {"route": Queue.ACTIVATION})
        # The new ticket numbered inside its own INSERT, a Core INSERT noted for the audit as
        # at check-in (issue #23: the flush of this one object was a sixth of a route-on's
        # CPU on the station, and reading the number first a round trip more).
        entry_row, ahead = insert_ticket_locked(
            s, event, Queue.ACTIVATION, {"visit_id": visit.id, "enqueued_at": now}
        )
        ticket_no = entry_row["ticket_no"]
        audit.append(
            s,
            at=now,
            action="routed_on",
            staff_id=staff.staff_id,
            station=station,
            entity="visit",
            entity_id=visit.id,
        )
        result = RoutedOn(
            ticket_label(Queue.ACTIVATION, ticket_no),
            ahead,
            Changes.of(queues=[entry.queue, Queue.ACTIVATION], visits=[visit.id]),
        )
        uow.commit()
        return result


@dataclass(frozen=True)
class TimelineStep:
    step: str
    at: datetime
    staff_name: str
    note: str


def timeline(uow: UnitOfWork, visit_id: int) -> list[TimelineStep]:
    """Every step of the visit with its time and the member of staff."""
    with uow:
        return [
            TimelineStep(step.step, step.at, name, step.note)
            for step, name in uow.session.execute(
                select(VisitStep, Staff.name)
                .join(Staff, Staff.id == VisitStep.staff_id)
                .where(VisitStep.visit_id == visit_id)
                .order_by(VisitStep.at, VisitStep.id)
            )
        ]


@dataclass(frozen=True)
class RmCounts:
    staff_no: str
    name: str
    governed: int
    mobile_banking_opened: int


def rm_counts(uow: UnitOfWork) -> list[RmCounts]:
    """Per member of staff: visits governed and mobile-banking accounts opened at this event
    (``figures.staff_steps``, the event's definitions)."""
    from kiosk.services import figures

    with uow:
        s = uow.session
        return [
            RmCounts(row.staff_no, row.name, row.governed, row.mobile_banking_opened)
            for row in figures.staff_steps(s, current_event(s))
        ]


@dataclass(frozen=True)
class Waiting:
    entry_id: int
    ticket: str
    masked_name: str
    reason: str  # governance gap fields, comma-separated
    waited_minutes: int
    preferred_rm: str


# ``waiting``'s query, built once: the current event outer-joined to the queue's waiting
# entries (the inner joins of an entry to its visit and customer always find their row).
_WAITING = (
    select(CURRENT, QueueEntry, Customer.name, Staff.name)
    .select_from(CURRENT)
    .outerjoin(
        QueueEntry,
        (QueueEntry.event_id == CURRENT.id)
        & (QueueEntry.queue == bindparam("queue"))
        & (QueueEntry.status == QueueStatus.WAITING),
    )
    .outerjoin(Visit, Visit.id == QueueEntry.visit_id)
    .outerjoin(Customer, Customer.id == Visit.customer_id)
    .outerjoin(Staff, Staff.id == QueueEntry.preferred_staff_id)
    .order_by(QueueEntry.enqueued_at, QueueEntry.ticket_no)
)


def waiting(
    uow: UnitOfWork, *, queue: Queue = Queue.SERVICE_DESK, clock: Clock | None = None
) -> list[Waiting]:
    """Who is waiting, longest first, with the reason and the RM they wait for."""
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        # The current event comes along (``kiosk.current_event.CURRENT``): one row even when
        # nobody waits, none only when the database holds no event (issue #23: a station's
        # refresh starts here, one round trip less).
        found = s.execute(_WAITING, {"queue": queue}).all()
        if not found:
            current_event(s)  # says there is no event, in words
            # An event opened since that statement began: ask again, now it is there.
            found = s.execute(_WAITING, {"queue": queue}).all()
        if found:
            keep(s, found[0][0])
        rows = [row[1:] for row in found if row[1] is not None]
        return [
            Waiting(
                entry.id,
                ticket_label(entry.queue, entry.ticket_no),
                mask_name(name),
                entry.reason,
                int((now - entry.enqueued_at).total_seconds() // 60),
                rm_name or "",
            )
            for entry, name, rm_name in rows
        ]


def field_status(
    uow: UnitOfWork, customer_id: int, *, clock: Clock | None = None
) -> dict[str, str]:
    """Each KYC field's state for the form: "ok", "missing", "expired" or "invalid"."""
    now = (clock or Clock()).now()
    with uow:
        event = current_event(uow.session)
        customer = uow.session.get(Customer, customer_id)
        if customer is None:
            raise DeskError(_("This customer no longer exists."))
        gaps = governance_gaps(customer, now.astimezone(ZoneInfo(event.timezone)).date())
        return {field: gaps.get(field, "ok") for field in FIELDS}


def points_to_spend(uow: UnitOfWork, customer_id: int, *, clock: Clock | None = None) -> int:
    """The points the customer can spend today, for the screen turned to them at the service
    desk (``kiosk.customer_view``): what the activation desk will offer them."""
    with uow:
        event = current_event(uow.session)
        customer = uow.session.get(Customer, customer_id)
        if customer is None:
            raise DeskError(_("This customer no longer exists."))
        return available_points(uow.session, customer, event_today(event, clock))
