"""The event reports of the small hand-computed event (``tests/figures_support.py``): every
.xlsx read back with openpyxl against the hand-computed figures, charts present, the PDFs
rendered to PNG with pdftoppm; and the same from the command line."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from cli.main import main
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.i18n import set_language
from printing.event_reports import REPORTS, write_event_report
from printing.reports import Chart, Percent, Report, Section, write_pdf, write_xlsx
from tests.figures_support import NOW, build_small_event


@pytest.fixture(scope="module")
def small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("small") / "small.sqlite3"
    database = open_database(f"sqlite:///{path}")
    build_small_event(database)
    database.dispose()
    return path


@pytest.fixture
def small(small_template: Path, tmp_path: Path) -> Iterator[Database]:
    shutil.copyfile(small_template, tmp_path / "small.sqlite3")
    database = open_database(f"sqlite:///{tmp_path / 'small.sqlite3'}")
    yield database
    database.dispose()


def sheet(path: Path, title: str) -> list[list[object]]:
    book = openpyxl.load_workbook(path)
    return [list(row) for row in book[title].iter_rows(values_only=True)]


def by_first(rows: list[list[object]]) -> dict[object, list[object]]:
    """The table by its first column, without the note and as-of lines below it."""
    return {
        row[0]: row[1:]
        for row in rows[1:]
        if row[0] is not None and any(v is not None and v != "" for v in row[1:])  # 0 is a value
    }


def write_all(database: Database, folder: Path) -> dict[str, list[Path]]:
    return {
        kind.name: write_event_report(
            kind.name, database.unit_of_work, folder, clock=FixedClock(NOW)
        )
        for kind in REPORTS
    }


def test_summary_workbook(small: Database, tmp_path: Path) -> None:
    xlsx, pdf = write_all(small, tmp_path)["summary"]
    assert xlsx.name == "report-summary.xlsx" and pdf.name == "report-summary.pdf"
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == [
        "Invitation funnel", "Funnel of the day", "Steps at the desks", "Points",
        "Points redeemed per tier", "Coverage", "Attendance by slot",
        "Arrivals over the day", "Attendance by branch", "Visit timelines", "Queues",
    ]  # fmt: skip
    funnel = {
        k: v
        for title in ("Invitation funnel", "Funnel of the day")
        for k, v in by_first(sheet(xlsx, title)).items()
        if v[0] is not None
    }
    assert {k: v[0] for k, v in funnel.items()} == {
        "Invited": 5,
        "Confirmed": 3,
        "Confirmed and came": 3,
        "Arrived": 5,
        "Customers with slips": 2,
        "Redeemed": 1,
    }
    # Each stage's share of the one before (a funnel's first stage has none).
    assert funnel["Invited"][1] is None and funnel["Arrived"][1] is None
    assert funnel["Confirmed"][1] == pytest.approx(0.6)
    assert funnel["Confirmed and came"][1] == pytest.approx(1.0)
    assert funnel["Customers with slips"][1] == pytest.approx(0.4)
    assert funnel["Redeemed"][1] == pytest.approx(0.5)
    assert book["Invitation funnel"]["C3"].number_format == "0.0%"
    steps = {
        k: v for k, v in by_first(sheet(xlsx, "Steps at the desks")).items() if v[0] is not None
    }
    assert {k: v[0] for k, v in steps.items()} == {
        "Data governed": 2,
        "Mobile banking opened": 1,
        "Mobile banking activated": 1,
        "Charity scan-pay": 2,
        "Let through by a supervisor": 0,
    }
    assert steps["Data governed"][1] == pytest.approx(0.4)  # of the five arrivals
    points = by_first(sheet(xlsx, "Points"))
    assert points["Points stock of the invitees"] == [73_000]
    assert points["Points issued on slips"] == [8000]
    assert points["Points redeemed at merchants"] == [6000]
    # Two ratios, each named by what it divides by: the bank's (every customer's points, the
    # bank's whole stock) and the invitees' own, which is not comparable with the bank's 8%.
    assert points["Points of every customer (spendable on the event day)"] == [165_000]
    assert points["Customers in the event database"] == [7]
    bank = "Redemption ratio as the bank counts it (redeemed / every customer's points)"
    assert points[bank][0] == pytest.approx(6000 / 165_000)
    assert points["Bank's whole points stock"] == [10_000_000]
    assert points["Redeemed / bank's whole stock"][0] == pytest.approx(6000 / 10_000_000)
    invitees = "Invitees' redemption ratio (redeemed / invitees' points; not the bank's)"
    assert points[invitees][0] == pytest.approx(6000 / 73_000)
    expiring = "Invitees' points expiring before the next event (2026-11-28 to 2027-11-27)"
    assert points[expiring] == [12_000]
    assert points["Invitees with points expiring before the next event"] == [1]
    assert points["Dormant customers reactivated"] == [1]
    assert points["Dormant customers who came"] == [2]
    assert points["Slips issued"] == [3] and points["Slips redeemed"] == [2]
    tiers = sheet(xlsx, "Points redeemed per tier")
    assert tiers[:4] == [
        ["Tier", "Customers", "Slips redeemed", "Points redeemed", "Share"],
        ["金卡", 1, 1, 1000, pytest.approx(1000 / 6000)],
        ["No tier", 1, 1, 5000, pytest.approx(5000 / 6000)],
        ["Total", 1, 2, 6000, pytest.approx(1.0)],
    ]
    cover = by_first(sheet(xlsx, "Coverage"))
    assert cover["Governed, of those who needed it"][:2] == [2, 3]
    slots = sheet(xlsx, "Attendance by slot")
    assert slots[0][:9] == [
        "Slot", "Time", "Capacity", "Invited", "Expected", "Arrived", "Early", "On time", "Late",
    ]  # fmt: skip
    assert slots[1][:10] == ["上午场", "09:00–11:30", 4, 3, 2, 3, 1, 1, 1, 1]
    assert slots[2][:10] == ["下午场", "13:30–16:30", 10, 2, 1, 1, 0, 1, 0, 0]
    assert slots[3][0] == "Walk-ins" and slots[3][5] == 1
    branches = by_first(sheet(xlsx, "Attendance by branch"))
    assert branches["B01"] == ["天河支行", 3, 2, 2, 3, 1, 1, 1, 2, 2, 8000, 6000]
    assert branches["B02"] == ["越秀支行", 2, 1, 1, 2, 1, 0, 0, 0, 0, 0, 0]
    assert branches["Total"] == [None, 5, 3, 3, 5, 2, 1, 1, 2, 2, 8000, 6000]
    timelines = sheet(xlsx, "Visit timelines")
    assert ["Arrival → service desk", "All slots", 2, 10, 20] in timelines
    assert ["Activation → first redemption", "上午场", 1, 30, 30] in timelines
    queues = by_first(sheet(xlsx, "Queues"))
    assert queues["Service desk"] == [1, 0, 2, 170]
    assert queues["Activation desk"] == [2, 0, 2, 60]
    charts = {name: len(book[name]._charts) for name in book.sheetnames}
    assert charts == {
        "Invitation funnel": 1, "Funnel of the day": 1, "Steps at the desks": 0, "Points": 0,
        "Points redeemed per tier": 1, "Coverage": 0,
        "Attendance by slot": 1, "Arrivals over the day": 1, "Attendance by branch": 1,
        "Visit timelines": 0, "Queues": 0,
    }  # fmt: skip


def test_rm_merchant_unredeemed_and_progress_workbooks(small: Database, tmp_path: Path) -> None:
    files = write_all(small, tmp_path)
    rm = sheet(files["rm"][0], "Per RM")
    assert rm[0][:7] == [
        "RM staff no.", "RM", "Branch", "Invited", "Confirmed", "Confirmed and came", "Arrived",
    ]  # fmt: skip
    assert rm[1] == ["RM001", "张经理", "B01", 3, 2, 2, 3, 1, 1, 1, 2, 2, 8000, 6000]
    assert rm[2] == ["RM002", "李经理", "B02", 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert rm[3] == [None, "(no RM)", None, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert rm[4] == ["Total", None, None, 5, 3, 3, 5, 2, 1, 1, 2, 2, 8000, 6000]
    offers = sheet(files["merchants"][0], "Per service")
    assert offers[1][:8] == ["M01 康宁体检中心", "O1 基础体检", 1000, 10, 3, 7, 1, 1000]
    assert offers[2][:8] == ["M01 康宁体检中心", "O2 深度体检", 5000, 1, 1, 0, 1, 5000]
    assert offers[3][:8] == ["Total", None, None, 11, 4, 7, 2, 6000]
    redemptions = sheet(files["merchants"][0], "Redemptions")
    assert [(r[4], r[7], r[9]) for r in redemptions[1:] if r[1]] == [
        ("000001", 1000, None),
        ("000002", 5000, None),
        ("000004", 5000, "slip was voided"),
    ]
    assert (
        redemptions[-2][0] == "Times are the booths' clocks. A conflict is kept, never paid twice."
    )
    assert redemptions[-1][0] == "Figures as of 2026-11-28 14:30 · event in progress"
    unredeemed = sheet(files["unredeemed"][0], "Slips")
    assert unredeemed[1][:10] == [
        "000003", "open", "B01", "张经理", "6200000002", "李*", "康宁体检中心", "基础体检", 2, 2000,
    ]  # fmt: skip
    assert unredeemed[2][0] == "Total" and unredeemed[2][9] == 2000
    text = " ".join(str(v) for row in unredeemed for v in row)
    assert "李丽" not in text  # names masked
    progress = by_first(sheet(files["progress"][0], "Per branch"))
    assert progress["B01"][:2] == ["天河支行", 3]


def test_pdfs_render_with_pages(small: Database, tmp_path: Path) -> None:
    for name, (_xlsx, pdf) in write_all(small, tmp_path).items():
        assert pdf.read_bytes().startswith(b"%PDF")
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / name)], check=True)
        pages = sorted(tmp_path.glob(f"{name}-*.png"))
        assert pages, name
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "SMALL" in text  # the event code in the subtitle
    summary = subprocess.run(
        ["pdftotext", str(tmp_path / "report-summary.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Tables and the chart labels (reportlab.graphics strings) are real text.
    assert "Customers per stage" in summary and "73,000" in summary and "8.2%" in summary
    # The ratio as the bank counts it beside the invitees' own, each with its stock; the
    # tiers by name.
    assert "165,000" in summary and "3.6%" in summary and "10,000,000" in summary
    assert "not the bank's" in summary and "金卡" in summary and "No tier" in summary


def test_chinese_headings_by_default(small: Database, tmp_path: Path) -> None:
    set_language("zh_CN")
    xlsx, pdf = write_event_report("summary", small.unit_of_work, tmp_path, clock=FixedClock(NOW))
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames[:2] == ["邀约漏斗", "活动当天漏斗"]
    assert book["邀约漏斗"]["A1"].value == "环节"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "活动总结" in text


def test_writer_keeps_one_table_reports_and_refuses_other_suffixes(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Name", "Count", "Share"], ["a", 1, Percent(0.5)], ["b", 3, ""]]
    path = write_xlsx(rows, tmp_path / "one.xlsx", "One table")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["One table"] and book.active["B3"].value == 3
    report = Report("Bars", "", [Section("A/B: [x]*?", rows, Chart("c", (1,)))])
    assert openpyxl.load_workbook(write_xlsx(report, tmp_path / "s.xlsx")).sheetnames == [
        "A_B_ _x___"
    ]
    assert write_pdf(report, tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")


def test_cli_reports(small: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = str(small.url)
    assert (
        main(["--lang", "en", "--db", url, "report", "rm", "--out", str(tmp_path / "rm.xlsx")]) == 0
    )
    out = capsys.readouterr().out
    assert "RM001\t张经理\tB01\t3\t2\t2\t3" in out and "Written to" in out
    assert sheet(tmp_path / "rm.xlsx", "Per RM")[1][0] == "RM001"
    assert main(["--lang", "en", "--db", url, "report", "summary"]) == 0
    out = capsys.readouterr().out
    assert "## Invitation funnel" in out and "Points stock of the invitees\t73,000" in out
    folder = tmp_path / "all"
    folder.mkdir()
    assert main(["--lang", "en", "--db", url, "report", "all", "--dir", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"report-{kind.name}{suffix}" for kind in REPORTS for suffix in (".pdf", ".xlsx")
    )
    assert (
        main(["--lang", "en", "--db", url, "report", "all", "--dir", str(tmp_path / "missing")])
        == 1
    )
    assert "does not exist" in capsys.readouterr().err
