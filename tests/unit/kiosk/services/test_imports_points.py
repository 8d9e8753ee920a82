"""Issue #19: the imports that carry points lots, AUM and event tiers.

The invitee file gives lots (``3000@2027-06-30; 500``) and AUM (50万), the tiers file the
event's AUM bands, the catalog file a price and quota per tier. Real .xlsx files, imported by
the service on SQLite and PostgreSQL; every bad cell refused with its row and column and
nothing written; a slip issued afterwards spends the lot that expires first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.i18n import set_language
from kiosk.imports.cells import CellProblem, yuan
from kiosk.imports.templates import write_templates
from kiosk.models import (
    AuditRecord,
    Customer,
    EventTier,
    Offer,
    OfferTier,
    PointsLot,
    Slip,
    Staff,
)
from kiosk.permissions import Action, ApprovalNeeded, PermissionDenied
from kiosk.points import LotInput, lot_balances, set_lots, set_lots_many
from kiosk.services import imports as svc
from kiosk.services import keys, reception
from kiosk.services.approval import approve
from kiosk.services.auth import staff_session
from kiosk.services.slips import CartLine, issue_slips
from tests.unit.kiosk.services.test_imports import (
    BRANCH_ROWS,
    CATALOG_ROWS,
    CLOCK,
    EVENT_PASSPHRASE,
    ID1,
    ID2,
    importer,
    resident_id,
    write_xlsx,
)

ID3 = resident_id("44010319900704002")
EVENT_DAY = date(2026, 11, 28)
MORNING = FixedClock(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai

STAFF_ROWS = [
    ["工号", "姓名", "网点", "角色", "初始密码"],
    ["RM001", "张经理", "B01", "客户经理", "2468"],
    ["R001", "王接待", None, "接待、主管", "1111"],
    ["A001", "陈激活", None, "激活", "3333"],
]
TIER_ROWS = [
    ["等级代码", "等级名称", "资产下限（元）", "等级说明"],
    ["STD", "普通", 0, "按服务标价兑换"],
    ["GOLD", "金卡", "50万", "金卡专属价格与名额"],
    ["DIAMOND", "钻石", "3,000,000", "钻石专属价格与名额"],
]
TERMS = "等级价格与名额"
# Headers as an issue names them: folded like every header cell (NFKC: （元） is (元)).
AUM_SEEN = "资产规模(元)"
FLOOR_SEEN = "资产下限(元)"
CATALOG_WITH_TERMS = [
    [*CATALOG_ROWS[0], TERMS],
    [*CATALOG_ROWS[1], "GOLD:8000/20; 钻石:6000"],
    [*CATALOG_ROWS[2], None],
    [*CATALOG_ROWS[3], "gold : 1500 / 5\nDIAMOND:-/3"],
]
HEADER = [
    "客户号",
    "姓名",
    "手机号",
    "证件号码",
    "网点",
    "场次",
    "积分余额",
    "资产规模（元）",
    "积分批次",
]
ROWS = [
    HEADER,
    # Lots alone give the balance: separators ；, ; and a line break; a lot without a date.
    ["6200000001", "王小明", "13812345678", ID1, "B01", "上午场", None, "50万",
     "3000@2027-06-30；2000 @ 2028/12/31\n500"],
    # A plain balance: one lot without a date.
    ["6200000002", "单丽", "13912345678", ID2, "B01", "AM", 3000, "3,000,000", None],
    # Both, agreeing.
    ["6200000003", "李雷", "13712345678", ID3, "B01", "PM", 1500, 80000, "1000@2027-6-30; 500"],
]  # fmt: skip


@pytest.fixture
def event(any_empty_url: str, tmp_path: Path) -> Iterator[Database]:
    """An event without gate steps (slips need only the check-in), with branches and staff."""
    database = open_database(any_empty_url)
    svc.create_event(
        database.unit_of_work(),
        code="GZ26",
        name="积分兑换日",
        event_date=EVENT_DAY,
        venue="会展中心",
        slots=[
            svc.SlotSpec("AM", "上午场", time(9), time(11, 30), 120),
            svc.SlotSpec("PM", "下午场", time(13, 30), time(16, 30), 120),
        ],
        requirements=(),
        passphrase=EVENT_PASSPHRASE,
        clock=CLOCK,
    )
    load(database, tmp_path, "branches", BRANCH_ROWS)
    load(database, tmp_path, "staff", STAFF_ROWS)
    yield database
    database.dispose()


def load(database: Database, tmp_path: Path, kind: str, rows: Sequence[Sequence[Any]]) -> Any:
    return svc.import_file(
        database.unit_of_work(),
        kind,
        write_xlsx(tmp_path / f"{kind}.xlsx", rows),
        importer(database),
        clock=CLOCK,
    )


def refused(
    database: Database, tmp_path: Path, kind: str, rows: Sequence[Sequence[Any]]
) -> list[tuple[int, str, str]]:
    """The issues of a file the import refuses (and must write nothing of)."""
    before = snapshot(database)
    with pytest.raises(svc.ImportRefused) as caught:
        load(database, tmp_path, kind, rows)
    assert snapshot(database) == before
    return [(i.row, i.column, i.message) for i in caught.value.check.issues]


def snapshot(database: Database) -> tuple[Any, ...]:
    """Everything these imports write, to show a refused file wrote nothing."""
    with database.unit_of_work() as uow:
        s = uow.session
        return (
            s.execute(
                select(Customer.customer_no, Customer.points_balance, Customer.aum).order_by(
                    Customer.customer_no
                )
            ).all(),
            s.execute(
                select(PointsLot.customer_id, PointsLot.ref, PointsLot.points).order_by(
                    PointsLot.id
                )
            ).all(),
            s.execute(
                select(EventTier.code, EventTier.name, EventTier.aum_floor).order_by(EventTier.id)
            ).all(),
            s.execute(
                select(
                    OfferTier.offer_id, OfferTier.tier_code, OfferTier.points_price, OfferTier.quota
                ).order_by(OfferTier.id)
            ).all(),
        )


def lots(database: Database) -> dict[str, list[tuple[str, int, date | None]]]:
    """Customer number -> lots (ref, points, expires on), by ref."""
    with database.unit_of_work() as uow:
        found: dict[str, list[tuple[str, int, date | None]]] = {}
        for number, ref, points, expires_on in uow.session.execute(
            select(Customer.customer_no, PointsLot.ref, PointsLot.points, PointsLot.expires_on)
            .join(PointsLot, PointsLot.customer_id == Customer.id)
            .order_by(Customer.customer_no, PointsLot.ref)
        ):
            found.setdefault(number, []).append((ref, points, expires_on))
        return found


def customers(database: Database) -> dict[str, tuple[int, int | None]]:
    """Customer number -> (points balance, AUM)."""
    with database.unit_of_work() as uow:
        return {
            number: (points, aum)
            for number, points, aum in uow.session.execute(
                select(Customer.customer_no, Customer.points_balance, Customer.aum)
            )
        }


def assert_lots_agree(database: Database) -> None:
    """Every invitee's lots add up to their balance."""
    held = lots(database)
    for number, (points, _aum) in customers(database).items():
        assert sum(p for _r, p, _e in held[number]) == points, number


