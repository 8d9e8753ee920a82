"""The dashboard's figures kept per customer in memory and brought up to date by what
changed, so a refresh costs what happened since the last one, not the size of the event
(issue #23).

Every figure the dashboard shows is a sum over customers: every customer has one branch, one
invitation and one visit per event, so the branch rows, the slots, the arrival stretches, the
queues' counts, the offers, the tiers, the coverage counts and the points stock each add up
per customer (the counts of distinct customers too: a customer adds 1 or 0), and the
timelines are each visit's durations, ranked. ``LiveFigures`` therefore keeps, per customer,
what that customer adds to each figure, and the running sums (and, for the timelines, the
sorted durations). The first refresh reads everything once; each later refresh reads the
customers that the triggers of migration 0018 logged in ``figure_change`` since, recomputes
what each of them adds with the same definitions as ``kiosk.services.figures`` (the very same
queries where they can be restricted to some customers: the funnel counts, the timelines'
durations), takes the old contribution off and adds the new one. The one figure that is not
a sum, the longest wait, comes from the waiting tickets alone (``figures.oldest_waiting``).

Which log rows are new: on SQLite writers commit one at a time, so the rows up to the largest
id this refresh saw are exactly those committed (the refresh reads in one transaction, one
snapshot). On PostgreSQL ids are handed out before commit, so a smaller id can commit later;
each row carries its transaction id instead, and a refresh takes the rows of transactions
older than its snapshot's xmin, all of which have finished (committed or rolled back), and
not yet taken by the last refresh. A transaction still open waits for the next refresh.

The state is rebuilt from scratch when the event's set-up that the per-customer figures depend
on changes (event, its date, its slots' times, the window length) and when very many customers
changed at once (a pull or an import): one full read is cheaper than thousands of small ones.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, select, text, true
from sqlalchemy.orm import Session, aliased

from kiosk.clock import Clock
from kiosk.db import READ_ONLY
from kiosk.models import (
    Branch,
    Customer,
    Event,
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
    Slip,
    SlipStatus,
    Visit,
)
from kiosk.services import figures as F
from kiosk.services.events import current_event
from kiosk.services.reception import ReceptionPolicy
from kiosk.uow import UnitOfWork

CHUNK = 500  # customers per recomputing query (bound parameters stay few)
RELOAD_OVER = 5_000  # more changed customers than this: read everything again

Key = tuple[Any, ...]
_STOCK: Key = ("stock",)
_COVERAGE: Key = ("coverage",)
_STATUSES = (QueueStatus.WAITING, QueueStatus.CALLED, QueueStatus.DONE)


_INTERVALS = list(F.Interval)

# What one customer adds, as one flat array of 64-bit integers: the number of sums it adds to,
# then per sum (key number, width, values...), then per duration (interval number, slot key,
# seconds). Flat: 100,000 customers are 100,000 small objects, not millions, so they cost
# tens of MB, not hundreds, and the garbage collector has nothing in them to walk.
_Part = array
_NOTHING = array("q", [0])
# Before encoding: (key, values) per sum, (interval number, slot key, seconds) per duration.
_Raw = tuple[dict[Key, list[int]], list[tuple[int, int, int]]]


@dataclass
class LiveFigures:
    """One dashboard's figures, kept between refreshes (one per dashboard station)."""

    recomputed: int = 0  # customers the last refresh recomputed (-1: it read everything)
    ready: bool = False  # a refresh succeeded: the next one reads only what changed
    _setup: Any = None
    _mark: Mark = None
    _parts: dict[int, _Part] = field(default_factory=dict)
    _sums: dict[Key, list[int]] = field(default_factory=dict)
    _sorted: dict[tuple[F.Interval, int], list[int]] = field(default_factory=dict)
    _key_numbers: dict[Key, int] = field(default_factory=dict)
    _key_list: list[Key] = field(default_factory=list)
    _queries: dict[str, Any] = field(default_factory=dict)  # per customer, built per set-up

    def figures(
        self,
        uow: UnitOfWork,
        *,
        clock: Clock | None = None,
        with_timelines: bool = True,
        with_stock: bool | None = None,
        reload: bool = True,
    ) -> F.EventFigures | None:
        """The same figures as ``figures.event_figures``, from what changed since the last
        call. When the whole event must be read again (the first call, a new set-up, very
        many changes) and ``reload`` is False: None, and ``ready`` turns False, so that the
        caller reads in full this time and reads the event again where it cannot be felt
        (the dashboard station, on a thread)."""
        if with_stock is None:
            with_stock = with_timelines
        now = (clock or Clock()).now()
        with uow:
            s = uow.session
            s.connection(execution_options={READ_ONLY: True})  # reads only: no write lock
            event = current_event(s)
            postgresql = s.get_bind().dialect.name == "postgresql"
            try:
                setup = _setup_of(s, event)
                fresh = setup != self._setup
                # The log's mark before any figure is read: what is read after it is at
                # least as new, and anything later is logged after the mark.
                mark, changed = _changed(s, postgresql, None if fresh else self._mark)
                if (fresh or len(changed) > RELOAD_OVER) and not reload:
                    self._setup, self.ready = None, False
                    return None
                if fresh:
                    self._reload(s, event)
                else:
                    if len(changed) > RELOAD_OVER:
                        self._reload(s, event)
                    else:
                        for start in range(0, len(changed), CHUNK):
                            self._update(s, event, changed[start : start + CHUNK])
                        self.recomputed = len(changed)
                self._setup, self._mark = setup, mark
                figures = self._assemble(s, event, now, with_timelines, with_stock)
            except BaseException:
                self._setup = None  # half-applied: read everything next time
                self.ready = False
                raise
        self.ready = True
        return figures

    # -- keeping ----------------------------------------------------------------------------

    def _reload(self, s: Session, event: Event) -> None:
        self._parts.clear()
        self._sums.clear()
        self._sorted.clear()
        self._queries = _queries(event, partial=True)
        raw = _parts(s, event, _queries(event, partial=False), None)
        while raw:
            customer_id, theirs = raw.popitem()
            part = self._parts[customer_id] = self._encode(theirs)
            self._add(part, 1, loading=True)
        for values in self._sorted.values():
            values.sort()
        self.recomputed = -1

    def _update(self, s: Session, event: Event, customers: list[int]) -> None:
        new = _parts(s, event, self._queries, customers)
        for customer_id in customers:
            old = self._parts.pop(customer_id, _NOTHING)
            self._add(old, -1)
            if customer_id in new:
                part = self._parts[customer_id] = self._encode(new[customer_id])
                self._add(part, 1)

    def _encode(self, raw: _Raw) -> _Part:
        sums, durations = raw
        flat = [len(sums)]
        for key, values in sums.items():
            number = self._key_numbers.get(key)
            if number is None:
                number = self._key_numbers[key] = len(self._key_list)
                self._key_list.append(key)
            flat += (number, len(values), *values)
        for duration in durations:
            flat += duration
        return array("q", flat)

    def _add(self, part: _Part, sign: int, *, loading: bool = False) -> None:
        at = 1
        for _n in range(part[0]):
            key, width = self._key_list[part[at]], part[at + 1]
            total = self._sums.get(key)
            if total is None:
                total = self._sums[key] = [0] * width
            for index in range(width):
                total[index] += sign * part[at + 2 + index]
            at += 2 + width
        for start in range(at, len(part), 3):
            interval, slot, seconds = _INTERVALS[part[start]], part[start + 1], part[start + 2]
            for group in (slot, -1):
                ranked = self._sorted.setdefault((interval, group), [])
                if sign < 0:
                    del ranked[bisect_left(ranked, seconds)]
                elif loading:
                    ranked.append(seconds)  # sorted once at the end
                else:
                    insort(ranked, seconds)

    # -- showing ----------------------------------------------------------------------------

    def _sum(self, *key: Any, width: int = 1) -> list[int]:
        return self._sums.get(key) or [0] * width

    def _assemble(
        self, s: Session, event: Event, now: datetime, with_timelines: bool, with_stock: bool
    ) -> F.EventFigures:
        branches = []
        for branch in s.scalars(select(Branch).order_by(Branch.code)):
            counts = self._sums.get(("branch", branch.id))
            if counts and counts[-1] > 0:  # a customer with an invitation, visit or slip
                named = dict(zip(F._COUNTS, counts, strict=False))
                branches.append(F.Attendance(branch.code, branch.name, branch.code, **named))
        total = F._sum(branches)
        slots = []
        for slot in event.slots:
            invited, expected, arrived, early, late, companions = self._sum(
                "slot", slot.id, width=6
            )
            slots.append(
                F.SlotFigures(
                    code=slot.code,
                    label=slot.label,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    capacity=slot.capacity,
                    invited=invited,
                    expected=expected,
                    arrived=arrived,
                    early=early,
                    on_time=arrived - early - late,
                    late=late,
                    companions=companions,
                    is_current=F.is_current_slot(slot, now),
                )
            )
        arrivals = [
            F.ArrivalBucket(edge, self._sum("bucket", index)[0])
            for index, edge in enumerate(_edges(event))
        ]
        oldest = F.oldest_waiting(s, event)
        queues = [
            F.queue_wait(
                queue,
                tuple(self._sum("queue", queue.value, status.value)[0] for status in _STATUSES),  # type: ignore[arg-type]
                oldest.get(queue.value),
                now,
            )
            for queue in Queue
        ]
        offers = [
            F.OfferFigures(m_code, m_name, booth, code, name, price, capacity, reserved,
                           *self._sum("offer", offer_id, width=2))
            for offer_id, m_code, m_name, booth, code, name, price, capacity, reserved in s.execute(
                select(
                    Offer.id,
                    Merchant.code,
                    Merchant.name,
                    Merchant.booth,
                    Offer.code,
                    Offer.name,
                    Offer.points_price,
                    Offer.capacity,
                    Offer.reserved,
                )
                .join(Merchant, Merchant.id == Offer.merchant_id)
                .where(Offer.event_id == event.id)
                .order_by(Merchant.code, Offer.code)
            )
        ]  # fmt: skip
        tiers = F.named_tiers(
            s,
            event,
            [
                (key[1], *counts)
                for key, counts in self._sums.items()
                if key[0] == "tier" and counts[0] > 0
            ],
        )
        stock = None
        if with_stock:
            n, balances, expired, settled, expiring, holders = self._sum(*_STOCK, width=6)
            stock = F.PointsStock(
                customers=n,
                customers_stock=balances - expired + settled,
                expiring_from=event.event_date,
                expiring_before=F.next_event_day(event.event_date, event.next_event_on),
                expiring_points=expiring,
                expiring_customers=holders,
            )
        points = F.PointsFigures(
            redeemed=total.points_redeemed,
            invitee_stock=total.points_stock,
            bank_stock=event.bank_points_stock,
            tiers=tiers,
            stock=stock,
        )
        needed, with_mobile = self._sum(*_COVERAGE, width=2)
        return F.EventFigures(
            at=now,
            event_code=event.code,
            event_name=event.name,
            event_date=event.event_date,
            venue=event.venue,
            timezone=event.timezone,
            total=total,
            slots=slots,
            arrivals=arrivals,
            queues=queues,
            branches=branches,
            offers=offers,
            points=points,
            coverage=F.coverage_of(total, needed, with_mobile),
            timelines=self._timelines(event) if with_timelines else [],
        )

    def _timelines(self, event: Event) -> list[F.Timeline]:
        result = []
        for interval in F.Interval:
            groups = [(slot.id, slot.code) for slot in event.slots]
            groups += [(0, F.WALK_INS)] if self._sorted.get((interval, 0)) else []
            for key, code in [*groups, (-1, F.ALL_SLOTS)]:
                ranked = self._sorted.get((interval, key), [])
                n = len(ranked)
                median = ranked[F.nearest_rank(n, 50) - 1] if n else None
                p90 = ranked[F.nearest_rank(n, 90) - 1] if n else None
                result.append(F.Timeline(interval, code, n, median, p90))
        return result


