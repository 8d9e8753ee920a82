"""Which event this database runs: one rule, kept on the store floor.

The services (``kiosk.services.events.current_event``) and the store beneath them (the privacy
key of ``kiosk.privacy``) both need it; here neither imports upward to find it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.models import Event


def find_current_event(session: Session) -> Event | None:
    """The newest event not closed, else the newest; None while the database holds none."""
    return session.scalar(
        select(Event).order_by(Event.closed_at.is_not(None), Event.id.desc()).limit(1)
    )