def tier_terms(database: Database) -> dict[str, list[tuple[str, int | None, int | None]]]:
    with database.unit_of_work() as uow:
        found: dict[str, list[tuple[str, int | None, int | None]]] = {}
        for code, tier, price, quota in uow.session.execute(
            select(Offer.code, OfferTier.tier_code, OfferTier.points_price, OfferTier.quota)
            .join(Offer, Offer.id == OfferTier.offer_id)
            .order_by(Offer.code, OfferTier.tier_code)
        ):
            found.setdefault(code, []).append((tier, price, quota))
        return found


def bands(database: Database) -> list[tuple[str, str, int, str]]:
    with database.unit_of_work() as uow:
        return [
            tuple(row)  # type: ignore[misc]
            for row in uow.session.execute(
                select(
                    EventTier.code, EventTier.name, EventTier.aum_floor, EventTier.meaning
                ).order_by(EventTier.aum_floor)
            )
        ]


# --- cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (500000, 500000),
        (500000.0, 500000),
        ("50万", 500000),
        ("50 万", 500000),
        ("50万元", 500000),
        ("1.5万", 15000),
        ("3,000,000", 3_000_000),
        ("3，000，000", 3_000_000),
        ("2亿", 200_000_000),
        ("-5万", -50000),  # the field refuses it, saying it is negative
    ],
)
def test_amounts_in_yuan(value: object, expected: int) -> None:
    assert yuan(value) == expected


