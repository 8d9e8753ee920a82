"""Signed checkpoints of the audit chain, and what the chain looks like against them (#26).

The hash chain names any record edited, deleted or reordered in its middle, but it has no
secret: someone with the database who rewrites every record after the one they changed (each
hash recomputed), or who removes the newest records, leaves a chain that checks. A
**checkpoint** is the chain's head at one moment (how many records, the newest one's hash)
signed with the event's Ed25519 signing key, which only the event passphrase unlocks
(``kiosk.services.keys``). Nobody without the passphrase can sign another, so:

- records rewritten and rehashed up to a checkpoint: the record at the checkpoint's count no
  longer has its signed hash;
- the newest records removed: the chain is shorter than a checkpoint's count;
- records after the newest checkpoint are not vouched for by any signature yet: a fact to
  report, not an error.

Checkpoints are kept in the database (``audit_checkpoint``), beside every backup (one JSON
line per checkpoint in ``kiosk-<event>-checkpoints.jsonl``) and at the ledger (an outbox
entry of kind ``audit_checkpoint``), so removing them from the database alone hides nothing.
A checkpoint's line is the same JSON object in all three places (``to_json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.audit import canonical_json
from kiosk.errors import KioskError
from kiosk.files import write_text_atomic
from kiosk.i18n import _
from kiosk.models import AuditCheckpoint, AuditRecord

KIND = "audit_checkpoint"  # the outbox entry's kind, and the file lines' "kind"
_DOMAIN = b"kiosk audit checkpoint v1\n"  # what the signature covers starts with this
REASONS = ("backup", "close", "push", "manual")
MAX_FILE = 16 * 1024 * 1024  # a checkpoint file is a few hundred bytes a line


def reason_label(reason: str) -> str:
    """Why a checkpoint was signed, as a sentence says it (``REASONS`` are stored codes)."""
    labels = {
        "backup": _("at a backup"),
        "close": _("at the event's close"),
        "push": _("at a sync push"),
        "manual": _("on demand"),
    }
    return labels.get(reason, reason)


def source_label(source: str) -> str:
    """Where a checkpoint was found: "database" said in the reader's language, a path as is."""
    return _("in the database") if source == "database" else source


class CheckpointError(KioskError):
    """A checkpoint file that cannot be read; the sentence names it and says why."""


@dataclass(frozen=True)
class Checkpoint:
    event: str  # the event's code: a checkpoint of another event proves nothing here
    count: int  # records in the chain when it was signed
    head: str  # the newest record's hash then
    at: datetime
    reason: str
    key_id: str  # hex id of the signing key
    signature: str = ""  # Ed25519 over ``signed_bytes``, hex
    source: str = ""  # where it was found (not signed): "database", a file's path, …

    def signed_bytes(self) -> bytes:
        body = {
            "event": self.event,
            "count": self.count,
            "head": self.head,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "key_id": self.key_id,
        }
        return _DOMAIN + canonical_json(body).encode()

    def to_json(self) -> dict[str, Any]:
        """The object kept beside backups and sent to the ledger."""
        return {
            "kind": KIND,
            "event": self.event,
            "count": self.count,
            "head": self.head,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "key_id": self.key_id,
            "signature": self.signature,
        }


def sign(checkpoint: Checkpoint, private_key: Ed25519PrivateKey) -> Checkpoint:
    return replace(checkpoint, signature=private_key.sign(checkpoint.signed_bytes()).hex())


def valid(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """Signed by the event key it names (``keys``: key id hex -> public key)."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(checkpoint.signature), checkpoint.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def head(session: Session) -> tuple[int, str]:
    """The chain's record count and newest hash, read in one statement (one snapshot)."""
    newest = select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1).scalar_subquery()
    count, hashed = session.execute(select(func.count(AuditRecord.id), newest)).one()
    return int(count), hashed or "0" * 64


def from_row(row: AuditCheckpoint, event_code: str) -> Checkpoint:
    return Checkpoint(
        event_code,
        int(row.record_count),
        row.head_hash,
        row.at,
        row.reason,
        row.key_id,
        row.signature,
        "database",
    )


