"""Reception rules: search by every key, triage, check-in once, undo, walk-ins, slots."""

from __future__ import annotations

import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import create_demo
from kiosk.idcard import is_valid_resident_id
from kiosk.invitations import event_tag
from kiosk.models import (
    AuditRecord,
    Customer,
    Event,
    Invitation,
    MobileBanking,
    OutboxEntry,
    Queue,
    QueueEntry,
    QueueStatus,
    TimeSlot,
    Visit,
    VisitStep,
)
from kiosk.permissions import Action
from kiosk.search import SearchError
from kiosk.services import reception
from kiosk.services.auth import StaffSession, staff_session
from kiosk.services.reception import Arrival, CheckInError, ReceptionPolicy
from printing.tickets import render_queue_ticket
from tests.approval_support import s001_approves
from tests.conftest import DEMO_DATE

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)  # 09:10 in Shanghai, the morning slot


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MORNING)


@pytest.fixture
def staff(demo_db: Database, clock: FixedClock) -> StaffSession:
    return staff_session(demo_db.unit_of_work(), "R001", clock=clock)


def _customer(db: Database, **where: object) -> Customer:
    with db.unit_of_work() as uow:
        customer = uow.session.scalars(select(Customer).filter_by(**where)).first()
        assert customer is not None
        return customer


def _ids(db: Database, text: str) -> list[int]:
    return [hit.customer_id for hit in reception.search(db.unit_of_work(), text)]


# -- search ----------------------------------------------------------------------------------


def test_search_by_every_key(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        customer, code = uow.session.execute(
            select(Customer, Invitation.code)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .where(func.length(Customer.name) == 3)
            .limit(1)
        ).one()
        initials = customer.name_initials.split("|")[0]
    assert customer.id in _ids(demo_db, customer.name)
    assert customer.id in _ids(demo_db, customer.name[1:])  # the given name alone
    assert customer.id in _ids(demo_db, initials)
    assert customer.id in _ids(demo_db, initials.upper())
    assert _ids(demo_db, customer.phone_last4)[0] == customer.id or customer.id in _ids(
        demo_db, customer.phone_last4
    )
    assert _ids(demo_db, customer.customer_no) == [customer.id]
    assert _ids(demo_db, code) == [customer.id]
    assert _ids(demo_db, code.lower()) == [customer.id]
    assert _ids(demo_db, f" {customer.name[0]} {customer.name[1:]} ")[0] == customer.id


@pytest.mark.parametrize("surname", ["单", "曾", "解", "区", "仇", "查"])
def test_polyphonic_surnames_by_both_readings(demo_db: Database, surname: str) -> None:
    with demo_db.unit_of_work() as uow:
        customer = uow.session.scalars(
            select(Customer).where(Customer.name.like(f"{surname}%"))
        ).first()
        assert customer is not None
    keys = customer.name_initials.split("|")
    surname_reading = {"单": "s", "曾": "z", "解": "x", "区": "o", "仇": "q", "查": "z"}[surname]
    other_reading = {"单": "d", "曾": "c", "解": "j", "区": "q", "仇": "c", "查": "c"}[surname]
    assert keys[0][0] == surname_reading
    for reading in (surname_reading, other_reading):
        key = next(k for k in keys if k.startswith(reading))
        assert customer.id in _ids(demo_db, key), (surname, key)


def test_results_are_masked(demo_db: Database) -> None:
    hits = reception.search(demo_db.unit_of_work(), "王")
    assert hits
    for hit in hits:
        assert "*" in hit.masked_id and "*" in hit.masked_phone
        assert not is_valid_resident_id(hit.masked_id)
        assert hit.branch and hit.rm_name and hit.slot_label


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Type a name"), ("   ", "Type a name"), ("%$#!", "keyboard layout")],
)
def test_bad_queries(demo_db: Database, text: str, message: str) -> None:
    with pytest.raises(SearchError, match=message):
        reception.search(demo_db.unit_of_work(), text)


