"""Issue #17: imports that never lose data silently.

One test per way a branch's hand-made file lost data without a word (columns named 身份证 /
电话号码 dropped, the hidden or the wrong sheet, leading zeros, invisible characters, digits of
other scripts, future birth dates) and per file the app cannot read. Workbooks are made here
with openpyxl, as Excel and WPS save them; imports run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from cli.main import main
from kiosk import privacy
from kiosk.db import Database, open_database
from kiosk.errors import KioskError
from kiosk.idcard import check_digit
from kiosk.imports.cells import DIGITS, INVISIBLE, WIDTH, clean
from kiosk.imports.kinds import KINDS, normalize_header
from kiosk.imports.reading import SheetChoice, Unreadable
from kiosk.models import Customer
from kiosk.services import imports as svc
from tests.unit.kiosk.services.test_imports import (
    BRANCH_ROWS,
    CATALOG_ROWS,
    CLOCK,
    EVENT_PASSPHRASE,
    ID1,
    ID2,
    STAFF_ROWS,
    importer,
    load,
    make_event,
)

HEADER = ["客户号", "客户姓名", "电话号码", "身份证", "网点", "场次", "积分"]
ROWS = [
    ["6200000001", "王小明", "13812345678", ID1, "B01", "上午场", 15000],
    ["6200000002", "单丽", "13912345678", ID2, "B02", "PM", 3000],
]


def resident_id(first17: str) -> str:
    return first17 + check_digit(first17)


def book(path: Path, sheets: Sequence[tuple[str, Sequence[Sequence[Any]], str]]) -> Path:
    """A workbook with the sheets (title, rows, state) in order; the first visible is active."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for title, rows, state in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
        sheet.sheet_state = state
    visible = [i for i, (_t, _r, state) in enumerate(sheets) if state == "visible"]
    workbook.active = visible[0] if visible else 0
    workbook.save(path)
    return path


def xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    return book(path, [("客户名单", rows, "visible")])


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("safety")
    database = make_event(f"sqlite:///{folder / 'event.sqlite3'}")
    load(database, folder, "branches", BRANCH_ROWS)
    load(database, folder, "staff", STAFF_ROWS)
    load(database, folder, "catalog", CATALOG_ROWS)
    database.dispose()
    return folder / "event.sqlite3"


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Iterator[Database]:
    target = tmp_path / "event.sqlite3"
    target.write_bytes(template.read_bytes())
    database = open_database(f"sqlite:///{target}")
    yield database
    database.dispose()


@pytest.fixture
def any_db(any_empty_url: str, tmp_path: Path) -> Iterator[Database]:
    """The event on SQLite and on PostgreSQL (staff without PINs to hash: fast)."""
    database = make_event(any_empty_url)
    load(database, tmp_path, "branches", BRANCH_ROWS)
    load(database, tmp_path, "staff", STAFF_ROWS)
    yield database
    database.dispose()


def issues(database: Database, path: Path, kind: str = "invitees", **choices: Any) -> list:
    check = svc.check_file(database.unit_of_work(), kind, path, svc.Choices(**choices))
    return [(i.row, i.column, i.message) for i in check.issues]


def imported(database: Database, path: Path, **choices: Any) -> svc.ImportResult:
    return svc.import_file(
        database.unit_of_work(),
        "invitees",
        path,
        importer(database),
        choices=svc.Choices(**choices),
        clock=CLOCK,
    )


def customers(database: Database) -> dict[str, tuple[str, str | None, str | None, int]]:
    """Customer number -> (name, full phone, full ID number, points)."""
    opener = privacy.unlock(database.unit_of_work(), EVENT_PASSPHRASE)
    with database.unit_of_work() as uow:
        return {
            c.customer_no: (
                c.name,
                opener.read(c, "phone"),
                opener.read(c, "id_number"),
                c.points_balance,
            )
            for c in uow.session.scalars(select(Customer))
        }


def count(database: Database) -> int:
    with database.unit_of_work() as uow:
        return uow.session.scalar(select(func.count(Customer.id))) or 0


# --- columns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("身份证", "id_number"),
        ("身份证号", "id_number"),
        ("身份证号码", "id_number"),
        ("证件号码", "id_number"),
        ("ID card number", "id_number"),
        ("电话号码", "phone"),
        ("手机", "phone"),
        ("手机号", "phone"),
        ("手机号码", "phone"),
        ("联系电话", "phone"),
        ("Phone number", "phone"),
        ("Mobile", "phone"),
        ("客户号", "customer_no"),
        ("客户编号", "customer_no"),
        ("Customer ID", "customer_no"),
        ("客户姓名", "name"),
        ("积分", "points_balance"),
        ("所属支行", "branch"),
        ("客户经理", "rm"),
        ("手机银行", "mobile_banking"),
    ],
)
def test_synonym_table_names_each_field(header: str, name: str) -> None:
    by_spelling = {s: f.name for f in KINDS["invitees"].fields for s in f.spellings()}
    assert by_spelling[normalize_header(header)] == name


