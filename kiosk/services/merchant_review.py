"""After the event: each merchant's scorecard, the review flag, the supervisor's decision, and
the approved-merchant register (准入商户) carried to the next event (issue #21).

The review asks that merchants drawing complaints leave (对于客户投诉的商户适时退出). A
merchant's scorecard counts its slips issued (not voided), redeemed and delivered, the days
from redemption to delivery (median and average), the complaints by category and the average
satisfaction score. The event's thresholds (``Event.review_*``) flag a merchant for review,
each flag a sentence naming the figure and the threshold it crossed; a supervisor then
records keep / warn / exit with a reason, and the scorecard the decision was made on is kept
with it (``MerchantReview.scorecard``), so a later look at the figures does not rewrite why.

Delivery and feedback rows are written by ``kiosk.services.feedback``; this module only reads
them. A redemption's time is the booth's clock of its first clean report; a slip delivered
"before" it was redeemed (a booth clock behind) counts 0 days.

The register is exported signed by the event's current slip-signing key
(``kiosk.register_file``) and imported into the next event's database, whose catalog
import then refuses a merchant that exited (``register_marks``) and names a warned one
(``catalog_warnings``).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.audit import canonical_json
from kiosk.changeset import NOTHING, Changes
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.imports.kinds import OfferRecord, RegisterMark
from kiosk.labels import feedback_category_label
from kiosk.models import (
    Event,
    FeedbackCategory,
    Merchant,
    MerchantDecision,
    MerchantReview,
    Offer,
    Redemption,
    RegisterEntry,
    RegisterSigner,
    ServiceDelivery,
    SigningKey,
    Slip,
    SlipFeedback,
    SlipStatus,
    Staff,
)
from kiosk.permissions import Action, require
from kiosk.register_file import (
    Register,
    RegisterError,
    RegisterItem,
    RegisterService,
    fingerprint,
    public_hex,
    read_register,
    same_fingerprint,
    sign_register,
)
from kiosk.services import keys
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.services.figure_settings import KEEP, Keep
from kiosk.uow import UnitOfWork

CATEGORIES = tuple(c.value for c in FeedbackCategory)
DAY = 86400.0


def decision_label(decision: str) -> str:
    return {
        MerchantDecision.KEEP: _("keep"),
        MerchantDecision.WARN: _("warn"),
        MerchantDecision.EXIT: _("exit"),
    }.get(decision, decision)


def category_label(category: str) -> str:
    """The complaint category in the words every other screen and file uses."""
    return feedback_category_label(category)


def number(value: float) -> str:
    """2 decimals at most, no trailing zeros: 3.45, 3.5, 7."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Thresholds:
    """When a merchant is flagged for review; None: that figure is not checked."""

    score_floor: int | None  # tenths: flagged when the average score is below it
    complaints: int | None  # flagged at this many complaints or more
    delivery_days: int | None  # flagged when the average days to delivery are above it


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str
    decided_by: str  # staff number
    decided_at: datetime


@dataclass(frozen=True)
class Scorecard:
    merchant_code: str
    merchant_name: str
    issued: int  # slips issued and not voided
    redeemed: int
    delivered: int
    median_days: float | None  # redemption to delivery, of the slips delivered
    average_days: float | None
    complaints: dict[str, int]  # category -> complaints (every category, 0 too)
    average_score: float | None
    scores: int  # how many scores the average is of
    flags: tuple[str, ...] = ()
    decisions: tuple[Decision, ...] = ()  # this event's, oldest first
    # The approved-merchant register's word from earlier events (None: not in it).
    register_status: str | None = None
    register_reason: str = ""
    register_event: str = ""
    # Sums behind the averages, so a threshold is compared exactly, not after rounding.
    score_sum: int = field(default=0, repr=False)
    delivery_seconds: float = field(default=0.0, repr=False)
    delivery_count: int = field(default=0, repr=False)

    @property
    def complaint_total(self) -> int:
        return sum(self.complaints.values())

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def decision(self) -> Decision | None:
        """This event's newest decision."""
        return self.decisions[-1] if self.decisions else None

    def snapshot(self) -> dict[str, Any]:
        """The figures a decision was made on (no names of people, no customer data)."""
        return {
            "issued": self.issued,
            "redeemed": self.redeemed,
            "delivered": self.delivered,
            "median_days": None if self.median_days is None else round(self.median_days, 2),
            "average_days": None if self.average_days is None else round(self.average_days, 2),
            "complaints": dict(self.complaints),
            "average_score": None if self.average_score is None else round(self.average_score, 2),
            "scores": self.scores,
            "flags": list(self.flags),
        }


