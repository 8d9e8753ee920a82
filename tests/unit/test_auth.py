"""Sign-in rules: PIN check, lock-out after repeated failures, everything audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.errors import SignInError
from kiosk.models import AuditRecord, Role
from kiosk.roles import Station
from kiosk.services.auth import LockoutPolicy, sign_in


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai


def _actions(database: Database) -> list[str]:
    with database.unit_of_work() as uow:
        return list(uow.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))


def test_right_pin_opens_a_session(demo_db: Database, clock: FixedClock) -> None:
    session = sign_in(demo_db.unit_of_work(), " r001 ", "1234", clock=clock)
    assert session.staff_no == "R001"
    assert session.roles == {Role.RECEPTION}
    assert session.stations == (Station.OVERVIEW, Station.RECEPTION)
    assert _actions(demo_db)[-1] == "sign_in"


def test_wrong_pin_counts_down(demo_db: Database, clock: FixedClock) -> None:
    with pytest.raises(SignInError, match="4 attempts left"):
        sign_in(demo_db.unit_of_work(), "R001", "0000", clock=clock)
    with pytest.raises(SignInError, match="3 attempts left"):
        sign_in(demo_db.unit_of_work(), "R001", "0000", clock=clock)
    # A success resets the count.
    sign_in(demo_db.unit_of_work(), "R001", "1234", clock=clock)
    with pytest.raises(SignInError, match="4 attempts left"):
        sign_in(demo_db.unit_of_work(), "R001", "0000", clock=clock)


def test_lockout_after_repeated_failures(demo_db: Database, clock: FixedClock) -> None:
    policy = LockoutPolicy(max_failures=3)
    for _ in range(2):
        with pytest.raises(SignInError, match="attempts left"):
            sign_in(demo_db.unit_of_work(), "A001", "9999", clock=clock, policy=policy)
    with pytest.raises(SignInError, match="now locked until 09:05"):
        sign_in(demo_db.unit_of_work(), "A001", "9999", clock=clock, policy=policy)
    # Even the right PIN is refused while locked.
    clock.advance(minutes=4)
    with pytest.raises(SignInError, match="locked until 09:05"):
        sign_in(demo_db.unit_of_work(), "A001", "1234", clock=clock, policy=policy)
    clock.advance(minutes=2)
    assert sign_in(demo_db.unit_of_work(), "A001", "1234", clock=clock, policy=policy)
    actions = _actions(demo_db)
    assert actions.count("sign_in_failed") == 2
    assert actions.count("sign_in_locked") == 1
    # Other staff are not affected by one member's lock-out.
    with demo_db.unit_of_work() as uow:
        assert audit.verify(uow.session) is None


def test_unknown_staff_number(demo_db: Database, clock: FixedClock) -> None:
    with pytest.raises(SignInError, match="No staff member has the number X999"):
        sign_in(demo_db.unit_of_work(), "x999", "1234", clock=clock)
    assert _actions(demo_db)[-1] == "sign_in_unknown"


def test_audit_never_holds_the_pin(demo_db: Database, clock: FixedClock) -> None:
    with pytest.raises(SignInError):
        sign_in(demo_db.unit_of_work(), "R002", "987654", clock=clock)
    with demo_db.unit_of_work() as uow:
        details = " ".join(uow.session.scalars(select(AuditRecord.details)))
    assert "987654" not in details
