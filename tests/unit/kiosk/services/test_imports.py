"""Spreadsheet imports: real .xlsx from openpyxl, real CSV in GB18030 and UTF-8 with BOM,
every validation rule with a failing row, all-or-nothing, idempotent re-import, templates."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from cli.main import main
from kiosk import privacy
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.idcard import check_digit
from kiosk.imports.cells import CellProblem, day, digits_lost
from kiosk.imports.reading import decode_csv
from kiosk.masking import mask_id
from kiosk.models import (
    AuditRecord,
    Branch,
    Customer,
    EventTier,
    Invitation,
    InvitationStatus,
    Merchant,
    Offer,
    OfferTier,
    Preselection,
    SearchKey,
    Staff,
)
from kiosk.search import find_customer_ids
from kiosk.security import verify_pin
from kiosk.services import imports as svc
from kiosk.services.auth import StaffSession, sign_in, staff_session


def resident_id(first17: str = "44010619800101123") -> str:
    return first17 + check_digit(first17)


# The files come in the evening before the event day, after the points were counted.
CLOCK = FixedClock(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))  # 22:00 in Shanghai
ID1 = resident_id()
EVENT_PASSPHRASE = "event-passphrase"
ID2 = resident_id("44010419750315002")

BRANCH_ROWS = [
    ["Branch code", "Branch name", "Target"],
    ["B01", "天河支行", 10],
    ["B02", "越秀支行", 5],
]
STAFF_ROWS = [
    ["工号", "姓名", "网点", "角色", "初始密码"],
    ["RM001", "张经理", "B01", "客户经理", "2468"],
    ["RM002", "李经理", "越秀支行", "rm", "1357"],
    ["R001", "王接待", None, "接待、主管", "1111"],
]
CATALOG_ROWS = [
    ["服务编号", "商户编号", "商户名称", "服务名称", "服务类别", "所需积分", "名额", "兑换截止日"],
    ["O101", "M01", "康宁体检中心", "基础体检套餐", "健康体检", 12000, 40, date(2027, 5, 28)],
    ["O201", "M02", "悦途旅行社", "周边一日游", "travel", 15000, 40, "2027/03/28"],
    ["O501", "M02", None, "电影票两张", "电影", "2,000", 200, 46500],
]
INVITEE_HEADER = [
    "Customer no.", "Name", "Mobile phone", "ID number", "ID valid until", "Branch",
    "RM staff no.", "Slot", "Points", "Points as of", "Tier", "Mobile banking",
    "Pre-selected services",
]  # fmt: skip
INVITEE_ROWS = [
    INVITEE_HEADER,
    ["6200000001", "王小明", "13812345678", ID1, "长期", "B01", "RM001", "上午场", 15000,
     "2026-11-27 20:00", "gold", "已开通", "O101"],
    ["6200000002", "单丽", "13912345678", ID2, "2030-01-01", "B02", "RM002", "PM", 3000,
     "2026-11-27", "standard", "未开通", "O501×2"],
]  # fmt: skip


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[Any]], encoding: str) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def make_event(url: str) -> Database:
    database = open_database(url)
    svc.create_event(
        database.unit_of_work(),
        code="GZ26",
        name="积分兑换日",
        event_date=date(2026, 11, 28),
        venue="会展中心",
        slots=[
            svc.SlotSpec("AM", "上午场", time(9), time(11, 30), 120),
            svc.SlotSpec("PM", "下午场", time(13, 30), time(16, 30), 120),
        ],
        catalog_url="https://example.com/catalog.html",
        passphrase=EVENT_PASSPHRASE,
        clock=CLOCK,
    )
    return database


def importer(database: Database) -> StaffSession | None:
    """Who imports: nobody before the staff list is in (nobody could sign in yet), then the
    first supervisor of the list (R001 in ``STAFF_ROWS``)."""
    with database.unit_of_work() as uow:
        numbers = uow.session.execute(select(Staff.staff_no, Staff.roles)).all()
    if not numbers:
        return None
    supervisor = next(no for no, roles in sorted(numbers) if "supervisor" in roles.split())
    return staff_session(database.unit_of_work(), supervisor, clock=CLOCK)


def load(database: Database, tmp_path: Path, kind: str, rows: Sequence[Sequence[Any]]) -> Any:
    return svc.import_file(
        database.unit_of_work(),
        kind,
        write_xlsx(tmp_path / f"{kind}.xlsx", rows),
        importer(database),
        clock=CLOCK,
    )


@pytest.fixture(scope="module")
def event_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Event, branches, staff and catalog imported once (PIN hashing is slow on purpose)."""
    folder = tmp_path_factory.mktemp("imports")
    database = make_event(f"sqlite:///{folder / 'event.sqlite3'}")
    load(database, folder, "branches", BRANCH_ROWS)
    load(database, folder, "staff", STAFF_ROWS)
    load(database, folder, "catalog", CATALOG_ROWS)
    database.dispose()
    return folder / "event.sqlite3"