@pytest.mark.parametrize("value", ["lots", "50w", "1.23456万", "12.5", "5万万"])
def test_what_is_not_an_amount_in_yuan(value: object) -> None:
    with pytest.raises(CellProblem):
        yuan(value)


# --- the good paths, on both backends ------------------------------------------------------


def test_lots_aum_tiers_and_tier_terms_are_stored_and_a_corrected_file_updates_them(
    event: Database, tmp_path: Path
) -> None:
    assert load(event, tmp_path, "tiers", TIER_ROWS).created == 3
    assert bands(event) == [
        ("STD", "普通", 0, "按服务标价兑换"),
        ("GOLD", "金卡", 500_000, "金卡专属价格与名额"),
        ("DIAMOND", "钻石", 3_000_000, "钻石专属价格与名额"),
    ]
    load(event, tmp_path, "catalog", CATALOG_WITH_TERMS)
    assert tier_terms(event) == {
        "O101": [("DIAMOND", 6000, None), ("GOLD", 8000, 20)],  # 钻石: the tier's name
        "O501": [("DIAMOND", None, 3), ("GOLD", 1500, 5)],  # -: the service's own price
    }
    result = load(event, tmp_path, "invitees", ROWS)
    assert (result.created, result.updated) == (3, 0)
    assert customers(event) == {
        "6200000001": (5500, 500_000),
        "6200000002": (3000, 3_000_000),
        "6200000003": (1500, 80_000),
    }
    assert lots(event) == {
        "6200000001": [
            ("1", 3000, date(2027, 6, 30)),
            ("2", 2000, date(2028, 12, 31)),
            ("3", 500, None),
        ],
        "6200000002": [("", 3000, None)],
        "6200000003": [("1", 1000, date(2027, 6, 30)), ("2", 500, None)],
    }
    with event.unit_of_work() as uow:  # FIFO-ready: the lot that expires first comes first
        customer = uow.session.scalars(
            select(Customer).where(Customer.customer_no == "6200000001")
        ).one()
        order = lot_balances(uow.session, customer, EVENT_DAY)
        assert [(lot.ref, lot.left, lot.expired) for lot in order] == [
            ("1", 3000, False),
            ("2", 2000, False),
            ("3", 500, False),
        ]

    # The corrected files: a lot fewer, a plain balance split into lots, a tier renamed,
    # another's floor raised, terms changed. Matched on their keys, never duplicated.
    corrected = [list(row) for row in ROWS]
    corrected[1][8] = "2500@2027-06-30; 2000@2028-12-31"
    corrected[2][6:9] = [None, "300万", "1000@2027-12-31; 2000"]
    again = load(event, tmp_path, "invitees", corrected)
    assert (again.created, again.updated) == (0, 3)
    assert lots(event) == {
        "6200000001": [
            ("1", 2500, date(2027, 6, 30)),
            ("2", 2000, date(2028, 12, 31)),
            ("3", 0, None),  # no longer reported: kept at 0, the journal may name it
        ],
        "6200000002": [("", 0, None), ("1", 1000, date(2027, 12, 31)), ("2", 2000, None)],
        "6200000003": [("1", 1000, date(2027, 6, 30)), ("2", 500, None)],
    }
    assert customers(event)["6200000001"] == (4500, 500_000)
    assert customers(event)["6200000002"] == (3000, 3_000_000)
    assert_lots_agree(event)
    before = snapshot(event)
    assert load(event, tmp_path, "invitees", corrected).updated == 3
    assert snapshot(event) == before  # the same file again changes nothing

    tiers = [list(row) for row in TIER_ROWS]
    tiers[2][1] = "黄金"
    tiers[3][2] = "600万"
    assert (load(event, tmp_path, "tiers", tiers).created, len(bands(event))) == (0, 3)
    assert bands(event)[1:] == [
        ("GOLD", "黄金", 500_000, "金卡专属价格与名额"),
        ("DIAMOND", "钻石", 6_000_000, "钻石专属价格与名额"),
    ]
    catalog = [list(row) for row in CATALOG_WITH_TERMS]
    catalog[1][-1] = "黄金:7000/10"  # DIAMOND's term dropped: its row goes (nothing claimed)
    catalog[3][-1] = "GOLD:1500/5; DIAMOND:-/3"
    load(event, tmp_path, "catalog", catalog)
    assert tier_terms(event) == {
        "O101": [("GOLD", 7000, 10)],
        "O501": [("DIAMOND", None, 3), ("GOLD", 1500, 5)],
    }
    load(event, tmp_path, "catalog", CATALOG_ROWS)  # no terms column: the terms stay
    assert tier_terms(event)["O101"] == [("GOLD", 7000, 10)]
    # A tiers file without STD: the tier goes (no slip was issued for it).
    load(event, tmp_path, "tiers", [tiers[0], tiers[2], tiers[3]])
    assert [b[0] for b in bands(event)] == ["GOLD", "DIAMOND"]