# -- which customers changed ------------------------------------------------------------------

# Where the log stood at a refresh. SQLite: the last row's id. PostgreSQL: the snapshot's xmax
# and the transactions it saw in progress (``xip``): every other transaction below xmax had
# finished, so its rows were read then or never will be (rolled back).
Mark = Any


def _changed(s: Session, postgresql: bool, since: Mark | None) -> tuple[Mark, list[int]]:
    """This refresh's mark, and the customers logged since ``since`` (None: the first
    refresh, which reads everything and needs no list). One statement, so the mark and the
    rows come from one snapshot."""
    if postgresql:
        if since is None:
            snapshot = s.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
            return _snapshot_mark(snapshot), []
        xmax, in_progress = since
        # New: rows of transactions that had not started, or were still running, then.
        snapshot, customers = s.execute(
            text(
                "SELECT pg_current_snapshot()::text, ARRAY(SELECT DISTINCT customer_id "
                "FROM figure_change WHERE xid >= :xmax OR xid = ANY(CAST(:xip AS bigint[])))"
            ),
            {"xmax": xmax, "xip": list(in_progress)},
        ).one()
        return _snapshot_mark(snapshot), sorted(int(c) for c in customers)
    last = int(s.execute(text("SELECT coalesce(max(id), 0) FROM figure_change")).scalar_one())
    if since is None:
        return last, []
    # Writers commit one at a time, and this refresh reads in one transaction (one snapshot).
    customers = s.scalars(
        text("SELECT DISTINCT customer_id FROM figure_change WHERE id > :since AND id <= :last"),
        {"since": since, "last": last},
    )
    return last, sorted(int(c) for c in customers)


