"""What a merchant booth does: install a pack, judge a scan, redeem, list the day, export.

``Booth`` keeps the installed pack, keys and revocations in memory (they change only when a
pack is installed), so judging a scan costs one signature check and one indexed lookup of the
slip serial; the 20 ms scan-to-verdict target holds with 100,000 earlier redemptions.
A redemption, its sequence number and its outbox entry are one ``BEGIN IMMEDIATE``
transaction with ``synchronous=FULL``: after a crash a redemption is either fully there or
not at all, and the unique slip serial refuses a second one whatever the screen did.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk import slipcode
from kiosk.booth_laptop.store import (
    BoothComplaint,
    BoothDatabase,
    BoothDelivery,
    BoothKey,
    BoothMerchant,
    BoothOffer,
    BoothOutbox,
    BoothPack,
    BoothRedemption,
    BoothRevocation,
    BoothSetting,
)
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.idempotency import RequestMismatch, expect
from kiosk.labels import verdict_label
from kiosk.merchant_pack import PackError, peek_pack, read_pack
from kiosk.models import FeedbackCategory
from kiosk.redemption_bundle import (
    Bundle,
    BundleComplaint,
    BundleDelivery,
    BundleRedemption,
    request_mac,
    request_message,
    write_bundle,
)
from kiosk.slipcode import Verdict
from kiosk.storage import file_error

CLOCK_TOLERANCE = timedelta(minutes=5)
DELIVER_ON_REDEEM = "deliver_on_redeem"  # booth setting "1": the service is the redemption
COMPLAINT_LENGTH = 500


class Confirmed(enum.Enum):
    """What an online booth's ``confirm`` says of a redemption written here, not committed."""

    REFUSED = "refused"  # the event database refused it: nothing is recorded here
    KEPT = "kept"  # served from the pack (no answer): recorded here, the catch-up delivers it
    DELIVERED = "delivered"  # the event database holds it: recorded here as delivered


class NoPackError(KioskError):
    """The booth has no merchant pack installed yet."""


class StaffNameMissing(KioskError):
    """A redemption without the name of who served: refused, so no record says "no name"."""


def require_staff_name(staff_name: str) -> str:
    """The booth staff's name, trimmed; ``StaffNameMissing`` when there is none."""
    name = staff_name.strip()
    if not name:
        raise StaffNameMissing(
            _(
                "Type your name first (once per shift): every redemption records who served "
                "the customer."
            )
        )
    return name[:64]


@dataclass(frozen=True)
class Elsewhere:
    """The merchant a slip is for, when it is not this booth's: where to send the customer."""

    code: str
    name: str
    booth: str


@dataclass(frozen=True)
class BoothInfo:
    event_code: str
    event_name: str
    event_date: date
    timezone: str
    merchant_id: int
    merchant_code: str
    merchant_name: str
    issued_at: datetime
    installed_at: datetime
    offers: int
    revoked: int
    booth_id: str


@dataclass(frozen=True)
class InstallResult:
    info: BoothInfo
    first: bool
    new_revocations: int


@dataclass(frozen=True)
class ScanResult:
    """The verdict for one scan, and what the screen says about it."""

    verdict: Verdict
    code: str = ""
    serial: int | None = None
    offer_id: int = 0
    offer_code: str = ""
    offer_name: str = ""
    quantity: int = 0
    points: int = 0
    masked_name: str = ""
    redeem_by: date | None = None
    redeemed: bool = False  # this scan recorded the redemption
    seq: int | None = None
    redeemed_at: datetime | None = None  # this redemption's, or the earlier one's
    redeemed_by: str = ""
    # Online on the venue LAN: the verdict was confirmed with the event database, and an
    # "already redeemed" was at another booth (when and by whom is the event database's).
    online: bool = False
    elsewhere: bool = False
    merchant_id: int = 0  # the merchant the slip is for (0: unread)
    go_to: Elsewhere | None = None  # another merchant's slip: whose, and at which booth
    # The answer to a redemption request already done (same request id): this booth redeemed
    # it at the first try, so serve the customer.
    replayed: bool = False


@dataclass(frozen=True)
class OfferTotal:
    offer_code: str
    offer_name: str
    redemptions: int
    quantity: int
    points: int