@pytest.fixture
def event_db(event_template: Path, tmp_path: Path) -> Iterator[Database]:
    shutil.copyfile(event_template, tmp_path / "event.sqlite3")
    database = open_database(f"sqlite:///{tmp_path / 'event.sqlite3'}")
    yield database
    database.dispose()


def issues_of(database: Database, path: Path, kind: str) -> list[tuple[int, str, str]]:
    check = svc.check_file(database.unit_of_work(), kind, path)
    return [(i.row, i.column, i.message) for i in check.issues]


def count(database: Database, column: Any) -> int:
    with database.unit_of_work() as uow:
        return uow.session.scalar(select(func.count(column))) or 0


# --- cells and reading ---------------------------------------------------------------------


def test_csv_encodings_are_detected() -> None:
    text = "客户号,姓名\n6200000001,王小明\n"
    assert decode_csv(text.encode("utf-8-sig")) == (text, "utf-8-sig")
    assert decode_csv(text.encode("utf-8")) == (text, "utf-8")
    assert decode_csv(text.encode("gb18030")) == (text, "gb18030")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-28", date(2026, 11, 28)),
        ("2026/11/28", date(2026, 11, 28)),
        ("2026年11月28日", date(2026, 11, 28)),
        ("20261128", date(2026, 11, 28)),
        (46354, date(2026, 11, 28)),  # Excel serial number
        ("46354", date(2026, 11, 28)),
        (datetime(2026, 11, 28, 0, 0), date(2026, 11, 28)),
    ],
)
def test_dates_as_text_or_excel_serial(value: object, expected: date) -> None:
    assert day(value) == expected


def test_impossible_date_is_refused() -> None:
    with pytest.raises(CellProblem, match="is not a date"):
        day("2026-02-30")


def test_excel_damage_is_recognised() -> None:
    assert digits_lost(float(ID1))  # stored as a number in .xlsx
    assert digits_lost("4.40106198001011E+17")  # as Excel writes it to CSV
    assert digits_lost(ID1[:15] + "000")  # the rounded digits, saved as text
    assert not digits_lost(ID1)


# --- all kinds, both file formats ----------------------------------------------------------


