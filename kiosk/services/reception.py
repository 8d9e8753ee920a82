"""Reception: find the customer, see what they need, check them in and send them on.

Check-in is idempotent per customer and event (one visit, enforced by a unique constraint,
so two reception laptops cannot both create one); it writes the visit, its first step, a
queue entry with a ticket number, an outbox entry for the ledger and an audit record in one
transaction. The route follows the triage rule in ``suggest_route`` unless staff override it.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk import audit, idempotency, outbox, privacy
from kiosk.changeset import NOTHING, Changes
from kiosk.clock import Clock
from kiosk.current_event import CURRENT, guess, keep
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.idcard import is_valid_mobile
from kiosk.invitations import belongs_to, looks_like_code
from kiosk.kyc import governance_gaps
from kiosk.locks import lock_columns, transaction_lock
from kiosk.masking import mask_name
from kiosk.models import (
    ActionRequest,
    AuditRecord,
    Branch,
    Customer,
    Event,
    EventTier,
    Invitation,
    MobileBanking,
    Queue,
    QueueEntry,
    QueueStatus,
    SearchKey,
    Staff,
    TimeSlot,
    Visit,
    VisitStep,
)
from kiosk.permissions import Action, Approval, approved_by, require
from kiosk.points import LOT_COLUMNS, Lots, lot_balances, lots_from, lots_select
from kiosk.scanning import Odd, odd_input, odd_input_message
from kiosk.search import find_customer_ids, index_customer
from kiosk.search_keys import AZERTY_DIGITS, CODE, CUSTOMER_NO, customer_keys, normalize
from kiosk.services.arrival import against_window, window_end
from kiosk.services.auth import StaffSession
from kiosk.services.customer_offers import SOON, expiring_within, months_after
from kiosk.services.events import current_event
from kiosk.tiers import as_tier, has_tiers_column, shown, shown_tier, tier_id_column
from kiosk.uow import UnitOfWork


class CheckInError(KioskError):
    """A check-in or lookup that cannot go ahead; the message says why."""


class Arrival(enum.StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"
    NO_SLOT = "no_slot"  # walk-ins and customers without an invitation
    # Against a planned arrival window (``services.arrival``): EARLY and LATE then count the
    # minutes before or after the window, not the slot.
    IN_WINDOW = "in_window"


@dataclass(frozen=True)
class ReceptionPolicy:
    early_grace: timedelta = timedelta(minutes=30)  # this early still counts as on time
    undo_window: timedelta = timedelta(minutes=5)


TICKET_PREFIX = {Queue.SERVICE_DESK: "B", Queue.ACTIVATION: "J"}  # 办理 / 激活


def ticket_label(queue: str, number: int) -> str:
    return f"{TICKET_PREFIX[Queue(queue)]}{number:03d}"


@dataclass(frozen=True)
class CustomerHit:
    """One search result: enough to tell namesakes apart, never a full ID number."""

    customer_id: int
    customer_no: str
    name: str
    masked_phone: str
    masked_id: str
    branch: str
    rm_name: str
    slot_label: str
    invited: bool
    checked_in: bool
    walk_in: bool


@dataclass(frozen=True)
class VisitInfo:
    visit_id: int
    checked_in_at: datetime
    route: str
    ticket: str
    ticket_status: str
    can_undo: bool


@dataclass(frozen=True)
class CustomerCard:
    hit: CustomerHit
    tier: str
    points: int
    balance_as_of: datetime | None
    slot_label: str
    slot_start: datetime | None
    slot_end: datetime | None
    arrival: Arrival
    minutes_off: int  # minutes before the slot or window (early) or after it (late)
    gaps: dict[str, str]
    needs_mobile_banking: bool
    dormant: bool
    rm_signed_in: bool
    companions: int
    invitation_status: str
    suggested_route: Queue
    visit: VisitInfo | None
    timezone: str = "Asia/Shanghai"
    # Of ``points``, what expires within three months, and by when: said at the door, so the
    # customer hears it before the catalog (the bank's review: the rules were not understood).
    expiring_soon: int = 0
    expiring_by: date | None = None
    # The planned arrival window, when there is one: ``arrival`` is judged against it.
    window_start: datetime | None = None
    window_end: datetime | None = None


@dataclass(frozen=True)
class CheckInResult:
    created: bool
    card: CustomerCard
    queue: Queue
    ticket: str
    waiting_ahead: int
    # The answer to a request already done (same request id): the first check-in, not a new one.
    replayed: bool = False
    # Nothing when the customer had checked in already.
    changes: Changes = field(default=NOTHING, compare=False)


@dataclass(frozen=True)
class QueueTicket:
    """What the printed queue ticket shows."""

    event_name: str
    ticket: str
    queue: Queue
    waiting_ahead: int
    masked_name: str
    checked_in_at: datetime
    timezone: str


@dataclass(frozen=True)
class SlotArrivals:
    code: str
    label: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    expected: int
    arrived: int
    is_current: bool

    @property
    def over_capacity(self) -> bool:
        return self.arrived > self.capacity


# -- rules -----------------------------------------------------------------------------------


def suggest_route(customer: Customer, today: date) -> Queue:
    """Service desk when the data needs governance or mobile banking must be opened."""
    if governance_gaps(customer, today) or customer.mobile_banking == MobileBanking.NONE:
        return Queue.SERVICE_DESK
    return Queue.ACTIVATION


def arrival_status(
    now: datetime,
    slot: TimeSlot | None,
    policy: ReceptionPolicy,
    window: tuple[datetime, datetime] | None = None,
) -> tuple[Arrival, int]:
    """Early / on time / late against the slot; against the arrival ``window`` (start, end)
    when one is planned: early / in window / late (``arrival.against_window``)."""
    if slot is None:
        return Arrival.NO_SLOT, 0
    if window is not None:
        side, minutes = against_window(now, *window)
        return {-1: Arrival.EARLY, 0: Arrival.IN_WINDOW, 1: Arrival.LATE}[side], minutes
    if now < slot.starts_at - policy.early_grace:
        return Arrival.EARLY, int((slot.starts_at - now).total_seconds() // 60)
    if now > slot.ends_at:
        return Arrival.LATE, int((now - slot.ends_at).total_seconds() // 60)
    return Arrival.ON_TIME, 0


def _event_today(event: Event, now: datetime) -> date:
    return now.astimezone(ZoneInfo(event.timezone)).date()


def _last_sign(staff_id: object, since: datetime):  # type: ignore[no-untyped-def]
    """The staff member's latest sign-in or sign-out since ``since`` (a query)."""
    return (
        select(AuditRecord.action)
        .where(
            AuditRecord.staff_id == staff_id,
            AuditRecord.action.in_(("sign_in", "sign_out")),
            AuditRecord.at >= since,
        )
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )


