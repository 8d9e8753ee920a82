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

import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, aliased

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
    if found is not None:
        keep(session, found)
    return found


def keep(session: Session, event: Event) -> Event:
    """``event``, read as the current one by a query of this transaction (``CURRENT``), kept
    for the rest of the transaction and as this engine's ``guess``."""
    if session.in_transaction():
        session.info[_KEPT] = event
    bind = session.get_bind()
    if isinstance(bind, Engine):
        _GUESSES[bind] = Guess(event.id, event.timezone)
    return event


@dataclass(frozen=True)
class Guess:
    """The event last seen current through an engine: a hint, never trusted unchecked."""

    id: int
    timezone: str


# Per engine (tests and the coordinator's tools open several databases in one process).
_GUESSES: weakref.WeakKeyDictionary[Engine, Guess] = weakref.WeakKeyDictionary()


def guess(session: Session) -> Guess | None:
    """The event last seen current through this session's engine, or None: only for a query
    that joins ``CURRENT`` on its id, so that a row back proves it (the module's docstring)."""
    bind = session.get_bind()
    return _GUESSES.get(bind) if isinstance(bind, Engine) else None


# Built once: every transaction of every service sends it, and building it again with its
# cache key cost a third of what running it does (issue #23 item 5).
_NEWEST = select(Event).order_by(Event.closed_at.is_not(None), Event.id.desc()).limit(1)

# The current event as a one-row subquery, for an action's first query to join (and load as
# an ``Event``, then ``keep``); no row at all when the database holds no event.
CURRENT = aliased(Event, _NEWEST.subquery("current_event"), name="current_event")


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
