"""Issuing and voiding signed redemption slips (the activation desk's core, issue #6).

Slips are issued only past the redemption gate (``kiosk.services.gate``): the event's
required steps, checked in the same transaction, or a supervisor's override on the spot.

Everything for one customer's cart happens in one transaction: for each line, the offer's
capacity and the quota of the customer's tier are claimed with conditional UPDATEs
(``reserved + qty <= capacity``, ``<= quota``), the customer's balance is checked under a
lock on the customer row, and the slip (at the customer's tier price, ``kiosk.tiers``), its
points journal reserve entry with the lots it takes (expiring first, ``kiosk.points``), an
outbox entry and an audit record are written. Two desks issuing
for the same customer at once cannot overspend: on PostgreSQL the second waits for the first
on ``SELECT ... FOR UPDATE`` of the customer and then sees the reduced balance; on SQLite
``BEGIN IMMEDIATE`` serialises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Integer, Select, String, Update, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from kiosk import audit, idempotency, outbox, slipcode
from kiosk.changeset import ChangedList, Changes
from kiosk.clock import Clock
from kiosk.current_event import CURRENT, guess, keep
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.locks import lock_columns
from kiosk.masking import mask_name
from kiosk.models import (
    Customer,
    Event,
    EventTheme,
    EventTier,
    JournalEntry,
    JournalKind,
    Merchant,
    Offer,
    OfferTier,
    OutboxEntry,
    Slip,
    SlipStatus,
    Visit,
    VisitStep,
)
from kiosk.permissions import Action, Approval, approved_by, require
from kiosk.points import give_back, lots_from, lots_select, spend_many
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.services.gate import OVERRIDE_STEP, VISIT_STEPS, Gate, event_today, judge, stored
from kiosk.theme_scope import Scope, customer_theme_id
from kiosk.tiers import as_tier, terms_for, tier_id_column
from kiosk.uow import UnitOfWork


class SlipError(KioskError):
    """A slip that cannot be issued or voided; nothing was written."""


class GateClosed(SlipError):
    """Slips refused: the customer has not done every step the event requires (``gate``
    says which, and where to send them). Nothing was written."""

    def __init__(self, gate: Gate) -> None:
        super().__init__(
            _("{first} {second}").format(
                first=gate.explanation(),
                second=_("A supervisor may approve issuing slips anyway."),
            )
        )
        self.gate = gate


@dataclass(frozen=True)
class CartLine:
    offer_code: str
    quantity: int = 1


@dataclass(frozen=True)
class IssuedSlip:
    serial: int
    code: str
    merchant: str
    offer: str
    quantity: int
    points: int
    # The answer to a request already done (same request id): these slips were issued by the
    # first try; ``copies_printed`` says whether they came out since.
    replayed: bool = False
    copies_printed: int = 0


def issue_slips(
    uow: UnitOfWork,
    customer_id: int,
    cart: list[CartLine],
    staff: StaffSession,
    signing_key: Ed25519PrivateKey,
    *,
    clock: Clock | None = None,
    station: str = "activation",
    request_id: str | None = None,
    override: bool = False,
    approval: Approval | None = None,
) -> ChangedList[IssuedSlip]:
    """Issue one signed slip per cart line, all or nothing (``changes`` on the list says
    which customer, visit, offers and slips).

    A customer who has not done every step the event requires is refused with
    ``GateClosed``, which says what is missing and where to send them, unless ``override``:
    then a supervisor lets them through on the spot (the signed-in supervisor, or
    ``approval`` for ``Action.OVERRIDE_GATE``), which is audited with the steps skipped.

    With a ``request_id`` (``kiosk.idempotency``) the slips are recorded under it: a commit
    whose reply was lost is found out, and the same request again returns the slips of the
    first try (``replayed``) instead of issuing and reserving the points twice.
    """
    require(staff, Action.ISSUE_SLIPS)
    assert staff is not None
    now = (clock or Clock()).now()
    if not cart:
        raise SlipError(_("The cart is empty."))
    if any(line.quantity <= 0 for line in cart):
        raise SlipError(_("A quantity must be at least 1."))
    # What the request asked, to tell its second try from another request's: only with an id.
    asked = (
        idempotency.fingerprint(
            customer_id=customer_id,
            cart=[(line.offer_code.upper(), line.quantity) for line in cart],
        )
        if request_id
        else ""
    )
    with uow:
        s = uow.session
        # Serialise everything that spends this customer's points: only the customer's row
        # is locked. Everything else issuing needs to know about the customer comes along in
        # the same round trip (issue #23): the visit, the visit's steps the gate reads, the
        # customer's theme and band (none of which another desk's issuing changes), and the
        # current event itself when the one last seen current still is (``_event_and_customer``).
        event, found = _event_and_customer(s, customer_id)
        if found is None:
            raise SlipError(_("This customer no longer exists."))
        customer, visit, tier_row, theme, *done_flags = found[: 4 + len(VISIT_STEPS)]
        today = event_today(event, clock)
        tier = as_tier(tier_row)
        # Each offer with its merchant and the tier's terms, in one query; it also takes the
        # slip numbers' lock (issue #23: one round trip less). The serials are read after it,
        # in the next statement, which sees every slip committed before the lock was ours.
        offer_rows = s.execute(
            _offers_statement(s, event.id, tier is not None),
            {"event_id": event.id, "codes": [line.offer_code.upper() for line in cart]}
            | ({"tier_code": tier.code} if tier is not None else {}),
        ).all()
        offers = {row[0].code: row[0] for row in offer_rows}
        merchants = {row[1].id: row[1] for row in offer_rows}
        # The lots with what is left of them, the highest serial so far and the request's
        # row, in one query after the customer's lock and the serials' lock: a second try of
        # the same request waits for the first, then finds it done.
        lot_rows = s.execute(
            _lots_statement(bool(request_id)),
            {"event_id": event.id, "customer_id": customer.id}
            | ({"request_id": request_id} if request_id else {}),
        ).all()
        first = idempotency.replay_of(lot_rows[0][-1], "issue_slips", asked)
        if first is not None:
            serials = [int(serial) for serial in first["serials"]]
            return ChangedList(
                _issued(s, event, serials),
                Changes.of(
                    customers=[customer.id],
                    visits=[visit.id] if visit is not None else [],
                    offers=[line.offer_code.upper() for line in cart],
                    slips=serials,
                ),
            )
        # Refusals only after the replay: a request that was done is answered as done even
        # if the gate, the theme or the offers changed since (the slips exist; "refused"
        # would tell the desk they do not).
        if visit is None:
            raise SlipError(
                _("The customer has not checked in; slips are issued only at the event.")
            )
        done = {step for step, flag in zip(VISIT_STEPS, done_flags, strict=True) if flag}
        gate = judge(stored(event), customer, today, done)
        overridden_by = None
        if not gate.open:
            if not override:
                raise GateClosed(gate)
            # The supervisor who lets the customer through: the approver, or the signed-in
            # supervisor themself.
            overridden_by = approved_by(staff, Action.OVERRIDE_GATE, approval) or staff.staff_id
        for line in cart:
            if line.offer_code.upper() not in offers:
                raise SlipError(_("No offer has the code {code}.").format(code=line.offer_code))
        _check_theme(
            Scope.of(theme),
            list(offers.values()),
            {m.id: m.code for m in merchants.values()},
        )
        terms = {
            row[0].id: terms_for(row[0], [row[2]] if tier is not None and row[2] else [], tier)
            for row in offer_rows
        }
        total = sum(
            terms[offers[line.offer_code.upper()].id].price * line.quantity for line in cart
        )
        held = lots_from(lot_rows, customer, today)
        balance = held.spendable
        if total > balance:
            raise SlipError(
                _(
                    "Not enough points: the cart needs {total:,}, the customer has {balance:,}."
                ).format(total=total, balance=balance)
            )
        serial = lot_rows[0][-2] or 0
        kid = slipcode.key_id(signing_key.public_key()).hex()
        # Capacity is claimed by a conditional UPDATE (two desks cannot both take the last
        # place; the CHECK constraint backs it) in offer-id order, so two carts naming the
        # same offers in another order cannot deadlock.
        for line in sorted(cart, key=lambda line: offers[line.offer_code.upper()].id):
            offer = offers[line.offer_code.upper()]
            claimed = s.execute(
                _claim_capacity(), {"offer": offer.id, "quantity": line.quantity}
            ).rowcount
            if not claimed:
                raise SlipError(_("{offer} is fully booked.").format(offer=offer.name))
            if tier is None:
                continue
            # The tier's quota, in the same transaction: a row without a quota still counts.
            in_quota = s.execute(
                _claim_quota(),
                {"offer": offer.id, "band": tier.code, "quantity": line.quantity},
            ).rowcount
            if not in_quota and terms[offer.id].quota_left is not None:
                raise SlipError(
                    _("{offer}: the places for {tier} customers are all taken.").format(
                        offer=offer.name, tier=tier.name
                    )
                )
        # The rows are written table by table, each table's rows in one Core INSERT, and
        # handed to the audit as the ORM's flush would note them (``audit.insert_noted``: the
        # flush was a large share of a slip's CPU, issue #23): slips and visit steps, then the
        # journal's reserves (which name the slips), then the lots they take and the outbox
        # entries. The rows never enter the session.
        issued: list[IssuedSlip] = []
        slip_rows: list[dict[str, Any]] = []
        for line in cart:
            offer = offers[line.offer_code.upper()]
            merchant = merchants[offer.merchant_id]
            serial += 1
            points = terms[offer.id].price * line.quantity
            code = slipcode.encode(
                slipcode.SlipPayload(
                    slipcode.event_tag(event.code),
                    serial,
                    merchant.id,
                    offer.id,
                    line.quantity,
                    points,
                    offer.redeem_by,
                    mask_name(customer.name),
                ),
                signing_key,
            )
            slip_rows.append(
                {
                    "event_id": event.id,
                    "serial": serial,
                    "visit_id": visit.id,
                    "customer_id": customer.id,
                    "merchant_id": merchant.id,
                    "offer_id": offer.id,
                    "quantity": line.quantity,
                    "points": points,
                    "redeem_by": offer.redeem_by,
                    "code": code,
                    "key_id": kid,
                    "tier": tier.code if tier else None,
                    "issued_at": now,
                    "issued_by": staff.staff_id,
                }
            )
            issued.append(
                IssuedSlip(serial, code, merchant.name, offer.name, line.quantity, points)
            )
        slips = audit.insert_many_noted(s, Slip, slip_rows)
        steps: list[dict[str, Any]] = []
        if overridden_by is not None:
            skipped = [m.requirement.value for m in gate.missing]
            steps.append(
                {
                    "visit_id": visit.id,
                    "step": OVERRIDE_STEP,
                    "at": now,
                    "staff_id": overridden_by,  # the timeline names the supervisor
                    "note": ",".join(skipped),
                }
            )
        steps.append(
            {
                "visit_id": visit.id,
                "step": "slips_issued",
                "at": now,
                "staff_id": staff.staff_id,
                "note": ", ".join(f"No. {slip.serial:06d}" for slip in issued),
            }
        )
        audit.insert_many_noted(s, VisitStep, steps)
        # Detached copies for ``spend_many``, which reads their ids and points.
        reserves = [
            JournalEntry(**row)
            for row in audit.insert_many_noted(
                s,
                JournalEntry,
                [
                    {
                        "event_id": event.id,
                        "customer_id": customer.id,
                        "slip_id": slip["id"],
                        "kind": JournalKind.RESERVE,
                        "points": slip["points"],
                        "at": now,
                        "staff_id": staff.staff_id,
                    }
                    for slip in slips
                ],
            )
        ]
        taken_each = spend_many(s, customer, reserves, held)
        entries: list[dict[str, Any]] = []
        for line, slip, taken in zip(cart, slips, taken_each, strict=True):
            offer = offers[line.offer_code.upper()]
            entries.append(
                outbox.entry_values(
                    event.id,
                    "slip_issued",
                    now,
                    {
                        "event": event.code,
                        "customer_no": customer.customer_no,
                        "serial": slip["serial"],
                        "merchant": merchants[offer.merchant_id].code,
                        "offer": offer.code,
                        "quantity": line.quantity,
                        "points": slip["points"],
                        "tier": tier.code if tier else None,
                        # The lots the points came from, expiring first: the ledger debits
                        # the same ones (docs/sync.md).
                        "lots": [{"lot": lot.ref, "points": n} for lot, n in taken],
                        "at": now.isoformat(),
                    },
                )
            )
            audit.append(
                s,
                at=now,
                action="slip_issued",
                staff_id=staff.staff_id,
                station=station,
                entity="slip",
                entity_id=slip["serial"],
                details={"offer": offer.code, "points": slip["points"]},
            )
        audit.insert_many_noted(s, OutboxEntry, entries)
        if overridden_by is not None:
            audit.append(
                s,
                at=now,
                action=OVERRIDE_STEP,
                staff_id=staff.staff_id,
                station=station,
                entity="visit",
                entity_id=visit.id,
                details={
                    "missing": [m.requirement.value for m in gate.missing],
                    "slips": [slip.serial for slip in issued],
                },
                approved_by=overridden_by,
            )
        idempotency.record_now(
            s,
            request_id,
            "issue_slips",
            asked,
            {"serials": [slip.serial for slip in issued]},
            staff_id=staff.staff_id,
            at=now,
        )
        uow.commit()
        return ChangedList(
            issued,
            Changes.of(
                customers=[customer.id],
                visits=[visit.id],
                offers=offers,
                slips=[slip.serial for slip in issued],
            ),
        )


def _event_and_customer(s: Session, customer_id: int) -> tuple[Event, Any]:
    """The current event and ``_customer_statement``'s row (None: no such customer), in one
    round trip when the event last seen current still is (``kiosk.current_event.guess``):
    the statement needs the event's id, so it is sent with the guessed one and brings the
    current event along joined on it; a row back proves the guess in the snapshot the
    customer is read in. No row: the event is asked first, as before (and "no event" said
    in words), then the customer."""
    hint = guess(s)
    if hint is not None:
        found = s.execute(
            _customer_statement(guessed=True), {"event_id": hint.id, "customer_id": customer_id}
        ).first()
        if found is not None:
            return keep(s, found[-1]), found
    event = current_event(s)
    found = s.execute(
        _customer_statement(), {"event_id": event.id, "customer_id": customer_id}
    ).first()
    return event, found


# -- the statements issuing sends, built once ------------------------------------------------
#
# Building a statement (its subqueries, joins and comparisons) and then its cache key, which
# SQLAlchemy derives anew for every new statement object to look up the compiled SQL, cost
# about a third of a slip's time in the service (issue #23 item 5), more than the SQL itself.
# Built once with bound parameters, a statement's cache key is computed once too (it is kept
# on the object), and each slip only sends its values. The SQL sent is the same as before.


@cache
def _customer_statement(guessed: bool = False) -> Select[Any]:
    """The customer, locked, with the visit, the gate's visit steps, the band and the theme.
    Parameters: ``event_id``, ``customer_id``. ``guessed``: ``event_id`` is a guess, and the
    current event comes last, joined on it (``_event_and_customer``)."""
    event_id: Any = bindparam("event_id", type_=Integer)
    customer_id: Any = bindparam("customer_id", type_=Integer)
    steps = [
        select(VisitStep.id).where(VisitStep.visit_id == Visit.id, VisitStep.step == step).exists()
        for step in VISIT_STEPS
    ]
    query = (
        select(Customer, Visit, EventTier, EventTheme, *steps)
        .outerjoin(Visit, (Visit.customer_id == Customer.id) & (Visit.event_id == event_id))
        .outerjoin(EventTier, EventTier.id == tier_id_column(event_id))
        .outerjoin(EventTheme, EventTheme.id == customer_theme_id(event_id, customer_id))
        .where(Customer.id == customer_id)
        .with_for_update(of=Customer)
    )
    if guessed:
        query = query.add_columns(CURRENT).join_from(Customer, CURRENT, CURRENT.id == event_id)
    return query


_OFFERS: dict[tuple[str, int, bool], Select[Any]] = {}


def _offers_statement(session: Session, event_id: int, tiered: bool) -> Select[Any]:
    """The cart's offers with their merchants (and the band's terms when ``tiered``), taking
    the event's slip-number lock (``kiosk.locks.lock_columns``; its key names the event, so
    one statement per event). Parameters: ``event_id``, ``codes``, ``tier_code``."""
    key = (session.get_bind().dialect.name, event_id, tiered)
    statement = _OFFERS.get(key)
    if statement is not None:
        return statement
    query = select(Offer, Merchant).join(Merchant, Merchant.id == Offer.merchant_id)
    if tiered:
        query = query.add_columns(OfferTier).outerjoin(
            OfferTier,
            (OfferTier.offer_id == Offer.id)
            & (OfferTier.tier_code == bindparam("tier_code", type_=String)),
        )
    statement = query.add_columns(*lock_columns(session, f"slip_serial:{event_id}")).where(
        Offer.event_id == bindparam("event_id", type_=Integer),
        Offer.code.in_(bindparam("codes", expanding=True)),
    )
    if len(_OFFERS) >= 64:  # a long-lived process that opened many event databases
        _OFFERS.clear()
    _OFFERS[key] = statement
    return statement


@lru_cache(maxsize=2)
def _lots_statement(with_request: bool) -> Select[Any]:
    """The customer's lots (``kiosk.points.lots_select``), the event's highest slip number and
    the request's row (``kiosk.idempotency.with_request``). Parameters: ``customer_id``,
    ``event_id``, ``request_id`` when ``with_request``."""
    customer_id: Any = bindparam("customer_id", type_=Integer)
    highest = (
        select(func.max(Slip.serial))
        .where(Slip.event_id == bindparam("event_id", type_=Integer))
        .scalar_subquery()
    )
    request_id: Any = bindparam("request_id", type_=String) if with_request else None
    return idempotency.with_request(lots_select(customer_id, highest), request_id, Customer)


@cache
def _claim_capacity() -> Update:
    """Take ``quantity`` places of the offer ``offer`` if that many are left: its row count
    says whether they were. Not synchronised into the session: issuing reads no offer's
    ``reserved`` after claiming, and the session ends with the transaction."""
    quantity = bindparam("quantity", type_=Integer)
    return (
        update(Offer)
        .where(
            Offer.id == bindparam("offer", type_=Integer),
            Offer.reserved + quantity <= Offer.capacity,
        )
        .values(reserved=Offer.reserved + quantity)
        .execution_options(synchronize_session=False)
    )


@cache
def _claim_quota() -> Update:
    """Take ``quantity`` of the band ``band``'s quota on the offer ``offer`` (a row without a
    quota always counts it); not synchronised, as ``_claim_capacity``."""
    quantity = bindparam("quantity", type_=Integer)
    return (
        update(OfferTier)
        .where(
            OfferTier.offer_id == bindparam("offer", type_=Integer),
            OfferTier.tier_code == bindparam("band", type_=String),
            or_(OfferTier.quota.is_(None), OfferTier.reserved + quantity <= OfferTier.quota),
        )
        .values(reserved=OfferTier.reserved + quantity)
        .execution_options(synchronize_session=False)
    )


def _check_theme(scope: Scope, offers: list[Offer], merchants: dict[int, str]) -> None:
    """A themed session's customer is issued its services only (a stale screen or the command
    line could still ask for another). ``merchants``: the offers' merchants' codes by id."""
    if scope.whole:
        return
    for offer in offers:
        if not scope.allows(offer.category, merchants[offer.merchant_id], offer.code):
            raise SlipError(
                _(
                    "{offer} ({code}) is not offered in this customer's themed session"
                    " “{theme}”; choose one of its services."
                ).format(offer=offer.name, code=offer.code, theme=scope.theme_name)
            )


def _issued(session: Session, event: Event, serials: list[int]) -> list[IssuedSlip]:
    """The slips a request issued at its first try, as that try returned them."""
    rows = {
        slip.serial: (slip, merchant, offer)
        for slip, merchant, offer in session.execute(
            select(Slip, Merchant.name, Offer.name)
            .join(Merchant, Merchant.id == Slip.merchant_id)
            .join(Offer, Offer.id == Slip.offer_id)
            .where(Slip.event_id == event.id, Slip.serial.in_(serials))
        )
    }
    issued = []
    for serial in serials:
        slip, merchant, offer = rows[serial]
        issued.append(
            IssuedSlip(
                slip.serial,
                slip.code,
                merchant,
                offer,
                slip.quantity,
                slip.points,
                replayed=True,
                copies_printed=slip.copies_printed,
            )
        )
    return issued


def void_slip(
    uow: UnitOfWork,
    serial: int,
    staff: StaffSession,
    *,
    reason: str,
    approval: Approval | None = None,
    clock: Clock | None = None,
    station: str = "activation",
) -> Changes:
    """Void an issued slip: points released, capacity returned, booths will refuse it. A
    supervisor approves it on the spot: a void gives points back."""
    approver = approved_by(staff, Action.VOID_SLIP, approval)
    now = (clock or Clock()).now()
    if not reason.strip():
        raise SlipError(_("Say why the slip is voided."))
    with uow:
        s = uow.session
        event = current_event(s)
        slip = s.scalar(
            select(Slip).where(Slip.event_id == event.id, Slip.serial == serial).with_for_update()
        )
        if slip is None:
            raise SlipError(_("No slip has the number {serial}.").format(serial=serial))
        if slip.status != SlipStatus.ISSUED:
            raise SlipError(
                _("Slip {serial} is {status}; only an issued slip can be voided.").format(
                    serial=serial, status=slip.status
                )
            )
        slip.status = SlipStatus.VOIDED
        slip.voided_at = now
        slip.voided_by = staff.staff_id
        slip.void_reason = reason.strip()[:200]
        s.execute(
            update(Offer)
            .where(Offer.id == slip.offer_id)
            .values(reserved=Offer.reserved - slip.quantity)
        )
        if slip.tier is not None:
            s.execute(
                update(OfferTier)
                .where(OfferTier.offer_id == slip.offer_id, OfferTier.tier_code == slip.tier)
                .values(reserved=OfferTier.reserved - slip.quantity)
            )
        give_points_back(s, event, slip, staff, now, kind="slip_voided")
        audit.append(
            s,
            at=now,
            action="slip_voided",
            staff_id=staff.staff_id,
            station=station,
            entity="slip",
            entity_id=serial,
            details={"reason": slip.void_reason},
            approved_by=approver,
        )
        offer_code = s.scalar(select(Offer.code).where(Offer.id == slip.offer_id))
        visit_id = s.scalar(
            select(Visit.id).where(
                Visit.customer_id == slip.customer_id, Visit.event_id == event.id
            )
        )
        uow.commit()
        return Changes.of(
            customers=[slip.customer_id], visits=[visit_id], offers=[offer_code], slips=[serial]
        )


@dataclass(frozen=True)
class SlipRow:
    """A slip as the desk lists it."""

    serial: int
    merchant: str
    offer: str
    quantity: int
    points: int
    status: str
    copies_printed: int
    issued_at: datetime
    void_reason: str


def give_points_back(
    session: Session, event: Event, slip: Slip, staff: StaffSession, now: datetime, *, kind: str
) -> None:
    """The journal release entry and the ledger's outbox entry for a slip that will not be
    redeemed (voided at the desk, or released at close), in the caller's transaction: the
    points go back to the lots the slip took them from, even one that has expired since."""
    release = JournalEntry(
        event_id=event.id,
        customer_id=slip.customer_id,
        slip_id=slip.id,
        kind=JournalKind.RELEASE,
        points=slip.points,
        at=now,
        staff_id=staff.staff_id,
    )
    session.add(release)
    session.flush()
    reserve = session.scalar(
        select(JournalEntry).where(
            JournalEntry.slip_id == slip.id, JournalEntry.kind == JournalKind.RESERVE
        )
    )
    assert reserve is not None, "every issued slip has its reserve entry"
    give_back(session, reserve, release)
    outbox.enqueue(
        session,
        event_id=event.id,
        kind=kind,
        at=now,
        payload={
            "event": event.code,
            "serial": slip.serial,
            "points": slip.points,
            "at": now.isoformat(),
        },
    )


def slips_of(uow: UnitOfWork, customer_id: int) -> list[SlipRow]:
    """The customer's slips at this event, newest first."""
    with uow:
        s = uow.session
        event = current_event(s)
        return [
            SlipRow(
                slip.serial,
                merchant,
                offer,
                slip.quantity,
                slip.points,
                slip.status,
                slip.copies_printed,
                slip.issued_at,
                slip.void_reason or "",
            )
            for slip, merchant, offer in s.execute(
                select(Slip, Merchant.name, Offer.name)
                .join(Merchant, Merchant.id == Slip.merchant_id)
                .join(Offer, Offer.id == Slip.offer_id)
                .where(Slip.customer_id == customer_id, Slip.event_id == event.id)
                .order_by(Slip.serial.desc())
            )
        ]


