"""After the event (issue #21), on a simulated demo day (``kiosk demo --simulate``) copied to
SQLite and PostgreSQL: each RM's follow-up groups checked against direct queries written here;
the round trip of a workbook an RM filled in (export, fill with openpyxl as an RM would, with
the Chinese outcome labels, import, the contacts and the coverage; the same workbook again
adds nothing); bad rows (another RM's customer, a bad or future date, an unknown outcome, a
group the customer is not in) refused with row and column, nothing written; the progress
export's follow-up sheet; ``kiosk export followup`` and ``kiosk import followup``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select, text

from cli.main import main
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.eventcopy import copy_event
from kiosk.models import Customer, FollowupContact, Staff
from kiosk.services import followup, gate, imports, tracking
from kiosk.services.auth import staff_session
from kiosk.services.customer_offers import offers_for
from kiosk.simulate import SimulationSummary
from printing.followup import file_name, write_followup
from printing.invitations import write_progress
from tests.simulate_support import SIM_DATE, simulate

AFTER = FixedClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 10:00, three days after
FILLED = ("contacted_on", "channel", "outcome", "note")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    path = tmp_path_factory.mktemp("followup") / "event.sqlite3"
    summary, _clock = simulate(path)
    return path, summary


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def day(
    request: pytest.FixtureRequest, simulated: tuple[Path, SimulationSummary], tmp_path: Path
) -> Iterator[Database]:
    """The simulated day, on a fresh copy per test."""
    source, _summary = simulated
    if request.param == "sqlite":
        shutil.copyfile(source, tmp_path / "event.sqlite3")
        url = f"sqlite:///{tmp_path / 'event.sqlite3'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
        copy_event(f"sqlite:///{source}", url)
    database = open_database(url)
    yield database
    database.dispose()


# -- the groups, against direct queries ------------------------------------------------------

OWNER = """
    SELECT c.id, c.customer_no, COALESCE(rm.staff_no, '') FROM customer c
    LEFT JOIN invitation i ON i.customer_id = c.id AND i.event_id = :e
    LEFT JOIN staff rm ON rm.id = COALESCE(i.rm_id, c.rm_id)
    WHERE i.id IS NOT NULL OR EXISTS (
        SELECT 1 FROM visit v WHERE v.customer_id = c.id AND v.event_id = :e)