def _snapshot_mark(snapshot: str) -> tuple[int, tuple[int, ...]]:
    """``xmin:xmax:xip,...`` -> (xmax, xip)."""
    _xmin, xmax, xip = snapshot.split(":")
    return int(xmax), tuple(int(x) for x in xip.split(",") if x)


def _setup_of(s: Session, event: Event) -> tuple[Any, ...]:
    """What each customer's figures depend on besides the customer's own rows (and which
    database: a station may be pointed at another)."""
    return (
        str(s.get_bind().url),
        event.id,
        event.event_date,
        event.next_event_on,
        event.window_minutes,
        tuple((slot.id, slot.starts_at, slot.ends_at) for slot in event.slots),
    )


def _edges(event: Event) -> list[datetime]:
    """The arrival stretches' starts, as ``figures.arrivals_over_time`` cuts the day."""
    if not event.slots:
        return []
    start = min(slot.starts_at for slot in event.slots) - ReceptionPolicy().early_grace
    end = max(slot.ends_at for slot in event.slots)
    edges, at = [], start
    while at < end:
        edges.append(at)
        at += timedelta(minutes=30)
    return edges


# -- what each customer adds ------------------------------------------------------------------


def _queries(event: Event, partial: bool) -> dict[str, Any]:
    """Every query that reads what customers add, built once per set-up: restricted to the
    customers of the ``customers`` parameter when ``partial``, else over every customer.
    With the definitions of ``kiosk.services.figures`` (its own queries where they can be
    restricted: the funnel counts and the timelines' durations)."""
    customers = bindparam("customers", expanding=True) if partial else None

    def among(column: Any) -> Any:
        return column.in_(customers) if customers is not None else true()

    def of_event(column: Any) -> Any:
        return F.of_event(column, event.id, partial)

    redeemed = (of_event(Slip.event_id), Slip.status == SlipStatus.REDEEMED)
    # The customers' tickets found through their visits (the tickets' visit index), not by
    # walking the event's tickets.
    their_tickets = (
        QueueEntry.visit_id.in_(
            select(Visit.id).where(Visit.event_id == event.id, among(Visit.customer_id))
        )
        if partial
        else true()
    )
    queries: dict[str, Any] = {
        "customers": select(Customer.id, Customer.branch_id, Customer.points_balance).where(
            among(Customer.id)
        ),
        "invitations": select(Invitation.customer_id, Invitation.slot_id, Invitation.status).where(
            Invitation.event_id == event.id, among(Invitation.customer_id)
        ),
        "visits": select(
            Visit.customer_id,
            Visit.checked_in_at,
            Visit.companions,
            Invitation.slot_id,
            Invitation.window_starts_at,
        )
        .outerjoin(Invitation, Invitation.id == Visit.invitation_id)
        .where(Visit.event_id == event.id, among(Visit.customer_id)),
        # Tickets per queue and status, visits that needed governance (a ticket with a
        # reason), visits of customers with mobile banking (``figures.coverage``).
        "tickets": select(
            Visit.customer_id, QueueEntry.queue, QueueEntry.status, func.count(QueueEntry.id)
        )
        .join(Visit, Visit.id == QueueEntry.visit_id)
        .where(of_event(QueueEntry.event_id), among(Visit.customer_id), their_tickets)
        .group_by(Visit.customer_id, QueueEntry.queue, QueueEntry.status),
        "needed": select(Visit.customer_id, func.count(func.distinct(QueueEntry.visit_id)))
        .join(Visit, Visit.id == QueueEntry.visit_id)
        .where(
            of_event(QueueEntry.event_id),
            QueueEntry.reason != "",
            among(Visit.customer_id),
            their_tickets,
        )
        .group_by(Visit.customer_id),
        "mobile": select(Visit.customer_id, func.count(Visit.id))
        .join(Customer, Customer.id == Visit.customer_id)
        .where(
            Visit.event_id == event.id,
            Customer.mobile_banking != MobileBanking.NONE,
            among(Visit.customer_id),
        )
        .group_by(Visit.customer_id),
        # Redeemed slips per offer (``figures.offer_figures``) and per tier at issue.
        "offers": select(
            Slip.customer_id, Slip.offer_id, func.sum(Slip.quantity), func.sum(Slip.points)
        )
        .where(*redeemed, among(Slip.customer_id))
        .group_by(Slip.customer_id, Slip.offer_id),
        "tiers": select(Slip.customer_id, Slip.tier, func.count(Slip.id), func.sum(Slip.points))
        .where(*redeemed, among(Slip.customer_id))
        .group_by(Slip.customer_id, Slip.tier),
    }
    attendance = F.grouped_queries(event.id, F.customer_dimension, among=among(Customer.id))
    queries.update(zip(("attendance_invitations", "attendance_visits", "attendance_slips"),
                       attendance, strict=True))  # fmt: skip
    queries.update(_stock_queries(event, among))
    for interval, query in F.visit_durations(event, customers).items():
        queries[f"durations_{interval.value}"] = query
    return queries