def is_signed_in(session: Session, staff_id: int, since: datetime) -> bool:
    """Whether the staff member's latest sign-in since ``since`` has not been signed out."""
    return session.scalar(_last_sign(staff_id, since)) == "sign_in"


# -- reading -------------------------------------------------------------------------------


def _hits(session: Session, event: Event, customer_ids: list[int]) -> list[CustomerHit]:
    if not customer_ids:
        return []
    rows = session.execute(
        select(Customer, Branch.name, Staff.name, TimeSlot.label, Invitation.id, Visit.id)
        .join(Branch, Branch.id == Customer.branch_id)
        .outerjoin(Staff, Staff.id == Customer.rm_id)
        .outerjoin(
            Invitation,
            (Invitation.customer_id == Customer.id) & (Invitation.event_id == event.id),
        )
        .outerjoin(TimeSlot, TimeSlot.id == Invitation.slot_id)
        .outerjoin(Visit, (Visit.customer_id == Customer.id) & (Visit.event_id == event.id))
        .where(Customer.id.in_(customer_ids))
    ).all()
    by_id = {
        customer.id: CustomerHit(
            customer_id=customer.id,
            customer_no=customer.customer_no,
            name=customer.name,
            masked_phone=customer.phone_masked or "",
            masked_id=customer.id_masked or "",
            branch=branch,
            rm_name=rm_name or "",
            slot_label=slot_label or "",
            invited=invitation_id is not None,
            checked_in=visit_id is not None,
            walk_in=customer.walk_in,
        )
        for customer, branch, rm_name, slot_label, invitation_id, visit_id in rows
    }
    return [by_id[i] for i in customer_ids if i in by_id]


def search(uow: UnitOfWork, text: str, limit: int = 20) -> list[CustomerHit]:
    """Customers matching what was typed; raises ``SearchError`` for an empty or odd query."""
    with uow:
        event = current_event(uow.session)
        return _hits(uow.session, event, find_customer_ids(uow.session, text, limit))


