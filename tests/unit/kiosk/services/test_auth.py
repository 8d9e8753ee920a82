"""Sign-in rules: PIN check, lock-out after repeated failures, everything audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.errors import SignInError, SignInThrottled
from kiosk.models import AuditRecord, Role, Staff
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
    clock.advance(seconds=1)  # the throttle's wait after one wrong PIN
    with pytest.raises(SignInError, match="3 attempts left"):
        sign_in(demo_db.unit_of_work(), "R001", "0000", clock=clock)
    clock.advance(seconds=2)
    # A success resets the count.
    sign_in(demo_db.unit_of_work(), "R001", "1234", clock=clock)
    with pytest.raises(SignInError, match="4 attempts left"):
        sign_in(demo_db.unit_of_work(), "R001", "0000", clock=clock)


def test_lockout_after_repeated_failures(demo_db: Database, clock: FixedClock) -> None:
    policy = LockoutPolicy(max_failures=3)
    for wait in (1, 2):
        with pytest.raises(SignInError, match="attempts left"):
            sign_in(demo_db.unit_of_work(), "A001", "9999", clock=clock, policy=policy)
        clock.advance(seconds=wait)
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


def _fails(database: Database, clock: FixedClock, staff_no: str = "R001") -> SignInThrottled:
    with pytest.raises(SignInThrottled) as wrong:
        sign_in(database.unit_of_work(), staff_no, "0000", clock=clock)
    return wrong.value


def _failed_attempts(database: Database, staff_no: str = "R001") -> int:
    with database.unit_of_work() as uow:
        staff = uow.session.scalar(select(Staff).where(Staff.staff_no == staff_no))
        assert staff is not None
        return staff.failed_attempts


def test_each_wrong_pin_makes_the_next_try_wait_longer(
    demo_db: Database, clock: FixedClock
) -> None:
    policy = LockoutPolicy(max_failures=10)
    waits = []
    for _ in range(6):
        with pytest.raises(SignInThrottled) as wrong:
            sign_in(demo_db.unit_of_work(), "R001", "0000", clock=clock, policy=policy)
        waits.append(wrong.value.wait_s)
        assert f"the next in {wrong.value.wait_s} s" in str(wrong.value)
        # Just before the wait is over, even the right PIN is refused, uncounted.
        clock.advance(seconds=wrong.value.wait_s - 0.5)
        before = _failed_attempts(demo_db)
        with pytest.raises(SignInThrottled, match="wait 1 s") as early:
            sign_in(demo_db.unit_of_work(), "R001", "1234", clock=clock, policy=policy)
        assert early.value.wait_s == 1
        assert _failed_attempts(demo_db) == before
        clock.advance(seconds=0.5)
    assert waits == [1, 2, 4, 8, 8, 8]
    # Once the wait is over the right PIN opens the session and the count starts again.
    assert sign_in(demo_db.unit_of_work(), "R001", "1234", clock=clock, policy=policy)
    assert _failed_attempts(demo_db) == 0
    assert _fails(demo_db, clock).wait_s == 1


def test_a_throttled_try_is_refused_before_the_pin_is_checked(
    demo_db: Database, clock: FixedClock
) -> None:
    _fails(demo_db, clock)
    actions = _actions(demo_db)
    with pytest.raises(SignInThrottled, match="wait 1 s"):
        sign_in(demo_db.unit_of_work(), "R001", "0000", clock=clock)
    assert _actions(demo_db) == actions  # nothing audited, nothing counted
    assert _failed_attempts(demo_db) == 1


def _lock_out(database: Database, clock: FixedClock, staff_no: str) -> str:
    """Five wrong PINs, each after the throttle's wait; the lock-out sentence."""
    for _ in range(4):
        clock.advance(seconds=_fails(database, clock, staff_no).wait_s)
    with pytest.raises(SignInError, match="now locked until") as locked:
        sign_in(database.unit_of_work(), staff_no, "0000", clock=clock)
    return str(locked.value)


def _locked_until(database: Database, staff_no: str) -> datetime:
    with database.unit_of_work() as uow:
        staff = uow.session.scalar(select(Staff).where(Staff.staff_no == staff_no))
        assert staff is not None and staff.locked_until is not None
        return staff.locked_until


def test_lockouts_double_the_same_day_up_to_an_hour(demo_db: Database, clock: FixedClock) -> None:
    lengths = []
    for _ in range(6):
        _lock_out(demo_db, clock, "A001")
        until = _locked_until(demo_db, "A001")
        lengths.append(round((until - clock.now()).total_seconds() / 60))
        clock.at = until  # wait it out
    assert lengths == [5, 10, 20, 40, 60, 60]
    # The next (local) day starts again at five minutes.
    clock.at = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)  # 00:00 on the 29th in Shanghai
    _lock_out(demo_db, clock, "A001")
    assert _locked_until(demo_db, "A001") - clock.now() == timedelta(minutes=5)


def test_approval_failures_count_towards_the_same_lockout(
    demo_db: Database, clock: FixedClock
) -> None:
    from kiosk.permissions import Action
    from kiosk.services.approval import approve

    for _ in range(4):
        with pytest.raises(SignInThrottled) as wrong:
            approve(demo_db.unit_of_work(), "S001", "0000", action=Action.VOID_SLIP, clock=clock)
        clock.advance(seconds=wrong.value.wait_s)
    # The fifth wrong PIN, typed on the sign-in screen this time, locks the number.
    with pytest.raises(SignInError, match="now locked until 09:05"):
        sign_in(demo_db.unit_of_work(), "S001", "0000", clock=clock)
    with pytest.raises(SignInError, match="is locked until 09:05"):
        approve(demo_db.unit_of_work(), "S001", "1234", action=Action.VOID_SLIP, clock=clock)
    assert _actions(demo_db).count("approval_failed") == 4
