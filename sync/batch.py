"""Batch files: the outbox to the bank's ledger and its answers back, on a USB stick or an
SFTP drop, never through the ledger's database URL (issue #22; format in docs/sync.md).

A **batch file** is JSON lines (canonical JSON: sorted keys, UTF-8, one object a line):

1. the manifest: format, version, event code, batch id, created_at, the event signing key
   (key id, raw public key, fingerprint), the number of entries, per kind the entries and the
   sum of their points, and the sha256 of the entry lines (their exact bytes, newlines too);
2. one line per pending outbox entry, oldest first: idempotency key, kind, payload exactly as
   the direct push sends it (sealed governance changes opened with the passphrase);
3. ``{"signature": …}``: Ed25519 by the event's signing key over the manifest line's bytes,
   which covers the entries through their hash.

An **answer file** has the same shape: a manifest (event, batch id, the sha256 of the batch's
manifest line, the ledger's key, counts per outcome, the sha256 of the answer lines), one line
per entry (idempotency key, status, reason) and the ledger key's signature. It holds no time,
so applying the same batch again writes the same bytes.

Exactly once is the direct push's: the ledger answers a key it knows as the first time and
applies nothing twice; the kiosk marks entries only from a verified answer, only entries
still pending. Export marks nothing, so exporting again gives the same entries (and new ones).

Every file is read within bounds (size, lines, line length, JSON depth, finite numbers) and
every problem is one ``BatchError`` sentence naming the file; nothing is applied or marked.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select

from kiosk import boundedjson as bj
from kiosk import register_file, slipcode
from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import OutboxEntry, OutboxStatus
from kiosk.privacy import Opener
from kiosk.services import ledger_batch
from kiosk.services.events import current_event
from kiosk.services.ledger_push import Refused, record_push
from sync.ledger import ACCEPTED, REJECTED, Ledger
from sync.push import _opened, sync_lock

BATCH_FORMAT = "kiosk-ledger-batch"
ANSWER_FORMAT = "kiosk-ledger-answers"
VERSION = 1
MAX_ENTRIES = 100_000  # per file; export says how many are left for the next one
MAX_LINE = 64 * 1024  # bytes: a governance change is the longest entry, well under 2 KiB
MAX_BYTES = 128 * 1024 * 1024
MAX_INT = 2**53  # points, serials, quantities: anything larger is not a real entry
APPLY_CHUNK = 5000  # entries per ledger transaction, as the direct push
_KIND = re.compile(r"[a-z_]{1,32}")
_HEX = re.compile(r"[0-9a-f]+")


class BatchError(KioskError):
    """A batch or answer file that cannot be used; nothing was applied or marked."""


def fingerprint(public_raw: bytes) -> str:
    """What an operator compares by phone or on paper: the register file's fingerprint (80
    bits of SHA-256 of the raw public key, five groups of four hex digits), so the event
    key's fingerprint is the one Administration already shows."""
    return register_file.fingerprint(public_raw.hex())


def normal_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, any separators) in its printed form; "" if it is
    not one."""
    digits = re.sub(r"[^0-9a-f]", "", text.lower())
    if len(digits) != 20 or re.search(r"[^0-9a-fA-F\s\-:]", text):
        return ""
    return "-".join(digits[i : i + 4] for i in range(0, 20, 4))


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _line(data: dict[str, Any]) -> bytes:
    return (
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode("utf-8")


def _unwritable(path: Path, error: OSError) -> BatchError:
    return BatchError(
        _(
            "{file} cannot be written: {reason}. Run the command again with another file: "
            "nothing is applied or marked twice."
        ).format(file=path.name, reason=error.strerror or error)
    )


def _write(path: Path, data: bytes, target: Path) -> None:
    """Write ``data`` to ``path`` for the owner only (a batch holds personal data in clear:
    opened governance changes), flushed to the disk."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except OSError as error:
        raise _unwritable(target, error) from None


# -- reading a file within bounds ----------------------------------------------------------


