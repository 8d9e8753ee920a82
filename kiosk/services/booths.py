"""The event side of merchant booths: export merchant packs, import redemption bundles.

A pack is signed with every signing key of the event (the passphrase unlocks them), so a booth
that trusts an older key accepts an update after a rotation. A bundle is imported
idempotently: a redemption whose uid is known is skipped, so a bundle can be imported twice,
or pushed and then imported from the USB stick, without duplicates. A redemption that cannot
simply stand (the slip was already redeemed at another booth, voided, unknown, or for another
merchant) is still recorded, with its ``conflict`` set, for the reconciliation report.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk import audit, outbox, slipcode
from kiosk.clock import Clock
from kiosk.current_event import CURRENT, keep
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.labels import verdict_label
from kiosk.merchant_pack import Pack, PackMerchant, PackOffer, sign_pack
from kiosk.models import (
    FeedbackCategory,
    FeedbackChannel,
    Merchant,
    Offer,
    Redemption,
    ServiceDelivery,
    SigningKey,
    Slip,
    SlipStatus,
)
from kiosk.permissions import Action, Approval, approved_by, require
from kiosk.redemption_bundle import (
    Bundle,
    BundleError,
    BundleRedemption,
    check_mac,
    peek_bundle,
)
from kiosk.services import feedback
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.slipcode import Verdict
from kiosk.uow import UnitOfWork

BUNDLE_SOURCE = "bundle"  # ServiceDelivery.source / SlipFeedback.source of a booth's report


class Conflict:
    """Why a reported redemption cannot simply stand (stored in ``Redemption.conflict``)."""

    TWICE = "redeemed_twice"  # the slip was redeemed at another booth (or earlier) too
    VOIDED = "voided"  # the booth's revocation list was older than the void
    UNKNOWN = "unknown_slip"
    OTHER_MERCHANT = "other_merchant"
    RELEASED = "released"  # reported after close gave the slip's points back


def conflict_label(conflict: str) -> str:
    return {
        Conflict.TWICE: _("redeemed twice"),
        Conflict.VOIDED: _("slip was voided"),
        Conflict.UNKNOWN: _("no such slip"),
        Conflict.OTHER_MERCHANT: _("slip is for another merchant"),
        Conflict.RELEASED: _("slip was released at close"),
    }.get(conflict, conflict)


def _unlock_all(session: Session, event_id: int, passphrase: str) -> list[Ed25519PrivateKey]:
    """Every key of the event the passphrase unlocks; the current one must be among them."""
    rows = session.scalars(
        select(SigningKey).where(SigningKey.event_id == event_id).order_by(SigningKey.id)
    ).all()
    current = [row for row in rows if row.retired_at is None]
    if not current:
        raise KioskError(_("This event has no signing key yet; create one first."))
    keys = [slipcode.unlock_private_key(current[-1].locked_private_key.encode(), passphrase)]
    for row in rows:
        if row is current[-1]:
            continue
        try:
            keys.append(slipcode.unlock_private_key(row.locked_private_key.encode(), passphrase))
        except KioskError:
            continue  # an old key under another passphrase: the current one still signs
    return keys


def export_pack(
    uow: UnitOfWork,
    merchant_code: str,
    passphrase: str,
    staff: StaffSession,
    *,
    clock: Clock | None = None,
    station: str = "merchant",
) -> tuple[bytes, Pack]:
    """The signed merchant pack for ``merchant_code``: its bytes and its content."""
    require(staff, Action.EXPORT_PACK)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        merchant = s.scalar(
            select(Merchant).where(
                Merchant.event_id == event.id, Merchant.code == merchant_code.strip().upper()
            )
        )
        if merchant is None:
            raise KioskError(_("No merchant has the code {code}.").format(code=merchant_code))
        private_keys = _unlock_all(s, event.id, passphrase)
        if merchant.bundle_secret is None:
            merchant.bundle_secret = secrets.token_hex(32)
        offers = s.scalars(
            select(Offer).where(Offer.merchant_id == merchant.id).order_by(Offer.code)
        ).all()
        public = {
            k.key_id: k.public_key
            for k in s.scalars(select(SigningKey).where(SigningKey.event_id == event.id))
        }
        revoked = frozenset(
            s.scalars(
                select(Slip.serial).where(
                    Slip.event_id == event.id, Slip.status == SlipStatus.VOIDED
                )
            )
        )
        merchants = tuple(
            PackMerchant(m.id, m.code, m.name, m.booth or "")
            for m in s.scalars(
                select(Merchant).where(Merchant.event_id == event.id).order_by(Merchant.id)
            )
        )
        pack = Pack(
            event_code=event.code,
            event_name=event.name,
            event_date=event.event_date,
            timezone=event.timezone,
            merchant_id=merchant.id,
            merchant_code=merchant.code,
            merchant_name=merchant.name,
            offers=tuple(
                PackOffer(o.id, o.code, o.name, o.points_price, o.redeem_by) for o in offers
            ),
            public_keys=public,
            revoked=revoked,
            bundle_secret=merchant.bundle_secret,
            issued_at=now,
            merchants=merchants,
        )
        data = sign_pack(pack, private_keys)
        audit.append(
            s,
            at=now,
            action="merchant_pack_exported",
            staff_id=staff.staff_id,
            station=station,
            entity="merchant",
            entity_id=merchant.code,
            details={"offers": len(offers), "revoked": len(revoked)},
        )
        uow.commit()
        return data, pack


@dataclass(frozen=True)
class ImportedConflict:
    serial: int
    conflict: str
    booth_seq: int


@dataclass(frozen=True)
class BundleImport:
    merchant_code: str
    booth_id: str
    added: int
    duplicates: int
    conflicts: list[ImportedConflict] = field(default_factory=list)
    up_to_seq: int = 0
    install_skew_s: float = 0.0  # booth clock at install minus event clock at pack export
    import_skew_s: float = 0.0  # event clock at import minus booth clock at export
    # After the event (issue #21): delivery times recorded or changed, complaints added.
    deliveries: int = 0
    complaints: int = 0

    def counts(self) -> str:
        """What the bundle brought, as the merchant tab and the command line say."""
        text = _("{added} new, {duplicates} already known, {conflicts} conflicts.").format(
            added=self.added, duplicates=self.duplicates, conflicts=len(self.conflicts)
        )
        if self.deliveries or self.complaints:
            text += " " + _(
                "{deliveries} services delivered, {complaints} complaints recorded."
            ).format(deliveries=self.deliveries, complaints=self.complaints)
        return text


def import_bundle(
    uow: UnitOfWork,
    data: bytes,
    staff: StaffSession,
    *,
    approval: Approval | None = None,
    clock: Clock | None = None,
    station: str = "bundle",
) -> BundleImport:
    """Record a booth's redemptions brought on a USB stick, each exactly once. Merchant staff
    need a supervisor's approval: the file changes the redemption figures wholesale."""
    approver = approved_by(staff, Action.IMPORT_BUNDLE, approval)
    return _import_bundle(
        uow, data, staff_id=staff.staff_id, approver=approver, clock=clock, station=station
    )


