"""The current event read alongside an action's first query (``kiosk.current_event``).

Each station action used to ask which event is current in a statement of its own; now the
event comes with the query the action sends first, some of them sent on the event last seen
current (``guess``). Two things must not change with it: with no event in the database every
action still says so in words, and an event the coordinator switched to is the one the next
action reads and writes, never the one guessed from before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from kiosk import audit
from kiosk import current_event as current
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.errors import NoEventError
from kiosk.governance import KycForm
from kiosk.models import Customer, Event, Queue, QueueEntry, Role, Visit
from kiosk.services import booths, desk, reception
from kiosk.services.auth import StaffSession, staff_session
from kiosk.services.slips import CartLine, issue_slips
from tests.booth_support import MORNING

ANY_RM = desk.DeskPolicy(rm_fallback=timedelta(0))


@pytest.fixture
def empty_db(any_empty_url: str) -> Iterator[Database]:
    database = open_database(any_empty_url)
    try:
        yield database
    finally:
        database.dispose()


def _everyone() -> StaffSession:
    """A staff member with every role: there are no staff rows in an empty database, and
    the role checks come before any query."""
    return StaffSession(1, "S001", "Anyone", frozenset(Role), "", MORNING)


def _actions(db: Database) -> dict[str, Callable[[], Any]]:
    """Every action whose first query now brings the current event along."""
    staff, clock = _everyone(), FixedClock(MORNING)
    form = KycForm("王伟", None, None, None, None, None, "id_card", None, None, None, False, None)
    return {
        "check-in": lambda: reception.check_in(
            db.unit_of_work(), 1, staff, route=Queue.SERVICE_DESK, clock=clock, request_id="r"
        ),
        "call next": lambda: desk.call_next(db.unit_of_work(), staff, desk="D1", clock=clock),
        "call a customer": lambda: desk.call_customer(
            db.unit_of_work(), staff, 1, desk="J1", clock=clock
        ),
        "save governance": lambda: desk.save_governance(
            db.unit_of_work(), 1, form, staff, clock=clock
        ),
        "open mobile banking": lambda: desk.open_mobile_banking(
            db.unit_of_work(), 1, staff, clock=clock
        ),
        "waiting": lambda: desk.waiting(db.unit_of_work(), clock=clock),
        "issue slips": lambda: issue_slips(
            db.unit_of_work(),
            1,
            [CartLine("O101")],
            staff,
            Ed25519PrivateKey.generate(),
            clock=clock,
        ),
        "a booth online": lambda: booths.slip_state(db.unit_of_work(), "EV", "M01", 1, 1),
    }


@pytest.mark.parametrize("stale", [False, True], ids=["first-action", "event-deleted"])
def test_with_no_event_every_action_says_so_in_words(empty_db: Database, stale: bool) -> None:
    """No event: the folded query finds no row, and the action asks the old way, which says
    what to do. ``stale``: the engine saw an event before (its guess names one that is gone,
    as after the coordinator deleted it)."""
    if stale:
        current._GUESSES[empty_db.engine] = current.Guess(1, "Asia/Shanghai")
    for name, action in _actions(empty_db).items():
        with pytest.raises(NoEventError, match="holds no event yet") as raised:
            action()
        assert "kiosk demo" in str(raised.value), name


def _new_event(db: Database, code: str) -> int:
    """The coordinator opens another event, through another station's engine (so this one's
    guess still names the event before)."""
    other = open_database(str(db.engine.url.render_as_string(hide_password=False)))
    try:
        with audit.unaudited(), other.unit_of_work() as uow:  # test setup
            event = Event(
                code=code, name=f"Event {code}", event_date=date(2026, 12, 1), created_at=MORNING
            )
            uow.session.add(event)
            uow.commit()
            return event.id
    finally:
        other.dispose()


def test_an_event_switched_to_is_the_one_the_next_actions_read_and_write(
    any_demo_db: Database,
) -> None:
    """The engine's guess is the demo event; once another event is opened, a check-in (sent
    on the guess) writes its visit and ticket into the new event, and after one more switch a
    desk calling next (its lock keyed on the guess) finds nobody waiting there."""
    db, clock = any_demo_db, FixedClock(MORNING)
    front = staff_session(db.unit_of_work(), "R001", clock=clock)
    rm = staff_session(db.unit_of_work(), "RM001", clock=clock)
    with db.unit_of_work() as uow:
        first, second = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(2))
        demo = current.find_current_event(uow.session)
        assert demo is not None
        demo_id = demo.id
    reception.check_in(db.unit_of_work(), first, front, route=Queue.SERVICE_DESK, clock=clock)
    with db.unit_of_work() as uow:
        assert current.guess(uow.session) == current.Guess(demo_id, demo.timezone)

    switched = _new_event(db, "NEXT")
    made = reception.check_in(
        db.unit_of_work(), second, front, route=Queue.SERVICE_DESK, clock=clock, request_id="x"
    )
    assert made.created
    with db.unit_of_work() as uow:
        visit = uow.session.scalar(select(Visit).where(Visit.id == made.card.visit.visit_id))
        assert visit is not None and visit.event_id == switched
        entry = uow.session.scalar(select(QueueEntry).where(QueueEntry.visit_id == visit.id))
        assert entry is not None and (entry.event_id, entry.ticket_no) == (switched, 1)
    assert [w.ticket for w in desk.waiting(db.unit_of_work(), clock=clock)] == [made.ticket]

    _new_event(db, "LATER")
    assert desk.call_next(db.unit_of_work(), rm, desk="D1", clock=clock, policy=ANY_RM) is None
    assert desk.waiting(db.unit_of_work(), clock=clock) == []