@dataclass(frozen=True)
class SlipDocument:
    """Everything printed on a slip; the same for the first copy and every reprint."""

    event_name: str
    serial: int
    code: str
    merchant: str
    offer: str
    quantity: int
    points: int
    redeem_by: date
    masked_name: str
    booth: str = ""


def slip_document(uow: UnitOfWork, serial: int) -> SlipDocument:
    with uow:
        s = uow.session
        event = current_event(s)
        row = s.execute(
            select(Slip, Merchant, Offer, Customer.name)
            .join(Merchant, Merchant.id == Slip.merchant_id)
            .join(Offer, Offer.id == Slip.offer_id)
            .join(Customer, Customer.id == Slip.customer_id)
            .where(Slip.event_id == event.id, Slip.serial == serial)
        ).first()
        if row is None:
            raise SlipError(_("No slip has the number {serial}.").format(serial=serial))
        slip, merchant, offer, name = row
        if slip.status == SlipStatus.VOIDED:
            raise SlipError(
                _("Slip {serial} is voided; it cannot be printed.").format(serial=serial)
            )
        return SlipDocument(
            event.name,
            slip.serial,
            slip.code,
            merchant.name,
            offer.name,
            slip.quantity,
            slip.points,
            slip.redeem_by,
            mask_name(name),
            merchant.booth,
        )