def test_import_everything_from_xlsx_then_reimport_changes_nothing(
    event_db: Database, tmp_path: Path
) -> None:
    first = load(event_db, tmp_path, "invitees", INVITEE_ROWS)
    assert (first.created, first.updated) == (2, 0)
    counts = {m: count(event_db, m.id) for m in (Customer, Invitation, Preselection, SearchKey)}
    again = load(event_db, tmp_path, "invitees", INVITEE_ROWS)
    assert (again.created, again.updated) == (0, 2)
    assert {m: count(event_db, m.id) for m in counts} == counts
    assert counts[Customer] == 2 and counts[Preselection] == 2
    opener = privacy.unlock(event_db.unit_of_work(), EVENT_PASSPHRASE)
    with event_db.unit_of_work() as uow:
        s = uow.session
        wang = s.scalar(select(Customer).where(Customer.customer_no == "6200000001"))
        assert wang is not None
        assert (wang.id_long_term, wang.points_balance) == (True, 15000)
        # Sealed as imported: the mask in clear, the full number with the passphrase only.
        assert wang.id_masked == mask_id(ID1) and wang.legacy_id_number is None
        assert wang.id_number_sealed and ID1 not in wang.id_number_sealed
        assert opener.read(wang, "id_number") == ID1
        assert opener.read(wang, "phone") == "13812345678"
        assert wang.balance_as_of == datetime.fromisoformat("2026-11-27T12:00:00+00:00")
        assert wang.mobile_banking == "opened" and wang.tier == "gold"
        invitation = s.scalar(select(Invitation).where(Invitation.customer_id == wang.id))
        assert invitation is not None and len(invitation.code) == 8
        shan = s.scalar(select(Customer).where(Customer.customer_no == "6200000002"))
        assert shan is not None
        pre = s.scalar(
            select(Preselection).join(Invitation).where(Invitation.customer_id == shan.id)
        )
        assert pre is not None and pre.quantity == 2
        # Reception finds imported customers by name, initials, phone tail and code.
        assert find_customer_ids(s, "王小明") == [wang.id]
        assert find_customer_ids(s, "5678")[:2] and shan.id in find_customer_ids(s, "sl")
        assert find_customer_ids(s, invitation.code) == [wang.id]
        records = s.scalars(select(AuditRecord.action)).all()
        assert records.count("import_invitees") == 2


def test_staff_can_sign_in_with_initial_pin_and_reimport_keeps_it(
    event_db: Database, tmp_path: Path
) -> None:
    sign_in(event_db.unit_of_work(), "RM001", "2468", clock=CLOCK)
    with event_db.unit_of_work() as uow:
        reception = uow.session.scalar(select(Staff).where(Staff.staff_no == "R001"))
        assert reception is not None and reception.roles == "reception supervisor"
        old_hash = reception.pin_hash
    rows = [row[:] for row in STAFF_ROWS]
    rows[3][4] = "9999"
    rows[3][1] = "王接待员"
    result = load(event_db, tmp_path, "staff", rows)
    assert (result.created, result.updated) == (0, 3)
    with event_db.unit_of_work() as uow:
        reception = uow.session.scalar(select(Staff).where(Staff.staff_no == "R001"))
        assert reception is not None and reception.name == "王接待员"
        assert reception.pin_hash == old_hash and verify_pin("1111", reception.pin_hash)


def test_catalog_in_any_column_order_with_chinese_headers(event_db: Database) -> None:
    with event_db.unit_of_work() as uow:
        offers = {o.code: o for o in uow.session.scalars(select(Offer))}
        assert offers["O101"].category == "health" and offers["O101"].points_price == 12000
        assert offers["O501"].category == "movie" and offers["O501"].points_price == 2000
        assert offers["O501"].redeem_by == date(2027, 4, 23)  # serial 46500
        assert offers["O201"].redeem_by == date(2027, 3, 28)
        merchants = {m.code: m.name for m in uow.session.scalars(select(Merchant))}
        assert merchants == {"M01": "康宁体检中心", "M02": "悦途旅行社"}
        branch = uow.session.scalar(select(Branch).where(Branch.code == "B01"))
        assert branch is not None and branch.target == 10


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-8"])
def test_csv_import(event_db: Database, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "invitees.csv", INVITEE_ROWS, encoding)
    result = svc.import_file(
        event_db.unit_of_work(), "invitees", path, importer(event_db), clock=CLOCK
    )
    assert result.created == 2
    assert result.check.encoding == encoding
    with event_db.unit_of_work() as uow:
        names = set(uow.session.scalars(select(Customer.name)))
    assert names == {"王小明", "单丽"}