def flags(card: Scorecard, thresholds: Thresholds) -> tuple[str, ...]:
    """Each threshold the merchant crossed, in a sentence naming the figure and the
    threshold. Compared on the exact sums: an average of 3.45 is below a floor of 3.5."""
    found = []
    floor = thresholds.score_floor
    if floor is not None and card.scores and card.score_sum * 10 < floor * card.scores:
        found.append(
            _("Average score {score} is below the floor of {floor}.").format(
                score=number(card.score_sum / card.scores), floor=number(floor / 10)
            )
        )
    limit = thresholds.complaints
    if limit is not None and card.complaint_total >= limit:
        found.append(
            _("{n} complaint(s) reach the threshold of {limit}.").format(
                n=card.complaint_total, limit=limit
            )
        )
    days = thresholds.delivery_days
    if (
        days is not None
        and card.delivery_count
        and card.delivery_seconds > days * DAY * card.delivery_count
    ):
        found.append(
            _("Average {days} days to delivery is above the threshold of {limit} days.").format(
                days=number(card.delivery_seconds / card.delivery_count / DAY), limit=days
            )
        )
    return tuple(found)


def _thresholds(event: Event) -> Thresholds:
    return Thresholds(event.review_score_floor, event.review_complaints, event.review_delivery_days)


def thresholds(uow: UnitOfWork) -> Thresholds:
    with uow:
        return _thresholds(current_event(uow.session))


def describe_thresholds(t: Thresholds) -> list[str]:
    """The thresholds as the coordinator reads them (Merchants tab, ``kiosk merchants
    thresholds``)."""
    off = _("not checked")
    return [
        _("Average score below: {v}").format(
            v=off if t.score_floor is None else number(t.score_floor / 10)
        ),
        _("Complaints from: {v}").format(v=off if t.complaints is None else t.complaints),
        _("Average days to delivery above: {v}").format(
            v=off if t.delivery_days is None else t.delivery_days
        ),
    ]


def score_floor_tenths(value: float | str) -> int:
    """A typed floor (3.5) as tenths (35); one sentence when it is not a score 1–5 in tenths."""
    try:
        number_ = float(str(value).strip().replace("，", "."))
    except ValueError:
        number_ = -1.0
    tenths = round(number_ * 10)
    if abs(number_ * 10 - tenths) > 1e-6 or not 10 <= tenths <= 50:
        raise KioskError(_("The score floor must be a score from 1 to 5 in tenths, like 3.5."))
    return tenths