@dataclass(frozen=True)
class DayList:
    day: date
    rows: list[ScanResult]  # newest first
    totals: list[OfferTotal]
    pending: int  # redemptions the event database has not confirmed
    all_time: int = 0


@dataclass
class _State:
    info: BoothInfo
    keys: dict[bytes, Ed25519PublicKey]
    revoked: frozenset[int]
    offers: dict[int, BoothOffer]
    bundle_secret: str
    zone: ZoneInfo
    merchants: dict[int, Elsewhere]


class Scanner(ABC):
    """A booth that takes scans: ``Booth`` judges from its pack alone, ``OnlineBooth``
    (``kiosk.booth_laptop.online``) also asks the event database. The booth window and
    ``kiosk booth scan`` call ``scan`` on whichever they hold, so both share this one."""

    @abstractmethod
    def check(self, text: str) -> ScanResult:
        """The verdict for a scan, without serving."""

    @abstractmethod
    def redeem(
        self, text: str, staff_name: str = "", *, request_id: str | None = None
    ) -> ScanResult:
        """Serve the slip (once), or say why not."""

    def scan(
        self,
        text: str,
        staff_name: str = "",
        *,
        redeem: bool = False,
        request_id: str | None = None,
    ) -> ScanResult:
        if redeem:
            return self.redeem(text, staff_name, request_id=request_id)
        return self.check(text)