def test_invitation_reports_update_answers(event_db: Database, tmp_path: Path) -> None:
    load(event_db, tmp_path, "invitees", INVITEE_ROWS)
    report = [
        ["客户号", "姓名", "邀约方式", "邀约日期", "客户答复", "同行人数"],
        ["6200000001", "王小明", "电话", "2026-11-20", "确认", 1],
        ["6200000002", "单丽", "短信", "2026-11-21", "未接通", None],
    ]
    for _ in range(2):  # a re-import is harmless
        result = load(event_db, tmp_path, "invitations", report)
        assert result.updated == 2
    with event_db.unit_of_work() as uow:
        rows = dict(
            uow.session.execute(
                select(Customer.customer_no, Invitation).join(
                    Invitation, Invitation.customer_id == Customer.id
                )
            ).all()
        )
    assert rows["6200000001"].status == InvitationStatus.CONFIRMED
    assert rows["6200000001"].companions == 1 and rows["6200000001"].channel == "phone"
    assert rows["6200000002"].status == InvitationStatus.INVITED
    assert rows["6200000002"].answer == "unreachable"


# --- every validation rule, each with a failing row ----------------------------------------


def invitee_row(**changes: object) -> list[object]:
    row = dict(zip(INVITEE_HEADER, INVITEE_ROWS[1], strict=True))
    row.update({k.replace("_", " "): v for k, v in changes.items()})
    return list(row.values())


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("ID number", ID1[:17] + ("0" if ID1[17] != "0" else "1"), "fails its check digit"),
        ("ID number", ID1[:16], "has 18 characters; this one has 16"),
        ("ID number", float(ID1), "lost its last digits"),
        ("ID number", ID1[:15] + "000", "lost its last digits"),
        ("Mobile phone", "1381234567", "not a mainland mobile number"),
        ("Mobile phone", "02012345678", "not a mainland mobile number"),
        ("ID valid until", "2026-13-01", "is not a date"),
        ("Points as of", "yesterday", "is not a date"),
        ("Branch", "B99", "There is no branch “B99”"),
        ("RM staff no.", "RM999", "There is no staff number “RM999”"),
        ("RM staff no.", "R001", "R001 is not a relationship manager"),
        ("Slot", "晚场", "There is no slot “晚场”"),
        ("Points", -100, "Points cannot be negative"),
        ("Points", 12.5, "is not a whole number"),
        ("Pre-selected services", "O999", "“O999” is not a service in the catalog"),
        ("Tier", "vip", "is not a tier"),
        ("Name", None, "must be filled in"),
    ],
)
def test_each_invitee_rule_fails_its_row(
    event_db: Database, tmp_path: Path, column: str, value: object, message: str
) -> None:
    row = dict(zip(INVITEE_HEADER, INVITEE_ROWS[1], strict=True))
    row[column] = value
    path = write_xlsx(tmp_path / "bad.xlsx", [INVITEE_HEADER, INVITEE_ROWS[2], list(row.values())])
    found = issues_of(event_db, path, "invitees")
    assert len(found) == 1, found
    assert found[0][:2] == (3, column)
    assert message in found[0][2]
    assert ID1 not in found[0][2]  # the error table never echoes an ID number


def test_duplicate_rows(event_db: Database, tmp_path: Path) -> None:
    duplicate = INVITEE_ROWS[1][:]
    duplicate[0] = "6200000003"  # another customer number with the same ID number
    rows = [*INVITEE_ROWS, INVITEE_ROWS[1], duplicate]
    path = write_xlsx(tmp_path / "dup.xlsx", rows)
    assert issues_of(event_db, path, "invitees") == [
        (4, "Customer no.", "Duplicate: the same as row 2."),
        (4, "ID number", "Duplicate: the same as row 2."),
        (5, "ID number", "Duplicate: the same as row 2."),
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("服务类别", "电饭煲", "Points buy services only: “电饭煲” is not a service category"),
        ("所需积分", 0, "more than 0"),
        ("名额", -1, "Capacity cannot be negative"),
        ("兑换截止日", "soon", "is not a date"),
        ("商户编号", "M09", "There is no merchant “M09”; give its name in this row."),
    ],
)
def test_each_catalog_rule_fails_its_row(
    event_db: Database, tmp_path: Path, column: str, value: object, message: str
) -> None:
    header = CATALOG_ROWS[0]
    row = list(CATALOG_ROWS[3])
    row[header.index(column)] = value
    path = write_xlsx(tmp_path / "bad.xlsx", [header, CATALOG_ROWS[1], row])
    found = issues_of(event_db, path, "catalog")
    assert [(r, c) for r, c, _m in found] == [(3, column)], found
    assert message in found[0][2]