def from_json(data: Any, source: str) -> Checkpoint | None:
    """A checkpoint from its JSON object; None when the object is not one."""
    if not isinstance(data, dict) or data.get("kind", KIND) != KIND:
        return None
    try:
        count = data["count"]
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count < 2**63:
            return None
        fields = [data[name] for name in ("event", "head", "at", "reason", "key_id", "signature")]
        if not all(isinstance(value, str) and len(value) <= 200 for value in fields):
            return None
        at = datetime.fromisoformat(data["at"])
    except (KeyError, ValueError):
        return None
    if at.tzinfo is None:
        return None
    return Checkpoint(
        data["event"], count, data["head"], at, data["reason"], data["key_id"],
        data["signature"], source,
    )  # fmt: skip


@dataclass
class Found:
    """The checkpoints read from files, and each line of them that is no checkpoint: a
    damaged line is named, never skipped in silence (it may be the very checkpoint someone
    wanted gone)."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    damaged: list[CheckpointProblem] = field(default_factory=list)

    def extend(self, other: Found) -> None:
        self.checkpoints += other.checkpoints
        self.damaged += other.damaged


def _lines(path: Path) -> list[str]:
    try:
        if path.stat().st_size > MAX_FILE:
            raise CheckpointError(
                _("{file} is too large to be a checkpoint file.").format(file=path)
            )
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise CheckpointError(
            _("Cannot read the checkpoint file {file}: {reason}.").format(file=path, reason=reason)
        ) from None


def _parse(line: str, source: str) -> Checkpoint | None:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return from_json(data, source)


def read_file(path: Path) -> Found:
    """Every checkpoint in a file of JSON lines (a backup folder's, the ledger's export, or
    one saved by hand), and every non-blank line that is none."""
    found = Found()
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        checkpoint = _parse(line, str(path))
        if checkpoint is not None:
            found.checkpoints.append(checkpoint)
            continue
        found.damaged.append(
            CheckpointProblem(
                "damaged",
                _(
                    "Line {line} of {file} is not a readable checkpoint (damaged or changed "
                    "by hand), so it could not be compared."
                ).format(line=number, file=path),
            )
        )
    return found


def folder_file(folder: Path, event_code: str) -> Path:
    """The file beside an event's backups that keeps its checkpoints."""
    return folder / f"kiosk-{event_code}-checkpoints.jsonl"


def read_folder(folder: Path) -> Found:
    """Every checkpoint kept in a backup folder (every event's checkpoint file in it)."""
    if not folder.is_dir():
        raise CheckpointError(_("{folder} is not a folder.").format(folder=folder))
    found = Found()
    for path in sorted(folder.glob("kiosk-*-checkpoints.jsonl")):
        found.extend(read_file(path))
    return found


def keep_in_folder(folder: Path, event_code: str, checkpoints: Iterable[Checkpoint]) -> Path:
    """Add ``checkpoints`` to the folder's checkpoint file, keeping every line it had as it
    was (a checkpoint removed from the database since stays here, and so does a damaged line:
    ``kiosk audit verify`` names it), written atomically."""
    path = folder_file(folder, event_code)
    lines = [line for line in _lines(path) if line.strip()] if path.exists() else []
    seen = {c.signature for c in (_parse(line, str(path)) for line in lines) if c is not None}
    for checkpoint in checkpoints:
        if checkpoint.signature not in seen:
            seen.add(checkpoint.signature)
            lines.append(canonical_json(checkpoint.to_json()))
    write_text_atomic(path, "".join(line + "\n" for line in lines), private=True)
    return path


def in_database(session: Session, event_code: str) -> list[Checkpoint]:
    return [
        from_row(row, event_code)
        for row in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))
    ]


# --- the chain against its checkpoints ---------------------------------------------------


@dataclass(frozen=True)
class CheckpointProblem:
    """``kind``: rewritten (the signed head is no longer at its place), missing (the chain is
    shorter than a checkpoint), forged (a checkpoint whose signature does not verify),
    damaged (a line of a checkpoint file that is no checkpoint)."""

    kind: str
    reason: str  # one translated sentence


