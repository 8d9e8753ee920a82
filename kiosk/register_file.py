"""The approved-merchant register file (准入商户名录): carried from one event to the next.

JSON ``{"format", "version", "body", "signature"}``; ``signature`` is an Ed25519 signature
over the canonical JSON of ``body`` (sorted keys, no spaces) by the exporting event's current
slip-signing key, whose id and public half the body carries. The body holds the event that
exported it and one entry per merchant: code, name, services (codes and names), status (the
newest decision), reason and history (per event: the scorecard and the decisions). Never
customer data.

A public key inside the file proves nothing by itself (anyone can sign with a key of their
own), so the next event's database accepts a file only from a signer it already trusts, or
one the coordinator names by its fingerprint (``fingerprint``): printed when the register is
exported, shown in Administration, and noted by the coordinator between the two events. The
fingerprint is 80 bits of SHA-256 of the public key, in five groups of four hex digits, so
forging a key with the same fingerprint is out of reach while it stays short to compare.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk import boundedjson as bj
from kiosk import slipcode
from kiosk.audit import canonical_json
from kiosk.errors import KioskError
from kiosk.i18n import _

FORMAT = "kiosk-merchant-register"
VERSION = 1
# A register of a few hundred merchants with years of history is well under a megabyte; a
# larger file is not one (and is not read whole into memory).
MAX_BYTES = 8 * 1024 * 1024
MAX_ENTRIES = 100_000  # merchants in a register, services or history events of one
STATUSES = ("keep", "warn", "exit")


class RegisterError(KioskError):
    """A register file that cannot be imported; the database is unchanged."""


@dataclass(frozen=True)
class RegisterService:
    code: str
    name: str


@dataclass(frozen=True)
class RegisterItem:
    """One merchant in the register."""

    merchant_code: str
    merchant_name: str
    status: str  # keep / warn / exit
    reason: str
    services: tuple[RegisterService, ...]
    history: tuple[dict[str, Any], ...]  # per event: {"event", "scorecard", "decisions"}


@dataclass(frozen=True)
class Register:
    event_code: str
    event_name: str
    key_id: str  # hex, the signing key's id (as slips carry it)
    public_key: str  # hex, raw Ed25519
    exported_at: datetime
    entries: tuple[RegisterItem, ...]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def body(self) -> dict[str, Any]:
        return {
            "event": {"code": self.event_code, "name": self.event_name},
            "signer": {"key_id": self.key_id, "public_key": self.public_key},
            "exported_at": self.exported_at.isoformat(),
            "entries": [
                {
                    "merchant_code": e.merchant_code,
                    "merchant_name": e.merchant_name,
                    "status": e.status,
                    "reason": e.reason,
                    "services": [{"code": s.code, "name": s.name} for s in e.services],
                    "history": list(e.history),
                }
                for e in sorted(self.entries, key=lambda e: e.merchant_code)
            ],
        }


def fingerprint(public_key_hex: str) -> str:
    """What the coordinator notes and types: ``1a2b-3c4d-5e6f-7a8b-9c0d``."""
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:20]
    return "-".join(digest[i : i + 4] for i in range(0, 20, 4))


def same_fingerprint(typed: str, public_key_hex: str) -> bool:
    """A typed fingerprint, with or without dashes, spaces or capitals."""
    return re.sub(r"[\s\-:]", "", typed).lower() == fingerprint(public_key_hex).replace("-", "")


def public_hex(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def sign_register(register: Register, private_key: Ed25519PrivateKey) -> bytes:
    """The register file's bytes, signed by ``private_key`` (the body's signer)."""
    if public_hex(private_key) != register.public_key:
        raise ValueError("the register names another signer")
    body = register.body()
    signature = private_key.sign(canonical_json(body).encode()).hex()
    document = {"format": FORMAT, "version": VERSION, "body": body, "signature": signature}
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def read_file(path: Path) -> bytes:
    """A register file's bytes, read no further than a register can be long (a larger file
    is refused by ``read_register`` without being held in memory whole)."""
    try:
        with path.open("rb") as file:
            return file.read(MAX_BYTES + 1)
    except OSError as error:
        raise RegisterError(
            _("Cannot read {path}: {reason}.").format(path=path, reason=error.strerror or error)
        ) from None


def _not_a_register(reason: str | None = None) -> RegisterError:
    if reason is None:
        return RegisterError(_("This file is not an approved-merchant register, or it is damaged."))
    return RegisterError(
        _("This file is not an approved-merchant register, or it is damaged: {reason}.").format(
            reason=reason
        )
    )


def _parse_body(body: Any) -> Register:
    """The register in ``body``: every field of its type and size, or ``bj.Malformed``."""
    event = bj.obj(bj.member(body, "event"), "event")
    signer = bj.obj(bj.member(body, "signer"), "signer")
    entries = []
    for e in bj.array(bj.member(body, "entries"), "entries", MAX_ENTRIES):
        e = bj.obj(e, "entries")
        status = bj.text(bj.member(e, "status"), "status", 8)
        if status not in STATUSES:
            raise bj.Malformed(_("its {field} is missing or malformed").format(field="status"))
        history = bj.array(bj.member(e, "history"), "history", MAX_ENTRIES)
        if not all(isinstance(h, dict) for h in history):
            raise bj.Malformed(_("its {field} is missing or malformed").format(field="history"))
        services = bj.array(bj.member(e, "services"), "services", MAX_ENTRIES)
        entries.append(
            RegisterItem(
                bj.text(bj.member(e, "merchant_code"), "merchant_code", 16),
                bj.text(bj.member(e, "merchant_name"), "merchant_name", 100),
                status,
                bj.text(bj.member(e, "reason"), "reason", 300),
                tuple(
                    RegisterService(
                        bj.text(bj.member(x, "code", "service code"), "service code", 16),
                        bj.text(bj.member(x, "name", "service name"), "service name", 100),
                    )
                    for x in services
                ),
                tuple(history),
            )
        )
    exported = bj.text(bj.member(body, "exported_at"), "exported_at", 64)
    try:
        exported_at = bj.plausible(datetime.fromisoformat(exported), "exported_at")
    except ValueError as error:
        if isinstance(error, bj.Malformed):
            raise
        raise bj.Malformed(
            _("its {field} is missing or malformed").format(field="exported_at")
        ) from None
    register = Register(
        event_code=bj.text(bj.member(event, "code", "event code"), "event code", 16),
        event_name=bj.text(bj.member(event, "name", "event name"), "event name", 200),
        key_id=bj.text(bj.member(signer, "key_id"), "key_id", 16),
        public_key=bj.text(bj.member(signer, "public_key"), "public_key", 64),
        exported_at=exported_at,
        entries=tuple(entries),
    )
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(register.public_key))
    except ValueError:
        raise bj.Malformed(
            _("its {field} is missing or malformed").format(field="public_key")
        ) from None
    if slipcode.key_id(key).hex() != register.key_id:
        raise bj.Malformed(_("its key id {key} does not match its key").format(key=register.key_id))
    if len({e.merchant_code for e in entries}) != len(entries):
        raise bj.Malformed(_("a merchant is in it twice"))
    return register


def read_register(data: bytes) -> Register:
    """The register, its signature checked against the key it names (whether that key is
    trusted is the importing database's question). Raises ``RegisterError`` with a sentence."""
    if len(data) > MAX_BYTES:
        raise RegisterError(
            _("This file is larger than an approved-merchant register can be ({mb} MB).").format(
                mb=MAX_BYTES // (1024 * 1024)
            )
        )
    try:
        document = bj.loads(data, max_bytes=MAX_BYTES)
    except bj.Malformed as malformed:
        raise _not_a_register(malformed.reason) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _not_a_register()
    if document.get("version") != VERSION:
        raise RegisterError(
            _("This register has format version {version}; update kiosk.").format(
                version=str(document.get("version"))[:20]
            )
        )
    try:
        register = _parse_body(bj.obj(document.get("body"), "body"))
        signature = bytes.fromhex(bj.text(bj.member(document, "signature"), "signature", 128))
    except bj.Malformed as malformed:
        raise _not_a_register(malformed.reason) from None
    except ValueError:
        raise _not_a_register(
            _("its {field} is missing or malformed").format(field="signature")
        ) from None
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(register.public_key)).verify(
            signature, canonical_json(document["body"]).encode()
        )
    except (InvalidSignature, ValueError):
        raise RegisterError(
            _(
                "The register's signature does not match (the file was altered after it was "
                "exported); ask the coordinator of event {event} for the file again."
            ).format(event=register.event_code)
        ) from None
    return register
