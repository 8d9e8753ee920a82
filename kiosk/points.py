"""A customer's points at the event: the ledger snapshot minus reserves plus releases.

The snapshot is what the central ledger said before the event; issuing a slip reserves
points in the append-only journal and voiding it releases them, so the balance is always
derived, never overwritten.
"""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kiosk.models import Customer, JournalEntry, JournalKind


def available_points(session: Session, customer: Customer) -> int:
    delta = session.scalar(
        select(
            func.coalesce(
                func.sum(
                    case(
                        (JournalEntry.kind == JournalKind.RELEASE, JournalEntry.points),
                        else_=-JournalEntry.points,
                    )
                ),
                0,
            )
        ).where(JournalEntry.customer_id == customer.id, JournalEntry.settled_at.is_(None))
    )
    return customer.points_balance + int(delta or 0)
