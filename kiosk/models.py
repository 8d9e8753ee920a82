"""The event database: one SQLAlchemy model per core record of the design.

Points are integers. Times are stored in UTC and always come back timezone-aware, on SQLite
too (see ``UTCDateTime``). Enumerations are stored as short strings with CHECK constraints
rather than native enums so that SQLite and PostgreSQL share one migration. Schema changes go
through ``kiosk/migrations``; ``tests/unit/kiosk/test_migrations.py`` fails when the models
and the migrations disagree.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend.

    SQLite has no timezone type and returns naive values; storing UTC and re-attaching UTC on
    load keeps comparisons and arithmetic correct everywhere. Naive input is refused because a
    naive time at a venue is a bug waiting to happen.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), int: Integer()}


def _check_in(column: str, values: type[enum.Enum], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class Role(enum.StrEnum):
    RECEPTION = "reception"
    RM = "rm"
    ACTIVATION = "activation"
    MERCHANT = "merchant"
    SUPERVISOR = "supervisor"


class MobileBanking(enum.StrEnum):
    """Mobile-banking state of a customer: the event's third business goal."""

    NONE = "none"  # never opened: the service desk opens it
    OPENED = "opened"  # opened but never used
    ACTIVE = "active"  # used recently


class InvitationStatus(enum.StrEnum):
    INVITED = "invited"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class InvitationAnswer(enum.StrEnum):
    """What the customer said when the RM last tried; unreachable keeps the status invited."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"


class ContactChannel(enum.StrEnum):
    """How an RM reached the customer (issue #20): remote (SMS, call, WeChat), on site (in
    branch) or online (a form or page the customer filled, often with an RM's code)."""

    SMS = "sms"
    PHONE = "phone"
    WECHAT = "wechat"
    BRANCH = "branch"
    ONLINE = "online"


class ContactPurpose(enum.StrEnum):
    """Why the customer was contacted: to invite (answer recorded) or to remind of the time."""

    INVITE = "invite"
    REMINDER = "reminder"


class FollowupStage(enum.StrEnum):
    """Where an invitee stands after the event (issue #21): the groups of an RM's follow-up
    list. A customer can be in more than one (redeemed, and opened mobile banking)."""

    NO_SHOW = "no_show"  # invited, did not come
    NO_SLIP = "no_slip"  # came, left without a slip
    UNREDEEMED = "unredeemed"  # holds slips not yet redeemed
    REDEEMED = "redeemed"
    REACTIVATED = "reactivated"  # was dormant, acted at the event
    MOBILE_BANKING = "mobile_banking"  # opened mobile banking at the event


class FollowupOutcome(enum.StrEnum):
    """What the RM's follow-up contact came to, as the RM fills it in."""

    REACHED = "reached"  # spoke with the customer
    APPOINTMENT = "appointment"  # agreed a branch visit or a call back
    BUSINESS = "business"  # a product or service taken up
    DECLINED = "declined"  # not interested
    UNREACHABLE = "unreachable"


class FeedbackCategory(enum.StrEnum):
    """What a complaint about a merchant is about (the review's 使用服务难)."""

    REFUSED = "refused"  # the merchant refused the slip or the service
    CONDITIONS = "conditions"  # extra conditions attached (buy more, pay a surcharge)
    QUALITY = "quality"  # served worse than paying customers
    OTHER = "other"


class FeedbackChannel(enum.StrEnum):
    """How the feedback reached the event database."""

    CALL = "call"  # the satisfaction call, recorded at the service desk
    FILE = "file"  # a call list imported back
    BOOTH = "booth"  # an on-the-spot complaint at the merchant's booth


class MerchantDecision(enum.StrEnum):
    """A supervisor's review decision on a merchant."""

    KEEP = "keep"
    WARN = "warn"
    EXIT = "exit"


class ServiceCategory(enum.StrEnum):
    """Points buy services only, never physical goods."""

    HEALTH = "health"
    TRAVEL = "travel"
    INSURANCE = "insurance"
    CAR = "car"
    MOVIE = "movie"
    DINING = "dining"
    FAMILY = "family"
    LEISURE = "leisure"


class Queue(enum.StrEnum):
    SERVICE_DESK = "service_desk"
    ACTIVATION = "activation"


class QueueStatus(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class SlipStatus(enum.StrEnum):
    ISSUED = "issued"
    VOIDED = "voided"
    REDEEMED = "redeemed"
    RELEASED = "released"  # not redeemed by the redeem-by date: points given back at close


class JournalKind(enum.StrEnum):
    RESERVE = "reserve"  # slip issued: points held against the snapshot balance
    RELEASE = "release"  # slip voided or expired: points given back


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(200), default="")
    # Where the HTML e-catalog is published; the booklet's cover QR points here.
    catalog_url: Mapped[str] = mapped_column(String(300), default="", server_default="")
    event_date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # What a customer must have done before any slip is issued (``kiosk.services.gate``):
    # space-separated requirement codes; the bank's default is complete data and mobile
    # banking active.
    redeem_requires: Mapped[str] = mapped_column(
        String(100), default="data mobile_banking", server_default="data mobile_banking"
    )
    # The bank's whole points stock, when the ledger supplies it (or the coordinator types
    # it): the redemption ratio is also shown against it, as the bank counts (issue #19).
    bank_points_stock: Mapped[int | None] = mapped_column(BigInteger)
    # When the next event is planned: the figures count the invitees' points that expire
    # before it (None: a year after this one).
    next_event_on: Mapped[date | None] = mapped_column(Date)
    # Arrival windows (issue #20): each slot is cut into windows of this many minutes, and no
    # window is planned for more customers than the desks handle in it (None: not planned).
    window_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    window_throughput: Mapped[int | None]
    # The bank's contact rule: every invitee holding at least this many points is called at
    # least once (None: no such rule); the progress report lists who is missing.
    call_points_floor: Mapped[int | None] = mapped_column(BigInteger)
    # Merchant review thresholds (issue #21); None: that figure never flags a merchant.
    review_score_floor: Mapped[int | None]  # average score below this, in tenths (35 = 3.5)
    review_complaints: Mapped[int | None]  # this many complaints or more
    review_delivery_days: Mapped[int | None]  # average days to delivery above this
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    slots: Mapped[list[TimeSlot]] = relationship(
        back_populates="event", order_by="TimeSlot.starts_at", cascade="all, delete-orphan"
    )


class TimeSlot(Base):
    """An arrival window; branches are split across slots to spread the crowd."""

    __tablename__ = "time_slot"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]

    event: Mapped[Event] = relationship(back_populates="slots")


