"""``kiosk windows`` and ``kiosk reminders`` on the demo event (SQLite and PostgreSQL): the
throughput set, a refused plan with its numbers, the plan shown per slot, a move refused and
one done, an RM's ticks, the SMS send report imported with its failures listed, the per-RM
shares, and the reminders export carrying the invitation code, the window, the plan and the
per-RM sheet; each step checked in the database."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from cli.main import main
from kiosk.db import open_database
from kiosk.demo import DEMO_PIN
from kiosk.models import (
    ContactPurpose,
    Customer,
    Event,
    Invitation,
    InvitationContact,
    InvitationStatus,
    Staff,
)
from tests.unit.kiosk.services.test_imports import write_xlsx


def _db(url: str, query):  # type: ignore[no-untyped-def]
    database = open_database(url)
    try:
        with database.unit_of_work() as uow:
            return query(uow.session)
    finally:
        database.dispose()


def test_windows_and_reminders_from_the_command_line(
    any_demo_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = any_demo_url
    monkeypatch.setenv("KIOSK_PIN", DEMO_PIN)
    run = ["--lang", "en", "--db", url]
    assert main([*run, "windows"]) == 0
    assert "throughput not set" in capsys.readouterr().out
    assert main([*run, "windows", "set", "--throughput", "5", "--staff", "S001"]) == 0
    capsys.readouterr()
    assert _db(url, lambda s: s.scalar(select(Event.window_throughput))) == 5
    assert main([*run, "windows", "plan", "--staff", "S001"]) == 1
    err = capsys.readouterr().err
    assert "5 × 5 = 25" in err and "Nothing was planned" in err
    assert main([*run, "windows", "set", "--throughput", "25", "--staff", "RM001"]) == 1
    assert "Only a supervisor" in capsys.readouterr().err
    assert main([*run, "windows", "set", "--throughput", "25", "--staff", "S001"]) == 0
    assert main([*run, "windows", "plan", "--staff", "S001"]) == 0
    out = capsys.readouterr().out
    confirmed = _db(
        url,
        lambda s: s.scalar(
            select(func.count()).where(Invitation.status == InvitationStatus.CONFIRMED)
        ),
    )
    assert f"{confirmed} customers given a window" in out
    assert "9:00-9:30" in out and "/25" in out
    with_window = Invitation.window_starts_at.is_not(None)
    planned = _db(url, lambda s: s.scalar(select(func.count()).where(with_window)))
    assert planned == confirmed
    assert main([*run, "windows", "move", "AM", "B01", "7:00", "--staff", "S001"]) == 1
    assert "no window starting at 7:00" in capsys.readouterr().err

    # An RM ticks their own customers; another RM's customer is refused.
    mine, other = _db(
        url,
        lambda s: (
            s.scalars(
                select(Customer.customer_no)
                .join(Invitation, Invitation.customer_id == Customer.id)
                .join(Staff, Staff.id == Invitation.rm_id)
                .where(Staff.staff_no == "RM001", Invitation.status == "confirmed")
                .order_by(Customer.customer_no)
            ).all(),
            s.scalars(
                select(Customer.customer_no)
                .join(Invitation, Invitation.customer_id == Customer.id)
                .join(Staff, Staff.id == Invitation.rm_id)
                .where(Staff.staff_no == "RM002", Invitation.status == "confirmed")
                .order_by(Customer.customer_no)
            ).all(),
        ),
    )
    assert main([*run, "reminders", "mark", mine[0], mine[1], "--staff", "RM001"]) == 0
    assert "2 reminder(s) recorded." in capsys.readouterr().out
    assert main([*run, "reminders", "mark", other[0], "--staff", "RM001"]) == 1
    assert "is not yours" in capsys.readouterr().err

    # The SMS platform's report: the failure listed, the success recorded.
    codes = dict(
        _db(
            url,
            lambda s: s.execute(
                select(Customer.customer_no, Invitation.code).join(
                    Invitation, Invitation.customer_id == Customer.id
                )
            ).all(),
        )
    )
    report = write_xlsx(
        tmp_path / "sms.xlsx",
        [
            ["邀请码", "发送时间", "发送状态"],
            [codes[other[0]], "2026-12-05 10:00", "成功"],
            [codes[other[1]], "2026-12-05 10:00", "失败"],
        ],
    )
    args = [*run, "import", "reminder_report", str(report), "--staff", "S001"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 reminders recorded" in out and f"Row 3: {other[1]} 失败, not recorded." in out
    assert (
        _db(
            url,
            lambda s: s.scalar(
                select(func.count()).where(InvitationContact.purpose == ContactPurpose.REMINDER)
            ),
        )
        == 3
    )
    bad = write_xlsx(
        tmp_path / "bad.xlsx",
        [["客户号", "发送时间", "发送状态"], ["6299999999", "2026-12-05 10:00", "成功"]],
    )
    assert main([*run, "import", "reminder_report", str(bad), "--staff", "S001"]) == 1
    assert "row 2, column “客户号”" in capsys.readouterr().err

    assert main([*run, "reminders", "status", "--out", str(tmp_path / "rm.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "RM001" in out and "2 of" in out
    book = openpyxl.load_workbook(tmp_path / "rm.xlsx", read_only=True)
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    assert rows[0][:4] == ("RM staff no.", "RM", "Confirmed", "Reminded")
    total = next(r for r in rows if r[0] == "Total")
    assert total[2] == confirmed and total[3] == 3

    # The reminders export: the invitation code and the window last, the plan, the shares.
    assert main([*run, "export", "reminders", str(tmp_path / "r.xlsx")]) == 0
    capsys.readouterr()
    book = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    try:
        assert book.sheetnames == ["Reminders", "Per slot", "Arrival windows", "Reminded per RM"]
        rows = list(book["Reminders"].iter_rows(values_only=True))
        plan = list(book["Arrival windows"].iter_rows(values_only=True))
    finally:
        book.close()
    assert rows[0][-2:] == ("Invitation code", "Arrival window")
    first = rows[1]
    assert first[-2] == codes[first[3]] and f"请于 {first[-1]} 到场" in first[8]
    assert plan[0] == ("Slot", "Arrival window", "Customers", "Throughput", "Branches")
    assert sum(r[2] for r in plan[1:] if isinstance(r[2], int)) == confirmed
