"""Pending outbox entries written straight into an event database, for the sync tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from kiosk.audit import canonical_json
from kiosk.models import OutboxEntry, OutboxStatus


def put_pending(
    session: Session,
    event_id: int,
    entries: Iterable[tuple[str, str, dict[str, Any]]],
    at: datetime,
) -> None:
    """``entries`` as (key, kind, payload) in the outbox of ``event_id``, pending, in one
    statement; the caller commits (under ``audit.unaudited()``: test setup)."""
    session.execute(
        insert(OutboxEntry),
        [
            {
                "event_id": event_id,
                "idempotency_key": key,
                "kind": kind,
                "payload": canonical_json(payload),
                "created_at": at,
                "status": OutboxStatus.PENDING,
            }
            for key, kind, payload in entries
        ],
    )