def test_merchant_named_twice_differently(event_db: Database, tmp_path: Path) -> None:
    row = list(CATALOG_ROWS[3])
    row[2] = "别的名字"
    path = write_xlsx(tmp_path / "bad.xlsx", [CATALOG_ROWS[0], CATALOG_ROWS[2], row])
    assert issues_of(event_db, path, "catalog") == [
        (3, "商户名称", "Merchant M02 is called “悦途旅行社” in row 2.")
    ]


def test_staff_rules(event_db: Database, tmp_path: Path) -> None:
    rows = [
        STAFF_ROWS[0],
        ["A001", "新员工", None, "激活", None],  # new without PIN
        ["A002", "新员工", None, "cashier", "1234"],  # unknown role
        ["RM009", "新经理", None, "客户经理", "1234"],  # RM without branch
        ["A003", "新员工", None, "激活", 123],  # PIN lost its leading zero
    ]
    path = write_xlsx(tmp_path / "staff.xlsx", rows)
    found = issues_of(event_db, path, "staff")
    assert [(r, c) for r, c, _m in found] == [
        (2, "初始密码"),
        (3, "角色"),
        (4, "网点"),
        (5, "初始密码"),
    ]


def test_missing_and_repeated_columns(event_db: Database, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "bad.xlsx", [["Customer no.", "Name", "姓名", "Points"], ["1", "a", "b", 1]]
    )
    found = issues_of(event_db, path, "invitees")
    assert found == [
        (
            1,
            "姓名",
            "Which column is “Name”: “Name”、“姓名”? Choose it under Columns (on the command "
            'line: --map "Name=name"), or rename or delete the other one.',
        ),
        (1, "Branch", "This required column is missing."),
        (1, "Slot", "This required column is missing."),
    ]


def test_a_file_with_any_error_imports_nothing(event_db: Database, tmp_path: Path) -> None:
    bad = invitee_row()
    bad[0] = "6200000009"
    bad[INVITEE_HEADER.index("ID number")] = resident_id("44010619900101002")
    bad[INVITEE_HEADER.index("Points")] = -1
    bad_phone = invitee_row()
    bad_phone[0] = "6200000010"
    bad_phone[INVITEE_HEADER.index("ID number")] = None
    bad_phone[INVITEE_HEADER.index("Mobile phone")] = "12345"
    path = write_xlsx(tmp_path / "bad.xlsx", [*INVITEE_ROWS, bad, bad_phone])
    with pytest.raises(svc.ImportRefused) as refused:
        svc.import_file(event_db.unit_of_work(), "invitees", path, importer(event_db), clock=CLOCK)
    assert [(i.row, i.column) for i in refused.value.check.issues] == [
        (4, "Points"),
        (5, "Mobile phone"),
    ]
    assert count(event_db, Customer.id) == 0
    assert count(event_db, Invitation.id) == 0
    # The corrected file imports, and importing it again creates nothing new.
    bad[INVITEE_HEADER.index("Points")] = 100
    bad_phone[INVITEE_HEADER.index("Mobile phone")] = "13600001111"
    write_xlsx(path, [*INVITEE_ROWS, bad, bad_phone])
    assert (
        svc.import_file(
            event_db.unit_of_work(), "invitees", path, importer(event_db), clock=CLOCK
        ).created
        == 4
    )
    assert (
        svc.import_file(
            event_db.unit_of_work(), "invitees", path, importer(event_db), clock=CLOCK
        ).created
        == 0
    )
    assert count(event_db, Customer.id) == 4