@dataclass(frozen=True)
class _Arriving:
    """What one query read about a customer arriving at the event (``_arriving``): with it a
    check-in writes and shows the card without asking again (issue #23: each question is a
    round trip on the venue LAN)."""

    customer: Customer
    branch: str
    rm_name: str
    invitation: Invitation | None
    slot: TimeSlot | None
    visit_id: int | None  # checked in already
    rm_signed_in: bool
    tier: str  # as the desks show it (``kiosk.tiers.shown_tier``)
    lots: Lots  # their points on the event's day
    request: ActionRequest | None  # the request's row: this check-in was done already


def _event_start(event: Event, now: datetime) -> datetime:
    return _day_start(event.timezone, now)


def _day_start(timezone: str, now: datetime) -> datetime:
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), datetime.min.time(), tzinfo=zone)


def _event_and_arriving(
    s: Session, customer_id: int, now: datetime, request_id: str | None
) -> tuple[Event, _Arriving | None]:
    """The current event and ``_arriving``, in one round trip when the event last seen
    current still is (issue #23: a check-in's first question). The query needs the event's
    id and its day's start before it is sent, so it is sent with the guessed event's
    (``kiosk.current_event.guess``) and brings the current event along joined on that id:
    a row back proves the guess, in the same snapshot the customer is read in. No row (an
    event switched or deleted, a first check-in, no such customer) or another timezone:
    the event is asked first, then the customer, as before, and "no event" said in words."""
    hint = guess(s)
    if hint is not None:
        values = {"customer_id": customer_id, "event_id": hint.id}
        values["since"] = _day_start(hint.timezone, now)
        if request_id:
            values["request_id"] = request_id
        rows = s.execute(_arriving_query(bool(request_id), guessed=True), values).all()
        if rows:
            event = keep(s, rows[0][-1])
            if event.timezone == hint.timezone:
                return event, _arriving_of(rows, event, now)
            return event, _arriving(s, event, customer_id, now, request_id)
    event = current_event(s)
    return event, _arriving(s, event, customer_id, now, request_id)


def _arriving(
    s: Session, event: Event, customer_id: int, now: datetime, request_id: str | None = None
) -> _Arriving | None:
    """The customer with their branch, RM, invitation, slot, visit (if checked in), whether
    their RM is signed in, their band and their lots, and the request's row if it was done
    already (``kiosk.idempotency.with_request``), in one query (one row per lot:
    ``kiosk.points.lots_select`` with the rest alongside); None when no such customer."""
    values = {"customer_id": customer_id, "event_id": event.id, "since": _event_start(event, now)}
    if request_id:
        values["request_id"] = request_id
    rows = s.execute(_arriving_query(bool(request_id)), values).all()
    return _arriving_of(rows, event, now) if rows else None


def _arriving_of(rows: Sequence[Any], event: Event, now: datetime) -> _Arriving:
    """``_arriving_query``'s rows (any columns after its own are left alone)."""
    customer, branch, rm_name, invitation, slot, visit_id, last, tier, has_tiers, request = rows[0][
        LOT_COLUMNS : LOT_COLUMNS + 10
    ]
    return _Arriving(
        customer,
        branch,
        rm_name or "",
        invitation,
        slot,
        visit_id,
        last == "sign_in",
        shown(customer, as_tier(tier), bool(has_tiers)),
        lots_from(rows, customer, _event_today(event, now)),
        request,
    )


@functools.cache
def _arriving_query(with_request: bool, guessed: bool = False) -> Select[Any]:
    """``_arriving``'s statement, built once per process with its values as bound parameters
    (``customer_id``, ``event_id``, ``since``, ``request_id``): a check-in is the busiest
    action of the day, and building this many-joined select anew each time cost it more of
    the station's CPU than sending it (issue #23: 8 stations share two cores with the server).
    SQLAlchemy memoises a statement object's cache key, so a reused one skips that too.
    ``guessed``: ``event_id`` is a guess, and the current event comes last, joined on it
    (``_event_and_arriving``)."""
    customer_id, event_id = bindparam("customer_id"), bindparam("event_id")
    signed = _last_sign(Customer.rm_id, bindparam("since")).scalar_subquery()
    query = (
        lots_select(
            customer_id,
            Customer,
            Branch.name,
            Staff.name,
            Invitation,
            TimeSlot,
            Visit.id,
            signed,
            EventTier,
            has_tiers_column(event_id),
        )
        .join(Branch, Branch.id == Customer.branch_id)
        .outerjoin(Staff, Staff.id == Customer.rm_id)
        .outerjoin(
            Invitation,
            (Invitation.customer_id == Customer.id) & (Invitation.event_id == event_id),
        )
        .outerjoin(TimeSlot, TimeSlot.id == Invitation.slot_id)
        .outerjoin(Visit, (Visit.customer_id == Customer.id) & (Visit.event_id == event_id))
        .outerjoin(EventTier, EventTier.id == tier_id_column(event_id))
    )
    query = idempotency.with_request(
        query, bindparam("request_id") if with_request else None, Customer
    )
    if guessed:
        query = query.add_columns(CURRENT).join_from(Customer, CURRENT, CURRENT.id == event_id)
    return query