def deliver_bundle(
    uow: UnitOfWork, data: bytes, *, clock: Clock | None = None, station: str = "booth"
) -> BundleImport:
    """The booth's own delivery of its bundle over the LAN (``kiosk booth push`` and the
    online booth's catch-up). No member of event staff acts: the booth's staff are not in
    the event database, and the bundle's MAC under the merchant's pack secret is what
    proves it came from that merchant's booth (the same check as a USB import)."""
    return _import_bundle(uow, data, staff_id=None, approver=None, clock=clock, station=station)


def _import_bundle(
    uow: UnitOfWork,
    data: bytes,
    *,
    staff_id: int | None,
    approver: int | None,
    clock: Clock | None,
    station: str,
) -> BundleImport:
    now = (clock or Clock()).now()
    bundle, body, mac = peek_bundle(data)
    with uow:
        s = uow.session
        event = current_event(s)
        if bundle.event_code != event.code:
            raise BundleError(
                _("This bundle is from another event ({code}); nothing was imported.").format(
                    code=bundle.event_code
                )
            )
        merchant = s.scalar(
            select(Merchant).where(
                Merchant.event_id == event.id, Merchant.code == bundle.merchant_code
            )
        )
        if merchant is None or merchant.id != bundle.merchant_id or not merchant.bundle_secret:
            raise BundleError(
                _(
                    "This bundle's merchant {code} has no pack from this event database; "
                    "nothing was imported."
                ).format(code=bundle.merchant_code)
            )
        check_mac(body, mac, merchant.bundle_secret)
        # Lock every slip of the bundle up front, in serial order: two booths' bundles naming
        # the same slips in another order wait for each other instead of deadlocking, and a
        # second import of the same redemptions at this moment (a push and a USB import)
        # waits, then finds them known and adds nothing.
        s.execute(
            select(Slip.id)
            .where(
                Slip.event_id == event.id,
                Slip.serial.in_(sorted({r.serial for r in bundle.redemptions})),
            )
            .order_by(Slip.serial)
            .with_for_update()
        ).all()
        known = set(
            s.scalars(
                select(Redemption.uid).where(
                    Redemption.uid.in_([r.uid for r in bundle.redemptions])
                )
            )
        )
        added, conflicts = 0, []
        for r in bundle.redemptions:
            if r.uid in known:
                continue
            known.add(r.uid)
            conflict = _record(s, event.id, event.code, merchant, bundle.booth_id, r, now)
            added += 1
            if conflict:
                conflicts.append(ImportedConflict(r.serial, conflict, r.seq))
        s.flush()
        deliveries, complaints = _record_after(
            s, event.id, merchant, bundle, now, staff_id=staff_id, station=station
        )
        audit.append(
            s,
            at=now,
            action="bundle_imported",
            staff_id=staff_id,
            station=station,
            entity="merchant",
            entity_id=merchant.code,
            details={
                "booth_id": bundle.booth_id,
                "added": added,
                "duplicates": len(bundle.redemptions) - added,
                "conflicts": len(conflicts),
                "deliveries": deliveries,
                "complaints": complaints,
                "exported_at": bundle.exported_at.isoformat(),
                "booth_clock_skew_s": bundle.install_skew_s,
            },
            approved_by=approver,
        )
        try:
            uow.commit()
        except IntegrityError:
            # Only when the same redemptions were imported at this very moment elsewhere
            # (a push and a USB import at once): nothing of this run was kept.
            raise BundleError(
                _(
                    "Another import of these redemptions ran at the same moment; nothing "
                    "was imported this time. Import the bundle again."
                )
            ) from None
    return BundleImport(
        merchant.code,
        bundle.booth_id,
        added,
        len(bundle.redemptions) - added,
        conflicts,
        max((r.seq for r in bundle.redemptions), default=0),
        bundle.install_skew_s,
        (now - bundle.exported_at).total_seconds(),
        deliveries,
        complaints,
    )


