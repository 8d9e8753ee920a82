"""The administration station driven like a coordinator: choose a file, read every problem,
fix the file, check again, import; templates written to a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk import privacy
from kiosk.db import open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.idcard import check_digit
from kiosk.imports.check import PROGRESS_EVERY
from kiosk.models import Customer, EventTier, Invitation
from kiosk.services import tracking
from kiosk.services.imports import BATCH
from ui.main_window import MainWindow
from ui.stations.admin import AdminStation, FileChooser
from ui.widgets import Tone

from .conftest import sign_in

pytestmark = pytest.mark.ui

ID = "44010619800101123" + check_digit("44010619800101123")
HEADER = ["客户号", "姓名", "手机号", "证件号码", "网点", "客户经理工号", "场次", "积分余额"]
GOOD = ["6299990001", "王小明", "13812345678", ID, "B01", "RM001", "上午场", 15000]
BAD = ["6299990002", "李四", "1381234", float(ID), "B99", "RM001", "晚场", -1]


def write(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def open_admin(qtbot: QtBot, window: MainWindow) -> AdminStation:
    sign_in(qtbot, window, "S001", "1234")
    titles = window.station_titles()
    window.switcher.setCurrentRow(titles.index("Administration"))
    station = window.current_station()
    assert isinstance(station, AdminStation)
    return station


def test_import_shows_every_problem_then_imports_the_fixed_file(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write(tmp_path / "invitees.xlsx", [HEADER, GOOD, BAD])
    monkeypatch.setattr(FileChooser, "open_file", classmethod(lambda cls, parent, title: path))
    station = open_admin(qtbot, make_window(demo_url))
    assert not station.import_button.isEnabled()
    station.choose_button.click()

    assert station.banner.tone == Tone.ERROR
    problems = [
        tuple(station.issues.item(r, c).text() for c in range(3))
        for r in range(station.issues.rowCount())
    ]
    assert [(row, column) for row, column, _m in problems] == [
        ("3", "手机号"),
        ("3", "证件号码"),
        ("3", "网点"),
        ("3", "场次"),
        ("3", "积分余额"),
    ]
    assert "lost its last digits" in problems[1][2]
    assert not any(ID in text for p in problems for text in p)
    assert station.issues.isVisible() and not station.import_button.isEnabled()
    # The preview masks the ID number and the phone.
    assert station.preview.rowCount() == 2
    cells = [station.preview.item(0, c).text() for c in range(station.preview.columnCount())]
    assert "138****5678" in cells and ID not in cells

    write(path, [HEADER, GOOD, ["6299990002", "李四", "13800001111", None, "B02", "RM003",
                                "PM", 100]])  # fmt: skip
    station.recheck_button.click()
    assert station.banner.tone == Tone.OK
    assert not station.issues.isVisible()
    assert station.import_button.isEnabled()
    station.import_button.click()
    assert station.banner.tone == Tone.OK
    assert "2 new, 0 updated" in station.banner.headline.text()
    assert not station.import_button.isEnabled()

    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        customers = uow.session.scalars(
            select(Customer).where(Customer.customer_no.like("629999%"))
        ).all()
        assert {c.name for c in customers} == {"王小明", "李四"}
        assert len(uow.session.scalars(
            select(Invitation).where(Invitation.customer_id.in_([c.id for c in customers]))
        ).all()) == 2  # fmt: skip
    database.dispose()


def test_the_event_tiers_are_offered_and_imported(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue #19: the tiers import sits with the others, before the catalog that prices by
    tier; a band out of order is a problem on its row, the fixed file imports."""
    database = open_database(demo_url)
    with database.unit_of_work() as uow:  # the event's own bands are kept (slips may name them)
        held = [
            [t.code, t.name, t.aum_floor, t.meaning]
            for t in uow.session.scalars(select(EventTier).order_by(EventTier.aum_floor))
        ]
    database.dispose()
    top = max([0, *(row[2] for row in held)])
    header = ["等级代码", "等级名称", "资产下限（元）", "等级说明"]
    rows = [header, *held, ["TOPX", "至尊", top + 5_000_000, "至尊专属"]]
    path = write(tmp_path / "tiers.xlsx", [*rows, ["TOPY", "至尊二", top, ""]])
    monkeypatch.setattr(FileChooser, "open_file", classmethod(lambda cls, parent, title: path))
    station = open_admin(qtbot, make_window(demo_url))
    kinds = [station.kind.itemData(i) for i in range(station.kind.count())]
    assert kinds.index("tiers") == kinds.index("catalog") - 1
    station.kind.setCurrentIndex(kinds.index("tiers"))
    station.choose_button.click()
    assert station.banner.tone == Tone.ERROR
    problems = [
        tuple(station.issues.item(r, c).text() for c in range(3))
        for r in range(station.issues.rowCount())
    ]
    assert [(row, column) for row, column, _m in problems] == [(str(len(rows) + 1), "资产下限(元)")]
    assert "out of order" in problems[0][2]
    write(path, rows)
    station.recheck_button.click()
    assert station.banner.tone == Tone.OK
    station.import_button.click()
    assert station.banner.tone == Tone.OK
    assert "1 new" in station.banner.headline.text()
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        codes = list(uow.session.scalars(select(EventTier.code).order_by(EventTier.aum_floor)))
    database.dispose()
    assert codes == [*(row[0] for row in held), "TOPX"]