def test_scan_typed_on_a_french_keyboard(demo_db: Database) -> None:
    customer = _customer(demo_db, customer_no="6200000123")
    # A US-layout scanner on AZERTY types digits as &é"'(-è_çà.
    garbled = "6200000123".translate(str.maketrans("1234567890", "&é\"'(-è_çà"))
    assert _ids(demo_db, garbled) == [customer.id]


# -- codes -----------------------------------------------------------------------------------


def test_resolve_code(demo_db: Database) -> None:
    customer = _customer(demo_db, customer_no="6200000007")
    with demo_db.unit_of_work() as uow:
        code = uow.session.scalar(
            select(Invitation.code).where(Invitation.customer_id == customer.id)
        )
    assert code is not None and code.startswith(event_tag("DEMO"))
    assert reception.resolve_code(demo_db.unit_of_work(), code) == customer.id
    assert reception.resolve_code(demo_db.unit_of_work(), "6200000007") == customer.id
    other = event_tag("OTHER2026") + "ABCDEF"
    # Any 8 letters and digits carry some event's tag: the shape alone proves nothing.
    with pytest.raises(CheckInError, match="is not an invitation code of this event"):
        reception.resolve_code(demo_db.unit_of_work(), other)
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # last year's event, closed
        uow.session.add(
            Event(
                code="OTHER2026",
                name="2025 年尊享积分活动",
                event_date=DEMO_DATE.replace(year=2025),
                closed_at=MORNING.replace(year=2025),
                created_at=MORNING.replace(year=2025),
            )
        )
        uow.commit()
    with pytest.raises(CheckInError, match="is for another event, “2025 年尊享积分活动”"):
        reception.resolve_code(demo_db.unit_of_work(), other)
    with pytest.raises(CheckInError, match="No invitation or customer number"):
        reception.resolve_code(demo_db.unit_of_work(), "62000000")
    garbled = "6200000007".translate(str.maketrans("1234567890", "&é\"'(-è_çà"))
    assert reception.resolve_code(demo_db.unit_of_work(), garbled) == customer.id
    with pytest.raises(CheckInError, match="keyboard layout"):
        reception.resolve_code(demo_db.unit_of_work(), "%%$$##!!")


# -- triage and arrival ----------------------------------------------------------------------


def test_triage_rules(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        customers = uow.session.scalars(select(Customer)).all()
        routes = {c.id: reception.suggest_route(c, DEMO_DATE) for c in customers}
        expired = next(
            c
            for c in customers
            if c.id_valid_to and c.id_valid_to < DEMO_DATE and not c.id_long_term
        )
        no_mobile = next(c for c in customers if c.mobile_banking == MobileBanking.NONE)
        clean = [c for c in customers if routes[c.id] == Queue.ACTIVATION]
        assert routes[expired.id] == Queue.SERVICE_DESK
        assert routes[no_mobile.id] == Queue.SERVICE_DESK
        assert clean, "some customers go straight to activation"
        assert all(c.mobile_banking != MobileBanking.NONE for c in clean)


def test_arrival_status() -> None:
    slot = TimeSlot(starts_at=MORNING - timedelta(minutes=10), ends_at=MORNING + timedelta(hours=2))
    policy = ReceptionPolicy()
    assert reception.arrival_status(MORNING, slot, policy) == (Arrival.ON_TIME, 0)
    assert reception.arrival_status(MORNING - timedelta(minutes=35), slot, policy) == (
        Arrival.ON_TIME,
        0,
    )  # within the 30-minute grace before the start
    assert reception.arrival_status(MORNING - timedelta(hours=1), slot, policy) == (
        Arrival.EARLY,
        50,
    )
    assert reception.arrival_status(MORNING + timedelta(hours=3), slot, policy) == (
        Arrival.LATE,
        60,
    )
    assert reception.arrival_status(MORNING, None, policy) == (Arrival.NO_SLOT, 0)


# -- check-in --------------------------------------------------------------------------------


def test_check_in_once(demo_db: Database, staff: StaffSession, clock: FixedClock) -> None:
    customer = _customer(demo_db, customer_no="6200000001")
    first = reception.check_in(demo_db.unit_of_work(), customer.id, staff, clock=clock)
    assert first.created
    assert first.ticket in ("B001", "J001")
    assert first.card.visit is not None and first.card.visit.can_undo
    second = reception.check_in(demo_db.unit_of_work(), customer.id, staff, clock=clock)
    assert not second.created
    assert second.ticket == first.ticket
    with demo_db.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(func.count(Visit.id))) == 1
        assert s.scalar(select(func.count(QueueEntry.id))) == 1
        assert s.scalar(select(func.count(VisitStep.id))) == 1
        assert s.scalars(select(OutboxEntry.kind)).all() == ["check_in"]
        assert (
            s.scalars(select(AuditRecord.action).order_by(AuditRecord.id.desc())).first()
            == "check_in"
        )
        assert audit.verify(s) is None


