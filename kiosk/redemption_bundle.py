"""The redemption bundle file: what a booth reports to the event database.

JSON ``{"format", "version", "body", "mac"}``; ``mac`` is HMAC-SHA256 over the canonical JSON
of ``body`` with the merchant's bundle secret, which the pack brought and the event database
keeps. A booth cannot sign with the event's private key (it must never hold one), and a MAC
is enough for what the event side asks: is this bundle intact and from a booth of this
merchant. The body always lists EVERY redemption of the booth, so a lost USB stick costs
nothing and importing twice adds nothing (each redemption carries a random uid).

Clock: the booth's clock may be wrong and nobody at a booth may notice. So the body carries
the booth's clock at export, and when the pack was made (event clock) and installed (booth
clock); the event side compares its own clock at import, and shows both figures.

After the event (issue #21) the body may also carry ``deliveries`` (when each slip's service
was delivered) and ``complaints`` (what a customer complained of at the booth). Both keys are
optional and written only when the booth has any: a bundle without them, from an older
booth, reads as before, and they are under the same MAC as everything else in the body. The
version stays 1, so an older event side still reads a newer booth's redemptions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk import boundedjson as bj
from kiosk.audit import canonical_json
from kiosk.errors import KioskError
from kiosk.i18n import _

FORMAT = "kiosk-redemption-bundle"
VERSION = 1


class BundleError(KioskError):
    """A bundle that cannot be imported; nothing was written."""


@dataclass(frozen=True)
class BundleRedemption:
    uid: str
    seq: int
    serial: int
    offer_id: int
    offer_code: str
    quantity: int
    points: int
    redeemed_at: datetime  # booth clock
    staff_name: str


@dataclass(frozen=True)
class BundleDelivery:
    """When a slip's service was delivered (booth clock): at the redemption for an immediate
    service, or when the booth pressed "Service delivered"."""

    serial: int
    delivered_at: datetime
    staff_name: str


@dataclass(frozen=True)
class BundleComplaint:
    """A complaint the booth staff typed on the spot for a slip this booth redeemed."""

    uid: str
    serial: int
    category: str  # a FeedbackCategory value
    complaint: str
    said_at: datetime  # booth clock
    staff_name: str


@dataclass(frozen=True)
class Bundle:
    event_code: str
    merchant_id: int
    merchant_code: str
    booth_id: str
    exported_at: datetime  # booth clock
    pack_issued_at: datetime  # event clock
    pack_installed_at: datetime  # booth clock
    redemptions: tuple[BundleRedemption, ...]
    deliveries: tuple[BundleDelivery, ...] = ()
    complaints: tuple[BundleComplaint, ...] = ()

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event": self.event_code,
            "merchant": {"id": self.merchant_id, "code": self.merchant_code},
            "booth_id": self.booth_id,
            "clock": {
                "exported_at": self.exported_at.isoformat(),
                "pack_issued_at": self.pack_issued_at.isoformat(),
                "pack_installed_at": self.pack_installed_at.isoformat(),
            },
            "redemptions": [
                {
                    "uid": r.uid,
                    "seq": r.seq,
                    "serial": r.serial,
                    "offer_id": r.offer_id,
                    "offer_code": r.offer_code,
                    "quantity": r.quantity,
                    "points": r.points,
                    "redeemed_at": r.redeemed_at.isoformat(),
                    "staff_name": r.staff_name,
                }
                for r in self.redemptions
            ],
        }
        if self.deliveries:
            body["deliveries"] = [
                {
                    "serial": d.serial,
                    "delivered_at": d.delivered_at.isoformat(),
                    "staff_name": d.staff_name,
                }
                for d in self.deliveries
            ]
        if self.complaints:
            body["complaints"] = [
                {
                    "uid": c.uid,
                    "serial": c.serial,
                    "category": c.category,
                    "complaint": c.complaint,
                    "said_at": c.said_at.isoformat(),
                    "staff_name": c.staff_name,
                }
                for c in self.complaints
            ]
        return body

    @property
    def install_skew_s(self) -> float:
        """Booth clock at install minus event clock at pack export: at least the copy time,
        so a negative value means the booth's clock is behind."""
        return (self.pack_installed_at - self.pack_issued_at).total_seconds()


def _mac(secret: str, body: dict[str, Any]) -> str:
    return hmac.new(
        bytes.fromhex(secret), canonical_json(body).encode(), hashlib.sha256
    ).hexdigest()