def test_no_spelling_names_two_fields_of_one_import() -> None:
    for kind in KINDS.values():
        seen: dict[str, str] = {}
        for f in kind.fields:
            for spelling in f.spellings():
                assert seen.setdefault(spelling, f.name) == f.name, (kind.name, spelling)


def test_columns_named_the_usual_way_are_imported_on_both_backends(
    any_db: Database, tmp_path: Path
) -> None:
    result = imported(any_db, xlsx(tmp_path / "b.xlsx", [HEADER, *ROWS]))
    assert result.created == 2 and result.check.unused == []
    assert ("电话号码", "phone") in result.check.mapping
    assert ("身份证", "id_number") in result.check.mapping
    found = customers(any_db)
    assert found["6200000001"] == ("王小明", "13812345678", ID1, 15000)
    assert found["6200000002"][1:3] == ("13912345678", ID2)


def test_every_column_not_used_is_listed(db: Database, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "b.xlsx", [["序号", *HEADER, "备注"], [1, *ROWS[0], "老客户"], [2, *ROWS[1], ""]]
    )
    check = svc.check_file(db.unit_of_work(), "invitees", path)
    assert check.ok and check.unused == ["序号", "备注"]


def test_two_columns_that_both_look_like_the_phone_stop_with_a_question(
    db: Database, tmp_path: Path
) -> None:
    path = xlsx(
        tmp_path / "b.xlsx",
        [[*HEADER, "手机"], [*ROWS[0], "13800000000"], [*ROWS[1], "13900000000"]],
    )
    found = issues(db, path)
    assert len(found) == 1
    row, column, message = found[0]
    assert (row, column) == (1, "手机")
    assert "“电话号码”、“手机”" in message and '--map "电话号码=phone"' in message
    assert count(db) == 0
    # The coordinator answers: the other column is left out, and said so.
    result = imported(db, path, columns={"手机": "phone"})
    assert result.check.unused == ["电话号码"]
    assert customers(db)["6200000001"][1] == "13800000000"


def test_a_column_that_looks_like_a_field_asks(db: Database, tmp_path: Path) -> None:
    header = [*HEADER[:2], "客户手机号码（新）", *HEADER[3:]]
    found = issues(db, xlsx(tmp_path / "b.xlsx", [header, *ROWS]))
    assert [(r, c) for r, c, _m in found] == [(1, "客户手机号码(新)")]  # as Excel shows it, NFKC
    assert "Mobile phone" in found[0][2] and "=phone" in found[0][2]
    # While the column waits for an answer, the first rows still show what the others hold.
    check = svc.check_file(db.unit_of_work(), "invitees", tmp_path / "b.xlsx")
    assert [number for number, _cells in check.preview] == [2, 3]
    assert check.preview[0][1][:2] == ["6200000001", "王小明"]


