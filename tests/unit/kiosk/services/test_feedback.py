"""After the event (issue #21), on the demo event on SQLite and PostgreSQL: the booth's bundle
brings deliveries and on-the-spot complaints (twice adds nothing, altered refused, an older
bundle without them still imports); a later delivery time replaces the earlier one, audited
with both; a satisfaction call's outcome at the desk for a redeemed slip only; the merchant's
deliveries file and the call list read back, every bad row named with row and column and
nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from cli.main import main
from kiosk.booth_laptop.booth import Booth
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.errors import KioskError, PermissionDenied
from kiosk.models import (
    AuditRecord,
    FeedbackChannel,
    ServiceDelivery,
    Slip,
    SlipFeedback,
)
from kiosk.redemption_bundle import BundleError
from kiosk.services import feedback, imports
from kiosk.services.auth import staff_session
from kiosk.services.booths import import_bundle
from printing.calls import write_call_list
from tests.booth_support import MORNING, issue, new_booth, pack_bytes, supervisor
from tests.unit.kiosk.services.test_imports import write_xlsx

LATER = FixedClock(MORNING + timedelta(days=3))


def _serial(code: str, db: Database) -> int:
    with db.unit_of_work() as uow:
        return uow.session.scalars(select(Slip.serial).where(Slip.code == code)).one()


def _counts(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(ServiceDelivery)) or 0,
            uow.session.scalar(select(func.count()).select_from(SlipFeedback)) or 0,
        )


@pytest.fixture
def booth(demo_db: Database, tmp_path: Path) -> Booth:
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(demo_db))
    return booth


def test_bundle_brings_deliveries_and_complaints_once(
    demo_db: Database, booth: Booth, tmp_path: Path
) -> None:
    a, b, c = issue(demo_db, ["O101", "O102", "O101"])
    sa, sb, sc = (_serial(x, demo_db) for x in (a, b, c))
    booth.set_delivers_on_redeem(True)
    assert booth.redeem(a, "李四").redeemed  # an immediate service: delivered at once
    booth.set_delivers_on_redeem(False)
    assert booth.redeem(b, "李四").redeemed
    assert booth.redeem(c, "李四").redeemed
    booth.clock = FixedClock(MORNING + timedelta(hours=2))
    booth.deliver(sb, "王五")
    booth.complain(sc, "conditions", "要求 先充值 才给做", "王五")
    with pytest.raises(KioskError, match="has not redeemed"):
        booth.complain(sc + 100, "other", "x", "王五")
    with pytest.raises(KioskError, match="Choose what"):
        booth.complain(sc, "rude", "x", "王五")
    path = tmp_path / "bundle.json"
    booth.export(path)
    body = json.loads(path.read_bytes())["body"]
    assert [d["serial"] for d in body["deliveries"]] == [sa, sb]
    assert body["complaints"][0]["category"] == "conditions"

    # Altered (the complaint's words changed): refused whole, nothing written.
    document = json.loads(path.read_bytes())
    document["body"]["complaints"][0]["complaint"] = "没问题"
    with pytest.raises(BundleError, match="altered"):
        import_bundle(
            demo_db.unit_of_work(), json.dumps(document).encode(), supervisor(demo_db), clock=LATER
        )
    assert _counts(demo_db) == (0, 0)

    first = import_bundle(
        demo_db.unit_of_work(), path.read_bytes(), supervisor(demo_db), clock=LATER
    )
    assert (first.added, first.deliveries, first.complaints) == (3, 2, 1)
    assert "2 services delivered, 1 complaints recorded" in first.counts()
    second = import_bundle(
        demo_db.unit_of_work(), path.read_bytes(), supervisor(demo_db), clock=LATER
    )
    assert (second.added, second.deliveries, second.complaints) == (0, 0, 0)
    assert _counts(demo_db) == (2, 1)
    after = feedback.feedback_for_slip(demo_db.unit_of_work(), sc)
    assert after.redeemed and after.delivered_at is None
    (said,) = after.feedback
    assert (said.channel, said.category, said.complaint, said.booth_staff) == (
        FeedbackChannel.BOOTH,
        "conditions",
        "要求 先充值 才给做",
        "王五",
    )
    assert said.said_at == MORNING + timedelta(hours=2)
    assert feedback.feedback_for_slip(demo_db.unit_of_work(), sa).delivered_at == MORNING

    # A later press replaces the time; the audit record keeps the old and the new.
    booth.clock = FixedClock(MORNING + timedelta(hours=5))
    booth.deliver(sb, "王五")
    data, _n = booth.bundle()
    third = import_bundle(demo_db.unit_of_work(), data, supervisor(demo_db), clock=LATER)
    assert third.deliveries == 1
    assert feedback.feedback_for_slip(demo_db.unit_of_work(), sb).delivered_at == (
        MORNING + timedelta(hours=5)
    )
    with demo_db.unit_of_work() as uow:
        changed = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "service_delivery_changed")
        ).one()
        details = json.loads(changed.details)
        assert details["previous"] == (MORNING + timedelta(hours=2)).isoformat()
        assert details["delivered_at"] == (MORNING + timedelta(hours=5)).isoformat()


def test_a_bundle_without_the_new_keys_still_imports(demo_db: Database, booth: Booth) -> None:
    (a,) = issue(demo_db, ["O101"])
    booth.redeem(a, "李四")
    data, _n = booth.bundle()
    assert "deliveries" not in json.loads(data)["body"]  # as an older booth wrote it
    result = import_bundle(demo_db.unit_of_work(), data, supervisor(demo_db), clock=LATER)
    assert (result.added, result.deliveries, result.complaints) == (1, 0, 0)
    assert result.counts() == "1 new, 0 already known, 0 conflicts."


def test_a_call_at_the_desk_for_a_redeemed_slip_only(demo_db: Database, booth: Booth) -> None:
    redeemed, issued = issue(demo_db, ["O101", "O102"])
    booth.redeem(redeemed, "李四")
    import_bundle(demo_db.unit_of_work(), booth.bundle()[0], supervisor(demo_db), clock=LATER)
    serial, never = _serial(redeemed, demo_db), _serial(issued, demo_db)
    rm = staff_session(demo_db.unit_of_work(), "RM001", clock=LATER)
    done = feedback.record_feedback(
        demo_db.unit_of_work(),
        serial,
        rm,
        score=2,
        complaint="态度差",
        request_id="r1",
        clock=LATER,
    )
    assert done.added and done.changes.slips == {serial}
    again = feedback.record_feedback(
        demo_db.unit_of_work(),
        serial,
        rm,
        score=2,
        complaint="态度差",
        request_id="r1",
        clock=LATER,
    )
    assert not again.added
    (said,) = feedback.feedback_for_slip(demo_db.unit_of_work(), serial).feedback
    assert (said.channel, said.score, said.category) == ("call", 2, "other")
    with pytest.raises(feedback.FeedbackRefused, match=r"No\. \d{6} was never redeemed"):
        feedback.record_feedback(demo_db.unit_of_work(), never, rm, score=5, clock=LATER)
    with pytest.raises(feedback.FeedbackRefused, match="1 to 5, not 6"):
        feedback.record_feedback(demo_db.unit_of_work(), serial, rm, score=6, clock=LATER)
    with pytest.raises(feedback.FeedbackRefused, match="no slip"):
        feedback.record_feedback(demo_db.unit_of_work(), 999999, rm, score=5, clock=LATER)
    merchant_staff = staff_session(demo_db.unit_of_work(), "M001", clock=LATER)
    with pytest.raises(PermissionDenied):
        feedback.record_feedback(demo_db.unit_of_work(), serial, merchant_staff, score=5)
    assert _counts(demo_db) == (0, 1)
    at = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    put = feedback.record_delivery(demo_db.unit_of_work(), serial, at, rm, clock=LATER)
    assert put.written and put.previous is None
    assert feedback.parse_serial(f"No. {serial:06d}") == serial
    assert feedback.parse_serial(redeemed) == serial  # the slip's QR code scanned


def _redeem_at_booths(db: Database, tmp_path: Path) -> tuple[int, int, int, int]:
    """(M01 redeemed, M01 redeemed, M01 never redeemed, another merchant's redeemed)."""
    a, b, c, d = issue(db, ["O101", "O102", "O101", "O501"])
    m01 = new_booth(tmp_path / "m01.sqlite3")
    m01.install(pack_bytes(db))
    m01.redeem(a, "李四")
    m01.redeem(b, "李四")
    with db.unit_of_work() as uow:
        other = uow.session.scalar(select(Slip.merchant_id).where(Slip.code == d))
        from kiosk.models import Merchant

        other_code = uow.session.get(Merchant, other).code  # type: ignore[union-attr]
    m05 = new_booth(tmp_path / "other.sqlite3")
    m05.install(pack_bytes(db, other_code))
    m05.redeem(d, "赵六")
    for booth in (m01, m05):
        import_bundle(db.unit_of_work(), booth.bundle()[0], supervisor(db), clock=LATER)
    return tuple(_serial(x, db) for x in (a, b, c, d))  # type: ignore[return-value]


def test_deliveries_file(demo_db: Database, tmp_path: Path) -> None:
    db = demo_db
    a, b, never, other = _redeem_at_booths(db, tmp_path)
    boss = supervisor(db)
    bad = write_xlsx(
        tmp_path / "服务完成记录.xlsx",
        [
            ["兑换券号", "服务完成时间", "商户"],
            [f"No. {a:06d}", "2026-12-01 15:30", "M01"],
            ["No. 888888", "2026-12-01", "M01"],  # unknown slip
            [f"No. {never:06d}", "2026-12-01", "M01"],  # never redeemed
            [f"{other:06d}", "2026-12-01", "M01"],  # another merchant's
            [f"No. {b:06d}", "12月1日下午", "M01"],  # not a date
        ],
    )
    with pytest.raises(imports.ImportRefused) as refused:
        imports.import_file(db.unit_of_work(), "deliveries", bad, boss, clock=LATER)
    issues = {(i.row, i.column) for i in refused.value.check.issues}
    assert issues == {(3, "兑换券号"), (4, "兑换券号"), (5, "兑换券号"), (6, "服务完成时间")}
    messages = " ".join(i.message for i in refused.value.check.issues)
    assert "never redeemed" in messages and "not M01" in messages
    assert _counts(db) == (0, 0)

    good = write_xlsx(
        tmp_path / "deliveries.xlsx",
        [
            ["Slip no.", "Delivered at"],
            [f"No. {a:06d}", "2026-12-01 15:30"],
            [f"{b}", "2026-12-02"],
        ],
    )
    result = imports.import_file(db.unit_of_work(), "deliveries", good, boss, clock=LATER)
    assert (result.created, result.updated) == (2, 0)
    assert "2 delivery times recorded" in result.summary(good.name)
    twice = imports.import_file(db.unit_of_work(), "deliveries", good, boss, clock=LATER)
    assert (twice.created, twice.updated) == (0, 0)
    after = feedback.feedback_for_slip(db.unit_of_work(), a)
    assert after.delivered_at == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    assert after.delivered_source == "deliveries.xlsx"
    # Replaying the booth's bundle does not undo the merchant's later file.
    assert _counts(db) == (2, 0)


def test_call_list_out_and_back(demo_db: Database, tmp_path: Path) -> None:
    db = demo_db
    a, b, never, other = _redeem_at_booths(db, tmp_path)
    rows = feedback.call_list(db.unit_of_work())
    assert sorted(r.serial for r in rows) == sorted([a, b, other])
    assert all("*" in r.masked_name for r in rows)
    path = tmp_path / "calls.xlsx"
    assert main(["--db", db.url, "--lang", "en", "export", "calls", str(path)]) == 0
    with pytest.raises(KioskError, match=r"\.xlsx"):
        write_call_list(rows, tmp_path / "calls.csv", "Asia/Shanghai")
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[-4:] == ["Score (1-5)", "Complaint category", "Complaint", "Called on"]
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert "附加条件" in lists[0].formula1
    index = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    score, category, complaint = len(header) - 3, len(header) - 2, len(header) - 1

    # Bad: a score of 7, a category nobody knows, a slip never redeemed added by hand.
    sheet.cell(row=index[f"No. {a:06d}"], column=score, value=7)
    sheet.cell(row=index[f"No. {b:06d}"], column=category, value="态度不好")
    sheet.cell(row=index[f"No. {b:06d}"], column=complaint, value="店员不理人")
    sheet.append([f"No. {never:06d}", None, None, None, None, None, None, 4])
    book.save(tmp_path / "bad.xlsx")
    boss = supervisor(db)
    with pytest.raises(imports.ImportRefused) as refused:
        imports.import_file(db.unit_of_work(), "feedback", tmp_path / "bad.xlsx", boss, clock=LATER)
    issues = {(i.row, i.column) for i in refused.value.check.issues}
    assert issues == {
        (index[f"No. {a:06d}"], "Score (1-5)"),
        (index[f"No. {b:06d}"], "Complaint category"),
        (sheet.max_row, "Slip no."),
    }
    assert _counts(db) == (0, 0)

    # Good: a score, a complaint with its Chinese category; an uncalled row is left alone.
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet.cell(row=index[f"No. {a:06d}"], column=score, value=5)
    sheet.cell(row=index[f"No. {b:06d}"], column=score, value=1)
    sheet.cell(row=index[f"No. {b:06d}"], column=category, value="附加条件")
    sheet.cell(row=index[f"No. {b:06d}"], column=complaint, value="要求加钱升级")
    book.save(tmp_path / "good.xlsx")
    result = imports.import_file(
        db.unit_of_work(), "feedback", tmp_path / "good.xlsx", boss, clock=LATER
    )
    assert (result.created, result.updated) == (2, 0)
    again = imports.import_file(
        db.unit_of_work(), "feedback", tmp_path / "good.xlsx", boss, clock=LATER
    )
    assert (again.created, again.updated) == (0, 2)
    listed = feedback.feedback_list(db.unit_of_work(), "M01")
    assert sorted((f.score, f.category, f.channel) for f in listed) == [
        (1, "conditions", "file"),
        (5, None, "file"),
    ]
    # Called with a score: off the next call list.
    assert [r.serial for r in feedback.call_list(db.unit_of_work())] == [other]