class Booth(Scanner):
    def __init__(self, database: BoothDatabase, clock: Clock | None = None) -> None:
        self.database = database
        self.clock = clock or Clock()
        self._state: _State | None = None
        self.delivers_on_redeem = False
        self.reload()

    # -- the installed pack -----------------------------------------------------------------

    def reload(self) -> None:
        with self.database.unit_of_work() as uow:
            s = uow.session
            pack = s.scalar(select(BoothPack).order_by(BoothPack.id.desc()).limit(1))
            setting = s.get(BoothSetting, DELIVER_ON_REDEEM)
            self.delivers_on_redeem = setting is not None and setting.value == "1"
            if pack is None:
                self._state = None
                return
            offers = {o.id: o for o in s.scalars(select(BoothOffer))}
            keys = {
                bytes.fromhex(k.key_id): Ed25519PublicKey.from_public_bytes(
                    bytes.fromhex(k.public_key)
                )
                for k in s.scalars(select(BoothKey))
            }
            revoked = frozenset(s.scalars(select(BoothRevocation.serial)))
            merchants = {
                m.id: Elsewhere(m.code, m.name, m.booth) for m in s.scalars(select(BoothMerchant))
            }
            info = BoothInfo(
                pack.event_code,
                pack.event_name,
                pack.event_date,
                pack.timezone,
                pack.merchant_id,
                pack.merchant_code,
                pack.merchant_name,
                pack.issued_at,
                pack.installed_at,
                len(offers),
                len(revoked),
                self.database.booth_id,
            )
            self._state = _State(
                info, keys, revoked, offers, pack.bundle_secret, ZoneInfo(pack.timezone), merchants
            )

    @property
    def info(self) -> BoothInfo | None:
        return self._state.info if self._state else None

    def _require(self) -> _State:
        if self._state is None:
            raise NoPackError(
                _(
                    "No merchant pack is installed on this booth yet. Install the pack file "
                    "from the event coordinator first."
                )
            )
        return self._state

    def install(self, data: bytes) -> InstallResult:
        """Install a merchant pack (the first one, or a later update with revocations)."""
        now = self.clock.now()
        state = self._state
        if state is not None:
            claimed = peek_pack(data)
            if claimed.event_code != state.info.event_code:
                raise PackError(
                    _(
                        "This pack is for another event ({event}); this booth belongs to "
                        "{ours}. Nothing was installed."
                    ).format(event=claimed.event_name, ours=state.info.event_name)
                )
            if claimed.merchant_id != state.info.merchant_id:
                raise PackError(
                    _(
                        "This pack is for {merchant}; this booth serves {ours}. Use a new "
                        "booth database for another merchant."
                    ).format(merchant=claimed.merchant_name, ours=state.info.merchant_name)
                )
            trusted = {kid.hex(): _raw_hex(key) for kid, key in state.keys.items()}
            pack, signer = read_pack(data, trusted)
            if pack.issued_at < state.info.issued_at:
                raise PackError(
                    _(
                        "This pack ({issued}) is older than the one installed ({installed}); "
                        "nothing was changed."
                    ).format(
                        issued=_local(pack.issued_at, state.zone),
                        installed=_local(state.info.issued_at, state.zone),
                    )
                )
        else:
            pack, signer = read_pack(data, None)
        with self.database.unit_of_work() as uow:
            s = uow.session
            s.add(
                BoothPack(
                    event_code=pack.event_code,
                    event_name=pack.event_name,
                    event_tag=pack.event_tag,
                    event_date=pack.event_date,
                    timezone=pack.timezone,
                    merchant_id=pack.merchant_id,
                    merchant_code=pack.merchant_code,
                    merchant_name=pack.merchant_name,
                    bundle_secret=pack.bundle_secret,
                    issued_at=pack.issued_at,
                    installed_at=now,
                    signed_by=signer,
                )
            )
            for offer in pack.offers:
                s.merge(
                    BoothOffer(
                        id=offer.id,
                        code=offer.code,
                        name=offer.name,
                        points_price=offer.points_price,
                        redeem_by=offer.redeem_by,
                    )
                )
            known_keys = set(s.scalars(select(BoothKey.key_id)))
            for kid, raw in pack.public_keys.items():
                if kid not in known_keys:
                    s.add(BoothKey(key_id=kid, public_key=raw))
            if pack.merchants:  # an older pack lists none: keep what a newer one said
                s.execute(delete(BoothMerchant))
                s.add_all(
                    BoothMerchant(id=m.id, code=m.code, name=m.name, booth=m.booth)
                    for m in pack.merchants
                )
            known = set(s.scalars(select(BoothRevocation.serial)))
            new = sorted(pack.revoked - known)
            s.add_all(BoothRevocation(serial=serial) for serial in new)
            uow.commit()
        self.reload()
        assert self._state is not None
        return InstallResult(self._state.info, state is None, len(new))

    # -- scanning ---------------------------------------------------------------------------

    def today(self) -> date:
        state = self._require()
        return self.clock.now().astimezone(state.zone).date()

    def _judge(self, text: str) -> ScanResult:
        """The verdict from the code alone (no database): signature, event, revocation,
        merchant, date."""
        state = self._require()
        text = text if isinstance(text, str) else ""
        check = slipcode.verify(
            text,
            public_keys=state.keys,
            event=slipcode.event_tag(state.info.event_code),
            merchant=state.info.merchant_id,
            today=self.clock.now().astimezone(state.zone).date(),
            revoked=state.revoked,
        )
        payload = check.payload
        if payload is None or check.verdict in (Verdict.OTHER_EVENT, Verdict.BAD_SIGNATURE):
            # Nothing from an unverified code is shown as if it were true.
            return ScanResult(check.verdict, code=text)
        offer = state.offers.get(payload.offer)
        go_to = None
        if check.verdict == Verdict.OTHER_MERCHANT:
            go_to = state.merchants.get(payload.merchant)
        return ScanResult(
            check.verdict,
            code=text,
            merchant_id=payload.merchant,
            go_to=go_to,
            serial=payload.serial,
            offer_id=payload.offer,
            offer_code=offer.code if offer else str(payload.offer),
            # Another merchant's offers are not in the pack: no name rather than a number.
            offer_name=offer.name if offer else "",
            quantity=payload.quantity,
            points=payload.points,
            masked_name=payload.masked_name,
            redeem_by=payload.redeem_by,
        )

    def check(self, text: str) -> ScanResult:
        """The verdict for a scanned code, without redeeming. Never raises for any text."""
        result = self._judge(text)
        if result.verdict != Verdict.VALID:
            return result
        with self.database.unit_of_work() as uow:
            earlier = uow.session.scalar(_BY_SERIAL, {"serial": result.serial})
        return result if earlier is None else _already(result, earlier)

    def seal(self, method: str, path: str, body: bytes) -> dict[str, str]:
        """The headers that seal a request of this booth to the booth gateway, under the
        pack's bundle secret (``kiosk.redemption_bundle.request_message``): the secret never
        leaves this object."""
        state = self._require()
        timestamp = str(int(self.clock.now().timestamp()))
        info = state.info
        message = request_message(
            method=method,
            path=path,
            timestamp=timestamp,
            event_code=info.event_code,
            merchant_code=info.merchant_code,
            merchant_id=info.merchant_id,
            booth_id=info.booth_id,
            body=body,
        )
        return {
            "X-Kiosk-Event": info.event_code,
            "X-Kiosk-Merchant": info.merchant_code,
            "X-Kiosk-Merchant-Id": str(info.merchant_id),
            "X-Kiosk-Booth": info.booth_id,
            "X-Kiosk-Time": timestamp,
            "X-Kiosk-Mac": request_mac(state.bundle_secret, message),
        }

    def request_uid(self, request_id: str) -> str:
        """The redemption uid of a request: the request id bound to this booth, so the same
        request finds its redemption again while uids stay unique across booths."""
        return hashlib.sha256(f"{self.database.booth_id}:{request_id}".encode()).hexdigest()[:32]

    def redeem(
        self,
        text: str,
        staff_name: str = "",
        *,
        request_id: str | None = None,
        confirm: Callable[[BundleRedemption], Confirmed] | None = None,
    ) -> ScanResult:
        """Judge the code and, when valid, record the redemption (all or nothing) with the
        name of who served; ``StaffNameMissing`` when there is none.

        With a ``request_id`` the redemption's uid is derived from it: a commit cut short by
        a full disk is found out before the screen says anything, and pressing Enter again
        for the same request answers "redeemed" (the first result) rather than "already
        redeemed", so the customer waiting for the first answer is served.

        ``confirm`` (the online booth's) is asked with the redemption written but not yet
        committed, the booth file's write lock held: ``Confirmed.REFUSED`` leaves nothing
        (the event database refused: the slip is not served here), ``KEPT`` commits it for
        the catch-up to deliver, ``DELIVERED`` commits it with its outbox row marked
        delivered, in the same commit (issue #23: a second transaction for the mark was a
        second fsync'd commit on every online redemption, and a crash between the two only
        made the catch-up send it again).
        """
        result = self._judge(text)
        if result.verdict != Verdict.VALID or result.serial is None:
            return result
        staff_name = require_staff_name(staff_name)
        now = self.clock.now()
        uid = self.request_uid(request_id) if request_id else uuid.uuid4().hex
        try:
            with self.database.unit_of_work() as uow:
                s = uow.session
                # BEGIN IMMEDIATE: the write lock is held from here, so the serial check and
                # the next sequence number cannot race another process on this file.
                earlier = s.scalar(_BY_SERIAL, {"serial": result.serial})
                if earlier is not None and earlier.uid == uid:
                    return ScanResult(
                        **{
                            **result.__dict__,
                            "redeemed": True,
                            "seq": earlier.seq,
                            "redeemed_at": earlier.redeemed_at,
                            "redeemed_by": earlier.staff_name,
                            "replayed": True,
                        }
                    )
                if earlier is not None:
                    return _already(result, earlier)
                if request_id and s.scalar(_SEQ_OF_UID, {"uid": uid}):
                    raise RequestMismatch(
                        _(
                            "The request {id} already redeemed another slip; nothing was done "
                            "now. Scan the slip again."
                        ).format(id=request_id)
                    )
                seq = (s.scalar(_LAST_SEQ) or 0) + 1
                # Core INSERTs of statements built once, on the transaction's connection: the
                # booth's rows need none of the ORM's bookkeeping (issue #23: building and
                # running them through the ORM was a fifth of a redemption's CPU).
                connection = s.connection()
                connection.execute(
                    _INSERT_REDEMPTION,
                    {
                        "seq": seq,
                        "uid": uid,
                        "slip_serial": result.serial,
                        "offer_id": result.offer_id,
                        "offer_code": result.offer_code,
                        "offer_name": result.offer_name,
                        "quantity": result.quantity,
                        "points": result.points,
                        "masked_name": result.masked_name,
                        "redeemed_at": now,
                        "staff_name": staff_name,
                    },
                )
                connection.execute(_INSERT_OUTBOX, {"redemption_seq": seq, "created_at": now})
                if self.delivers_on_redeem:
                    connection.execute(
                        _INSERT_DELIVERY,
                        {
                            "slip_serial": result.serial,
                            "delivered_at": now,
                            "staff_name": staff_name,
                        },
                    )
                confirmed = (
                    Confirmed.KEPT
                    if confirm is None
                    else confirm(
                        BundleRedemption(
                            uid,
                            seq,
                            result.serial,
                            result.offer_id,
                            result.offer_code,
                            result.quantity,
                            result.points,
                            now,
                            staff_name,
                        )
                    )
                )
                if confirmed is Confirmed.REFUSED:
                    return result  # rolled back: nothing recorded here
                if confirmed is Confirmed.DELIVERED:
                    s.execute(_DELIVERED, {"seq": seq, "at": self.clock.now()})
                expect(s, request_id or uid, lambda engine: _has_uid(engine, uid))
                uow.commit()
        except IntegrityError:  # another process redeemed it a moment ago
            return self.check(text)
        return ScanResult(
            **{
                **result.__dict__,
                "redeemed": True,
                "seq": seq,
                "redeemed_at": now,
                "redeemed_by": staff_name,
            }
        )

    # -- the day and the bundle -------------------------------------------------------------

    def day_list(self, day: date | None = None, limit: int = 500) -> DayList:
        """The day's redemptions (newest first) with totals per offer."""
        state = self._require()
        day = day or self.today()
        start = datetime.combine(day, datetime.min.time(), state.zone)
        end = start + timedelta(days=1)
        window = (BoothRedemption.redeemed_at >= start, BoothRedemption.redeemed_at < end)
        with self.database.unit_of_work() as uow:
            s = uow.session
            # The newest rows by sequence number (a primary-key scan), kept when they are of
            # the day: the day's rows are the newest ones unless the clock was changed.
            rows = [
                _as_result(r)
                for r in s.scalars(
                    select(BoothRedemption).order_by(BoothRedemption.seq.desc()).limit(limit)
                )
                if start <= r.redeemed_at < end
            ]
            totals = []
            for offer_id, n, quantity, points in s.execute(
                select(
                    BoothRedemption.offer_id,
                    func.count(),
                    func.sum(BoothRedemption.quantity),
                    func.sum(BoothRedemption.points),
                )
                .where(*window)
                .group_by(BoothRedemption.offer_id)
            ):
                offer = state.offers.get(offer_id)
                code = offer.code if offer else str(offer_id)
                name = offer.name if offer else _("offer {id}").format(id=offer_id)
                totals.append(OfferTotal(code, name, n, int(quantity), int(points)))
            totals.sort(key=lambda t: t.offer_code)
            pending = s.scalar(
                select(func.count())
                .select_from(BoothOutbox)
                .where(BoothOutbox.delivered_at.is_(None))
            )
            all_time = s.scalar(select(func.max(BoothRedemption.seq)))
        return DayList(day, rows, totals, int(pending or 0), int(all_time or 0))

    def bundle(self, *, only: int | None = None) -> tuple[bytes, int]:
        """The signed bundle of every redemption of this booth, and how many it holds; with
        every service delivered and complaint recorded here. ``only``: no redemptions, just
        the deliveries and complaints of that slip (the online booth sends them at once)."""
        state = self._require()
        with self.database.unit_of_work() as uow:
            s = uow.session
            redemptions = tuple(
                BundleRedemption(
                    r.uid,
                    r.seq,
                    r.slip_serial,
                    r.offer_id,
                    r.offer_code,
                    r.quantity,
                    r.points,
                    r.redeemed_at,
                    r.staff_name,
                )
                for r in s.scalars(select(BoothRedemption).order_by(BoothRedemption.seq))
            )
            deliveries, complaints = _after(s, None)
        if only is not None:  # just what was recorded after the redemption, for one slip
            redemptions = ()
            deliveries = tuple(d for d in deliveries if d.serial == only)
            complaints = tuple(c for c in complaints if c.serial == only)
        bundle = Bundle(
            event_code=state.info.event_code,
            merchant_id=state.info.merchant_id,
            merchant_code=state.info.merchant_code,
            booth_id=state.info.booth_id,
            exported_at=self.clock.now(),
            pack_issued_at=_first_issue(self.database),
            pack_installed_at=_first_install(self.database),
            redemptions=redemptions,
            deliveries=deliveries,
            complaints=complaints,
        )
        return write_bundle(bundle, state.bundle_secret), len(redemptions)

    # -- after the redemption: service delivered, complaints (issue #21) ---------------------

    def set_delivers_on_redeem(self, on: bool) -> None:
        """Whether this booth's services are delivered at the redemption itself (a meal, a
        ticket handed over): each redemption then also records its delivery."""
        self.set_setting(DELIVER_ON_REDEEM, "1" if on else "0")
        self.delivers_on_redeem = on

    def _redeemed_here(self, serial: int) -> BoothRedemption:
        with self.database.unit_of_work() as uow:
            row = uow.session.scalar(
                select(BoothRedemption).where(BoothRedemption.slip_serial == serial)
            )
        if row is None:
            raise KioskError(
                _("This booth has not redeemed slip {number}; nothing was recorded.").format(
                    number=slip_number(serial)
                )
            )
        return row

    def deliver(self, serial: int, staff_name: str) -> datetime:
        """Record that the service of a slip redeemed here was delivered now (a later press
        replaces the time). Returns the time recorded."""
        self._require()
        staff_name = require_staff_name(staff_name)
        self._redeemed_here(serial)
        now = self.clock.now()
        with self.database.unit_of_work() as uow:
            row = uow.session.get(BoothDelivery, serial)
            if row is None:
                uow.session.add(
                    BoothDelivery(slip_serial=serial, delivered_at=now, staff_name=staff_name)
                )
            else:
                row.delivered_at = now
                row.staff_name = staff_name
            uow.commit()
        return now

    def complain(self, serial: int, category: str, complaint: str, staff_name: str) -> str:
        """Record a customer's complaint on the spot for a slip redeemed here; its uid."""
        self._require()
        staff_name = require_staff_name(staff_name)
        complaint = " ".join(complaint.split())
        if category not in set(FeedbackCategory):
            raise KioskError(_("Choose what the complaint is about."))
        if not complaint:
            raise KioskError(_("Type the customer's complaint first."))
        if len(complaint) > COMPLAINT_LENGTH:
            raise KioskError(
                _("The complaint is too long (at most {n} characters).").format(n=COMPLAINT_LENGTH)
            )
        self._redeemed_here(serial)
        uid = uuid.uuid4().hex
        with self.database.unit_of_work() as uow:
            uow.session.add(
                BoothComplaint(
                    uid=uid,
                    slip_serial=serial,
                    category=category,
                    complaint=complaint,
                    said_at=self.clock.now(),
                    staff_name=staff_name,
                )
            )
            uow.commit()
        return uid

    def after(
        self, serials: Collection[int] | None = None
    ) -> tuple[dict[int, datetime], dict[int, int]]:
        """(delivered at per slip, complaints per slip) recorded at this booth; of the given
        slips only (the rows on screen), so a busy booth's refresh reads a few rows."""
        with self.database.unit_of_work() as uow:
            s = uow.session
            deliveries = select(BoothDelivery.slip_serial, BoothDelivery.delivered_at)
            complaints = select(BoothComplaint.slip_serial, func.count()).group_by(
                BoothComplaint.slip_serial
            )
            if serials is not None:
                wanted = sorted(set(serials))
                deliveries = deliveries.where(BoothDelivery.slip_serial.in_(wanted))
                complaints = complaints.where(BoothComplaint.slip_serial.in_(wanted))
            return (
                {serial: at for serial, at in s.execute(deliveries)},
                {serial: int(n) for serial, n in s.execute(complaints)},
            )

    def export(self, path: str | Path) -> int:
        """Write the bundle file (e.g. on a USB stick); how many redemptions it holds."""
        data, count = self.bundle()
        path = Path(path)
        try:
            write_atomic(path, data)  # a pulled or full USB stick leaves no half bundle
        except OSError as error:
            raise file_error(error, path) from None
        return count

    def redemption(self, seq: int) -> BundleRedemption:
        """One redemption of this booth as it travels to the event database."""
        with self.database.unit_of_work() as uow:
            r = uow.session.get(BoothRedemption, seq)
            assert r is not None
            return BundleRedemption(
                r.uid,
                r.seq,
                r.slip_serial,
                r.offer_id,
                r.offer_code,
                r.quantity,
                r.points,
                r.redeemed_at,
                r.staff_name,
            )

    def pending(self) -> int:
        """Redemptions the event database has not confirmed yet."""
        with self.database.unit_of_work() as uow:
            return int(
                uow.session.scalar(
                    select(func.count())
                    .select_from(BoothOutbox)
                    .where(BoothOutbox.delivered_at.is_(None))
                )
                or 0
            )

    def setting(self, key: str) -> str:
        with self.database.unit_of_work() as uow:
            row = uow.session.get(BoothSetting, key)
            return row.value if row is not None else ""

    def set_setting(self, key: str, value: str) -> None:
        with self.database.unit_of_work() as uow:
            row = uow.session.get(BoothSetting, key)
            if row is None:
                uow.session.add(BoothSetting(key=key, value=value))
            else:
                row.value = value
            uow.commit()

    def mark_delivered(self, up_to_seq: int) -> None:
        """The event database holds every redemption up to ``up_to_seq``."""
        with self.database.unit_of_work() as uow:
            uow.session.execute(
                update(BoothOutbox)
                .where(BoothOutbox.redemption_seq <= up_to_seq, BoothOutbox.delivered_at.is_(None))
                .values(delivered_at=self.clock.now())
            )
            uow.commit()

    def clock_warning(self) -> str | None:
        """A sentence when this laptop's clock is visibly wrong (recorded in bundles anyway)."""
        state = self._state
        if state is None:
            return None
        now = self.clock.now()
        if now < state.info.issued_at - CLOCK_TOLERANCE:
            return _(
                "This laptop's clock is behind the event's (the pack was made at {issued}); "
                "redemption times will be off. Set the clock if you can."
            ).format(issued=_local(state.info.issued_at, state.zone))
        local = now.astimezone(state.zone).date()
        if local != state.info.event_date:
            return _(
                "This laptop's date is {today}, the event is on {day}: check the clock."
            ).format(today=local.isoformat(), day=state.info.event_date.isoformat())
        return None