def test_cli_map_and_the_mapping_printed(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    header = [*HEADER[:2], "联络号", *HEADER[3:]]
    path = xlsx(tmp_path / "b.xlsx", [header, *ROWS])
    url = str(db.engine.url)
    monkeypatch.setenv("KIOSK_PIN", "1111")
    argv = ["--db", url, "import", "invitees", str(path), "--staff", "R001"]
    assert main([*argv, "--check"]) == 0  # 联络号 is not recognised: left out, and said
    out = capsys.readouterr().out
    assert "列“联络号”不导入" in out  # the CLI speaks Chinese by default
    assert main([*argv, "--map", "联络号=phone"]) == 0
    out = capsys.readouterr().out
    assert "列“联络号” → phone" in out and "列“身份证” → id_number" in out
    assert customers(db)["6200000001"][1] == "13812345678"


# --- sheets --------------------------------------------------------------------------------


def test_a_hidden_first_sheet_with_stale_values_is_skipped(db: Database, tmp_path: Path) -> None:
    stale = [HEADER, *[[*row[:6], 1] for row in ROWS]]
    path = book(
        tmp_path / "b.xlsx", [("旧名单", stale, "hidden"), ("名单", [HEADER, *ROWS], "visible")]
    )
    result = imported(db, path)
    assert result.check.sheet == "名单" and result.check.skipped_sheets == ["旧名单"]
    assert customers(db)["6200000001"][3] == 15000


def test_data_on_the_second_sheet_is_found(db: Database, tmp_path: Path) -> None:
    notes = [["填表说明"], ["请按模板填写，手机号设为文本格式。"]]
    path = book(
        tmp_path / "b.xlsx", [("说明", notes, "visible"), ("名单", [HEADER, *ROWS], "visible")]
    )
    assert imported(db, path).check.sheet == "名单"
    assert count(db) == 2


def test_a_hidden_lists_sheet_does_not_break_it(db: Database, tmp_path: Path) -> None:
    lists = [["B01", "上午场"], ["B02", "下午场"]]
    path = book(
        tmp_path / "b.xlsx", [("名单", [HEADER, *ROWS], "visible"), ("lists", lists, "hidden")]
    )
    assert imported(db, path).created == 2


def test_two_visible_sheets_with_data_need_a_choice(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    other = [HEADER, [*ROWS[0][:6], 99]]
    path = book(
        tmp_path / "b.xlsx", [("天河", [HEADER, *ROWS], "visible"), ("越秀", other, "visible")]
    )
    with pytest.raises(SheetChoice) as choice:
        svc.check_file(db.unit_of_work(), "invitees", path)
    assert choice.value.sheets == ["天河", "越秀"]
    monkeypatch.setenv("KIOSK_PIN", "1111")
    argv = ["--db", str(db.engine.url), "import", "invitees", str(path), "--staff", "R001"]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "“天河”、“越秀”" in err and "--sheet" in err and count(db) == 0
    assert main([*argv, "--sheet", "越秀"]) == 0
    assert customers(db)["6200000001"][3] == 99


# --- values --------------------------------------------------------------------------------


def test_leading_zeros_excel_dropped_are_refused_with_row_and_column(
    db: Database, tmp_path: Path
) -> None:
    rows = [[*ROWS[0]], [*ROWS[1]]]
    rows[0][0], rows[1][0] = "0012345", 12346  # typed 0012346; Excel kept 12346
    found = issues(db, xlsx(tmp_path / "b.xlsx", [HEADER, *rows]))
    assert [(r, c) for r, c, _m in found] == [(3, "客户号")]
    assert "12346" in found[0][2] and "Text" in found[0][2]
    assert count(db) == 0


def test_a_number_shorter_than_the_text_codes_is_refused(db: Database, tmp_path: Path) -> None:
    rows = [[*ROWS[0]], [*ROWS[1]]]
    rows[1][0] = 12346  # the template says Text; the others have 10 digits
    found = issues(db, xlsx(tmp_path / "b.xlsx", [HEADER, *rows]))
    assert [(r, c) for r, c, _m in found] == [(3, "客户号")]


def test_numbers_that_keep_their_width_are_fine(db: Database, tmp_path: Path) -> None:
    rows = [[*ROWS[0]], [*ROWS[1]]]
    rows[0][0], rows[1][0] = 6200000001, 6200000002
    assert issues(db, xlsx(tmp_path / "b.xlsx", [HEADER, *rows])) == []


def test_invisible_characters_are_removed_and_said(db: Database, tmp_path: Path) -> None:
    rows = [[*ROWS[0]], [*ROWS[1]]]
    rows[0][1] = "王小明\u200b"
    rows[0][2] = "\ufeff138\u200d1234\u20605678"
    rows[1][3] = ID2[:6] + "\u200b" + ID2[6:]
    rows[1][2] = "１３９１２３４５６７８"  # full width
    result = imported(db, xlsx(tmp_path / "b.xlsx", [HEADER, *rows]))
    assert result.check.normalised == {INVISIBLE: 3, WIDTH: 1}
    found = customers(db)
    assert found["6200000001"][:2] == ("王小明", "13812345678")
    assert found["6200000002"][1:3] == ("13912345678", ID2)


def test_digits_of_any_script_are_made_ascii_then_checked(db: Database, tmp_path: Path) -> None:
    arabic = "".join(chr(0x0660 + int(d)) if d.isdigit() else d for d in ID1)
    assert clean(arabic) == (ID1, (DIGITS,))
    rows = [[*ROWS[0]], [*ROWS[1]]]
    rows[0][3] = arabic
    bad = ID2[:17] + ("1" if ID2[17] != "1" else "2")
    rows[1][3] = "".join(chr(0x0660 + int(d)) if d.isdigit() else d for d in bad)
    found = issues(db, xlsx(tmp_path / "b.xlsx", [HEADER, *rows]))
    assert [(r, c) for r, c, _m in found] == [(3, "身份证")]
    assert "check digit" in found[0][2]


def test_an_id_with_a_future_birth_date_is_refused(db: Database, tmp_path: Path) -> None:
    rows = [[*ROWS[0]], [*ROWS[1]]]
    rows[1][3] = resident_id("44010620990101123")
    found = issues(db, xlsx(tmp_path / "b.xlsx", [HEADER, *rows]))
    assert found == [
        (
            3,
            "身份证",
            "The birth date in this ID number, 2099-01-01, is in the future; check the digits "
            "7 to 14.",
        )
    ]


# --- files the app cannot read -------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BOMB = {"xl/workbook.xml": b"<", "xl/x.xml": b"\0" * 120 * 1024**2}
ODS = {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("list.ods", lambda p: _zip(p, {"mimetype": b"x"}), "OpenDocument"),
        ("list.xlsx", lambda p: _zip(p, ODS), "OpenDocument"),
        ("list.xls", lambda p: p.write_bytes(OLE + b"\0" * 60), ".xls"),
        ("list.xlsx", lambda p: _zip(p, {"word/document.xml": b"<w/>"}), "a Word document"),
        ("list.xlsx", lambda p: p.write_bytes(OLE + b"\0" * 500), "password"),
        ("list.xlsx", lambda p: p.write_bytes(b"not a zip at all"), "not an Excel workbook"),
        ("list.xlsx", lambda p: _zip(p, BOMB), "unpacks to"),
        ("list.csv", lambda p: _zip(p, {"xl/workbook.xml": b"<"}), "not CSV text"),
        ("list.docx", lambda p: p.write_bytes(b"x"), "not a spreadsheet"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_sentence(
    db: Database, tmp_path: Path, name: str, make: Any, words: str
) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(Unreadable) as refused:
        imported(db, path)
    message = str(refused.value)
    assert words in message and "\n" not in message and "Traceback" not in message
    assert isinstance(refused.value, KioskError) and count(db) == 0


# --- a workbook saved by LibreOffice -------------------------------------------------------

LIBREOFFICE = Path(__file__).resolve().parents[3] / "fixtures" / "libreoffice-invitees.xlsx"


def test_a_libreoffice_saved_workbook(db: Database, tmp_path: Path) -> None:
    """tests/fixtures/libreoffice-invitees.xlsx: made with openpyxl, then saved by LibreOffice
    Calc 7.4 (soffice --headless --convert-to xlsx), as a branch's PC would: its shared
    strings, styles and sheet states. A hidden stale sheet first, then 名单 with 身份证 and
    电话号码, a zero-width space, full-width digits, and 0012345 as text above 12346 as a number.
    """
    check = svc.check_file(db.unit_of_work(), "invitees", LIBREOFFICE)
    assert (check.sheet, check.skipped_sheets, check.header_row) == ("名单", ["旧名单"], 1)
    assert ("电话号码", "phone") in check.mapping and ("身份证", "id_number") in check.mapping
    assert check.unused == ["备注"]
    assert check.normalised == {INVISIBLE: 1, WIDTH: 1}
    assert [(i.row, i.column) for i in check.issues] == [(3, "客户号")]
    assert "12346" in check.issues[0].message
    with pytest.raises(svc.ImportRefused):
        imported(db, LIBREOFFICE)
    assert count(db) == 0


def test_one_field_chosen_for_two_columns_is_a_question(db: Database, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "b.xlsx", [[*HEADER, "手机"], [*ROWS[0], "13800000000"], [*ROWS[1], "1390"]]
    )
    found = issues(db, path, columns={"电话号码": "phone", "手机": "phone"})
    assert [(r, c) for r, c, _m in found] == [(1, "手机")]
    assert "“电话号码” is already chosen as “Mobile phone”" in found[0][2]


def test_names_keep_their_full_width_punctuation_codes_and_phones_are_folded(
    any_db: Database, tmp_path: Path
) -> None:
    """#28: a name is stored as written (“（北京）” stays full width; only the invisible
    characters go), while the phone and the ID in full-width digits compare as ASCII."""
    rows = [[*ROWS[0]], [*ROWS[1]]]
    rows[0][1] = "欧阳娜娜（北京）\u200b"
    rows[0][2] = "１３８１２３４５６７８"
    rows[1][1] = "赵孟𫖯·Ａ"
    rows[1][4] = "Ｂ０２"  # the branch code, folded to match
    result = imported(any_db, xlsx(tmp_path / "b.xlsx", [HEADER, *rows]))
    assert result.check.normalised == {INVISIBLE: 1, WIDTH: 2}
    found = customers(any_db)
    assert found["6200000001"][:2] == ("欧阳娜娜（北京）", "13812345678")
    assert found["6200000002"][0] == "赵孟𫖯·Ａ"
    assert clean("（北京）\u200b", fold=False) == ("（北京）", (INVISIBLE,))
