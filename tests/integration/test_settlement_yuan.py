"""Settlement in yuan against hand-computed amounts (issue #21, part 4), on both backends:
rate lines and price lines, half-up rounding at 0.5 fen once per line, a line without rate
or price shown as unknown, voided/released/open slips never paid but returned; the report
as .xlsx and PDF, the merchant statements, the CLI."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pdfplumber
import pytest
from sqlalchemy import select, update

from cli.main import main
from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.models import Customer, Merchant, Offer, Slip, SlipStatus, Staff
from kiosk.services.settlement import settlement, settlement_statement
from printing.event_reports import settlement_report
from printing.merchant_statement import write_merchant_statements
from printing.reports import write_report

NOW = FixedClock(datetime(2026, 12, 1, 4, 0, tzinfo=UTC))

# (offer, status, quantity, points): the slips of the constructed event.
SLIPS = [
    ("O101", SlipStatus.REDEEMED, 1, 12_000),
    ("O101", SlipStatus.VOIDED, 1, 12_000),
    ("O101", SlipStatus.RELEASED, 1, 12_000),
    ("O101", SlipStatus.ISSUED, 1, 12_000),
    ("O201", SlipStatus.REDEEMED, 1, 15_000),
    ("O301", SlipStatus.REDEEMED, 1, 3_000),
    ("O301", SlipStatus.REDEEMED, 1, 3_000),
    ("O402", SlipStatus.REDEEMED, 1, 5_000),
    ("O501", SlipStatus.REDEEMED, 2, 4_000),
    ("O501", SlipStatus.VOIDED, 1, 2_000),
]
RATES = {"M01": 8_000, "M02": None, "M03": 12_375, "M04": 12_385, "M05": 10_000}
PRICES = {"O501": 3_500}


def build(db: Database) -> None:
    """Rates and prices as the catalog would set them, and the slips above."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        s = uow.session
        s.execute(update(Merchant).values(rate_micro=None))
        s.execute(update(Offer).values(price_fen=None))
        for code, rate in RATES.items():
            s.execute(update(Merchant).where(Merchant.code == code).values(rate_micro=rate))
        for code, price in PRICES.items():
            s.execute(update(Offer).where(Offer.code == code).values(price_fen=price))
        customer = s.scalars(select(Customer.id).order_by(Customer.id)).first()
        staff = s.scalars(select(Staff.id).order_by(Staff.id)).first()
        offers = {o.code: o for o in s.scalars(select(Offer))}
        for serial, (code, status, quantity, points) in enumerate(SLIPS, start=1):
            offer = offers[code]
            s.add(
                Slip(
                    event_id=offer.event_id,
                    serial=serial,
                    customer_id=customer,
                    merchant_id=offer.merchant_id,
                    offer_id=offer.id,
                    quantity=quantity,
                    points=points,
                    redeem_by=date(2027, 1, 1),
                    code=f"test-{serial}",
                    key_id="test",
                    status=status,
                    issued_at=NOW.now(),
                    issued_by=staff,
                )
            )
        uow.commit()


def test_amounts_hand_computed(demo_db: Database) -> None:
    build(demo_db)
    figures = settlement_statement(demo_db.unit_of_work())
    got = [
        (x.merchant_code, x.offer_code, x.slips, x.quantity, x.points, x.amount_fen)
        for x in figures.lines
    ]
    assert got == [
        ("M01", "O101", 1, 1, 12_000, 9_600),  # 12,000 × 0.008: voided/released/open unpaid
        ("M02", "O201", 1, 1, 15_000, None),  # no rate, no price: unknown, not 0
        ("M03", "O301", 2, 2, 6_000, 7_425),  # 6,000 × 0.012375 once (per slip: 7,426)
        ("M04", "O402", 1, 1, 5_000, 6_193),  # 6,192.5 fen: half up
        ("M05", "O501", 1, 2, 4_000, 7_000),  # 2 × ¥35.00: the price beats the ¥0.01 rate
    ]
    assert settlement(demo_db.unit_of_work()) == figures.lines
    assert figures.merchant("M01").amount_fen == 9_600
    assert (figures.merchant("M02").amount_fen, figures.merchant("M02").unknown) == (0, 1)
    assert figures.merchant("M06").lines == ()  # a merchant without redemptions: listed, empty
    assert (figures.slips, figures.quantity, figures.points) == (6, 7, 42_000)
    assert figures.amount_fen == 9_600 + 7_425 + 6_193 + 7_000 == 30_218
    assert figures.unknown == 1
    returned = {r.merchant_code: r for r in figures.returned}
    assert set(returned) == {"M01", "M05"}
    m01 = returned["M01"]
    assert (m01.released.slips, m01.released.points) == (1, 12_000)
    assert (m01.voided.slips, m01.voided.points) == (1, 12_000)
    assert (m01.open.slips, m01.open.points) == (1, 12_000)
    assert (m01.total.slips, m01.total.points) == (3, 36_000)
    assert (returned["M05"].voided.slips, returned["M05"].total.points) == (1, 2_000)
    total = figures.returned_total
    assert (total.total.slips, total.total.points) == (4, 38_000)
    assert (total.voided.slips, total.voided.points) == (2, 14_000)