def _after(
    s: Session, serial: int | None
) -> tuple[tuple[BundleDelivery, ...], tuple[BundleComplaint, ...]]:
    """The deliveries and complaints recorded at this booth (of one slip)."""
    deliveries = select(BoothDelivery).order_by(BoothDelivery.slip_serial)
    complaints = select(BoothComplaint).order_by(BoothComplaint.id)
    if serial is not None:
        deliveries = deliveries.where(BoothDelivery.slip_serial == serial)
        complaints = complaints.where(BoothComplaint.slip_serial == serial)
    return (
        tuple(
            BundleDelivery(d.slip_serial, d.delivered_at, d.staff_name)
            for d in s.scalars(deliveries)
        ),
        tuple(
            BundleComplaint(c.uid, c.slip_serial, c.category, c.complaint, c.said_at, c.staff_name)
            for c in s.scalars(complaints)
        ),
    )


# A scan's and a redemption's statements, built once with bound parameters (issue #23).
_BY_SERIAL = select(BoothRedemption).where(BoothRedemption.slip_serial == bindparam("serial"))
_SEQ_OF_UID = select(BoothRedemption.seq).where(BoothRedemption.uid == bindparam("uid"))
_LAST_SEQ = select(func.max(BoothRedemption.seq))
_INSERT_REDEMPTION = insert(BoothRedemption.__table__)
_INSERT_OUTBOX = insert(BoothOutbox.__table__)
_INSERT_DELIVERY = insert(BoothDelivery.__table__)
# One redemption's outbox row marked delivered: the event database holds it.
_DELIVERED = (
    update(BoothOutbox)
    .where(BoothOutbox.redemption_seq == bindparam("seq"), BoothOutbox.delivered_at.is_(None))
    .values(delivered_at=bindparam("at"))
)