def set_thresholds(
    uow: UnitOfWork,
    staff: StaffSession,
    *,
    score_floor: int | Keep | None = KEEP,
    complaints: int | Keep | None = KEEP,
    delivery_days: int | Keep | None = KEEP,
    clock: Clock | None = None,
    station: str = "",
) -> Thresholds:
    """Set the review thresholds (``score_floor`` in tenths; None: not checked); a
    supervisor's, audited with the values before. Nothing is written when nothing changes."""
    require(staff, Action.REVIEW_MERCHANTS)
    now = (clock or Clock()).now()
    if isinstance(score_floor, int) and not 10 <= score_floor <= 50:
        raise KioskError(_("The score floor must be a score from 1 to 5 in tenths, like 3.5."))
    if isinstance(complaints, int) and not 1 <= complaints <= 9999:
        raise KioskError(_("The complaints threshold must be a whole number from 1."))
    if isinstance(delivery_days, int) and not 0 <= delivery_days <= 3650:
        raise KioskError(_("The days to delivery must be a whole number of days."))
    with uow:
        s = uow.session
        event = current_event(s)
        before = _thresholds(event)
        after = Thresholds(
            before.score_floor if isinstance(score_floor, Keep) else score_floor,
            before.complaints if isinstance(complaints, Keep) else complaints,
            before.delivery_days if isinstance(delivery_days, Keep) else delivery_days,
        )
        if after == before:
            return before
        event.review_score_floor = after.score_floor
        event.review_complaints = after.complaints
        event.review_delivery_days = after.delivery_days
        audit.append(
            s,
            at=now,
            action="review_thresholds_set",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={
                "score_floor": after.score_floor,
                "complaints": after.complaints,
                "delivery_days": after.delivery_days,
                "was": {
                    "score_floor": before.score_floor,
                    "complaints": before.complaints,
                    "delivery_days": before.delivery_days,
                },
            },
        )
        uow.commit()
        return after


# -- the scorecards ---------------------------------------------------------------------------


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


def _scorecards(s: Session, event: Event) -> list[Scorecard]:
    merchants = s.execute(
        select(Merchant.id, Merchant.code, Merchant.name)
        .where(Merchant.event_id == event.id)
        .order_by(Merchant.code)
    ).all()
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for merchant_id, status, n in s.execute(
        select(Slip.merchant_id, Slip.status, func.count(Slip.id))
        .where(Slip.event_id == event.id)
        .group_by(Slip.merchant_id, Slip.status)
    ):
        counts[merchant_id][status] = int(n)
    redeemed_at = dict(
        s.execute(
            select(Redemption.slip_serial, func.min(Redemption.redeemed_at))
            .where(Redemption.event_id == event.id, Redemption.conflict.is_(None))
            .group_by(Redemption.slip_serial)
        ).all()
    )
    delivered: dict[int, int] = defaultdict(int)
    days: dict[int, list[float]] = defaultdict(list)
    for merchant_id, serial, at in s.execute(
        select(Slip.merchant_id, Slip.serial, ServiceDelivery.delivered_at)
        .join(Slip, Slip.id == ServiceDelivery.slip_id)
        .where(Slip.event_id == event.id, Slip.status != SlipStatus.VOIDED)
    ):
        delivered[merchant_id] += 1
        redeemed = redeemed_at.get(serial)
        if redeemed is not None:
            days[merchant_id].append(_seconds(redeemed, at))
    complaints: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CATEGORIES, 0))
    scores: dict[int, list[int]] = defaultdict(list)
    for merchant_id, score, category, text in s.execute(
        select(Slip.merchant_id, SlipFeedback.score, SlipFeedback.category, SlipFeedback.complaint)
        .join(Slip, Slip.id == SlipFeedback.slip_id)
        .where(Slip.event_id == event.id)
        .order_by(SlipFeedback.id)
    ):
        if score is not None:
            scores[merchant_id].append(int(score))
        if category is not None or (text or "").strip():
            # A complaint in words with no category is counted under "other".
            key = category if category in CATEGORIES else FeedbackCategory.OTHER.value
            complaints[merchant_id][key] += 1
    decisions: dict[int, list[Decision]] = defaultdict(list)
    for merchant_id, decision, reason, staff_no, at in s.execute(
        select(
            MerchantReview.merchant_id,
            MerchantReview.decision,
            MerchantReview.reason,
            Staff.staff_no,
            MerchantReview.decided_at,
        )
        .join(Staff, Staff.id == MerchantReview.decided_by)
        .where(MerchantReview.event_id == event.id)
        .order_by(MerchantReview.decided_at, MerchantReview.id)
    ):
        decisions[merchant_id].append(Decision(decision, reason, staff_no, at))
    register = {e.merchant_code: e for e in s.scalars(select(RegisterEntry))}
    limits = _thresholds(event)
    cards = []
    for merchant_id, code, name in merchants:
        by_status = counts.get(merchant_id, {})
        merchant_days = days.get(merchant_id, [])
        merchant_scores = scores.get(merchant_id, [])
        entry = register.get(code)
        card = Scorecard(
            merchant_code=code,
            merchant_name=name,
            issued=sum(n for st, n in by_status.items() if st != SlipStatus.VOIDED),
            redeemed=by_status.get(SlipStatus.REDEEMED, 0),
            delivered=delivered.get(merchant_id, 0),
            median_days=statistics.median(merchant_days) / DAY if merchant_days else None,
            average_days=sum(merchant_days) / len(merchant_days) / DAY if merchant_days else None,
            complaints=dict(complaints[merchant_id]),
            average_score=sum(merchant_scores) / len(merchant_scores) if merchant_scores else None,
            scores=len(merchant_scores),
            decisions=tuple(decisions.get(merchant_id, ())),
            register_status=entry.status if entry else None,
            register_reason=entry.reason if entry else "",
            register_event=entry.source_event if entry else "",
            score_sum=sum(merchant_scores),
            delivery_seconds=sum(merchant_days),
            delivery_count=len(merchant_days),
        )
        cards.append(_with_flags(card, limits))
    return cards


