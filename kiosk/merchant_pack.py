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

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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


def _not_a_pack() -> PackError:
    return PackError(_("This file is not a merchant pack, or it is damaged."))


def _parse_body(body: dict[str, Any]) -> Pack:
    event, merchant = body["event"], body["merchant"]
    pack = Pack(
        event_code=str(event["code"]),
        event_name=str(event["name"]),
        event_date=date.fromisoformat(event["date"]),
        timezone=str(event["timezone"]),
        merchant_id=int(merchant["id"]),
        merchant_code=str(merchant["code"]),
        merchant_name=str(merchant["name"]),
        offers=tuple(
            PackOffer(
                int(o["id"]),
                str(o["code"]),
                str(o["name"]),
                int(o["points_price"]),
                date.fromisoformat(o["redeem_by"]),
            )
            for o in body["offers"]
        ),
        public_keys={str(k["key_id"]): str(k["public_key"]) for k in body["public_keys"]},
        revoked=frozenset(int(s) for s in body["revoked"]),
        bundle_secret=str(body["bundle_secret"]),
        issued_at=datetime.fromisoformat(body["issued_at"]),
        merchants=tuple(
            PackMerchant(int(m["id"]), str(m["code"]), str(m["name"]), str(m.get("booth", "")))
            for m in body.get("merchants", [])
        ),
    )
    if pack.issued_at.tzinfo is None or event["tag"] != pack.event_tag:
        raise ValueError("inconsistent pack")
    for kid, raw in pack.public_keys.items():
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw))
        if slipcode.key_id(key).hex() != kid:
            raise ValueError("key id does not match its key")
    return pack


def _load(data: bytes) -> tuple[dict[str, Any], Pack]:
    try:
        document = json.loads(data.decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise _not_a_pack()
        if document.get("version") != VERSION:
            raise PackError(
                _("This merchant pack has format version {version}; update kiosk.").format(
                    version=document.get("version")
                )
            )
        return document, _parse_body(document["body"])
    except PackError:
        raise
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise _not_a_pack() from None


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
            "The merchant pack's signature does not match: it was altered, or it was not "
            "made by this event. Ask the coordinator for a new pack."
        )
    )