def _card(
    session: Session,
    event: Event,
    customer: Customer,
    now: datetime,
    policy: ReceptionPolicy,
    *,
    known: tuple[_Arriving, Visit, QueueEntry] | None = None,
) -> CustomerCard:
    """The card; ``known`` is what a check-in read and wrote (then nothing is asked again)."""
    if known is not None:
        arriving, visit_known, entry_known = known
        invitation = arriving.invitation
    else:
        invitation = session.scalar(
            select(Invitation).where(
                Invitation.customer_id == customer.id, Invitation.event_id == event.id
            )
        )
    slot = invitation.slot if invitation else None
    window = None
    if slot is not None and invitation is not None and invitation.window_starts_at is not None:
        start = invitation.window_starts_at
        window = (start, window_end(slot.ends_at, start, event.window_minutes))
    arrival, minutes = arrival_status(now, slot, policy, window)
    today = _event_today(event, now)
    gaps = governance_gaps(customer, today)
    if known is not None:
        visit: Visit | None = visit_known
    else:
        visit = session.scalar(
            select(Visit).where(Visit.customer_id == customer.id, Visit.event_id == event.id)
        )
    visit_info = None
    if visit is not None:
        if known is not None:
            entry: QueueEntry | None = entry_known
        else:
            entry = session.scalar(
                select(QueueEntry)
                .where(QueueEntry.visit_id == visit.id)
                .order_by(QueueEntry.id.desc())
                .limit(1)
            )
        visit_info = VisitInfo(
            visit_id=visit.id,
            checked_in_at=visit.checked_in_at,
            route=visit.route,
            ticket=ticket_label(entry.queue, entry.ticket_no) if entry else "",
            ticket_status=entry.status if entry else "",
            can_undo=entry is not None
            and entry.status == QueueStatus.WAITING
            and now - visit.checked_in_at <= policy.undo_window,
        )
    if known is not None:
        rm_signed_in = known[0].rm_signed_in
        hit = CustomerHit(
            customer_id=customer.id,
            customer_no=customer.customer_no,
            name=customer.name,
            masked_phone=customer.phone_masked or "",
            masked_id=customer.id_masked or "",
            branch=known[0].branch,
            rm_name=known[0].rm_name,
            slot_label=slot.label if slot is not None else "",
            invited=invitation is not None,
            checked_in=True,
            walk_in=customer.walk_in,
        )
    else:
        rm_signed_in = customer.rm_id is not None and is_signed_in(
            session, customer.rm_id, _event_start(event, now)
        )
        hit = _hits(session, event, [customer.id])[0]
    if known is not None:
        lots = known[0].lots.lots
        tier = known[0].tier
    else:
        lots = lot_balances(session, customer, today)
        tier = shown_tier(session, event.id, customer)
    return CustomerCard(
        hit=hit,
        tier=tier,
        points=sum(lot.spendable for lot in lots),
        expiring_soon=expiring_within(lots, today, SOON),
        expiring_by=months_after(today, SOON),
        balance_as_of=customer.balance_as_of,
        slot_label=slot.label if slot else "",
        slot_start=slot.starts_at if slot else None,
        slot_end=slot.ends_at if slot else None,
        arrival=arrival,
        minutes_off=minutes,
        gaps=gaps,
        needs_mobile_banking=customer.mobile_banking == MobileBanking.NONE,
        dormant=customer.dormant,
        rm_signed_in=rm_signed_in,
        companions=invitation.companions if invitation else 0,
        invitation_status=invitation.status if invitation else "",
        suggested_route=suggest_route(customer, today),
        visit=visit_info,
        timezone=event.timezone,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
    )


def customer_card(
    uow: UnitOfWork,
    customer_id: int,
    *,
    clock: Clock | None = None,
    policy: ReceptionPolicy | None = None,
) -> CustomerCard:
    with uow:
        event = current_event(uow.session)
        customer = uow.session.get(Customer, customer_id)
        if customer is None:
            raise CheckInError(_("This customer no longer exists."))
        return _card(
            uow.session, event, customer, (clock or Clock()).now(), policy or ReceptionPolicy()
        )