def _with_flags(card: Scorecard, limits: Thresholds) -> Scorecard:
    return replace(card, flags=flags(card, limits))


def scorecards(uow: UnitOfWork) -> list[Scorecard]:
    """Every merchant of the event, by code, with its flags against the event's thresholds."""
    with uow:
        s = uow.session
        return _scorecards(s, current_event(s))


def scorecard_rows(cards: Iterable[Scorecard]) -> list[list[object]]:
    """The scorecard as a table (header first): the xlsx and ``kiosk merchants scorecard``."""
    rows: list[list[object]] = [
        [
            _("Merchant code"),
            _("Merchant"),
            _("Issued"),
            _("Redeemed"),
            _("Delivered"),
            _("Median days to delivery"),
            _("Average days to delivery"),
            *(category_label(c) for c in CATEGORIES),
            _("Complaints"),
            _("Average score"),
            _("Scores"),
            _("Review"),
            _("Decision"),
            _("Reason"),
        ]
    ]
    for c in cards:
        decision = c.decision
        rows.append(
            [
                c.merchant_code,
                c.merchant_name,
                c.issued,
                c.redeemed,
                c.delivered,
                None if c.median_days is None else round(c.median_days, 2),
                None if c.average_days is None else round(c.average_days, 2),
                *(c.complaints[k] for k in CATEGORIES),
                c.complaint_total,
                None if c.average_score is None else round(c.average_score, 2),
                c.scores,
                " ".join(c.flags) if c.flags else _("no flag"),
                decision_label(decision.decision) if decision else "",
                decision.reason if decision else "",
            ]
        )
    return rows


# -- the decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionResult:
    merchant_code: str
    decision: str
    reason: str
    scorecard: Scorecard
    changes: Changes = field(default=NOTHING, compare=False)


def decide(
    uow: UnitOfWork,
    merchant_code: str,
    decision: str,
    reason: str,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "",
) -> DecisionResult:
    """Record a supervisor's keep / warn / exit for a merchant, with the reason (required)
    and the scorecard as it stands now; audited."""
    require(staff, Action.REVIEW_MERCHANTS)
    now = (clock or Clock()).now()
    if decision not in {d.value for d in MerchantDecision}:
        raise KioskError(
            _("“{value}” is not a decision: use keep, warn or exit.").format(value=decision)
        )
    reason = " ".join((reason or "").split())
    if not reason:
        raise KioskError(_("Give the reason for the decision."))
    if len(reason) > 300:
        raise KioskError(_("The reason is too long: 300 characters at most."))
    with uow:
        s = uow.session
        event = current_event(s)
        code = merchant_code.strip().upper()
        merchant = s.scalar(
            select(Merchant).where(Merchant.event_id == event.id, Merchant.code == code)
        )
        if merchant is None:
            raise KioskError(_("No merchant has the code {code}.").format(code=merchant_code))
        card = next(c for c in _scorecards(s, event) if c.merchant_code == code)
        s.add(
            MerchantReview(
                event_id=event.id,
                merchant_id=merchant.id,
                decision=decision,
                reason=reason,
                scorecard=canonical_json(card.snapshot()),
                decided_by=staff.staff_id,
                decided_at=now,
            )
        )
        audit.append(
            s,
            at=now,
            action="merchant_decided",
            staff_id=staff.staff_id,
            station=station,
            entity="merchant",
            entity_id=merchant.id,
            details={
                "merchant": code,
                "decision": decision,
                "reason": reason,
                "flags": len(card.flags),
            },
        )
        uow.commit()
        return DecisionResult(code, decision, reason, card, Changes(setup=True))


