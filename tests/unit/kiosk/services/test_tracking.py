"""Invitation progress, slot reminders and the catalog booklet: figures against a small imported
data set computed by hand, exports read back with openpyxl, the booklet's QR codes decoded from
the rendered pages by zxing-cpp."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import zxingcpp
from PIL import Image

from cli.main import main
from kiosk import privacy
from kiosk.db import Database, open_database
from kiosk.errors import KioskError
from kiosk.i18n import set_language
from kiosk.services import tracking
from printing.booklet import BookletPaper, offer_qr_text, render_booklet, render_html
from printing.invitations import reminders_text, write_progress, write_reminders

from .test_imports import (
    BRANCH_ROWS,
    CATALOG_ROWS,
    EVENT_PASSPHRASE,
    INVITEE_HEADER,
    load,
    make_event,
    resident_id,
)

STAFF = [
    ["工号", "姓名", "网点", "角色", "初始密码"],
    ["RM001", "张经理", "B01", "客户经理", "2468"],
    ["RM002", "李经理", "B02", "rm", "1357"],
    ["RM003", "赵经理", "B01", "rm", "1470"],
    ["S001", "钱主管", None, "主管", "1111"],  # imports the rest
]
INVITEES = [
    INVITEE_HEADER,
    ["6200000001", "王小明", "13812345678", resident_id("44010619800101123"), "长期", "B01",
     "RM001", "上午场", 15000, "2026-11-27", "gold", "已开通", "O101"],
    ["6200000002", "单丽", "13912345678", resident_id("44010419750315002"), "2030-01-01", "B02",
     "RM002", "PM", 3000, "2026-11-27", "standard", "未开通", "O501×2"],
    ["6200000003", "陈大文", "13712345670", resident_id("44010619700202111"), "长期", "B01",
     "RM001", "PM", 5000, "2026-11-27", "standard", "未开通", None],
    ["6200000004", "刘芳", "13612345671", resident_id("44010619900303222"), "长期", "B01",
     "RM003", "AM", 20000, "2026-11-27", "standard", "已开通", "O201,O501"],
    ["6200000005", "周强", "13512345672", resident_id("44010619850404331"), "长期", "B02",
     "RM002", "AM", 8000, "2026-11-27", "standard", "未开通", None],
]  # fmt: skip
REPORT = [
    ["客户号", "姓名", "邀约方式", "邀约日期", "客户答复", "同行人数"],
    ["6200000001", "王小明", "电话", "2026-11-20", "确认", 1],
    ["6200000002", "单丽", "短信", "2026-11-21", "未接通", None],
    ["6200000003", "陈大文", "短信", "2026-11-21", "拒绝", None],
    ["6200000004", "刘芳", "电话", "2026-11-22", "确认", 2],
]  # customer 5 is not in any report yet: not invited


@pytest.fixture(scope="module")
def tracked_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tracking")
    database = make_event(f"sqlite:///{folder / 'event.sqlite3'}")
    for kind, rows in (
        ("branches", BRANCH_ROWS),
        ("staff", STAFF),
        ("catalog", CATALOG_ROWS),
        ("invitees", INVITEES),
        ("invitations", REPORT),
    ):
        load(database, folder, kind, rows)
    database.dispose()
    return folder / "event.sqlite3"


@pytest.fixture
def tracked(tracked_template: Path, tmp_path: Path) -> Iterator[Database]:
    shutil.copyfile(tracked_template, tmp_path / "event.sqlite3")
    database = open_database(f"sqlite:///{tmp_path / 'event.sqlite3'}")
    yield database
    database.dispose()


def figures(row: tracking.ProgressRow) -> tuple[object, ...]:
    return (
        row.code,
        row.invitees,
        row.invited,
        row.reached,
        row.unreachable,
        row.confirmed,
        row.declined,
        row.companions,
        row.target,
        row.percent,
    )


def test_progress_per_branch_and_rm(tracked: Database) -> None:
    progress = tracking.progress(tracked.unit_of_work())
    # B01: customers 1 (confirmed, 1 companion), 3 (declined), 4 (confirmed, 2 companions).
    # B02: customer 2 unreachable, customer 5 not in a report yet.
    assert [figures(r) for r in progress.branches] == [
        ("B01", 3, 3, 3, 0, 2, 1, 3, 10, 20),
        ("B02", 2, 1, 0, 1, 0, 0, 0, 5, 0),
    ]
    assert [(r.branch, *figures(r)) for r in progress.rms] == [
        ("B01", "RM001", 2, 2, 2, 0, 1, 1, 1, None, None),
        ("B01", "RM003", 1, 1, 1, 0, 1, 0, 2, None, None),
        ("B02", "RM002", 2, 1, 0, 1, 0, 0, 0, None, None),
    ]
    assert figures(progress.total) == ("", 5, 4, 3, 1, 2, 1, 3, 15, 13)


def test_reminders_and_slot_counts(tracked: Database) -> None:
    reminders = tracking.reminders(tracked.unit_of_work())
    assert [(r.rm_no, r.customer_no, r.slot, r.services) for r in reminders] == [
        ("RM001", "6200000001", "上午场 09:00-11:30", ("基础体检套餐",)),
        ("RM003", "6200000004", "上午场 09:00-11:30", ("周边一日游", "电影票两张")),
    ]
    first = reminders[0]
    assert (first.masked_name, first.phone, first.masked_phone) == (
        "王**",
        "138****5678",
        "138****5678",
    )
    # The RMs' list to call from: full phones only with the event passphrase.
    opener = privacy.unlock(tracked.unit_of_work(), EVENT_PASSPHRASE)
    full = tracking.reminders(tracked.unit_of_work(), opener)
    assert (full[0].phone, full[0].masked_phone) == ("13812345678", "138****5678")
    with pytest.raises(KioskError, match="Wrong passphrase"):
        privacy.unlock(tracked.unit_of_work(), "not the passphrase")
    assert first.text.startswith(
        "尊敬的王先生：您已确认参加积分兑换日。您的场次：11月28日 上午场 09:00-11:30，"
        "地点：会展中心。您预选的服务：基础体检套餐。请按场次时间到场，凭邀请码 "
    )
    assert reminders[1].text.startswith("尊敬的刘女士：")

    load = tracking.slot_load(tracked.unit_of_work())
    assert load.slots == [("AM", "上午场", 120), ("PM", "下午场", 120)]
    assert [(b.branch, b.per_slot, b.people) for b in load.branches] == [
        ("B01", {"AM": 2}, {"AM": 5}),
    ]
    assert (load.total("AM"), load.total("PM"), load.total_people("AM")) == (2, 0, 5)


def test_a_new_report_moves_the_figures(tracked: Database, tmp_path: Path) -> None:
    load(
        tracked,
        tmp_path,
        "invitations",
        [REPORT[0], ["6200000005", "周强", "电话", "2026-11-24", "确认", 0]],
    )
    progress = tracking.progress(tracked.unit_of_work())
    assert figures(progress.branches[1]) == ("B02", 2, 2, 1, 1, 1, 0, 0, 5, 20)
    reminders = tracking.reminders(tracked.unit_of_work())
    assert [(r.rm_no, r.customer_no) for r in reminders] == [
        ("RM001", "6200000001"),
        ("RM002", "6200000005"),
        ("RM003", "6200000004"),
    ]


def test_exports_read_back(tracked: Database, tmp_path: Path) -> None:
    progress = write_progress(tracking.progress(tracked.unit_of_work()), tmp_path / "p.xlsx")
    book = openpyxl.load_workbook(progress, read_only=True)
    try:
        assert book.sheetnames == [
            "Per branch",
            "Per RM",
            "Coverage per branch",
            "Coverage per RM",
            "Not called",
        ]
        rows = [list(r) for r in book["Per branch"].iter_rows(values_only=True)]
        # The dashboard's "Invited" (every invitation), then those a daily report named.
        assert rows[0][:4] == ["Branch", "Branch name", "Invited", "In a daily report"]
        assert rows[1] == ["B01", "天河支行", 3, 3, 3, 0, 2, 1, 3, 10, 0.2]  # a number, as %
        assert book["Per branch"]["K2"].number_format == "0%"
        assert rows[-3][:10] == ["Total", None, 5, 4, 3, 1, 2, 1, 3, 15]
        assert rows[-3][10] == pytest.approx(2 / 15)
        assert rows[-1][0].startswith("Figures as of ")  # the as-of line below the table
        rm_rows = [list(r) for r in book["Per RM"].iter_rows(values_only=True)]
        assert [r[0] for r in rm_rows[1:-2]] == ["RM001", "RM003", "RM002"]
    finally:
        book.close()

    # The supervisor's export for the RMs, with the phones opened by the passphrase.
    opener = privacy.unlock(tracked.unit_of_work(), EVENT_PASSPHRASE)
    reminders = tracking.reminders(tracked.unit_of_work(), opener)
    load = tracking.slot_load(tracked.unit_of_work())
    path = write_reminders(reminders, load, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [list(r) for r in book["Reminders"].iter_rows(values_only=True)]
        assert rows[1][:7] == [
            "RM001", "张经理", "B01", "6200000001", "王**", "13812345678", "上午场 09:00-11:30",
        ]  # fmt: skip
        assert rows[1][8] == reminders[0].text
        slots = [list(r) for r in book["Per slot"].iter_rows(values_only=True)]
        assert slots[0] == ["Branch", "Branch name", "上午场", "下午场",
                            "上午场 with companions", "下午场 with companions"]  # fmt: skip
        assert slots[1] == ["B01", "天河支行", 2, 0, 5, 0]
        assert slots[-3][:4] == ["Capacity", None, 120, 120]
    finally:
        book.close()

    data = write_reminders(reminders, load, tmp_path / "r.txt").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # BOM and CRLF for Notepad
    assert b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("utf-8-sig").replace("\r\n", "\n")
    assert text == reminders_text(reminders)
    assert text.startswith("== RM001 张经理: 1 reminder(s) ==\n\n13812345678  王**  6200000001")
    assert "== RM003 赵经理: 1 reminder(s) ==" in text


def decoded_pages(pdf: Path, tmp_path: Path) -> list[set[str]]:
    """Every page rendered at 150 dpi and decoded by zxing-cpp: the texts per page."""
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", str(pdf), str(tmp_path / "page")], check=True
    )
    pages = []
    for png in sorted(tmp_path.glob("page-*.png")):
        with Image.open(png) as image:
            pages.append({r.text for r in zxingcpp.read_barcodes(image)})
    return pages


@pytest.mark.parametrize("paper", list(BookletPaper))
def test_booklet_qr_codes_decode_to_the_catalog_anchors(
    demo_db: Database, tmp_path: Path, paper: BookletPaper
) -> None:
    set_language("zh_CN")  # Chinese names and the bundled font on every page
    url = "https://points.example.com/gz/catalog.html"
    booklet = dataclasses.replace(tracking.booklet(demo_db.unit_of_work()), catalog_url=url)
    pdf = render_booklet(booklet, tmp_path / "booklet.pdf", paper)
    pages = decoded_pages(pdf, tmp_path)
    assert pages[0] == {url}  # the cover points at the e-catalog
    found = set().union(*pages[1:])
    assert found == {f"{url}#{o.code}" for o in booklet.offers}
    assert len(booklet.offers) == 15


def test_booklet_without_url_names_each_service(demo_db: Database, tmp_path: Path) -> None:
    booklet = tracking.booklet(demo_db.unit_of_work())
    assert booklet.catalog_url == ""
    long = "含血常规、肝功能、肾功能、心电图、腹部B超等二十余项检查，体检报告三个工作日内寄送。" * 3
    offers = [dataclasses.replace(o, description=long) for o in booklet.offers]
    booklet = dataclasses.replace(booklet, offers=offers)  # descriptions wrap beside the QR
    pdf = render_booklet(booklet, tmp_path / "booklet.pdf", BookletPaper.A5)
    pages = decoded_pages(pdf, tmp_path)
    assert pages[0] == set()
    offer = booklet.offers[0]
    expected = f"{offer.code} {offer.name} {offer.points_price} points"
    assert offer_qr_text(offer, "") == expected
    assert set().union(*pages[1:]) == {offer_qr_text(o, "") for o in booklet.offers}


def test_html_catalog_is_self_contained_with_an_anchor_per_offer(
    demo_db: Database, tmp_path: Path
) -> None:
    booklet = dataclasses.replace(
        tracking.booklet(demo_db.unit_of_work()), catalog_url="https://x.example/c.html"
    )
    text = render_html(booklet, tmp_path / "catalog.html").read_text(encoding="utf-8")
    for offer in booklet.offers:
        assert f'id="{offer.code}"' in text
        assert f'aria-label="https://x.example/c.html#{offer.code}"' in text
    assert text.count("<svg") == len(booklet.offers)
    for external in ("src=", "<link", "@import", "url("):
        assert external not in text
    assert text.count("http") == len(booklet.offers) + text.count("http://www.w3.org/2000/svg")


def test_cli_exports_and_booklet(
    tracked: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = tracked.url
    assert main(["--db", url, "export", "progress", str(tmp_path / "p.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "B01" in out and str(tmp_path / "p.xlsx") in out
    assert main(["--db", url, "export", "reminders", str(tmp_path / "r.txt")]) == 0
    out = capsys.readouterr().out
    text = (tmp_path / "r.txt").read_text(encoding="utf-8-sig")
    assert "2" in out and text.startswith("== RM001") and "138****5678" in text
    assert "13812345678" not in text
    # Full phones for the RMs to call: only with the event passphrase.
    monkeypatch.delenv("KIOSK_PASSPHRASE", raising=False)
    full = ["--db", url, "export", "reminders", str(tmp_path / "full.txt"), "--full-phones"]
    assert main(["--lang", "en", *full]) == 1
    assert "KIOSK_PASSPHRASE" in capsys.readouterr().err
    monkeypatch.setenv("KIOSK_PASSPHRASE", EVENT_PASSPHRASE)
    assert main(full) == 0
    capsys.readouterr()
    assert "13812345678" in (tmp_path / "full.txt").read_text(encoding="utf-8")
    assert main(["--db", url, "export", "reminders", str(tmp_path / "r.pdf")]) == 1
    assert "r.pdf" in capsys.readouterr().err
    args = ["--db", url, "booklet", "--out", str(tmp_path / "b.pdf"), "--paper", "a5"]
    assert main([*args, "--html", str(tmp_path / "b.html")]) == 0
    capsys.readouterr()
    pages = decoded_pages(tmp_path / "b.pdf", tmp_path)
    assert pages[0] == {"https://example.com/catalog.html"}
    assert "https://example.com/catalog.html#O101" in set().union(*pages[1:])
    assert 'id="O501"' in (tmp_path / "b.html").read_text(encoding="utf-8")
