"""After the event: close it, settle with the merchants, reconcile with the ledger.

Closing releases the points of every slip still unredeemed after its redeem-by date: the slip
becomes ``released``, a journal release entry gives the points back and an outbox entry tells
the ledger, all in one transaction; slips whose redeem-by date is still ahead stay valid, and
close can be run again later. Booth bundles must be imported first: a redemption that arrives
for a released slip is a conflict the reconciliation shows, never a silent loss.

The settlement (``settlement_statement``) pays redeemed slips only, in fen: a service's price
per unit when it has one, else the merchant's rate per point rounded half up to the fen once
per merchant and service (``kiosk.money``); a line with neither says its amount is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.changeset import NOTHING, Changes
from kiosk.clock import Clock
from kiosk.i18n import _
from kiosk.models import (
    Merchant,
    Offer,
    OutboxEntry,
    OutboxStatus,
    Redemption,
    Slip,
    SlipStatus,
)
from kiosk.money import points_amount_fen
from kiosk.permissions import Action, Approval, approved_by
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.services.slips import give_points_back
from kiosk.uow import UnitOfWork


@dataclass(frozen=True)
class CloseReport:
    released: int
    points: int
    still_open: int  # issued slips whose redeem-by date is still ahead
    next_redeem_by: date | None
    closed: bool
    changes: Changes = field(default=NOTHING, compare=False)


def close_event(
    uow: UnitOfWork,
    staff: StaffSession,
    *,
    approval: Approval | None = None,
    clock: Clock | None = None,
    station: str = "admin",
) -> CloseReport:
    """Release every unredeemed slip past its redeem-by date; close when none is left.
    Supervisors only: the close gives points back for good."""
    approver = approved_by(staff, Action.CLOSE_EVENT, approval)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        today = now.astimezone(ZoneInfo(event.timezone)).date()
        expired = s.scalars(
            select(Slip)
            .where(
                Slip.event_id == event.id,
                Slip.status == SlipStatus.ISSUED,
                Slip.redeem_by < today,
            )
            .order_by(Slip.serial)
            .with_for_update()
        ).all()
        points = 0
        for slip in expired:
            slip.status = SlipStatus.RELEASED
            points += slip.points
            give_points_back(s, event, slip, staff, now, kind="slip_released")
        still_open, next_date = s.execute(
            select(func.count(Slip.id), func.min(Slip.redeem_by)).where(
                Slip.event_id == event.id, Slip.status == SlipStatus.ISSUED
            )
        ).one()
        closed = not still_open
        if closed and event.closed_at is None:
            event.closed_at = now
        audit.append(
            s,
            at=now,
            action="event_closed" if closed else "slips_released",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={"released": len(expired), "points": points, "still_open": still_open},
            approved_by=approver,
        )
        uow.commit()
        return CloseReport(len(expired), points, still_open, next_date, closed, Changes(setup=True))


@dataclass(frozen=True)
class SettlementLine:
    """One merchant's redeemed slips of one service, and what the bank pays for them.

    The amount is in fen: ``quantity × price_fen`` when the service has a price (it
    overrides the merchant's rate), else ``points × rate_micro`` rounded half up to the fen
    once for the whole line (``kiosk.money.points_amount_fen``), else None: neither a price
    nor a rate, the amount is unknown and says so, never 0.
    """

    merchant_code: str
    merchant_name: str
    offer_code: str
    offer_name: str
    slips: int
    quantity: int
    points: int
    rate_micro: int | None = None  # the merchant's rate, yuan per point in millionths
    price_fen: int | None = None  # the service's price per unit, in fen
    amount_fen: int | None = None  # None: no price nor rate, the amount is unknown

    @property
    def by_price(self) -> bool:
        return self.price_fen is not None


def line_amount(
    points: int, quantity: int, rate_micro: int | None, price_fen: int | None
) -> int | None:
    """The rule of ``SettlementLine.amount_fen``: the price per unit first, then the rate."""
    if price_fen is not None:
        return quantity * price_fen
    if rate_micro is not None:
        return points_amount_fen(points, rate_micro)
    return None


@dataclass(frozen=True)
class SlipCount:
    slips: int = 0
    points: int = 0

    def __add__(self, other: SlipCount) -> SlipCount:
        return SlipCount(self.slips + other.slips, self.points + other.points)


@dataclass(frozen=True)
class ReturnedPoints:
    """A merchant's slips not paid for: their points go back to the customers (and the
    ledger). Released at close and voided ones are back already; open ones go back at
    close unless redeemed first."""

    merchant_code: str
    merchant_name: str
    released: SlipCount = SlipCount()
    voided: SlipCount = SlipCount()
    open: SlipCount = SlipCount()

    @property
    def total(self) -> SlipCount:
        return self.released + self.voided + self.open


@dataclass(frozen=True)
class MerchantSettlement:
    """One merchant's lines and subtotal; ``amount_fen`` adds the known amounts only and
    ``unknown`` counts the lines without one, so an incomplete total is never taken for
    the whole."""

    code: str
    name: str
    booth: str | None
    rate_micro: int | None
    lines: tuple[SettlementLine, ...]

    @property
    def slips(self) -> int:
        return sum(line.slips for line in self.lines)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def points(self) -> int:
        return sum(line.points for line in self.lines)

    @property
    def amount_fen(self) -> int:
        return sum(line.amount_fen or 0 for line in self.lines)

    @property
    def unknown(self) -> int:
        return sum(1 for line in self.lines if line.amount_fen is None)


@dataclass(frozen=True)
class Settlement:
    """Every merchant of the event (with redeemed slips or not), the grand total, and the
    points returned per merchant."""

    merchants: tuple[MerchantSettlement, ...]
    returned: tuple[ReturnedPoints, ...]

    @property
    def lines(self) -> list[SettlementLine]:
        return [line for m in self.merchants for line in m.lines]

    @property
    def slips(self) -> int:
        return sum(m.slips for m in self.merchants)

    @property
    def quantity(self) -> int:
        return sum(m.quantity for m in self.merchants)

    @property
    def points(self) -> int:
        return sum(m.points for m in self.merchants)

    @property
    def amount_fen(self) -> int:
        return sum(m.amount_fen for m in self.merchants)

    @property
    def unknown(self) -> int:
        return sum(m.unknown for m in self.merchants)

    @property
    def returned_total(self) -> ReturnedPoints:
        total = ReturnedPoints("", "")
        for r in self.returned:
            total = ReturnedPoints(
                "", "", total.released + r.released, total.voided + r.voided, total.open + r.open
            )
        return total

    def merchant(self, code: str) -> MerchantSettlement:
        return next(m for m in self.merchants if m.code == code)


def settlement(uow: UnitOfWork) -> list[SettlementLine]:
    """What each merchant is paid for: redeemed slips per offer (each slip counted once, even
    when two booths reported it), with the amount in fen (``SettlementLine``)."""
    return settlement_statement(uow).lines


def settlement_statement(uow: UnitOfWork) -> Settlement:
    """The settlement in points and yuan: per merchant and service the redeemed slips and
    their amount, per merchant the points returned (released, voided, still open).

    Rounding: a rate is applied to a line's points (one merchant, one service) and rounded
    half up to the fen there, once; subtotals and the total add those fen exactly. Voided,
    released and open slips are never paid for.
    """
    with uow:
        s = uow.session
        event = current_event(s)
        merchants = s.scalars(
            select(Merchant).where(Merchant.event_id == event.id).order_by(Merchant.code)
        ).all()
        rows = s.execute(
            select(
                Offer.merchant_id,
                Offer.code,
                Offer.name,
                Offer.price_fen,
                func.count(Slip.id),
                func.coalesce(func.sum(Slip.quantity), 0),
                func.coalesce(func.sum(Slip.points), 0),
            )
            .join(Slip, Slip.offer_id == Offer.id)
            .where(Slip.event_id == event.id, Slip.status == SlipStatus.REDEEMED)
            .group_by(Offer.merchant_id, Offer.code, Offer.name, Offer.price_fen)
            .order_by(Offer.code)
        ).all()
        by_status: dict[tuple[int, str], SlipCount] = {
            (merchant_id, status): SlipCount(count, int(points))
            for merchant_id, status, count, points in s.execute(
                select(
                    Slip.merchant_id,
                    Slip.status,
                    func.count(Slip.id),
                    func.coalesce(func.sum(Slip.points), 0),
                )
                .where(
                    Slip.event_id == event.id,
                    Slip.status.in_([SlipStatus.RELEASED, SlipStatus.VOIDED, SlipStatus.ISSUED]),
                )
                .group_by(Slip.merchant_id, Slip.status)
            )
        }
        by_id = {m.id: m for m in merchants}
        lines: dict[int, list[SettlementLine]] = {}
        for merchant_id, code, name, price, slips, quantity, points in rows:
            merchant = by_id[merchant_id]
            lines.setdefault(merchant_id, []).append(
                SettlementLine(
                    merchant.code,
                    merchant.name,
                    code,
                    name,
                    slips,
                    int(quantity),
                    int(points),
                    merchant.rate_micro,
                    price,
                    line_amount(int(points), int(quantity), merchant.rate_micro, price),
                )
            )
        returned = []
        for m in merchants:
            counts = [
                by_status.get((m.id, status), SlipCount())
                for status in (SlipStatus.RELEASED, SlipStatus.VOIDED, SlipStatus.ISSUED)
            ]
            if any(c.slips for c in counts):
                returned.append(ReturnedPoints(m.code, m.name, *counts))
        return Settlement(
            tuple(
                MerchantSettlement(
                    m.code, m.name, m.booth, m.rate_micro, tuple(lines.get(m.id, ()))
                )
                for m in merchants
            ),
            tuple(returned),
        )


@dataclass(frozen=True)
class Reconciliation:
    issued: int
    issued_points: int
    redeemed: int
    redeemed_points: int
    voided: int
    voided_points: int
    released: int
    released_points: int
    open: int
    open_points: int
    double_redemptions: int  # slips reported redeemed by more than one booth
    redemption_conflicts: list[tuple[str, int]]  # conflict kind, redemptions
    missing: list[tuple[str, list[int]]]  # booth, sequence numbers never reported
    pending: int
    rejected: int
    rejected_reasons: list[tuple[str, str, str]]  # kind, key, reason
    # Money rows the audit chain does not account for (issue #26): written or deleted around
    # the kiosk with plain SQL, each named (``kiosk.audit.coverage``).
    unaccounted: list[audit.RowProblem] = field(default_factory=list)

    @property
    def accounted(self) -> bool:
        """Every journal, slip, redemption and outbox row is one an audit record names."""
        return not self.unaccounted

    @property
    def balanced(self) -> bool:
        """Every issued point is redeemed, voided, released or still open."""
        return self.issued_points == (
            self.redeemed_points + self.voided_points + self.released_points + self.open_points
        )


def sequence_gaps(session: Session, event_id: int) -> list[tuple[str, list[int]]]:
    """Per booth, the sequence numbers below its highest that no bundle reported: a
    redemption made at the booth that has not reached the event database (yet)."""
    seen: dict[str, set[int]] = {}
    for booth, seq in session.execute(
        select(Redemption.booth_id, Redemption.booth_seq).where(Redemption.event_id == event_id)
    ):
        seen.setdefault(booth, set()).add(seq)
    return [
        (booth, missing)
        for booth, seqs in sorted(seen.items())
        if (missing := sorted(set(range(1, max(seqs) + 1)) - seqs))
    ]


def reconciliation(uow: UnitOfWork) -> Reconciliation:
    with uow:
        s = uow.session
        event = current_event(s)
        by_status = {
            status: (count, int(points))
            for status, count, points in s.execute(
                select(Slip.status, func.count(Slip.id), func.coalesce(func.sum(Slip.points), 0))
                .where(Slip.event_id == event.id)
                .group_by(Slip.status)
            )
        }
        issued = sum(c for c, _p in by_status.values())
        issued_points = sum(p for _c, p in by_status.values())
        conflicts = dict(
            s.execute(
                select(Redemption.conflict, func.count(Redemption.id))
                .where(Redemption.event_id == event.id, Redemption.conflict.is_not(None))
                .group_by(Redemption.conflict)
            ).all()
        )
        doubles = conflicts.get("redeemed_twice", 0)
        gaps = sequence_gaps(s, event.id)
        outbox_counts = dict(
            s.execute(
                select(OutboxEntry.status, func.count(OutboxEntry.id))
                .where(OutboxEntry.event_id == event.id)
                .group_by(OutboxEntry.status)
            ).all()
        )
        rejected = s.execute(
            select(OutboxEntry.kind, OutboxEntry.idempotency_key, OutboxEntry.error)
            .where(OutboxEntry.event_id == event.id, OutboxEntry.status == OutboxStatus.REJECTED)
            .order_by(OutboxEntry.id)
        ).all()

        def pair(status: SlipStatus) -> tuple[int, int]:
            return by_status.get(status, (0, 0))

        return Reconciliation(
            issued,
            issued_points,
            *pair(SlipStatus.REDEEMED),
            *pair(SlipStatus.VOIDED),
            *pair(SlipStatus.RELEASED),
            *pair(SlipStatus.ISSUED),
            int(doubles or 0),
            sorted(conflicts.items()),
            gaps,
            outbox_counts.get(OutboxStatus.PENDING, 0),
            outbox_counts.get(OutboxStatus.REJECTED, 0),
            [(k, key, e or _("no reason given")) for k, key, e in rejected],
            audit.coverage(s).problems,
        )