def _record_after(
    s: Session,
    event_id: int,
    merchant: Merchant,
    bundle: Bundle,
    now: datetime,
    *,
    staff_id: int | None,
    station: str,
) -> tuple[int, int]:
    """The bundle's deliveries and complaints (issue #21): (delivery times written,
    complaints added). Only for a slip of this merchant that stands redeemed; anything else
    (a conflict, a slip unknown here) is left out, as the redemption's conflict already says.
    A bundle's delivery time replaces only one a bundle brought: a time the merchant's later
    file or the service desk recorded is not undone by replaying an older bundle."""
    serials = {d.serial for d in bundle.deliveries} | {c.serial for c in bundle.complaints}
    if not serials:
        return 0, 0
    slips = {
        slip.serial: slip
        for slip in s.scalars(
            select(Slip).where(
                Slip.event_id == event_id,
                Slip.serial.in_(sorted(serials)),
                Slip.merchant_id == merchant.id,
                Slip.status == SlipStatus.REDEEMED,
            )
        )
    }
    sources = dict(
        s.execute(
            select(ServiceDelivery.slip_id, ServiceDelivery.source).where(
                ServiceDelivery.slip_id.in_([slip.id for slip in slips.values()])
            )
        ).all()
    )
    delivered = 0
    for d in bundle.deliveries:
        slip = slips.get(d.serial)
        if slip is None or sources.get(slip.id, BUNDLE_SOURCE) != BUNDLE_SOURCE:
            continue
        delivered += feedback.put_delivery(
            s,
            event_id=event_id,
            slip=slip,
            delivered_at=d.delivered_at,
            source=BUNDLE_SOURCE,
            staff_id=staff_id,
            now=now,
            station=station,
        )
        s.flush()
    complained = 0
    for c in bundle.complaints:
        slip = slips.get(c.serial)
        if slip is None:
            continue
        category = c.category if c.category in set(FeedbackCategory) else FeedbackCategory.OTHER
        complained += feedback.put_feedback(
            s,
            event_id=event_id,
            slip=slip,
            channel=FeedbackChannel.BOOTH,
            score=None,
            category=category,
            complaint=" ".join(c.complaint.split())[: feedback.COMPLAINT_LENGTH],
            said_at=c.said_at,
            print_=feedback.fingerprint("booth", c.uid),
            booth_staff=c.staff_name,
            source=BUNDLE_SOURCE,
            staff_id=staff_id,
            now=now,
            station=station,
        )
    return delivered, complained