@dataclass(frozen=True)
class _Signed:
    """A signed JSON-lines file, its signature checked against the key its manifest names."""

    manifest: dict[str, Any]
    manifest_line: bytes  # without its newline: what the signature covers
    items: list[dict[str, Any]]
    public_raw: bytes


def _read(path: Path, what: str) -> bytes:
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BatchError(
                _("{file} is larger than {mb} MB; it is not a {what}.").format(
                    file=name, mb=MAX_BYTES // 2**20, what=what
                )
            )
        return path.read_bytes()
    except OSError as error:
        raise BatchError(
            _("{file} cannot be read: {reason}").format(file=name, reason=error.strerror)
        ) from None


def _parse_signed(data: bytes, name: str, fmt: str, what: str, counted: str) -> _Signed:
    """Split, parse and check the signature and the lines' hash; every failure one sentence."""

    def bad(reason: str) -> BatchError:
        return BatchError(
            _("{file} is not a valid {what}: {reason}; nothing was applied or marked.").format(
                file=name, what=what, reason=reason
            )
        )

    if len(data) > MAX_BYTES:
        raise bad(_("larger than {mb} MB").format(mb=MAX_BYTES // 2**20))
    if not data.endswith(b"\n"):
        raise bad(_("it does not end with a complete line (cut off?)"))
    lines = data[:-1].split(b"\n")
    if len(lines) < 2:
        raise bad(_("it has no signature line"))
    if len(lines) > MAX_ENTRIES + 2:
        raise bad(_("more than {n} lines").format(n=MAX_ENTRIES + 2))
    parsed: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE:
            raise bad(_("line {n} is longer than {k} KiB").format(n=number, k=MAX_LINE // 1024))
        try:
            # Depth, finite numbers, no key twice (kiosk.boundedjson): what a signature covers
            # is what is read, and no line can raise anything but this sentence.
            value = bj.loads(raw, max_bytes=MAX_LINE)
        except bj.Malformed as malformed:
            if malformed.reason == _("it is not JSON"):
                raise bad(_("line {n} is not JSON").format(n=number)) from None
            raise bad(
                _("line {n} is not JSON ({reason})").format(n=number, reason=malformed.reason)
            ) from None
        if not isinstance(value, dict):
            raise bad(_("line {n} is not a JSON object").format(n=number))
        parsed.append(value)
    manifest, items, closing = parsed[0], parsed[1:-1], parsed[-1]
    if manifest.get("format") != fmt:
        raise bad(_("its first line is not a {what} manifest").format(what=what))
    version = manifest.get("version")
    if not _int(version) or version != VERSION:
        raise BatchError(
            _("{file} has format version {version}; this kiosk reads version {ours}.").format(
                file=name, version=str(version)[:20], ours=VERSION
            )
        )
    signer = manifest.get("signer")
    signature = closing.get("signature")
    if (
        not isinstance(signer, dict)
        or not isinstance(signer.get("public_key"), str)
        or len(signer["public_key"]) != 64
        or not _HEX.fullmatch(signer["public_key"])
        or not isinstance(signature, str)
        or len(signature) != 128
        or not _HEX.fullmatch(signature)
        or set(closing) != {"signature"}
    ):
        raise bad(_("its signer or signature is missing or malformed"))
    public_raw = bytes.fromhex(signer["public_key"])
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(bytes.fromhex(signature), lines[0])
    except (InvalidSignature, ValueError):
        raise BatchError(
            _(
                "{file} was altered: its manifest does not match its signature; nothing was "
                "applied or marked."
            ).format(file=name)
        ) from None
    digest = hashlib.sha256(b"".join(raw + b"\n" for raw in lines[1:-1])).hexdigest()
    if manifest.get(f"{counted}_sha256") != digest or manifest.get(counted) != len(items):
        raise BatchError(
            _(
                "{file} was altered: its lines were edited, removed or added after it was "
                "signed; nothing was applied or marked."
            ).format(file=name)
        )
    return _Signed(manifest, lines[0], items, public_raw)


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_INT <= value <= MAX_INT


# The fields ``Ledger.apply`` reads, per kind, and what each must be.
_FIELDS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "slip_issued": {
        "customer_no": lambda v: _text(v, 32),
        "serial": _int,
        "merchant": lambda v: _text(v, 16),
        "offer": lambda v: _text(v, 16),
        "quantity": _int,
        "points": _int,
    },
    "slip_voided": {"serial": _int, "points": _int},
    "slip_released": {"serial": _int, "points": _int},
    "slip_redeemed": {"serial": _int, "points": _int},
    "governance": {"customer_no": lambda v: _text(v, 32), "changes": lambda v: _changes(v)},
    # A signed checkpoint of the event's audit chain (kiosk.checkpoint): kept, nothing applied.
    "audit_checkpoint": {
        "count": _int,
        "head": lambda v: _text(v, 64),
        "key_id": lambda v: _text(v, 16),
        "signature": lambda v: _text(v, 128),
        "reason": lambda v: _text(v, 16),
    },
}


def _changes(value: Any) -> bool:
    return isinstance(value, dict) and all(
        _text(k, 32) and (v is None or _text(v, 300) or _int(v) or isinstance(v, bool))
        for k, v in value.items()
    )


def _lots(value: Any) -> bool:
    return value is None or (
        isinstance(value, list)
        and len(value) <= 1000
        and all(
            isinstance(x, dict) and _text(x.get("lot"), 32) and _int(x.get("points")) for x in value
        )
    )


def _entry_problem(item: dict[str, Any], event_code: str) -> str:
    """Why an entry line cannot go to the ledger ("" when it can)."""
    key, kind, payload = item.get("idempotency_key"), item.get("kind"), item.get("payload")
    if set(item) != {"idempotency_key", "kind", "payload"}:
        return _("its fields are not idempotency_key, kind and payload")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        return _("its kind is malformed")
    if not _text(key, 64) or not key.startswith(kind + ":"):
        return _("its idempotency key is malformed")
    if not isinstance(payload, dict):
        return _("its payload is not an object")
    if payload.get("event", event_code) != event_code:
        return _("it belongs to event {code}").format(code=str(payload.get("event"))[:20])
    if kind.startswith("slip_") and payload.get("event") != event_code:
        return _("it names no event")
    for field, check in _FIELDS.get(kind, {}).items():
        if not check(payload.get(field)):
            return _("its {field} is missing or malformed").format(field=field)
    if "customer_no" in payload and not _text(payload["customer_no"], 32):
        return _("its customer_no is malformed")
    if "at" in payload and not _text(payload["at"], 64):
        return _("its at is malformed")
    if kind == "slip_issued" and not _lots(payload.get("lots")):
        return _("its lots are malformed")
    return ""


# -- the batch file --------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    event_code: str
    batch_id: str
    entries: list[tuple[str, str, dict[str, Any]]]  # (idempotency key, kind, payload)
    signer_fingerprint: str
    signer_public: str  # raw, hex
    manifest_sha256: str


def _kinds(entries: list[tuple[str, str, dict[str, Any]]]) -> dict[str, dict[str, int]]:
    kinds: dict[str, dict[str, int]] = {}
    for _key, kind, payload in entries:
        tally = kinds.setdefault(kind, {"entries": 0, "points": 0})
        tally["entries"] += 1
        points = payload.get("points")
        tally["points"] += points if _int(points) else 0
    return kinds


def write_batch(
    event_code: str,
    entries: list[tuple[str, str, dict[str, Any]]],
    key: Ed25519PrivateKey,
    *,
    batch_id: str,
    created_at: str,
) -> bytes:
    """The signed batch file's bytes."""
    body = [_line({"idempotency_key": k, "kind": kind, "payload": p}) for k, kind, p in entries]
    public_raw = _raw(key.public_key())
    manifest = _line(
        {
            "format": BATCH_FORMAT,
            "version": VERSION,
            "event": event_code,
            "batch_id": batch_id,
            "created_at": created_at,
            "signer": {
                "key_id": slipcode.key_id(key.public_key()).hex(),
                "public_key": public_raw.hex(),
                "fingerprint": fingerprint(public_raw),
            },
            "entries": len(entries),
            "kinds": _kinds(entries),
            "entries_sha256": hashlib.sha256(b"".join(body)).hexdigest(),
        }
    )
    signature = _line({"signature": key.sign(manifest[:-1]).hex()})
    return manifest + b"".join(body) + signature


def read_batch(data: bytes, name: str) -> Batch:
    """A verified batch (signature, hash, counts, every entry's shape); not yet its trust."""
    what = _("batch file")
    signed = _parse_signed(data, name, BATCH_FORMAT, what, "entries")
    manifest = signed.manifest

    def bad(reason: str) -> BatchError:
        return BatchError(
            _("{file} is not a valid {what}: {reason}; nothing was applied or marked.").format(
                file=name, what=what, reason=reason
            )
        )

    event_code, batch_id = manifest.get("event"), manifest.get("batch_id")
    if not _text(event_code, 16) or not event_code:
        raise bad(_("its event is malformed"))
    if not _text(batch_id, 32) or not _HEX.fullmatch(batch_id):
        raise bad(_("its batch id is malformed"))
    entries: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for number, item in enumerate(signed.items, start=2):
        problem = _entry_problem(item, event_code)
        if problem:
            raise bad(_("line {n}: {problem}").format(n=number, problem=problem))
        if item["idempotency_key"] in seen:
            raise bad(_("line {n}: its idempotency key is there twice").format(n=number))
        seen.add(item["idempotency_key"])
        entries.append((item["idempotency_key"], item["kind"], item["payload"]))
    if manifest.get("kinds") != _kinds(entries):
        raise bad(_("its counts and sums of points per kind do not match its entries"))
    return Batch(
        event_code,
        batch_id,
        entries,
        fingerprint(signed.public_raw),
        signed.public_raw.hex(),
        hashlib.sha256(signed.manifest_line).hexdigest(),
    )


@dataclass(frozen=True)
class ExportReport:
    batch_id: str
    entries: int
    left: int  # pending entries beyond this file's limit: export again after the answers
    fingerprint: str


def export_batch(
    database: Database,
    path: Path,
    key: Ed25519PrivateKey,
    opener: Opener,
    *,
    clock: Clock | None = None,
    limit: int = MAX_ENTRIES,
) -> ExportReport:
    """Write every pending outbox entry (oldest first, at most ``limit``) as a signed batch
    file and remember what it carried. Marks nothing: only answers do. Refuses to overwrite a
    file; writes none when nothing is pending. Raises ``SyncBusy`` while a push runs."""
    if path.exists():
        raise BatchError(_("{file} exists already; name a new file.").format(file=path.name))
    now = (clock or Clock()).now()
    with sync_lock(database):
        with database.unit_of_work() as uow:
            event_code = current_event(uow.session).code
            rows = uow.session.execute(
                select(
                    OutboxEntry.id,
                    OutboxEntry.idempotency_key,
                    OutboxEntry.kind,
                    OutboxEntry.payload,
                    OutboxEntry.sealed,
                )
                .where(OutboxEntry.status == OutboxStatus.PENDING)
                .order_by(OutboxEntry.id)
                .limit(limit)
            ).all()
            waiting = uow.session.scalar(
                select(func.count(OutboxEntry.id)).where(OutboxEntry.status == OutboxStatus.PENDING)
            )
        left = int(waiting or 0) - len(rows)
        if not rows:
            return ExportReport("", 0, 0, fingerprint(_raw(key.public_key())))
        entries = [
            (k, kind, _opened(json.loads(payload), sealed, opener))
            for _id, k, kind, payload, sealed in rows
        ]
        batch_id = uuid.uuid4().hex
        data = write_batch(event_code, entries, key, batch_id=batch_id, created_at=now.isoformat())
        manifest_line = data[: data.index(b"\n")]
        temporary = path.with_name(path.name + ".part")
        _write(temporary, data, path)
        ledger_batch.record_export(
            database.unit_of_work(),
            batch_id=batch_id,
            manifest_sha256=hashlib.sha256(manifest_line).hexdigest(),
            entry_ids=[row[0] for row in rows],
            clock=clock,
        )
        try:
            os.replace(temporary, path)
        except OSError as error:
            raise _unwritable(path, error) from None
    return ExportReport(batch_id, len(entries), left, fingerprint(_raw(key.public_key())))


# -- the ledger's side -----------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyReport:
    event_code: str
    batch_id: str
    entries: int
    accepted: int
    rejected: int
    ledger_fingerprint: str
    newly_trusted: bool


def apply_batch(
    ledger: Ledger,
    path: Path,
    answers: Path,
    *,
    trust: str | None = None,
    event_code: str | None = None,
) -> ApplyReport:
    """Verify a batch file, check that its signer is the key this ledger trusts for its
    event, apply its entries through ``Ledger.apply`` and write the signed answer file.
    Applying the same batch again changes nothing and writes the same answer file."""
    name = path.name
    batch = read_batch(_read(path, _("batch file")), name)
    if event_code is not None and batch.event_code != event_code:
        raise BatchError(
            _(
                "{file} is a batch of event {theirs}, not of event {ours}; nothing was applied."
            ).format(file=name, theirs=batch.event_code, ours=event_code)
        )
    trusted = ledger.event_keys(batch.event_code)
    named = normal_fingerprint(trust) if trust else ""
    if trust and not named:
        raise BatchError(
            _("--trust {text} is not a key fingerprint (20 hex digits).").format(text=trust)
        )
    newly = False
    if batch.signer_fingerprint not in trusted:
        if named and named != batch.signer_fingerprint:
            raise BatchError(
                _(
                    "{file} is signed by the key {theirs}, not by the key {named} you named; "
                    "nothing was applied."
                ).format(file=name, theirs=batch.signer_fingerprint, named=named)
            )
        if not named:
            if trusted:
                raise BatchError(
                    _(
                        "{file} is signed by the key {theirs}, which this ledger does not trust "
                        "for event {event} (it trusts {ours}); nothing was applied."
                    ).format(
                        file=name,
                        theirs=batch.signer_fingerprint,
                        event=batch.event_code,
                        ours=", ".join(sorted(trusted)),
                    )
                )
            raise BatchError(
                _(
                    "{file} is signed by the key {theirs}, and this ledger trusts no key of "
                    "event {event} yet: nothing was applied; check that fingerprint with the "
                    "event's coordinator, then run again with --trust {theirs}."
                ).format(file=name, event=batch.event_code, theirs=batch.signer_fingerprint)
            )
        newly = True
    if answers.exists() and answers.resolve() == path.resolve():
        raise BatchError(_("The answer file cannot be the batch file itself."))
    if newly:
        ledger.trust_event_key(batch.event_code, batch.signer_fingerprint, batch.signer_public)
    outcomes = []
    for start in range(0, len(batch.entries), APPLY_CHUNK):
        outcomes += ledger.apply(batch.entries[start : start + APPLY_CHUNK])
    key = ledger.answer_key()
    data = write_answers(batch, [(o.key, o.status, o.reason) for o in outcomes], key)
    temporary = answers.with_name(answers.name + ".part")
    _write(temporary, data, answers)
    try:
        os.replace(temporary, answers)
    except OSError as error:
        raise _unwritable(answers, error) from None
    accepted = sum(o.status == ACCEPTED for o in outcomes)
    return ApplyReport(
        batch.event_code,
        batch.batch_id,
        len(outcomes),
        accepted,
        len(outcomes) - accepted,
        fingerprint(_raw(key.public_key())),
        newly,
    )


def ledger_fingerprint(ledger: Ledger) -> str:
    """The fingerprint of the ledger's answer key (created if need be)."""
    return fingerprint(_raw(ledger.answer_key().public_key()))


# -- the answer file -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    event_code: str
    batch_id: str
    batch_manifest_sha256: str
    outcomes: list[tuple[str, str, str]]  # (idempotency key, status, reason)
    signer_fingerprint: str
    signer_public: str


def write_answers(
    batch: Batch, outcomes: list[tuple[str, str, str]], key: Ed25519PrivateKey
) -> bytes:
    """The signed answer file's bytes: no time in it, so the same answers give the same bytes."""
    body = [_line({"idempotency_key": k, "status": s, "reason": r}) for k, s, r in outcomes]
    public_raw = _raw(key.public_key())
    manifest = _line(
        {
            "format": ANSWER_FORMAT,
            "version": VERSION,
            "event": batch.event_code,
            "batch_id": batch.batch_id,
            "batch_manifest_sha256": batch.manifest_sha256,
            "signer": {"public_key": public_raw.hex(), "fingerprint": fingerprint(public_raw)},
            "answers": len(outcomes),
            "outcomes": {
                ACCEPTED: sum(s == ACCEPTED for _k, s, _r in outcomes),
                REJECTED: sum(s == REJECTED for _k, s, _r in outcomes),
            },
            "answers_sha256": hashlib.sha256(b"".join(body)).hexdigest(),
        }
    )
    return manifest + b"".join(body) + _line({"signature": key.sign(manifest[:-1]).hex()})


def read_answers(data: bytes, name: str) -> Answers:
    """Verified answers (signature, hash, counts, every line's shape); not yet their trust."""
    what = _("answer file")
    signed = _parse_signed(data, name, ANSWER_FORMAT, what, "answers")
    manifest = signed.manifest

    def bad(reason: str) -> BatchError:
        return BatchError(
            _("{file} is not a valid {what}: {reason}; nothing was applied or marked.").format(
                file=name, what=what, reason=reason
            )
        )

    event_code, batch_id = manifest.get("event"), manifest.get("batch_id")
    batch_sha = manifest.get("batch_manifest_sha256")
    if not _text(event_code, 16) or not event_code:
        raise bad(_("its event is malformed"))
    if not _text(batch_id, 32) or not _HEX.fullmatch(batch_id):
        raise bad(_("its batch id is malformed"))
    if not _text(batch_sha, 64) or len(batch_sha) != 64 or not _HEX.fullmatch(batch_sha):
        raise bad(_("its batch hash is malformed"))
    outcomes: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for number, item in enumerate(signed.items, start=2):
        key, status, reason = item.get("idempotency_key"), item.get("status"), item.get("reason")
        if (
            set(item) != {"idempotency_key", "status", "reason"}
            or not _text(key, 64)
            or status not in (ACCEPTED, REJECTED)
            or not _text(reason, 1000)
        ):
            raise bad(_("line {n} is not an answer").format(n=number))
        if key in seen:
            raise bad(_("line {n}: its idempotency key is there twice").format(n=number))
        seen.add(key)
        outcomes.append((key, status, reason))
    counts = {
        ACCEPTED: sum(s == ACCEPTED for _k, s, _r in outcomes),
        REJECTED: sum(s == REJECTED for _k, s, _r in outcomes),
    }
    if manifest.get("outcomes") != counts:
        raise bad(_("its counts per outcome do not match its lines"))
    return Answers(
        event_code,
        batch_id,
        batch_sha,
        outcomes,
        fingerprint(signed.public_raw),
        signed.public_raw.hex(),
    )


@dataclass(frozen=True)
class ImportReport:
    answered: int
    accepted: int  # newly marked
    rejected: int  # newly marked
    already: int  # answered entries no longer pending (marked before): left as they are
    newly_trusted: bool


def trust_ledger_signer(database: Database, name: str, theirs: str, trust: str | None) -> bool:
    """Whether the ledger key ``theirs`` that signed file ``name`` is one this event trusts,
    or becomes so by ``--trust`` (True: newly, for the caller to record with what it
    writes); raises with the sentence otherwise. One rule for answer and snapshot files."""
    trusted = ledger_batch.trusted_ledger_keys(database.unit_of_work())
    named = normal_fingerprint(trust) if trust else ""
    if trust and not named:
        raise BatchError(
            _("--trust {text} is not a key fingerprint (20 hex digits).").format(text=trust)
        )
    if theirs in trusted:
        return False
    if named and named != theirs:
        raise BatchError(
            _(
                "{file} is signed by the ledger key {theirs}, not by the key {named} you "
                "named; nothing was changed."
            ).format(file=name, theirs=theirs, named=named)
        )
    if named:
        return True
    if trusted:
        raise BatchError(
            _(
                "{file} is signed by the ledger key {theirs}, which this event does not trust "
                "(it trusts {ours}); nothing was changed."
            ).format(file=name, theirs=theirs, ours=", ".join(sorted(trusted)))
        )
    raise BatchError(
        _(
            "{file} is signed by the ledger key {theirs}, and this event trusts no ledger key "
            "yet: nothing was changed; check that fingerprint with the bank's ledger team, "
            "then run again with --trust {theirs}."
        ).format(file=name, theirs=theirs)
    )


def import_answers(
    database: Database,
    path: Path,
    *,
    trust: str | None = None,
    clock: Clock | None = None,
) -> ImportReport:
    """Verify an answer file against the trusted ledger key and the batch this kiosk
    exported, then mark the outbox as the direct push does. Importing it again changes
    nothing. Raises ``SyncBusy`` while a push runs."""
    name = path.name
    answers = read_answers(_read(path, _("answer file")), name)
    with sync_lock(database):
        with database.unit_of_work() as uow:
            event_code = current_event(uow.session).code
        if answers.event_code != event_code:
            raise BatchError(
                _(
                    "{file} answers a batch of event {theirs}, not of this event {ours}; "
                    "nothing was marked."
                ).format(file=name, theirs=answers.event_code, ours=event_code)
            )
        newly = trust_ledger_signer(database, name, answers.signer_fingerprint, trust)
        exported = ledger_batch.exported_batch(database.unit_of_work(), answers.batch_id)
        if exported is None or exported.manifest_sha256 != answers.batch_manifest_sha256:
            raise BatchError(
                _(
                    "{file} answers batch {batch}, which this event database never exported: "
                    "its entries were never sent from here; nothing was marked."
                ).format(file=name, batch=answers.batch_id)
            )
        keys = [k for k, _s, _r in answers.outcomes]
        rows: dict[str, tuple[int, str]] = {}
        with database.unit_of_work() as uow:
            for start in range(0, len(keys), 500):
                for entry_id, key, status in uow.session.execute(
                    select(OutboxEntry.id, OutboxEntry.idempotency_key, OutboxEntry.status).where(
                        OutboxEntry.idempotency_key.in_(keys[start : start + 500])
                    )
                ):
                    rows[key] = (entry_id, status)
        never = [k for k in keys if k not in rows or rows[k][0] not in exported.entry_ids]
        if never:
            raise BatchError(
                _(
                    "{file} answers {n} entries that batch {batch} never sent (the first: "
                    "{key}); nothing was marked."
                ).format(file=name, n=len(never), batch=answers.batch_id, key=never[0])
            )
        if len(keys) != len(exported.entry_ids):
            raise BatchError(
                _(
                    "{file} answers {n} of the {m} entries of batch {batch}; a ledger answers "
                    "every entry. Nothing was marked."
                ).format(file=name, n=len(keys), m=len(exported.entry_ids), batch=answers.batch_id)
            )
        if newly:
            ledger_batch.trust_ledger_key(
                database.unit_of_work(),
                answers.signer_fingerprint,
                answers.signer_public,
                clock=clock,
            )
        waiting = [
            (rows[k][0], s, r) for k, s, r in answers.outcomes if rows[k][1] == OutboxStatus.PENDING
        ]
        accepted = [i for i, s, _r in waiting if s == ACCEPTED]
        refused = [Refused(i, r) for i, s, r in waiting if s != ACCEPTED]
        if waiting:
            record_push(database.unit_of_work(), accepted, refused, clock=clock, station="batch")
    return ImportReport(len(keys), len(accepted), len(refused), len(keys) - len(waiting), newly)