def resolve_code(uow: UnitOfWork, text: str) -> int:
    """The customer for a scanned invitation code or a typed customer number.

    Anything else gets the sentence that fits it: a web link, a redemption slip, a scan on
    the wrong keyboard layout, an invitation of another event held in this database, or
    simply no invitation of this event (a code-shaped text is not taken for another event's
    on its shape alone: any 8 letters and digits have another event's tag).
    """
    odd = odd_input(text)
    if odd is not None:
        raise CheckInError(odd_input_message(odd, text))
    query = normalize(text).upper()
    if query and not (query.isascii() and query.isalnum()):
        remapped = normalize(text).translate(AZERTY_DIGITS).upper()
        if not (remapped.isascii() and remapped.isalnum()):
            raise CheckInError(odd_input_message(Odd.NOT_A_CODE, text))
        query = remapped
    with uow:
        event = current_event(uow.session)
        for key in (CODE + query, CUSTOMER_NO + query):
            customer_id = uow.session.scalar(
                select(SearchKey.customer_id).where(SearchKey.key == key).limit(1)
            )
            if customer_id is not None:
                return customer_id
        if looks_like_code(query):
            if not belongs_to(query, event.code):
                other = next(
                    (
                        e
                        for e in uow.session.scalars(select(Event).where(Event.id != event.id))
                        if belongs_to(query, e.code)
                    ),
                    None,
                )
                if other is not None:
                    raise CheckInError(
                        _("Invitation {code} is for another event, “{event}”.").format(
                            code=query, event=other.name
                        )
                    )
            raise CheckInError(
                _(
                    "“{code}” is not an invitation code of this event: check the invitation, "
                    "or type the customer's name."
                ).format(code=text.strip())
            )
        raise CheckInError(
            _("No invitation or customer number “{code}” in this event.").format(code=text.strip())
        )


# -- writing ---------------------------------------------------------------------------------


def ticket_lock(event: Event, queue: Queue) -> str:
    """The name of the queue's ticket lock (``kiosk.locks``), which numbering takes first."""
    return f"ticket:{event.id}:{queue}"