def write_bundle(bundle: Bundle, secret: str) -> bytes:
    body = bundle.body()
    document = {"format": FORMAT, "version": VERSION, "body": body, "mac": _mac(secret, body)}
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


# A booth's bundle lists every redemption of the day, a few hundred at the busiest booth
# (about 300 bytes each), with its deliveries and complaints. A larger file is not a bundle.
MAX_BYTES = 16 * 1024 * 1024
MAX_ITEMS = 50_000  # per list: redemptions, deliveries, complaints
U8 = 2**8 - 1  # a slip's quantity travels in its code as 8 bits
U16 = 2**16 - 1  # a merchant's and an offer's id: 16 bits
U32 = 2**32 - 1  # points: 32 bits


def _not_a_bundle(reason: str | None = None) -> BundleError:
    if reason is None:
        return BundleError(_("This file is not a redemption bundle, or it is damaged."))
    return BundleError(
        _("This file is not a redemption bundle, or it is damaged: {reason}.").format(reason=reason)
    )


def _time(value: Any, field: str) -> datetime:
    try:
        found = datetime.fromisoformat(bj.text(value, field, 64))
    except ValueError:
        raise bj.Malformed(_("its {field} is missing or malformed").format(field=field)) from None
    if found.tzinfo is None:
        raise bj.Malformed(_("its {field} has no time zone").format(field=field))
    return bj.plausible(found, field)


def _redemption(r: Any) -> BundleRedemption:
    r = bj.obj(r, "redemptions")
    return BundleRedemption(
        uid=bj.text(bj.member(r, "uid"), "uid", 36),
        seq=bj.integer(bj.member(r, "seq"), "seq"),
        serial=bj.integer(bj.member(r, "serial"), "serial"),
        offer_id=bj.integer(bj.member(r, "offer_id"), "offer_id", 0, U16),
        offer_code=bj.text(bj.member(r, "offer_code"), "offer_code", 64),
        quantity=bj.integer(bj.member(r, "quantity"), "quantity", 0, U8),
        points=bj.integer(bj.member(r, "points"), "points", 0, U32),
        redeemed_at=_time(bj.member(r, "redeemed_at"), "redeemed_at"),
        staff_name=bj.text(bj.member(r, "staff_name"), "staff_name", 500)[:64],
    )


def _delivery(d: Any) -> BundleDelivery:
    d = bj.obj(d, "deliveries")
    return BundleDelivery(
        serial=bj.integer(bj.member(d, "serial"), "serial"),
        delivered_at=_time(bj.member(d, "delivered_at"), "delivered_at"),
        staff_name=bj.text(d.get("staff_name", ""), "staff_name", 500)[:64],
    )


def _complaint(c: Any) -> BundleComplaint:
    c = bj.obj(c, "complaints")
    return BundleComplaint(
        uid=bj.text(bj.member(c, "uid"), "uid", 36),
        serial=bj.integer(bj.member(c, "serial"), "serial"),
        category=bj.text(bj.member(c, "category"), "category", 32),
        complaint=bj.text(c.get("complaint", ""), "complaint", 5000)[:500],
        said_at=_time(bj.member(c, "said_at"), "said_at"),
        staff_name=bj.text(c.get("staff_name", ""), "staff_name", 500)[:64],
    )


def _parse_body(body: Any) -> Bundle:
    """The bundle in ``body``: every field of its type and range, or ``Malformed``."""
    merchant = bj.obj(bj.member(body, "merchant"), "merchant")
    clock = bj.obj(bj.member(body, "clock"), "clock")
    return Bundle(
        event_code=bj.text(bj.member(body, "event"), "event", 64),
        merchant_id=bj.integer(bj.member(merchant, "id", "merchant id"), "merchant id", 0, U16),
        merchant_code=bj.text(bj.member(merchant, "code", "merchant code"), "merchant code", 64),
        booth_id=bj.text(bj.member(body, "booth_id"), "booth_id", 36),
        exported_at=_time(bj.member(clock, "exported_at"), "exported_at"),
        pack_issued_at=_time(bj.member(clock, "pack_issued_at"), "pack_issued_at"),
        pack_installed_at=_time(bj.member(clock, "pack_installed_at"), "pack_installed_at"),
        redemptions=tuple(
            _redemption(r)
            for r in bj.array(bj.member(body, "redemptions"), "redemptions", MAX_ITEMS)
        ),
        deliveries=tuple(
            _delivery(d) for d in bj.array(body.get("deliveries", []), "deliveries", MAX_ITEMS)
        ),
        complaints=tuple(
            _complaint(c) for c in bj.array(body.get("complaints", []), "complaints", MAX_ITEMS)
        ),
    )


