"""The columns a themed session's audience needs (代发薪单位, 持有产品, 是否睡眠户) on the
invitee import, and the customer list (客户名单): customers with their lots, search keys and
sealed personal data, no invitation; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlalchemy import select

from kiosk import privacy
from kiosk.db import Database
from kiosk.imports import ORDER
from kiosk.imports.templates import template_name, write_template
from kiosk.models import Customer, Invitation, PointsLot, SearchKey
from kiosk.services import imports as svc

from .test_imports import (
    BRANCH_ROWS,
    CATALOG_ROWS,
    EVENT_PASSPHRASE,
    ID1,
    ID2,
    INVITEE_HEADER,
    STAFF_ROWS,
    load,
    make_event,
    write_xlsx,
)

CUSTOMERS = [
    ["客户号", "姓名", "手机号", "证件号码", "网点", "客户经理工号", "积分批次", "资产规模",
     "代发单位", "持有产品", "睡眠客户"],
    ["7000000001", "王小明", "13812345678", ID1, "B01", "RM001", "3000@2027-06-30; 500",
     "50万", "广州某某科技有限公司（南沙）", "外币、理财产品,基金", "是"],
    ["7000000002", "单丽", "13912345678", ID2, "B02", None, None, None, None, None, None],
]  # fmt: skip
CUSTOMERS[2][6] = "800"


def _event(url: str, tmp_path: Path) -> Database:
    database = make_event(url)
    for kind, rows in (("branches", BRANCH_ROWS), ("staff", STAFF_ROWS), ("catalog", CATALOG_ROWS)):
        load(database, tmp_path, kind, rows)
    return database


def _customers(database: Database) -> dict[str, Customer]:
    with database.unit_of_work() as uow:
        return {c.customer_no: c for c in uow.session.scalars(select(Customer))}


def test_the_customer_list_and_the_new_columns(any_empty_url: str, tmp_path: Path) -> None:
    database = _event(any_empty_url, tmp_path)
    try:
        assert ORDER.index("customers") < ORDER.index("invitees")
        result = load(database, tmp_path, "customers", CUSTOMERS)
        assert (result.created, result.updated) == (2, 0)
        found = _customers(database)
        first, second = found["7000000001"], found["7000000002"]
        assert (first.employer, first.products, first.dormant) == (
            "广州某某科技有限公司（南沙）",
            "外汇|理财|基金",
            True,
        )
        assert (second.employer, second.products, second.dormant) == (None, "", False)
        assert first.points_balance == 3500 and first.aum == 500_000
        assert first.phone_masked == "138****5678" and first.legacy_phone is None
        with database.unit_of_work() as uow:
            s = uow.session
            assert s.scalars(select(Invitation)).all() == []
            lots = s.scalars(select(PointsLot.points).where(PointsLot.customer_id == first.id))
            assert sorted(lots) == [500, 3000]
            keys = set(s.scalars(select(SearchKey.key).where(SearchKey.customer_id == first.id)))
        assert {"c:7000000001", "p:5678", "n:王小明"} <= keys
        opener = privacy.unlock(database.unit_of_work(), EVENT_PASSPHRASE)
        assert opener.read(first, "phone") == "13812345678"
        assert not any(k.startswith("v:") for k in keys)

        # Invited later by the invitee file without the new columns: what the list said stays.
        invitees = [
            [*INVITEE_HEADER[:-1]],
            ["7000000001", "王小明", "13812345678", ID1, "长期", "B01", "RM001", "AM", 3500,
             "2026-11-27", "gold", "已开通"],
        ]  # fmt: skip
        load(database, tmp_path, "invitees", invitees)
        again = _customers(database)["7000000001"]
        assert (again.employer, again.products, again.dormant) == (
            first.employer,
            first.products,
            True,
        )
        # The customer list again: the invited keep their invitation and its search key;
        # a blank cell keeps, 无 clears, 否 sets.
        rows = [list(r) for r in CUSTOMERS]
        rows[1][8:11] = [None, "无", "否"]
        result = load(database, tmp_path, "customers", rows)
        assert (result.created, result.updated) == (0, 2)
        again = _customers(database)["7000000001"]
        assert (again.employer, again.products, again.dormant) == (first.employer, "", False)
        with database.unit_of_work() as uow:
            s = uow.session
            code = s.scalar(select(Invitation.code).where(Invitation.customer_id == first.id))
            keys = set(s.scalars(select(SearchKey.key).where(SearchKey.customer_id == first.id)))
        assert f"v:{code}" in keys
    finally:
        database.dispose()


def test_bad_cells_are_named_with_row_and_column(any_empty_url: str, tmp_path: Path) -> None:
    database = _event(any_empty_url, tmp_path)
    try:
        rows = [list(r) for r in CUSTOMERS]
        rows[1][10] = "也许"
        rows[2][9] = "外汇、" + "很长的产品名称" * 4
        path = write_xlsx(tmp_path / "bad.xlsx", rows)
        check = svc.check_file(database.unit_of_work(), "customers", path)
        issues = [(i.row, i.column, i.message) for i in check.issues]
        assert len(issues) == 2
        assert issues[0][:2] == (2, "睡眠客户") and "也许" in issues[0][2]
        assert issues[1][:2] == (3, "持有产品") and "20" in issues[1][2]
        assert _customers(database) == {}
    finally:
        database.dispose()


def test_the_customer_list_template(tmp_path: Path) -> None:
    path = write_template("customers", tmp_path / template_name("customers"), branches=["B01"])
    assert path.name == "5-customers.xlsx"
    sheet = openpyxl.load_workbook(path).active
    headers = [c.value for c in sheet[1]]
    assert "Slot *" not in headers and "场次 *" not in headers
    assert any(h and ("代发薪单位" in h or "Payroll employer" in h) for h in headers)
