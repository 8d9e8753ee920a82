"""Every mutating service says what it changed (``kiosk.changeset.Changes``): the queues,
visits, customers, offers and slips a station refreshes after it, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from kiosk import audit
from kiosk.changes import read_counter
from kiosk.changeset import NOTHING, ChangedList, Changes
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import Customer, MobileBanking, Queue, Visit
from kiosk.permissions import Action
from kiosk.services import activation, auth, desk, keys, reception, slips
from kiosk.services.activation import Step
from kiosk.services.auth import staff_session
from tests.approval_support import s001_approves
from tests.gate_support import make_ready

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)
SERVICE = str(Queue.SERVICE_DESK)
ACTIVATION = str(Queue.ACTIVATION)


def test_changes_combine_and_say_when_empty() -> None:
    assert not NOTHING and NOTHING.kinds() == frozenset()
    a = Changes.of(queues=[Queue.ACTIVATION], visits=[1, None])
    b = Changes.of(customers=[7], offers=["O501"], slips=[12])
    both = a | b
    assert both == Changes(
        frozenset({ACTIVATION}), frozenset({1}), frozenset({7}), frozenset({"O501"}), {12}
    )
    assert both.kinds() == {"queues", "visits", "customers", "offers", "slips"}
    assert Changes(setup=True) and Changes(setup=True).kinds() == {"setup"}
    listed = ChangedList([1, 2], b)
    assert listed == [1, 2] and listed.changes is b


def _customers(db: Database, n: int) -> list[int]:
    with db.unit_of_work() as uow:
        ids = uow.session.scalars(
            select(func.min(Customer.id))
            .where(~Customer.walk_in)
            .group_by(Customer.rm_id)
            .order_by(func.min(Customer.id))
            .limit(n)
        ).all()
    assert len(ids) == n
    return list(ids)


def _visit(db: Database, customer_id: int) -> int:
    with db.unit_of_work() as uow:
        visit_id = uow.session.scalar(select(Visit.id).where(Visit.customer_id == customer_id))
    assert visit_id is not None
    return visit_id


def test_the_day_of_one_customer_says_what_each_step_changed(demo_db: Database) -> None:
    clock = FixedClock(MORNING)
    (customer_id,) = _customers(demo_db, 1)
    make_ready(demo_db, customer_id)
    r001 = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    a001 = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    with demo_db.unit_of_work() as uow:  # the customer's own RM calls them first
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None and customer.rm is not None
        rm_no = customer.rm.staff_no
    rm = staff_session(demo_db.unit_of_work(), rm_no, clock=clock)

    checked = reception.check_in(
        demo_db.unit_of_work(), customer_id, r001, route=Queue.SERVICE_DESK, clock=clock
    )
    visit_id = _visit(demo_db, customer_id)
    assert checked.changes == Changes.of(
        queues=[SERVICE], visits=[visit_id], customers=[customer_id]
    )
    # Already checked in: nothing changed.
    again = reception.check_in(demo_db.unit_of_work(), customer_id, r001, clock=clock)
    assert not again.created and again.changes == NOTHING

    called = desk.call_next(demo_db.unit_of_work(), rm, desk="1", clock=clock)
    assert called is not None and called.customer_id == customer_id
    queue_and_visit = Changes.of(queues=[SERVICE], visits=[visit_id])
    assert called.changes == queue_and_visit
    # Read back, the same call changes nothing.
    current = desk.current_call(demo_db.unit_of_work(), desk="1")
    assert current is not None and current.changes == NOTHING

    assert desk.skip(demo_db.unit_of_work(), called.entry_id, rm, clock=clock) == (queue_and_visit)
    assert desk.requeue(demo_db.unit_of_work(), called.entry_id, rm, clock=clock) == (
        queue_and_visit
    )
    assert (
        desk.transfer(demo_db.unit_of_work(), called.entry_id, rm_no, rm, clock=clock)
        == queue_and_visit
    )
    called = desk.call_next(demo_db.unit_of_work(), rm, desk="1", clock=clock)
    assert called is not None
    form = desk.current_form(demo_db.unit_of_work(), customer_id)
    saved = desk.save_governance(
        demo_db.unit_of_work(), customer_id, form, rm, visit_id=visit_id, clock=clock
    )
    assert isinstance(saved, ChangedList)
    assert saved.changes == Changes.of(customers=[customer_id], visits=[visit_id])
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup
        no_app = uow.session.get(Customer, customer_id)
        assert no_app is not None
        no_app.mobile_banking = MobileBanking.NONE
        uow.commit()
    assert desk.open_mobile_banking(
        demo_db.unit_of_work(), customer_id, rm, visit_id=visit_id, clock=clock
    ) == Changes.of(customers=[customer_id], visits=[visit_id])
    routed = desk.route_on(demo_db.unit_of_work(), called.entry_id, rm, clock=clock)
    assert routed.changes == Changes.of(queues=[SERVICE, ACTIVATION], visits=[visit_id])

    at_desk = desk.call_next(
        demo_db.unit_of_work(), a001, desk="7", queue=Queue.ACTIVATION, clock=clock
    )
    assert at_desk is not None
    assert at_desk.changes == Changes.of(queues=[ACTIVATION], visits=[visit_id])
    assert activation.record_step(
        demo_db.unit_of_work(), customer_id, Step.CHARITY_PAID, a001, clock=clock
    ) == Changes.of(customers=[customer_id], visits=[visit_id])
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    issued = slips.issue_slips(
        demo_db.unit_of_work(),
        customer_id,
        [slips.CartLine("O501")],
        a001,
        key,
        clock=clock,
        override=True,
        approval=s001_approves(demo_db, Action.OVERRIDE_GATE, clock),
    )
    (slip,) = issued
    assert issued.changes == Changes.of(
        customers=[customer_id], visits=[visit_id], offers=["O501"], slips=[slip.serial]
    )
    voided = slips.void_slip(
        demo_db.unit_of_work(),
        slip.serial,
        a001,
        reason="changed mind",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock),
        clock=clock,
    )
    assert voided == issued.changes
    assert activation.finish(
        demo_db.unit_of_work(), at_desk.entry_id, a001, clock=clock
    ) == Changes.of(queues=[ACTIVATION], visits=[visit_id])
    assert auth.sign_out(demo_db.unit_of_work(), a001, clock=clock) == NOTHING


def test_an_undone_check_in_names_its_queue_visit_and_customer(demo_db: Database) -> None:
    clock = FixedClock(MORNING)
    (customer_id,) = _customers(demo_db, 1)
    r001 = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    reception.check_in(
        demo_db.unit_of_work(), customer_id, r001, route=Queue.ACTIVATION, clock=clock
    )
    visit_id = _visit(demo_db, customer_id)
    undone = reception.undo_check_in(
        demo_db.unit_of_work(),
        visit_id,
        r001,
        approval=s001_approves(demo_db, Action.UNDO_CHECK_IN, clock),
        clock=clock,
    )
    assert undone == Changes.of(queues=[ACTIVATION], visits=[visit_id], customers=[customer_id])


def test_the_database_keeps_the_counter_values_its_own_commits_reached(
    demo_db: Database,
) -> None:
    """What lets a window tell its own echo from another laptop's change (``ui.live``)."""
    clock = FixedClock(MORNING)
    customer_id, other = _customers(demo_db, 2)
    r001 = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    mark = demo_db.own_commits.mark()
    reception.check_in(demo_db.unit_of_work(), customer_id, r001, clock=clock)
    reached = demo_db.own_commits.since(mark)
    assert reached == [read_counter(demo_db.engine)]
    # A read commits nothing, so it adds nothing.
    reception.customer_card(demo_db.unit_of_work(), other, clock=clock)
    assert demo_db.own_commits.since(mark) == reached
