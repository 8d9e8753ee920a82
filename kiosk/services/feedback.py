"""After the event (issue #21): was the service delivered, and how was the customer served.

Merchants are kept only while customers are served well; the review's 兑换积分易、使用服务难
names merchants who attach conditions or treat points customers worse. So a redeemed slip
gets two kinds of after-the-fact records, both in the event database:

- ``ServiceDelivery``: when the service was actually delivered. The booth's bundle carries it
  (an immediate service is delivered at the redemption; a later one when the booth presses
  "Service delivered"), or a later file from the merchant (import kind ``deliveries``). One
  row per slip: a later report with another time replaces it, and the audit record keeps the
  old time and the new.
- ``SlipFeedback``: the customer's word, appended and never overwritten: a satisfaction call's
  score 1–5 and complaint (the service desk, or the call list imported back, kind
  ``feedback``), or a complaint the booth staff typed on the spot (in the bundle). A
  ``fingerprint`` per record makes a bundle or a file imported twice add nothing.

Both are for a REDEEMED slip only: a slip nobody redeemed has no service to judge, and a
refusal says so in a sentence. The merchant scorecard reads these tables as ``models`` says.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.changeset import NOTHING, Changes
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.imports.kinds import CallRecord, DeliveryRecord
from kiosk.labels import feedback_category_label
from kiosk.masking import mask_name
from kiosk.models import (
    Customer,
    FeedbackCategory,
    FeedbackChannel,
    Merchant,
    Offer,
    Redemption,
    ServiceDelivery,
    Slip,
    SlipFeedback,
    SlipStatus,
)
from kiosk.permissions import Action, require
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork

__all__ = [
    "CallRow",
    "FeedbackEntry",
    "FeedbackRefused",
    "SlipAfter",
    "call_list",
    "feedback_category_label",
    "feedback_for_slip",
    "feedback_list",
    "parse_serial",
    "record_delivery",
    "record_feedback",
]

COMPLAINT_LENGTH = 500
_SERIAL = re.compile(r"^(?:no\.?|№|#)?\s*0*(\d{1,9})$", re.IGNORECASE)


class FeedbackRefused(KioskError):
    """Feedback or a delivery time that cannot be recorded; nothing was written."""


def slip_number(serial: int) -> str:
    """As the slip prints it (``printing.slips.slip_number``)."""
    return f"No. {serial:06d}"


def parse_serial(text: str) -> int | None:
    """A slip's serial from what staff type or scan: "No. 000123", "000123", "123", or the
    slip's QR code itself (its payload names the serial; no signature check needed to find
    a slip in the event's own database)."""
    raw = " ".join(str(text).split())
    match = _SERIAL.fullmatch(raw)
    if match:
        return int(match[1])
    from kiosk import slipcode

    decoded = slipcode.decode(raw)
    return decoded[0].serial if decoded else None


def _slip(s: Session, event_id: int, serial: int) -> Slip:
    slip = s.scalar(select(Slip).where(Slip.event_id == event_id, Slip.serial == serial))
    if slip is None:
        raise FeedbackRefused(
            _("There is no slip {number} in this event.").format(number=slip_number(serial))
        )
    return slip


def _redeemed(s: Session, event_id: int, serial: int) -> Slip:
    slip = _slip(s, event_id, serial)
    if slip.status != SlipStatus.REDEEMED:
        raise FeedbackRefused(not_redeemed(serial, slip.status))
    return slip


def not_redeemed(serial: int, status: str) -> str:
    """The refusal for a slip nobody redeemed (also a file's row issue)."""
    return _(
        "Slip {number} was never redeemed (it is {status}): delivery and feedback are "
        "recorded only for a redeemed slip."
    ).format(number=slip_number(serial), status=_status_words(status))


def _status_words(status: str) -> str:
    return {
        SlipStatus.ISSUED: _("issued, not redeemed"),
        SlipStatus.VOIDED: _("voided"),
        SlipStatus.RELEASED: _("released at close"),
    }.get(status, status)


