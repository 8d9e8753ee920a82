"""Walk-ins (#16 symptom 8): every problem named at its field, nothing written, both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.models import AuditRecord, Customer
from kiosk.services import reception
from kiosk.services.auth import staff_session
from kiosk.services.reception import WalkInInvalid, walk_in_problems

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


def test_problems_by_field() -> None:
    assert walk_in_problems("欧阳娜娜", "13700001234", "B03") == {}
    assert walk_in_problems("欧阳娜娜", "137 0000-1234", "B03") == {}
    assert walk_in_problems("欧阳娜娜", "+86 137 0000 1234", "B03") == {}
    assert walk_in_problems("欧阳娜娜", "１３７００００１２３４", "B03") == {}  # full-width
    problems = walk_in_problems(" ", "1370000123", None)
    assert set(problems) == {"name", "phone", "branch"}
    assert "not a mainland mobile number" in problems["phone"]
    assert set(walk_in_problems("张三", "", "B03")) == {"phone"}
    assert set(walk_in_problems("张" * 65, "13700001234", "B03")) == {"name"}


def _counts(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as uow:
        customers = uow.session.scalar(select(func.count(Customer.id))) or 0
        records = uow.session.scalar(select(func.count(AuditRecord.id))) or 0
    return customers, records


def test_a_wrong_phone_writes_nothing_and_names_the_field(any_demo_db: Database) -> None:
    clock = FixedClock(MORNING)
    staff = staff_session(any_demo_db.unit_of_work(), "R001", clock=clock)
    before = _counts(any_demo_db)
    with pytest.raises(WalkInInvalid) as invalid:
        reception.register_walk_in(
            any_demo_db.unit_of_work(),
            name="欧阳娜娜",
            phone="1370000123",
            branch_code="B03",
            staff=staff,
            clock=clock,
        )
    assert set(invalid.value.errors) == {"phone"}
    assert _counts(any_demo_db) == before
    with pytest.raises(WalkInInvalid) as invalid:
        reception.register_walk_in(
            any_demo_db.unit_of_work(),
            name="欧阳娜娜",
            phone="13700001234",
            branch_code="NOPE",
            staff=staff,
            clock=clock,
        )
    assert set(invalid.value.errors) == {"branch"}
    customer_id = reception.register_walk_in(
        any_demo_db.unit_of_work(),
        name="欧阳娜娜",
        phone="+86 137-0000-1234",
        branch_code="B03",
        staff=staff,
        clock=clock,
    )
    with any_demo_db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None and customer.phone_masked == "137****1234"
    # The same person again: a problem of the whole form, not of one field.
    with pytest.raises(WalkInInvalid) as invalid:
        reception.register_walk_in(
            any_demo_db.unit_of_work(),
            name="欧阳娜娜",
            phone="13700001234",
            branch_code="B03",
            staff=staff,
            clock=clock,
        )
    assert set(invalid.value.errors) == {"form"}
    assert "already registered" in str(invalid.value)