@dataclass(frozen=True)
class CheckpointReport:
    newest: Checkpoint | None  # the newest checkpoint with a valid signature
    checked: int  # checkpoints with a valid signature that were compared
    problems: list[CheckpointProblem]
    # Records written after the newest checkpoint: (first id, last id, how many); None if none.
    not_covered: tuple[int, int, int] | None


def _when(checkpoint: Checkpoint) -> str:
    return _("the checkpoint of {at:%Y-%m-%d %H:%M:%S} UTC ({source})").format(
        at=checkpoint.at.astimezone(UTC), source=source_label(checkpoint.source)
    )


def compare(
    records: list[tuple[int, str]],
    checkpoints: Iterable[Checkpoint],
    keys: Mapping[str, Ed25519PublicKey],
    event_code: str,
) -> CheckpointReport:
    """The chain (``records``: (id, hash) in chain order) against every checkpoint found.

    Each checkpoint of this event with a valid signature is compared: the record at its count
    must carry its head hash. The newest valid one says which records no signature covers
    yet. Checkpoints whose signature does not verify are reported and otherwise ignored.
    """
    problems: list[CheckpointProblem] = []
    good: dict[bytes, Checkpoint] = {}  # the same checkpoint found in several places: once
    for checkpoint in checkpoints:
        seen = checkpoint.signed_bytes() + checkpoint.signature.encode()
        if checkpoint.event != event_code or seen in good:
            continue
        if checkpoint.reason not in REASONS or not valid(checkpoint, keys):
            problems.append(
                CheckpointProblem(
                    "forged",
                    _(
                        "A checkpoint in {source} (record {n}) does not carry a valid signature "
                        "of this event's key: it was not made by this kiosk, or was changed."
                    ).format(source=source_label(checkpoint.source), n=checkpoint.count),
                )
            )
            continue
        good[seen] = checkpoint
    ordered = sorted(good.values(), key=lambda c: (c.count, c.at))
    # Compare every checkpoint, oldest first. The first one whose head is gone places the
    # rewrite between it and the newest one before it that still holds; the longest one the
    # chain falls short of says how many records are missing. Later failures follow from
    # these two and are not repeated.
    holding: Checkpoint | None = None
    rewritten: tuple[Checkpoint, Checkpoint | None] | None = None
    short: Checkpoint | None = None
    for checkpoint in ordered:
        n = checkpoint.count
        if n > len(records):
            short = checkpoint
        elif n and records[n - 1][1] != checkpoint.head:
            rewritten = rewritten or (checkpoint, holding)
        elif rewritten is None:
            holding = checkpoint
    if rewritten is not None:
        checkpoint, before = rewritten
        n = checkpoint.count
        first = before.count if before is not None else 0
        sentence = (
            _(
                "Records were rewritten after they were signed: {checkpoint} signed "
                "record {id} with hash {signed}, it now has {now}; the change lies in "
                "records {a} to {id}."
            )
            if n - first > 1
            else _(
                "Record {id} was rewritten after it was signed: {checkpoint} signed it with "
                "hash {signed}, it now has {now}."
            )
        )
        problems.append(
            CheckpointProblem(
                "rewritten",
                sentence.format(
                    checkpoint=_when(checkpoint),
                    id=records[n - 1][0],
                    signed=checkpoint.head[:16],
                    now=records[n - 1][1][:16],
                    a=records[first][0],
                ),
            )
        )
    if short is not None:
        problems.append(
            CheckpointProblem(
                "missing",
                _(
                    "{n} of the newest records are missing: {checkpoint} signed {count} "
                    "records, the chain now has {now} (it ends at record {last})."
                ).format(
                    n=short.count - len(records),
                    checkpoint=_when(short),
                    count=short.count,
                    now=len(records),
                    last=records[-1][0] if records else 0,
                ),
            )
        )
    newest = ordered[-1] if ordered else None
    not_covered = None
    start = newest.count if newest is not None else 0
    if len(records) > start:
        not_covered = (records[start][0], records[-1][0], len(records) - start)
    return CheckpointReport(newest, len(ordered), problems, not_covered)
