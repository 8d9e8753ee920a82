"""Contact history, RM credit, coverage and the call rule, RM codes and posters (issue #20).

A small event on SQLite and PostgreSQL; daily reports imported in every order a branch sends
them; the history, the invitation's "latest" fields and the credit read back from the
database after each step; the coverage checked against a direct count; the poster rendered
and its QR decoded by zxing-cpp."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from kiosk import audit
from kiosk.db import Database
from kiosk.i18n import set_language
from kiosk.invitations import rm_link
from kiosk.models import (
    AuditRecord,
    Customer,
    Invitation,
    InvitationContact,
    InvitationStatus,
    Staff,
)
from kiosk.services import figure_settings, rm_codes, tracking
from kiosk.services import imports as svc
from kiosk.services.auth import staff_session
from kiosk.services.imports import ImportRefused
from kiosk.services.reports import rm_performance
from printing.booklet import render_html
from printing.invitations import write_progress
from printing.posters import write_posters

from .test_imports import (
    BRANCH_ROWS,
    CATALOG_ROWS,
    CLOCK,
    load,
    make_event,
    write_xlsx,
)
from .test_tracking import INVITEES

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = [
    ["工号", "姓名", "网点", "角色", "初始密码"],
    ["RM001", "张经理", "B01", "客户经理", "2468"],
    ["RM002", "李经理", "B02", "rm", "1357"],
    ["RM003", "赵经理", "B01", "rm", "1470"],
    ["R001", "王接待", None, "接待", "1212"],
    ["S001", "钱主管", None, "主管", "1111"],
]
HEADER = ["客户号", "姓名", "邀约方式", "邀约日期", "客户答复", "同行人数"]
RM_HEADER = [*HEADER, "邀约客户经理工号", "个人邀请码"]


@pytest.fixture
def event(any_empty_url: str, tmp_path: Path) -> Iterator[Database]:
    database = make_event(any_empty_url)
    for kind, rows in (
        ("branches", BRANCH_ROWS),
        ("staff", STAFF),
        ("catalog", CATALOG_ROWS),
        ("invitees", INVITEES),
    ):
        load(database, tmp_path, kind, rows)
    yield database
    database.dispose()


def report(database: Database, tmp_path: Path, rows: list[list[Any]], name: str) -> Any:
    """Import one daily report under its own file name (the history's source)."""
    return svc.import_file(
        database.unit_of_work(),
        "invitations",
        write_xlsx(tmp_path / name, rows),
        supervisor(database),
        clock=CLOCK,
    )


def supervisor(database: Database) -> Any:
    return staff_session(database.unit_of_work(), "S001", clock=CLOCK)


def invitation(database: Database, customer_no: str) -> Invitation:
    with database.unit_of_work() as uow:
        found = uow.session.scalar(
            select(Invitation)
            .join(Customer, Customer.id == Invitation.customer_id)
            .where(Customer.customer_no == customer_no)
        )
        assert found is not None
        uow.session.expunge(found)
        return found


def history(database: Database, customer_no: str) -> list[tuple[Any, ...]]:
    """The customer's contacts as (day, channel, staff no, answer, source), oldest first."""
    with database.unit_of_work() as uow:
        return [
            tuple(row)
            for row in uow.session.execute(
                select(
                    InvitationContact.contacted_on,
                    InvitationContact.channel,
                    Staff.staff_no,
                    InvitationContact.answer,
                    InvitationContact.source,
                )
                .join(Invitation, Invitation.id == InvitationContact.invitation_id)
                .join(Customer, Customer.id == Invitation.customer_id)
                .outerjoin(Staff, Staff.id == InvitationContact.staff_id)
                .where(Customer.customer_no == customer_no)
                .order_by(InvitationContact.id)
            )
        ]


def local_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(SHANGHAI).date()


def staff_no(database: Database, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    with database.unit_of_work() as uow:
        return uow.session.scalar(select(Staff.staff_no).where(Staff.id == staff_id))


def state(database: Database, customer_no: str) -> tuple[Any, ...]:
    i = invitation(database, customer_no)
    return (
        i.status,
        i.answer,
        i.channel,
        local_day(i.confirmed_at),
        local_day(i.invited_at),
        i.companions,
        staff_no(database, i.invited_by),
    )


# --- the history, never overwritten -------------------------------------------------------


def test_history_across_daily_reports_in_any_order(event: Database, tmp_path: Path) -> None:
    day1 = [
        HEADER,
        ["6200000001", "王小明", "电话", "2026-11-20", "未接通", None],
        ["6200000002", "单丽", "短信", "2026-11-20", None, None],
        ["6200000003", "陈大文", "电话", "2026-11-20", "确认", 1],
    ]
    day2 = [
        HEADER,
        ["6200000001", "王小明", "电话", "2026-11-22", "确认", 1],
        ["6200000003", "陈大文", "微信", "2026-11-22", "拒绝", None],
    ]
    # Out of order: the 22nd's report first, the 20th's after it.
    report(event, tmp_path, day2, "day2.xlsx")
    report(event, tmp_path, day1, "day1.xlsx")
    assert history(event, "6200000001") == [
        (date(2026, 11, 22), "phone", None, "confirmed", "day2.xlsx"),
        (date(2026, 11, 20), "phone", None, "unreachable", "day1.xlsx"),
    ]
    # The earlier "unreachable" did not overwrite the later confirmation.
    assert state(event, "6200000001") == (
        InvitationStatus.CONFIRMED, "confirmed", "phone", date(2026, 11, 22),
        date(2026, 11, 22), 1, None,
    )  # fmt: skip
    # Confirmed on the 20th, declined on the 22nd: the decline stands, the 20th came later.
    assert state(event, "6200000003") == (
        InvitationStatus.DECLINED, "declined", "wechat", None, date(2026, 11, 22), 0, None,
    )  # fmt: skip
    assert state(event, "6200000002")[:3] == (InvitationStatus.INVITED, None, "sms")
    assert len(history(event, "6200000002")) == 1

    # The same report again adds nothing and changes nothing.
    before = {n: state(event, n) for n in ("6200000001", "6200000002", "6200000003")}
    report(event, tmp_path, day1, "day1-again.xlsx")
    assert len(history(event, "6200000001")) == 2
    assert {n: state(event, n) for n in before} == before

    # The same day twice, corrected: the later import speaks for the day, both stay.
    corrected = [HEADER, ["6200000001", "王小明", "电话", "2026-11-22", "拒绝", None]]
    report(event, tmp_path, corrected, "day2-corrected.xlsx")
    assert [h[3] for h in history(event, "6200000001")] == ["confirmed", "unreachable", "declined"]
    assert state(event, "6200000001")[:4] == (
        InvitationStatus.DECLINED,
        "declined",
        "phone",
        None,
    )
    # The first version of the 22nd's report once more: already in the history, it adds
    # nothing and changes nothing (the history's order is the order contacts were first
    # recorded).
    report(event, tmp_path, day2, "day2-resent.xlsx")
    assert len(history(event, "6200000001")) == 3
    assert state(event, "6200000001")[0] == InvitationStatus.DECLINED
    # A later day's SMS without an answer: the channel and date move, the answer stays.
    later = [HEADER, ["6200000001", "王小明", "短信", "2026-11-25", None, None]]
    report(event, tmp_path, later, "day5.xlsx")
    assert state(event, "6200000001") == (
        InvitationStatus.DECLINED, "declined", "sms", None, date(2026, 11, 25), 0, None,
    )  # fmt: skip
    # A confirmation on a later day wins over the decline.
    again = [HEADER, ["6200000001", "王小明", "电话", "2026-11-26", "确认", 2]]
    report(event, tmp_path, again, "day6.xlsx")
    assert state(event, "6200000001") == (
        InvitationStatus.CONFIRMED, "confirmed", "phone", date(2026, 11, 26),
        date(2026, 11, 26), 2, None,
    )  # fmt: skip
    with event.unit_of_work() as uow:
        total = uow.session.scalar(select(func.count(InvitationContact.id)))
        recorded_by = set(uow.session.scalars(select(InvitationContact.recorded_by)))
        s001 = uow.session.scalar(select(Staff.id).where(Staff.staff_no == "S001"))
    assert total == 8 and recorded_by == {s001}


def test_new_channel_spellings(event: Database, tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["6200000001", None, "网点", "2026-11-20", None, None],
        ["6200000002", None, "到店", "2026-11-20", None, None],
        ["6200000003", None, "面邀", "2026-11-20", None, None],
        ["6200000004", None, "小程序", "2026-11-20", None, None],
        ["6200000005", None, "online", "2026-11-20", None, None],
        ["6200000005", None, "厅堂", "2026-11-21", None, None],  # another day: another contact
        ["6200000004", None, "网页", "2026-11-21", None, None],
    ]
    report(event, tmp_path, rows, "channels.xlsx")
    channels = {
        n: [h[1] for h in history(event, n)] for n in [f"620000000{i}" for i in range(1, 6)]
    }
    assert channels == {
        "6200000001": ["branch"],
        "6200000002": ["branch"],
        "6200000003": ["branch"],
        "6200000004": ["online", "online"],
        "6200000005": ["online", "branch"],
    }


# --- credit to the inviting RM -------------------------------------------------------------


def misread(code: str) -> str:
    """The code as a customer types it: lower case, 0 as O and 1 as I."""
    return code.lower().replace("0", "o").replace("1", "i")


def test_rms_get_codes_and_credit_goes_to_the_inviting_rm(event: Database, tmp_path: Path) -> None:
    codes = {rm.staff_no: rm.code for rm in rm_codes.rm_codes(event.unit_of_work()).rms}
    assert set(codes) == {"RM001", "RM002", "RM003"}  # reception and supervisor get none
    assert all(re.fullmatch(r"R[0-9A-HJKMNP-TV-Z]{5}", c) for c in codes.values())
    assert len(set(codes.values())) == 3
    with event.unit_of_work() as uow:
        others = uow.session.scalars(select(Staff.invite_code).where(Staff.staff_no == "S001"))
        assert list(others) == [None]
    rows = [
        RM_HEADER,
        # RM002's customer, called by RM001 (the RM column): credited to RM001.
        ["6200000002", None, "电话", "2026-11-20", "确认", None, "RM001", None],
        # RM002's customer, signed up online with RM003's code: credited to RM003.
        ["6200000005", None, "线上", "2026-11-21", "确认", None, None, misread(codes["RM003"])],
        # RM001's own customer called by RM001: nobody else to credit.
        ["6200000001", None, "电话", "2026-11-20", "确认", None, "RM001", codes["RM001"]],
        # RM003's customer: an SMS by RM001 without an answer, then RM003 confirms himself.
        ["6200000004", None, "短信", "2026-11-19", None, None, "RM001", None],
        ["6200000004", None, "电话", "2026-11-21", "确认", None, "RM003", None],
    ]
    report(event, tmp_path, rows, "credit.xlsx")
    assert state(event, "6200000002")[-1] == "RM001"
    assert state(event, "6200000005")[-1] == "RM003"
    assert state(event, "6200000001")[-1] is None
    # The own RM produced the confirmation: the other RM's earlier contact keeps the credit.
    assert state(event, "6200000004")[-1] == "RM001"
    assert history(event, "6200000005")[0][:3] == (date(2026, 11, 21), "online", "RM003")
    # A later contact by the customer's own RM never takes the credit back.
    own = [RM_HEADER, ["6200000002", None, "电话", "2026-11-23", "确认", None, "RM002", None]]
    report(event, tmp_path, own, "own.xlsx")
    assert state(event, "6200000002")[-1] == "RM001"
    assert state(event, "6200000002")[0] == InvitationStatus.CONFIRMED

    performance = rm_performance(event.unit_of_work(), clock=CLOCK)
    ranking = {
        k.staff_no: (k.invited, k.confirmed, k.for_others, k.by_others, k.ranks)
        for k in performance.ranking
    }
    # RM001: own 1 and 3, and 2 and 4 invited for others; RM003: 5; RM002: nothing left.
    assert ranking == {
        "RM001": (4, 3, 2, 0, (1, 1, 1, 1)),
        "RM003": (1, 1, 1, 1, (2, 2, 1, 1)),
        "RM002": (0, 0, 0, 2, (3, 3, 1, 1)),
    }
    assert [k.staff_no for k in performance.ranking] == ["RM001", "RM003", "RM002"]
    credited = [
        (c.customer_no, c.masked_name, c.inviting_no, c.owning_no, c.status)
        for c in performance.credited
    ]
    assert credited == [
        ("6200000002", "单*", "RM001", "RM002", "confirmed"),
        ("6200000004", "刘*", "RM001", "RM003", "confirmed"),
        ("6200000005", "周*", "RM003", "RM002", "confirmed"),
    ]
    # The per-RM rows credit the same way, and add up to the event.
    rows_by_rm = {r.code: r.invited for r in performance.rms}
    assert rows_by_rm == {"RM001": 4, "RM003": 1}
    assert sum(rows_by_rm.values()) == performance.total.invited == 5
    from printing.event_reports import rm_report

    sections = {s.title: s.rows for s in rm_report(performance).sections}
    assert sections["Invited by another RM"][1][3:5] == ["RM001 张经理", "RM002 李经理"]
    assert [row[0] for row in sections["Ranking"][1:]] == ["RM001", "RM003", "RM002"]


def test_refused_rows_name_row_and_column(event: Database, tmp_path: Path) -> None:
    codes = {rm.staff_no: rm.code for rm in rm_codes.rm_codes(event.unit_of_work()).rms}
    rows = [
        RM_HEADER,
        ["6299999999", None, "电话", "2026-11-20", "确认", None, None, None],
        ["6200000001", None, "电话", "2026-11-20", "确认", None, "RM999", None],
        ["6200000002", None, "电话", "2026-11-20", "确认", None, "R001", None],
        ["6200000003", None, "电话", "2026-11-20", "确认", None, None, "RZZZZZ"],
        ["6200000004", None, "电话", "2026-11-20", "确认", None, "RM001", codes["RM002"]],
        ["6200000005", None, "飞鸽", "2026-11-20", "确认", None, None, None],
        ["6200000005", None, "电话", "2026-11-20", "确认", None, "S001", None],  # a supervisor
    ]
    with pytest.raises(ImportRefused) as refused:
        report(event, tmp_path, rows, "bad.xlsx")
    issues = [(i.row, i.column, i.message) for i in refused.value.check.issues]
    assert [(row, column) for row, column, _m in issues] == [
        (2, "客户号"),
        (3, "邀约客户经理工号"),
        (4, "邀约客户经理工号"),
        (5, "个人邀请码"),
        (6, "个人邀请码"),
        (7, "邀约方式"),
    ]
    messages = [m for _r, _c, m in issues]
    assert "not an invitee" in messages[0]
    assert "no member of staff “RM999”" in messages[1]
    assert "R001 is not a relationship manager" in messages[2]
    assert "“RZZZZZ” is no RM's invitation code" in messages[3]
    assert f"The code {codes['RM002']} is RM002's, but the row names RM001." == messages[4]
    assert "“飞鸽” is not a channel" in messages[5]
    with event.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(InvitationContact.id))) == 0


