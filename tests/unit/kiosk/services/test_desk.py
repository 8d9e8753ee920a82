"""Service desk rules: call next (once per customer, RM first), governance, mobile banking."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from kiosk import outbox
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import create_demo
from kiosk.governance import KycForm, validate
from kiosk.idcard import check_digit
from kiosk.masking import mask_name
from kiosk.models import (
    Customer,
    GovernanceChange,
    MobileBanking,
    OutboxEntry,
    Queue,
    QueueEntry,
    QueueStatus,
)
from kiosk.search import find_customer_ids
from kiosk.services import desk, reception
from kiosk.services.auth import StaffSession, staff_session
from kiosk.services.desk import DeskError, GovernanceInvalid
from tests.conftest import DEMO_DATE

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)
TODAY = DEMO_DATE


def _id(first17: str) -> str:
    return first17 + check_digit(first17)


GOOD = KycForm(
    name="张三",
    gender="M",
    nationality="CHN",
    occupation_code="2",
    address="广州市天河区天河路 1 号",
    phone="13812345678",
    id_type="resident_id",
    id_number=_id("44010619800101001"),  # born 1980-01-01, 17th digit odd: male
    id_valid_from=date(2015, 6, 1),  # issued at 35: 20 years
    id_valid_to=date(2035, 6, 1),
    id_long_term=False,
    tax_residency="CN",
)


def test_a_good_form_is_valid() -> None:
    assert validate(GOOD, TODAY) == {}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": " "}, "name", "name is missing"),
        ({"phone": "1381234567"}, "phone", "11 digits"),
        ({"phone": "12812345678"}, "phone", "11 digits"),
        ({"occupation_code": None}, "occupation_code", "from the list"),
        ({"nationality": "china"}, "nationality", "3-letter"),
        ({"tax_residency": None}, "tax_residency", "tax-residency"),
        ({"address": ""}, "address", "address is missing"),
        (
            {
                "id_number": _id("44010619800101001")[:17] + "0"
                if _id("44010619800101001")[17] != "0"
                else _id("44010619800101001")[:17] + "1"
            },
            "id_number",
            "check digit is wrong",
        ),
        ({"id_number": "4401061980010100"}, "id_number", "18 characters"),
        ({"id_number": "440106198013010010"}, "id_number", "birth date"),
        ({"gender": "F"}, "gender", "The ID number says male"),
        ({"id_valid_to": date(2025, 6, 1)}, "id_valid_to", "expired on 2025-06-01"),
        ({"id_valid_to": date(2036, 6, 1)}, "id_valid_to", "valid for 20 years: until 2035-06-01"),
        ({"id_long_term": True, "id_valid_to": None}, "id_valid_to", "valid for 20 years"),
        ({"id_valid_from": date(1979, 1, 1)}, "id_valid_from", "before the birth date"),
        ({"id_valid_from": date(2027, 1, 1)}, "id_valid_from", "in the future"),
        ({"id_valid_to": None}, "id_valid_to", "end date is missing"),
    ],
)
def test_each_rule(change: dict[str, object], field: str, message: str) -> None:
    errors = validate(replace(GOOD, **change), TODAY)  # type: ignore[arg-type]
    assert field in errors, errors
    assert message in errors[field]


def test_long_term_from_46() -> None:
    older = replace(
        GOOD,
        id_number=_id("44010619600101001"),
        id_valid_from=date(2010, 3, 1),
        id_valid_to=None,
        id_long_term=True,
    )  # issued at 50
    assert validate(older, TODAY) == {}
    errors = validate(replace(older, id_long_term=False, id_valid_to=date(2030, 3, 1)), TODAY)
    assert "tick long-term" in errors["id_valid_to"]


# -- with the demo event ---------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MORNING)


def _desk_customers(db: Database, clock: FixedClock, n: int) -> list[int]:
    """Check ``n`` customers, each of another RM, in to the service desk; returns their ids."""
    staff = staff_session(db.unit_of_work(), "R001", clock=clock)
    with db.unit_of_work() as uow:
        ids = uow.session.scalars(
            select(func.min(Customer.id))
            .group_by(Customer.rm_id)
            .order_by(func.min(Customer.id))
            .limit(n)
        ).all()
    assert len(ids) == n
    for customer_id in ids:
        reception.check_in(
            db.unit_of_work(), customer_id, staff, clock=clock, route=Queue.SERVICE_DESK
        )
        clock.advance(seconds=30)
    return list(ids)


def _rm_of(db: Database, customer_id: int, clock: FixedClock) -> StaffSession:
    with db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None and customer.rm is not None
        staff_no = customer.rm.staff_no
    return staff_session(db.unit_of_work(), staff_no, clock=clock)


def test_rm_first_then_anyone_after_the_fallback(demo_db: Database, clock: FixedClock) -> None:
    ids = _desk_customers(demo_db, clock, 3)
    own_rm = _rm_of(demo_db, ids[2], clock)
    called = desk.call_next(demo_db.unit_of_work(), own_rm, desk="D1", clock=clock)
    assert called is not None and called.customer_id == ids[2]  # their own customer first
    stranger = staff_session(demo_db.unit_of_work(), "RM030", clock=clock)
    assert all(_rm_of(demo_db, i, clock).staff_no != "RM030" for i in ids)
    assert desk.call_next(demo_db.unit_of_work(), stranger, desk="D2", clock=clock) is None
    clock.advance(minutes=11)  # the named RM did not call them: any desk may
    first = desk.call_next(demo_db.unit_of_work(), stranger, desk="D2", clock=clock)
    assert first is not None and first.customer_id == ids[0]
    assert first.ticket == "B001" and first.waited_minutes >= 11


def _call_concurrently(url: str, desks: int) -> list[int]:
    got: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(desks)

    def work(number: int) -> None:
        database = open_database(url)
        clock = FixedClock(datetime(2026, 11, 28, 2, 30, tzinfo=UTC))  # past every fallback
        staff = staff_session(database.unit_of_work(), f"RM{number + 1:03d}", clock=clock)
        barrier.wait()
        while True:
            called = desk.call_next(database.unit_of_work(), staff, desk=f"D{number}", clock=clock)
            if called is None:
                break
            with lock:
                got.append(called.entry_id)
            # A desk serves one customer at a time: done, then the next.
            desk.route_on(database.unit_of_work(), called.entry_id, staff, clock=clock)
        database.dispose()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(desks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got


def test_no_customer_is_called_twice_sqlite(demo_url: str, clock: FixedClock) -> None:
    database = open_database(demo_url)
    _desk_customers(database, clock, 24)
    database.dispose()
    got = _call_concurrently(demo_url, desks=4)
    assert len(got) == 24 and len(set(got)) == 24


@pytest.mark.pg
def test_no_customer_is_called_twice_postgresql(pg_url: str, clock: FixedClock) -> None:
    database = open_database(pg_url)
    create_demo(database.unit_of_work(), event_date=DEMO_DATE, invitees=120)
    _desk_customers(database, clock, 24)
    database.dispose()
    got = _call_concurrently(pg_url, desks=4)
    assert len(got) == 24 and len(set(got)) == 24


def test_no_show_requeue_and_transfer(demo_db: Database, clock: FixedClock) -> None:
    ids = _desk_customers(demo_db, clock, 2)
    rm = _rm_of(demo_db, ids[0], clock)
    clock.advance(minutes=11)
    called = desk.call_next(demo_db.unit_of_work(), rm, desk="D1", clock=clock)
    assert called is not None
    desk.skip(demo_db.unit_of_work(), called.entry_id, rm, clock=clock)
    desk.requeue(demo_db.unit_of_work(), called.entry_id, rm, clock=clock)
    with demo_db.unit_of_work() as uow:
        entry = uow.session.get(QueueEntry, called.entry_id)
        assert entry is not None and entry.status == QueueStatus.WAITING
    other = staff_session(demo_db.unit_of_work(), "RM029", clock=clock)
    desk.transfer(demo_db.unit_of_work(), called.entry_id, "RM029", rm, clock=clock)
    again = desk.call_next(demo_db.unit_of_work(), other, desk="D9", clock=clock)
    assert again is not None and again.entry_id == called.entry_id  # RM029's customer now
    with pytest.raises(DeskError, match="No staff member"):
        desk.transfer(demo_db.unit_of_work(), called.entry_id, "RM999", rm, clock=clock)


def _needs_governance(db: Database) -> int:
    with db.unit_of_work() as uow:
        for customer in uow.session.scalars(select(Customer).order_by(Customer.id)):
            if (
                customer.id_valid_to
                and customer.id_valid_to < TODAY
                and customer.mobile_banking == MobileBanking.NONE
            ):
                return customer.id
    raise AssertionError("the demo has an expired ID without mobile banking")


def test_governance_mobile_banking_route_on(demo_db: Database, clock: FixedClock) -> None:
    customer_id = _needs_governance(demo_db)
    staff = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    result = reception.check_in(demo_db.unit_of_work(), customer_id, staff, clock=clock)
    assert result.queue == Queue.SERVICE_DESK and result.card.visit is not None
    visit_id = result.card.visit.visit_id
    rm = _rm_of(demo_db, customer_id, clock)
    called = desk.call_next(demo_db.unit_of_work(), rm, desk="D1", clock=clock)
    assert called is not None and called.customer_id == customer_id
    # The customer read in the claim itself is the one the desk's screen reads back.
    with demo_db.unit_of_work() as uow:
        name = uow.session.get_one(Customer, customer_id).name
    assert called.visit_id == visit_id and called.masked_name == mask_name(name) != name
    shown = desk.current_call(demo_db.unit_of_work(), desk="D1")
    assert shown is not None
    assert (shown.customer_id, shown.masked_name) == (called.customer_id, called.masked_name)
    with pytest.raises(DeskError, match="govern it first"):
        desk.open_mobile_banking(
            demo_db.unit_of_work(), customer_id, rm, visit_id=visit_id, clock=clock
        )
    form = desk.current_form(demo_db.unit_of_work(), customer_id)
    with pytest.raises(GovernanceInvalid) as invalid:
        desk.save_governance(
            demo_db.unit_of_work(), customer_id, form, rm, visit_id=visit_id, clock=clock
        )
    assert "id_valid_to" in invalid.value.errors
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(GovernanceChange.id))) == 0
    renewed = replace(GOOD, name=form.name)
    changed = desk.save_governance(
        demo_db.unit_of_work(), customer_id, renewed, rm, visit_id=visit_id, clock=clock
    )
    assert "id_valid_to" in changed and "phone" in changed
    desk.open_mobile_banking(
        demo_db.unit_of_work(), customer_id, rm, visit_id=visit_id, clock=clock
    )
    routed = desk.route_on(demo_db.unit_of_work(), called.entry_id, rm, clock=clock)
    assert routed.ticket == "J001"
    with demo_db.unit_of_work() as uow:
        s = uow.session
        records = s.scalars(
            select(GovernanceChange).where(GovernanceChange.customer_id == customer_id)
        ).all()
        assert {r.field for r in records} == set(changed)
        assert all(r.staff_id == rm.staff_id and r.at == MORNING for r in records)
        kinds = s.scalars(select(OutboxEntry.kind).order_by(OutboxEntry.id)).all()
        assert kinds == ["check_in", "governance", "mobile_banking_opened"]
        customer = s.get(Customer, customer_id)
        assert customer is not None and customer.mobile_banking == MobileBanking.OPENED
        assert find_customer_ids(s, "5678") and customer_id in find_customer_ids(s, "5678")
    steps = [step.step for step in desk.timeline(demo_db.unit_of_work(), visit_id)]
    assert steps == [
        "check_in",
        "called",
        "governance",
        "mobile_banking_opened",
        "service_desk_done",
    ]
    counts = {c.staff_no: c for c in desk.rm_counts(demo_db.unit_of_work())}
    assert counts[rm.staff_no].governed == 1
    assert counts[rm.staff_no].mobile_banking_opened == 1


def test_a_crash_mid_save_saves_nothing(
    demo_db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = _needs_governance(demo_db)
    rm = _rm_of(demo_db, customer_id, clock)
    before = desk.current_form(demo_db.unit_of_work(), customer_id)

    def power_cut(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(outbox, "enqueue", power_cut)
    with pytest.raises(RuntimeError):
        desk.save_governance(
            demo_db.unit_of_work(), customer_id, replace(GOOD, name="李四"), rm, clock=clock
        )
    assert desk.current_form(demo_db.unit_of_work(), customer_id) == before
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(GovernanceChange.id))) == 0