def test_tiers_are_imported_under_the_rule_of_every_import(event: Database, tmp_path: Path) -> None:
    """A supervisor imports, or anyone else with a supervisor's approval; audited."""
    path = write_xlsx(tmp_path / "tiers.xlsx", TIER_ROWS)
    rm = staff_session(event.unit_of_work(), "RM001", clock=CLOCK)
    with pytest.raises(ApprovalNeeded, match="importing a file"):
        svc.import_file(event.unit_of_work(), "tiers", path, rm, clock=CLOCK)
    desk = staff_session(event.unit_of_work(), "A001", clock=CLOCK)
    with pytest.raises(PermissionDenied, match="import files"):
        svc.import_file(event.unit_of_work(), "tiers", path, desk, clock=CLOCK)
    assert bands(event) == []
    approval = approve(event.unit_of_work(), "R001", "1111", action=Action.IMPORT_FILE, clock=CLOCK)
    result = svc.import_file(
        event.unit_of_work(), "tiers", path, rm, approval=approval, clock=CLOCK
    )
    assert (result.created, result.updated) == (3, 0)
    with event.unit_of_work() as uow:
        audited = uow.session.execute(
            select(AuditRecord.action, Staff.staff_no)
            .join(Staff, Staff.id == AuditRecord.approved_by)
            .where(AuditRecord.action == "import_tiers")
        ).all()
    assert [tuple(row) for row in audited] == [("import_tiers", "R001")]