# -- deliveries --------------------------------------------------------------------------------


def put_delivery(
    s: Session,
    *,
    event_id: int,
    slip: Slip,
    delivered_at: datetime,
    source: str,
    staff_id: int | None,
    now: datetime,
    station: str = "",
) -> bool:
    """Record when ``slip``'s service was delivered (the caller checked it is redeemed and
    may be recorded). The same time again changes nothing (False); another time replaces the
    row and the audit record keeps the old time and the new."""
    row = s.scalar(select(ServiceDelivery).where(ServiceDelivery.slip_id == slip.id))
    if row is not None and row.delivered_at == delivered_at:
        return False
    details: dict[str, object] = {"delivered_at": delivered_at.isoformat(), "source": source}
    first = row is None
    if row is None:
        s.add(
            ServiceDelivery(
                event_id=event_id,
                slip_id=slip.id,
                delivered_at=delivered_at,
                source=source[:100],
                recorded_at=now,
                recorded_by=staff_id,
            )
        )
    else:
        details["previous"] = row.delivered_at.isoformat()
        details["previous_source"] = row.source
        row.delivered_at = delivered_at
        row.source = source[:100]
        row.recorded_at = now
        row.recorded_by = staff_id
    audit.append(
        s,
        at=now,
        action="service_delivered" if first else "service_delivery_changed",
        staff_id=staff_id,
        station=station,
        entity="slip",
        entity_id=slip.serial,
        details=details,
    )
    return True


@dataclass(frozen=True)
class DeliveryRecorded:
    serial: int
    delivered_at: datetime
    previous: datetime | None  # the time it replaced, if any
    written: bool  # False: the same time was already recorded
    changes: Changes = field(default=NOTHING, compare=False)


def record_delivery(
    uow: UnitOfWork,
    serial: int,
    delivered_at: datetime,
    staff: StaffSession,
    *,
    source: str = "desk",
    clock: Clock | None = None,
    station: str = "",
) -> DeliveryRecorded:
    """Record (or correct) when a redeemed slip's service was delivered."""
    require(staff, Action.RECORD_FEEDBACK)
    if delivered_at.tzinfo is None:
        raise ValueError("naive delivered_at")
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        slip = _redeemed(s, event.id, serial)
        before = s.scalar(
            select(ServiceDelivery.delivered_at).where(ServiceDelivery.slip_id == slip.id)
        )
        written = put_delivery(
            s,
            event_id=event.id,
            slip=slip,
            delivered_at=delivered_at,
            source=source,
            staff_id=staff.staff_id,
            now=now,
            station=station,
        )
        uow.commit()
        return DeliveryRecorded(
            serial,
            delivered_at,
            before if written else None,
            written,
            Changes.of(slips=[serial]) if written else NOTHING,
        )


# -- feedback ----------------------------------------------------------------------------------