def test_tickets_count_up_per_queue(
    demo_db: Database, staff: StaffSession, clock: FixedClock
) -> None:
    with demo_db.unit_of_work() as uow:
        ids = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(4)).all()
    results = [
        reception.check_in(demo_db.unit_of_work(), cid, staff, clock=clock, route=Queue.ACTIVATION)
        for cid in ids[:3]
    ]
    assert [r.ticket for r in results] == ["J001", "J002", "J003"]
    assert [r.waiting_ahead for r in results] == [0, 1, 2]
    desk = reception.check_in(
        demo_db.unit_of_work(), ids[3], staff, clock=clock, route=Queue.SERVICE_DESK
    )
    assert (desk.ticket, desk.queue) == ("B001", Queue.SERVICE_DESK)


def test_a_ticket_numbered_in_its_insert_counts_only_its_queues_waiting_ahead(
    demo_db: Database, staff: StaffSession, clock: FixedClock
) -> None:
    """The ticket is numbered inside its own INSERT (``insert_ticket_locked``) and says who
    waits ahead from the same statement: on PostgreSQL the statement does not see its own row,
    on SQLite it does, and either way a called ticket, a finished one, one set aside and the
    other queue's are not ahead; route on numbers on in the queue it joins."""
    from kiosk.services import desk

    with demo_db.unit_of_work() as uow:
        ids = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(6)).all()

    def check_in(customer_id: int, route: Queue) -> reception.CheckInResult:
        return reception.check_in(
            demo_db.unit_of_work(), customer_id, staff, clock=clock, route=route
        )

    first = [check_in(c, Queue.ACTIVATION) for c in ids[:3]]  # J001-J003, all waiting
    assert [(r.ticket, r.waiting_ahead) for r in first] == [("J001", 0), ("J002", 1), ("J003", 2)]
    assert check_in(ids[3], Queue.SERVICE_DESK).waiting_ahead == 0  # another queue: B001
    # J001 called, J002 done: neither waits any more (set directly: test setup)
    with audit.unaudited(), demo_db.unit_of_work() as uow:
        for ticket, status in ((1, QueueStatus.CALLED), (2, QueueStatus.DONE)):
            uow.session.execute(
                update(QueueEntry)
                .where(QueueEntry.queue == Queue.ACTIVATION, QueueEntry.ticket_no == ticket)
                .values(status=status)
            )
        uow.commit()
    fourth = check_in(ids[4], Queue.ACTIVATION)
    assert (fourth.ticket, fourth.waiting_ahead) == ("J004", 1)  # only J003 waits ahead
    rm = staff_session(demo_db.unit_of_work(), "RM001", clock=clock)
    later = FixedClock(clock.now() + timedelta(minutes=30))  # past the desks' RM fallback
    called = desk.call_next(demo_db.unit_of_work(), rm, desk="D1", clock=later)
    assert called is not None and called.ticket == "B001"
    routed = desk.route_on(demo_db.unit_of_work(), called.entry_id, rm, clock=later)
    assert (routed.ticket, routed.waiting_ahead) == ("J005", 2)  # J003 and J004
    with demo_db.unit_of_work() as uow:
        numbers = uow.session.execute(
            select(QueueEntry.queue, QueueEntry.ticket_no, QueueEntry.status).order_by(
                QueueEntry.id
            )
        ).all()
        assert [(str(q), n) for q, n, _status in numbers] == [
            ("activation", 1),
            ("activation", 2),
            ("activation", 3),
            ("service_desk", 1),
            ("activation", 4),
            ("activation", 5),
        ]