def test_an_unknown_channel_is_refused_with_the_channels_in_chinese(
    event: Database, tmp_path: Path
) -> None:
    """The coordinator reads the refusal in Chinese: the channels as the template says them
    (短信 / 电话 …), not the database's sms / phone."""
    set_language("zh_CN")
    rows = [RM_HEADER, ["6200000005", None, "传真", "2026-11-20", "确认", None, None, None]]
    with pytest.raises(ImportRefused) as refused:
        report(event, tmp_path, rows, "bad.xlsx")
    [issue] = refused.value.check.issues
    assert (issue.row, issue.column) == (2, "邀约方式")
    assert "短信 / 电话 / 微信 / 网点 / 线上" in issue.message
    assert "sms" not in issue.message and "phone" not in issue.message


# --- coverage and the call rule ------------------------------------------------------------


def test_coverage_and_call_rule_against_a_direct_count(event: Database, tmp_path: Path) -> None:
    rows = [
        RM_HEADER,
        ["6200000001", None, "短信", "2026-11-20", None, None, None, None],
        ["6200000001", None, "电话", "2026-11-21", "确认", None, None, None],
        ["6200000002", None, "短信", "2026-11-20", None, None, None, None],
        ["6200000004", None, "微信", "2026-11-20", "确认", None, None, None],
        ["6200000005", None, "电话", "2026-11-20", "未接通", None, "RM001", None],
    ]
    report(event, tmp_path, rows, "contacts.xlsx")
    # No rule yet: coverage only.
    first = tracking.progress(event.unit_of_work()).coverage
    assert first is not None and first.floor is None and first.missing == []
    settings = figure_settings.set_figure_settings(
        event.unit_of_work(), supervisor(event), call_points_floor=8000, clock=CLOCK
    )
    assert settings.call_points_floor == 8000
    assert "8,000" in figure_settings.describe_call_rule(settings)
    coverage = tracking.progress(event.unit_of_work()).coverage
    assert coverage is not None and coverage.floor == 8000
    # Points: 1 15000 (called), 2 3000, 3 5000 (never contacted), 4 20000 (WeChat only),
    # 5 8000 (called, by another RM: it counts for the customer).
    branches = {
        r.code: (r.invitees, r.contacted, r.called, r.due, r.missing) for r in coverage.branches
    }
    assert branches == {"B01": (3, 2, 1, 2, 1), "B02": (2, 2, 1, 1, 0)}
    rms = {r.code: (r.invitees, r.contacted, r.called, r.due, r.missing) for r in coverage.rms}
    assert rms == {
        "RM001": (2, 1, 1, 1, 0),
        "RM002": (2, 2, 1, 1, 0),
        "RM003": (1, 1, 0, 1, 1),
    }
    assert [
        (m.customer_no, m.masked_name, m.branch, m.rm_no, m.points) for m in coverage.missing
    ] == [("6200000004", "刘*", "B01", "RM003", 20000)]
    # The same figures by a direct count over the tables.
    with event.unit_of_work() as uow:
        s = uow.session
        invitees = s.scalar(select(func.count(Invitation.id)))
        contacted = s.scalar(select(func.count(func.distinct(InvitationContact.invitation_id))))
        called_ids = set(
            s.scalars(
                select(InvitationContact.invitation_id).where(InvitationContact.channel == "phone")
            )
        )
        due = {
            i: no
            for i, no in s.execute(
                select(Invitation.id, Customer.customer_no)
                .join(Customer, Customer.id == Invitation.customer_id)
                .where(Customer.points_balance >= 8000)
            )
        }
    total = coverage.total
    assert (total.invitees, total.contacted, total.called, total.due) == (
        invitees,
        contacted,
        len(called_ids),
        len(due),
    )
    assert sorted(no for i, no in due.items() if i not in called_ids) == [
        m.customer_no for m in coverage.missing
    ]
    # The export carries coverage and the missing list (names masked).
    path = write_progress(tracking.progress(event.unit_of_work()), tmp_path / "progress.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-3:] == ["Coverage per branch", "Coverage per RM", "Not called"]
    missing = [list(r) for r in book["Not called"].iter_rows(values_only=True)]
    assert missing[1] == ["6200000004", "刘*", "B01", "RM003", "赵经理", 20000]
    with event.unit_of_work() as uow:
        actions = list(uow.session.scalars(select(AuditRecord.action)))
    assert "figure_settings_set" in actions


# --- codes, links and posters --------------------------------------------------------------


def test_rm_link() -> None:
    assert rm_link("https://a.example/c.html", "R12345") == "https://a.example/c.html?rm=R12345"
    assert rm_link("https://a.example/c.html?x=1#top", "R12345") == (
        "https://a.example/c.html?x=1&rm=R12345#top"
    )
    assert rm_link("https://a.example/c.html?rm=OLD", "R12345") == (
        "https://a.example/c.html?rm=R12345"
    )
    assert rm_link("", "R12345") == "R12345"


def decoded(pdf: Path, tmp_path: Path, stem: str) -> list[set[str]]:
    subprocess.run(
        ["pdftoppm", "-r", "100", "-gray", "-png", str(pdf), str(tmp_path / stem)], check=True
    )
    pages = []
    for png in sorted(tmp_path.glob(f"{stem}-*.png")):
        with Image.open(png) as image:
            pages.append({r.text for r in zxingcpp.read_barcodes(image)})
    return pages


def test_posters_carry_the_link_in_a_qr(event: Database, tmp_path: Path) -> None:
    codes = rm_codes.rm_codes(event.unit_of_work())
    written = write_posters(codes, tmp_path / "posters")
    assert sorted(p.name for p in written) == [
        "poster-B01-RM001.pdf",
        "poster-B01-RM003.pdf",
        "poster-B02-RM002.pdf",
        "posters-all.pdf",
    ]
    pages = decoded(tmp_path / "posters" / "posters-all.pdf", tmp_path, "all")
    assert pages == [{f"https://example.com/catalog.html?rm={rm.code}"} for rm in codes.rms]
    # Without a catalog address the QR is the code alone.
    bare = rm_codes.RmCodes(codes.event_name, "", [
        rm_codes.RmCode(r.staff_no, r.name, r.branch, r.branch_name, r.code, rm_link("", r.code))
        for r in codes.rms[:1]
    ])  # fmt: skip
    write_posters(bare, tmp_path / "bare")
    assert decoded(tmp_path / "bare" / "posters-all.pdf", tmp_path, "bare") == [{codes.rms[0].code}]


def test_ecatalog_shows_the_rm_code_from_its_address(event: Database, tmp_path: Path) -> None:
    page = render_html(tracking.booklet(event.unit_of_work()), tmp_path / "c.html").read_text()
    assert 'id="rm-code" hidden' in page
    assert 'get("rm")' in page and "/^R[0-9A-Z]{5}$/" in page
    assert "textContent" in page and "innerHTML" not in page


def test_cli_codes_posters_and_call_floor(
    event: Database, tmp_path: Path, any_empty_url: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from .test_imports import run

    with audit.unaudited(), event.unit_of_work() as uow:  # an RM without a code yet
        member = uow.session.scalar(select(Staff).where(Staff.staff_no == "RM002"))
        assert member is not None
        member.invite_code = None
        uow.commit()
    code, out, err = run(capsys, "--db", any_empty_url, "--lang", "en", "rm", "codes")
    assert code == 0 and "1 RM(s) have no code yet" in out
    code, out, err = run(
        capsys, "--db", any_empty_url, "--lang", "en", "rm", "posters", str(tmp_path / "p")
    )
    assert code == 1 and "RM002 have no invitation code yet" in err
    monkeypatch.setenv("KIOSK_PIN", "1111")
    code, out, err = run(
        capsys, "--db", any_empty_url, "--lang", "en", "rm", "codes", "--staff", "S001"
    )
    assert (code, err) == (0, "") and "1 RM(s) got a code." in out
    code, out, err = run(
        capsys, "--db", any_empty_url, "--lang", "en", "rm", "posters", str(tmp_path / "p")
    )
    assert (code, err) == (0, "") and "3 posters written" in out
    code, out, err = run(
        capsys,
        "--db",
        any_empty_url,
        "--lang",
        "en",
        "rm",
        "call-floor",
        "14,000",
        "--staff",
        "S001",
    )
    assert (code, err) == (0, "")
    assert (
        out.strip() == "Call rule: every invitee with 14,000 points or more is called at least once"
    )
    code, out, err = run(capsys, "--db", any_empty_url, "--lang", "en", "rm", "call-floor")
    assert "14,000" in out
    with event.unit_of_work() as uow:
        actions = list(uow.session.scalars(select(AuditRecord.action)))
    assert "invite_codes_issued" in actions
