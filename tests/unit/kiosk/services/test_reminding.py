"""Reminders sent (issue #20), on the demo event on SQLite and PostgreSQL: an RM ticks their own
customers (twice is once; another RM's customer refused), a supervisor anyone's; the SMS
platform's send report imported (unknown customers refused with row and column, failures
listed and not recorded, the same report twice adds nothing); per RM the share reminded and
the share arriving in their window, after check-ins on the real windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.errors import KioskError, PermissionDenied
from kiosk.models import (
    ContactPurpose,
    Customer,
    Invitation,
    InvitationContact,
    InvitationStatus,
    Staff,
    TimeSlot,
)
from kiosk.services import imports, reception, reminding
from kiosk.services.arrival import plan_windows, set_window_settings
from kiosk.services.auth import staff_session
from tests.unit.kiosk.services.test_imports import write_xlsx

CLOCK = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # 10:00 two days before


def _confirmed(db: Database) -> list[tuple[str, str, str, int]]:
    """(customer no, invitation code, RM staff no, customer id) of the confirmed, by number."""
    with db.unit_of_work() as uow:
        return [
            tuple(row)  # type: ignore[misc]
            for row in uow.session.execute(
                select(Customer.customer_no, Invitation.code, Staff.staff_no, Customer.id)
                .join(Invitation, Invitation.customer_id == Customer.id)
                .join(Staff, Staff.id == Invitation.rm_id)
                .where(Invitation.status == InvitationStatus.CONFIRMED)
                .order_by(Customer.customer_no)
            )
        ]


def _reminders(db: Database) -> list[tuple[str, str, object, str]]:
    with db.unit_of_work() as uow:
        return [
            tuple(row)  # type: ignore[misc]
            for row in uow.session.execute(
                select(
                    Customer.customer_no,
                    InvitationContact.channel,
                    InvitationContact.contacted_on,
                    func.coalesce(Staff.staff_no, ""),
                )
                .join(Invitation, Invitation.id == InvitationContact.invitation_id)
                .join(Customer, Customer.id == Invitation.customer_id)
                .outerjoin(Staff, Staff.id == InvitationContact.staff_id)
                .where(InvitationContact.purpose == ContactPurpose.REMINDER)
                .order_by(Customer.customer_no, InvitationContact.id)
            )
        ]


def test_ticks(any_demo_db: Database) -> None:
    db = any_demo_db
    confirmed = _confirmed(db)
    rm_no = confirmed[0][2]
    mine = [c for c in confirmed if c[2] == rm_no]
    theirs = next(c for c in confirmed if c[2] != rm_no)
    rm = staff_session(db.unit_of_work(), rm_no, clock=CLOCK)
    first = reminding.mark_reminded(
        db.unit_of_work(), rm, [mine[0][0], mine[-1][1]], clock=CLOCK
    )  # a customer number and an invitation code
    assert (first.recorded, first.already) == (2, 0)
    again = reminding.mark_reminded(db.unit_of_work(), rm, [mine[0][0]], clock=CLOCK)
    assert (again.recorded, again.already) == (0, 1)  # ticked twice: once
    day = datetime(2026, 11, 26).date()
    expected = sorted({(mine[0][0], "sms", day, rm_no), (mine[-1][0], "sms", day, rm_no)})
    assert _reminders(db) == expected
    with pytest.raises(KioskError, match="is not yours") as refused:
        reminding.mark_reminded(db.unit_of_work(), rm, [mine[1][0], theirs[0]], clock=CLOCK)
    assert theirs[0] in str(refused.value)
    assert _reminders(db) == expected  # all or nothing
    with pytest.raises(KioskError, match="not an invitee"):
        reminding.mark_reminded(db.unit_of_work(), rm, ["9999999999"], clock=CLOCK)
    reception_staff = staff_session(db.unit_of_work(), "R001", clock=CLOCK)
    with pytest.raises(PermissionDenied):
        reminding.mark_reminded(db.unit_of_work(), reception_staff, [mine[0][0]], clock=CLOCK)
    boss = staff_session(db.unit_of_work(), "S001", clock=CLOCK)
    by_phone = reminding.mark_reminded(
        db.unit_of_work(), boss, [theirs[0]], channel="phone", clock=CLOCK
    )
    assert by_phone.recorded == 1
    assert (theirs[0], "phone", day, "S001") in _reminders(db)
    assert reminding.reminded(db.unit_of_work())[mine[0][0]] == day


def test_send_report(any_demo_db: Database, tmp_path: Path) -> None:
    db = any_demo_db
    confirmed = _confirmed(db)
    boss = staff_session(db.unit_of_work(), "S001", clock=CLOCK)
    bad = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["客户号", "邀请码", "发送时间", "发送状态"],
            [confirmed[0][0], None, "2026-11-26 10:05", "成功"],
            ["6299999999", None, "2026-11-26 10:05", "成功"],
            [None, "ZZZZZZZZ", "2026-11-26 10:06", "成功"],
            [confirmed[1][0], None, "yesterday", "成功"],
            [confirmed[2][0], None, "2026-11-26 10:07", "也许"],
            [confirmed[3][0], confirmed[4][1], "2026-11-26 10:07", "成功"],
        ],
    )
    with pytest.raises(imports.ImportRefused) as refused:
        imports.import_file(db.unit_of_work(), "reminder_report", bad, boss, clock=CLOCK)
    issues = {(i.row, i.column) for i in refused.value.check.issues}
    assert issues == {(3, "客户号"), (4, "邀请码"), (5, "发送时间"), (6, "发送状态"), (7, "邀请码")}
    assert _reminders(db) == []  # nothing written

    good = write_xlsx(
        tmp_path / "短信发送报告.xlsx",
        [
            ["邀请码", "手机号", "发送时间", "状态"],
            [confirmed[0][1], "138****0001", "2026-11-26 10:05", "发送成功"],
            [confirmed[1][1], "138****0002", "2026-11-26 10:05", "失败"],
            [confirmed[1][1], "138****0002", "2026-11-26 11:30", "成功"],
            [confirmed[2][1], "138****0003", "2026-11-27 09:00:10", "失败"],
        ],
    )
    result = imports.import_file(db.unit_of_work(), "reminder_report", good, boss, clock=CLOCK)
    assert (result.created, result.updated) == (2, 0)
    assert result.notes == (
        f"Row 3: {confirmed[1][0]} 失败, not recorded.",
        f"Row 5: {confirmed[2][0]} 失败, not recorded.",
    )
    summary = result.summary(good.name)
    assert "2 reminders recorded" in summary and "2 failed sends not recorded" in summary
    day = datetime(2026, 11, 26).date()
    assert _reminders(db) == [(confirmed[0][0], "sms", day, ""), (confirmed[1][0], "sms", day, "")]
    with db.unit_of_work() as uow:
        at = uow.session.scalars(
            select(InvitationContact.at)
            .where(InvitationContact.purpose == ContactPurpose.REMINDER)
            .order_by(InvitationContact.id)
            .limit(1)
        ).one()
        assert at == datetime(2026, 11, 26, 2, 5, tzinfo=UTC)
    twice = imports.import_file(db.unit_of_work(), "reminder_report", good, boss, clock=CLOCK)
    assert (twice.created, twice.updated) == (0, 2)
    assert len(_reminders(db)) == 2


def test_per_rm_figures(any_demo_db: Database) -> None:
    db = any_demo_db
    boss = staff_session(db.unit_of_work(), "S001", clock=CLOCK)
    set_window_settings(db.unit_of_work(), boss, throughput=30, clock=CLOCK)
    plan_windows(db.unit_of_work(), boss, clock=CLOCK)
    confirmed = _confirmed(db)
    rm_no = confirmed[0][2]
    mine = [c for c in confirmed if c[2] == rm_no]
    assert len(mine) >= 3
    rm = staff_session(db.unit_of_work(), rm_no, clock=CLOCK)
    reminding.mark_reminded(db.unit_of_work(), rm, [c[0] for c in mine[:2]], clock=CLOCK)
    with db.unit_of_work() as uow:
        windows = dict(
            uow.session.execute(
                select(Invitation.customer_id, Invitation.window_starts_at).where(
                    Invitation.customer_id.in_([c[3] for c in mine])
                )
            ).all()
        )
        slot_start = uow.session.scalar(select(func.min(TimeSlot.starts_at)))
    desk = staff_session(db.unit_of_work(), "R001", clock=CLOCK)
    in_window = windows[mine[0][3]] + timedelta(minutes=3)
    late = windows[mine[1][3]] + timedelta(minutes=45)
    reception.check_in(db.unit_of_work(), mine[0][3], desk, clock=FixedClock(in_window))
    reception.check_in(db.unit_of_work(), mine[1][3], desk, clock=FixedClock(late))
    assert slot_start is not None
    figures = reminding.rm_reminder_figures(db.unit_of_work())
    row = next(r for r in figures.rms if r.rm_no == rm_no)
    assert (row.confirmed, row.reminded, row.arrived, row.with_window, row.in_window) == (
        len(mine),
        2,
        2,
        2,
        1,
    )
    assert row.reminded_share == pytest.approx(2 / len(mine))
    assert row.in_window_share == pytest.approx(0.5)
    assert figures.total.confirmed == len(confirmed)
    assert figures.total.reminded == 2 and figures.total.in_window == 1
    others = [r for r in figures.rms if r.rm_no != rm_no]
    assert all(r.reminded == 0 and r.in_window_share is None for r in others)
    assert reminding.percent_text(None) == "—" and reminding.percent_text(0.5) == "50%"


def _rm_customers(db: Database, rm_no: str) -> set[str]:
    """The confirmed customers whose RM is ``rm_no`` or who are credited to them."""
    with db.unit_of_work() as uow:
        rm_id = uow.session.scalar(select(Staff.id).where(Staff.staff_no == rm_no))
        return set(
            uow.session.scalars(
                select(Customer.customer_no)
                .join(Invitation, Invitation.customer_id == Customer.id)
                .where(
                    Invitation.status == InvitationStatus.CONFIRMED,
                    (Invitation.rm_id == rm_id) | (Invitation.invited_by == rm_id),
                )
            )
        )


def test_my_customers(any_demo_db: Database) -> None:
    """An RM's list is exactly their confirmed customers, credited ones included, with the
    last day reminded; never another RM's; a supervisor sees everyone's or one RM's."""
    db = any_demo_db
    with db.unit_of_work() as uow:
        credited_no = uow.session.scalars(
            select(Staff.staff_no)
            .join(Invitation, Invitation.invited_by == Staff.id)
            .where(
                Invitation.status == InvitationStatus.CONFIRMED,
                Invitation.invited_by != Invitation.rm_id,
            )
            .order_by(Staff.staff_no)
            .limit(1)
        ).one()
    rm = staff_session(db.unit_of_work(), credited_no, clock=CLOCK)
    mine = reminding.my_customers(db.unit_of_work(), rm)
    numbers = [c.reminder.customer_no for c in mine.customers]
    assert mine.rm_no == credited_no and mine.rms == []
    assert len(numbers) == len(set(numbers))
    assert set(numbers) == _rm_customers(db, credited_no)
    credited = [c for c in mine.customers if c.reminder.credited_no]
    # Credited to this RM (another RM's customer), or this RM's own credited to another.
    assert any(c.reminder.credited_no == credited_no for c in credited)
    assert all(
        (c.reminder.rm_no == credited_no) != (c.reminder.credited_no == credited_no)
        for c in credited
    )
    assert all("*" in c.reminder.masked_phone for c in mine.customers)  # masked
    sent = reminding.reminded(db.unit_of_work())
    assert {c.reminder.customer_no: c.last_reminded for c in mine.customers} == {
        n: sent.get(n) for n in numbers
    }
    assert mine.reminded == sum(1 for n in numbers if n in sent) < len(numbers)

    with pytest.raises(KioskError, match="own customers"):
        reminding.my_customers(
            db.unit_of_work(), rm, "RM002" if credited_no != "RM002" else "RM001"
        )
    reception_staff = staff_session(db.unit_of_work(), "R001", clock=CLOCK)
    with pytest.raises(PermissionDenied):
        reminding.my_customers(db.unit_of_work(), reception_staff)

    # Ticked here, it shows: today, and the count grows by one.
    waiting = next(c for c in mine.customers if c.last_reminded is None)
    reminding.mark_reminded(db.unit_of_work(), rm, [waiting.reminder.customer_no], clock=CLOCK)
    after = reminding.my_customers(db.unit_of_work(), rm)
    assert after.reminded == mine.reminded + 1
    day = datetime(2026, 11, 26).date()
    assert {c.reminder.customer_no: c.last_reminded for c in after.customers}[
        waiting.reminder.customer_no
    ] == day

    boss = staff_session(db.unit_of_work(), "S001", clock=CLOCK)
    everyone = reminding.my_customers(db.unit_of_work(), boss)
    assert everyone.rm_no == ""
    assert len(everyone.customers) == len(_confirmed(db))
    assert credited_no in [number for number, _name in everyone.rms]
    theirs = reminding.my_customers(db.unit_of_work(), boss, credited_no)
    assert [c.reminder.customer_no for c in theirs.customers] == [
        c.reminder.customer_no for c in after.customers
    ]
    with pytest.raises(KioskError, match="no member of staff"):
        reminding.my_customers(db.unit_of_work(), boss, "NOBODY")
