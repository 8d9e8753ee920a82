"""Personal data at rest: masked in clear, full values sealed to the event's privacy key.

What the stations need works on masked forms (``kiosk.masking``) and on the search keys
(name, pinyin initials, phone last four): reception finds and greets, the service desk sees
which KYC field is missing, invalid or expired, reminders name the customer. The full phone,
ID number and address are *sealed*: each value is encrypted to the event's X25519 public key
(ephemeral X25519 key agreement, HKDF-SHA256, AES-256-GCM with the field name as associated
data, so a phone cannot be passed off as an ID number). Sealing needs only the public key,
so reception, the imports, the service desk and the ledger pull write full values without
the passphrase; reading one needs the private key, which is stored locked under a key
derived from the event passphrase with scrypt. A supervisor types the passphrase for the few
things that need full values: the RMs' reminder list with phones to call, the governance
changes pushed to the ledger, the ledger seed of a rehearsal.

No keyed hash of a full value is stored for lookups: every station would have to hold its
key, and with the first 3 and last 4 digits of a phone in the mask, 10,000 guesses would open
any phone. Lookups use what is in clear anyway (search keys, masked forms and names).

A sealer reuses one ephemeral key for the values of one transaction (a fresh nonce each), so
an import of a million customers pays one key agreement, not three million.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.current_event import find_current_event
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.idcard import is_valid_mobile, is_valid_resident_id
from kiosk.masking import mask_address, mask_id, mask_phone, masked_is_mobile
from kiosk.models import Customer, PrivacyKey
from kiosk.uow import UnitOfWork

SEALED_FIELDS = ("phone", "id_number", "address")
PREFIX = "s1."
_INFO = b"kiosk sealed value v1"
_LOCK_AAD = b"kiosk privacy key v1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class PrivacyError(KioskError):
    """Personal data cannot be sealed or opened; the sentence says why."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# -- the key pair -------------------------------------------------------------------------------


def _passphrase_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passphrase.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024
    )


def lock_private_key(private: X25519PrivateKey, passphrase: str) -> str:
    """``scrypt$N$r$p$salt$nonce$ciphertext``: the raw private key under AES-GCM with a key
    derived from the passphrase (scrypt, so guessing a passphrase is slow)."""
    if len(passphrase) < 8:
        raise PrivacyError(_("The passphrase needs at least 8 characters."))
    salt, nonce = os.urandom(16), os.urandom(12)
    raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    key = _passphrase_key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(key).encrypt(nonce, raw, _LOCK_AAD)
    parts = ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P)]
    return "$".join([*parts, _b64(salt), _b64(nonce), _b64(sealed)])


def unlock_private_key(locked: str, passphrase: str) -> X25519PrivateKey:
    try:
        scheme, n, r, p, salt, nonce, sealed = locked.split("$")
    except ValueError:
        raise PrivacyError(_("The stored privacy key is damaged.")) from None
    if scheme != "scrypt":
        raise PrivacyError(_("The stored privacy key is damaged."))
    key = _passphrase_key(passphrase, _unb64(salt), int(n), int(r), int(p))
    try:
        raw = AESGCM(key).decrypt(_unb64(nonce), _unb64(sealed), _LOCK_AAD)
    except InvalidTag:
        raise PrivacyError(_("Wrong passphrase for the event's personal data.")) from None
    return X25519PrivateKey.from_private_bytes(raw)


def new_key_row(event_id: int, passphrase: str, now: datetime) -> PrivacyKey:
    private = X25519PrivateKey.generate()
    return PrivacyKey(
        event_id=event_id,
        public_key=_raw(private.public_key()).hex(),
        locked_private_key=lock_private_key(private, passphrase),
        created_at=now,
    )


def _key_row(session: Session) -> PrivacyKey | None:
    event = find_current_event(session)
    if event is None:
        return None
    return session.scalar(
        select(PrivacyKey)
        .where(PrivacyKey.event_id == event.id)
        .order_by(PrivacyKey.id.desc())
        .limit(1)
    )


def has_key(session: Session) -> bool:
    return _key_row(session) is not None


# -- sealing and opening -------------------------------------------------------------------


class Sealer:
    """Seals values to the event's public key; one ephemeral key per sealer (transaction)."""

    def __init__(self, public_key: bytes) -> None:
        recipient = X25519PublicKey.from_public_bytes(public_key)
        ephemeral = X25519PrivateKey.generate()
        self._ephemeral = _raw(ephemeral.public_key())
        self._aead = AESGCM(_derive(ephemeral.exchange(recipient), self._ephemeral, public_key))

    def seal(self, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), field.encode())
        return PREFIX + _b64(self._ephemeral + nonce + sealed)


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral + recipient, info=_INFO).derive(shared)


