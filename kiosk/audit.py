"""Append-only, hash-chained audit records.

Each record's hash covers its content and the previous record's hash, so editing, deleting or
reordering any record breaks the chain from that point on and ``verify`` says where. Details
must never hold personal data (names, ID numbers, phones): ids and codes only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from kiosk.models import AuditRecord

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x61756469  # "audi"
_PENDING = "kiosk_audit_pending"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(prev_hash: str, record: AuditRecord) -> str:
    body = canonical_json(
        {
            "at": record.at.isoformat(),
            "staff_id": record.staff_id,
            "station": record.station,
            "action": record.action,
            "entity": record.entity,
            "entity_id": record.entity_id,
            "details": record.details,
            # Left out when empty, so records written before these fields existed still verify.
            **({"approved_by": record.approved_by} if record.approved_by is not None else {}),
            **({"before": record.before_digest} if record.before_digest else {}),
            **({"after": record.after_digest} if record.after_digest else {}),
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append(
    session: Session,
    *,
    at: datetime,
    action: str,
    staff_id: int | None = None,
    station: str = "",
    entity: str = "",
    entity_id: str | int = "",
    details: dict[str, Any] | None = None,
    approved_by: int | None = None,
    before_digest: str = "",
    after_digest: str = "",
) -> None:
    """Add an audit record to the session's transaction; it is chained when it commits.

    Chaining needs the newest record, so appenders must take turns. Taking turns at commit
    rather than here keeps that turn short and makes the audit lock the last lock every
    transaction takes (after all its row locks), so it can never close a deadlock cycle: a
    transaction that appended and then locked a slip row would otherwise wait for a void
    that itself waits for the audit lock.
    """
    record = AuditRecord(
        at=at,
        staff_id=staff_id,
        station=station,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        details=canonical_json(details or {}),
        approved_by=approved_by,
        before_digest=before_digest,
        after_digest=after_digest,
    )
    session.info.setdefault(_PENDING, []).append(record)


def write_pending(session: Session) -> None:
    """Chain and insert the records appended in this transaction (called before commit)."""
    records: list[AuditRecord] = session.info.pop(_PENDING, [])
    if not records:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so two stations never chain to the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    prev = session.scalar(select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1))
    for record in records:
        record.prev_hash = prev or GENESIS
        record.hash = prev = _digest(record.prev_hash, record)
        session.add(record)
        session.flush()  # one at a time: the ids follow the chain


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)


# Every session writes what it appended when it commits and forgets it when it rolls back.
event.listen(Session, "before_commit", write_pending)
event.listen(Session, "after_soft_rollback", _forget)


@dataclass(frozen=True)
class ChainProblem:
    record_id: int
    reason: str


def verify(session: Session) -> ChainProblem | None:
    """The first place the chain is broken, or None when it is intact."""
    prev = GENESIS
    for record in session.scalars(select(AuditRecord).order_by(AuditRecord.id)):
        if record.prev_hash != prev:
            return ChainProblem(record.id, "a record before this one was removed or reordered")
        if _digest(prev, record) != record.hash:
            return ChainProblem(record.id, "this record was edited")
        prev = record.hash
    return None