# -- the register -----------------------------------------------------------------------------


def _history(entry: RegisterEntry | None) -> list[dict[str, Any]]:
    if entry is None or not entry.history:  # a new entry has none yet
        return []
    try:
        found = json.loads(entry.history)
    except ValueError:
        return []
    return [h for h in found if isinstance(h, dict)] if isinstance(found, list) else []


def _services(entry: RegisterEntry) -> tuple[RegisterService, ...]:
    try:
        found = json.loads(entry.services)
        return tuple(RegisterService(str(s["code"]), str(s["name"])) for s in found)
    except (ValueError, KeyError, TypeError):
        return ()


def _register_items(s: Session, event: Event) -> list[RegisterItem]:
    """This event's merchants with their decisions and scorecards added to the history they
    brought, and every merchant of the register that did not take part, carried on as it is.
    A merchant's status is its newest decision: this event's, else the register's, else keep."""
    earlier = {e.merchant_code: e for e in s.scalars(select(RegisterEntry))}
    services: dict[int, list[RegisterService]] = defaultdict(list)
    for merchant_id, code, name in s.execute(
        select(Offer.merchant_id, Offer.code, Offer.name)
        .where(Offer.event_id == event.id)
        .order_by(Offer.code)
    ):
        services[merchant_id].append(RegisterService(code, name))
    ids = dict(
        s.execute(select(Merchant.code, Merchant.id).where(Merchant.event_id == event.id)).all()
    )
    items = []
    for card in _scorecards(s, event):
        entry = earlier.pop(card.merchant_code, None)
        history = [h for h in _history(entry) if h.get("event") != event.code]
        history.append(
            {
                "event": event.code,
                "event_name": event.name,
                "event_date": event.event_date.isoformat(),
                "scorecard": card.snapshot(),
                "decisions": [
                    {
                        "decision": d.decision,
                        "reason": d.reason,
                        "decided_by": d.decided_by,
                        "decided_at": d.decided_at.isoformat(),
                    }
                    for d in card.decisions
                ],
            }
        )
        if card.decision is not None:
            status, reason = card.decision.decision, card.decision.reason
        elif entry is not None:
            status, reason = entry.status, entry.reason
        else:
            status, reason = MerchantDecision.KEEP.value, ""
        items.append(
            RegisterItem(
                card.merchant_code,
                card.merchant_name,
                str(status),
                reason,
                tuple(services.get(ids[card.merchant_code], ())),
                tuple(history),
            )
        )
    for entry in earlier.values():
        items.append(
            RegisterItem(
                entry.merchant_code,
                entry.merchant_name,
                entry.status,
                entry.reason,
                _services(entry),
                tuple(_history(entry)),
            )
        )
    return sorted(items, key=lambda i: i.merchant_code)


@dataclass(frozen=True)
class RegisterExport:
    data: bytes
    register: Register

    @property
    def fingerprint(self) -> str:
        return self.register.fingerprint


