"""What a desk has called comes from the database (#16 symptom 1), on SQLite and PostgreSQL.

A desk is a counter name at one queue. Whatever screen called a customer, every later look at
that desk (a re-layout, a restart, a sign-out, another laptop given the counter's name) finds
the same customer; a desk calls one customer at a time; and the queue invariant holds after
every step (``kiosk.services.queues.violations``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import Customer, Queue, QueueEntry, QueueStatus
from kiosk.services import activation, desk, queues, reception
from kiosk.services.auth import StaffSession, staff_session
from kiosk.services.desk import DeskBusy, DeskError
from tests.queue_support import assert_queues_hold

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)
COUNTER = "3 号柜台"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MORNING)


def _check_in(db: Database, clock: FixedClock, queue: Queue, n: int, skip: int = 0) -> list[int]:
    """Check ``n`` customers in to ``queue``, 30 s apart; their ids."""
    reception_staff = staff_session(db.unit_of_work(), "R001", clock=clock)
    with db.unit_of_work() as uow:
        ids = uow.session.scalars(
            select(Customer.id).order_by(Customer.id).offset(skip).limit(n)
        ).all()
    for customer_id in ids:
        reception.check_in(
            db.unit_of_work(), customer_id, reception_staff, route=queue, clock=clock
        )
        clock.advance(seconds=30)
    return list(ids)


def _s001(db: Database, clock: FixedClock) -> StaffSession:
    return staff_session(db.unit_of_work(), "S001", clock=clock)


def test_each_desk_shows_what_it_called_after_a_restart(
    any_demo_db: Database, any_demo_url: str, clock: FixedClock
) -> None:
    """The reported case: S001 calls B001 at the service desk and J001 at activation at one
    counter; each desk of that counter finds its customer, from a new connection too."""
    db = any_demo_db
    _check_in(db, clock, Queue.SERVICE_DESK, 2)
    _check_in(db, clock, Queue.ACTIVATION, 2, skip=2)
    assert_queues_hold(db, "check-in")
    clock.advance(minutes=11)  # past the RM fallback: S001 may call anyone's customer
    staff = _s001(db, clock)
    b = desk.call_next(db.unit_of_work(), staff, desk=COUNTER, clock=clock)
    assert b is not None and b.ticket == "B001" and b.desk == COUNTER
    assert_queues_hold(db, "call B001")
    clock.advance(seconds=20)
    j = desk.call_next(db.unit_of_work(), staff, desk=COUNTER, queue=Queue.ACTIVATION, clock=clock)
    assert j is not None and j.ticket == "J001" and j.queue == Queue.ACTIVATION
    assert_queues_hold(db, "call J001")

    restarted = open_database(any_demo_url)  # a restart, or another laptop on the LAN
    try:
        assert desk.current_call(restarted.unit_of_work(), desk=COUNTER) == b
        assert (
            desk.current_call(
                restarted.unit_of_work(), desk=f"  {COUNTER} ", queue=Queue.ACTIVATION
            )
            == j
        )
        assert desk.current_call(restarted.unit_of_work(), desk="5 号柜台") is None
        assert desk.current_call(restarted.unit_of_work(), desk="") is None
        # The public display beside the counter: both of its calls, the latest first.
        assert [c.ticket for c in desk.counter_calls(restarted.unit_of_work(), COUNTER)] == [
            "J001",
            "B001",
        ]
        assert [(c.name, c.called) for c in desk.counters(restarted.unit_of_work())] == [
            (COUNTER, ("B001", "J001"))
        ]
    finally:
        restarted.dispose()

    # Done at each desk: nobody is called there any more, and the invariant still holds.
    desk.route_on(db.unit_of_work(), b.entry_id, staff, clock=clock, desk=COUNTER)
    assert desk.current_call(db.unit_of_work(), desk=COUNTER) is None
    assert_queues_hold(db, "route on B001")
    activation.finish(db.unit_of_work(), j.entry_id, staff, clock=clock, desk=COUNTER)
    assert desk.current_call(db.unit_of_work(), desk=COUNTER, queue=Queue.ACTIVATION) is None
    assert_queues_hold(db, "finish J001")
    assert [(c.name, c.called) for c in desk.counters(db.unit_of_work())] == [(COUNTER, ())]


def test_a_desk_calls_one_customer_at_a_time(any_demo_db: Database, clock: FixedClock) -> None:
    """F5 again with a customer still called used to call a second one and lose the first
    from every screen (its ticket stayed ``called``). Now the desk is told who it has."""
    db = any_demo_db
    _check_in(db, clock, Queue.SERVICE_DESK, 3)
    clock.advance(minutes=11)
    staff = _s001(db, clock)
    first = desk.call_next(db.unit_of_work(), staff, desk=COUNTER, clock=clock)
    assert first is not None
    with pytest.raises(DeskBusy, match="B001 is still called at 3 号柜台") as busy:
        desk.call_next(db.unit_of_work(), staff, desk=COUNTER, clock=clock)
    assert busy.value.called == first
    assert_queues_hold(db, "a second F5")
    # Another counter calls the next customer as usual.
    other = desk.call_next(db.unit_of_work(), staff, desk="4", clock=clock)
    assert other is not None and other.ticket == "B002"
    assert_queues_hold(db, "another counter")
    desk.skip(db.unit_of_work(), first.entry_id, staff, clock=clock, desk=COUNTER)
    assert_queues_hold(db, "no-show")
    third = desk.call_next(db.unit_of_work(), staff, desk=COUNTER, clock=clock)
    assert third is not None and third.ticket == "B003"
    # The database itself refuses a second customer called to one desk.
    with pytest.raises(IntegrityError), audit.unaudited(), db.unit_of_work() as uow:
        uow.session.execute(
            update(QueueEntry).where(QueueEntry.id == other.entry_id).values(desk=COUNTER)
        )
        uow.commit()
    assert_queues_hold(db, "refused update")


def test_two_laptops_on_one_counter_call_one_customer(any_demo_url: str, clock: FixedClock) -> None:
    """A laptop taking over a counter while the old one is still on: both press F5 at once;
    the counter gets one customer, the other laptop is told who it is."""
    db = open_database(any_demo_url)
    _check_in(db, clock, Queue.SERVICE_DESK, 4)
    db.dispose()
    later = FixedClock(datetime(2026, 11, 28, 2, 30, tzinfo=UTC))
    barrier = threading.Barrier(2)
    results: list[object] = []
    lock = threading.Lock()

    def laptop() -> None:
        database = open_database(any_demo_url)
        staff = staff_session(database.unit_of_work(), "S001", clock=later)
        barrier.wait()
        try:
            outcome: object = desk.call_next(
                database.unit_of_work(), staff, desk=COUNTER, clock=later
            )
        except DeskBusy as error:
            outcome = error.called
        finally:
            database.dispose()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=laptop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1]  # the same customer, B001
    db = open_database(any_demo_url)
    try:
        assert_queues_hold(db, "two laptops")
        with db.unit_of_work() as uow:
            called = uow.session.scalars(
                select(QueueEntry.ticket_no).where(QueueEntry.status == QueueStatus.CALLED)
            ).all()
        assert called == [1]
    finally:
        db.dispose()


def test_a_stale_screen_never_acts_on_another_desks_customer(
    any_demo_db: Database, clock: FixedClock
) -> None:
    db = any_demo_db
    _check_in(db, clock, Queue.SERVICE_DESK, 1)
    _check_in(db, clock, Queue.ACTIVATION, 1, skip=1)
    clock.advance(minutes=11)
    staff = _s001(db, clock)
    called = desk.call_next(db.unit_of_work(), staff, desk="1", clock=clock)
    assert called is not None
    desk.requeue(db.unit_of_work(), called.entry_id, staff, clock=clock, desk="1")
    clock.advance(minutes=11)
    again = desk.call_next(db.unit_of_work(), staff, desk="2", clock=clock)
    assert again is not None and again.entry_id == called.entry_id
    for act in (desk.route_on, desk.skip, desk.requeue):
        with pytest.raises(DeskError, match="now called at counter 2"):
            act(db.unit_of_work(), called.entry_id, staff, clock=clock, desk="1")
    with pytest.raises(DeskError, match="now called at counter 2"):
        desk.transfer(db.unit_of_work(), called.entry_id, "RM001", staff, clock=clock, desk="1")
    j = desk.call_next(db.unit_of_work(), staff, desk="1", queue=Queue.ACTIVATION, clock=clock)
    assert j is not None
    with pytest.raises(activation.ActivationError, match="now called at counter 1"):
        activation.finish(db.unit_of_work(), j.entry_id, staff, clock=clock, desk="2")
    assert desk.current_call(db.unit_of_work(), desk="2") == again
    assert_queues_hold(db, "stale screens refused")


def test_a_customer_at_the_desk_is_called_there(any_demo_db: Database, clock: FixedClock) -> None:
    """Scanning a customer at the activation desk serves them there (their ticket is called
    to this counter); anything else says where the customer is and changes nothing."""
    db = any_demo_db
    (at_service,) = _check_in(db, clock, Queue.SERVICE_DESK, 1)
    first, second, third = _check_in(db, clock, Queue.ACTIVATION, 3, skip=1)
    with db.unit_of_work() as uow:
        stranger = uow.session.scalar(select(Customer.id).order_by(Customer.id.desc()).limit(1))
    assert stranger is not None
    staff = staff_session(db.unit_of_work(), "A001", clock=clock)

    def call(customer_id: int, counter: str = COUNTER) -> desk.Called:
        return desk.call_customer(
            db.unit_of_work(), staff, customer_id, desk=counter, queue=Queue.ACTIVATION, clock=clock
        )

    got = call(second)  # out of turn: the customer stands at the desk
    assert got.ticket == "J002" and got.desk == COUNTER
    assert call(second) == got  # scanned again: the same call
    assert desk.current_call(db.unit_of_work(), desk=COUNTER, queue=Queue.ACTIVATION) == got
    assert_queues_hold(db, "call by scan")
    with pytest.raises(DeskBusy, match="J002 is still called"):
        call(first)
    with pytest.raises(DeskError, match="J002 is being served at 3 号柜台"):
        call(second, "5")
    with pytest.raises(DeskError, match="B001 waits for the service desk first"):
        call(at_service, "5")
    with pytest.raises(DeskError, match="has not checked in"):
        call(stranger, "5")
    activation.finish(db.unit_of_work(), got.entry_id, staff, clock=clock, desk=COUNTER)
    with pytest.raises(DeskError, match="J002 is already done"):
        call(second)
    # A no-show who turns up at the desk is served there.
    j3 = desk.call_next(db.unit_of_work(), staff, desk=COUNTER, queue=Queue.ACTIVATION, clock=clock)
    assert j3 is not None and j3.customer_id == first
    desk.skip(db.unit_of_work(), j3.entry_id, staff, clock=clock, desk=COUNTER)
    assert call(first).ticket == "J001"
    assert_queues_hold(db, "a no-show served")
    assert third  # still waiting, untouched
    with db.unit_of_work() as uow:
        status = uow.session.scalar(
            select(QueueEntry.status).where(
                QueueEntry.ticket_no == 3, QueueEntry.queue == "activation"
            )
        )
    assert status == QueueStatus.WAITING


def test_counter_names() -> None:
    assert desk.counter_name("  3   号柜台 ") == "3 号柜台"
    assert desk.counter_name("VIP 贵宾室 12 号柜台") == "VIP 贵宾室 12 号柜台"
    with pytest.raises(DeskError, match="Name this laptop's counter"):
        desk.counter_name("   ")
    with pytest.raises(DeskError, match="at most 16 characters"):
        desk.counter_name("x" * 17)
    assert desk.counter_label("3") == "counter 3"
    assert desk.counter_label("3 号柜台") == "3 号柜台"
    from kiosk.i18n import set_language

    set_language("zh_CN")
    try:
        assert desk.counter_label("3") == "3 号柜台"
    finally:
        set_language("en")


def test_call_next_needs_a_counter(any_demo_db: Database, clock: FixedClock) -> None:
    _check_in(any_demo_db, clock, Queue.SERVICE_DESK, 1)
    with pytest.raises(DeskError, match="Name this laptop's counter"):
        desk.call_next(any_demo_db.unit_of_work(), _s001(any_demo_db, clock), desk=" ", clock=clock)
    assert_queues_hold(any_demo_db)


# -- the invariant itself -------------------------------------------------------------------


def _t(ticket: str, status: str, desk_name: str | None = None, **kw: object) -> queues.Ticket:
    called = status == QueueStatus.CALLED
    return queues.Ticket(
        ticket=ticket,
        queue="activation" if ticket.startswith("J") else "service_desk",
        status=status,
        desk=desk_name if desk_name is not None else ("1" if called else None),
        called_by=kw.get("called_by", 7 if called else None),  # type: ignore[arg-type]
        called_at=kw.get("called_at", MORNING if called else None),  # type: ignore[arg-type]
        finished_at=kw.get(  # type: ignore[arg-type]
            "finished_at", MORNING if status in ("done", "skipped") else None
        ),
    )


@pytest.mark.parametrize(
    ("tickets", "state"),
    [
        ([_t("B001", "waiting")], queues.CustomerState.WAITING),
        ([_t("B001", "called")], queues.CustomerState.CALLED),
        ([_t("B001", "skipped")], queues.CustomerState.NO_SHOW),
        ([_t("B001", "done"), _t("J001", "waiting")], queues.CustomerState.WAITING),
        ([_t("B001", "done"), _t("J001", "called")], queues.CustomerState.CALLED),
        ([_t("B001", "done"), _t("J001", "done")], queues.CustomerState.DONE),
    ],
)
def test_each_state(tickets: list[queues.Ticket], state: queues.CustomerState) -> None:
    assert queues.state_of(tickets) == (state, [])


@pytest.mark.parametrize(
    ("tickets", "problem"),
    [
        ([], "checked in but holds no queue ticket"),
        ([_t("B001", "called", desk_name="")], "B001 is called at no named desk"),
        ([_t("B001", "called", called_by=None)], "B001 is called without who called it"),
        ([_t("B001", "waiting", desk_name="S001")], "B001 is waiting but still names desk S001"),
        ([_t("B001", "done", finished_at=None)], "B001 is closed without a time"),
        ([_t("B001", "cancelled")], "B001 has the status cancelled, which no desk shows"),
        (
            [_t("B001", "called"), _t("J001", "waiting")],
            "in several states at once: B001 called, J001 waiting",
        ),
        ([_t("B001", "skipped"), _t("J001", "waiting")], "B001 is skipped although a later"),
        ([_t("B001", "waiting"), _t("J001", "done")], "B001 is still open behind the newer J001"),
    ],
)
def test_each_violation_in_words(tickets: list[queues.Ticket], problem: str) -> None:
    state, problems = queues.state_of(tickets)
    assert state is None
    assert any(p.startswith(problem) for p in problems), problems


def test_violations_in_the_database(any_demo_db: Database, clock: FixedClock) -> None:
    """What the vanished-customer bug left behind is named customer by customer and desk by
    desk (written as the old code wrote it, past the new index's reach: another desk)."""
    db = any_demo_db
    ids = _check_in(db, clock, Queue.SERVICE_DESK, 3)
    assert queues.violations(db.unit_of_work()) == []
    with audit.unaudited(), db.unit_of_work() as uow:
        s = uow.session
        entries = s.scalars(select(QueueEntry).order_by(QueueEntry.id)).all()
        entries[0].status = QueueStatus.CALLED  # called, but at no desk and by nobody
        entries[1].status = QueueStatus.CALLED
        entries[1].desk, entries[1].called_by, entries[1].called_at = "S001", 1, MORNING
        s.delete(entries[2])  # a visit without a ticket
        uow.commit()
    with db.unit_of_work() as uow:
        numbers = dict(
            uow.session.execute(
                select(Customer.id, Customer.customer_no).where(Customer.id.in_(ids))
            ).all()
        )
    found = queues.violations(db.unit_of_work())
    assert len(found) == 3, found
    assert (
        found[0].startswith(f"Customer {numbers[ids[0]]} (")
        and "B001 is called at no named desk" in found[0]
    )
    assert "B001 is called without who called it or when" in found[1]
    assert found[2].endswith("checked in but holds no queue ticket")
    assert "*" in found[0]  # names masked


def test_an_event_in_progress_is_repaired_on_upgrade(any_demo_url: str, clock: FixedClock) -> None:
    """A database the old kiosk left with two customers called to one desk (the second F5)
    opens: the one lost behind the later call waits again, first in line."""
    from alembic import command
    from sqlalchemy import text

    from kiosk.db import _alembic_config, _foreign_keys, create_db_engine

    db = open_database(any_demo_url)
    _check_in(db, clock, Queue.SERVICE_DESK, 3)
    db.dispose()
    engine = create_db_engine(any_demo_url)
    with engine.connect() as connection:  # back to the release before the queue indexes
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # As kiosk.db.migrate does: SQLite rebuilds a table to drop a column (the event's
            # redeem_requires, 0012), and with foreign keys on, dropping the old event table
            # would cascade to every queue entry.
            _foreign_keys(connection, on=False)
        with connection.begin():
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "f1ae2c4db6f6")
        if sqlite:
            _foreign_keys(connection, on=True)
    with engine.begin() as connection:  # what the old code wrote: B001, then B002, at S001
        for number, minute in ((1, 20), (2, 25)):
            connection.execute(
                text(
                    "UPDATE queue_entry SET status = 'called', desk = 'S001', called_by = 1, "
                    "called_at = :at WHERE ticket_no = :n"
                ),
                {"at": MORNING.replace(minute=minute, tzinfo=None), "n": number},
            )
    engine.dispose()
    upgraded = open_database(any_demo_url)
    try:
        assert_queues_hold(upgraded, "upgrade")
        assert desk.current_call(upgraded.unit_of_work(), desk="S001").ticket == "B002"  # type: ignore[union-attr]
        with upgraded.unit_of_work() as uow:
            rows = uow.session.execute(
                select(QueueEntry.ticket_no, QueueEntry.status, QueueEntry.desk).order_by(
                    QueueEntry.ticket_no
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "waiting", None),
            (2, "called", "S001"),
            (3, "waiting", None),
        ]
        clock.advance(hours=1)
        staff = staff_session(upgraded.unit_of_work(), "S001", clock=clock)
        nxt = desk.call_next(upgraded.unit_of_work(), staff, desk="7", clock=clock)
        assert nxt is not None and nxt.ticket == "B001"  # first in line again
    finally:
        upgraded.dispose()
