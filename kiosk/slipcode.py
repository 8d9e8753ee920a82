"""The signed slip code: what the QR on a redemption slip carries (format in docs/slip-code.md).

A merchant booth must decide alone, offline, whether to serve a slip. So the code carries
everything the booth needs (event, slip serial, merchant, offer, quantity, points, redeem-by
date, a masked name) and an Ed25519 signature by the event's private key; a booth holds only
public keys, so it can verify but never mint.

The text form uses 16 upper-case letters that sit on the same key on US, French (AZERTY) and
German (QWERTZ) layouts: a USB keyboard-wedge scanner types them correctly whatever layout the
booth laptop has (digits are shifted on AZERTY; A, Q, W, Z, Y and M move). All of them are in
QR alphanumeric mode. Every code starts with ``KX`` so a station can tell a slip from an
invitation code at a glance.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from kiosk.errors import KioskError
from kiosk.i18n import _

VERSION = 1
PREFIX = "KX"
ALPHABET = "BCDEFGHIJKLNOPRS"  # one letter per nibble; none moves on US/AZERTY/QWERTZ
SIGNATURE_BYTES = 64
EPOCH = date(2000, 1, 1)
_HEADER = struct.Struct(">B4s4sIHHBIH")  # version, key id, event tag, serial, merchant,
# offer, quantity, points, redeem-by (days since 2000-01-01); then the masked name


class Verdict(enum.StrEnum):
    VALID = "valid"
    ALREADY_REDEEMED = "already_redeemed"  # decided by the booth's own database
    OTHER_MERCHANT = "other_merchant"
    OTHER_EVENT = "other_event"
    EXPIRED = "expired"
    REVOKED = "revoked"
    BAD_SIGNATURE = "bad_signature"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class SlipPayload:
    event_tag: bytes  # 4 bytes, ``event_tag(event_code)``
    serial: int
    merchant: int  # the merchant's number within the event
    offer: int  # the offer's number within the event
    quantity: int
    points: int
    redeem_by: date
    masked_name: str
    key_id: bytes = b"\0\0\0\0"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    payload: SlipPayload | None = None


def event_tag(event_code: str) -> bytes:
    return hashlib.sha256(b"kiosk-event:" + event_code.encode()).digest()[:4]


def key_id(public_key: Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:4]


# ALPHABET's letters are the nibbles 0-f: a code's text is its bytes' hex digits, each
# swapped for its letter. Swapped by ``str.translate`` and read by ``bytes.fromhex`` (C, not a
# Python loop per character: a booth and the gateway decode every code they are shown, and a
# slip's code has some 190 letters; issue #23).
_LETTERS = str.maketrans("0123456789abcdef", ALPHABET)
_NIBBLES = str.maketrans(ALPHABET, "0123456789abcdef")
_ALPHABET = frozenset(ALPHABET)


def _to_text(data: bytes) -> str:
    return PREFIX + data.hex().translate(_LETTERS)


def _from_text(text: str) -> bytes | None:
    text = "".join(text.split()).upper()
    if not text.startswith(PREFIX) or len(text) % 2:
        return None
    body = text[len(PREFIX) :]
    if not _ALPHABET.issuperset(body):  # e.g. an "A" or a "0": hex, but no letter of ours
        return None
    return bytes.fromhex(body.translate(_NIBBLES))


def _pack(payload: SlipPayload) -> bytes:
    name = payload.masked_name.encode("utf-8")[:60]
    return (
        _HEADER.pack(
            VERSION,
            payload.key_id,
            payload.event_tag,
            payload.serial,
            payload.merchant,
            payload.offer,
            payload.quantity,
            payload.points,
            (payload.redeem_by - EPOCH).days,
        )
        + bytes([len(name)])
        + name
    )


def encode(payload: SlipPayload, private_key: Ed25519PrivateKey) -> str:
    """The signed code for ``payload`` (its key id is set from the key)."""
    signed = SlipPayload(**{**payload.__dict__, "key_id": key_id(private_key.public_key())})
    body = _pack(signed)
    return _to_text(body + private_key.sign(body))


def decode(text: str) -> tuple[SlipPayload, bytes, bytes] | None:
    """(payload, signed bytes, signature), or None when the text is not a slip code."""
    data = _from_text(text)
    if data is None or len(data) < _HEADER.size + 1 + SIGNATURE_BYTES:
        return None
    body, signature = data[:-SIGNATURE_BYTES], data[-SIGNATURE_BYTES:]
    version, kid, tag, serial, merchant, offer, quantity, points, days = _HEADER.unpack_from(body)
    if version != VERSION:
        return None
    length = body[_HEADER.size]
    name = body[_HEADER.size + 1 :]
    if len(name) != length:
        return None
    try:
        masked = name.decode("utf-8")
    except UnicodeDecodeError:
        return None
    payload = SlipPayload(
        tag, serial, merchant, offer, quantity, points, EPOCH + timedelta(days=days), masked, kid
    )
    return payload, body, signature


def verify(
    text: str,
    *,
    public_keys: dict[bytes, Ed25519PublicKey],
    event: bytes,
    merchant: int | None,
    today: date,
    revoked: frozenset[int] = frozenset(),
) -> Check:
    """The verdict a booth shows for a scanned code (``ALREADY_REDEEMED`` is the booth's)."""
    decoded = decode(text)
    if decoded is None:
        return Check(Verdict.UNREADABLE)
    payload, body, signature = decoded
    key = public_keys.get(payload.key_id)
    if key is None:
        # An unknown key is another event's, or a forgery: the event tag tells which.
        return Check(
            Verdict.OTHER_EVENT if payload.event_tag != event else Verdict.BAD_SIGNATURE, payload
        )
    try:
        key.verify(signature, body)
    except InvalidSignature:
        return Check(Verdict.BAD_SIGNATURE, payload)
    if payload.event_tag != event:
        return Check(Verdict.OTHER_EVENT, payload)
    if payload.serial in revoked:
        return Check(Verdict.REVOKED, payload)
    if merchant is not None and payload.merchant != merchant:
        return Check(Verdict.OTHER_MERCHANT, payload)
    if today > payload.redeem_by:
        return Check(Verdict.EXPIRED, payload)
    return Check(Verdict.VALID, payload)


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def lock_private_key(private_key: Ed25519PrivateKey, passphrase: str) -> bytes:
    """PKCS#8 PEM encrypted with the passphrase: how the event's key is stored."""
    if len(passphrase) < 8:
        raise KioskError(_("The passphrase needs at least 8 characters."))
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )


def unlock_private_key(locked: bytes, passphrase: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(locked, password=passphrase.encode())
    except (ValueError, TypeError):
        raise KioskError(_("Wrong passphrase for the event's signing key.")) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KioskError(_("The stored signing key is not an Ed25519 key."))
    return key
