"""True cell types and print set-up in every .xlsx the app writes (issue #28, part 4).

Every export kind from a simulated day, opened with openpyxl as Excel would: no formula
cell (a booth staff name typed as "=1+1" stays text), times and dates as dates with the year,
shares as numbers formatted as %, the as-of line on every sheet, landscape one page wide
with the header row repeated. The settlement and reconciliation say before or after close.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import Redemption
from kiosk.services import tracking
from printing.event_reports import (
    REPORTS,
    reconciliation_report,
    settlement_report,
    write_event_report,
)
from printing.invitations import write_progress, write_reminders
from printing.reports import write_report
from tests.simulate_support import simulate

DATE_TEXT = re.compile(r"(\d{4}-)?\d{2}-\d{2}( \d{2}:\d{2})?")
SHARE_TEXT = re.compile(r"\d+(\.\d+)?%")


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FixedClock]:
    folder = tmp_path_factory.mktemp("xlsx")
    _summary, clock = simulate(folder / "event.sqlite3", invitees=40)
    database = open_database(f"sqlite:///{folder / 'event.sqlite3'}")
    with database.unit_of_work() as uow, audit.unaudited():
        # What a booth's staff typed as their name, as a formula: it must stay text.
        uow.session.execute(update(Redemption).values(staff_name='=HYPERLINK("x","y")'))
        uow.commit()
    database.dispose()
    return folder / "event.sqlite3", clock


def exports(database: Database, clock: FixedClock, folder: Path) -> dict[str, Path]:
    files = {
        kind.name: write_event_report(
            kind.name, database.unit_of_work, folder, suffixes=(".xlsx",), clock=clock
        )[0]
        for kind in REPORTS
    }
    files["settlement"] = write_report(
        settlement_report(database.unit_of_work(), clock), folder / "settlement.xlsx"
    )
    report, _balanced = reconciliation_report(database.unit_of_work(), clock)
    files["reconciliation"] = write_report(report, folder / "reconciliation.xlsx")
    files["progress export"] = write_progress(
        tracking.progress(database.unit_of_work()), folder / "progress.xlsx"
    )
    files["reminders"] = write_reminders(
        tracking.reminders(database.unit_of_work()),
        tracking.slot_load(database.unit_of_work()),
        folder / "reminders.xlsx",
    )
    return files


def test_every_xlsx_has_true_cell_types_and_print_set_up(
    played: tuple[Path, FixedClock], tmp_path: Path
) -> None:
    path, clock = played
    database = open_database(f"sqlite:///{path}")
    try:
        files = exports(database, clock, tmp_path)
    finally:
        database.dispose()
    dated = set()
    for kind, file in files.items():
        book = openpyxl.load_workbook(file)
        for sheet in book.worksheets:
            where = f"{kind} / {sheet.title}"
            cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
            texts = [c.value for c in cells if isinstance(c.value, str)]
            assert any(t.startswith("Figures as of ") for t in texts), f"{where}: no as-of line"
            # No date or share hides in a text cell ("12-06 08:54", "2027-05-28", "10%");
            # times of day ("09:30") and ranges ("09:00–11:30") are labels.
            for text in texts:
                assert not DATE_TEXT.fullmatch(text), f"{where}: a date as text: {text}"
                assert not SHARE_TEXT.fullmatch(text), f"{where}: a share as text: {text}"
            for cell in cells:
                if isinstance(cell.value, datetime):
                    assert cell.value.year >= 2026 and "yyyy" in cell.number_format, where
                    dated.add(kind)
                elif isinstance(cell.value, date):
                    assert "yyyy" in cell.number_format, where
                    dated.add(kind)
            percents = [c for c in cells if "%" in c.number_format]
            assert all(isinstance(c.value, int | float) for c in percents), where
            assert sheet.page_setup.orientation == "landscape", where
            assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
            assert sheet.print_title_rows == "$1:$1", where
            assert sheet.freeze_panes == "A2", where
            if sheet._charts:  # the chart below the table, on a printed page of its own
                anchor_row = sheet._charts[0].anchor._from.row + 1
                assert any(b.id == anchor_row - 1 for b in sheet.row_breaks.brk), where
    assert {"merchants", "unredeemed"} <= dated  # redemption and issue times, redeem-by dates
    progress = openpyxl.load_workbook(files["progress export"])["Per branch"]
    shares = [row[10] for row in progress.iter_rows(min_row=2) if row[10].value is not None]
    assert all(c.number_format == "0%" for c in shares)  # test_tracking has branch targets


def test_no_xlsx_has_a_formula_cell_a_booth_name_typed_as_a_formula_stays_text(
    played: tuple[Path, FixedClock], tmp_path: Path
) -> None:
    path, clock = played
    database = open_database(f"sqlite:///{path}")
    try:
        files = exports(database, clock, tmp_path)
    finally:
        database.dispose()
    for kind, file in files.items():
        for sheet in openpyxl.load_workbook(file).worksheets:
            formulas = [
                c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"
            ]
            assert formulas == [], f"{kind} / {sheet.title}: formula cells {formulas}"
    book = openpyxl.load_workbook(files["merchants"])
    staff = [row[8].value for row in book["Redemptions"].iter_rows(min_row=2) if row[1].value]
    assert staff and set(staff) == {'=HYPERLINK("x","y")'}  # text, not a live formula


def test_settlement_and_reconciliation_say_before_or_after_close(
    played: tuple[Path, FixedClock], tmp_path: Path
) -> None:
    path, clock = played
    database = open_database(f"sqlite:///{path}")
    try:
        before = settlement_report(database.unit_of_work(), clock)
        recon, _balanced = reconciliation_report(database.unit_of_work(), clock)
        assert "before close" in before.as_of and "before close" in recon.as_of
        assert "event in progress" in before.as_of
        with database.unit_of_work() as uow, audit.unaudited():
            from kiosk.models import Event

            uow.session.execute(update(Event).values(closed_at=clock.now()))
            uow.commit()
        after = settlement_report(database.unit_of_work(), clock)
        assert "after close" in after.as_of and "event closed at" in after.as_of
        pdf = write_report(after, tmp_path / "settlement.pdf")
    finally:
        database.dispose()
    import pdfplumber

    with pdfplumber.open(pdf) as document:
        text = document.pages[0].extract_text()
    assert "after close" in text.replace("\n", " ")


RISKY = ['=HYPERLINK("http://x.example","经理")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1"]


@pytest.fixture(scope="module")
def poisoned(played: tuple[Path, FixedClock], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The played event with every name an export shows typed as a formula (issue #17):
    customers, RMs and other staff, branches, merchants, services, booths, slots."""
    from sqlalchemy import select

    from kiosk.models import Branch, Customer, Merchant, Offer, Staff, TimeSlot

    path = tmp_path_factory.mktemp("poisoned") / "event.sqlite3"
    path.write_bytes(played[0].read_bytes())
    database = open_database(f"sqlite:///{path}")
    with database.unit_of_work() as uow, audit.unaudited():
        s = uow.session
        for model in (Customer, Staff, Branch, Merchant, Offer):
            for i, row in enumerate(s.scalars(select(model))):
                row.name = RISKY[i % len(RISKY)] + str(i)
        for i, merchant in enumerate(s.scalars(select(Merchant))):
            merchant.booth = RISKY[(i + 1) % len(RISKY)][:16]  # VARCHAR(16); still a formula
        for i, slot in enumerate(s.scalars(select(TimeSlot))):
            slot.label = RISKY[i % len(RISKY)]
        uow.commit()
    database.dispose()
    return path