def check_print(
    uow: UnitOfWork, serial: int, staff: StaffSession, *, approval: Approval | None = None
) -> None:
    """Raise what ``record_print`` would raise for a copy, writing nothing: callers check
    before rendering, so a refused copy never reaches paper or disk uncounted."""
    require(staff, Action.PRINT_SLIP)
    with uow:
        s = uow.session
        event = current_event(s)
        slip = s.scalar(select(Slip).where(Slip.event_id == event.id, Slip.serial == serial))
        if slip is None:
            raise SlipError(_("No slip has the number {serial}.").format(serial=serial))
        if slip.status == SlipStatus.VOIDED:
            raise SlipError(
                _("Slip {serial} is voided; it cannot be printed.").format(serial=serial)
            )
        if slip.copies_printed >= 1:
            approved_by(staff, Action.REPRINT_SLIP, approval)


def record_print(
    uow: UnitOfWork,
    serial: int,
    staff: StaffSession,
    *,
    printed: bool,
    detail: str = "",
    approval: Approval | None = None,
    clock: Clock | None = None,
    station: str = "activation",
) -> int:
    """Count a copy that came out of the printer (or was saved when there is no printer),
    or audit the failure; returns the copies printed so far. A reprint is the same slip, so
    the booth still redeems it only once; still, a second paper slip in circulation is worth
    a supervisor's approval, so every copy after the first needs one."""
    require(staff, Action.PRINT_SLIP)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        slip = s.scalar(
            select(Slip).where(Slip.event_id == event.id, Slip.serial == serial).with_for_update()
        )
        if slip is None:
            raise SlipError(_("No slip has the number {serial}.").format(serial=serial))
        if slip.status == SlipStatus.VOIDED and printed:
            raise SlipError(
                _("Slip {serial} is voided; it cannot be printed.").format(serial=serial)
            )
        approver = None
        if printed and slip.copies_printed >= 1:
            approver = approved_by(staff, Action.REPRINT_SLIP, approval)
        if printed:
            slip.copies_printed += 1
        audit.append(
            s,
            at=now,
            action="slip_printed" if printed else "slip_print_failed",
            staff_id=staff.staff_id,
            station=station,
            entity="slip",
            entity_id=serial,
            details={"copy": slip.copies_printed} if printed else {"error": detail[:200]},
            approved_by=approver,
        )
        copies = slip.copies_printed
        uow.commit()
        return copies