def test_undo(demo_db: Database, staff: StaffSession, clock: FixedClock) -> None:
    customer = _customer(demo_db, customer_no="6200000002")
    result = reception.check_in(demo_db.unit_of_work(), customer.id, staff, clock=clock)
    assert result.card.visit is not None
    clock.advance(minutes=6)
    approval = s001_approves(demo_db, Action.UNDO_CHECK_IN, clock)
    with pytest.raises(CheckInError, match="only within 5 minutes"):
        reception.undo_check_in(
            demo_db.unit_of_work(),
            result.card.visit.visit_id,
            staff,
            approval=approval,
            clock=clock,
        )
    clock.advance(minutes=-3)
    reception.undo_check_in(
        demo_db.unit_of_work(), result.card.visit.visit_id, staff, approval=approval, clock=clock
    )
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Visit.id))) == 0
        assert uow.session.scalar(select(func.count(QueueEntry.id))) == 0
        actions = uow.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
        assert actions[-3:] == ["check_in", "approval_given", "check_in_undone"]
    again = reception.check_in(demo_db.unit_of_work(), customer.id, staff, clock=clock)
    assert again.created


def test_no_undo_once_served(demo_db: Database, staff: StaffSession, clock: FixedClock) -> None:
    customer = _customer(demo_db, customer_no="6200000003")
    result = reception.check_in(demo_db.unit_of_work(), customer.id, staff, clock=clock)
    assert result.card.visit is not None
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup
        uow.session.execute(update(QueueEntry).values(status=QueueStatus.CALLED))
        uow.commit()
    with pytest.raises(CheckInError, match="already been served"):
        reception.undo_check_in(
            demo_db.unit_of_work(),
            result.card.visit.visit_id,
            staff,
            approval=s001_approves(demo_db, Action.UNDO_CHECK_IN, clock),
            clock=clock,
        )


def test_walk_in(demo_db: Database, staff: StaffSession, clock: FixedClock) -> None:
    customer_id = reception.register_walk_in(
        demo_db.unit_of_work(),
        name="阿依古丽·买买提",
        phone="139 0000 1111",
        branch_code="B03",
        staff=staff,
        clock=clock,
    )
    for text in ("阿依古丽·买买提", "阿依古丽买买提", "买买提", "ayglmmt", "1111", "W000001"):
        assert customer_id in _ids(demo_db, text), text
    result = reception.check_in(demo_db.unit_of_work(), customer_id, staff, clock=clock)
    assert result.created
    assert result.queue == Queue.SERVICE_DESK  # a walk-in's data is all to be governed
    assert result.card.hit.walk_in and result.card.arrival == Arrival.NO_SLOT
    with pytest.raises(CheckInError, match="is already registered"):
        reception.register_walk_in(
            demo_db.unit_of_work(),
            name="阿依古丽·买买提",
            phone="13900001111",
            branch_code="B03",
            staff=staff,
            clock=clock,
        )
    # Another person sharing the phone (a family's) registers: only the name and the
    # masked phone are in clear, and the full phone is sealed like every other.
    other = reception.register_walk_in(
        demo_db.unit_of_work(),
        name="张三",
        phone="13900001111",
        branch_code="B03",
        staff=staff,
        clock=clock,
    )
    with demo_db.unit_of_work() as uow:
        row = uow.session.get(Customer, other)
        assert row is not None and row.phone_masked == "139****1111"
        assert row.legacy_phone is None and row.phone_sealed
        assert "13900001111" not in row.phone_sealed
    with pytest.raises(CheckInError, match="not a mainland mobile number"):
        reception.register_walk_in(
            demo_db.unit_of_work(),
            name="张三",
            phone="1390000111",
            branch_code="B03",
            staff=staff,
            clock=clock,
        )
    with pytest.raises(CheckInError, match="Type the customer's name"):
        reception.register_walk_in(
            demo_db.unit_of_work(),
            name="  ",
            phone="13900002222",
            branch_code="B03",
            staff=staff,
            clock=clock,
        )