def insert_ticket_locked(
    session: Session, event: Event, queue: Queue, values: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """Insert a queue entry whose ticket is the queue's next, numbered inside the INSERT, for
    a caller holding the queue's ticket lock already (``ticket_lock``, taken in a statement
    of its own, ``kiosk.locks.lock_columns``): the row as written (noted for the audit,
    ``audit.insert_computed_noted``) and how many wait ahead.

    One statement where there were two (issue #23: check-in and route on, a round trip each
    on the venue LAN). The number is read in the same snapshot as before: PostgreSQL's
    statement sees every ticket committed before it began, which is after the lock was ours.
    Those ahead are the queue's waiting entries older than the new one: on PostgreSQL the
    statement does not see its own row, on SQLite it does, and the new row is not older than
    itself either way."""
    row, (ahead,) = audit.insert_computed_noted(
        session,
        QueueEntry,
        {**values, "event_id": event.id, "queue": queue},
        _ticket_insert(),
        computed=("ticket_no",),
        params={"in_event": event.id, "in_queue": queue},
    )
    return row, int(ahead or 0)


@functools.cache
def _ticket_insert() -> Insert:
    """``insert_ticket_locked``'s INSERT: the number a subquery of its VALUES, the waiting
    ahead one of its RETURNING, correlated by the new row's own columns. That one is written
    out: SQLAlchemy renders a RETURNING's columns without their table's name on SQLite, the
    subquery's own columns too, which leaves them ambiguous there."""
    entry = QueueEntry.__table__
    prior = entry.alias("prior")
    number = (
        select(func.coalesce(func.max(prior.c.ticket_no), 0) + 1)
        .where(prior.c.event_id == bindparam("in_event"), prior.c.queue == bindparam("in_queue"))
        .scalar_subquery()
    )
    waiting = literal_column(
        "(SELECT count(ahead.id) FROM queue_entry AS ahead"
        " WHERE ahead.event_id = queue_entry.event_id AND ahead.queue = queue_entry.queue"
        f" AND ahead.status = '{QueueStatus.WAITING.value}' AND ahead.id < queue_entry.id)",
        Integer,
    )
    return insert(entry).values(ticket_no=number).returning(entry.c.id, entry.c.ticket_no, waiting)


def _waiting_ahead(session: Session, entry: QueueEntry) -> int:
    return (
        session.scalar(
            select(func.count(QueueEntry.id)).where(
                QueueEntry.event_id == entry.event_id,
                QueueEntry.queue == entry.queue,
                QueueEntry.status == QueueStatus.WAITING,
                QueueEntry.id < entry.id,
            )
        )
        or 0
    )


def _existing_result(
    session: Session, event: Event, customer: Customer, now: datetime, policy: ReceptionPolicy
) -> CheckInResult:
    card = _card(session, event, customer, now, policy)
    assert card.visit is not None
    entry = session.scalar(
        select(QueueEntry)
        .where(QueueEntry.visit_id == card.visit.visit_id)
        .order_by(QueueEntry.id.desc())
        .limit(1)
    )
    waiting = _waiting_ahead(session, entry) if entry else 0
    return CheckInResult(False, card, Queue(card.visit.route), card.visit.ticket, waiting)


def check_in(
    uow: UnitOfWork,
    customer_id: int,
    staff: StaffSession,
    *,
    route: Queue | None = None,
    clock: Clock | None = None,
    policy: ReceptionPolicy | None = None,
    station: str = "reception",
    request_id: str | None = None,
) -> CheckInResult:
    """Check the customer in, or return the existing visit when already checked in.

    With a ``request_id`` (``kiosk.idempotency``) the check-in is recorded under it, so a
    commit whose reply was lost is found out, and the same request again returns the first
    check-in (``replayed``) rather than "already checked in".
    """
    require(staff, Action.CHECK_IN)
    now = (clock or Clock()).now()
    policy = policy or ReceptionPolicy()
    asked = idempotency.fingerprint(customer_id=customer_id, route=route)
    with uow:
        s = uow.session
        # The event, and everything the check-in and its card need about the customer, in
        # one query.
        event, arriving = _event_and_arriving(s, customer_id, now, request_id)
        if arriving is None:
            raise CheckInError(_("This customer no longer exists."))
        customer = arriving.customer
        first = idempotency.replay_of(arriving.request, "check_in", asked)
        if first is not None:
            return _replayed(s, event, customer, now, policy, first)
        if arriving.visit_id is not None:
            return _existing_result(s, event, customer, now, policy)
        invitation = arriving.invitation
        queue = route or suggest_route(customer, _event_today(event, now))
        # Core INSERTs, one per table, each row handed to the audit as the ORM's flush would
        # note it (``audit.insert_noted``): the unit of work's flush of these rows was ~40% of
        # a check-in's CPU (issue #23). The rows never enter the session; ``Visit`` and
        # ``QueueEntry`` below are detached copies for the card.
        try:
            visit_row = audit.insert_noted(
                s,
                Visit,
                {
                    "event_id": event.id,
                    "customer_id": customer.id,
                    "invitation_id": invitation.id if invitation else None,
                    "checked_in_at": now,
                    "checked_in_by": staff.staff_id,
                    "route": queue,
                    "companions": invitation.companions if invitation else 0,
                },
            )
        except IntegrityError:
            # Another reception laptop checked the same customer in a moment ago.
            uow.rollback()
            return _existing_result(s, event, customer, now, policy)
        visit = Visit(**visit_row)
        # The queue's ticket lock is taken by this INSERT, once its row is in (one round trip
        # less, issue #23); the ticket is read in the next statement, which sees every
        # ticket committed before the lock was ours. Taken at the same point as before:
        # after the visit's INSERT, which makes a second check-in of the customer wait.
        audit.insert_noted(
            s,
            VisitStep,
            {"visit_id": visit.id, "step": "check_in", "at": now, "staff_id": staff.staff_id},
            also=lock_columns(s, ticket_lock(event, queue)),
        )
        entry_row, waiting_ahead = insert_ticket_locked(
            s,
            event,
            queue,
            {
                "visit_id": visit.id,
                "reason": ",".join(sorted(governance_gaps(customer, _event_today(event, now)))),
                "preferred_staff_id": customer.rm_id if queue == Queue.SERVICE_DESK else None,
                "enqueued_at": now,
            },
        )
        entry = QueueEntry(**entry_row)
        outbox.enqueue_now(
            s,
            event_id=event.id,
            kind="check_in",
            at=now,
            payload={
                "event": event.code,
                "customer_no": customer.customer_no,
                "at": now.isoformat(),
                "walk_in": customer.walk_in,
            },
        )
        audit.append(
            s,
            at=now,
            action="check_in",
            staff_id=staff.staff_id,
            station=station,
            entity="visit",
            entity_id=visit.id,
            details={"customer_no": customer.customer_no, "route": queue, "override": bool(route)},
        )
        result = CheckInResult(
            created=True,
            card=_card(s, event, customer, now, policy, known=(arriving, visit, entry)),
            queue=queue,
            ticket=ticket_label(queue, entry.ticket_no),
            waiting_ahead=waiting_ahead,
            changes=Changes.of(queues=[queue], visits=[visit.id], customers=[customer.id]),
        )
        idempotency.record_now(
            s,
            request_id,
            "check_in",
            asked,
            {"visit_id": visit.id, "queue": str(queue), "ticket": result.ticket},
            staff_id=staff.staff_id,
            at=now,
        )
        uow.commit()
        return result


def _replayed(
    session: Session,
    event: Event,
    customer: Customer,
    now: datetime,
    policy: ReceptionPolicy,
    first: dict[str, object],
) -> CheckInResult:
    """The answer the first try of a request would have given."""
    if session.get(Visit, first["visit_id"]) is None:
        raise CheckInError(
            _("This check-in was made and then undone; check the customer in again.")
        )
    existing = _existing_result(session, event, customer, now, policy)
    return CheckInResult(
        True,
        existing.card,
        Queue(str(first["queue"])),
        str(first["ticket"]),
        existing.waiting_ahead,
        replayed=True,
        changes=Changes.of(
            queues=[str(first["queue"])],
            visits=[int(str(first["visit_id"]))],
            customers=[customer.id],
        ),
    )


def undo_check_in(
    uow: UnitOfWork,
    visit_id: int,
    staff: StaffSession,
    *,
    approval: Approval | None = None,
    clock: Clock | None = None,
    policy: ReceptionPolicy | None = None,
    station: str = "reception",
) -> Changes:
    """Take back a check-in made by mistake, shortly after and before anyone served it; a
    supervisor approves it on the spot (it takes a customer's arrival out of the figures)."""
    approver = approved_by(staff, Action.UNDO_CHECK_IN, approval)
    now = (clock or Clock()).now()
    policy = policy or ReceptionPolicy()
    with uow:
        s = uow.session
        # Lock the tickets first, then the visit: a desk calling this customer right now
        # holds the ticket, so the undo waits and then sees it called (and refuses) instead
        # of deleting a customer who is already at a desk.
        entries = s.scalars(
            select(QueueEntry)
            .where(QueueEntry.visit_id == visit_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        visit = s.scalar(
            select(Visit)
            .where(Visit.id == visit_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if visit is None:
            raise CheckInError(_("This check-in was already undone."))
        if now - visit.checked_in_at > policy.undo_window:
            raise CheckInError(
                _("A check-in can be undone only within {minutes} minutes.").format(
                    minutes=int(policy.undo_window.total_seconds() // 60)
                )
            )
        if any(e.status != QueueStatus.WAITING for e in entries) or len(visit.steps) > 1:
            raise CheckInError(_("The customer has already been served; the check-in stays."))
        customer = s.get(Customer, visit.customer_id)
        assert customer is not None
        event = s.get(Event, visit.event_id)
        assert event is not None
        s.execute(delete(QueueEntry).where(QueueEntry.visit_id == visit.id))
        s.delete(visit)
        outbox.enqueue(
            s,
            event_id=event.id,
            kind="check_in_undone",
            at=now,
            payload={"event": event.code, "customer_no": customer.customer_no},
        )
        audit.append(
            s,
            at=now,
            action="check_in_undone",
            staff_id=staff.staff_id,
            station=station,
            entity="visit",
            entity_id=visit_id,
            details={"customer_no": customer.customer_no},
            approved_by=approver,
        )
        uow.commit()
        return Changes.of(
            queues=[e.queue for e in entries], visits=[visit_id], customers=[customer.id]
        )


class WalkInInvalid(CheckInError):
    """A walk-in's form with problems: ``errors`` maps each field ("name", "phone",
    "branch", or "form" for the whole) to its sentence, so the dialog marks them in place
    and keeps what was typed. The message is the first problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def walk_in_phone(phone: str) -> str:
    """The phone as typed, without the spaces, dashes, full-width digits or +86 people add."""
    phone = normalize(phone).replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    return phone


def walk_in_problems(name: str, phone: str, branch_code: str | None) -> dict[str, str]:
    """Field -> what is wrong with a walk-in's name, phone and branch; empty when fine."""
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    phone = walk_in_phone(phone)
    if not name:
        errors["name"] = _("Type the customer's name.")
    elif len(name) > 64:
        errors["name"] = _("The name is too long (at most 64 characters).")
    if not phone:
        errors["phone"] = _("Type the customer's mobile number.")
    elif not is_valid_mobile(phone):
        errors["phone"] = _(
            "“{phone}” is not a mainland mobile number (11 digits starting with 1)."
        ).format(phone=phone)
    if not branch_code:
        errors["branch"] = _("Choose the customer's branch.")
    return errors


def register_walk_in(
    uow: UnitOfWork,
    *,
    name: str,
    phone: str,
    branch_code: str,
    staff: StaffSession,
    clock: Clock | None = None,
    station: str = "reception",
) -> int:
    """Register a customer who was not invited; returns the new customer id. Every problem
    with what was typed raises ``WalkInInvalid`` naming its field; nothing is written."""
    require(staff, Action.REGISTER_WALK_IN)
    now = (clock or Clock()).now()
    errors = walk_in_problems(name, phone, branch_code)
    if errors:
        raise WalkInInvalid(errors)
    name = " ".join(name.split())
    phone = walk_in_phone(phone)
    with uow:
        s = uow.session
        branch = s.scalar(select(Branch).where(Branch.code == branch_code))
        if branch is None:
            raise WalkInInvalid({"branch": _("Choose the customer's branch.")})
        # The full phone is sealed: the same name with the same masked phone is the same
        # person registered twice (a namesake with those 7 digits too is vanishingly rare).
        same = s.scalar(
            select(Customer)
            .where(Customer.phone_masked == privacy.stored_phone_mask(phone), Customer.name == name)
            .limit(1)
        )
        if same is not None:
            raise WalkInInvalid(
                {
                    "form": _(
                        "{name} with this phone is already registered ({no}); search for "
                        "them instead."
                    ).format(name=mask_name(same.name), no=same.customer_no)
                }
            )
        transaction_lock(s, "walk_in_number")
        last = s.scalar(
            select(func.max(Customer.customer_no)).where(Customer.customer_no.like("W%"))
        )
        number = int(last[1:]) + 1 if last else 1
        customer = Customer(
            customer_no=f"W{number:06d}",
            name=name,
            name_initials="",
            branch_id=branch.id,
            walk_in=True,
            mobile_banking=MobileBanking.NONE,
        )
        privacy.store(customer, privacy.sealer(s), phone=phone)
        s.add(customer)
        s.flush()
        index_customer(s, customer.id, customer_keys(name, phone, customer.customer_no))
        audit.append(
            s,
            at=now,
            action="walk_in_registered",
            staff_id=staff.staff_id,
            station=station,
            entity="customer",
            entity_id=customer.id,
            details={"customer_no": customer.customer_no, "branch": branch.code},
        )
        uow.commit()
        return customer.id


def slot_expected(uow: UnitOfWork) -> dict[str, int]:
    """Customers expected per slot: its confirmed invitations, as the dashboard and the
    reports count them (``figures.slot_invitations``). It changes with imports, not with
    check-ins, so the station caches it."""
    from kiosk.services import figures  # figures reads reception's policy from here

    with uow:
        s = uow.session
        event = current_event(s)
        per_slot = figures.slot_invitations(s, event)
        return {slot.code: per_slot.get(slot.id, (0, 0))[1] for slot in event.slots}


def slot_arrivals(
    uow: UnitOfWork, *, clock: Clock | None = None, expected: dict[str, int] | None = None
) -> list[SlotArrivals]:
    """Per slot: customers expected, arrivals so far, and which slot is on now, with the
    dashboard's definitions (``kiosk.services.figures``).

    Pass ``expected`` (from ``slot_expected``) to count only arrivals, which is cheap.
    """
    from kiosk.services import figures

    now = (clock or Clock()).now()
    if expected is None:
        expected = slot_expected(uow)
    with uow:
        s = uow.session
        event = current_event(s)
        arrived = figures.slot_arrived(s, event)
        return [
            SlotArrivals(
                code=slot.code,
                label=slot.label,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                capacity=slot.capacity,
                expected=expected.get(slot.code, 0),
                arrived=arrived.get(slot.id, 0),
                is_current=figures.is_current_slot(slot, now),
            )
            for slot in event.slots
        ]


def queue_ticket(uow: UnitOfWork, result: CheckInResult) -> QueueTicket:
    """The printable ticket for a check-in."""
    with uow:
        event = current_event(uow.session)
        assert result.card.visit is not None
        return QueueTicket(
            event_name=event.name,
            ticket=result.ticket,
            queue=result.queue,
            waiting_ahead=result.waiting_ahead,
            masked_name=mask_name(result.card.hit.name),
            checked_in_at=result.card.visit.checked_in_at,
            timezone=event.timezone,
        )