def peek_bundle(data: bytes) -> tuple[Bundle, dict[str, Any], str]:
    """(bundle, body, mac) WITHOUT checking the MAC: the event side needs the merchant first
    to find the secret. Every field is checked for its type and range here, so nothing
    downstream (the MAC, the import's queries) meets a value it cannot take."""
    try:
        document = bj.loads(data, max_bytes=MAX_BYTES)
    except bj.Malformed as malformed:
        raise _not_a_bundle(malformed.reason) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _not_a_bundle()
    if document.get("version") != VERSION:
        raise BundleError(
            _("This redemption bundle has format version {version}; update kiosk.").format(
                version=str(document.get("version"))[:20]
            )
        )
    try:
        body = bj.obj(document.get("body"), "body")
        bundle = _parse_body(body)
        mac = bj.text(bj.member(document, "mac"), "mac", 64)
    except bj.Malformed as malformed:
        raise _not_a_bundle(malformed.reason) from None
    return bundle, dict(body), mac


def check_mac(body: dict[str, Any], mac: str, secret: str) -> None:
    # As bytes: compare_digest refuses a str with a character beyond ASCII (a TypeError).
    if not hmac.compare_digest(_mac(secret, body).encode(), mac.encode("utf-8", "replace")):
        raise BundleError(
            _(
                "The redemption bundle was altered or is not from a booth of this merchant "
                "(its seal does not match); nothing was imported."
            )
        )


# -- a booth's request to the booth gateway (gateway/booth_api.py) ----------------------------

# How far a request's time may be from the gateway's clock. The window only bounds how long a
# captured request can be replayed, and replaying one changes nothing (a redemption is
# idempotent by its uid, a bundle by its redemptions' uids, a check only reads); wide enough
# for a booth laptop whose clock nobody set to the second.
REQUEST_WINDOW_S = 300


class RequestSealError(KioskError):
    """A request to the booth gateway whose seal does not match, or whose time is stale."""


def request_message(
    *,
    method: str,
    path: str,
    timestamp: str,
    event_code: str,
    merchant_code: str,
    merchant_id: int,
    booth_id: str,
    body: bytes,
) -> bytes:
    """What a booth's request seal covers: who asks (event, merchant, booth), what (method,
    path and a hash of the body) and when, one per line."""
    return "\n".join(
        [
            method.upper(),
            path,
            timestamp,
            event_code,
            merchant_code,
            str(merchant_id),
            booth_id,
            hashlib.sha256(body).hexdigest(),
        ]
    ).encode()


def request_mac(secret: str, message: bytes) -> str:
    """HMAC-SHA256 of a request under the merchant's bundle secret (the pack's): the same
    secret that seals the booth's bundles, so the booth holds nothing more than its pack."""
    return hmac.new(bytes.fromhex(secret), message, hashlib.sha256).hexdigest()


def check_request_mac(message: bytes, mac: str, secret: str) -> None:
    if not hmac.compare_digest(
        request_mac(secret, message).encode(), mac.encode("utf-8", "replace")
    ):
        raise RequestSealError(
            _(
                "The request's seal does not match this merchant's pack (another merchant's "
                "booth, or an altered request); nothing was done."
            )
        )


def check_request_time(timestamp: str, now: datetime) -> None:
    """A request's time (Unix seconds, the booth's clock) within the window of ``now``."""
    try:
        sent = float(timestamp)
        if not math.isfinite(sent):
            raise ValueError(timestamp)
    except ValueError:
        raise RequestSealError(_("The request carries no valid time; nothing was done.")) from None
    off = sent - now.timestamp()
    if off < -REQUEST_WINDOW_S:
        raise RequestSealError(
            _(
                "The booth's clock is {minutes} minutes behind the gateway's (or the request "
                "is old); nothing was done. Set the booth laptop's clock."
            ).format(minutes=round(-off / 60))
        )
    if off > REQUEST_WINDOW_S:
        raise RequestSealError(
            _(
                "The booth's clock is {minutes} minutes ahead of the gateway's; nothing was "
                "done. Set the booth laptop's clock."
            ).format(minutes=round(off / 60))
        )
