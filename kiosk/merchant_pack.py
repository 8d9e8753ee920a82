"""The merchant pack file: what a booth needs to judge slips alone, signed by the event.

JSON ``{"format", "version", "body", "signatures"}``; ``signatures`` maps a key id to an
Ed25519 signature over the canonical JSON of ``body`` (sorted keys, no spaces). The event signs
with every key it holds, so a booth that trusts a key retired since still accepts an update
after a key rotation. The body holds the event, the merchant, its offers, the event's public
keys, the revocation list (voided slip serials) and the merchant's bundle secret; never a
private key, never customer data. ``merchants`` (every merchant of the event with its booth) lets
a booth send a customer with another merchant's slip to the right booth; a pack made before it
existed has none, and the booth then says only that the slip is for another merchant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk import boundedjson as bj
from kiosk import slipcode
from kiosk.audit import canonical_json
from kiosk.errors import KioskError
from kiosk.i18n import _

FORMAT = "kiosk-merchant-pack"
VERSION = 1


class PackError(KioskError):
    """A pack that cannot be installed; the booth is unchanged."""


@dataclass(frozen=True)
class PackOffer:
    id: int
    code: str
    name: str
    points_price: int
    redeem_by: date


@dataclass(frozen=True)
class PackMerchant:
    """A merchant of the event, as a booth names it to a customer at the wrong booth."""

    id: int
    code: str
    name: str
    booth: str  # where it stands at the venue, e.g. "A1"; "" when not set


@dataclass(frozen=True)
class Pack:
    event_code: str
    event_name: str
    event_date: date
    timezone: str
    merchant_id: int
    merchant_code: str
    merchant_name: str
    offers: tuple[PackOffer, ...]
    public_keys: dict[str, str]  # key id (hex) -> raw public key (hex)
    revoked: frozenset[int]
    bundle_secret: str
    issued_at: datetime
    merchants: tuple[PackMerchant, ...] = ()

    @property
    def event_tag(self) -> str:
        return slipcode.event_tag(self.event_code).hex()

    def body(self) -> dict[str, Any]:
        return {
            "event": {
                "code": self.event_code,
                "name": self.event_name,
                "date": self.event_date.isoformat(),
                "timezone": self.timezone,
                "tag": self.event_tag,
            },
            "merchant": {
                "id": self.merchant_id,
                "code": self.merchant_code,
                "name": self.merchant_name,
            },
            "offers": [
                {
                    "id": o.id,
                    "code": o.code,
                    "name": o.name,
                    "points_price": o.points_price,
                    "redeem_by": o.redeem_by.isoformat(),
                }
                for o in self.offers
            ],
            "public_keys": [
                {"key_id": k, "public_key": v} for k, v in sorted(self.public_keys.items())
            ],
            "revoked": sorted(self.revoked),
            "bundle_secret": self.bundle_secret,
            "issued_at": self.issued_at.isoformat(),
        } | (
            {
                "merchants": [
                    {"id": m.id, "code": m.code, "name": m.name, "booth": m.booth}
                    for m in sorted(self.merchants, key=lambda m: m.id)
                ]
            }
            if self.merchants
            else {}
        )


def sign_pack(pack: Pack, private_keys: list[Ed25519PrivateKey]) -> bytes:
    """The pack file's bytes, signed by every key given."""
    body = pack.body()
    message = canonical_json(body).encode()
    signatures = {
        slipcode.key_id(key.public_key()).hex(): key.sign(message).hex() for key in private_keys
    }
    document = {"format": FORMAT, "version": VERSION, "body": body, "signatures": signatures}
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


# A pack holds one merchant's offers, the event's merchants and keys and the revocation list
# (voided serials): a few hundred KiB at the largest event. A larger file is not a pack.
MAX_BYTES = 16 * 1024 * 1024
MAX_ITEMS = 200_000  # per list: offers, merchants, keys, revoked serials
U16 = 2**16 - 1  # a merchant's and an offer's id travel in a slip code as 16 bits
U32 = 2**32 - 1  # points travel in a slip code as 32 bits


def _not_a_pack(reason: str | None = None) -> PackError:
    if reason is None:
        return PackError(_("This file is not a merchant pack, or it is damaged."))
    return PackError(
        _("This file is not a merchant pack, or it is damaged: {reason}.").format(reason=reason)
    )


def _date(value: Any, field: str) -> date:
    try:
        found = date.fromisoformat(bj.text(value, field, 32))
    except ValueError:
        raise bj.Malformed(_("its {field} is missing or malformed").format(field=field)) from None
    return bj.plausible(found, field)


def _time(value: Any, field: str) -> datetime:
    try:
        found = datetime.fromisoformat(bj.text(value, field, 64))
    except ValueError:
        raise bj.Malformed(_("its {field} is missing or malformed").format(field=field)) from None
    if found.tzinfo is None:
        raise bj.Malformed(_("its {field} has no time zone").format(field=field))
    return bj.plausible(found, field)


