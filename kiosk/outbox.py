"""Queueing what the central ledger must learn, in the same transaction as the change itself.

Each entry gets a random idempotency key when it is written, so a push that is cut off can be
repeated (``sync/``) and the ledger applies every entry exactly once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kiosk.audit import canonical_json
from kiosk.models import OutboxEntry


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
    entry = OutboxEntry(
        event_id=event_id,
        idempotency_key=f"{kind}:{uuid.uuid4().hex}",
        kind=kind,
        payload=canonical_json(payload),
        sealed=sealed,
        created_at=at,
    )
    session.add(entry)
    return entry