def _has_uid(engine: Engine, uid: str) -> bool:
    """Whether the booth file holds the redemption ``uid`` (asked after a failed commit)."""
    with engine.connect() as connection:
        found = connection.scalar(select(BoothRedemption.seq).where(BoothRedemption.uid == uid))
        connection.rollback()
        return found is not None


def _raw_hex(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _already(result: ScanResult, earlier: BoothRedemption) -> ScanResult:
    return ScanResult(
        **{
            **result.__dict__,
            "verdict": Verdict.ALREADY_REDEEMED,
            "seq": earlier.seq,
            "redeemed_at": earlier.redeemed_at,
            "redeemed_by": earlier.staff_name,
        }
    )


def _as_result(r: BoothRedemption) -> ScanResult:
    return ScanResult(
        Verdict.VALID,
        serial=r.slip_serial,
        offer_id=r.offer_id,
        offer_code=r.offer_code,
        offer_name=r.offer_name,
        quantity=r.quantity,
        points=r.points,
        masked_name=r.masked_name,
        redeemed=True,
        seq=r.seq,
        redeemed_at=r.redeemed_at,
        redeemed_by=r.staff_name,
    )


def _first_issue(database: BoothDatabase) -> datetime:
    with database.unit_of_work() as uow:
        first = uow.session.scalar(select(BoothPack).order_by(BoothPack.id).limit(1))
        assert first is not None
        return first.issued_at


def _first_install(database: BoothDatabase) -> datetime:
    with database.unit_of_work() as uow:
        first = uow.session.scalar(select(BoothPack).order_by(BoothPack.id).limit(1))
        assert first is not None
        return first.installed_at


def slip_number(serial: int | None) -> str:
    return f"No. {serial:06d}" if serial is not None else ""


def describe(result: ScanResult, timezone: str) -> tuple[str, str]:
    """(headline, detail) for the screen and the command line: words, never colour alone."""
    zone = ZoneInfo(timezone)
    what = ""
    if result.serial is not None and result.offer_name:
        what = _("{offer} × {quantity} · {name} · slip {number}").format(
            offer=result.offer_name,
            quantity=result.quantity,
            name=result.masked_name,
            number=slip_number(result.serial),
        )
    elif result.serial is not None:
        what = _("{name} · slip {number}").format(
            name=result.masked_name, number=slip_number(result.serial)
        )
    verdict = result.verdict
    # Served and waiting differ in words and sign, not only in colour: "✓" is said only once
    # the redemption is recorded.
    if verdict == Verdict.VALID and result.redeemed:
        return _("✓ Redeemed: serve the customer"), what
    if verdict == Verdict.VALID:
        return _("Valid, NOT redeemed yet: press Enter to redeem"), what
    if verdict == Verdict.ALREADY_REDEEMED:
        at = result.redeemed_at.astimezone(zone).strftime("%H:%M") if result.redeemed_at else ""
        by = result.redeemed_by or _("(no name)")
        detail = _("This slip was already used; do not serve again.")
        headline = _("Already redeemed at {time} by {name}")
        if result.elsewhere:
            headline = _("Already redeemed at another booth at {time} by {name}")
        return (
            headline.format(time=at, name=by),
            "\n".join(x for x in (detail, what) if x),
        )
    detail = {
        Verdict.OTHER_MERCHANT: _("This slip is for another merchant's service; do not serve."),
        Verdict.OTHER_EVENT: _("This slip belongs to another event; do not serve."),
        Verdict.EXPIRED: _("The slip could be redeemed until {date}; do not serve."),
        Verdict.REVOKED: _("The activation desk voided this slip; do not serve."),
        Verdict.BAD_SIGNATURE: _(
            "The code was altered or forged; do not serve, and tell the coordinator."
        ),
        Verdict.UNREADABLE: _("Not a slip code. Scan again, or type the code by hand."),
    }[verdict]
    if verdict == Verdict.EXPIRED and result.redeem_by:
        detail = detail.format(date=result.redeem_by.isoformat())
    go_to = result.go_to
    if verdict == Verdict.OTHER_MERCHANT and go_to is not None:
        # Said to the customer, big: where to go (the pack lists every merchant's booth).
        headline = (
            _("Go to booth {booth}: {merchant}").format(booth=go_to.booth, merchant=go_to.name)
            if go_to.booth
            else _("Go to {merchant}").format(merchant=go_to.name)
        )
        return headline, "\n".join(x for x in (detail, what) if x)
    return verdict_label(verdict), "\n".join(x for x in (detail, what) if x)
