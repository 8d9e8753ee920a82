"""Which event this database runs: one rule, kept on the store floor.

The services (``kiosk.services.events.current_event``) and the store beneath them (the privacy
key of ``kiosk.privacy``) both need it; here neither imports upward to find it.

**Once per transaction.** Every service starts by finding the current event, and a station's
refresh (``kiosk.uow.SharedRead``) runs several services in one transaction: each asked
again, one round trip each on the venue LAN (issue #23). The answer is kept in the session
for the rest of its transaction. Which event is current only changes when an event is
created, closed or deleted; the session forgets its answer when it flushes or executes a
change to any event, and when the transaction ends (commit or rollback), so the next
transaction asks the database again and sees another station's change. Within one
transaction nothing is lost: the ORM already returned the same ``Event`` object, with the
values first loaded, to every query of that transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from kiosk.models import Event

_KEPT = "kiosk_current_event"


def find_current_event(session: Session) -> Event | None:
    """The newest event not closed, else the newest; None while the database holds none."""
    kept = session.info.get(_KEPT)
    if kept is not None:
        state = inspect(kept)
        if state.session is session and state.persistent and not state.expired:
            return kept  # type: ignore[no-any-return]
    found = session.scalar(_NEWEST)
    if found is not None and session.in_transaction():
        session.info[_KEPT] = found
    return found


# Built once: every transaction of every service sends it, and building it again with its
# cache key cost a third of what running it does (issue #23 item 5).
_NEWEST = select(Event).order_by(Event.closed_at.is_not(None), Event.id.desc()).limit(1)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_KEPT, None)


def _events_flushed(session: Session, _context: UOWTransaction, _objects: Any) -> None:
    if any(isinstance(obj, Event) for obj in (*session.new, *session.dirty, *session.deleted)):
        _forget(session)


def _events_changed(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and getattr(
        getattr(state.statement, "table", None), "name", None
    ) == Event.__tablename__:
        _forget(state.session)


sa_event.listen(Session, "before_flush", _events_flushed)
sa_event.listen(Session, "do_orm_execute", _events_changed)
sa_event.listen(Session, "after_transaction_end", lambda s, _t: _forget(s))