class Opener:
    """Opens sealed values with the unlocked private key (a supervisor typed the passphrase).

    Without a key (a database not encrypted yet) it opens nothing and reads the legacy
    clear columns only."""

    def __init__(self, private: X25519PrivateKey | None) -> None:
        self._private = private
        self._public = _raw(private.public_key()) if private else b""
        self._aeads: dict[bytes, AESGCM] = {}

    def open(self, field: str, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        if self._private is None or not sealed.startswith(PREFIX):
            raise PrivacyError(_("A sealed value cannot be opened without the privacy key."))
        data = _unb64(sealed[len(PREFIX) :])
        ephemeral, nonce, body = data[:32], data[32:44], data[44:]
        aead = self._aeads.get(ephemeral)
        if aead is None:
            shared = self._private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
            aead = self._aeads[ephemeral] = AESGCM(_derive(shared, ephemeral, self._public))
        try:
            return aead.decrypt(nonce, body, field.encode()).decode()
        except InvalidTag:
            raise PrivacyError(_("A sealed value is damaged or belongs elsewhere.")) from None

    def read(self, customer: Customer, field: str) -> str | None:
        """The full value of a customer's phone, ID number or address."""
        sealed = getattr(customer, f"{field}_sealed")
        if sealed is not None:
            return self.open(field, sealed)
        return getattr(customer, f"legacy_{field}")


def sealer(session: Session) -> Sealer | None:
    """A sealer for the current event, or None before ``kiosk event encrypt`` (clear mode)."""
    row = _key_row(session)
    return Sealer(bytes.fromhex(row.public_key)) if row else None


def unlock(uow: UnitOfWork, passphrase: str) -> Opener:
    """The opener for the event's personal data; a wrong passphrase is one sentence."""
    with uow:
        row = _key_row(uow.session)
        if row is None:
            return Opener(None)
        return Opener(unlock_private_key(row.locked_private_key, passphrase))


def seal_json(sealer_: Sealer, field: str, data: Any) -> str:
    """A JSON value sealed as one (the changes of a governance outbox entry)."""
    value = sealer_.seal(field, json.dumps(data, sort_keys=True, ensure_ascii=False))
    assert value is not None
    return value


def open_json(opener: Opener, field: str, sealed: str) -> Any:
    return json.loads(opener.open(field, sealed) or "null")


# -- storing a customer's personal data ----------------------------------------------------


def stored_phone_mask(phone: str | None) -> str | None:
    """The phone's mask, which must not make an invalid number look like a valid mobile."""
    if not phone:
        return None
    masked = mask_phone(phone)
    if masked_is_mobile(masked) and not is_valid_mobile(phone):
        return "*" * len(phone)
    return masked


def stored_mask(field: str, value: str | None) -> str | None:
    if not value:
        return None
    if field == "phone":
        return stored_phone_mask(value)
    return mask_id(value) if field == "id_number" else mask_address(value)


def columns(sealer_: Sealer | None, field: str, value: str | None) -> dict[str, Any]:
    """The customer columns that store one of phone / ID number / address."""
    prefix = "id" if field == "id_number" else field
    values: dict[str, Any] = {f"{prefix}_masked": stored_mask(field, value)}
    if sealer_ is not None:
        values[f"{field}_sealed"] = sealer_.seal(field, value) if value else None
        values[f"legacy_{field}"] = None
    else:
        values[f"{field}_sealed"] = None
        values[f"legacy_{field}"] = value or None
    if field == "phone":
        values["phone_last4"] = value[-4:] if value and len(value) >= 4 else None
    if field == "id_number":
        values["id_number_valid"] = is_valid_resident_id(value) if value else None
    return values


def store(customer: Customer, sealer_: Sealer | None, **values: str | None) -> None:
    """Set a customer's phone / id_number / address: masked in clear, full value sealed."""
    for field, value in values.items():
        if field not in SEALED_FIELDS:
            raise ValueError(field)
        for column, stored in columns(sealer_, field, value).items():
            setattr(customer, column, stored)


@dataclass(frozen=True)
class FullValues:
    customer_no: str
    phone: str | None
    id_number: str | None
    address: str | None


def full_values(uow: UnitOfWork, passphrase: str) -> list[FullValues]:
    """Every customer's full values, for a supervisor (and for the tests' leak scans)."""
    opener = unlock(uow, passphrase)
    with uow:
        return [
            FullValues(
                c.customer_no,
                opener.read(c, "phone"),
                opener.read(c, "id_number"),
                opener.read(c, "address"),
            )
            for c in uow.session.scalars(select(Customer).order_by(Customer.customer_no))
        ]