class Branch(Base):
    __tablename__ = "branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # How many confirmed customers the branch promised; invitation progress is read against it.
    target: Mapped[int | None]


class Staff(Base):
    """A member of staff who signs in at a station with staff number and PIN."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_no: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    # Space-separated ``Role`` values: a supervisor may also work a desk.
    roles: Mapped[str] = mapped_column(String(100))
    pin_hash: Mapped[str] = mapped_column(String(200))
    # An RM's personal invitation code (个人邀请码, issue #20): printed on their poster and in
    # their WeChat link; an invitation made with it credits them.
    invite_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    branch: Mapped[Branch | None] = relationship()

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles.split())


class Customer(Base):
    """Snapshot of a customer from the central ledger, plus what the event changes.

    Only the fields the event needs: identity for check-in and governance, the KYC fields the
    service desk governs (with the ID validity period), points, tier, RM and mobile banking.

    Phone, ID number and address are personal data the stations only ever show masked: the
    masked forms are kept in clear, the full values sealed to the event's privacy key
    (``kiosk.privacy``), readable only with the event passphrase. The ``legacy_*`` columns
    hold the clear values of a database from before the privacy migration until
    ``kiosk event encrypt`` seals them; nothing writes them once the event has a privacy key.
    """

    __tablename__ = "customer"
    __table_args__ = (
        _check_in("mobile_banking", MobileBanking, "mobile_banking"),
        CheckConstraint("points_balance >= 0", name="points_balance_non_negative"),
        Index("ix_customer_phone_last4", "phone_last4"),
        Index("ix_customer_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # Search key: pinyin initials of every reading, "|"-separated (单 -> "s|d").
    name_initials: Mapped[str] = mapped_column(String(200), default="", index=True)
    gender: Mapped[str | None] = mapped_column(String(1))  # "M" / "F"
    nationality: Mapped[str | None] = mapped_column(String(3))  # ISO 3166 alpha-3
    occupation_code: Mapped[str | None] = mapped_column(String(16))
    address_masked: Mapped[str | None] = mapped_column(String(32))
    address_sealed: Mapped[str | None] = mapped_column(Text)
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    phone_sealed: Mapped[str | None] = mapped_column(Text)
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    id_type: Mapped[str] = mapped_column(String(16), default="resident_id")
    id_masked: Mapped[str | None] = mapped_column(String(32))
    id_number_sealed: Mapped[str | None] = mapped_column(Text)
    # Whether the full number passed the GB 11643 check when it was stored: the mask hides
    # the birth date, so the check cannot be made again without the passphrase.
    id_number_valid: Mapped[bool | None] = mapped_column(Boolean)
    legacy_address: Mapped[str | None] = mapped_column("address", String(300))
    legacy_phone: Mapped[str | None] = mapped_column("phone", String(20))
    legacy_id_number: Mapped[str | None] = mapped_column("id_number", String(32))
    id_valid_from: Mapped[date | None] = mapped_column(Date)
    id_valid_to: Mapped[date | None] = mapped_column(Date)  # None with id_long_term: "长期"
    id_long_term: Mapped[bool] = mapped_column(Boolean, default=False)
    tax_residency: Mapped[str | None] = mapped_column(String(16))
    # The ledger's own label (standard, gold, ...); the event's tier, which sets prices and
    # quotas, comes from ``aum`` and the event's bands (``kiosk.tiers``).
    tier: Mapped[str] = mapped_column(String(16), default="standard")
    # Assets under management in yuan, from the ledger or the invitee import; never shown,
    # only placed in a band.
    aum: Mapped[int | None] = mapped_column(BigInteger)
    # The snapshot's total: the sum of the customer's lots (``PointsLot``) once they have any.
    points_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_as_of: Mapped[datetime | None]
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    rm_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    mobile_banking: Mapped[str] = mapped_column(String(8), default=MobileBanking.NONE)
    last_activity_on: Mapped[date | None] = mapped_column(Date)
    dormant: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a themed session's audience (issue #20): the payroll employer (代发薪单位) and the
    # products held, "|"-separated as normalised by the import ("外汇|理财").
    employer: Mapped[str | None] = mapped_column(String(100))
    products: Mapped[str] = mapped_column(String(300), default="", server_default="")
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)

    branch: Mapped[Branch] = relationship()
    rm: Mapped[Staff | None] = relationship()


class PointsLot(Base):
    """Points earned together that expire together (积分批次), as the ledger's snapshot or the
    invitee import says: ``points`` is what is left of the lot on the ledger at the snapshot.

    Spending takes the lots that expire first (``kiosk.points``); ``JournalLot`` says which.
    A simple balance is one lot with no expiry. Lots are never deleted once the journal names
    them: a lot the ledger no longer reports is kept with 0 points.
    """

    __tablename__ = "points_lot"
    __table_args__ = (
        UniqueConstraint("customer_id", "ref"),
        CheckConstraint("points >= 0", name="points_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    # The ledger's reference of the lot ("" for a simple balance, "1", "2", ... for the lots
    # of an import cell, in the order written).
    ref: Mapped[str] = mapped_column(String(32), default="")
    points: Mapped[int] = mapped_column(BigInteger)
    expires_on: Mapped[date | None] = mapped_column(Date)  # None: does not expire


class SearchKey(Base):
    """One way reception may type a customer: "n:" name, "i:" pinyin initials, "p:" phone last
    four, "c:" customer number, "v:" invitation code.

    A B-tree range scan on ``key`` finds prefixes in microseconds at a million invitees and is
    shared by every laptop on the event database; the C collation on PostgreSQL makes the
    range match byte order as on SQLite.
    """

    __tablename__ = "search_key"
    __table_args__ = (UniqueConstraint("key", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(
        String(80).with_variant(String(80, collation="C"), "postgresql")
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )


class Invitation(Base):
    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("event_id", "customer_id"),
        _check_in("status", InvitationStatus, "status"),
        CheckConstraint("companions >= 0", name="companions_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("time_slot.id"))
    rm_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # The RM credited with the invitation when it is not the customer's own (``rm_id``): one
    # who recorded the contact or whose personal code the customer used (issue #20).
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # The planned arrival window's start (``kiosk.services.arrival``); None: not planned.
    window_starts_at: Mapped[datetime | None]
    # Printed on the invitation; short so a keyboard-wedge scanner types it quickly.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.INVITED)
    companions: Mapped[int] = mapped_column(default=0)
    invited_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    # Last answer from the branches' daily invitation reports (None: not contacted yet); every
    # contact is kept in ``InvitationContact``.
    answer: Mapped[str | None] = mapped_column(String(16))

    customer: Mapped[Customer] = relationship()
    slot: Mapped[TimeSlot] = relationship()
    rm: Mapped[Staff | None] = relationship(foreign_keys=[rm_id])
    inviter: Mapped[Staff | None] = relationship(foreign_keys=[invited_by])
    preselections: Mapped[list[Preselection]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan"
    )


class InvitationContact(Base):
    """One contact with an invitee, never overwritten (issue #20): an invitation call or
    message with the customer's answer, or a reminder sent. ``fingerprint`` (SHA-256 of the
    invitation, purpose, day, channel, staff and answer) makes a report imported twice add
    nothing the second time."""

    __tablename__ = "invitation_contact"
    __table_args__ = (
        _check_in("purpose", ContactPurpose, "purpose"),
        _check_in("channel", ContactChannel, "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    contacted_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime | None]  # the time, when the source gives it (an SMS send report)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # who made contact
    answer: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(100), default="")  # file name, or "station"
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)


class EventTheme(Base):
    """A themed session (专场, issue #20) of the event or of one slot: the part of the catalog
    it offers (categories, merchants, offers; all empty: the whole catalog) and the audience
    rule that picks its candidates from the customer list (``kiosk.services.themes``).

    Lists are space-separated codes; an empty list or None does not restrict."""

    __tablename__ = "event_theme"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("time_slot.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    categories: Mapped[str] = mapped_column(String(200), default="")
    merchants: Mapped[str] = mapped_column(Text, default="")
    offers: Mapped[str] = mapped_column(Text, default="")
    points_min: Mapped[int | None] = mapped_column(BigInteger)
    points_max: Mapped[int | None] = mapped_column(BigInteger)
    # Only customers whose points buy at least one of the theme's services.
    affordable: Mapped[bool] = mapped_column(Boolean, default=False)
    tiers: Mapped[str] = mapped_column(String(200), default="")  # event tier codes
    dormant: Mapped[bool | None] = mapped_column(Boolean)  # None: either
    employers: Mapped[str] = mapped_column(Text, default="")  # "|"-separated names
    products: Mapped[str] = mapped_column(Text, default="")  # "|"-separated, any of them
    created_at: Mapped[datetime]


class Preselection(Base):
    """A service the customer chose before the event; it starts in the activation cart."""

    __tablename__ = "preselection"
    __table_args__ = (
        UniqueConstraint("invitation_id", "offer_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"))
    quantity: Mapped[int] = mapped_column(default=1)

    invitation: Mapped[Invitation] = relationship(back_populates="preselections")
    offer: Mapped[Offer] = relationship()


class Visit(Base):
    """One customer's journey through the stations; one per customer per event."""

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("event_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"))
    checked_in_at: Mapped[datetime]
    checked_in_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    route: Mapped[str] = mapped_column(String(16))
    companions: Mapped[int] = mapped_column(default=0)

    customer: Mapped[Customer] = relationship()
    steps: Mapped[list[VisitStep]] = relationship(
        back_populates="visit", order_by="VisitStep.at", cascade="all, delete-orphan"
    )