def fingerprint(*parts: object) -> str:
    """SHA-256 of the parts as canonical JSON: the same report again has the same print."""
    text = json.dumps([str(p) if p is not None else None for p in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def check_values(score: int | None, category: str | None, complaint: str) -> str | None:
    """The category to store, after refusing what no record may hold."""
    if score is not None and not 1 <= int(score) <= 5:
        raise FeedbackRefused(
            _("A satisfaction score is 1 to 5, not {score}; nothing was recorded.").format(
                score=score
            )
        )
    if category is not None and category not in set(FeedbackCategory):
        raise FeedbackRefused(
            _("“{category}” is not a complaint category; nothing was recorded.").format(
                category=category
            )
        )
    if len(complaint) > COMPLAINT_LENGTH:
        raise FeedbackRefused(
            _("The complaint is too long (at most {n} characters).").format(n=COMPLAINT_LENGTH)
        )
    if score is None and category is None and not complaint:
        raise FeedbackRefused(_("Give a score or a complaint; nothing was recorded."))
    if complaint and category is None:
        return FeedbackCategory.OTHER  # a complaint always says what it is about
    return category


def put_feedback(
    s: Session,
    *,
    event_id: int,
    slip: Slip,
    channel: str,
    score: int | None,
    category: str | None,
    complaint: str,
    said_at: datetime,
    print_: str,
    booth_staff: str = "",
    source: str = "",
    staff_id: int | None,
    now: datetime,
    station: str = "",
) -> bool:
    """Append one feedback record unless its fingerprint is known (False: already there)."""
    known = s.scalar(select(SlipFeedback.id).where(SlipFeedback.fingerprint == print_))
    if known is not None:
        return False
    s.add(
        SlipFeedback(
            event_id=event_id,
            slip_id=slip.id,
            channel=channel,
            score=score,
            category=category,
            complaint=complaint,
            said_at=said_at,
            booth_staff=booth_staff[:64],
            source=source[:100],
            recorded_at=now,
            recorded_by=staff_id,
            fingerprint=print_,
        )
    )
    s.flush()  # the next record of one import sees this one's fingerprint
    audit.append(
        s,
        at=now,
        action="slip_feedback",
        staff_id=staff_id,
        station=station,
        entity="slip",
        entity_id=slip.serial,
        # The complaint's words stay in the record, not in the audit chain.
        details={
            "channel": channel,
            "score": score,
            "category": category,
            "complaint_chars": len(complaint),
            "source": source,
        },
    )
    return True


@dataclass(frozen=True)
class FeedbackRecorded:
    serial: int
    added: bool  # False: this very feedback was recorded before (the same request)
    changes: Changes = field(default=NOTHING, compare=False)


def record_feedback(
    uow: UnitOfWork,
    serial: int,
    staff: StaffSession,
    *,
    score: int | None = None,
    category: str | None = None,
    complaint: str = "",
    said_at: datetime | None = None,
    request_id: str = "",
    clock: Clock | None = None,
    station: str = "service_desk",
) -> FeedbackRecorded:
    """Record a satisfaction call's outcome for a REDEEMED slip: a score 1–5 and/or a
    complaint with its category. ``request_id`` (one per form) makes saving twice add one."""
    require(staff, Action.RECORD_FEEDBACK)
    complaint = " ".join(complaint.split())
    category = check_values(score, category, complaint)
    now = (clock or Clock()).now()
    said = said_at or now
    with uow:
        s = uow.session
        event = current_event(s)
        slip = _redeemed(s, event.id, serial)
        added = put_feedback(
            s,
            event_id=event.id,
            slip=slip,
            channel=FeedbackChannel.CALL,
            score=score,
            category=category,
            complaint=complaint,
            said_at=said,
            print_=fingerprint(
                "call", serial, score, category, complaint, request_id or said.isoformat()
            ),
            source="desk",
            staff_id=staff.staff_id,
            now=now,
            station=station,
        )
        uow.commit()
        return FeedbackRecorded(serial, added, Changes.of(slips=[serial]) if added else NOTHING)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackEntry:
    serial: int
    merchant_code: str
    channel: str  # FeedbackChannel
    score: int | None
    category: str | None  # FeedbackCategory
    complaint: str
    said_at: datetime
    booth_staff: str
    source: str


@dataclass(frozen=True)
class SlipAfter:
    """One slip after the event: what it was for, when redeemed and delivered, what the
    customer said. Personal data masked."""

    serial: int
    status: str
    masked_name: str
    merchant_code: str
    merchant_name: str
    offer_name: str
    redeemed_at: datetime | None
    delivered_at: datetime | None
    delivered_source: str
    feedback: tuple[FeedbackEntry, ...]
    timezone: str = "Asia/Shanghai"  # the event's, to show the times

    @property
    def redeemed(self) -> bool:
        return self.status == SlipStatus.REDEEMED


def _entries(s: Session, event_id: int, serial: int | None = None) -> list[FeedbackEntry]:
    query = (
        select(SlipFeedback, Slip.serial, Merchant.code)
        .join(Slip, Slip.id == SlipFeedback.slip_id)
        .join(Merchant, Merchant.id == Slip.merchant_id)
        .where(SlipFeedback.event_id == event_id)
        .order_by(SlipFeedback.said_at, SlipFeedback.id)
    )
    if serial is not None:
        query = query.where(Slip.serial == serial)
    return [
        FeedbackEntry(
            number,
            code,
            f.channel,
            f.score,
            f.category,
            f.complaint,
            f.said_at,
            f.booth_staff,
            f.source,
        )
        for f, number, code in s.execute(query)
    ]


def _redeemed_at(s: Session, event_id: int, serials: list[int]) -> dict[int, datetime]:
    """Each slip's standing redemption time (the booth's clock)."""
    found: dict[int, datetime] = {}
    for serial, at in s.execute(
        select(Redemption.slip_serial, Redemption.redeemed_at)
        .where(
            Redemption.event_id == event_id,
            Redemption.slip_serial.in_(serials),
            Redemption.conflict.is_(None),
        )
        .order_by(Redemption.id)
    ):
        found.setdefault(serial, at)
    return found


def feedback_for_slip(uow: UnitOfWork, serial: int) -> SlipAfter:
    """The slip found by serial, with its delivery and every feedback record (a read)."""
    with uow:
        s = uow.session
        event = current_event(s)
        slip = _slip(s, event.id, serial)
        merchant = s.get(Merchant, slip.merchant_id)
        offer = s.get(Offer, slip.offer_id)
        customer = s.get(Customer, slip.customer_id)
        delivery = s.scalar(select(ServiceDelivery).where(ServiceDelivery.slip_id == slip.id))
        assert merchant is not None and offer is not None and customer is not None
        return SlipAfter(
            serial,
            slip.status,
            mask_name(customer.name),
            merchant.code,
            merchant.name,
            offer.name,
            _redeemed_at(s, event.id, [serial]).get(serial),
            delivery.delivered_at if delivery else None,
            delivery.source if delivery else "",
            tuple(_entries(s, event.id, serial)),
            event.timezone,
        )


def feedback_list(uow: UnitOfWork, merchant_code: str | None = None) -> list[FeedbackEntry]:
    """Every feedback record of the event (of one merchant), oldest first."""
    with uow:
        s = uow.session
        event = current_event(s)
        rows = _entries(s, event.id)
        if merchant_code:
            rows = [r for r in rows if r.merchant_code == merchant_code.strip().upper()]
        return rows


@dataclass(frozen=True)
class CallRow:
    """One redeemed slip on the satisfaction call list (masked: the caller dials from the
    bank's own system, which has the number)."""

    serial: int
    masked_name: str
    masked_phone: str
    merchant_code: str
    merchant_name: str
    offer_name: str
    redeemed_at: datetime | None
    delivered_at: datetime | None

    @property
    def number(self) -> str:
        return slip_number(self.serial)


def call_list(uow: UnitOfWork, *, include_called: bool = False) -> list[CallRow]:
    """The redeemed slips to call, by merchant then serial: those without a call's score yet
    (every redeemed slip with ``include_called``)."""
    with uow:
        s = uow.session
        event = current_event(s)
        called = set()
        if not include_called:
            called = set(
                s.scalars(
                    select(SlipFeedback.slip_id).where(
                        SlipFeedback.event_id == event.id,
                        SlipFeedback.channel.in_([FeedbackChannel.CALL, FeedbackChannel.FILE]),
                        SlipFeedback.score.is_not(None),
                    )
                )
            )
        rows = s.execute(
            select(Slip, Customer.name, Customer.phone_masked, Merchant, Offer.name)
            .join(Customer, Customer.id == Slip.customer_id)
            .join(Merchant, Merchant.id == Slip.merchant_id)
            .join(Offer, Offer.id == Slip.offer_id)
            .where(Slip.event_id == event.id, Slip.status == SlipStatus.REDEEMED)
            .order_by(Merchant.code, Slip.serial)
        ).all()
        rows = [r for r in rows if r[0].id not in called]
        serials = [r[0].serial for r in rows]
        redeemed = _redeemed_at(s, event.id, serials)
        delivered = dict(
            s.execute(
                select(ServiceDelivery.slip_id, ServiceDelivery.delivered_at).where(
                    ServiceDelivery.event_id == event.id
                )
            ).all()
        )
        return [
            CallRow(
                slip.serial,
                mask_name(name),
                phone or "",
                merchant.code,
                merchant.name,
                offer_name,
                redeemed.get(slip.serial),
                delivered.get(slip.id),
            )
            for slip, name, phone, merchant, offer_name in rows
        ]


# -- files (``kiosk.services.imports`` checked every row first) -------------------------------


def _slips_by_serial(s: Session, event_id: int, serials: list[int]) -> dict[int, Slip]:
    return {
        slip.serial: slip
        for slip in s.scalars(
            select(Slip).where(Slip.event_id == event_id, Slip.serial.in_(serials))
        )
    }


def apply_deliveries(
    s: Session,
    records: list[DeliveryRecord],
    now: datetime,
    source: str,
    staff_id: int | None,
) -> tuple[int, int]:
    """A merchant's file of services delivered: (recorded, changed). A row with the time
    already recorded changes nothing."""
    event = current_event(s)
    slips = _slips_by_serial(s, event.id, [r.serial for r in records])
    known = set(
        s.scalars(
            select(ServiceDelivery.slip_id).where(
                ServiceDelivery.slip_id.in_([slip.id for slip in slips.values()])
            )
        )
    )
    created = changed = 0
    for r in records:
        slip = slips[r.serial]
        if put_delivery(
            s,
            event_id=event.id,
            slip=slip,
            delivered_at=r.delivered_at,
            source=source,
            staff_id=staff_id,
            now=now,
            station="import",
        ):
            if slip.id in known:
                changed += 1
            else:
                created += 1
            s.flush()
    return created, changed


def apply_calls(
    s: Session,
    records: list[CallRecord],
    now: datetime,
    source: str,
    staff_id: int | None,
) -> tuple[int, int]:
    """The call list read back: (recorded, already recorded). The fingerprint is the row's
    outcome, so the same list imported twice (or by two people) records each call once."""
    event = current_event(s)
    slips = _slips_by_serial(s, event.id, [r.serial for r in records])
    created = known = 0
    for r in records:
        said_at = r.called_at or now
        added = put_feedback(
            s,
            event_id=event.id,
            slip=slips[r.serial],
            channel=FeedbackChannel.FILE,
            score=r.score,
            category=r.category,
            complaint=r.complaint,
            said_at=said_at,
            print_=fingerprint(
                "file",
                r.serial,
                r.score,
                r.category,
                r.complaint,
                r.called_at.isoformat() if r.called_at else "",
            ),
            source=source,
            staff_id=staff_id,
            now=now,
            station="import",
        )
        created += added
        known += not added
    return created, known


def customer_slips(uow: UnitOfWork, customer_id: int) -> list[tuple[int, str]]:
    """(serial, "No. 000123 service · merchant") of a customer's redeemed slips, for choosing
    one at the service desk."""
    with uow:
        s = uow.session
        event = current_event(s)
        return [
            (serial, f"{slip_number(serial)} {offer} · {merchant}")
            for serial, offer, merchant in s.execute(
                select(Slip.serial, Offer.name, Merchant.name)
                .join(Offer, Offer.id == Slip.offer_id)
                .join(Merchant, Merchant.id == Slip.merchant_id)
                .where(
                    Slip.event_id == event.id,
                    Slip.customer_id == customer_id,
                    Slip.status == SlipStatus.REDEEMED,
                )
                .order_by(Slip.serial)
            )
        ]
