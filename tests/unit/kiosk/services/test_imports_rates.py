"""The catalog's settlement columns (issue #21, part 4): a rate per merchant in yuan per
point and a price per service in yuan, read as exact decimals, on both backends; every bad
cell named with its row and column and nothing imported; a re-import updates them."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk.db import Database
from kiosk.models import Merchant, Offer
from kiosk.services import imports as svc
from tests.unit.kiosk.services.test_imports import CATALOG_ROWS, CLOCK, make_event, write_xlsx

RATE = "结算费率（元/积分）"
PRICE = "结算单价（元）"
HEADER = [*CATALOG_ROWS[0], RATE, PRICE]


def named(header: str) -> str:
    """A column as an issue names it: as written, full-width brackets made plain."""
    return unicodedata.normalize("NFKC", header)


@pytest.fixture
def event(any_empty_url: str) -> Iterator[Database]:
    database = make_event(any_empty_url)
    yield database
    database.dispose()


def rows(*money: tuple[object, object]) -> list[list[object]]:
    """The three catalog rows (M01 O101, M02 O201, M02 O501) with a rate and a price each."""
    return [HEADER] + [
        [*row, rate, price] for row, (rate, price) in zip(CATALOG_ROWS[1:], money, strict=True)
    ]


def load(database: Database, path: Path, table: Sequence[Sequence[Any]]) -> Any:
    return svc.import_file(
        database.unit_of_work(), "catalog", write_xlsx(path, table), None, clock=CLOCK
    )


def money_of(database: Database) -> tuple[dict[str, int | None], dict[str, int | None]]:
    with database.unit_of_work() as uow:
        rates = dict(uow.session.execute(select(Merchant.code, Merchant.rate_micro)).all())
        prices = dict(uow.session.execute(select(Offer.code, Offer.price_fen)).all())
    return rates, prices


def test_rates_and_prices_imported_exactly_and_updated(event: Database, tmp_path: Path) -> None:
    # 0.01 typed as a number (Excel's float), "0.012375" as text, ¥35 with its sign.
    load(event, tmp_path / "a.xlsx", rows((0.008, None), (None, None), ("0.012375", "¥35.00")))
    rates, prices = money_of(event)
    assert rates == {"M01": 8_000, "M02": 12_375}  # M02's rate given on one of its rows
    assert prices == {"O101": None, "O201": None, "O501": 3_500}
    # Re-import: new values replace; a merchant's blank rate (all its rows) clears it.
    load(event, tmp_path / "b.xlsx", rows((0.01, 120.5), (None, None), (None, "1,200")))
    rates, prices = money_of(event)
    assert rates == {"M01": 10_000, "M02": None}
    assert prices == {"O101": 12_050, "O201": None, "O501": 120_000}
    # A file without the columns keeps them.
    load(event, tmp_path / "c.xlsx", CATALOG_ROWS)
    assert money_of(event) == (rates, prices)


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        (RATE, -0.01, "must be more than 0"),
        (RATE, 0, "must be more than 0; leave the cell empty for no rate"),
        (RATE, "0.0000001", "at most 6 decimals"),
        (RATE, "一分", "is not an amount"),
        (PRICE, -5, "must be more than 0"),
        (PRICE, 0, "leave the cell empty for no price"),
        (PRICE, 12.345, "at most 2 decimals"),
        (PRICE, "35元整", "is not an amount"),
    ],
)
def test_bad_money_is_refused_with_row_and_column(
    event: Database, tmp_path: Path, cell: str, value: object, message: str
) -> None:
    good = (0.01, None)
    bad = (value, None) if cell == RATE else (None, value)
    table = rows(good, good, bad)
    check = svc.check_file(event.unit_of_work(), "catalog", write_xlsx(tmp_path / "x.xlsx", table))
    found = [(i.row, i.column, i.message) for i in check.issues]
    assert [(r, c) for r, c, _m in found] == [(4, named(cell))], found
    assert message in found[0][2]
    with pytest.raises(svc.ImportRefused):
        load(event, tmp_path / "y.xlsx", table)
    assert money_of(event) == ({}, {})


def test_a_merchant_has_one_rate(event: Database, tmp_path: Path) -> None:
    table = rows((0.01, None), (0.01, None), (0.02, None))
    check = svc.check_file(event.unit_of_work(), "catalog", write_xlsx(tmp_path / "x.xlsx", table))
    assert [(i.row, i.column, i.message) for i in check.issues] == [
        (
            4,
            named(RATE),
            "Merchant M02 has the settlement rate 0.01 in row 3: one rate per merchant.",
        )
    ]


def test_chinese_template_has_the_columns_and_imports_back(event: Database, tmp_path: Path) -> None:
    import openpyxl

    from kiosk.i18n import set_language
    from kiosk.imports.kinds import CATALOG_FIELDS
    from kiosk.imports.templates import write_template

    set_language("zh_CN")
    path = write_template("catalog", tmp_path / "catalog.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    headers = [c.value for c in sheet[1]]
    assert RATE in headers and PRICE in headers
    values = {
        "merchant_code": "M01", "merchant_name": "康宁体检中心", "code": "O101",
        "name": "基础体检套餐", "category": "健康体检", "points_price": 12000,
        "capacity": 40, "redeem_by": "2027-05-28", "rate": 0.0125, "price": 88.8,
    }  # fmt: skip
    for column, field in enumerate(CATALOG_FIELDS, start=1):
        sheet.cell(3, column, values.get(field.name))
    book.save(path)
    svc.import_file(event.unit_of_work(), "catalog", path, None, clock=CLOCK)
    assert money_of(event) == ({"M01": 12_500}, {"O101": 8_880})