def export_register(
    uow: UnitOfWork,
    passphrase: str,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "",
) -> RegisterExport:
    """The approved-merchant register, signed with the event's current signing key (the
    passphrase unlocks it); audited with the key's fingerprint, which the coordinator notes
    for the next event's import."""
    require(staff, Action.REVIEW_MERCHANTS)
    now = (clock or Clock()).now()
    private = keys.unlock(uow, passphrase)
    public = public_hex(private)
    with uow:
        s = uow.session
        event = current_event(s)
        key_id = s.scalar(
            select(SigningKey.key_id).where(
                SigningKey.event_id == event.id, SigningKey.public_key == public
            )
        )
        assert key_id is not None
        register = Register(
            event_code=event.code,
            event_name=event.name,
            key_id=key_id,
            public_key=public,
            exported_at=now,
            entries=tuple(_register_items(s, event)),
        )
        data = sign_register(register, private)
        audit.append(
            s,
            at=now,
            action="merchant_register_exported",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={
                "key_id": key_id,
                "fingerprint": register.fingerprint,
                "merchants": len(register.entries),
                "exit": sum(1 for e in register.entries if e.status == MerchantDecision.EXIT),
            },
        )
        uow.commit()
        return RegisterExport(data, register)


def register_fingerprint(uow: UnitOfWork) -> str | None:
    """The fingerprint this event's register is signed with (its current signing key): shown
    in Administration so the coordinator can note it; None without a key."""
    with uow:
        event = current_event(uow.session)
        key = uow.session.scalar(
            select(SigningKey.public_key)
            .where(SigningKey.event_id == event.id, SigningKey.retired_at.is_(None))
            .order_by(SigningKey.id.desc())
            .limit(1)
        )
        return fingerprint(key) if key else None


def peek_register(data: bytes) -> Register:
    """The file's register, signature checked against its own key, trusted or not: what the
    import dialog shows (event, fingerprint) before the coordinator confirms."""
    return read_register(data)


class UntrustedSigner(RegisterError):
    """The register's signer is not trusted yet and no fingerprint was named: the station
    shows the file's fingerprint and asks the coordinator to confirm it."""


@dataclass(frozen=True)
class RegisterImport:
    event_code: str
    fingerprint: str
    new: int
    replaced: int
    trusted_now: bool  # the signer was trusted by this import (--trust)
    exits: tuple[str, ...]  # merchant codes now marked exit
    changes: Changes = field(default=NOTHING, compare=False)


def _merged_history(old: list[dict[str, Any]], new: Iterable[dict[str, Any]]) -> list[Any]:
    """The file's history, after the events only this database knew (kept, not lost)."""
    new = list(new)
    events = {h.get("event") for h in new}
    return [h for h in old if h.get("event") not in events] + new


