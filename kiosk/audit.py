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

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kiosk.models import AuditRecord

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x61756469  # "audi"


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
) -> AuditRecord:
    """Add an audit record to the session's transaction, chained to the last one."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so two stations never chain to the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    session.flush()
    prev = session.scalar(select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1))
    record = AuditRecord(
        at=at,
        staff_id=staff_id,
        station=station,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        details=canonical_json(details or {}),
        prev_hash=prev or GENESIS,
    )
    record.hash = _digest(record.prev_hash, record)
    session.add(record)
    session.flush()
    return record


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