def test_a_slip_spends_the_imported_lot_that_expires_first(event: Database, tmp_path: Path) -> None:
    load(event, tmp_path, "tiers", TIER_ROWS)
    load(event, tmp_path, "catalog", CATALOG_WITH_TERMS)
    # Written later-expiring first: the order of spending is the expiry, not the ref.
    rows = [HEADER, [*ROWS[1][:6], 5000, "60万", "2000@2028-12-31; 3000@2027-06-30"]]
    load(event, tmp_path, "invitees", rows)
    with event.unit_of_work() as uow:
        customer_id = uow.session.scalars(select(Customer.id)).one()
    front = staff_session(event.unit_of_work(), "R001", clock=MORNING)
    desk = staff_session(event.unit_of_work(), "A001", clock=MORNING)
    reception.check_in(event.unit_of_work(), customer_id, front, clock=MORNING)
    signing_key = keys.unlock(event.unit_of_work(), EVENT_PASSPHRASE)
    issue_slips(
        event.unit_of_work(), customer_id, [CartLine("O501")], desk, signing_key, clock=MORNING
    )
    with event.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        slip = uow.session.scalars(select(Slip)).one()
        assert (slip.tier, slip.points) == ("GOLD", 1500)  # 60万: GOLD, at the imported price
        left = lot_balances(uow.session, customer, EVENT_DAY)
        assert [(lot.ref, lot.expires_on, lot.left) for lot in left] == [
            ("2", date(2027, 6, 30), 1500),  # the earlier-expiring lot was taken from
            ("1", date(2028, 12, 31), 2000),
        ]
        assert (
            uow.session.scalar(
                select(OfferTier.reserved).where(
                    OfferTier.tier_code == "GOLD", OfferTier.quota == 5
                )
            )
            == 1
        )

    # GOLD has a slip now: it cannot leave the tier set, nor change its code.
    for tiers in (
        [TIER_ROWS[0], TIER_ROWS[1], TIER_ROWS[3]],
        [TIER_ROWS[0], TIER_ROWS[1], ["GOLD2", "金卡", "50万", ""], TIER_ROWS[3]],
    ):
        assert refused(event, tmp_path, "tiers", tiers) == [
            (
                1,
                "等级代码",
                "1 slip(s) were issued for tier GOLD: it cannot be removed nor get another "
                "code; keep its row with the code GOLD.",
            )
        ]
    renamed = [list(row) for row in TIER_ROWS]
    renamed[2][1] = "金卡尊享"
    load(event, tmp_path, "tiers", renamed)  # a new name under the same code is fine
    # The GOLD quota of O501 has one place taken: it cannot go below 1.
    catalog = [list(row) for row in CATALOG_WITH_TERMS]
    catalog[3][-1] = "GOLD:1500/0"
    assert refused(event, tmp_path, "catalog", catalog) == [
        (4, TERMS, "GOLD quota: 1 place(s) already taken; the quota cannot be lower.")
    ]
    catalog[3][-1] = "DIAMOND:-/3"  # GOLD left out: its row stays, claimed place and all
    load(event, tmp_path, "catalog", catalog)
    assert tier_terms(event)["O501"] == [("DIAMOND", None, 3), ("GOLD", None, None)]
    with event.unit_of_work() as uow:
        claimed = uow.session.scalar(
            select(OfferTier.reserved)
            .join(Offer, Offer.id == OfferTier.offer_id)
            .where(Offer.code == "O501", OfferTier.tier_code == "GOLD")
        )
        assert claimed == 1


@pytest.mark.parametrize(
    "after",
    [
        [LotInput("1", 2500, date(2027, 6, 30)), LotInput("2", 2000, date(2028, 12, 31))],
        [LotInput("", 4000)],
        [LotInput("3", 100, date(2029, 1, 1)), LotInput("1", 3000, date(2027, 7, 1))],
        [],
    ],
)
def test_the_import_writes_lots_by_the_rule_of_set_lots(
    event: Database, tmp_path: Path, after: list[LotInput]
) -> None:
    """``set_lots_many`` (a batch of the import) leaves what ``set_lots`` leaves."""
    twins = [HEADER, ROWS[1], [*ROWS[1][:2], "13812345679", None, *ROWS[1][4:]]]
    twins[2][0] = "6200000004"
    load(event, tmp_path, "invitees", twins)
    with audit.unaudited(), event.unit_of_work() as uow:  # the two rules side by side
        one, other = uow.session.scalars(select(Customer).order_by(Customer.customer_no)).all()
        set_lots(uow.session, one, after)
        uow.session.flush()
        set_lots_many(uow.session, {other.id: after})
        uow.commit()
    held = lots(event)
    assert held["6200000001"] == held["6200000004"]
    assert customers(event)["6200000001"] == customers(event)["6200000004"]
    assert_lots_agree(event)