def test_report_xlsx_and_pdf(demo_db: Database, tmp_path: Path) -> None:
    build(demo_db)
    report = settlement_report(demo_db.unit_of_work(), NOW)
    xlsx = write_report(report, tmp_path / "settlement.xlsx")
    book = openpyxl.load_workbook(xlsx)
    sheet = book[book.sheetnames[0]]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=1, max_row=13)]
    header = rows[0]
    assert header[:8] == [
        "Merchant", "Service", "Slips", "Quantity", "Points", "Rate or price", "Amount", "Remark"
    ]  # fmt: skip
    by_service = {(r[0], r[1]): r for r in rows[1:] if r[0]}
    m03 = next(k for k in by_service if k[0].startswith("M03") and k[1].startswith("O301"))
    assert by_service[m03][4:7] == [6_000, "0.012375 yuan/point", 74.25]
    m05 = next(k for k in by_service if k[0].startswith("M05") and k[1].startswith("O501"))
    assert by_service[m05][5:7] == ["¥35.00 per unit", 70]
    m02 = next(k for k in by_service if k[0].startswith("M02") and k[1].startswith("O201"))
    assert by_service[m02][6:8] == ["unknown", "no rate or price in the catalog"]
    subtotal = next(k for k in by_service if k[0].startswith("M02") and k[1] == "Subtotal")
    assert by_service[subtotal][6:8] == [0, "1 line(s) of unknown amount not included"]
    total = next(r for r in rows if r[0] == "Total")
    assert total[2:5] == [6, 7, 42_000] and total[6] == pytest.approx(302.18)
    amount_cell = sheet.cell(2, 7)
    assert amount_cell.number_format == '"¥"#,##0.00'
    returned = book[book.sheetnames[1]]
    back = {r[0]: r for r in returned.iter_rows(min_row=2, values_only=True) if r[0]}
    m01 = next(v for k, v in back.items() if str(k).startswith("M01"))
    assert list(m01[1:9]) == [1, 12_000, 1, 12_000, 1, 12_000, 3, 36_000]
    assert list(back["Total"][7:9]) == [4, 38_000]

    pdf = write_report(report, tmp_path / "settlement.pdf")
    with pdfplumber.open(pdf) as document:
        text = "\n".join(page.extract_text() for page in document.pages)
    assert "¥302.18" in text and "¥74.25" in text and "¥61.93" in text and "¥96.00" in text
    assert "unknown" in text and "Points returned" in text and "38,000" in text


def test_merchant_statements(demo_db: Database, tmp_path: Path) -> None:
    build(demo_db)
    with demo_db.unit_of_work() as uow:
        names = dict(uow.session.execute(select(Merchant.code, Merchant.name)).all())
    paths = write_merchant_statements(demo_db.unit_of_work, tmp_path, NOW)
    assert [p.name for p in paths] == [f"statement-{code}.pdf" for code in sorted(names)]
    with pdfplumber.open(tmp_path / "statement-M03.pdf") as document:
        assert len(document.pages) == 1
        text = document.pages[0].extract_text()
    assert names["M03"] in text and "Merchant settlement statement" in text
    assert "¥74.25" in text and "柒拾肆元贰角伍分" in text and "0.012375" in text
    assert "Period: 2026-11-28 to 2026-12-01" in text
    assert "Merchant (signature and stamp)" in text and "Bank (signature and stamp)" in text
    with pdfplumber.open(tmp_path / "statement-M05.pdf") as document:
        text = document.pages[0].extract_text()
    assert "¥70.00" in text and "柒拾元整" in text and "¥35.00 per unit" in text
    with pdfplumber.open(tmp_path / "statement-M02.pdf") as document:
        text = document.pages[0].extract_text()
    assert "unknown" in text and "In words" not in text and "incomplete" in text
    with pdfplumber.open(tmp_path / "statement-M06.pdf") as document:
        text = document.pages[0].extract_text()
    assert "nothing is owed" in text and "零元整" in text
    # No customer on a merchant's paper.
    with demo_db.unit_of_work() as uow:
        customer = uow.session.scalars(select(Customer).order_by(Customer.id)).first()
        assert customer is not None
    for path in paths:
        with pdfplumber.open(path) as document:
            text = document.pages[0].extract_text()
        assert customer.customer_no not in text


def test_statement_looks_right(sqlite_demo_db: Database, tmp_path: Path) -> None:
    """Rasterised at 60 dpi for a look (tests/…/statement-M03-1.png while developing)."""
    build(sqlite_demo_db)
    write_merchant_statements(sqlite_demo_db.unit_of_work, tmp_path, NOW)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(tmp_path / "statement-M03.pdf"), str(tmp_path / "m")],
        check=True,
    )
    assert (tmp_path / "m-1.png").stat().st_size > 5_000


def test_cli(
    demo_db: Database, demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(demo_db)
    assert main(["--db", demo_url, "report", "settlement", "--out", str(tmp_path / "s.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "¥302.18" in out and "¥74.25" in out
    folder = tmp_path / "statements"
    folder.mkdir()
    assert main(["--db", demo_url, "report", "merchant-statements", "--dir", str(folder)]) == 0
    assert (folder / "statement-M01.pdf").exists()
    assert "statement-M10.pdf" in capsys.readouterr().out