def test_slot_arrivals(demo_db: Database, staff: StaffSession, clock: FixedClock) -> None:
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup
        morning = uow.session.scalars(
            select(Customer.id)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .join(TimeSlot, TimeSlot.id == Invitation.slot_id)
            .where(TimeSlot.code == "AM")
            .limit(3)
        ).all()
        uow.session.execute(update(TimeSlot).where(TimeSlot.code == "AM").values(capacity=2))
        uow.commit()
    for customer_id in morning:
        reception.check_in(demo_db.unit_of_work(), customer_id, staff, clock=clock)
    slots = {s.code: s for s in reception.slot_arrivals(demo_db.unit_of_work(), clock=clock)}
    assert slots["AM"].arrived == 3 and slots["AM"].is_current and slots["AM"].over_capacity
    assert slots["PM"].arrived == 0 and not slots["PM"].is_current


def test_queue_ticket_pdf(
    demo_db: Database, staff: StaffSession, clock: FixedClock, tmp_path: Path
) -> None:
    customer = _customer(demo_db, customer_no="6200000004")
    result = reception.check_in(
        demo_db.unit_of_work(), customer.id, staff, clock=clock, route=Queue.ACTIVATION
    )
    ticket = reception.queue_ticket(demo_db.unit_of_work(), result)
    from kiosk.i18n import set_language

    set_language("zh_CN")
    path = render_queue_ticket(ticket, tmp_path / "ticket.pdf")
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert result.ticket in text
    assert "请到 激活兑换 等候" in text
    assert "前面还有 0 人" in text
    assert "2026-11-28 09:10" in text
    assert customer.name[0] + "*" in text
    assert customer.name not in text  # only the masked name is printed


def _concurrent_check_ins(url: str) -> None:
    database = open_database(url)
    staff = staff_session(database.unit_of_work(), "R001", clock=FixedClock(MORNING))
    staff2 = staff_session(database.unit_of_work(), "R002", clock=FixedClock(MORNING))
    customer = _customer(database, customer_no="6200000010")
    barrier = threading.Barrier(2)
    results = []

    def desk(who: StaffSession) -> None:
        other = open_database(url)
        barrier.wait()
        results.append(
            reception.check_in(other.unit_of_work(), customer.id, who, clock=FixedClock(MORNING))
        )
        other.dispose()

    threads = [threading.Thread(target=desk, args=(who,)) for who in (staff, staff2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.created for r in results) == [False, True]
    assert results[0].ticket == results[1].ticket
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Visit.id))) == 1
    database.dispose()


def test_two_laptops_check_in_the_same_customer_sqlite(demo_url: str) -> None:
    _concurrent_check_ins(demo_url)


@pytest.mark.pg
def test_two_laptops_check_in_the_same_customer_postgresql(pg_url: str) -> None:
    database = open_database(pg_url)
    create_demo(database.unit_of_work(), event_date=DEMO_DATE, invitees=30)
    database.dispose()
    _concurrent_check_ins(pg_url)