def _stock_queries(event: Event, among: Any) -> dict[str, Any]:
    """Per customer, with the definitions of ``figures.points_stock``: lots expired before
    the event day, the event's settled journal, and the invitees' points left in lots
    expiring before the next event (with whether any such lot has points left)."""
    day = event.event_date
    before = F.next_event_day(day, event.next_event_on)
    lots = aliased(PointsLot)
    moved = (
        select(JournalLot.lot_id.label("lot_id"), func.sum(F._signed_lot_points()).label("n"))
        .join(JournalEntry, JournalEntry.id == JournalLot.journal_entry_id)
        .where(
            JournalEntry.settled_at.is_(None),
            # Only the customers' own lots: recomputing a few customers reads only theirs.
            JournalLot.lot_id.in_(select(lots.id).where(among(lots.customer_id))),
        )
        .group_by(JournalLot.lot_id)
        .subquery()
    )
    left = PointsLot.points + func.coalesce(moved.c.n, 0)
    return {
        "expired": select(PointsLot.customer_id, func.sum(PointsLot.points))
        .where(PointsLot.expires_on < day, among(PointsLot.customer_id))
        .group_by(PointsLot.customer_id),
        "settled": select(
            JournalEntry.customer_id,
            func.sum(
                case(
                    (JournalEntry.kind == JournalKind.RELEASE, -JournalEntry.points),
                    else_=JournalEntry.points,
                )
            ),
        )
        .where(
            JournalEntry.event_id == event.id,
            JournalEntry.settled_at.is_not(None),
            among(JournalEntry.customer_id),
        )
        .group_by(JournalEntry.customer_id),
        "expiring": select(
            PointsLot.customer_id, func.sum(left), func.count(PointsLot.id).filter(left > 0)
        )
        .select_from(PointsLot)
        .outerjoin(moved, moved.c.lot_id == PointsLot.id)
        .where(
            PointsLot.expires_on >= day,
            PointsLot.expires_on < before,
            among(PointsLot.customer_id),
            select(Invitation.id)
            .where(Invitation.customer_id == PointsLot.customer_id, Invitation.event_id == event.id)
            .exists(),
        )
        .group_by(PointsLot.customer_id),
    }