"""
GROUPS = {
    "no_show": """SELECT i.customer_id FROM invitation i WHERE i.event_id = :e AND NOT EXISTS
        (SELECT 1 FROM visit v WHERE v.customer_id = i.customer_id AND v.event_id = :e)""",
    "no_slip": """SELECT v.customer_id FROM visit v WHERE v.event_id = :e AND NOT EXISTS
        (SELECT 1 FROM slip s WHERE s.customer_id = v.customer_id AND s.event_id = :e
         AND s.status <> 'voided')""",
    "unredeemed": """SELECT DISTINCT customer_id FROM slip
        WHERE event_id = :e AND status = 'issued'""",
    "redeemed": """SELECT DISTINCT customer_id FROM slip
        WHERE event_id = :e AND status = 'redeemed'""",
    "reactivated": """SELECT DISTINCT v.customer_id FROM visit_step t
        JOIN visit v ON v.id = t.visit_id
        WHERE v.event_id = :e AND t.step = 'mobile_banking_login' AND t.note = 'reactivated'""",
    "mobile_banking": """SELECT DISTINCT v.customer_id FROM visit_step t
        JOIN visit v ON v.id = t.visit_id
        WHERE v.event_id = :e AND t.step = 'mobile_banking_opened'""",
}


def test_groups_match_direct_queries(day: Database) -> None:
    lists = followup.followup_lists(day.unit_of_work())
    got = {(rm.rm_no, e.customer_no, str(e.stage)) for rm in lists.rms for e in rm.entries}
    with day.unit_of_work() as uow:
        s = uow.session
        event_id = s.scalar(text("SELECT id FROM event"))
        owner = {cid: (no, rm) for cid, no, rm in s.execute(text(OWNER), {"e": event_id})}
        expected = set()
        for stage, query in GROUPS.items():
            for (cid,) in s.execute(text(query), {"e": event_id}):
                number, rm = owner[cid]
                expected.add((rm, number, stage))
        no_slip = {
            cid: number
            for cid, (number, _rm) in owner.items()
            if (owner[cid][1], number, "no_slip") in expected
        }
    assert got == expected
    # Every group of the simulated day has someone in it; the day's figures agree.
    assert {stage for _rm, _no, stage in got} == {str(s) for s in followup.STAGES}
    walk_ins = [rm for rm in lists.rms if rm.rm_no == ""]
    assert walk_ins and lists.rms[-1] is walk_ins[0]  # the coordinator's list comes last
    assert lists.coverage.total.customers == len(owner)
    # Each no-slip reason, by the desks' own per-customer reads: the gate the activation
    # desk shows, and the offers the customer could pay for on the day.
    reasons = {
        e.customer_no: e.reason
        for rm in lists.rms
        for e in rm.entries
        if e.stage == followup.FollowupStage.NO_SLIP
    }
    on_the_day = FixedClock(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    assert set(reasons.values()) >= {followup.NoSlipReason.GOVERNANCE, followup.NoSlipReason.LEFT}
    for cid, number in no_slip.items():
        closed = not gate.gate_for(day.unit_of_work(), cid, clock=on_the_day).open
        offers = offers_for(day.unit_of_work(), cid, clock=on_the_day)
        affordable = any(o.price <= offers.balance for o in offers.offers)
        expected_reason = (
            followup.NoSlipReason.GOVERNANCE
            if closed
            else followup.NoSlipReason.LEFT
            if affordable
            else followup.NoSlipReason.UNAFFORDABLE
        )
        assert reasons[number] == expected_reason, number
    # Unredeemed: each slip still issued, with its redeem-by.
    with day.unit_of_work() as uow:
        issued = {
            (number, serial, due)
            for number, serial, due in uow.session.execute(
                text(
                    "SELECT c.customer_no, s.serial, s.redeem_by FROM slip s "
                    "JOIN customer c ON c.id = s.customer_id WHERE s.status = 'issued'"
                )
            )
        }
    listed = {
        (e.customer_no, slip.serial, slip.redeem_by)
        for rm in lists.rms
        for e in rm.entries
        for slip in e.slips
    }
    assert {(n, serial, str(d)) for n, serial, d in listed} == {
        (n, serial, str(d)) for n, serial, d in issued
    }


# -- the round trip -----------------------------------------------------------------------


def _columns(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    return {str(cell.value): cell.column for cell in sheet[1]}


def _richest(lists: followup.FollowupLists) -> followup.RmFollowup:
    """An RM with customers in several groups."""
    return max(
        (rm for rm in lists.rms if rm.rm_no),
        key=lambda rm: (len({e.stage for e in rm.entries}), rm.customers, rm.rm_no),
    )


def _fill(path: Path, rows: dict[int, tuple[object, ...]]) -> Path:
    """Fill data rows (2 = the first) as an RM would: contacted on, channel, outcome, note."""
    book = openpyxl.load_workbook(path)
    sheet = book["Follow-up list"]
    columns = _columns(sheet)
    headers = ("Contacted on", "Channel", "Outcome", "Note")
    for row, values in rows.items():
        for header, value in zip(headers, values, strict=False):
            sheet.cell(row, columns[header], value)
    book.save(path)
    return path


def _contacts(db: Database) -> list[tuple[str, str, str, date, str | None, str, str]]:
    with db.unit_of_work() as uow:
        return [
            tuple(r)  # type: ignore[misc]
            for r in uow.session.execute(
                select(
                    Customer.customer_no,
                    func.coalesce(Staff.staff_no, ""),
                    FollowupContact.stage,
                    FollowupContact.contacted_on,
                    FollowupContact.channel,
                    FollowupContact.outcome,
                    FollowupContact.note,
                )
                .join(Customer, Customer.id == FollowupContact.customer_id)
                .outerjoin(Staff, Staff.id == FollowupContact.rm_id)
                .order_by(Customer.customer_no, FollowupContact.stage)
            )
        ]


def test_round_trip(day: Database, tmp_path: Path) -> None:
    lists = followup.followup_lists(day.unit_of_work())
    rm = _richest(lists)
    paths = write_followup(lists.rms, tmp_path / "out", lists.event_date)
    assert len(paths) == len(lists.rms)
    path = tmp_path / "out" / file_name(rm)
    assert path in paths and rm.rm_no in path.name
    book = openpyxl.load_workbook(path)
    sheet = book["Follow-up list"]
    assert sheet.column_dimensions["A"].hidden and sheet.protection.sheet
    columns = _columns(sheet)
    # (Below the list, the fill-in cells stay unlocked for rows the RM adds.)
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1]]
    assert [(r[columns["Customer no."] - 1], r[columns["RM staff no."] - 1]) for r in rows] == [
        (e.customer_no, rm.rm_no) for e in rm.entries
    ]
    # Masked only: the names keep their first character, the phones their ends.
    assert all(str(r[columns["Customer"] - 1])[1:].strip("*") == "" for r in rows)
    assert all("****" in str(r[columns["Mobile phone"] - 1]) for r in rows if r[4])
    # The outcome column offers the Chinese labels in a drop-down.
    lists_offered = [v.formula1 for v in sheet.data_validations.dataValidation]
    assert '"已沟通,已预约,已办理业务,无意向,未联系上"' in lists_offered
    first, second = rm.entries[0], rm.entries[1]
    _fill(
        path,
        {
            2: (date(2026, 11, 30), "电话", "已预约", "下周三到网点"),
            3: ("2026-11-29", "微信", "已办理业务", ""),
        },
    )
    boss = staff_session(day.unit_of_work(), "S001", clock=AFTER)
    result = imports.import_file(day.unit_of_work(), "followup", path, boss, clock=AFTER)
    assert (result.created, result.updated) == (2, 0)
    assert "2 follow-up contacts recorded" in result.summary(path.name)
    assert f"{len(rows) - 2} rows not filled in yet" in result.summary(path.name)
    expected = sorted(
        [
            (
                first.customer_no,
                rm.rm_no,
                str(first.stage),
                date(2026, 11, 30),
                "phone",
                "appointment",
                "下周三到网点",
            ),
            (
                second.customer_no,
                rm.rm_no,
                str(second.stage),
                date(2026, 11, 29),
                "wechat",
                "business",
                "",
            ),
        ]
    )
    assert sorted(_contacts(day)) == expected
    # The coverage per RM: the customers followed up, each by their latest outcome.
    cover = {r.rm_no: r for r in followup.followup_coverage(day.unit_of_work()).rms}[rm.rm_no]
    reached = {first.customer_no, second.customer_no}
    assert (cover.customers, cover.contacted) == (rm.customers, len(reached))
    if len(reached) == 2:
        assert cover.outcomes == {"appointment": 1, "business": 1}
    else:  # one customer in two groups: the later contact is the latest outcome
        assert cover.outcomes == {"appointment": 1}
    # The same workbook again adds nothing.
    again = imports.import_file(day.unit_of_work(), "followup", path, boss, clock=AFTER)
    assert (again.created, again.updated) == (0, 2)
    assert sorted(_contacts(day)) == expected
    # Exported again, the list says the last follow-up of each group.
    lists = followup.followup_lists(day.unit_of_work(), rm.rm_no)
    entry = lists.rms[0].entries[0]
    assert (entry.last_contacted, entry.last_outcome) == (date(2026, 11, 30), "appointment")
    # The progress: per RM in the workbook's sheet.
    progress = tracking.progress(day.unit_of_work())
    assert progress.followup == followup.followup_coverage(day.unit_of_work())
    out = write_progress(progress, tmp_path / "progress.xlsx")
    sheet = openpyxl.load_workbook(out)["Follow-up per RM"]
    table = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]}
    assert table[rm.rm_no][3:5] == (rm.customers, len(reached))
    assert progress.followup is not None
    assert table["Total"][3:5] == (progress.followup.total.customers, len(reached))
    assert progress.followup.total.customers == sum(r.customers for r in progress.followup.rms)


def test_bad_rows_are_refused_with_row_and_column(day: Database, tmp_path: Path) -> None:
    lists = followup.followup_lists(day.unit_of_work())
    rm = _richest(lists)
    other = next(r for r in lists.rms if r.rm_no and r.rm_no != rm.rm_no)
    path = write_followup([rm], tmp_path, lists.event_date)[0]
    book = openpyxl.load_workbook(path)
    sheet = book["Follow-up list"]
    columns = _columns(sheet)
    stranger = other.entries[0]
    at = len(rm.entries) + 2  # the row an RM adds: another RM's customer, under their own number
    sheet.cell(at, columns["RM staff no."], rm.rm_no)
    sheet.cell(at, columns["Customer no."], stranger.customer_no)
    sheet.cell(at, columns["Follow-up group"], "邀约未到场")
    sheet.cell(at, columns["Contacted on"], date(2026, 11, 30))
    sheet.cell(at, columns["Outcome"], "已沟通")
    for column, value in (
        ("RM staff no.", rm.rm_no),
        ("Customer no.", "6299999999"),  # nobody's
        ("Follow-up group", "已核销"),
        ("Contacted on", "2026-11-30"),
        ("Outcome", "未联系上"),
    ):
        sheet.cell(at + 1, columns[column], value)
    book.save(path)
    assert len(rm.entries) >= 6
    own = rm.entries[4]  # on row 6
    groups = {e.stage for e in rm.entries if e.customer_no == own.customer_no}
    wrong_stage = next(s for s in followup.STAGES if s not in groups)
    _fill(
        path,
        {
            2: ("明天", "电话", "已沟通"),
            3: (date(2099, 1, 1), "电话", "已沟通"),
            4: (date(2026, 11, 30), "电话", "很好"),
            5: (date(2026, 11, 20), "电话", "已沟通"),  # before the event
            7: (date(2026, 11, 30), "电话", "已沟通"),  # a good row: not imported either
        },
    )
    book = openpyxl.load_workbook(path)
    sheet = book["Follow-up list"]
    sheet.cell(6, columns["Follow-up group"], followup.stage_label(wrong_stage))
    sheet.cell(6, columns["Contacted on"], date(2026, 11, 30))
    sheet.cell(6, columns["Outcome"], "无意向")
    book.save(path)
    boss = staff_session(day.unit_of_work(), "S001", clock=AFTER)
    with pytest.raises(imports.ImportRefused) as refused:
        imports.import_file(day.unit_of_work(), "followup", path, boss, clock=AFTER)
    issues = {(i.row, i.column) for i in refused.value.check.issues}
    assert issues >= {
        (2, "Contacted on"),
        (3, "Contacted on"),
        (4, "Outcome"),
        (5, "Contacted on"),
        (at, "Customer no."),
        (at + 1, "Customer no."),
    }
    messages = {(i.row, i.column): i.message for i in refused.value.check.issues}
    assert f"on {other.rm_no}'s follow-up list, not {rm.rm_no}'s" in messages[(at, "Customer no.")]
    assert "on no follow-up list" in messages[(at + 1, "Customer no.")]
    assert "in the future" in messages[(3, "Contacted on")]
    assert "很好" in messages[(4, "Outcome")]
    assert "is not in this group" in messages[(6, "Follow-up group")]
    assert _contacts(day) == []  # nothing imported


def test_cli_export_and_import(
    simulated: tuple[Path, SimulationSummary],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In Chinese, as the coordinator runs it: the workbooks' headers, group names and
    sheets are Chinese, and the import reads them back."""
    source, _summary = simulated
    shutil.copyfile(source, tmp_path / "event.sqlite3")
    url = f"sqlite:///{tmp_path / 'event.sqlite3'}"
    zh = ["--lang", "zh_CN", "--db", url]
    assert main([*zh, "export", "followup", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    database = open_database(url)
    lists = followup.followup_lists(database.unit_of_work())
    database.dispose()
    rm = _richest(lists)
    assert f"已写入 {len(lists.rms)} 份跟进名单" in said
    assert f"{rm.rm_no} {rm.rm_name}：{rm.customers} 位客户" in said
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(names) == len(lists.rms) and all(n.startswith("跟进名单-") for n in names)
    path = tmp_path / "out" / f"跟进名单-{rm.rm_no}-{rm.rm_name}.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["跟进名单", "分组说明"]
    sheet = book["跟进名单"]
    assert [c.value for c in sheet[1]][10:] == ["联系日期", "联系方式", "跟进结果", "备注"]
    sheet.cell(2, 11, date(2026, 11, 30))
    sheet.cell(2, 12, "电话")
    sheet.cell(2, 13, "已沟通")
    book.save(path)
    monkeypatch.setenv("KIOSK_PIN", "1234")
    args = [*zh, "import", "followup", str(path), "--staff", "S001"]
    assert main(args) == 0
    assert "记录跟进 1 条" in capsys.readouterr().out
    sheet.cell(3, 11, "2026-13-40")
    sheet.cell(3, 13, "已沟通")
    book.save(path)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "第 3 行，“联系日期”列" in err
    database = open_database(url)
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(FollowupContact.id))) == 1
    database.dispose()
    assert lists.event_date == SIM_DATE