def _record(
    s: Session,
    event_id: int,
    event_code: str,
    merchant: Merchant,
    booth_id: str,
    r: BundleRedemption,
    now: datetime,
    *,
    locked: tuple[Slip | None] | None = None,
) -> str | None:
    """Record one new redemption; its conflict, or None when it simply stands. ``locked``:
    the slip row as this transaction already locked and read it (not asked again)."""
    slip = (
        locked[0]
        if locked is not None
        else s.scalar(
            select(Slip)
            .where(Slip.event_id == event_id, Slip.serial == r.serial)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    conflict = None
    if slip is None:
        conflict = Conflict.UNKNOWN
    elif slip.merchant_id != merchant.id:
        conflict = Conflict.OTHER_MERCHANT
    elif slip.status == SlipStatus.VOIDED:
        conflict = Conflict.VOIDED
    elif slip.status == SlipStatus.REDEEMED:
        conflict = Conflict.TWICE
    elif slip.status == SlipStatus.RELEASED:
        conflict = Conflict.RELEASED
    # Core statements noted for the audit as the flush would note them (issue #23: the
    # flush of these rows was a quarter of the gateway's CPU per redemption), in the
    # flush's order: the redemption, the outbox entry, the slip.
    audit.insert_noted(
        s,
        Redemption,
        {
            "uid": r.uid,
            "event_id": event_id,
            "slip_serial": r.serial,
            "merchant_id": merchant.id,
            "booth_id": booth_id,
            "booth_seq": r.seq,
            "redeemed_at": r.redeemed_at,
            "staff_name": r.staff_name,
            "received_at": now,
            "conflict": conflict,
        },
    )
    if conflict is None:
        assert slip is not None
        outbox.enqueue_now(
            s,
            event_id=event_id,
            kind="slip_redeemed",
            at=now,
            payload={
                "event": event_code,
                "serial": r.serial,
                "merchant": merchant.code,
                "offer": r.offer_code,
                "quantity": r.quantity,
                "points": r.points,
                "redeemed_at": r.redeemed_at.isoformat(),
                "booth_id": booth_id,
                "booth_seq": r.seq,
            },
        )
        audit.update_noted(s, slip, {"status": SlipStatus.REDEEMED})
    audit.append(
        s,
        at=now,
        action="slip_redeemed" if conflict is None else "redemption_conflict",
        entity="slip",
        entity_id=r.serial,
        details={"booth_id": booth_id, "seq": r.seq, "conflict": conflict},
    )
    return conflict


# -- booths online on the venue LAN ----------------------------------------------------------


class OnlineRefused(KioskError):
    """The event database cannot take this booth's redemptions (another event or merchant)."""


@dataclass(frozen=True)
class SlipState:
    """What the event database knows of a slip, for a booth deciding before it serves."""

    status: str  # a SlipStatus, or "unknown"
    redeemed_at: datetime | None = None
    staff_name: str = ""
    booth_id: str = ""
    merchant_code: str = ""

    @property
    def free(self) -> bool:
        return self.status == SlipStatus.ISSUED


# The current event with the booth's merchant (None when it has no such one), in one round
# trip (issue #23: every online redemption starts here); no row only when there is no event.
_EVENT_AND_MERCHANT = (
    select(CURRENT, Merchant)
    .select_from(CURRENT)
    .outerjoin(
        Merchant,
        (Merchant.event_id == CURRENT.id) & (Merchant.code == bindparam("merchant_code")),
    )
)


def _check_booth(s: Session, event_code: str, merchant_code: str, merchant_id: int) -> Merchant:
    found = s.execute(_EVENT_AND_MERCHANT, {"merchant_code": merchant_code}).first()
    if found is not None:
        event, merchant = keep(s, found[0]), found[1]
    else:
        event = current_event(s)  # says there is no event, in words
        merchant = s.scalar(
            select(Merchant).where(Merchant.event_id == event.id, Merchant.code == merchant_code)
        )
    if event.code != event_code:
        raise OnlineRefused(
            _(
                "The event database is for event {theirs}, this booth for {ours}; working offline."
            ).format(theirs=event.code, ours=event_code)
        )
    if merchant is None or merchant.id != merchant_id:
        raise OnlineRefused(
            _(
                "The event database has no merchant {code} like this booth's; working offline."
            ).format(code=merchant_code)
        )
    return merchant


def _state(s: Session, event_id: int, slip: Slip | None) -> SlipState:
    if slip is None:
        return SlipState("unknown")
    if slip.status != SlipStatus.REDEEMED:
        return SlipState(slip.status)
    row = s.execute(
        select(Redemption, Merchant.code)
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(
            Redemption.event_id == event_id,
            Redemption.slip_serial == slip.serial,
            Redemption.conflict.is_(None),
        )
        .order_by(Redemption.id)
        .limit(1)
    ).first()
    if row is None:
        return SlipState(SlipStatus.REDEEMED)
    redemption, code = row
    return SlipState(
        SlipStatus.REDEEMED,
        redemption.redeemed_at,
        redemption.staff_name,
        redemption.booth_id,
        code,
    )


def slip_state(
    uow: UnitOfWork, event_code: str, merchant_code: str, merchant_id: int, serial: int
) -> SlipState:
    """The slip as the event database has it now (a read: the verdict before confirming)."""
    with uow:
        s = uow.session
        _check_booth(s, event_code, merchant_code, merchant_id)
        event = current_event(s)
        slip = s.scalar(select(Slip).where(Slip.event_id == event.id, Slip.serial == serial))
        return _state(s, event.id, slip)


def redeem_online(
    uow: UnitOfWork,
    *,
    event_code: str,
    merchant_code: str,
    merchant_id: int,
    booth_id: str,
    serial: int,
    serve: Callable[[], BundleRedemption | None],
    clock: Clock | None = None,
    uid: str | None = None,
) -> tuple[SlipState, BundleRedemption | None]:
    """Redeem a slip at a booth on the LAN, straight into the event database.

    The slip row is locked first, so of two booths scanning one slip at once the second
    waits and then sees it redeemed. Only a free slip is served: ``serve`` records the
    redemption in the booth's own file (committed there first: the customer is served on
    it) and returns it, and the same redemption, with the booth's uid, is recorded here in
    this transaction. Returns the state found and the redemption (None when not served).

    With ``uid`` (the booth gateway's redemptions, whose booth commits after this answer) a
    redemption already recorded under that uid, under the same lock, is answered as the first
    time: ``serve``'s redemption again, with the slip's state as it is now (redeemed).
    """
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        merchant = _check_booth(s, event_code, merchant_code, merchant_id)
        state, served, recorded = _redeem_locked(s, merchant, booth_id, serial, serve, now, uid)
        if recorded:
            uow.commit()
        return state, served


def _redeem_locked(
    s: Session,
    merchant: Merchant,
    booth_id: str,
    serial: int,
    serve: Callable[[], BundleRedemption | None],
    now: datetime,
    uid: str | None,
) -> tuple[SlipState, BundleRedemption | None, bool]:
    """``redeem_online``'s work in the caller's transaction: lock and read the slip, answer a
    uid already recorded as the first time, else serve and record a free slip. Returns the
    state found, the redemption served (or None) and whether one was recorded now (then the
    caller commits)."""
    event = current_event(s)
    slip = s.scalar(
        select(Slip)
        .where(Slip.event_id == event.id, Slip.serial == serial)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    state = _state(s, event.id, slip)
    if uid is not None:
        earlier = s.scalar(select(Redemption).where(Redemption.uid == uid))
        if earlier is not None:
            # The booth asks again with the same redemption (its first answer was lost):
            # answered as the first time, nothing recorded twice.
            if (
                earlier.slip_serial != serial
                or earlier.merchant_id != merchant.id
                or earlier.booth_id != booth_id
            ):
                raise OnlineRefused(
                    _(
                        "This redemption's id was already used for another slip or booth; "
                        "nothing was recorded. Scan the slip again."
                    )
                )
            return state, serve() if earlier.conflict is None else None, False
    if not state.free:
        return state, None, False
    served = serve()
    if served is None:
        return state, None, False
    _record(s, event.id, event.code, merchant, booth_id, served, now, locked=(slip,))
    return state, served, True


# -- the booth gateway (gateway/booth_api.py): the same rules, asked over HTTPS ----------------


class SlipRefused(OnlineRefused):
    """A slip code the event's keys do not vouch for, or another merchant's: nothing written.
    ``verdict`` is the code's own (a ``slipcode.Verdict``), for the booth's screen."""

    def __init__(self, sentence: str, verdict: str) -> None:
        super().__init__(sentence)
        self.verdict = verdict


@dataclass(frozen=True)
class BoothSlip:
    """A slip as the event database answers a booth: the state, the offer and the customer's
    masked name; nothing more (no customer number, no points balance)."""

    state: SlipState
    serial: int
    offer_id: int
    offer_code: str
    offer_name: str
    quantity: int
    points: int
    masked_name: str


def booth_secret(uow: UnitOfWork, *, event_code: str, merchant_code: str, merchant_id: int) -> str:
    """The merchant's bundle secret, which seals its booths' requests to the gateway;
    ``OnlineRefused`` in words for another event, an unknown merchant or one without a pack."""
    with uow:
        return _secret_of(_check_booth(uow.session, event_code, merchant_code, merchant_id))


def _secret_of(merchant: Merchant) -> str:
    if not merchant.bundle_secret:
        raise OnlineRefused(
            _(
                "Merchant {code} has no pack from this event database yet; export its pack first."
            ).format(code=merchant.code)
        )
    return merchant.bundle_secret


# The event's public keys, which ``_read_code`` verifies every scanned slip with, and the code
# and name of the offer the slip names: built once, only the columns it uses (not the locked
# private key), in one round trip (issue #23: the offer was a statement of its own on every
# redemption). The offer is joined on the slip's word alone, as it is only shown; one row per
# key, the offer's columns on each (NULL for an offer the event does not have).
_PUBLIC_KEYS_AND_OFFER = (
    select(SigningKey.key_id, SigningKey.public_key, Offer.code, Offer.name)
    .outerjoin(Offer, Offer.id == bindparam("offer_id"))
    .where(SigningKey.event_id == bindparam("event_id"))
)


def _read_code(s: Session, merchant: Merchant, code: str, now: datetime) -> BoothSlip:
    """The slip a booth scanned, verified here with the event's own public keys (the booth's
    verdict is not trusted): signed by this event, for this merchant, not past its date.
    ``SlipRefused`` otherwise; the state is read without a lock."""
    event = current_event(s)
    decoded = slipcode.decode(code) if isinstance(code, str) else None
    rows = s.execute(
        _PUBLIC_KEYS_AND_OFFER,
        {"event_id": event.id, "offer_id": decoded[0].offer if decoded else None},
    ).all()
    keys = {
        bytes.fromhex(key_id): Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        for key_id, public_key, _code, _name in rows
    }
    today = now.astimezone(ZoneInfo(event.timezone)).date()
    check = slipcode.verify(
        code if isinstance(code, str) else "",
        public_keys=keys,
        event=slipcode.event_tag(event.code),
        merchant=merchant.id,
        today=today,
    )
    payload = check.payload
    if check.verdict != Verdict.VALID or payload is None:
        sentence = {
            Verdict.UNREADABLE: _("This is not a slip code; nothing was done."),
            Verdict.BAD_SIGNATURE: _(
                "This slip code was altered or forged (the event's keys do not vouch for it); "
                "nothing was done."
            ),
            Verdict.OTHER_EVENT: _("This slip belongs to another event; nothing was done."),
            Verdict.OTHER_MERCHANT: _(
                "This slip is for another merchant, not for {code}; nothing was done."
            ).format(code=merchant.code),
            Verdict.EXPIRED: _("This slip is past its redeem-by date; nothing was done."),
        }.get(check.verdict, verdict_label(check.verdict))
        raise SlipRefused(sentence, check.verdict)
    offer_code, offer_name = rows[0][2:] if rows else (None, None)  # verified: keys exist
    return BoothSlip(
        SlipState("unknown"),
        payload.serial,
        payload.offer,
        offer_code if offer_code is not None else str(payload.offer),
        offer_name if offer_name is not None else "",
        payload.quantity,
        payload.points,
        payload.masked_name,
    )


def check_slip_code(
    uow: UnitOfWork,
    *,
    event_code: str,
    merchant_code: str,
    merchant_id: int,
    code: str,
    clock: Clock | None = None,
) -> BoothSlip:
    """A booth's check before serving, by the slip code it scanned (the gateway's)."""
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        merchant = _check_booth(s, event_code, merchant_code, merchant_id)
        read = _read_code(s, merchant, code, now)
        slip = s.scalar(
            select(Slip).where(Slip.event_id == merchant.event_id, Slip.serial == read.serial)
        )
        return replace(read, state=_state(s, merchant.event_id, slip))


def redeem_slip_code(
    uow: UnitOfWork,
    *,
    event_code: str,
    merchant_code: str,
    merchant_id: int,
    booth_id: str,
    code: str,
    uid: str,
    seq: int,
    staff_name: str,
    redeemed_at: datetime,
    check_seal: Callable[[str], None],
    clock: Clock | None = None,
) -> tuple[BoothSlip, bool]:
    """A booth's redemption through the gateway: (the slip, served). The code is verified
    here and the redemption's offer, quantity and points are the signed slip's, not the
    booth's word; then it is recorded under the slip-row lock with the booth's uid, as
    ``redeem_online`` does (the booth commits it in its own file on this answer). The same
    uid again is answered as the first time.

    One transaction for all of it (issue #23: each transaction costs a BEGIN and a COMMIT,
    each read a round trip on the venue LAN): ``check_seal``, the gateway's check of the
    request's seal, is made here too, on the merchant's bundle secret as this transaction reads
    it, before anything else is read or written (``RequestSealError`` rolls it back). It is
    required: the seal is what authenticates a booth's write (no member of staff signs it)."""
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        merchant = _check_booth(s, event_code, merchant_code, merchant_id)
        check_seal(_secret_of(merchant))
        if not uid or len(uid) > 36 or seq < 1:
            raise OnlineRefused(_("The redemption lacks its id or number; nothing was recorded."))
        read = _read_code(s, merchant, code, now)
        redemption = BundleRedemption(
            uid,
            seq,
            read.serial,
            read.offer_id,
            read.offer_code,
            read.quantity,
            read.points,
            redeemed_at,
            staff_name.strip()[:64],
        )
        state, served, recorded = _redeem_locked(
            s, merchant, booth_id, read.serial, lambda: redemption, now, uid
        )
        if recorded:
            uow.commit()
    return replace(read, state=state), served is not None


@dataclass(frozen=True)
class ConflictRow:
    serial: int
    merchant_code: str
    booth_id: str
    booth_seq: int
    redeemed_at: datetime
    staff_name: str
    conflict: str


def redemption_conflicts(uow: UnitOfWork) -> list[ConflictRow]:
    """Every reported redemption that does not simply stand, for reconciliation."""
    with uow:
        s = uow.session
        event = current_event(s)
        return [
            ConflictRow(
                r.slip_serial,
                code,
                r.booth_id,
                r.booth_seq,
                r.redeemed_at,
                r.staff_name,
                r.conflict,
            )
            for r, code in s.execute(
                select(Redemption, Merchant.code)
                .join(Merchant, Merchant.id == Redemption.merchant_id)
                .where(Redemption.event_id == event.id, Redemption.conflict.is_not(None))
                .order_by(Redemption.slip_serial, Redemption.id)
            )
        ]


def merchants(uow: UnitOfWork) -> list[tuple[str, str]]:
    """(code, name) of the event's merchants, for choosing whose pack to export."""
    with uow:
        event = current_event(uow.session)
        return [
            (m.code, m.name)
            for m in uow.session.scalars(
                select(Merchant).where(Merchant.event_id == event.id).order_by(Merchant.code)
            )
        ]