def _parts(
    s: Session, event: Event, queries: dict[str, Any], customers: list[int] | None
) -> dict[int, _Raw]:
    """Per customer (of ``customers``; None: every customer), what they add to each figure."""
    sums: dict[int, dict[Key, list[int]]] = {}
    durations: dict[int, list[tuple[int, int, int]]] = {}
    parameters = {"customers": customers} if customers is not None else {}

    connection = s.connection()  # Core: column queries need no ORM step

    def rows(name: str) -> Any:
        return connection.execute(queries[name], parameters)

    def add(customer_id: int, key: Key, *values: Any) -> None:
        theirs = sums.get(customer_id)
        if theirs is None:
            theirs = sums[customer_id] = {}
        total = theirs.get(key)
        if total is None:
            theirs[key] = [int(v or 0) for v in values]
        else:
            for index, value in enumerate(values):
                total[index] += int(value or 0)

    # Every customer's points (the stock the bank's ratio divides by), and their branch.
    branch_of = {}
    for customer_id, branch_id, balance in rows("customers"):
        branch_of[customer_id] = branch_id
        add(customer_id, _STOCK, 1, balance, 0, 0, 0, 0)
    for customer_id, points in rows("expired"):
        add(customer_id, _STOCK, 0, 0, points, 0, 0, 0)
    for customer_id, points in rows("settled"):
        add(customer_id, _STOCK, 0, 0, 0, points, 0, 0)
    for customer_id, points, held in rows("expiring"):
        add(customer_id, _STOCK, 0, 0, 0, 0, points, int(held or 0) > 0)

    # The funnel counts: the reports' own queries, per customer, added up per branch.
    attendance = F.grouped_counts(
        [rows(f"attendance_{name}") for name in ("invitations", "visits", "slips")]
    )
    for customer_id, counts in attendance.items():
        add(customer_id, ("branch", branch_of[customer_id]), *(counts[n] for n in F._COUNTS), 1)

    # Slots: invitations (invited, expected), then arrivals judged as reception judged them;
    # and the stretch of the day each check-in falls in.
    slots = {slot.id: slot for slot in event.slots}
    for customer_id, slot_id, status in rows("invitations"):
        add(customer_id, ("slot", slot_id), 1, status == InvitationStatus.CONFIRMED, 0, 0, 0, 0)
    edges = _edges(event)
    for customer_id, checked_in_at, companions, slot_id, window_starts_at in rows("visits"):
        if edges:
            bucket = min(max(bisect_right(edges, checked_in_at) - 1, 0), len(edges) - 1)
            add(customer_id, ("bucket", bucket), 1)
        if slot_id is not None:
            side = (
                F.arrival_side(
                    slots[slot_id], event.window_minutes, checked_in_at, window_starts_at
                )
                if slot_id in slots
                else 0
            )
            add(customer_id, ("slot", slot_id), 0, 0, 1, side < 0, side > 0, companions)

    for customer_id, queue, status, n in rows("tickets"):
        add(customer_id, ("queue", queue, status), n)
    for customer_id, n in rows("needed"):
        add(customer_id, _COVERAGE, n, 0)
    for customer_id, n in rows("mobile"):
        add(customer_id, _COVERAGE, 0, n)
    for customer_id, offer_id, quantity, points in rows("offers"):
        add(customer_id, ("offer", offer_id), quantity, points)
    for customer_id, tier, n, points in rows("tiers"):
        add(customer_id, ("tier", tier), 1, n, points)

    for number, interval in enumerate(_INTERVALS):
        for customer_id, slot, seconds in rows(f"durations_{interval.value}"):
            durations.setdefault(customer_id, []).append((number, int(slot), int(seconds)))

    return {
        customer_id: (sums.get(customer_id, {}), durations.get(customer_id, []))
        for customer_id in sums.keys() | durations.keys()
    }
