"""Queueing what the central ledger must learn, in the same transaction as the change itself.

Each entry gets a random idempotency key when it is written, so a push that is cut off can be
repeated (``sync/``) and the ledger applies every entry exactly once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kiosk.audit import canonical_json, insert_noted
from kiosk.models import OutboxEntry


def entry_values(
    event_id: int, kind: str, at: datetime, payload: dict[str, Any], sealed: bool = False
) -> dict[str, Any]:
    """An entry's row by column name, with its fresh key: for ``enqueue`` and for writers
    that insert several entries in one Core statement (``audit.insert_many_noted``)."""
    return {
        "event_id": event_id,
        "idempotency_key": f"{kind}:{uuid.uuid4().hex}",
        "kind": kind,
        "payload": canonical_json(payload),
        "sealed": sealed,
        "created_at": at,
    }


def enqueue(
    session: Session,
    *,
    event_id: int,
    kind: str,
    at: datetime,
    payload: dict[str, Any],
    sealed: bool = False,
) -> OutboxEntry:
    """``sealed``: the payload holds personal data sealed to the privacy key."""
    entry = OutboxEntry(**entry_values(event_id, kind, at, payload, sealed))
    session.add(entry)
    return entry


def enqueue_now(
    session: Session,
    *,
    event_id: int,
    kind: str,
    at: datetime,
    payload: dict[str, Any],
    sealed: bool = False,
) -> int:
    """``enqueue`` with a Core INSERT sent now, noted for the audit as the ORM's would be
    (``audit.insert_noted``): for hot paths (check-in) that spare the ORM's flush. The id."""
    row = insert_noted(session, OutboxEntry, entry_values(event_id, kind, at, payload, sealed))
    return int(row["id"])