class VisitStep(Base):
    """A timestamped step of a visit, with the member of staff who did it."""

    __tablename__ = "visit_step"
    __table_args__ = (Index("ix_visit_step_visit_step", "visit_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # A derived summary (the slip numbers issued, the fields governed): TEXT, so a long cart
    # never fails the step it records (issue #16, migration 0013).
    note: Mapped[str] = mapped_column(Text, default="")

    visit: Mapped[Visit] = relationship(back_populates="steps")


class QueueEntry(Base):
    __tablename__ = "queue_entry"
    __table_args__ = (
        UniqueConstraint("event_id", "queue", "ticket_no"),
        _check_in("queue", Queue, "queue"),
        _check_in("status", QueueStatus, "status"),
        Index("ix_queue_entry_waiting", "event_id", "queue", "status"),
        # A customer's tickets, for the dashboard's per-customer figures (migration 0018).
        Index("ix_queue_entry_visit", "visit_id"),
        # The queue invariant (kiosk.services.queues), held by the database: a desk has at
        # most one customer called (a second one would vanish from every screen), and a
        # visit at most one open ticket (a customer waits or is called in one place).
        Index(
            "uq_queue_entry_called_at_desk",
            "event_id",
            "queue",
            "desk",
            unique=True,
            sqlite_where=text("status = 'called'"),
            postgresql_where=text("status = 'called'"),
        ),
        Index(
            "uq_queue_entry_open_per_visit",
            "visit_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'called')"),
            postgresql_where=text("status IN ('waiting', 'called')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(16))
    ticket_no: Mapped[int]
    reason: Mapped[str] = mapped_column(String(100), default="")
    preferred_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(16), default=QueueStatus.WAITING)
    enqueued_at: Mapped[datetime]
    called_at: Mapped[datetime | None]
    called_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    desk: Mapped[str | None] = mapped_column(String(16))
    finished_at: Mapped[datetime | None]


class GovernanceChange(Base):
    """One KYC field changed at the service desk: the bank audits these field by field.

    Phone, ID number and address are recorded masked; the full new value reaches the ledger
    through the (sealed) outbox entry."""

    __tablename__ = "governance_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(300))
    new_value: Mapped[str | None] = mapped_column(String(300))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime]


class Merchant(Base):
    __tablename__ = "merchant"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    booth: Mapped[str] = mapped_column(String(16), default="")
    # HMAC key for the booth's redemption bundles: made on the first merchant-pack export,
    # carried by the pack, so the event side can tell a bundle is intact (kiosk.redemption_bundle).
    bundle_secret: Mapped[str | None] = mapped_column(String(64))
    # What the bank pays per point redeemed, in millionths of a yuan (0.008 yuan = 8000);
    # None: no rate (an offer's own price or nothing). See kiosk.services.settlement.
    rate_micro: Mapped[int | None] = mapped_column(BigInteger)

    offers: Mapped[list[Offer]] = relationship(back_populates="merchant", order_by="Offer.code")


class Offer(Base):
    """A service a merchant sells for points at this event, with a capacity for the day."""

    __tablename__ = "offer"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        _check_in("category", ServiceCategory, "category"),
        CheckConstraint("points_price > 0", name="points_price_positive"),
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
        # ``reserved`` is bumped by a conditional UPDATE at issue time; this makes overselling
        # impossible even if a code path forgets the condition.
        CheckConstraint("reserved >= 0 AND reserved <= capacity", name="reserved_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))
    points_price: Mapped[int] = mapped_column(BigInteger)
    capacity: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)
    redeem_by: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(300), default="")
    # The bank's price per unit of this service, in fen; set, it overrides the merchant's rate.
    price_fen: Mapped[int | None] = mapped_column(BigInteger)

    merchant: Mapped[Merchant] = relationship(back_populates="offers")
    tiers: Mapped[list[OfferTier]] = relationship(
        back_populates="offer", order_by="OfferTier.tier_code", cascade="all, delete-orphan"
    )

    @property
    def remaining(self) -> int:
        return self.capacity - self.reserved


class EventTier(Base):
    """A band of assets under management (AUM) that the event treats alike: its own prices and
    quotas (``OfferTier``). A customer belongs to the highest band whose floor their AUM
    reaches; below the lowest floor they pay the offer's own price (``kiosk.tiers``)."""

    __tablename__ = "event_tier"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        CheckConstraint("aum_floor >= 0", name="aum_floor_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))
    aum_floor: Mapped[int] = mapped_column(BigInteger)  # yuan
    # What the tier means for the customer, in a sentence the statement prints.
    meaning: Mapped[str] = mapped_column(String(300), default="")


class OfferTier(Base):
    """An offer's price and quota for one tier: a price None is the offer's own price, a
    quota None means only the offer's capacity limits the tier. ``reserved`` is claimed by a
    conditional UPDATE in the same transaction as the offer's capacity."""

    __tablename__ = "offer_tier"
    __table_args__ = (
        UniqueConstraint("offer_id", "tier_code"),
        CheckConstraint("points_price IS NULL OR points_price > 0", name="points_price_positive"),
        CheckConstraint(
            "reserved >= 0 AND (quota IS NULL OR reserved <= quota)",
            name="reserved_within_quota",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    tier_code: Mapped[str] = mapped_column(String(16))
    points_price: Mapped[int | None] = mapped_column(BigInteger)
    quota: Mapped[int | None]
    reserved: Mapped[int] = mapped_column(default=0)

    offer: Mapped[Offer] = relationship(back_populates="tiers")


class SigningKey(Base):
    """An Ed25519 key pair of the event. The private half is stored locked with the event
    passphrase and never exported; rotation retires a key but keeps it for verification."""

    __tablename__ = "signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    key_id: Mapped[str] = mapped_column(String(8), unique=True)  # hex of 4 bytes
    public_key: Mapped[str] = mapped_column(String(64))  # raw key, hex
    locked_private_key: Mapped[str] = mapped_column(Text)  # encrypted PKCS#8 PEM
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class PrivacyKey(Base):
    """The event's X25519 key pair for personal data at rest (``kiosk.privacy``): anyone
    seals with the public half; the private half is locked with a key derived from the event
    passphrase, so only a supervisor who types it reads a full ID number or phone."""

    __tablename__ = "privacy_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    public_key: Mapped[str] = mapped_column(String(64))  # raw key, hex
    locked_private_key: Mapped[str] = mapped_column(Text)  # scrypt + AES-GCM, see kiosk.privacy
    created_at: Mapped[datetime]


class Slip(Base):
    """A signed redemption slip bound to one merchant and one offer."""

    __tablename__ = "slip"
    __table_args__ = (
        UniqueConstraint("event_id", "serial"),
        _check_in("status", SlipStatus, "status"),
        # A customer's slips, for the dashboard's per-customer figures (migration 0018).
        Index("ix_slip_customer", "customer_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("points > 0", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    serial: Mapped[int]
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"))
    quantity: Mapped[int]
    points: Mapped[int] = mapped_column(BigInteger)
    redeem_by: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(16))
    # The customer's event tier when issued: a void or release gives its quota back there.
    tier: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=SlipStatus.ISSUED)
    copies_printed: Mapped[int] = mapped_column(default=0)
    issued_at: Mapped[datetime]
    issued_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    voided_at: Mapped[datetime | None]
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    void_reason: Mapped[str | None] = mapped_column(String(200))


class Redemption(Base):
    """A slip redeemed at a merchant booth, as reported by the booth (bundle or push)."""

    __tablename__ = "redemption"
    __table_args__ = (UniqueConstraint("booth_id", "booth_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)  # booth-generated random id
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    slip_serial: Mapped[int] = mapped_column(index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    booth_id: Mapped[str] = mapped_column(String(36))
    booth_seq: Mapped[int]
    redeemed_at: Mapped[datetime]  # the booth's clock
    staff_name: Mapped[str] = mapped_column(String(64), default="")
    received_at: Mapped[datetime]
    # Why this redemption cannot simply stand (the slip was redeemed at another booth too,
    # voided, unknown, or for another merchant); None when it is clean. Kept, never dropped,
    # so reconciliation sees every redemption a booth reported.
    conflict: Mapped[str | None] = mapped_column(String(32))


class FollowupContact(Base):
    """One follow-up contact an RM reports after the event (issue #21), never overwritten:
    imported from the RM's filled follow-up workbook. ``fingerprint`` (SHA-256 of customer,
    stage, day, outcome, note and RM) makes a workbook imported twice add nothing."""

    __tablename__ = "followup_contact"
    __table_args__ = (
        _check_in("stage", FollowupStage, "stage"),
        _check_in("outcome", FollowupOutcome, "outcome"),
        Index("ix_followup_contact_event_customer", "event_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    rm_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # whose list it was on
    stage: Mapped[str] = mapped_column(String(16))
    contacted_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(16))  # ContactChannel, when given
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)


class ServiceDelivery(Base):
    """When a redeemed slip's service was actually delivered (issue #21): from the booth's
    bundle or a later file from the merchant. One per slip; a later report with another
    time replaces it, and the audit record keeps both."""

    __tablename__ = "service_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    slip_id: Mapped[int] = mapped_column(ForeignKey("slip.id"), unique=True)
    delivered_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(100), default="")  # "bundle", a file name
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class SlipFeedback(Base):
    """A customer's word on a redeemed slip's service (issue #21): a satisfaction call's
    score, or a complaint (at the booth, on the call, or in a call list imported back).
    Appended, never overwritten; ``fingerprint`` makes an import or a bundle replayed add
    nothing."""

    __tablename__ = "slip_feedback"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_1_to_5"),
        _check_in("channel", FeedbackChannel, "channel"),
        CheckConstraint(
            "category IS NULL OR category IN ('refused', 'conditions', 'quality', 'other')",
            name="category",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    slip_id: Mapped[int] = mapped_column(ForeignKey("slip.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    score: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(16))  # FeedbackCategory
    complaint: Mapped[str] = mapped_column(Text, default="")
    said_at: Mapped[datetime]  # when the customer said it (the booth's clock for a booth)
    booth_staff: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)


class MerchantReview(Base):
    """A supervisor's decision on a merchant after the event (keep / warn / exit), with the
    reason and the scorecard it was made on (canonical JSON), audited."""

    __tablename__ = "merchant_review"
    __table_args__ = (_check_in("decision", MerchantDecision, "decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(300))
    scorecard: Mapped[str] = mapped_column(Text, default="{}")
    decided_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime]


class RegisterEntry(Base):
    """A merchant in the approved-merchant register (准入商户) brought from earlier events:
    its status after the newest decision, the reason, its services and its history
    (decisions and scorecards per event, canonical JSON). Not tied to this event: the
    register outlives it and is exported again, with this event's decisions added."""

    __tablename__ = "register_entry"
    __table_args__ = (_check_in("status", MerchantDecision, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_code: Mapped[str] = mapped_column(String(16), unique=True)
    merchant_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(300), default="")
    services: Mapped[str] = mapped_column(Text, default="[]")
    history: Mapped[str] = mapped_column(Text, default="[]")
    source_event: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(16))  # the signer it came under
    imported_at: Mapped[datetime]


class RegisterSigner(Base):
    """A key this database trusts to sign approved-merchant registers: an earlier event's
    signing key, trusted once by the coordinator naming its fingerprint."""

    __tablename__ = "register_signer"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))
    event_code: Mapped[str] = mapped_column(String(16))
    trusted_at: Mapped[datetime]
    trusted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class JournalEntry(Base):
    """Append-only points journal: balance = snapshot - reserves + releases."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        _check_in("kind", JournalKind, "kind"),
        CheckConstraint("points > 0", name="points_positive"),
        Index("ix_journal_entry_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    slip_id: Mapped[int | None] = mapped_column(ForeignKey("slip.id"))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # Set by a snapshot pull: the ledger's balance now includes this entry, so the event
    # balance (snapshot - reserves + releases) must no longer count it.
    settled_at: Mapped[datetime | None]


class JournalLot(Base):
    """The lots one journal entry took points from (a reserve) or gave back to (a release:
    the same lots its reserve took, even one that has expired since)."""

    __tablename__ = "journal_lot"
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_entry_id: Mapped[int] = mapped_column(
        ForeignKey("journal_entry.id", ondelete="CASCADE"), index=True
    )
    lot_id: Mapped[int] = mapped_column(ForeignKey("points_lot.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)


class OutboxEntry(Base):
    """Something that still has to reach the central ledger, exactly once."""

    __tablename__ = "outbox_entry"
    __table_args__ = (
        _check_in("status", OutboxStatus, "status"),
        Index("ix_outbox_entry_pending", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    # The payload carries personal data sealed to the privacy key (governance changes): only
    # a push given the event passphrase sends it (``sync.push``).
    sealed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    pushed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class AuditRecord(Base):
    """Append-only, hash-chained record of every state change (see ``kiosk.audit``)."""

    __tablename__ = "audit_record"
    # Who is signed in at the event is read from the latest sign-in / sign-out per staff.
    __table_args__ = (Index("ix_audit_record_staff_action", "staff_id", "action", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    station: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32), default="")
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON, no personal data
    # The supervisor who approved on the spot (voids, undo, reprints, imports, close).
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # SHA-256 of the changed rows as they were before and after (``kiosk.audit``); "" if none.
    before_digest: Mapped[str] = mapped_column(String(64), default="")
    after_digest: Mapped[str] = mapped_column(String(64), default="")
    # The money rows (points journal, slips, redemptions, outbox) this transaction wrote, by
    # table and id (``kiosk.audit.ROWS``): canonical JSON, "" if none. Ids only, so no
    # personal data; inside the hash, so a row no record names is one nobody audited.
    rows: Mapped[str] = mapped_column(Text, default="", server_default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(Base):
    """The audit chain's head (record count and head hash) at a moment, signed with the
    event's signing key, which only the event passphrase unlocks (``kiosk.checkpoint``).

    Someone with the database can rewrite every record after an edit, or drop the newest
    records, and the chain alone still verifies; a checkpoint signed earlier cannot be made
    again without the passphrase, so ``kiosk audit verify`` sees both. Insert-only on
    PostgreSQL (``kiosk.dbroles``: a table whose name holds "checkpoint"); copies travel
    with every backup and, as an outbox entry, to the ledger.
    """

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    record_count: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    # backup, close, push or manual: what the checkpoint was signed for.
    reason: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128), unique=True)  # Ed25519, hex


class ChangeCounter(Base):
    """One row whose value every committed write bumps (``kiosk.changes``).

    Stations on other laptops read this one value every second and refresh their lists only
    when it moved: one indexed single-row read instead of reloading everything, on SQLite and
    PostgreSQL alike.
    """

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FigureChange(Base):
    """A customer whose figures a write touched, logged by a trigger on every table the event's
    figures read (migration 0018); the dashboard recomputes only these customers
    (``kiosk.services.live_figures``). ``xid``: the writing transaction on PostgreSQL."""

    __tablename__ = "figure_change"
    __table_args__ = (
        # Partial: SQLite leaves xid empty, so its inserts pay for no index at all.
        Index(
            "ix_figure_change_xid",
            "xid",
            sqlite_where=text("xid IS NOT NULL"),
            postgresql_where=text("xid IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int]
    xid: Mapped[int | None] = mapped_column(BigInteger)


class DatabaseAccess(Base):
    """Which PostgreSQL role the staff stations connect as (``kiosk.dbroles``), one row.

    Written by ``kiosk db setup`` and read by ``kiosk.db.migrate``, which grants that role its
    privileges again on every table after an upgrade. A table rather than a database-level
    setting because a database cloned with ``CREATE DATABASE ... TEMPLATE`` keeps its tables but
    not its settings. Empty on SQLite and on a database nobody set roles up for.
    """

    __tablename__ = "database_access"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_role: Mapped[str] = mapped_column(String(63))


class ActionRequest(Base):
    """One action a station or the command line asked for, under the request id it chose
    (``kiosk.idempotency``): written in the action's own transaction, so its presence says
    whether the action committed, and a repeated request returns ``result`` instead of acting
    twice. ``fingerprint`` is the SHA-256 of what was asked, so an id reused for something
    else is refused; ``result`` holds ids and codes only, never personal data."""

    __tablename__ = "action_request"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)  # canonical JSON
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime]


class StationStatus(Base):
    """One row per laptop, refreshed every minute: its free disk space for the dashboard.

    Not an event fact: neither audited nor counted as a change (``kiosk.changes``), so a
    heartbeat never makes every station reload."""

    __tablename__ = "station_status"

    host: Mapped[str] = mapped_column(String(64), primary_key=True)
    station: Mapped[str] = mapped_column(String(32), default="")
    staff_no: Mapped[str] = mapped_column(String(32), default="")
    free_bytes: Mapped[int] = mapped_column(BigInteger)
    place: Mapped[str] = mapped_column(String(255), default="")
    at: Mapped[datetime]