def test_templates_are_written_to_the_chosen_folder(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(FileChooser, "directory", classmethod(lambda cls, parent, t: tmp_path))
    station = open_admin(qtbot, make_window(demo_url))
    station.tabs.setCurrentIndex(1)
    station.templates_button.click()
    assert station.templates_banner.tone == Tone.OK
    assert sorted(p.name for p in tmp_path.glob("*.xlsx"))[0] == "1-branches.xlsx"
    assert len(list(tmp_path.glob("*.xlsx"))) == 7  # tiers and the customer list among them


def test_progress_reminders_and_booklet_tabs(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved: list[Path] = []

    def save_file(cls: object, parent: object, title: str, name: str, filter_: str) -> Path:
        saved.append(tmp_path / name)
        return tmp_path / name

    monkeypatch.setattr(FileChooser, "save_file", classmethod(save_file))
    station = open_admin(qtbot, make_window(demo_url))
    database = open_database(demo_url)
    progress = tracking.progress(database.unit_of_work())
    reminders = tracking.reminders(database.unit_of_work())
    database.dispose()

    station.tabs.setCurrentWidget(station.progress_tab)
    branches = station.branch_table
    assert branches.rowCount() == len(progress.branches) + 1
    assert branches.item(branches.rowCount() - 1, 0).text() == "Total"
    assert branches.item(branches.rowCount() - 1, 6).text() == str(progress.total.confirmed)
    assert station.rm_table.rowCount() == len(progress.rms)
    station.progress_export.click()
    assert station.progress_banner.tone == Tone.OK
    book = openpyxl.load_workbook(saved[-1], read_only=True)
    try:
        assert book.sheetnames == [
            "Per branch",
            "Per RM",
            "Coverage per branch",
            "Coverage per RM",
            "Not called",
        ]
    finally:
        book.close()

    station.tabs.setCurrentWidget(station.reminders_tab)
    assert station.reminder_table.rowCount() == len(reminders)
    phone = station.reminder_table.item(0, 2).text()
    assert "****" in phone and phone == reminders[0].masked_phone
    total = station.slot_table.item(station.slot_table.rowCount() - 1, 2).text()
    assert total.endswith("of 140")
    station.reminders_txt.click()
    text = saved[-1].read_text(encoding="utf-8")
    assert text.count("尊敬的") == len(reminders)
    assert reminders[0].masked_phone in text  # masked without the passphrase
    station.reminders_passphrase.setText("a wrong guess")
    station.reminders_txt.click()
    assert station.reminders_banner.tone == Tone.ERROR
    assert "Wrong passphrase" in station.reminders_banner.detail.text()
    assert station.reminders_passphrase.text() == ""  # never kept
    station.reminders_passphrase.setText(DEMO_PASSPHRASE)
    station.reminders_txt.click()
    assert station.reminders_banner.tone == Tone.OK
    database = open_database(demo_url)
    opener = privacy.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    full = tracking.reminders(database.unit_of_work(), opener)
    database.dispose()
    assert full[0].phone.isdigit() and full[0].phone in saved[-1].read_text(encoding="utf-8")

    station.tabs.setCurrentWidget(station.booklet_tab)
    assert station.catalog_url.text() == ""
    station.catalog_url.setText("ftp://nowhere")
    station.url_button.click()
    assert station.booklet_banner.tone == Tone.ERROR
    station.catalog_url.setText("https://points.example.com/c.html")
    station.url_button.click()
    assert station.booklet_banner.tone == Tone.OK
    station.paper.setCurrentIndex(1)
    station.booklet_button.click()
    assert station.booklet_banner.tone == Tone.OK
    assert saved[-1].name == "catalog-a5.pdf" and saved[-1].read_bytes().startswith(b"%PDF")
    station.html_button.click()
    assert 'id="O101"' in saved[-1].read_text(encoding="utf-8")
    assert "https://points.example.com/c.html#O101" in saved[-1].read_text(encoding="utf-8")
    station.posters_button.click()
    assert station.booklet_banner.tone == Tone.OK, station.booklet_banner.detail.text()
    assert saved[-1].name == "rm-posters.pdf" and saved[-1].read_bytes().startswith(b"%PDF")


def test_backups_tab_sets_the_folder_and_backs_up(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    usb = tmp_path / "usb"
    monkeypatch.setattr(FileChooser, "directory", classmethod(lambda cls, parent, title: usb))
    window = make_window(demo_url)
    station = open_admin(qtbot, window)
    status = window.backup_status
    assert not status.isVisible() and not status.timer.isActive()  # no folder: off
    station.tabs.setCurrentWidget(station.backups_tab)
    station.backup_minutes.setValue(3)
    station.backup_keep.setValue(2)
    station.backup_choose.click()
    assert window.settings.backup_folder == str(usb)
    # Never backed up yet: the first one is due at once, then every 3 minutes.
    assert status.timer.isActive() and status.timer.remainingTime() <= 3 * 60_000
    for _ in range(3):
        station.backup_button.click()
        assert station.backup_banner.tone == Tone.OK, station.backup_banner.detail.text()
        qtbot.wait(2)  # backups are named to the millisecond
    assert status.timer.remainingTime() > 2 * 60_000  # the next one in 3 minutes
    files = sorted(usb.glob("kiosk-DEMO-*.sqlite3"))
    assert len(files) == 2 and station.backup_list.rowCount() == 2  # the newest two kept
    assert status.text().startswith("Backup ") and status.toolTip() == str(files[-1])
    # The timer itself backs up (main thread, no worker) and starts again.
    status.timer.timeout.emit()
    assert status.timer.isActive() and len(list(usb.glob("kiosk-DEMO-*.sqlite3"))) == 2
    # A stick pulled out: the header says so in words, nothing else breaks.
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    station.backup_folder.setText(str(blocked))
    station.backup_button.click()
    assert station.backup_banner.tone == Tone.ERROR
    assert status.text() == "Backup failed" and "backup folder" in status.toolTip()
    station.backup_folder.setText("")
    station.backup_save.click()
    assert not status.isVisible() and not status.timer.isActive()


def test_audit_tab_lists_records_and_verifies_the_chain(
    qtbot: QtBot, make_window: Callable[[str], MainWindow], demo_url: str
) -> None:
    window = make_window(demo_url)
    station = open_admin(qtbot, window)
    panel = station.audit_panel
    station.tabs.setCurrentWidget(panel)
    assert panel.table.rowCount() >= 2
    newest = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
    assert newest[1] == "S001" and newest[3] == "Signed in"
    assert panel.table.item(0, 3).toolTip() == "sign_in"
    demo_row = panel.table.rowCount() - 1  # the oldest shown: the demo generation, no staff
    assert panel.table.item(demo_row, 3).text() == "Demo event generated"
    assert panel.table.item(demo_row, 1).text() == ""

    assert panel.idle_minutes.value() == 5  # this laptop's idle lock, default 300 s
    panel.idle_minutes.setValue(0)
    assert window.settings.idle_lock_seconds == 0  # never
    panel.idle_minutes.setValue(2)
    assert window.settings.idle_lock_seconds == 120

    qtbot.mouseClick(panel.verify_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.OK
    assert "intact" in panel.banner.headline.text()
    assert "records; chain head" in panel.banner.detail.text()
    assert "No signed checkpoint was found yet." in panel.banner.detail.text()  # issue #26

    tamper = open_database(demo_url)  # someone edits the file behind the app's back
    with tamper.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_record SET station = 'x' WHERE id = 1")
    tamper.dispose()
    qtbot.mouseClick(panel.verify_button, Qt.MouseButton.LeftButton)
    assert panel.banner.tone == Tone.ERROR
    assert "broken: 1 problem(s)" in panel.banner.headline.text()
    assert "record 1 (Demo event generated" in panel.banner.detail.text()


# --- issue #17: the sheet, the columns, progress and Cancel ---------------------------------


def write_book(path: Path, sheets: list[tuple[str, list[list[object]], str]]) -> Path:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    book.active = next(i for i, s in enumerate(sheets) if s[2] == "visible")
    book.save(path)
    return path


def rows_for(start: int, count: int, header: list[str] | None = None) -> list[list[object]]:
    return [header or HEADER] + [
        [f"6288{n:06d}", "王小明", f"139{n:08d}", None, "B01", "RM001", "AM", 100]
        for n in range(start, start + count)
    ]


def test_several_sheets_the_coordinator_chooses_hidden_ones_skipped(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_book(
        tmp_path / "branches.xlsx",
        [
            ("旧名单", rows_for(0, 3), "hidden"),
            ("天河", rows_for(10, 2), "visible"),
            ("越秀", rows_for(20, 4), "visible"),
        ],
    )
    monkeypatch.setattr(FileChooser, "open_file", classmethod(lambda cls, parent, title: path))
    station = open_admin(qtbot, make_window(demo_url))
    station.choose_button.click()
    assert station.banner.tone == Tone.WARN
    assert "“天河”、“越秀”" in station.banner.detail.text()
    assert station.sheet.isVisible() and not station.import_button.isEnabled()
    assert [station.sheet.itemText(i) for i in range(station.sheet.count())][1:] == ["天河", "越秀"]
    station.sheet.setFocus()
    qtbot.keyClick(station.sheet, Qt.Key.Key_Down)  # the keyboard, as at the desk
    qtbot.keyClick(station.sheet, Qt.Key.Key_Down)
    station.sheet.activated.emit(station.sheet.currentIndex())
    assert station.banner.tone == Tone.OK
    assert station.preview.rowCount() == 4  # 越秀's rows
    assert "Hidden sheet “旧名单” skipped." in station.found_label.text()
    assert "Header in row 1." in station.found_label.text()


def test_a_column_mapped_by_drop_down_is_remembered_for_the_branch(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    header = ["客户号", "姓名", "联络号", "证件号码", "网点", "客户经理工号", "场次", "积分余额"]
    first = write(tmp_path / "b01-week1.xlsx", rows_for(0, 3, header))
    second = write(tmp_path / "b01-week2.xlsx", rows_for(100, 2, header))
    chosen = [first]
    monkeypatch.setattr(FileChooser, "open_file", classmethod(lambda cls, p, t: chosen[0]))
    window = make_window(demo_url)
    station = open_admin(qtbot, window)
    station.choose_button.click()
    assert station.banner.tone == Tone.OK  # the phone is optional: it would import without it
    headers = [station.columns.item(r, 0).text() for r in range(station.columns.rowCount())]
    assert headers == header
    combo = station.columns.cellWidget(header.index("联络号"), 1)
    assert combo.currentText() == "— not imported —"
    combo.setCurrentIndex(combo.findData("phone"))
    combo.activated.emit(combo.currentIndex())
    assert ("联络号", "phone") in station.check.mapping
    station.import_button.click()
    assert "3 new" in station.banner.headline.text()
    assert window.settings.import_mapping("invitees", "B01") == {"联络号": "phone"}

    chosen[0] = second  # the next file of the branch: mapped the same way, by itself
    station.choose_button.click()
    combo = station.columns.cellWidget(header.index("联络号"), 1)
    assert combo.currentData() == "phone"
    station.import_button.click()
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        last4 = uow.session.scalars(
            select(Customer.phone_last4).where(Customer.customer_no.like("6288%"))
        ).all()
    database.dispose()
    assert sorted(last4) == ["0000", "0001", "0002", "0100", "0101"]


@pytest.mark.parametrize("stage", ["checked", "written"])
def test_cancel_leaves_nothing_imported(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
) -> None:
    # Two batches of writing (Cancel acts between two) and five progress reports while checking:
    # the rows needed to cancel part-way, and no more (each row costs the test time).
    count = BATCH + PROGRESS_EVERY
    path = write(tmp_path / "big.xlsx", rows_for(0, count))
    monkeypatch.setattr(FileChooser, "open_file", classmethod(lambda cls, parent, title: path))
    station = open_admin(qtbot, make_window(demo_url))
    station.choose_button.click()
    assert station.banner.tone == Tone.OK and f"{count} rows" in station.banner.headline.text()
    seen: list[str] = []
    report = station._report

    def cancel_once(now: str, done: int, total: int) -> None:
        report(now, done, total)
        seen.append(station.progress.format())
        if now == stage and station.cancel_button.isEnabled():
            assert station.progress.isVisible() and station.cancel_button.isVisible()
            qtbot.mouseClick(station.cancel_button, Qt.MouseButton.LeftButton)

    monkeypatch.setattr(station, "_report", cancel_once)
    station.import_button.click()
    assert station.banner.tone == Tone.INFO
    assert station.banner.headline.text() == "Import cancelled"
    assert not station.progress.isVisible() and station.import_button.isEnabled()
    assert any("rows checked" in s or "rows written" in s for s in seen)
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        found = uow.session.scalars(
            select(Customer.id).where(Customer.customer_no.like("6288%"))
        ).all()
    database.dispose()
    assert found == []


def test_the_audit_tab_says_where_each_action_was_taken_in_words() -> None:
    """A call is recorded with the counter it called to ("3"): the 岗位 column reads
    "counter 3", as the banners and the public display say it, not a bare number."""
    from ui.audit_panel import _station

    assert _station("3") == "counter 3"
    assert _station("3 号柜台") == "3 号柜台"  # a counter named in words stays as named
    assert _station("reception") == "Reception"
    assert _station("app") == "Sign-in screen"