def _parse_body(body: Any) -> Pack:
    """The pack in ``body``: every field of its type and range, or ``Malformed``."""
    event = bj.obj(bj.member(body, "event"), "event")
    merchant = bj.obj(bj.member(body, "merchant"), "merchant")
    offers = []
    for o in bj.array(bj.member(body, "offers"), "offers", MAX_ITEMS):
        o = bj.obj(o, "offers")
        offers.append(
            PackOffer(
                bj.integer(bj.member(o, "id", "offer id"), "offer id", 0, U16),
                bj.text(bj.member(o, "code", "offer code"), "offer code", 64),
                bj.text(bj.member(o, "name", "offer name"), "offer name", 500),
                bj.integer(bj.member(o, "points_price", "points_price"), "points_price", 0, U32),
                _date(bj.member(o, "redeem_by", "redeem_by"), "redeem_by"),
            )
        )
    keys: dict[str, str] = {}
    for k in bj.array(bj.member(body, "public_keys"), "public_keys", MAX_ITEMS):
        k = bj.obj(k, "public_keys")
        kid = bj.text(bj.member(k, "key_id", "key_id"), "key_id", 64)
        keys[kid] = bj.text(bj.member(k, "public_key", "public_key"), "public_key", 64)
    merchants = []
    for m in bj.array(body.get("merchants", []), "merchants", MAX_ITEMS):
        m = bj.obj(m, "merchants")
        merchants.append(
            PackMerchant(
                bj.integer(bj.member(m, "id", "merchant id"), "merchant id", 0, U16),
                bj.text(bj.member(m, "code", "merchant code"), "merchant code", 64),
                bj.text(bj.member(m, "name", "merchant name"), "merchant name", 500),
                bj.text(m.get("booth", ""), "booth", 64),
            )
        )
    pack = Pack(
        event_code=bj.text(bj.member(event, "code", "event code"), "event code", 64),
        event_name=bj.text(bj.member(event, "name", "event name"), "event name", 500),
        event_date=_date(bj.member(event, "date", "event date"), "event date"),
        timezone=bj.text(bj.member(event, "timezone", "timezone"), "timezone", 64),
        merchant_id=bj.integer(bj.member(merchant, "id", "merchant id"), "merchant id", 0, U16),
        merchant_code=bj.text(bj.member(merchant, "code", "merchant code"), "merchant code", 64),
        merchant_name=bj.text(bj.member(merchant, "name", "merchant name"), "merchant name", 500),
        offers=tuple(offers),
        public_keys=keys,
        revoked=frozenset(
            bj.integer(s, "revoked", 0, U32)
            for s in bj.array(bj.member(body, "revoked"), "revoked", MAX_ITEMS)
        ),
        bundle_secret=bj.text(bj.member(body, "bundle_secret"), "bundle_secret", 256),
        issued_at=_time(bj.member(body, "issued_at"), "issued_at"),
        merchants=tuple(merchants),
    )
    if event.get("tag") != pack.event_tag:
        raise bj.Malformed(_("its event tag does not match its event code"))
    try:
        bytes.fromhex(pack.bundle_secret)
        ZoneInfo(pack.timezone)
    except (ValueError, KeyError, OSError):
        raise bj.Malformed(_("its bundle secret or time zone is malformed")) from None
    for kid, raw in pack.public_keys.items():
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw))
        except ValueError:
            raise bj.Malformed(
                _("its public key {key} is malformed").format(key=kid[:16])
            ) from None
        if slipcode.key_id(key).hex() != kid:
            raise bj.Malformed(_("its key id {key} does not match its key").format(key=kid[:16]))
    return pack


def _load(data: bytes) -> tuple[dict[str, Any], Pack]:
    try:
        document = bj.loads(data, max_bytes=MAX_BYTES)
    except bj.Malformed as malformed:
        raise _not_a_pack(malformed.reason) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _not_a_pack()
    if document.get("version") != VERSION:
        raise PackError(
            _("This merchant pack has format version {version}; update kiosk.").format(
                version=str(document.get("version"))[:20]
            )
        )
    try:
        return document, _parse_body(bj.obj(document.get("body"), "body"))
    except bj.Malformed as malformed:
        raise _not_a_pack(malformed.reason) from None


def peek_pack(data: bytes) -> Pack:
    """The pack's content WITHOUT checking its signature: only to word a refusal."""
    return _load(data)[1]


def read_pack(data: bytes, trusted: dict[str, str] | None) -> tuple[Pack, str]:
    """The pack and the id of the key whose signature was accepted.

    ``trusted`` are the keys a booth already holds (None on a first install: then the pack's
    own keys are trusted). Raises ``PackError`` with a sentence for anything else.
    """
    document, pack = _load(data)
    message = canonical_json(document["body"]).encode()
    keys = trusted if trusted is not None else pack.public_keys
    signatures = document.get("signatures")
    for kid, signature in sorted(signatures.items() if isinstance(signatures, dict) else []):
        raw = keys.get(kid)
        if raw is None or not isinstance(signature, str):
            continue
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw)).verify(
                bytes.fromhex(signature), message
            )
        except (InvalidSignature, ValueError):
            continue
        return pack, kid
    raise PackError(
        _(
            "The merchant pack's signature does not match (it was altered, or it was not "
            "made by this event); ask the coordinator for a new pack."
        )
    )