def test_every_export_kind_keeps_names_typed_as_formulas_as_text(
    poisoned: Path, played: tuple[Path, FixedClock], tmp_path: Path
) -> None:
    from kiosk.imports.templates import write_templates

    database = open_database(f"sqlite:///{poisoned}")
    try:
        files = exports(database, played[1], tmp_path)
    finally:
        database.dispose()
    for template in write_templates(tmp_path / "templates", branches=RISKY, slots=RISKY):
        files[template.name] = template
    risky_cells = 0
    for kind, file in files.items():
        for sheet in openpyxl.load_workbook(file).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{kind} / {sheet.title}: {cell.coordinate}"
                    if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "@")):
                        assert cell.quotePrefix, f"{kind} / {sheet.title}: {cell.coordinate}"
                        risky_cells += 1
    assert risky_cells > 50  # the names are there, as written, in text cells
    book = openpyxl.load_workbook(files["progress export"])
    texts = {c.value for s in book.worksheets for row in s.iter_rows() for c in row}
    assert any(isinstance(t, str) and t.startswith('=HYPERLINK("http://x.example"') for t in texts)


def test_csv_text_follows_owasp() -> None:
    import csv
    import io

    from kiosk.spreadsheet_text import csv_text

    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_text(v) for v in [*RISKY, "王小明", "-", None, 12]])
    row = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert row[: len(RISKY)] == ["'" + v for v in RISKY]
    assert row[len(RISKY) :] == ["王小明", "'-", "", "12"]