# --- bad input: row and column, nothing imported -------------------------------------------


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Event, branches, staff, tiers and catalog (with terms), imported once."""
    folder = tmp_path_factory.mktemp("points")
    database = open_database(f"sqlite:///{folder / 'event.sqlite3'}")
    svc.create_event(
        database.unit_of_work(),
        code="GZ26",
        name="积分兑换日",
        event_date=EVENT_DAY,
        venue="会展中心",
        slots=[svc.SlotSpec("AM", "上午场", time(9), time(11, 30), 120)],
        passphrase=EVENT_PASSPHRASE,
        clock=CLOCK,
    )
    for kind, rows in [
        ("branches", BRANCH_ROWS),
        ("staff", STAFF_ROWS),
        ("tiers", TIER_ROWS),
        ("catalog", CATALOG_WITH_TERMS),
    ]:
        load(database, folder, kind, rows)
    database.dispose()
    return folder / "event.sqlite3"


@pytest.fixture
def ready(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    target = tmp_path / "event.sqlite3"
    target.write_bytes(sqlite_template.read_bytes())
    database = open_database(f"sqlite:///{target}")
    yield database
    database.dispose()


GOOD = ["6200000009", "赵敏", "13612345678", None, "B01", "AM", 5000, "50万",
        "3000@2027-06-30; 2000"]  # fmt: skip


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("积分批次", "-500@2027-06-30", "Lot 1 “-500@2027-06-30”: a lot cannot hold negative"),
        ("积分批次", "3000@2027-06-30; abc", "Lot 2 “abc”: “abc” is not a whole number of points"),
        (
            "积分批次",
            "4000@2026-11-01; 1000",
            "Lot 1 “4000@2026-11-01”: it expires on 2026-11-01, before the event day (2026-11-28)",
        ),
        ("积分批次", "3000@@2027-06-30", "write each lot as points@expiry date"),
        ("积分批次", "3000@; 2000", "Lot 1 “3000@”: write each lot as points@expiry date"),
        ("积分批次", "5000@2027-13-45", "“2027-13-45” is not a date"),
        (
            "积分批次",
            "3000@2027-06-30; 1000",
            "The lots add up to 4,000 points, but “积分余额” says 5,000.",
        ),
        ("积分批次", ";", "No lot could be read"),
        (AUM_SEEN, "-5万", "AUM cannot be negative."),
        (AUM_SEEN, "很多", "“很多” is not an amount in yuan"),
        (AUM_SEEN, "1.23456万", "is not a whole number of yuan"),
    ],
)
def test_each_bad_lot_or_aum_names_its_row_and_column(
    ready: Database, tmp_path: Path, column: str, value: object, message: str
) -> None:
    bad = list(GOOD)
    bad[[h.replace("（元）", "(元)") for h in HEADER].index(column)] = value
    found = refused(ready, tmp_path, "invitees", [HEADER, ROWS[2], bad])
    assert [(r, c) for r, c, _m in found] == [(3, column)], found
    assert message in found[0][2]


def test_lots_alone_need_no_points_column_and_a_row_needs_one_or_the_other(
    ready: Database, tmp_path: Path
) -> None:
    header = [h for h in HEADER if h != "积分余额"]
    row = [v for h, v in zip(HEADER, GOOD, strict=True) if h != "积分余额"]
    empty = list(row)
    empty[0], empty[2], empty[-1] = "6200000010", "13512345678", None
    assert refused(ready, tmp_path, "invitees", [header, row, empty]) == [
        (3, "Points", "This cell must be filled in.")  # no column: the expected header
    ]
    load(ready, tmp_path, "invitees", [header, row])
    assert customers(ready) == {"6200000009": (5000, 500_000)}
    without_either = [h for h in header if h != "积分批次"]
    found = refused(ready, tmp_path, "invitees", [without_either, row[:-1]])
    assert found == [(1, "Points", "This required column is missing.")]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [TIER_ROWS[0], TIER_ROWS[2], TIER_ROWS[1], TIER_ROWS[3]],
            (3, FLOOR_SEEN, "Tier bound out of order: the AUM floor 0 must be above 500,000"),
        ),
        (
            [*TIER_ROWS[:3], ["PLAT", "白金", 500_000, ""]],  # the same floor as GOLD
            (4, FLOOR_SEEN, "Tier bound out of order: the AUM floor 500,000 must be above"),
        ),
        (
            [TIER_ROWS[0], TIER_ROWS[1], TIER_ROWS[2], ["gold", "白金", "600万", ""]],
            (4, "等级代码", "Duplicate: the same as row 3."),
        ),
        (
            [*TIER_ROWS[:3], ["PLAT", "金卡", "100万", ""]],
            (4, "等级名称", "Duplicate: the same as row 3."),
        ),
        ([TIER_ROWS[0], ["STD", "普通", "-1", ""]], (2, FLOOR_SEEN, "cannot be negative")),
        ([TIER_ROWS[0], ["STD", "普通", "五十万", ""]], (2, FLOOR_SEEN, "not an amount")),
        ([TIER_ROWS[0], ["STD", None, 0, ""]], (2, "等级名称", "must be filled in")),
    ],
)
def test_each_bad_tier_names_its_row_and_column(
    ready: Database, tmp_path: Path, rows: list[list[Any]], expected: tuple[int, str, str]
) -> None:
    found = refused(ready, tmp_path, "tiers", rows)
    assert [(r, c) for r, c, _m in found] == [expected[:2]], found
    assert expected[2] in found[0][2]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "PLATINUM:5000",
            "There is no tier “PLATINUM” in this event; import the tiers first, then the catalog.",
        ),
        ("GOLD:0/5", "The points price for GOLD must be more than 0."),
        ("GOLD:-5", "The points price for GOLD must be more than 0."),
        ("GOLD:800/-1", "The quota for GOLD cannot be negative."),
        ("GOLD:abc", "GOLD: “abc” is not a whole number."),
        ("GOLD 8000", "“GOLD 8000” cannot be read: write tier:price/quota"),
        ("GOLD:800; 金卡:700", "Tier GOLD is given twice."),
    ],
)
def test_each_bad_tier_term_names_its_row_and_column(
    ready: Database, tmp_path: Path, value: str, message: str
) -> None:
    rows = [list(row) for row in CATALOG_WITH_TERMS]
    rows[3][-1] = value
    found = refused(ready, tmp_path, "catalog", rows)
    assert [(r, c) for r, c, _m in found] == [(4, TERMS)], found
    assert found[0][2].startswith(message)


def test_tier_terms_before_any_tier_say_to_import_the_tiers_first(
    event: Database, tmp_path: Path
) -> None:
    found = refused(event, tmp_path, "catalog", CATALOG_WITH_TERMS)
    assert [(r, c) for r, c, _m in found] == [(2, TERMS), (2, TERMS), (4, TERMS), (4, TERMS)]
    assert all("import the tiers first" in m for _r, _c, m in found)


def test_every_bad_cell_of_one_file_at_once_and_nothing_imported(
    event: Database, tmp_path: Path
) -> None:
    """On both backends: a file with a bad lot, a bad AUM and lots that do not add up."""
    load(event, tmp_path, "tiers", TIER_ROWS)
    load(event, tmp_path, "catalog", CATALOG_WITH_TERMS)
    rows = [list(row) for row in ROWS]
    rows[1][8] = "3000@2026-11-27; 2500"
    rows[2][7] = "-3"
    rows[3][8] = "1000@2027-06-30; 600"
    found = refused(event, tmp_path, "invitees", rows)
    assert [(r, c) for r, c, _m in found] == [
        (2, "积分批次"),
        (3, AUM_SEEN),
        (4, "积分批次"),
    ]
    with event.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Customer.id))) == 0
        assert uow.session.scalar(select(func.count(PointsLot.id))) == 0


# --- templates -----------------------------------------------------------------------------


def test_templates_carry_the_new_columns_and_the_tiers_kind_in_chinese(tmp_path: Path) -> None:
    set_language("zh_CN")
    try:
        paths = {p.stem.split("-", 1)[1]: p for p in write_templates(tmp_path)}
    finally:
        set_language("en")
    assert list(paths) == [
        "branches", "staff", "tiers", "catalog", "customers", "invitees", "invitations",
    ]  # fmt: skip

    def heads(kind: str) -> list[str]:
        sheet = openpyxl.load_workbook(paths[kind]).worksheets[0]
        return [str(c.value) for c in sheet[1]]

    assert heads("tiers") == ["等级代码 *", "等级名称 *", "资产下限（元） *", "等级说明"]
    assert heads("invitees")[-5:] == [
        "资产规模（元）", "积分批次", "代发薪单位", "持有产品", "是否睡眠户",
    ]  # fmt: skip
    # The tier terms, then the settlement columns (issue #21) last.
    assert heads("catalog")[-3:] == [TERMS, "结算费率（元/积分）", "结算单价（元）"]
    sheet = openpyxl.load_workbook(paths["invitees"]).worksheets[0]
    lots = heads("invitees").index("积分批次") + 1
    assert "3000@2027-06-30" in str(sheet.cell(2, lots).value)
    assert sheet.cell(3, lots).number_format == "@"