def test_imports_into_an_event_need_the_event(any_empty_url: str, tmp_path: Path) -> None:
    database = open_database(any_empty_url)
    path = write_xlsx(tmp_path / "c.xlsx", CATALOG_ROWS)
    with pytest.raises(svc.KioskError, match="Create the event first"):
        svc.import_file(database.unit_of_work(), "catalog", path, importer(database), clock=CLOCK)
    database.dispose()


# --- templates, filled in and imported back, through the CLI ------------------------------


def fill(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """Type rows below the template's header and description rows, as a coordinator would."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)
    book.save(path)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_templates_filled_in_and_imported_with_the_cli(
    any_empty_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_PASSPHRASE", EVENT_PASSPHRASE)
    db = ["--lang", "en", "--db", any_empty_url]
    code, out, err = run(
        capsys, *db, "event", "create", "--code", "GZ26", "--name", "积分兑换日",
        "--date", "2026-11-28", "--slot", "AM,上午场,09:00,11:30,120",
        "--slot", "PM,下午场,13:30,16:30,120",
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    code, out, err = run(capsys, *db, "templates", str(tmp_path / "t"))
    assert code == 0
    paths = [Path(line) for line in out.splitlines()]
    assert [p.name for p in paths] == [
        "1-branches.xlsx", "2-staff.xlsx", "3-tiers.xlsx", "4-catalog.xlsx",
        "5-customers.xlsx", "6-invitees.xlsx", "7-invitations.xlsx",
    ]  # fmt: skip
    branches_xlsx, staff_xlsx, tiers_xlsx, catalog_xlsx, _customers, invitees_xlsx, reports_xlsx = (
        paths
    )
    book = openpyxl.load_workbook(invitees_xlsx)
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "Customer no. *" and sheet["A2"].value.startswith("Required")
    assert sheet["E3"].number_format == "@"  # ID numbers stay text
    assert any("AM" in str(v.formula1) for v in sheet.data_validations.dataValidation)
    fill(branches_xlsx, [["B01", "天河支行", 3]])
    fill(
        staff_xlsx,
        [["RM001", "张经理", "B01", "客户经理", "2468"], ["S001", "赵主管", None, "主管", "1357"]],
    )
    fill(tiers_xlsx, [["STD", "普通", 0, "标准价格"], ["GOLD", "金卡", "50万", "专属价格与名额"]])
    fill(
        catalog_xlsx,
        [
            [
                "M01",
                "康宁",
                "A1",
                "O101",
                "基础体检",
                "health",
                100,
                5,
                "2027-05-01",
                None,
                "金卡:80/2",
            ]
        ],
    )
    invitee = ["6200000001", "王小明", "13812345678", "居民身份证", ID1, "2010-01-01", "长期",
               "B01", "RM001", "AM", 15000]  # fmt: skip
    wrong = ["6200000002", "李四", "138", None, ID2[:15] + "000", None, None, "B09", "RM001",
             "AM", -5]  # fmt: skip
    fill(invitees_xlsx, [invitee, wrong])
    # Branches and staff before anyone could sign in; then the supervisor imports, with the
    # PIN the staff file gave them.
    monkeypatch.setenv("KIOSK_PIN", "1357")
    for path, kind, new, who in zip(
        [branches_xlsx, staff_xlsx, tiers_xlsx, catalog_xlsx],
        ["branches", "staff", "tiers", "catalog"],
        [1, 2, 2, 1],
        [[], [], ["--staff", "S001"], ["--staff", "S001"]],
        strict=True,
    ):
        code, out, err = run(capsys, *db, "import", kind, str(path), *who)
        assert (code, err) == (0, ""), err
        assert f"{new} new, 0 updated" in out
    code, out, err = run(capsys, *db, "import", "invitees", str(invitees_xlsx))
    assert (code, err) == (1, "kiosk: Only relationship managers or a supervisor import files.\n")
    # An RM imports with the supervisor's approval; the PIN comes from the environment.
    monkeypatch.setenv("KIOSK_PIN", "2468")  # RM001's own
    code, out, err = run(capsys, *db, "import", "invitees", str(invitees_xlsx), "--staff", "RM001")
    assert (code, err) == (1, "kiosk: A supervisor must approve importing a file.\n")
    monkeypatch.setenv("KIOSK_SUPERVISOR_PIN", "1357")
    rm = ["--staff", "RM001", "--supervisor", "S001"]
    code, out, err = run(capsys, *db, "import", "invitees", str(invitees_xlsx), *rm)
    assert code == 1
    lines = err.splitlines()
    assert lines[:4] == [
        "row 4, column “Mobile phone”: “138” is not a mainland mobile number (11 digits "
        "starting with 1).",
        "row 4, column “ID number”: Excel stored this ID number as a number and lost its last "
        "digits; format the column as Text and type the number again.",
        "row 4, column “Branch *”: There is no branch “B09”.",
        "row 4, column “Points *”: Points cannot be negative.",
    ]
    assert lines[-1] == "kiosk: The file has 4 problem(s); nothing was imported."
    fill(invitees_xlsx, [invitee, ["6200000002", "李四", "13800001111", None, ID2, None, None,
                                   "B01", "RM001", "AM", 5]])  # fmt: skip
    code, out, err = run(capsys, *db, "import", "invitees", str(invitees_xlsx), *rm)
    assert (code, err) == (0, ""), err
    assert "2 new, 0 updated" in out
    code, out, err = run(capsys, *db, "import", "invitees", str(invitees_xlsx), *rm)
    assert "0 new, 2 updated" in out
    fill(reports_xlsx, [["6200000001", "王小明", "电话", "2026-11-20", "确认", 0]])
    code, out, err = run(capsys, *db, "import", "invitations", str(reports_xlsx), *rm)
    assert (code, err) == (0, ""), err
    database = open_database(any_empty_url)
    with database.unit_of_work() as uow:
        approved = uow.session.execute(
            select(AuditRecord.action, Staff.staff_no)
            .join(Staff, Staff.id == AuditRecord.approved_by)
            .order_by(AuditRecord.id)
        ).all()
        terms = uow.session.execute(
            select(OfferTier.tier_code, OfferTier.points_price, OfferTier.quota)
        ).all()
        bands = uow.session.execute(
            select(EventTier.code, EventTier.aum_floor).order_by(EventTier.aum_floor)
        ).all()
    database.dispose()
    assert [tuple(t) for t in terms] == [("GOLD", 80, 2)]  # the tier named by its name
    assert [tuple(b) for b in bands] == [("STD", 0), ("GOLD", 500_000)]
    assert [tuple(row) for row in approved] == [
        ("import_invitees", "S001"),
        ("import_invitees", "S001"),
        ("import_invitations", "S001"),
    ]


def test_template_headers_and_descriptions_are_translated() -> None:
    """Field texts are message ids the scanner cannot see; a template in Chinese needs them,
    and its Chinese headers must be read back."""
    from kiosk.i18n import catalog
    from kiosk.imports.kinds import KINDS, normalize_header

    zh = catalog("zh_CN")
    for kind in KINDS.values():
        for f in kind.fields:
            assert f.header in zh and f.description in zh, f.name
            assert normalize_header(zh[f.header]) in f.spellings()


def test_import_and_reimport_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    database = make_event(pg_url)
    try:
        for kind, rows in [
            ("branches", BRANCH_ROWS),
            ("staff", STAFF_ROWS),
            ("catalog", CATALOG_ROWS),
            ("invitees", INVITEE_ROWS),
        ]:
            assert load(database, tmp_path, kind, rows).updated == 0
        again = load(database, tmp_path, "invitees", INVITEE_ROWS)
        assert (again.created, again.updated) == (0, 2)
        assert count(database, Invitation.id) == 2
        with database.unit_of_work() as uow:
            assert find_customer_ids(uow.session, "王小明")
    finally:
        database.dispose()