def import_register(
    uow: UnitOfWork,
    data: bytes,
    staff: StaffSession,
    *,
    trust: str | None = None,
    clock: Clock | None = None,
    station: str = "",
) -> RegisterImport:
    """Import an earlier event's register: its entries replace this database's by merchant
    code (history merged). The signer must already be trusted, or be named by its
    fingerprint in ``trust`` (then it is trusted from now on, audited). Anything else is
    refused in one sentence with nothing changed."""
    require(staff, Action.REVIEW_MERCHANTS)
    now = (clock or Clock()).now()
    register = read_register(data)
    with uow:
        s = uow.session
        event = current_event(s)
        if register.event_code == event.code:
            raise RegisterError(
                _(
                    "This register was exported by this event ({event}): import it into the "
                    "next event's database."
                ).format(event=event.code)
            )
        signer = s.scalar(select(RegisterSigner).where(RegisterSigner.key_id == register.key_id))
        trusted_now = False
        if signer is None or signer.public_key != register.public_key:
            if trust is None or not trust.strip():
                raise UntrustedSigner(
                    _(
                        "This register is signed by a key this database does not trust "
                        "(event {event}, fingerprint {fingerprint}). If it is the fingerprint "
                        "the coordinator noted when event {event} exported its register, "
                        "import again naming it (--trust {fingerprint})."
                    ).format(event=register.event_code, fingerprint=register.fingerprint)
                )
            if not same_fingerprint(trust, register.public_key):
                raise RegisterError(
                    _(
                        "The fingerprint given ({given}) is not the one of the key that signed "
                        "this register ({fingerprint}): it was not exported by the event you "
                        "expect. Nothing was imported."
                    ).format(given=trust.strip(), fingerprint=register.fingerprint)
                )
            if signer is not None:  # the same id for another key: not this signer
                raise RegisterError(
                    _(
                        "Another key with the id {key_id} is already trusted; this register "
                        "cannot be told apart from it. Nothing was imported."
                    ).format(key_id=register.key_id)
                )
            s.add(
                RegisterSigner(
                    key_id=register.key_id,
                    public_key=register.public_key,
                    event_code=register.event_code,
                    trusted_at=now,
                    trusted_by=staff.staff_id,
                )
            )
            trusted_now = True
            audit.append(
                s,
                at=now,
                action="register_signer_trusted",
                staff_id=staff.staff_id,
                station=station,
                entity="event",
                entity_id=event.id,
                details={
                    "key_id": register.key_id,
                    "fingerprint": register.fingerprint,
                    "event": register.event_code,
                },
            )
        existing = {e.merchant_code: e for e in s.scalars(select(RegisterEntry))}
        new = replaced = 0
        for item in register.entries:
            entry = existing.get(item.merchant_code)
            if entry is None:
                entry = RegisterEntry(merchant_code=item.merchant_code)
                s.add(entry)
                new += 1
            else:
                replaced += 1
            entry.merchant_name = item.merchant_name
            entry.status = item.status
            entry.reason = item.reason
            entry.services = canonical_json(
                [{"code": x.code, "name": x.name} for x in item.services]
            )
            entry.history = canonical_json(_merged_history(_history(entry), item.history))
            entry.source_event = register.event_code
            entry.key_id = register.key_id
            entry.imported_at = now
        exits = tuple(
            i.merchant_code for i in register.entries if i.status == MerchantDecision.EXIT
        )
        audit.append(
            s,
            at=now,
            action="merchant_register_imported",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={
                "event": register.event_code,
                "fingerprint": register.fingerprint,
                "new": new,
                "replaced": replaced,
                "exit": len(exits),
            },
        )
        uow.commit()
        return RegisterImport(
            register.event_code,
            register.fingerprint,
            new,
            replaced,
            trusted_now,
            exits,
            Changes(setup=True),
        )


@dataclass(frozen=True)
class RegisterRow:
    merchant_code: str
    merchant_name: str
    status: str
    reason: str
    source_event: str


def register_entries(uow: UnitOfWork) -> list[RegisterRow]:
    """The register this database holds, by merchant code."""
    with uow:
        return [
            RegisterRow(e.merchant_code, e.merchant_name, e.status, e.reason, e.source_event)
            for e in uow.session.scalars(
                select(RegisterEntry).order_by(RegisterEntry.merchant_code)
            )
        ]


# -- the catalog import's look-up -------------------------------------------------------------


def register_marks(session: Session) -> dict[str, RegisterMark]:
    """The register's exit and warn merchants for the catalog check, keyed by merchant code
    and by exact name (a merchant that left does not come back under a new code)."""
    marks: dict[str, RegisterMark] = {}
    for e in session.scalars(
        select(RegisterEntry).where(RegisterEntry.status != MerchantDecision.KEEP)
    ):
        mark = RegisterMark(e.merchant_code, e.merchant_name, e.status, e.reason, e.source_event)
        marks.setdefault(e.merchant_name, mark)
        marks[e.merchant_code] = mark
    return marks


def catalog_warnings(session: Session, records: Iterable[OfferRecord]) -> tuple[str, ...]:
    """One sentence per merchant of an imported catalog that the register marks warn."""
    marks = register_marks(session)
    said: dict[str, str] = {}
    for r in records:
        mark = marks.get(r.merchant_code) or marks.get(r.merchant_name or "")
        if mark is None or mark.status != MerchantDecision.WARN or mark.code in said:
            continue
        said[mark.code] = _("Merchant {code} {name} was warned at {event}: {reason}").format(
            code=r.merchant_code,
            name=r.merchant_name or mark.name,
            event=mark.event,
            reason=mark.reason,
        )
    return tuple(said.values())
